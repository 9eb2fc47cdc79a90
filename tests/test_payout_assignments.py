"""Effective-dated assignments and quota ramps (docs/payouts.md#assignments-and-ramps).

The files are in tests/data/assignments/: Sue moves from the SDR plan (monthly) to the AE plan
(quarterly) on 2026-08-15; Carl stays on the AE plan but changes territory and quota on 2026-08-16;
Nina and Omar are new hires on a plan whose quota ramps 25%, 50%, 75%, then 100%.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_payout_support import ROOT

from cli import main
from engine.model import Ramp
from engine.pack import load_ruleset
from engine.payout import compile_payout, read_reps
from engine.payout.assignments import by_plan, quota_over
from engine.payout.periods import period_of
from engine.payout.reps import Rep, reps_from_records

DATA = ROOT / "tests" / "data" / "assignments"
EXPORT, REPS = DATA / "deals.csv", DATA / "reps.csv"


def dealgate(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def payout_json(*args, export=EXPORT, reps=REPS, rules=ROOT / "rules"):
    result = dealgate(
        "payout", export, "--reps", reps, "--rules", rules, "--as-of", "2026-10-01", "--format", "json", *args
    )
    return json.loads(result.stdout), result.stderr


@pytest.fixture(scope="module")
def ramp_rules(tmp_path_factory):
    """The default pack with the ramped plan of tests/data/assignments added."""
    rules = tmp_path_factory.mktemp("ramp") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copy(DATA / "ramp-plan.yaml", rules / "plans" / "ramp.yaml")
    return rules


# the reps file


def test_a_rep_may_have_several_rows_that_do_not_overlap(tmp_path):
    plans = {"ae-2026": object(), "sdr-2026": object()}
    path = tmp_path / "reps.csv"
    path.write_text(
        "id,plan,from,to,role,territory,hired\n"
        "sue,sdr-2026,2026-01-12,2026-08-14,SDR,West,2026-01-12\n"
        "sue,ae-2026,2026-08-15,,AE,West,\n"
        "max,ae-2026,,2026-06-30,,,\n"
        "max,sdr-2026,2026-06-30,,,,\n",
        encoding="utf-8",
    )
    result = read_reps(path, plans)
    [clash] = result.diagnostics
    assert (clash.code, clash.line, clash.column) == ("DG605", 5, 1)
    assert "listed twice (first at line 4) for overlapping dates (... to 2026-06-30 and 2026-06-30 to ...)" in (
        clash.message
    )
    sue = [r for r in result.reps if r.id == "sue"]
    assert [(r.plan, r.start, r.end, r.role) for r in sue] == [
        ("sdr-2026", dt.date(2026, 1, 12), dt.date(2026, 8, 14), "SDR"),
        ("ae-2026", dt.date(2026, 8, 15), None, "AE"),
    ]
    assert sue[0].hired == dt.date(2026, 1, 12) and sue[0].territory == "West"


# quotas over assignments


@pytest.fixture(scope="module")
def program():
    return _program()


def test_a_territory_change_weighs_each_quota_by_its_days(program):
    reps = read_reps(REPS, program.plans).reps
    carl = by_plan(list(reps), program.plans)["ae-2026"]["carl"]
    q3 = period_of(dt.date(2026, 7, 1), "quarter")
    quota = quota_over(carl, program.plans["ae-2026"], q3)
    # 46 days at 200,000 (July 1 to August 15) and 46 at 400,000 (August 16 to September 30)
    assert quota.quota == Decimal(300000) and quota.source == "rep"
    assert quota.notes == (
        "quota weighted by the days of each assignment on the plan, one attainment for the period "
        "(mid_period_change: prorate)",
    )


def test_the_move_from_sdr_to_ae_pays_each_part_under_its_own_plan():
    document, stderr = payout_json("--period", "2026-Q3", "--rep", "sue")
    shown = [(s["plan"], s["period"], s["total"]) for s in document["statements"]]
    assert shown == [
        ("sdr-2026", "2026-07", "150.00"),
        ("sdr-2026", "2026-08", "150.00"),
        ("ae-2026", "2026-Q3", "2756.52"),
    ]
    august, q3 = document["statements"][1], document["statements"][2]
    assert august["assignment"]["to"] == "2026-08-14"
    assert august["assignment"]["other_plans"] == [{"plan": "ae-2026", "from": "2026-08-15", "to": "2026-08-31"}]
    # AE: 200,000 prorated to 47 of Q3's 92 days; D3 (60,000) crosses 50% of it
    assert Decimal(q3["quota"]).quantize(Decimal("0.01")) == Decimal("102173.91")
    assert q3["notes"][:2] == [
        "assignment: sue is on plan ae-2026 from 2026-08-15 to 2026-09-30 (AE, West); this statement pays the "
        "credits dated in those days under this plan",
        "assignment: from 2026-07-01 to 2026-08-14 sue is on plan sdr-2026, paid on that plan's statement",
    ]
    assert [line["amount"] for line in q3["lines"]] == ["2043.48", "713.04"]
    [combined] = document["combined"]
    assert combined["period"] == "2026-Q3" and combined["total"] == "3056.52"
    assert [(p["plan"], p["from"], p["to"]) for p in combined["parts"]] == [
        ("sdr-2026", "2026-07-01", "2026-07-31"),
        ("sdr-2026", "2026-08-01", "2026-08-14"),
        ("ae-2026", "2026-08-15", "2026-09-30"),
    ]
    # D5 (closed by sue on 2026-08-10, while an SDR) and D4 (qualified by her on 2026-08-18, as an AE)
    # are paid by neither plan, and each is said so
    assert "1 credit of rep 'sue' under plan 'ae-2026' is dated outside the rep's assignments" in stderr
    assert "1 credit of rep 'sue' under plan 'sdr-2026' is dated outside" in stderr


def test_table_markdown_and_explain_say_how_the_period_is_split():
    table = dealgate(
        "payout", EXPORT, "--reps", REPS, "--as-of", "2026-10-01", "--period", "2026-Q3", "--format", "table"
    )
    assert "Sue Kim (sue) · 2026-Q3 (2026-07-01 to 2026-09-30): one statement in 3 parts" in table.stdout
    assert "ae-2026 2026-Q3: 2026-08-15 to 2026-09-30: 2,756.52 USD" in table.stdout
    markdown = dealgate(
        "payout", EXPORT, "--reps", REPS, "--as-of", "2026-10-01", "--period", "2026-Q3", "--format", "markdown"
    )
    assert "- total 3,056.52 USD" in markdown.stdout
    explain = dealgate(
        "payout", EXPORT, "--reps", REPS, "--as-of", "2026-10-01", "--period", "2026-Q3", "--rep", "carl", "--explain"
    )
    assert "quota weighted by the days of each assignment on the plan, one attainment" in explain.stdout
    sue = dealgate(
        "payout", EXPORT, "--reps", REPS, "--as-of", "2026-10-01", "--period", "2026-Q3", "--rep", "sue", "--explain"
    )
    assert sue.stdout.count("Statement of Sue Kim (sue)") == 3
    assert sue.stdout.rstrip().endswith("total 3,056.52 USD")


def test_carl_pays_one_statement_on_the_weighted_quota():
    document, _ = payout_json("--period", "2026-Q3", "--rep", "carl")
    [q3] = document["statements"]
    assert q3["quota"] == "300000" and q3["attainment"] == "1"
    assert q3["assignment"] == {
        "from": "2026-07-01",
        "to": "2026-09-30",
        "role": "AE",
        "territory": "Enterprise",
        "other_plans": [],
    }
    assert [line["amount"] for line in q3["lines"]] == ["4000.00", "2000.00", "12000.00"]
    assert "combined" not in document  # one plan all quarter: nothing to combine


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_every_engine_pays_assignments_alike(engine):
    pytest.importorskip("duckdb")
    document, stderr = payout_json("--period", "2026-Q3", "--engine", engine)
    assert [(s["rep"], s["plan"], s["period"], s["total"]) for s in document["statements"]] == [
        ("alice", "ae-2026", "2026-Q3", "3200.00"),
        ("sue", "sdr-2026", "2026-07", "150.00"),
        ("sue", "sdr-2026", "2026-08", "150.00"),
        ("sue", "ae-2026", "2026-Q3", "2756.52"),
        ("carl", "ae-2026", "2026-Q3", "18000.00"),
    ]
    assert "5 statements, total 24,256.52 USD" in stderr


def test_the_ledger_books_the_parts_and_agrees_with_the_payout_to_the_cent(tmp_path):
    ledger = tmp_path / "comp.db"
    run = dealgate(
        "payout", EXPORT, "--reps", REPS, "--period", "2026-Q3", "--as-of", "2026-10-01", "--format", "json",
        "--engine", "python", "--ledger", ledger,
    )  # fmt: skip
    assert "5 open statements written" in run.stderr
    dealgate("close", "2026-Q3", "--ledger", ledger)
    assert "5 locked statements match" in dealgate("ledger", "verify", "--ledger", ledger).stdout
    booked = json.loads(dealgate("ledger", "export", "--ledger", ledger, "--format", "json").stdout)
    computed = sum(Decimal(s["total"]) for s in json.loads(run.stdout)["statements"])
    assert sum(Decimal(s["payable"]) for s in booked["statements"]) == computed == Decimal("24256.52")
    again = dealgate(
        "payout", EXPORT, "--reps", REPS, "--period", "2026-Q4", "--as-of", "2026-12-31", "--format", "json",
        "--ledger", ledger,
    )  # fmt: skip
    assert "5 locked unchanged, 0 locked with drift" in again.stderr


# ramps


def test_a_new_hire_reaches_100_percent_in_month_1_on_a_quarter_of_the_quota(ramp_rules):
    document, _ = payout_json(
        "--from", "2026-07", "--to", "2026-10", "--rep", "nina",
        export=DATA / "ramp-deals.csv", reps=DATA / "ramp-reps.csv", rules=ramp_rules,
    )  # fmt: skip
    months = {s["period"]: s for s in document["statements"]}
    july, august, october = months["2026-07"], months["2026-08"], months["2026-10"]
    assert (july["quota"], july["attainment"], july["total"]) == ("10000", "1", "500.00")
    assert july["notes"] == ["quota ramp: 31 days in month 1 of tenure (from 2026-07-01) at 25% of the full quota"]
    # month 2: 20,000; 25,000 pays 20,000 x 5% + 5,000 x 10%
    assert (august["quota"], august["total"]) == ("20000", "1500.00")
    assert months["2026-09"]["quota"] == "30000"
    assert (october["quota"], october["attainment"], october["total"]) == ("40000", "1", "2000.00")


def test_a_ramp_that_starts_mid_month_weighs_each_day(ramp_rules):
    document, _ = payout_json(
        "--period", "2026-Q3", "--rep", "omar",
        export=DATA / "ramp-deals.csv", reps=DATA / "ramp-reps.csv", rules=ramp_rules,
    )  # fmt: skip
    months = {s["period"]: s for s in document["statements"]}
    # July: 16 days in month 1 at 25%; August: 15 days of month 1 at 25% and 16 of month 2 at 50%
    assert Decimal(months["2026-07"]["quota"]) == Decimal(40000) * Decimal("0.25") * 16 / 31
    assert Decimal(months["2026-08"]["quota"]) == Decimal(40000) * (15 * Decimal("0.25") + 16 * Decimal("0.5")) / 31
    assert months["2026-07"]["notes"] == [
        "quota prorated: 16 of 31 days active in 2026-07",
        "quota ramp: 16 days in month 1 of tenure (from 2026-07-16) at 25% of the full quota",
    ]


def test_a_ramp_from_the_plan_counts_from_the_first_day_on_it(ramp_rules):
    """prowi.io's ramp-period glossary: a 400,000 monthly quota, 200,000 in months 1-2, 300,000 in
    months 3-4, 350,000 in months 5-6, then the full 400,000 -- counted here from the promotion."""
    program = compile_payout(load_ruleset([ramp_rules])[0])
    plan = program.plans["ae-ramp"]
    ramp = Ramp(tuple(Decimal(x) for x in ("0.5", "0.5", "0.75", "0.75", "0.875", "0.875")), "plan")
    plan = attrs.evolve(plan, ramp=ramp, quota=Decimal(400000))
    rows = reps_from_records(
        [
            {"id": "ana", "plan": "sdr-2026", "start": "2025-03-01", "end": "2026-01-31", "hired": "2025-03-01"},
            {"id": "ana", "plan": "ae-ramp", "start": "2026-02-01"},
        ]
    ).reps
    ana = by_plan(list(rows), {"ae-ramp": plan, "sdr-2026": program.plans["sdr-2026"]})["ae-ramp"]["ana"]
    quotas = [quota_over(ana, plan, period_of(dt.date(2026, m, 1), "month")).quota for m in range(2, 10)]
    assert quotas == [Decimal(x) for x in (200000, 200000, 300000, 300000, 350000, 350000, 400000, 400000)]


def test_ramp_schema_errors_point_at_the_plan(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (DATA / "ramp-plan.yaml").read_text(encoding="utf-8")
    (rules / "plans" / "ramp.yaml").write_text(
        text.replace("quota: [0.25, 0.5, 0.75]", "quota: [0.25, 1.5]").replace("from: hire", "form: hire"),
        encoding="utf-8",
    )
    result = dealgate("validate", rules, code=1)
    assert "ramp.yaml" in result.stdout + result.stderr
    shown = result.stdout + result.stderr
    assert "1.5" in shown and "form" in shown and "did you mean 'from'" in shown


# properties


days = st.integers(min_value=0, max_value=500)
fractions = st.lists(st.decimals(min_value="0.01", max_value="1", places=2), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(fractions, days, days, st.sampled_from(["month", "quarter", "year"]))
def test_a_ramped_quota_never_exceeds_the_full_quota(ramp, hired_offset, start_offset, kind):
    program = _program()
    plan = attrs.evolve(program.plans["ae-2026"], ramp=Ramp(tuple(ramp)), period=kind)
    base = dt.date(2026, 1, 1)
    row = {"id": "r", "plan": "ae-2026", "quota": "120000", "start": str(base + dt.timedelta(start_offset))}
    rows = reps_from_records([{**row, "hired": str(base + dt.timedelta(hired_offset))}]).reps
    rep = by_plan(list(rows), {"ae-2026": plan})["ae-2026"]["r"]
    for month in range(1, 13):
        span = period_of(dt.date(2026, month, 1), kind)
        ramped = quota_over(rep, plan, span).quota
        full = quota_over(rows[0], attrs.evolve(plan, ramp=None), span).quota
        if full is None:
            assert ramped is None
        else:
            assert Decimal(0) < ramped <= full


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 90), st.integers(1, 500_000)), min_size=1, max_size=4))
def test_the_weighted_quota_is_the_sum_of_each_rows_proration(rows):
    """A rep's quota under several rows equals the quotas of the rows prorated on their own, added up."""
    program = _program()
    plan = program.plans["ae-2026"]
    q = period_of(dt.date(2026, 1, 1), "year")
    records, start = [], q.start
    for length, quota in rows:
        end = start + dt.timedelta(length - 1)
        records.append({"id": "r", "plan": "ae-2026", "quota": str(quota), "start": str(start), "end": str(end)})
        start = end + dt.timedelta(1)
    reps = reps_from_records(records).reps
    rep = by_plan(list(reps), program.plans)["ae-2026"]["r"]
    alone = sum((quota_over(row, plan, q).quota for row in reps), Decimal(0))
    assert quota_over(rep, plan, q).quota == pytest.approx(alone, rel=Decimal("1e-20"))


_PROGRAM = []


def _program():
    if not _PROGRAM:
        _PROGRAM.append(compile_payout(load_ruleset([ROOT / "rules"])[0]))
    return _PROGRAM[0]


def test_a_split_statement_is_the_sum_of_its_parts():
    document, _ = payout_json("--period", "2026-Q3")
    for combined in document["combined"]:
        parts = [
            s
            for s in document["statements"]
            if s["rep"] == combined["rep"] and combined["start"] <= s["start"] and s["end"] <= combined["end"]
        ]
        assert Decimal(combined["total"]) == sum(Decimal(s["total"]) for s in parts)
        assert len(parts) == len(combined["parts"])


def test_rep_objects_keep_their_old_shape():
    rep = Rep("alice", "ae-2026")
    assert rep.terms == () and rep.covers(dt.date(2026, 1, 1))


# a split statement (mid_period_change: split)


@pytest.fixture(scope="module")
def split_rules(tmp_path_factory):
    """The default pack with the AE plan paying each assignment on its own."""
    rules = tmp_path_factory.mktemp("split") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("period: quarter\n", "period: quarter\nmid_period_change: split\n"),
        encoding="utf-8",
    )
    return rules


SPLIT = {"export": DATA / "split-deals.csv", "reps": DATA / "split-reps.csv"}


def test_prorate_measures_one_attainment_against_the_weighted_quota():
    document, _ = payout_json("--period", "2026-Q3", **SPLIT)
    [q3] = document["statements"]
    # (200,000 x 46 + 800,000 x 46) / 92 = 500,000; 350,000 is 70%: D6 150,000 x 4%, D7 100,000 x 4% + 100,000 x 8%
    assert (q3["quota"], q3["attainment"], q3["total"]) == ("500000", "0.7", "18000.00")


def test_split_pays_each_assignment_on_its_own_quota(split_rules):
    document, _ = payout_json("--period", "2026-Q3", rules=split_rules, **SPLIT)
    [q3] = document["statements"]
    # part 1: quota 100,000, D6 150,000 = 150%: 2,000 + 4,000 + 6,000; part 2: quota 400,000, D7 200,000 = 50%: 8,000
    assert [(line["deal"], line["amount"]) for line in q3["lines"]] == [
        ("D6", "2000.00"),
        ("D6", "4000.00"),
        ("D6", "6000.00"),
        ("D7", "8000.00"),
    ]
    assert q3["total"] == "20000.00" and q3["attainment"] is None and q3["quota"] == "500000"
    assert q3["notes"][0].startswith("split statement: 2 assignments to plan ae-2026 in 2026-Q3")
    assert (
        "part 1 (2026-07-01 to 2026-08-15) AE, West: quota 100,000.00, credit 150,000.00, attainment 150%"
        in (q3["notes"][1])
    )
    assert q3["lines"][3]["note"].startswith("part 2 (2026-08-16 to 2026-09-30)")


def test_a_split_statement_equals_its_parts_paid_alone(split_rules, tmp_path):
    """Each part as a rep of its own (one row each): the split statement's total is their sum."""
    document, _ = payout_json("--period", "2026-Q3", rules=split_rules, **SPLIT)
    rows = (DATA / "split-reps.csv").read_text(encoding="utf-8").splitlines()
    totals = []
    for row in rows[1:]:
        alone = tmp_path / "alone.csv"
        alone.write_text(rows[0] + "\n" + row + "\n", encoding="utf-8")
        part, _ = payout_json("--period", "2026-Q3", export=SPLIT["export"], reps=alone, rules=split_rules)
        totals.extend(Decimal(s["total"]) for s in part["statements"])
    assert Decimal(document["statements"][0]["total"]) == sum(totals) == Decimal(20000)


def test_split_and_a_draw_are_refused(split_rules, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(split_rules, rules)
    plan = rules / "plans" / "ae.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + "draw: {type: recoverable, amount: 2000}\n", encoding="utf-8")
    shown = dealgate("validate", rules, code=1).output
    assert "ae.yaml:13:20: error[DG308]: 'mid_period_change: split' cannot be combined with a draw" in shown


def test_the_example_reps_file_with_a_promotion():
    """examples/reps-assignments.csv on the example export, as docs/payouts.md shows it."""
    document, stderr = payout_json(
        "--period", "2026-Q3", "--rep", "sue", export=ROOT / "examples" / "deals.csv",
        reps=ROOT / "examples" / "reps-assignments.csv",
    )  # fmt: skip
    [combined] = document["combined"]
    assert combined["total"] == "2300.00" and len(combined["parts"]) == 3
    assert "2 credits of rep 'sue' under plan 'sdr-2026' are dated outside the rep's assignments" in stderr
