"""holdback: a share of each period's commission paid later (docs/payouts.md#holdback-deferred-pay)."""

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

PLAN = """\
id: p
period: quarter
credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
commission: {basis: credit, rate: 0.10}
holdback: {share: 0.3}
clawback: {date: cancelled_on, within_days: 90}
"""


def lines(statement):
    return [(line.kind, line.deal, line.amount) for line in statement.lines]


def test_zepys_pays_70_percent_now_and_30_after_the_window(tmp_path):
    """zepys.com ("How to handle refunds and clawbacks"): pay 70% of the commission at the point of sale
    and the remaining 30% after the clawback window closes -- here, the next quarter."""
    program = program_for(tmp_path, PLAN)
    q1, q2 = statements(program, [deal("A", 100000, "2026-02-10")], [rep()], "2026-Q1..2026-Q2").statements
    assert lines(q1) == [("commission", "A", D("10000.00")), ("holdback", None, D("-3000.00"))]
    assert q1.lines[1].note == "30% of the period's commission 10,000.00 is held back, paid in 2026-Q2"
    assert lines(q2) == [("holdback_release", None, D("3000.00"))]
    assert q1.total + q2.total == D("10000.00")


def test_a_deal_cancelled_before_its_held_part_is_paid_forgoes_it(tmp_path):
    program = program_for(tmp_path, PLAN)
    deals = [deal("A", 100000, "2026-02-10"), deal("B", 50000, "2026-01-15", cancelled_on="2026-03-20")]
    q1, q2 = statements(program, deals, [rep()], "2026-Q1..2026-Q2").statements
    # B earned 5,000: 1,500 of it was held and is simply not paid; the clawback takes the 3,500 paid
    assert lines(q1) == [
        ("commission", "B", D("5000.00")),
        ("commission", "A", D("10000.00")),
        ("holdback", None, D("-4500.00")),
        ("clawback", "B", D("-3500.00")),
    ]
    assert "(1,500.00 of it still held back, now not paid)" in q1.lines[-1].note
    assert lines(q2) == [("holdback_release", None, D("3000.00"))]  # A's 30% only
    assert q1.total + q2.total == D("10000.00")


def test_holdback_is_refused_with_attainment_to_date(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("quota: 250000\n", "quota: 250000\nquota_period: year\n")
        + "holdback: {share: 0.2}\n",
        encoding="utf-8",
    )
    shown = CliRunner().invoke(main, ["validate", str(rules)]).output
    assert "error[DG308]: a holdback with a quota period ('year') longer than the pay period" in shown


_PROGRAMS: list = []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=500_000),
            st.integers(min_value=0, max_value=89),
            st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_what_is_paid_is_the_commission_of_the_deals_kept(deals_spec):
    """Over all periods (every release included), a holdback changes when money is paid, never how much:
    the total is the commission of the deals not cancelled within the window; no clawback line takes
    more than its deal was paid."""
    if not _PROGRAMS:
        _PROGRAMS.append(program_for(Path(tempfile.mkdtemp()), PLAN))
    start = dt.date(2026, 1, 1)
    deals, kept = [], D(0)
    for i, (amount, offset, cancel) in enumerate(deals_spec):
        close = start + dt.timedelta(offset)
        extra = {} if cancel is None else {"cancelled_on": (close + dt.timedelta(cancel)).isoformat()}
        deals.append(deal(f"D{i}", amount, close.isoformat(), **extra))
        if cancel is None or cancel > 90:
            kept += D(amount) * D("0.10")
    result = statements(_PROGRAMS[0], deals, [rep()], "2026-Q1..2027-Q1").statements
    assert sum((s.total for s in result), D(0)) == kept
    paid = {}
    for s in result:
        for line in s.lines:
            if line.kind == "commission":
                paid[line.deal] = paid.get(line.deal, D(0)) + line.amount
            if line.kind == "clawback":
                assert -line.amount <= paid[line.deal]


def test_the_ledger_keeps_what_a_closed_period_held_back(tmp_path):
    """Q2 closed with a holdback; Q3 pays it out: nothing locked drifts, and the ledger and a payout
    agree to the cent on what each period pays."""
    import json

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + "holdback: {share: 0.25}\n", encoding="utf-8")
    ledger = tmp_path / "comp.db"

    def run(period, as_of):
        result = CliRunner().invoke(
            main,
            ["payout", str(ROOT / "examples" / "deals.csv"), "--reps", str(ROOT / "examples" / "reps.csv")]
            + ["--rules", str(rules), "--period", period, "--as-of", as_of, "--format", "json"]
            + ["--engine", "python", "--ledger", str(ledger)],
        )
        assert result.exit_code == 0, result.stderr
        return result

    q2 = run("2026-Q2", "2026-06-30")
    held = {
        s["rep"]: -sum(D(line["amount"]) for line in s["lines"] if line["kind"] == "holdback")
        for s in json.loads(q2.stdout)["statements"]
        if s["plan"] == "ae-2026"
    }
    assert any(held.values())
    assert CliRunner().invoke(main, ["close", "2026-Q2", "--ledger", str(ledger)]).exit_code == 0
    q3 = run("2026-Q3", "2026-09-30")
    assert "locked unchanged, 0 locked with drift" in q3.stderr
    statements = json.loads(q3.stdout)["statements"]
    released = {
        s["rep"]: sum(D(line["amount"]) for line in s["lines"] if line["kind"] == "holdback_release")
        for s in statements
        if s["plan"] == "ae-2026"
    }
    assert {rep: amount for rep, amount in released.items() if amount} == {r: a for r, a in held.items() if a}
    exported = CliRunner().invoke(
        main, ["ledger", "export", "--ledger", str(ledger), "--period", "2026-Q3", "--format", "json"]
    )
    booked = json.loads(exported.stdout)["statements"]
    assert sum(D(s["payable"]) for s in booked) == sum(D(s["total"]) for s in statements)
    verified = CliRunner().invoke(main, ["ledger", "verify", "--ledger", str(ledger)])
    assert verified.exit_code == 0 and "locked statements match" in verified.stdout
