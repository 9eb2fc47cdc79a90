"""`dealgate diff --engine duckdb|spark` against the Python engine: the same report, byte for byte."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

EXPORT, REPS = ROOT / "examples" / "deals.csv", ROOT / "examples" / "reps.csv"
AS_OF = ("--as-of", "2026-09-30")


@pytest.fixture
def changed(tmp_path):
    """The default pack with a stricter qualify-out rule, a new exit criterion and a richer accelerator."""
    pack = tmp_path / "new"
    shutil.copytree(ROOT / "rules", pack)
    pipeline = pack / "pipeline.yaml"
    text = pipeline.read_text(encoding="utf-8")
    assert "days_in_stage > 90" in text
    pipeline.write_text(text.replace("days_in_stage > 90", "days_in_stage > 45"), encoding="utf-8")
    plan = pack / "plans" / "ae.yaml"
    plan.write_text(plan.read_text().replace("rate: 0.12, label: accelerator", "rate: 0.13, label: accelerator"))
    return pack


def diff(engine, new, fmt="json", extra=()):
    result = CliRunner().invoke(
        main,
        [
            "diff",
            str(ROOT / "rules"),
            str(new),
            "--deals",
            str(EXPORT),
            *AS_OF,
            "--format",
            fmt,
            "--engine",
            engine,
            "-v",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_duckdb_reports_what_python_reports(changed, fmt):
    extra = ["--reps", str(REPS), "--period", "2026-Q3"]
    python, duckdb = diff("python", changed, fmt, extra), diff("duckdb", changed, fmt, extra)
    assert duckdb.stdout == python.stdout
    if fmt == "json":
        report = json.loads(python.stdout)
        assert report["changes"] and report["payouts"]["reps"], "both the rules and the plan changed something"
    assert "engine: duckdb" in duckdb.stderr and "engine: python" in python.stderr
    assert duckdb.stderr.splitlines()[-1] == python.stderr.splitlines()[-1]


def test_a_ragged_export_is_diffed_by_the_python_engine_and_says_why(changed, tmp_path):
    ragged = tmp_path / "ragged.csv"
    lines = EXPORT.read_text(encoding="utf-8").splitlines()[:30]
    lines[4] += ",extra"
    ragged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "diff",
            str(ROOT / "rules"),
            str(changed),
            "--deals",
            str(ragged),
            *AS_OF,
            "--format",
            "json",
            "--engine",
            "duckdb",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "scoring with the Python engine" in result.stderr


def test_spark_reports_what_python_reports(changed, spark):
    extra = ["--reps", str(REPS), "--period", "2026-Q3"]
    python, on_spark = diff("python", changed, extra=extra), diff("spark", changed, extra=extra)
    assert on_spark.stdout == python.stdout
    assert "engine: spark" in on_spark.stderr


# dealgate test --engine duckdb: the pack's own cases, scored and credited by the compiled SQL


@pytest.mark.parametrize("rules", [ROOT / "rules", ROOT / "examples" / "rule-repo" / "rules"])
def test_the_packs_own_cases_pass_on_duckdb(rules):
    python = CliRunner().invoke(main, ["test", str(rules), *AS_OF, "--format", "json"])
    duckdb = CliRunner().invoke(main, ["test", str(rules), *AS_OF, "--format", "json", "--engine", "duckdb"])
    assert duckdb.exit_code == python.exit_code == 0, duckdb.output
    assert duckdb.stdout == python.stdout
    assert json.loads(duckdb.stdout)["passed"] > 10


def test_the_packs_own_cases_pass_on_spark(spark):
    python = CliRunner().invoke(main, ["test", str(ROOT / "rules"), *AS_OF, "--format", "json"])
    on_spark = CliRunner().invoke(main, ["test", str(ROOT / "rules"), *AS_OF, "--format", "json", "--engine", "spark"])
    assert on_spark.exit_code == python.exit_code == 0, on_spark.output
    assert on_spark.stdout == python.stdout


def test_the_cases_really_run_on_the_sql_engine(monkeypatch):
    from engine.sql import score as sql_score

    real = sql_score.ScoringQuery.final_columns

    def blocked_is_ready(self):  # a wrong SQL verdict must fail the cases that expect 'blocked'
        columns = real(self)
        columns[3] = sql_score.exp.alias_(sql_score.exp.Literal.string("ready"), "verdict")
        return columns

    monkeypatch.setattr(sql_score.ScoringQuery, "final_columns", blocked_is_ready)
    result = CliRunner().invoke(main, ["test", str(ROOT / "rules"), *AS_OF, "--engine", "duckdb"])
    assert result.exit_code == 1 and "verdict" in result.stdout


def test_a_case_value_the_reader_refuses_stops_the_pack_on_both_engines(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    cases = pack / "tests" / "pipeline.yaml"
    text = cases.read_text(encoding="utf-8")
    assert "amount: 10000}" in text
    cases.write_text(text.replace("amount: 10000}", "amount: 10000.1234567}", 1), encoding="utf-8")
    python = CliRunner().invoke(main, ["test", str(pack), *AS_OF, "--format", "json"])
    duckdb = CliRunner().invoke(main, ["test", str(pack), *AS_OF, "--format", "json", "--engine", "duckdb"])
    assert duckdb.exit_code == python.exit_code == 1
    assert duckdb.stderr == python.stderr and "decimal places" in python.stderr  # found while checking the pack
