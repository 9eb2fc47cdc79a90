"""Ids Excel mangled: the SQL engines give the Python reader's warnings (engine/sql/excel_ids.py)."""

import csv

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine.read import MAX_ROW_WARNINGS
from engine.sql import excel_ids

EXAMPLE = ROOT / "examples" / "deals.csv"
MANGLED = {
    3: "7.22673E+19",
    5: "7.22675e-03",
    9: "6000000000000010000",
    11: "123456.0",
    13: "٣٤٥.00",
    15: "1.5E+6 ",
    17: "600000000000001",
    19: "12345.5",
    21: "1e5",
}


def export_with_ids(tmp_path, ids: dict):
    rows = list(csv.reader(EXAMPLE.open(newline="", encoding="utf-8")))
    for index, value in ids.items():
        rows[index][0] = value
    path = tmp_path / "mangled.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


def stderr_of(export, engine):
    result = CliRunner().invoke(
        main,
        [
            "score",
            str(export),
            "--as-of",
            "2026-09-30",
            "--engine",
            engine,
            "--format",
            "csv",
            "-o",
            str(export.with_suffix(f".{engine}.csv")),
        ],
    )
    assert result.exit_code == 0, result.output
    return result.stderr


def test_duckdb_warns_of_the_same_ids_at_the_same_lines(tmp_path):
    export = export_with_ids(tmp_path, MANGLED)
    python = stderr_of(export, "python")
    assert python.count("looks like a number mangled by Excel") == 6  # not 600000000000001, 12345.5 or 1e5
    assert "mangled.csv:14: warning: id '٣٤٥.00' looks like a number" in python  # any Unicode digit, as \d
    assert stderr_of(export, "duckdb") == python


def test_spark_warns_of_the_same_ids(spark, tmp_path):
    export = export_with_ids(tmp_path, MANGLED)
    assert stderr_of(export, "spark") == stderr_of(export, "python")


def test_beyond_the_listed_ones_a_count_at_the_last_line():
    listed = [(line, f"{line}.0") for line in range(2, 2 + MAX_ROW_WARNINGS)]
    found = excel_ids.warnings(listed, lambda: (150, 400))
    assert len(found) == MAX_ROW_WARNINGS + 1
    assert (found[-1].line, found[-1].message) == (400, "50 more ids look mangled by Excel (not listed)")
    assert excel_ids.warnings(listed[:3], lambda: pytest.fail("no count needed"))[2].line == 4


def test_many_mangled_ids_summarise_alike(tmp_path, default_ruleset):
    """Every warning, not only the 20 the CLI shows: the listed ones and the count at the last line."""
    import datetime as dt

    from engine.read.stream import ExportStream
    from engine.sql.duckdb_engine import DuckDBScorer, SqlStream

    export = export_with_ids(tmp_path, {i: f"{i}.0" for i in range(1, 150)})
    python = ExportStream(default_ruleset.analysis, [str(export)])
    for _ in python.records():
        pass
    scorer = DuckDBScorer(default_ruleset, dt.date(2026, 9, 30))
    sql = SqlStream(scorer, [scorer.prepare(str(export))])
    assert sql.run() is None
    assert sql.warnings == python.warnings
    assert len(sql.warnings) == MAX_ROW_WARNINGS + 1
    assert sql.warnings[-1][1].message == "49 more ids look mangled by Excel (not listed)"
    scorer.close()


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_payout_on_a_sql_engine_warns_alike(request, tmp_path, engine):
    if engine == "spark":
        request.getfixturevalue("spark")
    export = export_with_ids(tmp_path, MANGLED)
    runs = {}
    for name in ("python", engine):
        result = CliRunner().invoke(
            main,
            [
                "payout",
                str(export),
                "--reps",
                str(ROOT / "examples" / "reps.csv"),
                "--period",
                "2026-Q3",
                "--as-of",
                "2026-09-30",
                "--engine",
                name,
                "--format",
                "csv",
            ],
        )
        assert result.exit_code == 0, result.output
        runs[name] = (result.stdout, result.stderr)
    assert runs[engine] == runs["python"]
    assert "looks like a number mangled by Excel" in runs["python"][1]
