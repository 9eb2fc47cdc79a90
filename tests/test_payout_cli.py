"""End-to-end: `dealgate payout` on the example export and reps file, every format, every exit code."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT / "examples" / "deals.csv"
REPS = ROOT / "examples" / "reps.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def payout(*args):
    return run("payout", EXPORT, "--reps", REPS, *AS_OF, *args)


def test_json_statements_for_the_example_export_reconcile_to_the_cent():
    result = payout("--period", "2026-Q3", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["as_of"] == "2026-09-30"
    statements = document["statements"]
    ae = [s for s in statements if s["plan"] == "ae-2026"]
    assert sorted(s["rep"] for s in ae) == ["alice", "bob", "carol", "dan", "erin", "frank"]
    assert all(s["period"] == "2026-Q3" for s in ae)
    sdr = [(s["rep"], s["period"]) for s in statements if s["plan"] == "sdr-2026"]
    assert sdr == [(r, m) for r in ("sam", "sue") for m in ("2026-07", "2026-08", "2026-09")]
    for s in statements:
        assert Decimal(s["total"]) == sum((Decimal(line["amount"]) for line in s["lines"]), Decimal(0))
        assert all(len(line["amount"].split(".")[1]) == 2 for line in s["lines"])  # money: strings, 2 decimals
    assert sum(Decimal(s["total"]) for s in ae) > 0
    assert "12 statements" in result.stderr and "rejected 4" in result.stderr


def test_one_rep_as_csv_with_a_total_row():
    result = payout("--period", "2026-Q3", "--rep", "alice", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["rep"] for r in rows} == {"alice"}
    lines = [r for r in rows if r["kind"] != "total"]
    (total,) = [r for r in rows if r["kind"] == "total"]
    assert Decimal(total["amount"]) == sum(Decimal(r["amount"]) for r in lines)
    assert {r["kind"] for r in lines} >= {"commission", "clawback"}


def test_table_and_markdown():
    table = payout("--period", "2026-Q3", "--rep", "bob", "--format", "table")
    assert table.exit_code == 0, table.output
    assert "Bob Okafor (bob) · plan ae-2026 · 2026-Q3" in table.stdout
    assert "total " in table.stdout
    markdown = payout("--period", "2026-Q3", "--format", "markdown")
    assert markdown.exit_code == 0
    assert "## Alice Martin (alice) · ae-2026 · 2026-Q3" in markdown.stdout
    assert "| line | deal | credit | rate | amount | rule | detail |" in markdown.stdout
    assert "## Summary" in markdown.stdout


def test_explain_walks_one_statement():
    result = payout("--period", "2026-Q3", "--rep", "alice", "--explain")
    assert result.exit_code == 0, result.output
    text = result.stdout
    for step in ("Step 1. Quota", "Credited deals, in credit-date order", "Rate table as applied", "Lines", "Total"):
        assert step in text
    assert "400,000.00 for 2026-Q3 (the rep's own quota)" in text
    assert "(reconciles to the cent)" in text


def test_a_range_of_periods_and_an_output_file(tmp_path):
    out = tmp_path / "statements.json"
    result = payout("--from", "2026-Q2", "--to", "2026-Q3", "--rep", "carol", "--format", "json", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    periods = [s["period"] for s in json.loads(out.read_text())["statements"]]
    assert periods == ["2026-Q2", "2026-Q3"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--period", "2026-Q5"], "there is no Q5"),
        (["--period", "Q3"], "is not a period"),
        (["--from", "2026-Q3", "--to", "2026-Q1"], "ends before"),
    ],
)
def test_bad_periods_exit_2_without_a_traceback(args, message):
    result = payout(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_usage_errors_exit_2():
    assert payout().exit_code == 2  # no period at all
    both = payout("--period", "2026-Q3", "--from", "2026-Q2")
    assert both.exit_code == 2 and "not both" in both.output
    unknown = payout("--period", "2026-Q3", "--rep", "zoe")
    assert unknown.exit_code == 2 and "no rep 'zoe'" in unknown.stderr


def test_unreadable_inputs_exit_2(tmp_path):
    missing = run("payout", tmp_path / "nope.csv", "--reps", REPS, "--period", "2026-Q3")
    assert missing.exit_code == 2 and "no such export file" in missing.stderr
    no_reps = run("payout", EXPORT, "--reps", tmp_path / "nope.csv", "--period", "2026-Q3")
    assert no_reps.exit_code == 2 and "no such reps file" in no_reps.stderr
    bad = tmp_path / "reps.csv"
    bad.write_text("id,name,plan,quota\nalice,Alice,ae-2O26,250000\nbob,Bob,ae-2026,lots\n", encoding="utf-8")
    result = run("payout", EXPORT, "--reps", bad, "--period", "2026-Q3")
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.stderr and "unknown plan 'ae-2O26'" in result.stderr
    assert "did you mean 'ae-2026'?" in result.stderr
    assert f"{bad}:3:" in result.stderr and "'lots' is not an amount" in result.stderr
    assert "Traceback" not in result.output


def test_an_invalid_rule_pack_exits_1(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plan = rules / "plans" / "ae.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("amount: amount", "amount: ammount"), encoding="utf-8")
    result = payout("--rules", rules, "--period", "2026-Q3")
    assert result.exit_code == 1
    assert "unknown field 'ammount'" in result.stderr


def test_deal_problems_exit_1_but_statements_are_still_written(tmp_path):
    export = tmp_path / "deals.csv"
    export.write_text(
        "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Split\n"
        "A1,alice,Closed Won,100000,07/10/2026,alice:60;bob:30\n"
        "A2,alice,Closed Won,50000,07/11/2026,\n"
        "A3,zoe,Closed Won,10000,07/12/2026,\n",
        encoding="utf-8",
    )
    result = run("payout", export, "--reps", REPS, "--period", "2026-Q3", *AS_OF, "--format", "json")
    assert result.exit_code == 1
    assert f"{export}:2:1: error[DG610]: deal A1: splits 'alice:60;bob:30' total 90%, not 100%" in result.stderr
    assert "credit 'zoe' under plan 'ae-2026', who is not in the reps file" in result.stderr
    statements = json.loads(result.stdout)["statements"]
    alice = next(s for s in statements if s["rep"] == "alice")
    assert [c["deal"] for c in alice["credits"]] == ["A2"]
