"""Issue 10, item 5: a declared number locale (``decimal_mark: ","``) reads a European export exactly.

A money or decimal field with a decimal comma reads '1.234,56', '1234,56', '€1.234,56' and
'1 234,56' (space, no-break space or narrow no-break space grouping) as 1234.56, and refuses what
does not fit that one declared format ('1,234.56', '1.23.4'), with its reason. Every engine reads
alike: the Python reader (and its fast paths) is the reference, DuckDB and Spark are held to it
cell by cell, and the German CRM export in tests/data/european is scored the same by each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine import types as T
from engine.model import Field
from engine.pack import load_ruleset, read_pack
from engine.sql.coerce import read_cell
from engine.sql.fastpath import fast_cell
from engine.values import ValueProblem, coerce, parse_money, text_converter

ROOT = Path(__file__).resolve().parent.parent
EUROPEAN = ROOT / "tests" / "data" / "european"
NNBSP, NBSP = "\u202f", "\u00a0"

EURO = Field("amount", T.MONEY, currency="EUR", decimal_mark=",")
DOLLAR = Field("amount", T.MONEY, currency="USD", decimal_mark=",")
RATE = Field("rate", T.DECIMAL, decimal_mark=",")


# the Python reader


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("€1.234,56", "1234.56"),
        ("1.234,56 €", "1234.56"),
        ("1 234,56", "1234.56"),
        (f"1{NBSP}234{NBSP}567,8", "1234567.8"),
        (f"1{NNBSP}234,56{NNBSP}€", "1234.56"),
        ("EUR 1.234,56", "1234.56"),
        ("1.234,56 EUR", "1234.56"),
        ("-1.234,56 €", "-1234.56"),
        ("€ -5", "-5"),
        ("(1.234,56)", "-1234.56"),
        ("1.234", "1234"),  # a point groups thousands here, by declaration
        ("1,5", "1.5"),
        (",5", "0.5"),
        ("1,5E+3", "1500"),
        ("€ -", "0"),
        ("1.234.567,891234", "1234567.891234"),
    ],
)
def test_a_comma_field_reads_european_amounts(text, amount):
    assert parse_money(text, "EUR", ",") == Decimal(amount)
    assert text_converter(T.MONEY, currency="EUR", decimal_mark=",")(text) == Decimal(amount)  # the fast path too
    assert coerce(T.MONEY, text, currency="EUR", decimal_mark=",") == Decimal(amount)


GROUPING = "is not an amount (the decimal mark is ','; '.' or a space may only separate thousands)"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("1,234.56", GROUPING),  # a US amount in a European field: refused, not read as 1.23456
        ("1.23.4", GROUPING),
        ("1.2345,6", GROUPING),
        ("12.34", GROUPING),
        ("1 5", GROUPING),
        ("1 234.567,00", GROUPING),  # one kind of grouping in a number
        ("1  234", "is not an amount (a space or currency sign inside the number)"),
        ("12€345", "is not an amount (a space or currency sign inside the number)"),
        ("1\u2009234", "is not an amount (a space or currency sign inside the number)"),  # a thin space groups nothing
        ("1,2,3", "is not an amount"),
        ("1_234", "is not an amount"),
        ("$1.234,56", "is in $, not EUR"),
        ("USD 5.000", "is in USD, not EUR"),
        ("12.345.678.901.234.567,8", "is too large for an amount"),
        ("1,1234567", "has too many decimal places (at most 6)"),
    ],
)
def test_a_comma_field_refuses_what_is_not_its_format(text, reason):
    for read in (lambda t: parse_money(t, "EUR", ","), text_converter(T.MONEY, currency="EUR", decimal_mark=",")):
        with pytest.raises(ValueProblem) as problem:
            read(text)
        assert str(problem.value) == f"'{text}' {reason}"


def test_the_default_decimal_mark_is_the_point_as_before():
    assert parse_money("1,234.56", "USD") == Decimal("1234.56")
    with pytest.raises(ValueProblem, match="a comma may only separate thousands"):
        parse_money("1.234,56", "USD")
    with pytest.raises(ValueProblem, match="a space or currency sign inside the number"):
        parse_money("1 234", "USD")


def test_a_decimal_field_reads_the_same_grammar():
    read = text_converter(T.DECIMAL, decimal_mark=",")
    assert (
        read("0,25") == Decimal("0.25")
        and read("1.000,5") == Decimal("1000.5")
        and read("1 000,5") == Decimal("1000.5")
    )
    for text in ("0.25", "1_000", "€5"):
        with pytest.raises(ValueProblem):
            read(text)


# the SQL engines, cell by cell


TEXTS = [
    "1.234,56",
    "1234,56",
    "€1.234,56",
    "1.234,56 €",
    "1 234,56",
    f"1{NBSP}234{NBSP}567,8",
    f"1{NNBSP}234,56{NNBSP}€",
    "EUR 1.234,56",
    "1.234,56 EUR",
    "-1.234,56 €",
    "€ -5",
    "(1.234,56)",
    "( 1 234 )",
    "- 1 234,56 €",
    "-€ 5",
    "1.234",
    "1,5",
    ",5",
    "5,",
    "-0,0",
    "1,5E+3",
    "€ -",
    "$ -",
    "1,234.56",
    "1.23.4",
    "1 5",
    "1 234.567,00",
    "1  234",
    "12€345",
    "1,2,3",
    "1_234",
    "_",
    "$1.234,56",
    "USD 5.000",
    "1.234.567.890.123.456,7",
    "1,1234567",
    "99.999.999.999.999,999999",
    "٣,٥",
    "1 234\u2009567",
    "",
    " ",
    None,
]


def python_cell(field: Field, text):
    """(value, problem) as the reader gives them for one cell (blank: null, no problem)."""
    if text is None or not text.strip():
        return None, None
    try:
        return text_converter(field.type, **field.reading())(text), None
    except ValueProblem as problem:
        return None, str(problem)


def sql_cells(db, field: Field, texts: list) -> list:
    cell = read_cell(field, exp.column("c"))
    cells = "(SELECT unnest($1) AS c, unnest($2) AS i)"
    sql = f"SELECT {cell.value.sql('duckdb')}, {cell.problem.sql('duckdb')} FROM {cells} ORDER BY i"
    return db.execute(sql, [texts, list(range(len(texts)))]).fetchall()


def assert_alike(field: Field, texts: list, rows: list) -> None:
    for text, (value, problem) in zip(texts, rows):
        expected_value, expected_problem = python_cell(field, text)
        assert problem == expected_problem, (field, text)
        assert (value is None and expected_value is None) or Decimal(expected_value) == value, (field, text, value)


@pytest.fixture(scope="module")
def db():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("field", [EURO, DOLLAR, RATE], ids=["EUR", "USD", "decimal"])
def test_duckdb_reads_each_cell_as_python(db, field):
    assert_alike(field, TEXTS, sql_cells(db, field, TEXTS))


PARTS = st.sampled_from(list("0123456789,.-+()$€_ eE") + [NBSP, NNBSP, "\u2009", "\t", "EUR", "USD"])
CELLS = st.lists(PARTS, max_size=12).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([EURO, DOLLAR, RATE]), st.lists(CELLS, max_size=40))
def test_random_cells_read_alike_in_duckdb(db, field, texts):
    assert_alike(field, texts, sql_cells(db, field, texts))


@pytest.mark.parametrize("field", [EURO, RATE], ids=["money", "decimal"])
def test_the_sql_fast_path_is_the_exact_reading(db, field):
    """Where the SQL engines' fast test holds ('1234,56'), its value is Python's."""
    texts = ["1234,56", "-5", "0,5", "5,", "1.234", "1.234,5", "12345678901234567", "1,1234567", "-0,000001"]
    test, value = fast_cell(field, exp.column("c"), None)
    guarded = f"CASE WHEN {test.sql('duckdb')} THEN {value.sql('duckdb')} END"  # as the engines use it
    sql = f"SELECT {test.sql('duckdb')}, {guarded} FROM (SELECT unnest($1) AS c, unnest($2) AS i) ORDER BY i"
    fast = db.execute(sql, [texts, list(range(len(texts)))]).fetchall()
    taken = [text for text, (holds, _) in zip(texts, fast) if holds]
    assert taken == ["1234,56", "-5", "0,5", "-0,000001"]
    for text, (holds, read) in zip(texts, fast):
        if holds:
            assert read == python_cell(field, text)[0], text


def test_spark_reads_each_cell_as_python(spark):
    for field in (EURO, RATE):
        cell = read_cell(field, exp.column("c"))
        frame = spark.createDataFrame(list(enumerate(TEXTS)), "i INT, c STRING")
        frame.createOrReplaceTempView("cells")
        query = f"SELECT {cell.value.sql('spark')} AS v, {cell.problem.sql('spark')} AS p FROM cells ORDER BY i"
        rows = [(row["v"], row["p"]) for row in spark.sql(query).collect()]
        assert_alike(field, TEXTS, rows)


@pytest.mark.parametrize("dialect", ["spark", "snowflake", "bigquery", "postgres"])
def test_other_dialects_print_sql_that_parses_back(dialect):
    """`dealgate sql` writes the same reading for a warehouse: it must be SQL its dialect reads."""
    import sqlglot

    for field in (EURO, RATE):
        cell = read_cell(field, exp.column("c"))
        for tree in (cell.value, cell.problem):
            assert sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect) is not None


# the round trip: any amount, written as a European export writes it, reads back as itself


def european(amount: Decimal, group: str, style: str) -> str:
    """``amount`` as a comma-mark locale writes it: grouped by ``group`` (or not), decorated by ``style``."""
    sign, digits = ("-" if amount < 0 else ""), format(abs(amount), "f")
    whole, _, fraction = digits.partition(".")
    if group:
        head = len(whole) % 3 or 3
        whole = group.join([whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)])
    number = whole + ("," + fraction if fraction else "")
    if style == "parentheses" and sign:
        return f"({number})"
    return {
        "plain": "{s}{n}",
        "prefix": "{s}€{n}",
        "suffix": "{s}{n} €",
        "code": "EUR {s}{n}",
        "parentheses": "{s}{n}",
    }[style].format(s=sign, n=number)


AMOUNTS = st.decimals(min_value=-(10**15) + 1, max_value=10**15 - 1, places=2, allow_nan=False)
WRITTEN = st.tuples(
    AMOUNTS,
    st.sampled_from(["", ".", " ", NBSP, NNBSP]),
    st.sampled_from(["plain", "prefix", "suffix", "code", "parentheses"]),
)


@settings(max_examples=200, deadline=None)
@given(WRITTEN)
def test_any_amount_written_in_the_locale_reads_back_in_python(written):
    amount, group, style = written
    assert parse_money(european(amount, group, style), "EUR", ",") == amount


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(WRITTEN, min_size=1, max_size=40))
def test_any_amount_written_in_the_locale_reads_back_in_duckdb(db, batch):
    texts = [european(*written) for written in batch]
    rows = sql_cells(db, EURO, texts)
    assert [value for value, _ in rows] == [amount for amount, _, _ in batch], texts
    assert all(problem is None for _, problem in rows)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(WRITTEN, min_size=20, max_size=60))
def test_any_amount_written_in_the_locale_reads_back_in_spark(spark, batch):
    texts = [european(*written) for written in batch]
    cell = read_cell(EURO, exp.column("c"))
    spark.createDataFrame(list(enumerate(texts)), "i INT, c STRING").createOrReplaceTempView("cells")
    rows = spark.sql(f"SELECT {cell.value.sql('spark')} AS v FROM cells ORDER BY i").collect()
    assert [row["v"] for row in rows] == [amount for amount, _, _ in batch], texts


# the option, checked


def write_fields(tmp_path, fields: str) -> Path:
    pack = tmp_path / "rules"
    pack.mkdir()
    (pack / "fields.yaml").write_text(fields, encoding="utf-8")
    (pack / "pipeline.yaml").write_text(
        "kind: pipeline\nstages:\n  - id: open\n    probability: 0.5\n"
        "    exit:\n      - {id: big, when: 'amount > 10'}\n",
        encoding="utf-8",
    )
    return pack


def test_a_decimal_mark_that_is_not_a_point_or_a_comma_is_an_error_at_its_place(tmp_path):
    pack = write_fields(
        tmp_path,
        "kind: fields\nfields:\n  id: {type: string, required: true}\n  stage: {type: stage, required: true}\n"
        "  amount: {type: money, decimal_mark: ';'}\n",
    )
    (problem,) = [d for d in read_pack([pack]).diagnostics if d.is_error]
    assert (problem.code, problem.line) == ("DG104", 5)
    assert "expected one of: ., ," in problem.message


def test_a_decimal_mark_on_a_field_that_reads_none_is_a_warning(tmp_path):
    pack = write_fields(
        tmp_path,
        "kind: fields\ndecimal_mark: ','\nfields:\n  id: {type: string, required: true}\n"
        "  stage: {type: stage, required: true}\n  amount: {type: money}\n"
        "  years: {type: integer, decimal_mark: '.', check_only: true}\n",
    )
    found = [(d.code, d.line, d.message) for d in read_pack([pack]).diagnostics if d.code == "DG311"]
    assert found == [("DG311", 7, "'decimal_mark' has no effect on integer field 'years'")]


def test_defaults_test_deals_and_records_read_the_declared_mark():
    ruleset, _ = load_ruleset([EUROPEAN / "rules"])
    deal = ruleset.record({"id": "X", "stage": "Angebot", "amount": "1.234,56 €", "discount": "0,1"})
    assert (deal["amount"], deal["discount"]) == (Decimal("1234.56"), Decimal("0.1"))
    with pytest.raises(ValueProblem, match="amount: '1,234.56' is not an amount"):
        ruleset.record({"id": "X", "stage": "Angebot", "amount": "1,234.56"})


# end to end: the German CRM export, every engine


def score(engine: str) -> tuple[list, str]:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "score", str(EUROPEAN / "deals.csv"), "--rules", str(EUROPEAN / "rules")]
        + ["--delimiter", ";", "--as-of", "2026-09-30", "--format", "jsonl", "--engine", engine],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_the_german_export_scores_with_its_amounts():
    deals, log = score("python")
    amounts = {d["id"]: d["amount"] for d in deals}
    assert amounts == {
        "DE-1001": "1234.56",
        "DE-1002": "12500.00",
        "DE-1003": "48000.00",  # narrow no-break space grouping
        "DE-1004": "250000.00",
        "DE-1005": "999.99",
        "DE-1006": "7300.50",
        "DE-1007": "-1200.00",
    }
    assert f"deals.csv:9: column 'Betrag' rejected: '1,234.56' {GROUPING}" in log
    assert f"deals.csv:10: column 'Betrag' rejected: '1.23.4' {GROUPING}" in log
    assert "deals.csv:11: column 'Betrag' rejected: 'USD 5.000' is in USD, not EUR" in log
    assert "deals.csv:13: column 'Rabatt' rejected: '1.5' is not a number" in log
    assert log.splitlines()[-1] == "read 12, scored 7, rejected 5"


def test_the_german_export_scores_alike_in_duckdb():
    assert score("duckdb") == score("python")


def test_the_german_export_scores_alike_in_spark(spark):
    deals, log = score("spark")
    expected, expected_log = score("python")
    assert deals == expected
    assert [line for line in log.splitlines() if "rejected" in line] == [
        line for line in expected_log.splitlines() if "rejected" in line
    ]
