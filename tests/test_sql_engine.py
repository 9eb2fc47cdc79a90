"""The DuckDB engine against the Python engine, end to end from the CLI: the same bytes.

Every case scores one export with ``--engine python`` and ``--engine duckdb`` and compares
the output file, the rejects file and the counts line (stderr's last line). The Python
engine is the reference; a difference is a bug in the SQL compiler.
"""

from __future__ import annotations

import shutil

import pytest
import sqlglot
from click.testing import CliRunner

from cli import main
from conftest import DATA, DATASETS, ROOT, dataset_file

AS_OF = "2026-09-30"
FORMATS = ("csv", "json", "jsonl", "table")


def score(tmp_path, engine: str, export, fmt: str, rules=ROOT / "rules", as_of=AS_OF, extra=()):
    out = tmp_path / f"{engine}.{fmt}"
    rejects = tmp_path / f"{engine}-rejects.csv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            str(export),
            "--rules",
            str(rules),
            "--engine",
            engine,
            "--as-of",
            as_of,
            "--format",
            fmt,
            "-o",
            str(out),
            "--rejects",
            str(rejects),
            *extra,
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return out.read_bytes(), rejects.read_bytes(), result.stderr.strip().splitlines()[-1], result


def assert_same(tmp_path, export, fmt="csv", rules=ROOT / "rules", as_of=AS_OF, extra=()):
    python = score(tmp_path, "python", export, fmt, rules, as_of, extra)
    duckdb = score(tmp_path, "duckdb", export, fmt, rules, as_of, extra)
    assert duckdb[2] == python[2], "counts line"
    assert duckdb[1] == python[1], "rejects file"
    if duckdb[0] != python[0]:
        left, right = python[0].decode().splitlines(), duckdb[0].decode().splitlines()
        differing = [(a, b) for a, b in zip(left, right) if a != b][:3]
        pytest.fail(f"{fmt} output differs ({len(left)} vs {len(right)} lines): {differing}")
    return duckdb[3]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_example_export_scores_to_the_same_bytes(tmp_path, fmt):
    result = assert_same(tmp_path, ROOT / "examples" / "deals.csv", fmt, extra=["-v"])
    assert "engine: duckdb" in result.stderr


def test_bad_rows_are_rejected_with_the_same_line_id_column_value_and_reason(tmp_path):
    export = tmp_path / "bad.csv"
    lines = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:40]
    rows[3] = rows[3].replace("Value Proposition", "Valu Proposition").replace("Qualification", "Qualificatio")
    rows[5] = rows[5].replace('"$', '"$x')
    rows[7] = "," + rows[7].split(",", 1)[1]  # a blank required id
    rows[9] = rows[9].replace("/2026", "/20x6", 1)
    rows.insert(12, ",,,,,,,,,,,,,,,,,,,,")  # a blank row: not a record at all
    export.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    assert_same(tmp_path, export, "csv")


def test_quoted_line_breaks_keep_their_physical_line_numbers(tmp_path):
    assert_same(tmp_path, DATA / "exports" / "multiline.csv", "jsonl")


def test_a_row_with_the_wrong_number_of_cells_sends_the_file_to_the_python_engine(tmp_path):
    export = tmp_path / "ragged.csv"
    lines = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()[:20]
    lines[4] = lines[4] + ",extra"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = assert_same(tmp_path, export, "csv")
    assert "scoring with the Python engine" in result.stderr


@pytest.mark.parametrize("broken_first", [True, False])
def test_a_file_duckdb_refuses_among_several_sends_them_all_to_python_once(tmp_path, broken_first):
    """DuckDB finds the bad file while scoring (no separate pass): no reject of the others is sent twice."""
    lines = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()[:20]
    good, ragged = list(lines), list(lines)
    good[3] = good[3].replace("Qualification", "Qualificatio")  # a reject in the file DuckDB reads
    ragged[4] = ragged[4] + ",extra"
    paths = [tmp_path / "good.csv", tmp_path / "ragged.csv"]
    for path, text in zip(paths, (good, ragged)):
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
    if broken_first:
        paths.reverse()
    results = {}
    for engine in ("python", "duckdb"):
        result = CliRunner().invoke(
            main,
            [
                "score",
                *map(str, paths),
                "--engine",
                engine,
                "--as-of",
                AS_OF,
                "--format",
                "csv",
                "-o",
                str(tmp_path / f"{engine}.csv"),
                "--rejects",
                str(tmp_path / f"{engine}-rejects.csv"),
            ],
        )
        assert result.exit_code == 0, result.output
        results[engine] = (
            result.stderr.strip().splitlines()[-1],
            (tmp_path / f"{engine}.csv").read_bytes(),
            (tmp_path / f"{engine}-rejects.csv").read_bytes(),
        )
    assert results["duckdb"] == results["python"]


def test_several_exports_and_tsv(tmp_path):
    text = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8")
    first, second = tmp_path / "a.csv", tmp_path / "b.tsv"
    first.write_text(text, encoding="utf-8")
    import csv as csv_module
    import io

    rows = list(csv_module.reader(io.StringIO(text)))[:50]
    buffer = io.StringIO()
    csv_module.writer(buffer, delimiter="\t", lineterminator="\n").writerows(rows)
    second.write_text(buffer.getvalue(), encoding="utf-8")
    for engine in ("python", "duckdb"):
        result = CliRunner().invoke(
            main,
            [
                "score",
                str(first),
                str(second),
                "--engine",
                engine,
                "--as-of",
                AS_OF,
                "--format",
                "csv",
                "-o",
                str(tmp_path / f"{engine}.csv"),
            ],
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "python.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()


@pytest.mark.parametrize("folder, export, as_of", DATASETS, ids=[d[0] for d in DATASETS])
def test_public_exports_with_their_packs(tmp_path, folder, export, as_of):
    source = dataset_file(folder, export)
    local = tmp_path / export  # the file name is part of the output ('file' column): same for both engines
    shutil.copy(source, local)
    for fmt in ("csv", "json"):
        assert_same(tmp_path, local, fmt, rules=ROOT / "examples" / folder, as_of=as_of)


def test_a_pack_with_division_is_refused_by_duckdb_and_run_by_python_under_auto(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    pipeline = pack / "pipeline.yaml"
    text = pipeline.read_text(encoding="utf-8")
    pipeline.write_text(
        text.replace(
            "when: coalesce(discount, 0) <= 0.15 or discount_approved",
            "when: coalesce(discount, 0) / 2 <= 0.075 or discount_approved",
        ),
        encoding="utf-8",
    )
    export = ROOT / "examples" / "deals.csv"
    refused = CliRunner().invoke(
        main, ["score", str(export), "--rules", str(pack), "--engine", "duckdb", "--as-of", AS_OF, "--format", "csv"]
    )
    assert refused.exit_code == 1
    assert "DG701" in refused.stderr and "discount_approval" in refused.stderr and "pipeline.yaml:" in refused.stderr
    auto = CliRunner().invoke(
        main,
        ["score", str(export), "--rules", str(pack), "--engine", "auto", "-v", "--as-of", AS_OF, "--format", "csv"],
    )
    assert auto.exit_code == 0 and "engine: python" in auto.stderr


# dealgate sql


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "snowflake", "bigquery", "postgres"])
def test_every_dialect_parses_back(dialect):
    result = CliRunner().invoke(main, ["sql", "--dialect", dialect, "--table", "crm.deals", "--view", "gates"])
    assert result.exit_code == 0, result.output
    assert sqlglot.parse(result.stdout, read=dialect)
    rejects = CliRunner().invoke(main, ["sql", "--dialect", dialect, "--table", "crm.deals", "--rejects"])
    assert rejects.exit_code == 0 and sqlglot.parse(rejects.stdout, read=dialect)


def test_the_duckdb_query_run_on_a_table_gives_the_verdicts_of_score(tmp_path):
    import csv
    import json

    import duckdb

    export = ROOT / "examples" / "deals.csv"
    text = CliRunner().invoke(main, ["sql", "--table", "deals", "--like", str(export), "--as-of", AS_OF]).stdout
    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE deals AS SELECT * FROM read_csv('{export}', all_varchar=true)")
    rows = connection.execute(text.rstrip().rstrip(";")).fetchall()
    verdicts = {row[0]: row[4] for row in rows}
    scored = json.loads(
        CliRunner()
        .invoke(main, ["score", str(export), "--engine", "python", "--as-of", AS_OF, "--format", "json"])
        .stdout
    )
    assert verdicts == {d["id"]: d["verdict"] for d in scored["deals"]}
    rejects_sql = CliRunner().invoke(main, ["sql", "--table", "deals", "--like", str(export), "--rejects"]).stdout
    rejected = connection.execute(rejects_sql.rstrip().rstrip(";")).fetchall()
    python_rejects = CliRunner().invoke(
        main,
        [
            "score",
            str(export),
            "--engine",
            "python",
            "--as-of",
            AS_OF,
            "--format",
            "csv",
            "--rejects",
            str(tmp_path / "r.csv"),
            "-o",
            str(tmp_path / "o.csv"),
        ],
    )
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as handle:
        assert sorted((r["column"], r["value"], r["reason"]) for r in csv.DictReader(handle)) == sorted(rejected)
    with open(export, encoding="utf-8", newline="") as handle:
        assert len(rows) + len(rejected) == sum(1 for _ in csv.DictReader(handle))
    assert python_rejects.exit_code == 0


def test_the_example_export_as_parquet_scores_like_the_csv(tmp_path):
    import duckdb

    parquet = tmp_path / "deals.parquet"
    export = ROOT / "examples" / "deals.csv"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{export}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
    )
    python = score(tmp_path, "python", export, "csv")
    sql = score(tmp_path, "duckdb", parquet, "csv")
    assert sql[2] == python[2]

    def without_file_and_line(text: bytes) -> list:
        return [line.split(",", 2)[2] for line in text.decode().splitlines()[1:]]

    assert without_file_and_line(sql[0]) == without_file_and_line(python[0])
    python_rejects = [r.split(",", 1)[1] for r in python[1].decode().splitlines()[1:]]
    sql_rejects = [r.split(",", 1)[1] for r in sql[1].decode().splitlines()[1:]]
    assert sql_rejects == python_rejects
    refused = CliRunner().invoke(main, ["score", str(parquet), "--engine", "python", "--as-of", AS_OF])
    assert refused.exit_code == 2 and "only the SQL engines read" in refused.stderr
    for source, engine in ((parquet, "duckdb"), (export, "python")):  # auto: DuckDB for Parquet only
        auto = CliRunner().invoke(main, ["score", str(source), "-v", "--as-of", AS_OF, "--format", "csv"])
        assert auto.exit_code in (0, 1) and f"engine: {engine}" in auto.stderr, auto.stderr


def test_windows_line_endings(tmp_path):
    export = tmp_path / "crlf.csv"
    text = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8")
    export.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert_same(tmp_path, export, "csv")
