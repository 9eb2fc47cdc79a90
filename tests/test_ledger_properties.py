"""The ledger's promises, as properties (Hypothesis): whatever sequence of re-runs -- deals cancelled
(late or not), amounts corrected, the rate table fixed and unfixed -- with months closed in between:

1. a closed statement's content hash never changes (and `verify` passes);
2. for every locked statement, its lines plus every adjustment made for it equal the statement
   recomputed now, to the cent;
3. a clawback never takes more than the ledger says was paid on the deal.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_payout_support import deal, program_for, rep

from engine.ledger import Fingerprint, open_ledger

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
PLAN = """
    id: p
    currency: USD
    period: month
    quota: 20000
    credit: {{when: stage == "closed_won", amount: amount, date: close_date, to: owner}}
    commission:
      basis: attainment
      tiers: [{{to: 1.0, rate: 0.05}}, {{rate: {accelerator}}}]
      multipliers: [{{id: discounted, when: "coalesce(discount, 0) > 0.2", factor: 0.5}}]
    caps: {{per_period: 2500}}
    bonuses: [{{id: spif, when: contract_years >= 3, amount: 150}}]
    clawback: {{id: cancel_45, date: cancelled_on, within_days: 45}}
    draw: {{type: recoverable, amount: 400}}
"""
REPS = [rep("ana", quota=20000, start=dt.date(2026, 1, 1)), rep("ben", quota=15000, start=dt.date(2026, 1, 1))]
PAID_KINDS = {"commission", "cap", "bonus"}

day = st.dates(dt.date(2026, 1, 1), dt.date(2026, 4, 28))
a_deal = st.fixed_dictionaries(
    {
        "owner": st.sampled_from(["ana", "ben"]),
        "amount": st.integers(1, 40).map(lambda k: k * 1000),
        "close": day,
        "discount": st.sampled_from([None, Decimal("0.3")]),
        "years": st.sampled_from([1, 3]),
    }
)
# a re-run: which rate table, and what changed in the export since (cancellations, corrected amounts)
a_run = st.fixed_dictionaries(
    {
        "fixed": st.booleans(),
        "cancel": st.dictionaries(st.integers(0, 7), st.integers(-5, 50), max_size=3),
        "amend": st.dictionaries(st.integers(0, 7), st.integers(1, 40).map(lambda k: k * 1000), max_size=2),
        "close": st.booleans(),
    }
)


def export(base: list, cancelled: dict, amended: dict) -> list[dict]:
    deals = []
    for index, d in enumerate(base):
        extra = {"contract_years": d["years"]}
        if d["discount"] is not None:
            extra["discount"] = d["discount"]
        if index in cancelled:
            extra["cancelled_on"] = (d["close"] + dt.timedelta(days=cancelled[index])).isoformat()
        amount = amended.get(index, d["amount"])
        deals.append(deal(f"D{index}", amount, d["close"].isoformat(), d["owner"], **extra))
    return deals


@SETTINGS
@given(base=st.lists(a_deal, min_size=1, max_size=8), runs=st.lists(a_run, min_size=1, max_size=6))
def test_the_ledger_keeps_its_promises_under_any_sequence_of_reruns(tmp_path, base, runs):
    programs = {
        fixed: program_for(tmp_path / str(fixed), PLAN.format(accelerator="0.10" if fixed else "0.08"))
        for fixed in (False, True)
    }
    cancelled: dict = {}
    amended: dict = {}
    with tempfile.TemporaryDirectory() as work:
        ledger = open_ledger(Path(work) / "comp.db").value
        current = 0  # the first open month
        hashes: dict = {}
        for number, run in enumerate(runs):
            cancelled.update(run["cancel"])
            amended.update(run["amend"])
            deals = export(base, {k: v for k, v in cancelled.items() if k < len(base)}, amended)
            program = programs[run["fixed"]]
            month = MONTHS[current]
            result = program.compute(deals, REPS, [month, *ledger.locked_periods()], dt.date(2026, 12, 31))
            assert result.ok, result.diagnostics
            requested = {("p", s.period.start) for s in result.statements if s.period.label == month}
            now = Fingerprint(f"rules-{run['fixed']}", "reps", f"export-{number}")
            assert ledger.record(result.statements, requested, now, program.plans).ok
            if run["close"] and current < len(MONTHS) - 1:
                assert ledger.close(month).ok
                current += 1
            booked = ledger.statements().value
            recomputed = {(s.rep, s.period.label): s for s in result.statements}

            # 1. a closed statement's hash never changes
            for s in booked:
                if s.state != "open":
                    assert hashes.setdefault((s.rep, s.period), s.content_hash) == s.content_hash
            assert ledger.verify().ok

            # 2. lines + adjustments made for it == the statement recomputed now (those this run recomputed)
            for s in booked:
                if s.state == "open" or (s.rep, s.period) not in recomputed:
                    continue
                made = sum(
                    (
                        a.amount
                        for other in booked
                        if other.rep == s.rep
                        for a in other.adjustments
                        if a.source_period == s.period
                    ),
                    Decimal(0),
                )
                assert s.total + made == recomputed[(s.rep, s.period)].total

            # 3. a clawback never takes more than was paid on the deal
            for who in ("ana", "ben"):
                items = [x for s in booked if s.rep == who for x in (*s.lines, *s.adjustments) if x.deal]
                for deal_id in {x.deal for x in items}:
                    paid = sum((x.amount for x in items if x.deal == deal_id and x.kind in PAID_KINDS), Decimal(0))
                    taken = -sum((x.amount for x in items if x.deal == deal_id and x.kind == "clawback"), Decimal(0))
                    assert taken <= paid, (who, deal_id)
        ledger.close_connection()
