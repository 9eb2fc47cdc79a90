"""Clawbacks of a declared share, a window counted from payment, and schedules that decline with time
(docs/payouts.md#clawbacks). Each worked example names its source."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_UP

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_payout_support import ROOT, D, amounts, deal, program_for, rep, statements

from cli import main

FLAT = """\
id: p
period: quarter
credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
commission: {basis: credit, rate: 0.10}
"""


def test_a_declared_share_takes_back_half_of_what_was_paid(tmp_path):
    """core8.co, "Clawbacks and early exit": $10,000 earned, early termination triggers a 50% clawback:
    an adjustment of -5,000 in the clawback period."""
    program = program_for(tmp_path, FLAT + "clawback: {date: cancelled_on, within_days: 90, share: 0.5}\n")
    deals = [deal("A", 100000, "2026-03-10", cancelled_on="2026-04-20")]
    q1, q2 = statements(program, deals, [rep()], ["2026-Q1", "2026-Q2"]).statements
    assert amounts(q1) == [D("10000.00")]
    assert [(line.kind, line.amount) for line in q2.lines] == [("clawback", D("-5000.00"))]
    assert q2.lines[0].note == (
        "cancelled 2026-04-20, 41 days after its credit date 2026-03-10 (window 90 days): "
        "takes back 50% of the 10,000.00 paid"
    )


SCHEDULE = (
    FLAT
    + """\
clawback:
  id: churn
  date: cancelled_on
  schedule:
    - {within_days: 30, share: 1.0}
    - {within_days: 90, share: 0.5}
"""
)


def test_a_schedule_declines_with_time(tmp_path):
    """The issue's schedule: 100% in the first 30 days, 50% to 90 days, nothing after."""
    program = program_for(tmp_path, SCHEDULE)
    deals = [
        deal("A", 10000, "2026-01-05", cancelled_on="2026-02-04"),  # 30 days: 100%
        deal("B", 20000, "2026-01-05", cancelled_on="2026-02-05"),  # 31 days: 50%
        deal("C", 30000, "2026-01-05", cancelled_on="2026-04-05"),  # 90 days: 50%, in Q2
        deal("D", 40000, "2026-01-05", cancelled_on="2026-04-06"),  # 91 days: kept
    ]
    q1, q2 = statements(program, deals, [rep()], ["2026-Q1", "2026-Q2"]).statements
    assert [(line.deal, line.amount) for line in q1.lines if line.kind == "clawback"] == [
        ("A", D("-1000.00")),
        ("B", D("-1000.00")),
    ]
    assert [(line.deal, line.amount) for line in q2.lines] == [("C", D("-1500.00"))]
    assert "(schedule 100% to 30 days, 50% to 90 days)" in q2.lines[0].note


def test_flip360s_mortgage_schedule(tmp_path):
    """flip360 ("Understanding clawback"): 100% if reversed within 12 months, 50% between 12 and 18
    months, nothing after -- in days (365 and 547) from the credit date."""
    program = program_for(
        tmp_path,
        FLAT
        + "clawback:\n  date: cancelled_on\n  schedule:\n"
        + "    - {within_days: 365, share: 1}\n    - {within_days: 547, share: 0.5}\n",
    )
    deals = [
        deal("A", 50000, "2025-03-01", cancelled_on="2026-02-28"),  # 364 days: all of 5,000
        deal("B", 50000, "2025-03-01", cancelled_on="2026-06-30"),  # 486 days: half
        deal("C", 50000, "2025-03-01", cancelled_on="2026-09-30"),  # 578 days: nothing
    ]
    result = statements(program, deals, [rep()], ["2026-Q1", "2026-Q2", "2026-Q3"]).statements
    taken = [(line.deal, line.amount) for s in result for line in s.lines if line.kind == "clawback"]
    assert taken == [("A", D("-5000.00")), ("B", D("-2500.00"))]


def test_the_window_may_count_from_payment(tmp_path):
    """From payment: the window starts on the last day of the period that paid the deal."""
    plan = FLAT.replace("period: quarter", "period: month")
    program = program_for(tmp_path, plan + "clawback: {date: cancelled_on, within_days: 30, from: payment}\n")
    deals = [
        deal("A", 10000, "2026-01-05", cancelled_on="2026-02-28"),  # 28 days after January's end: taken
        deal("B", 10000, "2026-01-05", cancelled_on="2026-03-03"),  # 31 days after it: kept
    ]
    by_credit = program_for(tmp_path / "c", plan + "clawback: {date: cancelled_on, within_days: 30}\n")
    feb = statements(program, deals, [rep()], "2026-02").statements
    assert [(line.deal, line.amount) for line in feb[0].lines] == [("A", D("-1000.00"))]
    assert "28 days after the end of the period that paid it 2026-01-31" in feb[0].lines[0].note
    # from the credit date, A is 54 days after: outside a 30-day window
    assert statements(by_credit, deals, [rep()], "2026-02").statements[0].lines == ()


@settings(max_examples=120, deadline=None)
@given(
    st.decimals(min_value="0.01", max_value="1000000", places=2),
    st.integers(min_value=0, max_value=200),
    st.decimals(min_value="0.01", max_value="1", places=2),
    st.decimals(min_value="0.01", max_value="1", places=2),
)
def test_a_clawback_never_takes_more_than_was_paid(amount, days, first, second):
    program = _program()
    close = dt.date(2026, 1, 10)
    record = deal("A", amount, close.isoformat(), cancelled_on=(close + dt.timedelta(days)).isoformat())
    high, low = max(first, second), min(first, second)
    plan = program.plans["p"]
    import attrs

    claw = attrs.evolve(plan.clawback, schedule=((30, high), (90, low)), within_days=90)
    program = attrs.evolve(
        program, runtimes={"p": attrs.evolve(program.runtimes["p"], plan=attrs.evolve(plan, clawback=claw))}
    )
    result = program.compute([record], [rep()], "2026-Q1..2026-Q3", dt.date(2026, 12, 31))
    paid = sum((line.amount for s in result.statements for line in s.lines if line.kind == "commission"), D(0))
    taken = -sum((line.amount for s in result.statements for line in s.lines if line.kind == "clawback"), D(0))
    assert D(0) <= taken <= paid
    if days <= 90 and paid:
        assert taken == (paid * (high if days <= 30 else low)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


_PROGRAMS = []


def _program():
    if not _PROGRAMS:
        import tempfile
        from pathlib import Path

        _PROGRAMS.append(program_for(Path(tempfile.mkdtemp()), SCHEDULE))
    return _PROGRAMS[0]


def test_schedules_are_checked(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    text = plan.read_text(encoding="utf-8").replace(
        "  within_days: 90\n",
        "  schedule:\n    - {within_days: 90, share: 0.5}\n    - {within_days: 30, share: 1.0}\n",
    )
    plan.write_text(text, encoding="utf-8")
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "error[DG308]: clawback schedule step 2 ends at 30 days, not after step 1 (90 days)" in shown
    plan.write_text(text.replace("  schedule:\n", "  within_days: 10\n  schedule:\n"), encoding="utf-8")
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "error[DG106]: clawback has both 'within_days' and 'schedule'; give only one" in shown
    plan.write_text(text.replace("  schedule:\n", "  share: 0.5\n  schedule:\n"), encoding="utf-8")
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "error[DG308]: a clawback with a schedule takes each step's share" in shown
