"""`dealgate forecast`: grouped pipeline, coverage against quota, and totals that equal `score`'s summary."""

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

DEALS = ROOT / "examples" / "deals.csv"
REPS = ROOT / "examples" / "reps.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def forecast_json(*args):
    result = run("forecast", DEALS, *AS_OF, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def score_summary(export):
    result = run("score", export, *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["summary"]


def rows_closing_in(tmp_path, first: dt.date, last: dt.date):
    """The example export cut to the rows whose close date falls in [first, last] (read as the pack reads it)."""
    with DEALS.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, kept = rows[0], []
    column = header.index("Close Date")
    for row in rows[1:]:
        try:
            close = dt.datetime.strptime(row[column], "%m/%d/%Y").date()
        except ValueError:
            continue
        if first <= close <= last:
            kept.append(row)
    path = tmp_path / "period.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *kept])
    return path


def test_totals_without_a_period_equal_the_score_summary():
    data, _ = forecast_json("--by", "owner")
    summary = score_summary(DEALS)
    total = data["total"]
    assert (total["open_pipeline"], total["weighted"], total["won"]) == (
        summary["open_pipeline"],
        summary["weighted_forecast"],
        summary["won_amount"],
    )
    assert total["deals"] == summary["deals"]
    assert sum(g["deals"] for g in data["groups"]) == total["deals"]


@pytest.mark.parametrize(
    "period, first, last",
    [
        ("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ],
)
def test_totals_in_a_period_equal_the_score_summary_of_the_deals_closing_in_it(tmp_path, period, first, last):
    data, _ = forecast_json("--period", period, "--by", "owner,stage")
    summary = score_summary(rows_closing_in(tmp_path, first, last))
    total = data["total"]
    assert (total["deals"], total["open_pipeline"], total["weighted"], total["won"]) == (
        summary["deals"],
        summary["open_pipeline"],
        summary["weighted_forecast"],
        summary["won_amount"],
    )
    by_group = sum(Decimal(g["weighted"]) for g in data["groups"])
    assert str(by_group) == total["weighted"]


def test_acceptance_coverage_per_rep_in_the_quarter():
    data, stderr = forecast_json("--reps", REPS, "--period", "2026-Q4", "--by", "owner")
    assert stderr.strip().splitlines()[-1] == "read 400, scored 396, rejected 4"
    coverage = {row["rep"]: row for row in data["coverage"]}
    assert "sue" not in coverage and "sam" not in coverage  # SDRs are credited on others' deals
    groups = {g["owner"]: g for g in data["groups"]}
    alice = coverage["alice"]
    assert alice["quota"] == "400000.00"  # the rep's own quarterly quota
    assert coverage["bob"]["quota"] == "250000.00"  # the plan's
    assert alice["open_pipeline"] == groups["alice"]["open_pipeline"]
    remaining = Decimal(alice["remaining"])
    assert remaining == Decimal(alice["quota"]) - Decimal(alice["won"])
    assert Decimal(alice["coverage"]) == (Decimal(alice["open_pipeline"]) / remaining).quantize(Decimal("0.01"))
    assert Decimal(alice["needed_coverage"]) == (1 / Decimal(alice["win_rate"])).quantize(Decimal("0.01"))
    total = coverage["total"]
    assert total["open_pipeline"] == data["total"]["open_pipeline"]
    assert sum(Decimal(r["open_pipeline"]) for r in data["coverage"][:-1]) == Decimal(total["open_pipeline"])


def test_won_in_the_period_reduces_the_remaining_quota():
    data, _ = forecast_json("--reps", REPS, "--period", "2026-Q3")
    coverage = {row["rep"]: row for row in data["coverage"]}
    won = {g["owner"]: g["won"] for g in data["groups"]}
    for rep in ("alice", "bob", "carol"):
        row = coverage[rep]
        assert row["won"] == won[rep]
        assert Decimal(row["remaining"]) == max(Decimal(row["quota"]) - Decimal(row["won"]), Decimal(0))


def test_quota_scales_to_the_period_and_prorates_a_rep_who_starts_in_it():
    from engine.forecast.forecast import quota_in
    from engine.pack import load_ruleset
    from engine.payout import Rep, parse_period

    ruleset, _ = load_ruleset([ROOT / "rules"])
    plan = {p.id: p for p in ruleset.analysis.pack.plans}["ae-2026"]
    assert quota_in(Rep("x", "ae-2026"), plan, parse_period("2026")) == Decimal("1000000.00")
    assert quota_in(Rep("x", "ae-2026"), plan, parse_period("2026-05")) == Decimal("83333.33")
    half = Rep("x", "ae-2026", start=dt.date(2026, 8, 16))
    assert quota_in(half, plan, parse_period("2026-Q3")) == Decimal("125000.00")


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_every_format_renders_the_coverage(fmt):
    result = run("forecast", DEALS, *AS_OF, "--reps", REPS, "--period", "2026-Q4", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "alice" in result.stdout and "1,522,250.00" in result.stdout.replace("1522250.00", "1,522,250.00")


def test_csv_without_reps_is_the_grouped_table_with_its_total():
    result = run("forecast", DEALS, *AS_OF, "--by", "stage,period", "--period", "2026-H2", "--format", "csv")
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows[-1]["stage"] == "total"
    assert {r["period"] for r in rows[:-1]} <= {"2026-Q3", "2026-Q4"}
    assert sum(int(r["deals"]) for r in rows[:-1]) == int(rows[-1]["deals"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "region"], "cannot group by 'region'"),
        (["--by", "team"], "no 'team' field"),
        (["--reps", REPS], "add --period"),
        (["--period", "2026-Q5"], "there is no Q5"),
        (["--reps", "nowhere.csv", "--period", "2026-Q4"], "no such reps file"),
    ],
)
def test_bad_usage_exits_2_saying_why(args, message):
    result = run("forecast", DEALS, *AS_OF, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_rejects_are_written_and_counted(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run("forecast", DEALS, *AS_OF, "--format", "json", "--rejects", rejects)
    assert result.exit_code == 0
    assert len(list(csv.DictReader(rejects.open()))) == 4
    assert result.stderr.strip().splitlines()[-1] == "read 400, scored 396, rejected 4"
