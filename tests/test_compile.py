"""Stage 5, compile: scoring deals with the default pack (rules/) and small packs."""

import datetime as dt
from decimal import Decimal

import pytest

from engine.diagnostics import DiagnosticError
from engine.pack import load_ruleset
from engine.results import VERDICTS

AS_OF = dt.date(2026, 6, 30)
DAY = dt.timedelta(days=1)

# Evidence for each stage of the default pack, so a test can give a deal "everything up to X".
DISCOVERY = {"budget_confirmed": True, "compelling_event": "Q3 launch"}
MEETING = {"economic_buyer": "CFO", "champion": "Ops lead"}
PROPOSAL = {"proposal_sent": dt.date(2026, 6, 1), "decision_criteria": "TCO"}
NEGOTIATION = {"discount": Decimal("0.10")}
ALL = {**DISCOVERY, **MEETING, **PROPOSAL, **NEGOTIATION}


@pytest.fixture(scope="module")
def ruleset():
    from pathlib import Path

    compiled, diagnostics = load_ruleset([Path(__file__).resolve().parent.parent / "rules"])
    assert diagnostics == []
    return compiled


def deal(ruleset, stage, **values):
    """A typed deal as the reader hands it over: defaults filled in, then the given values."""
    record = dict(ruleset.analysis.defaults)
    record.update(id="T1", stage=stage, stage_entered=AS_OF - 10 * DAY, close_date=AS_OF + 30 * DAY)
    record.update(values)
    return record


def score(ruleset, stage, **values):
    return ruleset.score(deal(ruleset, stage, **values), AS_OF)


# verdicts


def test_blocked_with_the_failed_criteria_of_its_own_stage(ruleset):
    result = score(ruleset, "discovery")
    assert result.verdict == "blocked"
    assert result.failed == ("access_to_funds", "compelling_event")
    assert result.qualify_out == () and result.warnings == ()
    assert result.evidence_stage == "initial_contact"


def test_failed_lists_only_what_fails(ruleset):
    result = score(ruleset, "discovery", budget_confirmed=True)
    assert (result.verdict, result.failed) == ("blocked", ("compelling_event",))


def test_ready(ruleset):
    result = score(ruleset, "discovery", **DISCOVERY)
    assert (result.verdict, result.failed, result.evidence_stage) == ("ready", (), "discovery")


def test_ready_further_down_the_pipeline(ruleset):
    result = score(ruleset, "negotiation", **ALL)
    assert (result.verdict, result.failed, result.evidence_stage) == ("ready", (), "negotiation")


def test_disqualified(ruleset):
    result = score(ruleset, "meeting", **{**ALL, "budget_confirmed": False})
    assert result.verdict == "disqualified"
    assert result.qualify_out == ("no_funds",)
    assert result.failed == ()


def test_disqualified_wins_over_blocked(ruleset):
    result = score(ruleset, "meeting", budget_confirmed=False, compelling_event="x")
    assert result.verdict == "disqualified"
    assert result.failed == ("economic_buyer", "champion")  # still reported
    assert result.qualify_out == ("no_funds",)


@pytest.mark.parametrize("stage,verdict", [("closed_won", "won"), ("closed_lost", "lost")])
def test_closed_stages_decide_the_verdict(ruleset, stage, verdict):
    # everything is wrong with this deal, but it is closed: no criteria, no qualify-out
    result = score(
        ruleset, stage, budget_confirmed=False, stage_entered=AS_OF - 400 * DAY, close_date=AS_OF - 100 * DAY
    )
    assert (result.verdict, result.failed, result.qualify_out, result.warnings) == (verdict, (), (), ())


def test_every_verdict_is_reachable(ruleset):
    seen = {
        score(ruleset, "discovery").verdict,
        score(ruleset, "discovery", **DISCOVERY).verdict,
        score(ruleset, "meeting").verdict,
        score(ruleset, "closed_won").verdict,
        score(ruleset, "closed_lost").verdict,
    }
    assert seen == set(VERDICTS)


# qualify-out rules: from, severity, nulls


def test_from_stage_limits_a_rule_to_later_stages(ruleset):
    # no_funds applies from 'meeting' on: a discovery deal without budget is blocked, not disqualified
    assert score(ruleset, "discovery", compelling_event="x").qualify_out == ()
    for stage in ("meeting", "proposal", "negotiation"):
        assert "no_funds" in score(ruleset, stage, compelling_event="x").qualify_out, stage


def test_from_stage_proposal(ruleset):
    values = {**ALL, "compelling_event": None}
    assert "no_compelling_event" not in score(ruleset, "meeting", **values).qualify_out
    assert score(ruleset, "proposal", **values).qualify_out == ("no_compelling_event",)


def test_stalled_after_90_days(ruleset):
    assert score(ruleset, "discovery", **DISCOVERY, stage_entered=AS_OF - 90 * DAY).qualify_out == ()
    assert score(ruleset, "discovery", **DISCOVERY, stage_entered=AS_OF - 91 * DAY).qualify_out == ("stalled",)


def test_days_in_stage_counts_to_the_as_of_passed_in(ruleset):
    record = deal(ruleset, "discovery", **DISCOVERY, stage_entered=dt.date(2026, 1, 1))
    assert ruleset.score(record, dt.date(2026, 3, 1)).qualify_out == ()
    assert ruleset.score(record, dt.date(2026, 4, 2)).qualify_out == ("stalled",)


def test_warn_severity_rule_is_reported_but_does_not_change_the_verdict(ruleset):
    on_time = score(ruleset, "discovery", **DISCOVERY)
    late = score(ruleset, "discovery", **DISCOVERY, close_date=AS_OF - DAY)
    assert late.warnings == ("close_date_past",)
    assert late.qualify_out == ()
    assert late.verdict == on_time.verdict == "ready"
    blocked_late = score(ruleset, "discovery", close_date=AS_OF - DAY)
    assert (blocked_late.verdict, blocked_late.warnings) == ("blocked", ("close_date_past",))


def test_a_rule_that_cannot_be_decided_does_not_fire(ruleset):
    record = deal(ruleset, "discovery", **DISCOVERY, stage_entered=None, close_date=None)
    result = ruleset.score(record, AS_OF)
    assert (result.verdict, result.qualify_out, result.warnings) == ("ready", (), ())
    outcomes = {o.id: o for o in ruleset.outcomes(record, result, AS_OF)}
    assert (outcomes["stalled"].status, outcomes["stalled"].missing) == ("unknown", ("stage_entered",))
    assert (outcomes["close_date_past"].status, outcomes["close_date_past"].missing) == ("unknown", ("close_date",))


# criteria details


@pytest.mark.parametrize(
    "discount,approved,passes",
    [
        (Decimal("0.15"), False, True),  # exactly the limit: Decimal, no float rounding
        (Decimal("0.1500001"), False, False),
        (Decimal("0.30"), True, True),
        (None, False, True),  # no discount recorded counts as none
    ],
)
def test_discount_approval(ruleset, discount, approved, passes):
    result = score(ruleset, "negotiation", **{**ALL, "discount": discount, "discount_approved": approved})
    assert ("discount_approval" not in result.failed) is passes


def test_evidence_needs_every_earlier_stage(ruleset):
    # meeting evidence is there, discovery's is not: the evidence stage stays at initial_contact
    assert score(ruleset, "proposal", **MEETING, **PROPOSAL).evidence_stage == "initial_contact"
    assert score(ruleset, "proposal", **DISCOVERY, **MEETING).evidence_stage == "meeting"
    assert score(ruleset, "discovery", **ALL).evidence_stage == "negotiation"  # ahead of its stage


def test_outcomes_list_the_stage_criteria_and_every_rule(ruleset):
    record = deal(ruleset, "meeting", **DISCOVERY, economic_buyer="CFO")
    result = ruleset.score(record, AS_OF)
    statuses = [(o.id, o.status) for o in ruleset.outcomes(record, result, AS_OF)]
    assert statuses == [
        ("economic_buyer", "pass"),
        ("champion", "fail"),
        ("stalled", "quiet"),
        ("no_funds", "quiet"),
        ("no_compelling_event", "quiet"),
        ("close_date_past", "quiet"),
    ]


def test_probability_and_weighted_amount_are_exact(ruleset):
    result = score(ruleset, "proposal", amount=Decimal("12345.67"))
    assert result.probability == Decimal("0.60")
    assert result.weighted_amount == Decimal("7407.4020")
    assert score(ruleset, "proposal").weighted_amount is None  # unknown amount, unknown weight


def test_result_names_the_deal(ruleset):
    result = score(ruleset, "discovery", id="006X1")
    assert (result.id, result.stage) == ("006X1", "discovery")


# small packs: 'missing' reasons and the shape of compiled rules


FIELDS = """\
kind: fields
fields:
  id: {type: string, required: true}
  stage: {type: stage, required: true}
  amount: {type: money}
  region: {type: string}
"""

PIPELINE = """\
kind: pipeline
stages:
  - id: open
    probability: 0.5
    exit:
      - {id: sized, when: amount >= 1000}
      - {id: placed, when: region != null or amount > 1000000}
  - id: won
    probability: 1
    won: true
qualify_out:
  - {id: tiny, when: amount < 10}
"""


@pytest.fixture
def small(tmp_path):
    (tmp_path / "fields.yaml").write_text(FIELDS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    compiled, _ = load_ruleset([tmp_path])
    return compiled


def test_a_criterion_that_needs_a_missing_value_fails_with_reason_missing(small):
    record = {"id": "T", "stage": "open", "amount": None, "region": None}
    result = small.score(record, AS_OF)
    assert (result.verdict, result.failed) == ("blocked", ("sized", "placed"))
    outcomes = {o.id: o for o in small.outcomes(record, result, AS_OF)}
    assert (outcomes["sized"].status, outcomes["sized"].missing) == ("missing", ("amount",))
    # 'region != null' is never unknown; 'amount > 1000000' is: or-ed, the result is unknown
    assert (outcomes["placed"].status, outcomes["placed"].missing) == ("missing", ("amount",))
    assert outcomes["tiny"].status == "unknown"


def test_a_known_false_is_a_failure_not_missing(small):
    record = {"id": "T", "stage": "open", "amount": Decimal(5), "region": None}
    result = small.score(record, AS_OF)
    outcomes = {o.id: o for o in small.outcomes(record, result, AS_OF)}
    assert (outcomes["sized"].status, outcomes["placed"].status) == ("fail", "fail")
    assert result.verdict == "disqualified" and result.qualify_out == ("tiny",)


def test_results_agree_with_score(small):
    for amount in (None, Decimal(5), Decimal(1000), Decimal(2000000)):
        for region in (None, "EMEA"):
            record = {"id": "T", "stage": "open", "amount": amount, "region": region}
            result = small.score(record, AS_OF)
            sized, placed, tiny = small.results(record, AS_OF)
            assert result.failed == tuple(n for n, r in (("sized", sized), ("placed", placed)) if r is not True)
            assert result.qualify_out == (("tiny",) if tiny is True else ())


def test_the_generated_source_is_kept_and_is_what_runs(small):
    """Executing the kept source gives the same scores: ``ruleset.source`` is the code, not a description."""
    namespace = dict(small._score.__globals__)  # the constants and runtime the source was compiled with
    exec(compile(small.source, "<again>", "exec"), namespace)  # our own generated code
    for record in (
        {"id": "T", "stage": "open", "amount": None, "region": None},
        {"id": "U", "stage": "open", "amount": Decimal("5000"), "region": "EMEA"},
    ):
        assert namespace["score"](record, AS_OF) == small.score(record, AS_OF)


def test_an_invalid_pack_does_not_compile(tmp_path):
    (tmp_path / "fields.yaml").write_text(FIELDS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("amount >= 1000", "ammount >= 1000"))
    with pytest.raises(DiagnosticError) as caught:
        load_ruleset([tmp_path])
    assert [d.code for d in caught.value.diagnostics] == ["DG203"]


def test_strict_refuses_warnings(tmp_path):
    (tmp_path / "fields.yaml").write_text(FIELDS + "  unused: {type: string}\n")
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    _, diagnostics = load_ruleset([tmp_path])
    assert [d.code for d in diagnostics] == ["DG310"]
    with pytest.raises(DiagnosticError):
        load_ruleset([tmp_path], strict=True)
