"""Crediting: the compiled credit function, splits and overlays, and every crediting problem as a diagnostic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from test_payout_support import D, deal, program_for, rep, statements

from engine.payout.credit import OVERLAY, OWNER, SPLIT, SplitProblem, parse_recipients

SIMPLE = """
    id: p
    period: quarter
    credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner, splits: split}
    commission: {rate: 0.10}
"""


@pytest.mark.parametrize(
    "to,splits,overlay,expected",
    [
        ("alice", None, None, (("alice", D(1), OWNER),)),
        ("alice", "alice:60;bob:40", None, (("alice", D("0.6"), SPLIT), ("bob", D("0.4"), SPLIT))),
        ("alice", " alice : 60% ; bob:40 ", None, (("alice", D("0.6"), SPLIT), ("bob", D("0.4"), SPLIT))),
        (
            "x",
            "a:33.33;b:33.33;c:33.34",
            None,
            (("a", D("0.3333"), SPLIT), ("b", D("0.3333"), SPLIT), ("c", D("0.3334"), SPLIT)),
        ),
        ("alice", "bob", None, (("bob", D(1), SPLIT),)),
        (
            "alice",
            "alice:50;bob:50;carol:100:overlay",
            None,
            (("alice", D("0.5"), SPLIT), ("bob", D("0.5"), SPLIT), ("carol", D(1), OVERLAY)),
        ),
        ("alice", "carol:25:overlay", None, (("alice", D(1), OWNER), ("carol", D("0.25"), OVERLAY))),
        ("alice", None, "carol;dan:50", (("alice", D(1), OWNER), ("carol", D(1), OVERLAY), ("dan", D("0.5"), OVERLAY))),
    ],
)
def test_recipients(to, splits, overlay, expected):
    assert parse_recipients(to, splits, overlay) == expected


@pytest.mark.parametrize(
    "splits,code,fragment",
    [
        ("alice:60;bob:30", "DG610", "total 90%, not 100%"),
        ("alice:60;bob:50", "DG610", "total 110%, not 100%"),
        ("alice:60;bob", "DG611", "cannot read split 'bob'"),
        ("alice:sixty;bob:40", "DG611", "'sixty' is not a percentage"),
        ("alice:0;bob:100", "DG611", "more than 0 and at most 100"),
        ("alice:50;alice:50", "DG611", "appears twice"),
        ("alice:60:lead;bob:40", "DG611", "cannot read split"),
    ],
)
def test_split_problems(splits, code, fragment):
    problem = parse_recipients("alice", splits, None)
    assert isinstance(problem, SplitProblem) and problem.code == code and fragment in problem.message


def test_no_one_to_credit():
    assert parse_recipients(None, None, None).code == "DG613"


def test_the_generated_function_is_kept_and_readable(tmp_path):
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        credit: {when: stage == "closed_won" and amount > 0, amount: amount * 0.9, date: close_date, to: owner}
        commission:
          rate: 0.1
          multipliers:
            - {id: multi_year, when: contract_years >= 3, factor: 1.5}
            - {id: discounted, when: "coalesce(discount, 0) > 0.2", factor: 0.5}
        bonuses:
          - {id: spif, when: contract_years >= 2, amount: amount * 0.01}
        clawback: {date: cancelled_on, within_days: 30}
    """,
    )
    source = program.credit.source
    assert "def credit_0(d, as_of):  # plan p" in source
    assert "# multiplier multi_year" in source and "# bonus spif" in source
    function = program.credit.plans["p"].function
    assert function(deal("X", 100, "2026-01-01", stage="closed_lost"), dt.date(2026, 1, 1)) is False
    assert function({"id": "Y", "stage": "closed_won"}, dt.date(2026, 1, 1)) is None  # amount unknown
    result = function(
        deal("Z", 1000, "2026-01-01", contract_years=3, discount=D("0.3"), cancelled_on="2026-01-10"),
        dt.date(2026, 1, 1),
    )
    deal_id, amount, date, to, splits, overlay, factor, mults, bonuses, cancelled = result
    assert (deal_id, amount, date, to) == ("Z", D("900.0"), dt.date(2026, 1, 1), "rep")
    assert factor == D("0.75") and mults == ("multi_year", "discounted")
    assert bonuses == (("spif", D("10.00")),)
    assert cancelled == dt.date(2026, 1, 10)
    # a field with a default (contract_years: 1) that the record leaves out is the default, not a crash
    plain = function(
        {"id": "W", "stage": "closed_won", "amount": D(10), "close_date": dt.date(2026, 1, 1)}, dt.date(2026, 1, 1)
    )
    assert plain[6] == D(1) and plain[7] == () and plain[8] == ()


def test_a_count_credit_is_a_decimal(tmp_path):
    program = program_for(
        tmp_path,
        """
        id: p
        period: month
        quota: 10
        credit: {when: stage == "closed_won", amount: "1", date: close_date, to: owner}
        commission:
          basis: credit
          tiers:
            - {to: 2, rate: 100}
            - {from: 2, rate: 150}
    """,
    )
    deals = [deal(f"D{i}", 5, f"2026-03-0{i}") for i in range(1, 4)]
    (s,) = statements(program, deals, [rep()], "2026-03").statements
    assert [(l.credit, l.amount) for l in s.lines] == [(D(1), D("100.00")), (D(1), D("100.00")), (D(1), D("150.00"))]
    assert all(isinstance(c.amount, Decimal) for c in s.credits)
    assert s.attainment == D("0.3")


def test_split_credit_goes_to_each_rep_and_sums_to_the_deal(tmp_path):
    program = program_for(tmp_path, SIMPLE)
    deals = [deal("S", "100.01", "2026-05-05", owner="a", split="a:33.33;b:33.33;c:33.34")]
    result = statements(program, deals, [rep("a"), rep("b"), rep("c")], "2026-Q2")
    credits = [s.credits[0] for s in result.statements]
    assert [c.role for c in credits] == [SPLIT] * 3
    assert sum(c.amount for c in credits) == D("100.01")
    assert [s.total for s in result.statements] == [D("3.33"), D("3.33"), D("3.33")]  # each line rounded once


def test_crediting_problems_are_diagnostics_and_nothing_is_lost(tmp_path):
    program = program_for(tmp_path, SIMPLE)
    deals = [
        deal("OK", 1000, "2026-05-01", owner="alice"),
        deal("BADSPLIT", 1000, "2026-05-02", owner="alice", split="alice:60;bob:30"),
        deal("STRANGER", 1000, "2026-05-03", owner="zoe"),
        deal("STRANGER2", 1000, "2026-05-04", owner="zoe"),
        deal("SDR", 1000, "2026-05-05", owner="sam"),
        {"id": "NOAMOUNT", "stage": "closed_won", "amount": None, "close_date": dt.date(2026, 5, 6), "owner": "alice"},
        {"id": "NODATE", "stage": "closed_won", "amount": D(5), "close_date": None, "owner": "alice"},
        {"id": "TEXT", "stage": "closed_won", "amount": "lots", "close_date": dt.date(2026, 5, 6), "owner": "alice"},
        deal("LOST", 1000, "2026-05-07", owner="alice", stage="closed_lost"),
    ]
    reps = [rep("alice"), rep("bob"), rep("sam", plan="other")]
    result = program.compute(deals, reps, "2026-Q2", dt.date(2026, 6, 30))
    by_code = {}
    for d in result.diagnostics:
        by_code.setdefault(d.code, []).append(d)
    assert "deal BADSPLIT: splits 'alice:60;bob:30' total 90%" in by_code["DG610"][0].message
    assert by_code["DG610"][0].is_error
    strangers = " | ".join(d.message for d in by_code["DG612"])
    assert "2 deals (STRANGER, STRANGER2) credit 'zoe' under plan 'p', who is not in the reps file" in strangers
    assert "on plan 'other'" in strangers
    blanks = " | ".join(d.message for d in by_code["DG613"])
    assert "deal NOAMOUNT" in blanks and "credit amount is blank" in blanks
    assert "deal NODATE" in blanks and "credit date (close_date) is blank" in blanks
    assert (
        "deal TEXT: plan 'p' could not evaluate it: the credit amount 'lots' is not a number"
        in by_code["DG617"][0].message
    )
    counts = result.counts["p"]
    assert counts == {"credited": 4, "not_credited": 1, "undecided": 0, "skipped": 4, "credits": 1}
    assert result.counts["deals"] == len(deals) == counts["credited"] + counts["not_credited"] + counts["skipped"]
    assert not result.ok
    (alice,) = [s for s in result.statements if s.rep == "alice"]
    assert [c.deal for c in alice.credits] == ["OK"]


def test_an_undecidable_credit_rule_names_the_missing_field(tmp_path):
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        credit: {when: stage == "closed_won" and amount > 1000, amount: amount, date: close_date, to: owner}
        commission: {rate: 0.10}
    """,
    )
    deals = [{"id": "U", "stage": "closed_won", "amount": None, "close_date": dt.date(2026, 5, 1), "owner": "rep"}]
    result = program.compute(deals, [rep()], "2026-Q2", dt.date(2026, 6, 30))
    (d,) = [d for d in result.diagnostics if d.code == "DG613"]
    assert "cannot tell whether it earns credit (missing amount)" in d.message
    assert result.counts["p"]["undecided"] == 1


def test_many_problems_are_listed_then_counted(tmp_path):
    program = program_for(tmp_path, SIMPLE)
    deals = [deal(f"B{i:03d}", 100, "2026-05-01", owner="a", split="a:50;b:40") for i in range(30)]
    result = program.compute(deals, [rep("a"), rep("b")], "2026-Q2", dt.date(2026, 6, 30))
    messages = [d.message for d in result.diagnostics if d.code == "DG610"]
    assert len(messages) == 21 and messages[-1].startswith("... and 10 more")


def test_deals_with_line_numbers_point_at_the_export(tmp_path):
    program = program_for(tmp_path, SIMPLE)
    deals = [(2, deal("A", 100, "2026-05-01")), (7, deal("B", 100, "2026-05-01", split="rep:70"))]
    result = program.compute(deals, [rep()], "2026-Q2", dt.date(2026, 6, 30), source="export.csv")
    (d,) = [d for d in result.diagnostics if d.code == "DG610"]
    assert str(d.location) == "export.csv:7:1"
    assert [c.deal for c in result.statements[0].credits] == ["A"]


def test_credits_outside_the_reps_dates_are_not_paid(tmp_path):
    program = program_for(tmp_path, SIMPLE)
    deals = [deal("BEFORE", 100, "2026-04-10"), deal("IN", 100, "2026-05-10"), deal("AFTER", 100, "2026-06-20")]
    result = program.compute(deals, [rep(start="2026-05-01", end="2026-06-15")], "2026-Q2", dt.date(2026, 6, 30))
    assert [c.deal for c in result.statements[0].credits] == ["IN"]
    (d,) = [d for d in result.diagnostics if d.code == "DG612"]
    assert "2 credits of rep 'rep'" in d.message and "2026-05-01 to 2026-06-15" in d.message


def test_a_cancellation_date_of_the_wrong_type(tmp_path):
    program = program_for(tmp_path, SIMPLE + "    clawback: {date: cancelled_on, within_days: 30}\n")
    deals = [
        {
            "id": "WHEN",
            "stage": "closed_won",
            "amount": D(5),
            "close_date": dt.date(2026, 5, 6),
            "owner": "rep",
            "cancelled_on": "soon",
        },
        {
            "id": "STAMP",
            "stage": "closed_won",
            "amount": 7,
            "close_date": dt.datetime(2026, 5, 7, 9, 30),
            "owner": "rep",
            "cancelled_on": dt.datetime(2026, 5, 20, 8, 0),
        },
    ]
    result = program.compute(deals, [rep()], "2026-Q2", dt.date(2026, 6, 30))
    (d,) = result.diagnostics
    assert d.code == "DG617" and "the cancellation date 'soon' is not a date" in d.message
    (s,) = result.statements  # an int amount and datetimes are taken as what they mean
    assert [(l.kind, l.deal, l.amount) for l in s.lines] == [
        ("commission", "STAMP", D("0.70")),
        ("clawback", "STAMP", D("-0.70")),
    ]
