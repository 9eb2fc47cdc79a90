"""--engine spark gives the Python engine's bytes: outputs, rejects and the stderr lines.

One local SparkSession for the module (conftest's ``spark`` fixture, local[2]); the CLI runs
in-process and finds it. Exports are a few hundred rows: Spark's per-job cost dominates.
"""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from conftest import DATA, ROOT, SHARED_DATASETS

EXAMPLE = ROOT / "examples" / "deals.csv"
REPORT = DATA / "score" / "salesforce_report.csv"
AS_OF = ["--as-of", "2026-09-30"]
RULES = ["--rules", str(ROOT / "rules")]


def score(export, tmp_path, engine, fmt="csv", tag="", *extra):
    out, rejects = tmp_path / f"{engine}{tag}.{fmt}", tmp_path / f"{engine}{tag}-rejects.csv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            *RULES,
            str(export),
            *AS_OF,
            "--engine",
            engine,
            "--format",
            fmt,
            "-o",
            str(out),
            "--rejects",
            str(rejects),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out.read_bytes(), rejects.read_bytes(), result.stderr


def verdicts(csv_bytes: bytes) -> dict:
    return {
        r["id"]: (r["verdict"], r["failed"], r["qualify_out"], r["weighted_amount"])
        for r in csv.DictReader(csv_bytes.decode().splitlines())
    }


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_example_export_byte_for_byte(spark, tmp_path, fmt):
    python = score(EXAMPLE, tmp_path, "python", fmt)
    spark_run = score(EXAMPLE, tmp_path, "spark", fmt)
    assert spark_run[0] == python[0]
    assert spark_run[1] == python[1]
    assert spark_run[2] == python[2]  # every stderr line: as of, warnings, summary, the counts line


@pytest.mark.parametrize(
    "folder, export, as_of",
    [
        ("maven-crm-sales-opportunities", "sales_pipeline.csv", "2017-12-31"),
        ("sfdc-assets-data-cloud-workshop", "Opportunity.csv", "2024-01-25"),
        ("sfdc-devorg-sample-opps", "Opportunity.csv", "2026-02-23"),
    ],
)
def test_public_exports_with_their_packs(spark, tmp_path, folder, export, as_of):
    source = SHARED_DATASETS / folder / export
    if not source.is_file():
        pytest.skip(f"{source} is absent: the shared datasets are not beside this checkout")
    local = tmp_path / export  # the file name is part of the output ('file' column): the same for both
    shutil.copy(source, local)
    runs = {}
    for engine in ("python", "spark"):
        out, rejects = tmp_path / f"{engine}.csv", tmp_path / f"{engine}-rejects.csv"
        result = CliRunner().invoke(
            main,
            [
                "score",
                "--rules",
                str(ROOT / "examples" / folder),
                str(local),
                "--as-of",
                as_of,
                "--engine",
                engine,
                "--format",
                "csv",
                "-o",
                str(out),
                "--rejects",
                str(rejects),
            ],
        )
        assert result.exit_code == 0, result.output
        runs[engine] = (out.read_bytes(), rejects.read_bytes(), result.stderr)
    assert runs["spark"] == runs["python"]


def test_bad_rows_give_the_same_rejects(spark, tmp_path):
    """A cell that is not an amount, an unknown stage label, a blank required id, an impossible date."""
    python = score(REPORT, tmp_path, "python")
    spark_run = score(REPORT, tmp_path, "spark")
    assert spark_run == python
    assert b"'TBD' is not an amount" in spark_run[1] and spark_run[2].endswith("read 9, scored 5, rejected 4\n")


def test_line_numbers_with_blank_lines_and_quoted_line_breaks(spark, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = text[0], text[1:40]
    rows[3] = rows[3].replace("alice", '"alice\nsecond line"', 1)
    rows[10] = re.sub(r'"\$[0-9,.]+"', "TBD", rows[10], count=1)
    rows[12] = "," + rows[12].split(",", 1)[1]
    blank = "," * header.count(",") + "\n"
    export = tmp_path / "tricky.csv"
    export.write_text("\n" + header + "".join(rows[:20]) + "\n" + blank + "".join(rows[20:]), encoding="utf-8")
    spark_run = score(export, tmp_path, "spark", "csv", "-t", "-v")
    python = score(export, tmp_path, "python", "csv", "-t")
    assert spark_run[:2] == python[:2]
    assert "engine: spark" in spark_run[2] and "Python engine" not in spark_run[2]  # -v: Spark itself ran
    assert spark_run[2].splitlines()[-1] == python[2].splitlines()[-1] == "read 39, scored 37, rejected 2"


def test_what_spark_cannot_read_exactly_goes_to_python(spark, tmp_path):
    export = tmp_path / "short.csv"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:30]
    lines[5] = "006X-short,only two cells\n"
    export.write_text("".join(lines), encoding="utf-8")
    python = score(export, tmp_path, "python")
    spark_run = score(export, tmp_path, "spark")
    assert spark_run[:2] == python[:2]
    assert "the wrong number of cells" in spark_run[2] and "scoring with the Python engine" in spark_run[2]
    assert spark_run[2].splitlines()[-1] == python[2].splitlines()[-1] == "read 29, scored 28, rejected 1"


@pytest.fixture(scope="module")
def example_parquet(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    table = pa.table({name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(header)})
    path = tmp_path_factory.mktemp("parquet") / "deals.parquet"
    pq.write_table(table, path, row_group_size=150)
    return path


def test_parquet_export_gives_the_same_verdicts(spark, tmp_path, example_parquet):
    python = score(EXAMPLE, tmp_path, "python")
    spark_run = score(example_parquet, tmp_path, "spark")
    assert verdicts(spark_run[0]) == verdicts(python[0])
    lines = [int(r["line"]) for r in csv.DictReader(spark_run[0].decode().splitlines())]
    assert lines == sorted(lines) and lines[0] == 1  # a row's line is its position in the file
    assert spark_run[2].splitlines()[-1] == python[2].splitlines()[-1]


def test_parquet_output_written_by_spark(spark, tmp_path):
    python = score(EXAMPLE, tmp_path, "python", "json")
    out = tmp_path / "scored"
    result = CliRunner().invoke(
        main,
        [
            "score",
            *RULES,
            str(EXAMPLE),
            *AS_OF,
            "--engine",
            "spark",
            "--format",
            "parquet",
            "-o",
            str(out),
            "--rejects",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == python[2]  # the summary, from aggregates over what was written
    written = {r["id"]: r for r in spark.read.parquet(str(out)).collect()}
    deals = json.loads(python[0])["deals"]
    assert len(written) == len(deals)
    for deal in deals:
        row = written[deal["id"]]
        assert (
            row["verdict"],
            list(row["failed"]),
            str(row["weighted_amount"]) if row["weighted_amount"] is not None else None,
            row["line"],
        ) == (deal["verdict"], deal["failed"], deal["weighted_amount"], deal["line"])


def test_dealgate_sql_for_spark_runs_on_spark(spark, tmp_path):
    shown = CliRunner().invoke(
        main, ["sql", *RULES, "--dialect", "spark", "--table", "deals", "--like", str(EXAMPLE), *AS_OF]
    )
    assert shown.exit_code == 0, shown.output
    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    spark.createDataFrame(rows, ", ".join(f"`{name}` string" for name in header)).createOrReplaceTempView("deals")
    got = {r["id"]: r["verdict"] for r in spark.sql(shown.stdout.rstrip().rstrip(";")).collect()}
    python = score(EXAMPLE, tmp_path, "python")
    assert got == {k: v[0] for k, v in verdicts(python[0]).items()}


def test_without_pyspark_engine_spark_is_a_usage_error(monkeypatch):
    import engine.sql.spark_engine as spark_engine

    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)
    assert "pip install 'dealgate[spark]'" in spark_engine.spark_problem()
    result = CliRunner().invoke(main, ["score", *RULES, str(EXAMPLE), *AS_OF, "--engine", "spark"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "dealgate: --engine spark: the Spark engine needs pyspark" in result.stderr


def test_format_parquet_needs_spark_and_a_new_directory(tmp_path):
    for args in (["--format", "parquet", "-o", str(tmp_path / "x")], ["--engine", "spark", "--format", "parquet"]):
        result = CliRunner().invoke(main, ["score", *RULES, str(EXAMPLE), *AS_OF, *args])
        assert result.exit_code == 2, result.output


def test_spark_moves_the_progress_meter_through_its_stages(spark):
    """As `dealgate score --engine spark` runs on a terminal: the meter follows Spark's tasks to the end."""
    import datetime as dt
    import io
    import os

    from engine.pack import load_ruleset
    from engine.progress import Meter, metering
    from engine.sql.lines import line_expression, write
    from engine.sql.spark_engine import SCORING_SHARE, SparkScorer, TaskProgress

    ruleset, _ = load_ruleset([ROOT / "rules"])
    meter = Meter(total=os.path.getsize(EXAMPLE))
    spans, original = [], meter.following

    def following(probe, start, end):
        assert isinstance(probe, TaskProgress)
        spans.append((start, end))
        return original(probe, start, end)

    meter.following = following
    with metering(meter):
        scorer = SparkScorer(ruleset, dt.date(2026, 9, 30), spark=spark)
        assert scorer.follows_progress
        try:
            source = scorer.prepare(str(EXAMPLE))
            scorer.check_readable(source)
            scorer.run([source], line_expression("jsonl", ruleset, scorer.query.missing_criteria()))
            assert meter.done == int(SCORING_SHARE * meter.total)
            assert write("jsonl", io.StringIO(), scorer, None) > 0
        finally:
            scorer.close()
    assert spans == [(0.0, SCORING_SHARE), (SCORING_SHARE, 1.0)]
    assert meter.done == meter.total


class _Tracker:
    """A Spark status tracker as TaskProgress asks it: stages by id, each with tasks done of tasks."""

    def __init__(self):
        self.active: dict[int, tuple[int, int]] = {7: (1, 1)}  # a stage of earlier work

    def getActiveStageIds(self):
        return list(self.active)

    def getStageInfo(self, stage):
        done, tasks = self.active[stage]
        return type("Info", (), {"numCompletedTasks": done, "numTasks": tasks})()


def test_task_progress_counts_this_blocks_stages_and_never_goes_back():
    from engine.sql.spark_engine import TaskProgress

    tracker = _Tracker()
    probe = TaskProgress(tracker)
    assert probe() == -1.0  # only earlier work is running
    tracker.active = {7: (1, 1), 8: (2, 4)}
    assert probe() == 50.0
    tracker.active = {9: (0, 4)}  # stage 8 finished, the next one started: 4 of 8 tasks
    assert probe() == 50.0
    tracker.active = {9: (2, 4)}
    assert probe() == 75.0
    tracker.active = {10: (0, 100)}  # a big new stage: the figure does not go back
    assert probe() == 75.0
