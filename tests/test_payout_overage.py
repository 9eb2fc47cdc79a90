"""method: overage -- the whole amount above quota at the rate of the highest tier reached
(docs/payouts.md#marginal-retroactive-and-overage). Each worked example names its source."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import ROUND_HALF_UP
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_payout_support import D, amounts, deal, program_for, rep, statements

REVOPS = """\
id: p
period: quarter
quota: 1000000
credit: {{when: stage == "closed_won", amount: amount, date: close_date, to: owner}}
commission:
  method: {method}
  tiers:
    - {{to: 1.0, rate: 0.10, label: base}}
    - {{from: 1.0, to: 1.2, rate: 0.15, label: accelerator}}
    - {{from: 1.2, rate: 0.20, label: super accelerator}}
"""


def totals(tmp_path, deals, method):
    program = program_for(tmp_path / method, REVOPS.format(method=method))
    [q3] = statements(program, deals, [rep()], "2026-Q3").statements
    return q3


def test_revopsmasters_tiers_paid_three_ways(tmp_path):
    """revopsmasters.com's tier table (0-100% 10%, 100-120% 15%, 120%+ 20%; quota 1,000,000) for a rep
    at 130%: marginal pays 20% only beyond 120%; overage pays 20% on all 300,000 above quota;
    retroactive pays 20% on everything."""
    deals = [deal("A", 900000, "2026-07-15"), deal("B", 400000, "2026-09-01")]
    marginal, overage, retroactive = (totals(tmp_path, deals, m) for m in ("marginal", "overage", "retroactive"))
    assert marginal.total == D("150000.00")  # 100,000 + 200,000 x 15% + 100,000 x 20%
    assert overage.total == D("160000.00")  # 100,000 + 300,000 x 20%
    assert retroactive.total == D("260000.00")  # 1,300,000 x 20%
    # B: 100,000 below quota at 10%, 300,000 above it at the rate in force (20%): no true-up needed
    assert [(line.deal, line.credit, line.rate, line.amount) for line in overage.lines] == [
        ("A", D(900000), D("0.10"), D("90000.00")),
        ("B", D(100000), D("0.10"), D("10000.00")),
        ("B", D(300000), D("0.20"), D("60000.00")),
    ]


def test_a_true_up_brings_earlier_overage_to_the_final_rate(tmp_path):
    """The deal that first crosses quota is paid at the rate then in force; a later deal reaching a
    higher tier re-rates all the credit above quota, and only that."""
    deals = [deal("A", 1050000, "2026-07-15"), deal("B", 250000, "2026-09-01")]
    q3 = totals(tmp_path, deals, "overage")
    # A: 1,000,000 x 10% + 50,000 x 15% (in force at 105%); B: 250,000 x 20% (in force at 130%)
    assert amounts(q3, "commission") == [D("100000.00"), D("7500.00"), D("50000.00")]
    [true_up] = [line for line in q3.lines if line.kind == "true_up"]
    assert (true_up.rule, true_up.credit, true_up.rate, true_up.amount) == (
        "overage",
        D(300000),
        D("0.20"),
        D("2500.00"),
    )
    assert q3.total == D("160000.00")


def test_hyperbots_single_accelerator_is_the_same_either_way(tmp_path):
    """hyperbots.com: quota 200,000, 5% to quota, 8% above; 260,000 pays 10,000 + 4,800 = 14,800. With
    one tier above quota, overage and marginal agree."""
    plan = """\
id: p
period: quarter
quota: 200000
credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
commission:
  method: overage
  tiers: [{to: 1.0, rate: 0.05}, {from: 1.0, rate: 0.08, label: accelerator}]
"""
    program = program_for(tmp_path, plan)
    [q3] = statements(
        program, [deal("A", 150000, "2026-07-01"), deal("B", 110000, "2026-08-01")], [rep()], "2026-Q3"
    ).statements
    assert q3.total == D("14800.00")


def test_overage_needs_attainment_tiers(tmp_path):
    import shutil

    from test_payout_support import ROOT

    from engine.pack import read_pack

    pack = tmp_path / "pack"
    (pack / "plans").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "fields.yaml", pack / "fields.yaml")
    shutil.copy(ROOT / "rules" / "pipeline.yaml", pack / "pipeline.yaml")
    (pack / "plans" / "plan.yaml").write_text(
        "kind: plan\nid: p\nperiod: quarter\n"
        'credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}\n'
        "commission: {basis: credit, method: overage, tiers: [{to: 10, rate: 0.1}, {from: 10, rate: 0.2}]}\n",
        encoding="utf-8",
    )
    [problem] = [d for d in read_pack([pack]).diagnostics if d.is_error]
    assert (problem.code, problem.line, problem.column) == ("DG308", 5, 37)
    assert "'method: overage' pays the credit above quota" in problem.message


_PROGRAMS: dict = {}


def _program(method):
    if method not in _PROGRAMS:
        _PROGRAMS[method] = program_for(Path(tempfile.mkdtemp()), REVOPS.format(method=method))
    return _PROGRAMS[method]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=900_000), min_size=1, max_size=8))
def test_overage_lies_between_marginal_and_retroactive_and_is_exact(credits):
    """With rates rising by tier: marginal <= overage <= retroactive (to a cent per line of rounding),
    and overage is exactly the below-quota lines plus all credit above quota at the final rate."""
    deals = [deal(f"D{i:02}", c, (dt.date(2026, 7, 1) + dt.timedelta(i)).isoformat()) for i, c in enumerate(credits)]
    totals = {}
    for method in ("marginal", "overage", "retroactive"):
        [q3] = statements(_program(method), deals, [rep()], "2026-Q3").statements
        totals[method] = q3
    slack = D("0.01") * (2 * len(credits) + 1)
    assert totals["marginal"].total <= totals["overage"].total + slack
    assert totals["overage"].total <= totals["retroactive"].total + slack
    overage = totals["overage"]
    credit = sum((D(c) for c in credits), D(0))
    above = max(credit - D(1000000), D(0))
    rate = D("0.10") if credit < D(1000000) else D("0.15") if credit < D(1200000) else D("0.20")
    below_lines = sum(
        (line.amount for line in overage.lines if line.kind == "commission" and "overage" not in line.note), D(0)
    )
    assert overage.total == (below_lines + above * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)
