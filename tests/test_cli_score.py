"""End-to-end: `dealgate score` and `dealgate explain` on files in tests/data/score."""

import csv
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from conftest import DATA, ROOT

REPORT = DATA / "score" / "salesforce_report.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input)
    return result


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.fixture
def scored(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(
        "score", "--rules", str(ROOT / "rules"), str(REPORT), "--format", "json", "--rejects", str(rejects), *AS_OF
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), list(csv.DictReader(rejects.open())), result.stderr


def test_salesforce_report_rejects_exactly_the_four_bad_rows(scored):
    _, rejects, stderr = scored
    reasons = {(r["line"], r["column"]): r["reason"] for r in rejects}
    assert reasons == {
        ("5", "Opportunity ID"): "missing required field 'id'",
        ("6", "Amount"): "'TBD' is not an amount",
        ("7", "Stage"): "unknown stage label 'Verbal Commit'",
        ("8", "Close Date"): "impossible date '02/30/2026'",
    }
    assert last_line(stderr) == "read 9, scored 5, rejected 4"


def test_salesforce_report_scores_every_other_row_correctly(scored):
    data, _, _ = scored
    deals = {d["id"]: d for d in data["deals"]}
    assert set(deals) == {"006A1", "006A2", "006A3", "006A8", "006A9"}
    a1 = deals["006A1"]
    assert (a1["stage"], a1["verdict"], a1["failed"], a1["weighted_amount"], a1["evidence_stage"]) == (
        "discovery",
        "ready",
        [],
        "1250.00",
        "discovery",
    )
    a2 = deals["006A2"]
    assert (a2["verdict"], a2["failed"], a2["evidence_stage"], a2["over_staged"]) == (
        "blocked",
        ["discount_approval"],
        "meeting",
        True,
    )
    assert a2["weighted_amount"] == "32000.00" and a2["probability"] == 0.8
    a3 = deals["006A3"]  # blank Budget Confirmed takes the default false: no funds past discovery
    assert (a3["stage"], a3["verdict"], a3["qualify_out"], a3["failed"]) == (
        "meeting",
        "disqualified",
        ["no_funds"],
        ["economic_buyer", "champion"],
    )
    assert deals["006A8"]["verdict"] == "won" and deals["006A8"]["weighted_amount"] == "20000.00"
    a9 = deals["006A9"]  # blank amount is unknown, not zero
    assert (a9["verdict"], a9["qualify_out"], a9["amount"], a9["weighted_amount"]) == (
        "disqualified",
        ["stalled"],
        None,
        None,
    )


def test_summary_reconciles_with_deals(scored):
    data, _, _ = scored
    summary = data["summary"]
    assert summary["as_of"] == data["as_of"] == "2026-09-30"
    assert summary["deals"] == len(data["deals"]) == 5
    assert summary["verdicts"] == {"ready": 1, "blocked": 1, "disqualified": 2, "won": 1, "lost": 0}
    open_weighted = sum(Decimal(d["weighted_amount"] or 0) for d in data["deals"] if d["verdict"] != "won")
    assert Decimal(summary["weighted_forecast"]) == open_weighted == Decimal("35650.00")


def test_quota_coverage(tmp_path):
    result = run("score", str(REPORT), "--format", "json", "--quota", "$100,000", *AS_OF)
    coverage = json.loads(result.stdout)["summary"]["coverage"]
    # open pipeline 12,500 + 40,000 + 8,000 against 100,000 - 20,000 won
    assert coverage["remaining"] == "80000.00" and coverage["coverage"] == "0.76"


def test_csv_output_is_written_atomically_and_formula_safe(tmp_path):
    export = tmp_path / "evil.csv"
    export.write_text("Id,Name,Stage,Amount\n=HYPERLINK(1),=cmd|' /C calc'!A0,Prospecting,100\n")
    out = tmp_path / "out.csv"
    result = run("score", str(export), "--format", "csv", "--output", str(out), *AS_OF)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["id"] == "'=HYPERLINK(1)" and rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


def test_jsonl_from_stdin():
    text = REPORT.read_text()
    result = run("score", "-", "--format", "jsonl", *AS_OF, input=text)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in lines] == ["006A1", "006A2", "006A3", "006A8", "006A9"]
    assert last_line(result.stderr) == "read 9, scored 5, rejected 4"


def test_fail_on_exits_1_for_ci_gates(tmp_path):
    assert run("score", str(REPORT), "--format", "json", "--fail-on", "disqualified", *AS_OF).exit_code == 1
    assert run("score", str(REPORT), "--format", "json", "--fail-on", "blocked", *AS_OF).exit_code == 1
    clean = tmp_path / "clean.csv"
    clean.write_text("Id,Stage,Amount\nX1,Closed Won,10\n")
    assert run("score", str(clean), "--format", "json", "--fail-on", "blocked", *AS_OF).exit_code == 0


def test_strict_stops_at_first_bad_row():
    result = run("score", str(REPORT), "--format", "json", "--strict", *AS_OF)
    assert result.exit_code == 2
    assert "5" in result.stderr and "missing required field 'id'" in result.stderr


def test_missing_export_and_bad_usage_exit_2(tmp_path):
    assert run("score", str(tmp_path / "nope.csv")).exit_code == 2
    assert run("score", str(REPORT), "--as-of", "30/09/2026").exit_code == 2
    assert run("score", str(REPORT), "--rules", str(tmp_path / "norules")).exit_code == 2


def test_invalid_rules_exit_1_with_diagnostics(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "fields.yaml").write_text("kind: fields\nfields:\n  stage: {type: stage}\n  amount: {type: money}\n")
    (pack / "pipeline.yaml").write_text(
        "kind: pipeline\nstages:\n  - id: a\n    probability: 0.1\n    exit:\n      - {id: x, when: ammount > 1}\n"
    )
    result = run("score", "--rules", str(pack), str(REPORT), *AS_OF)
    assert result.exit_code == 1
    assert "unknown field 'ammount'" in result.stderr and "did you mean 'amount'" in result.stderr


def test_table_output_has_summary():
    result = run("score", str(REPORT), "--format", "table", *AS_OF)
    assert result.exit_code == 0
    assert "006A2" in result.stdout and "over-staged" in result.stdout
    assert "weighted forecast (open deals): 35,650.00" in result.stdout


def test_explain_shows_each_criterion_with_the_values_it_saw():
    result = run("explain", str(REPORT), "--deal", "006A2", *AS_OF)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "verdict BLOCKED" in out and "over-staged" in out
    assert "FAIL     discount_approval: coalesce(discount, 0) <= 0.15 or discount_approved" in out
    assert "read: discount = 0.20, discount_approved = false" in out
    assert "FAIL     proposal_sent: proposal_sent != null" in out  # an earlier stage: why evidence is meeting


def test_explain_json_and_missing_values():
    result = run("explain", str(REPORT), "--deal", "006A1", "--format", "json", *AS_OF)
    data = json.loads(result.stdout)
    assert data["verdict"] == "ready"
    by_id = {t["id"]: t for t in data["exit_criteria"]}
    assert by_id["access_to_funds"]["values"] == {"budget_confirmed": True}
    warn = {t["id"]: t for t in data["qualify_out_rules"]}["close_date_past"]
    assert warn["status"] == "quiet" and warn["values"]["close_date"] == "2026-10-15"


def test_explain_rejected_row_and_unknown_deal():
    rejected = run("explain", str(REPORT), "--deal", "006A5", *AS_OF)
    assert rejected.exit_code == 0 and "rejected" in rejected.stdout and "'TBD' is not an amount" in rejected.stdout
    assert run("explain", str(REPORT), "--deal", "NOPE", *AS_OF).exit_code == 2


def test_output_to_a_fifo_writes_through_and_keeps_the_fifo(tmp_path):
    """Device nodes and FIFOs (/dev/null, /dev/stdout) are written to, never renamed over."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = run("score", str(REPORT), "--format", "jsonl", "--output", str(fifo), *AS_OF)
    reader.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(received[0].splitlines()) == 5


def test_explain_a_reps_statement_step_by_step():
    result = run(
        "explain",
        str(ROOT / "examples" / "deals.csv"),
        "--rep",
        "alice",
        "--period",
        "2026-Q3",
        "--reps",
        str(ROOT / "examples" / "reps.csv"),
        *AS_OF,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Statement of Alice Martin (alice), plan ae-2026, period 2026-Q3")
    assert "Step 2. Credited deals" in result.stdout and "Step 4. Lines" in result.stdout
    assert "DG612" not in result.stderr  # the other reps are left out on purpose, not strangers
    assert "DG613" not in result.stderr  # nor are their deals' blank amounts this rep's concern


def test_explain_needs_exactly_one_subject():
    assert run("explain", str(REPORT), *AS_OF).exit_code == 2
    assert run("explain", str(REPORT), "--deal", "006A1", "--rep", "alice", *AS_OF).exit_code == 2
    assert run("explain", str(REPORT), "--rep", "alice", *AS_OF).exit_code == 2
