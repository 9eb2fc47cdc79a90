"""caps.carry_forward: what a period cap cuts is paid in later periods, up to a limit
(docs/payouts.md#caps)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_payout_support import ROOT, D, deal, program_for, rep, statements

from cli import main

SPARROW = """\
id: p
period: month
credit: {{when: stage == "closed_won", amount: amount, date: close_date, to: owner}}
commission: {{basis: credit, rate: 0.03}}
caps: {{per_period: 10000, carry_forward: {carry}}}
"""


def test_sparrowgenie_cap_carried_into_the_next_month(tmp_path):
    """sparrowgenie.com: 3% with a 10,000 monthly cap; 400,000 of sales earns 12,000 and pays 10,000. With
    carry_forward the 2,000 cut is paid in February, whose 150,000 of sales (4,500) leaves room under the cap."""
    program = program_for(tmp_path, SPARROW.format(carry="{}"))
    deals = [deal("A", 400000, "2026-01-15"), deal("B", 150000, "2026-02-10")]
    jan, feb = statements(program, deals, [rep()], "2026-01..2026-02").statements
    assert [(line.kind, line.amount) for line in jan.lines] == [("commission", D("12000.00")), ("cap", D("-2000.00"))]
    assert jan.lines[1].note == (
        "commission 12,000.00 is above the period cap 10,000.00; 2,000.00 carried forward to later periods"
    )
    assert [(line.kind, line.rule, line.amount) for line in feb.lines] == [
        ("commission", "commission", D("4500.00")),
        ("carry_forward", "cap.carry_forward", D("2000.00")),
    ]
    assert jan.total + feb.total == D("16500.00")  # all that was earned


def test_the_cap_still_holds_in_the_later_period(tmp_path):
    """The carried amount is paid only as far as the later period's cap leaves room, the rest waits."""
    program = program_for(tmp_path, SPARROW.format(carry="{}"))
    deals = [deal("A", 500000, "2026-01-15"), deal("B", 300000, "2026-02-10")]
    jan, feb, mar = statements(program, deals, [rep()], "2026-01..2026-03").statements
    assert jan.total == feb.total == D("10000.00")  # Feb: 9,000 + 1,000 of January's 5,000
    assert [line.amount for line in feb.lines if line.kind == "carry_forward"] == [D("1000.00")]
    assert "4,000.00 still to pay" in feb.lines[-1].note
    assert mar.total == D("4000.00")  # no sales in March: the rest of the carry


def test_a_limit_forfeits_what_is_beyond_it(tmp_path):
    program = program_for(tmp_path, SPARROW.format(carry="{limit: 1500}"))
    deals = [deal("A", 400000, "2026-01-15"), deal("B", 10000, "2026-02-10")]
    jan, feb = statements(program, deals, [rep()], "2026-01..2026-02").statements
    assert "1,500.00 carried forward to later periods, 500.00 forfeited (the carry-forward limit is 1,500.00)" in (
        jan.lines[-1].note
    )
    assert feb.total == D("300.00") + D("1500.00")


def test_carry_forward_is_checked(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("caps:\n  per_period: 60000\n", "caps:\n  carry_forward: {}\n"), encoding="utf-8")
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "error[DG308]: 'carry_forward' pays later what the period cap cuts, so it needs 'caps.per_period'" in shown
    plan.write_text(
        text.replace(
            "caps:\n  per_period: 60000\n", "quota_period: year\ncaps:\n  per_period: 60000\n  carry_forward: {}\n"
        ),
        encoding="utf-8",
    )
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "'carry_forward' with a quota period ('year') longer than the pay period" in shown


_PROGRAMS: list = []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=12))
def test_without_a_limit_nothing_is_lost_and_no_period_pays_above_the_cap(monthly):
    if not _PROGRAMS:
        _PROGRAMS.append(program_for(Path(tempfile.mkdtemp()), SPARROW.format(carry="{}")))
    deals = [
        deal(f"M{m:02}", amount, dt.date(2026, m + 1, 5).isoformat()) for m, amount in enumerate(monthly) if amount
    ]
    months = f"2026-01..2026-{len(monthly):02}"
    result = statements(_PROGRAMS[0], deals, [rep()], months).statements
    assert all(s.total <= D(10000) for s in result)
    earned = sum((D(a) * D("0.03") for a in monthly), D(0)).quantize(D("0.01"))
    paid = sum((s.total for s in result), D(0))
    assert paid <= earned
    # what is still waiting is what the last months could not fit under the cap
    last = result[-1] if result else None
    if last is not None and last.total < D(10000):
        assert paid == earned
