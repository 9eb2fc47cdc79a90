"""The issue's acceptance scenario for the ledger, as a new user runs it, on the bundled example export:
Q3 paid into a new ledger and closed; a cancellation of a Q3 deal added to the export; Q4 run."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from click.testing import CliRunner
from test_payout_support import ROOT

from cli import main

REPS = ROOT / "examples" / "reps.csv"


def dealgate(*args, code: int = 0, input: str | None = None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def with_cancellation(tmp_path, deal_id: str, date: str):
    """The example export with ``deal_id`` cancelled on ``date`` (US dates, as the export writes them)."""
    rows = list(csv.reader((ROOT / "examples" / "deals.csv").open(encoding="utf-8", newline="")))
    column = rows[0].index("Cancellation Date")
    for row in rows[1:]:
        if row and row[0] == deal_id:
            assert not row[column]
            row[column] = date
    path = tmp_path / "deals-cancelled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_cancellation_after_close_is_clawed_back_in_q4_and_q3_stays_as_it_was(tmp_path):
    ledger = tmp_path / "comp.db"
    q3 = dealgate(
        "payout",
        ROOT / "examples" / "deals.csv",
        "--reps",
        REPS,
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--ledger",
        ledger,
    )
    assert "12 open statements written" in q3.stderr
    dealgate("close", "2026-Q3", "--ledger", ledger)
    before = json.loads(
        dealgate("ledger", "export", "--ledger", ledger, "--period", "2026-Q3", "--format", "json").stdout
    )

    export = with_cancellation(tmp_path, "006X00000024", "10/15/2026")  # alice's, credited 2026-08-06
    q4 = dealgate(
        "payout",
        export,
        "--reps",
        REPS,
        "--period",
        "2026-Q4",
        "--as-of",
        "2026-12-31",
        "--format",
        "json",
        "--engine",
        "python",
        "--ledger",
        ledger,
    )
    assert "12 locked unchanged, 0 locked with drift" in q4.stderr

    assert "12 locked statements match" in dealgate("ledger", "verify", "--ledger", ledger).stdout
    after = json.loads(
        dealgate("ledger", "export", "--ledger", ledger, "--period", "2026-Q3", "--format", "json").stdout
    )
    assert after["statements"] == before["statements"]

    shown = dealgate("ledger", "show", "--ledger", ledger, "--rep", "alice").stdout
    assert "2026-Q3 (2026-07-01 to 2026-09-30) · closed" in shown
    assert "2026-Q4 (2026-10-01 to 2026-12-31) · open" in shown
    [line] = [l for l in shown.splitlines() if "006X00000024" in l and "clawback" in l]
    assert "-3,790.00" in line and "paid in 2026-Q3 (closed)" in line

    # the payout run and the ledger agree to the cent on totals
    computed = sum(Decimal(s["total"]) for s in json.loads(q4.stdout)["statements"])
    booked = json.loads(
        dealgate("ledger", "export", "--ledger", ledger, "--period", "2026-Q4", "--format", "json").stdout
    )
    assert sum(Decimal(s["payable"]) for s in booked["statements"]) == computed
    assert f"total {computed:,.2f} USD" in q4.stderr


def test_a_late_cancellation_dated_in_the_closed_quarter_is_an_adjustment_in_the_next(tmp_path):
    ledger = tmp_path / "comp.db"
    dealgate(
        "payout",
        ROOT / "examples" / "deals.csv",
        "--reps",
        REPS,
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--ledger",
        ledger,
    )
    dealgate("close", "2026-Q3", "--ledger", ledger)
    export = with_cancellation(tmp_path, "006X00000078", "09/20/2026")  # alice's, credited 2026-07-03
    rerun = dealgate(
        "payout",
        export,
        "--reps",
        REPS,
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--ledger",
        ledger,
    )
    assert (
        "drift: alice ae-2026 2026-Q3 (closed) recomputes -1,380.00 differently; adjustments in 2026-Q4" in rerun.stderr
    )
    assert "late cancellation: clawback (cancel_90) on deal 006X00000078 in locked 2026-Q3" in rerun.stderr
    q4 = json.loads(
        dealgate(
            "ledger", "export", "--ledger", ledger, "--rep", "alice", "--period", "2026-Q4", "--format", "json"
        ).stdout
    )["statements"][0]
    assert q4["state"] == "open" and q4["lines"] == [] and q4["payable"] == "-1380.00"
    assert [(a["source_period"], a["deal"], a["reason"]) for a in q4["adjustments"]] == [
        ("2026-Q3", "006X00000078", "late cancellation")
    ]
    assert dealgate("ledger", "verify", "--ledger", ledger).exit_code == 0


def test_ledger_usage_problems_exit_2(tmp_path):
    ledger = tmp_path / "comp.db"
    piped = dealgate(
        "payout",
        "-",
        "--reps",
        REPS,
        "--period",
        "2026-Q3",
        "--ledger",
        ledger,
        code=2,
        input=(ROOT / "examples" / "deals.csv").read_text(encoding="utf-8"),
    )
    assert "needs the export as a file" in piped.stderr
    assert "error[DG801]" in dealgate("ledger", "show", "--ledger", tmp_path / "none.db", code=2).stderr
    dealgate(
        "payout",
        ROOT / "examples" / "deals.csv",
        "--reps",
        REPS,
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--ledger",
        ledger,
    )
    assert "error[DG804]" in dealgate("ledger", "show", "--ledger", ledger, "--period", "2026-Q9", code=2).stderr
    assert "error[DG803]" in dealgate("pay", "2026-Q3", "--ledger", ledger, code=2).stderr
    bad = tmp_path / "payroll.csv"
    bad.write_text("rep,amount\nalice,lots\n", encoding="utf-8")
    dealgate("close", "2026-Q3", "--ledger", ledger)
    assert "error[DG807]" in dealgate("pay", "2026-Q3", "--ledger", ledger, "--file", bad, code=2).stderr


def test_the_duckdb_engine_books_the_same_ledger_as_python(tmp_path):
    booked = {}
    for engine in ("python", "duckdb"):
        ledger = tmp_path / f"{engine}.db"
        dealgate(
            "payout",
            ROOT / "examples" / "deals.csv",
            "--reps",
            REPS,
            "--period",
            "2026-Q3",
            "--as-of",
            "2026-09-30",
            "--format",
            "json",
            "--engine",
            engine,
            "--ledger",
            ledger,
        )
        dealgate("close", "2026-Q3", "--ledger", ledger)
        booked[engine] = json.loads(dealgate("ledger", "export", "--ledger", ledger, "--format", "json").stdout)
    assert booked["duckdb"] == booked["python"]
