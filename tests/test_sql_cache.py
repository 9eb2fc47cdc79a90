"""engine.sql.cache: the DuckDB engine's compiled SQL, kept between runs.

A cached text must be used only where it is exactly what compiling again would give:
the same pack, code, header, format and as-of date. Paths and names are placeholders.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from conftest import ROOT
from engine.pack import load_ruleset
from engine.sql.cache import SqlCache, cache_dir
from engine.sql.duckdb_engine import DuckDBScorer
from engine.sql.lines import line_expression

AS_OF = dt.date(2026, 6, 30)
HEADER = (
    "Opportunity ID,Opportunity Name,Opportunity Owner,Account Name,Stage,Amount,Close Date,"
    "Last Stage Change Date,Budget Confirmed,Compelling Event\n"
)
ROW = 'OPP-{n},Deal {n},Ann,Acme,Qualification,"$1,000.00",03/31/2026,2026-06-01,TRUE,Launch\n'


def export(path, rows=3):
    path.write_text(HEADER + "".join(ROW.format(n=n) for n in range(rows)), encoding="utf-8")
    return str(path)


def score(rules, path, directory, fmt="csv"):
    """(SQL text, cached files, output lines) of one run of the DuckDB engine on ``path``."""
    ruleset, _ = load_ruleset([rules])
    scorer = DuckDBScorer(ruleset, AS_OF)
    scorer.cache = SqlCache(ruleset, directory)
    try:
        source = scorer.prepare(path)
        scorer.check_readable(source)
        text = line_expression(fmt, ruleset, scorer.query.missing_criteria())
        sql = scorer.scoring_sql(source, 0, True, text)
        scorer.run([source], text)
        lines = [
            row[0]
            for row in scorer.connection.execute("SELECT text FROM dealgate_scored ORDER BY position, line").fetchall()
        ]
    finally:
        scorer.close()
    return sql, sorted(p.name for p in directory.glob("*.sql")), lines


@pytest.fixture
def rules(tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", copy, ignore=shutil.ignore_patterns("tests"))  # its cases pin the figures
    return copy


def test_the_second_run_reads_the_text_the_first_one_wrote(tmp_path, rules):
    directory = tmp_path / "cache"
    path = export(tmp_path / "a.csv")
    first = score(rules, path, directory)
    assert len(first[1]) == 1
    (directory / first[1][0]).write_text((directory / first[1][0]).read_text() + " -- from the cache")
    second = score(rules, path, directory)
    assert second[0].endswith("-- from the cache")
    assert second[2] == first[2]


def test_another_export_of_the_same_shape_shares_the_text_with_its_own_path(tmp_path, rules):
    directory = tmp_path / "cache"
    first = score(rules, export(tmp_path / "a.csv"), directory)
    other = tmp_path / "it's b.csv"  # a quote in the path: the literal is made by the printer
    second = score(rules, export(other, rows=2), directory)
    assert second[1] == first[1]
    assert str(other).replace("'", "''") in second[0] and "a.csv" not in second[0]
    assert len(second[2]) == 2 and second[2][0].startswith(str(other) + ",")


def test_a_changed_rule_file_is_a_new_key(tmp_path, rules):
    directory = tmp_path / "cache"
    path = export(tmp_path / "a.csv")
    before = score(rules, path, directory)
    pipeline = rules / "pipeline.yaml"
    text = pipeline.read_text(encoding="utf-8")
    assert "probability: 0.10" in text
    pipeline.write_text(text.replace("probability: 0.10", "probability: 0.15", 1), encoding="utf-8")
    after = score(rules, path, directory)
    assert len(after[1]) == 2
    assert after[0] != before[0]
    assert after[2] != before[2]  # the new probability is in the lines


def test_format_and_as_of_are_part_of_the_key(tmp_path, rules):
    directory = tmp_path / "cache"
    path = export(tmp_path / "a.csv")
    score(rules, path, directory, "csv")
    score(rules, path, directory, "jsonl")
    ruleset, _ = load_ruleset([rules])
    cache = SqlCache(ruleset, directory)
    assert len({cache.key("x", AS_OF.isoformat()), cache.key("x", "2026-07-01")}) == 2
    assert len(list(directory.glob("*.sql"))) == 2


def test_caching_off(monkeypatch, tmp_path, rules, default_ruleset):
    monkeypatch.setenv("DEALGATE_CACHE_DIR", "off")
    assert cache_dir() is None
    cache = SqlCache(default_ruleset)
    assert cache.key("anything") is None and cache.load(None) is None
    cache.store(None, "SELECT 1")
    monkeypatch.setenv("DEALGATE_CACHE_DIR", str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here"


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, rules):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    sql, files, lines = score(rules, export(tmp_path / "a.csv"), blocker / "cache")
    assert lines and files == []


def test_the_crediting_query_is_cached_too(tmp_path, monkeypatch):
    """A second payout of an export of the same shape builds nothing: it reads the cached text."""
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("DEALGATE_CACHE_DIR", str(tmp_path / "cache"))
    first, second = export(tmp_path / "a.csv"), export(tmp_path / "b.csv", rows=5)
    outputs = []
    for path in (first, second):
        result = CliRunner().invoke(
            main,
            [
                "payout",
                path,
                "--reps",
                str(ROOT / "examples" / "reps.csv"),
                "--period",
                "2026-Q1",
                "--as-of",
                "2026-06-30",
                "--format",
                "json",
                "--engine",
                "duckdb",
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(sorted(p.name for p in (tmp_path / "cache").rglob("*.sql")))
    assert len(outputs[0]) == 2, "the DG701 check and the crediting query"
    assert outputs[1] == outputs[0]
