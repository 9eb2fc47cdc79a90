"""bench/engines.py's yardsticks do the same work: hand-written DuckDB SQL and polars give
`dealgate score --format csv` output row for row, rejects included. Speed is never asserted."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from engine.render.deals import CSV_COLUMNS
from engine.synthetic import write_csv

COLUMNS = list(CSV_COLUMNS) + ["category"]  # the bundled pack declares forecast categories

sys.path.insert(0, str(ROOT / "bench"))
import engines  # noqa: E402
import hand_duckdb  # noqa: E402

AS_OF = "2026-09-30"


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A few hundred synthetic deals with four broken rows, as CSV and Parquet, and dealgate's answer."""
    import duckdb

    work = tmp_path_factory.mktemp("engines")
    export = work / "deals.csv"
    with export.open("w", encoding="utf-8", newline="") as out:
        write_csv(out, 400, seed=11, with_rejects=True)
    parquet = work / "deals.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{export}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)"
    )
    scored, rejects = work / "dealgate.csv", work / "dealgate_rejects.csv"
    done = subprocess.run(
        engines.dealgate_command()
        + [
            "score",
            "--rules",
            str(ROOT / "rules"),
            str(export),
            "--as-of",
            AS_OF,
            "--format",
            "csv",
            "-o",
            str(scored),
            "--rejects",
            str(rejects),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "read 400, scored 396, rejected 4" in done.stderr
    return work, export, parquet, rows(scored), rows(rejects)


def assert_same(expected, got, ignore=()):
    assert got[0] == expected[0] == COLUMNS
    assert len(got) == len(expected)
    skip = {expected[0].index(c) for c in ignore}
    for want, have in zip(expected[1:], got[1:]):
        assert [v for i, v in enumerate(have) if i not in skip] == [v for i, v in enumerate(want) if i not in skip]


def test_handwritten_duckdb_matches_dealgate_row_for_row(sample):
    work, export, parquet, expected, expected_rejects = sample
    out, rej = work / "hd.csv", work / "hd_rejects.csv"
    counts = hand_duckdb.run(str(export), str(out), str(rej), AS_OF)
    assert (counts["scored"], counts["rejected"]) == (396, 4)
    assert_same(expected, rows(out))
    assert rows(rej) == expected_rejects
    assert {row[6] for row in expected[1:]} == {"ready", "blocked", "disqualified", "won", "lost"}
    assert out.read_bytes() == (work / "dealgate.csv").read_bytes()  # byte for byte, even

    hand_duckdb.run(str(parquet), str(out), str(rej), AS_OF)
    assert_same(expected, rows(out), ignore=("file",))
    assert rows(rej) == expected_rejects


def test_polars_matches_dealgate_row_for_row(sample):
    pytest.importorskip("polars")
    import hand_polars

    work, export, parquet, expected, expected_rejects = sample
    out, rej = work / "pl.csv", work / "pl_rejects.csv"
    hand_polars.run(str(export), str(out), str(rej), AS_OF)
    assert_same(expected, rows(out))
    assert rows(rej) == expected_rejects

    hand_polars.run(str(parquet), str(out), str(rej), AS_OF)
    assert_same(expected, rows(out), ignore=("file",))
    assert rows(rej) == expected_rejects


def test_compare_counts_differing_rows_per_column(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,verdict,amount\n1,ready,5.00\n2,won,6.00\n")
    b.write_text("id,verdict,amount\n1,blocked,5.00\n2,won,6.01\n3,won,1.00\n")
    assert engines.compare(a, b) == {"verdict": 2, "amount": 2, "id": 1, "rows": 1}
    assert engines.compare(a, a) == {}


def test_quick_run_ends_with_its_json_line(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "engines.py"),
            "--quick",
            "--rows",
            "300",
            "--check-rows",
            "200",
            "--keep",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(last) >= {
        "rows",
        "python_rows_per_s",
        "duckdb_rows_per_s",
        "duckdb_parquet_rows_per_s",
        "spark_rows_per_s",
        "handwritten_duckdb_rows_per_s",
        "polars_rows_per_s",
        "duckdb_vs_handwritten",
        "duckdb_vs_python",
        "python_peak_rss_mb",
        "handwritten_duckdb_peak_rss_mb",
        "check_diffs",
        "check_ok",
    }
    assert last["rows"] == 300
    assert last["python_rows_per_s"] > 0 and last["handwritten_duckdb_rows_per_s"] > 0
    assert last["check_ok"] is True, last["check_diffs"]
    assert all(last["full_output_matches_python"].values())
    if not last["engine_option"]:  # until `dealgate score --engine` lands
        assert last["duckdb_rows_per_s"] is None and "duckdb" in last["unavailable"]
