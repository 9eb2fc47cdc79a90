"""The default pack's pipeline, written by hand in plain Python.

This is the yardstick for bench/score.py: what a careful engineer would write
to apply rules/pipeline.yaml to a typed deal record, with the same outputs as
the generated code (verdict, failed criteria, fired rules, warnings,
probability, weighted amount, evidence stage) and the same null semantics.
``score`` honours the same contract as RuleSet.score (it returns a DealResult);
``score_plain`` returns a bare tuple, and bench/score.py reports both ratios.
tests/test_bench_handwritten.py checks that both agree on every row.
"""

from __future__ import annotations

from decimal import Decimal

from engine.results import DealResult

_new = tuple.__new__

STAGES = ("initial_contact", "discovery", "meeting", "proposal", "negotiation", "closed_won", "closed_lost")
INDEX = {s: i for i, s in enumerate(STAGES)}
PROBABILITY = {
    "initial_contact": Decimal("0.0"),
    "discovery": Decimal("0.10"),
    "meeting": Decimal("0.30"),
    "proposal": Decimal("0.60"),
    "negotiation": Decimal("0.80"),
    "closed_won": Decimal("1.0"),
    "closed_lost": Decimal("0.0"),
}
MAX_DISCOUNT = Decimal("0.15")


def score(d: dict, as_of):
    """The scorer's contract: a DealResult, built the cheapest way a NamedTuple can be."""
    return _new(DealResult, score_plain(d, as_of))


def score_plain(d: dict, as_of):
    """The same checks, returning a plain tuple: the floor no result type can beat."""
    stage = d["stage"]
    si = INDEX.get(stage, -1)
    budget = d.get("budget_confirmed")
    event = d.get("compelling_event")
    discount = d.get("discount")
    entered = d.get("stage_entered")
    close = d.get("close_date")

    funds = budget
    has_event = event is not None
    buyer = d.get("economic_buyer") is not None
    champion = d.get("champion") is not None
    proposal = d.get("proposal_sent") is not None
    criteria = d.get("decision_criteria") is not None
    discount_ok = (discount if discount is not None else 0) <= MAX_DISCOUNT or d.get("discount_approved")

    is_open = si < 5
    fired = []
    warned = []
    if is_open:
        if entered is not None and (as_of - entered).days > 90:
            fired.append("stalled")
        if si >= 2 and not budget:
            fired.append("no_funds")
        if si >= 3 and event is None:
            fired.append("no_compelling_event")
        if close is not None and close < as_of:
            warned.append("close_date_past")

    evidence = "initial_contact"
    if funds is True and has_event:
        evidence = "discovery"
        if buyer and champion:
            evidence = "meeting"
            if proposal and criteria:
                evidence = "proposal"
                if discount_ok is True:
                    evidence = "negotiation"

    failed = []
    if si == 1:
        if funds is not True:
            failed.append("access_to_funds")
        if not has_event:
            failed.append("compelling_event")
    elif si == 2:
        if not buyer:
            failed.append("economic_buyer")
        if not champion:
            failed.append("champion")
    elif si == 3:
        if not proposal:
            failed.append("proposal_sent")
        if not criteria:
            failed.append("decision_criteria")
    elif si == 4:
        if discount_ok is not True:
            failed.append("discount_approval")

    if si == 5:
        verdict = "won"
    elif si == 6:
        verdict = "lost"
    elif fired:
        verdict = "disqualified"
    elif failed:
        verdict = "blocked"
    else:
        verdict = "ready"
    probability = PROBABILITY.get(stage)
    amount = d.get("amount")
    weighted = None if amount is None else amount * probability
    if si == 5:
        category = "closed"
    elif si == 4 and verdict == "ready" and close is not None:
        category = "commit"
    elif 3 <= si <= 4 and verdict in ("ready", "blocked"):
        category = "best_case"
    elif 1 <= si <= 2 and verdict in ("ready", "blocked"):
        category = "pipeline"
    else:
        category = "omitted"
    return (
        d.get("id"),
        stage,
        verdict,
        tuple(failed),
        tuple(fired),
        tuple(warned),
        probability,
        amount,
        weighted,
        evidence,
        category,
    )
