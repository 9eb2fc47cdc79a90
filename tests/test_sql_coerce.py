"""engine.sql.coerce: export cells read in SQL exactly as the Python reader reads them.

Every case runs the generated SQL on DuckDB and compares (value, problem) with what
the CSV reader's rules give in Python (``text_converter`` plus blank, default and
required handling, as ``ExportReader._compile_row`` does). A few run on Spark too.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine import types as T
from engine.model import Field
from engine.sql import textops as sqltext
from engine.sql.coerce import Unsupported, literal, read_cell
from engine.sql.types import sql_type
from engine.values import ValueProblem, text_converter

STAGES = {
    "closed won": "closed_won",
    "closed_won": "closed_won",
    "qualification": "discovery",
    "discovery": "discovery",
    "gewonnen": "closed_won",
    "i̇stanbul": "discovery",
    "kelvin": "discovery",
}
DATE_FORMATS = [
    ("%m/%d/%Y", "%m/%d/%y"),
    ("%d %b %Y",),
    ("%B %d, %Y",),
    ("%m/%d/%Y %I:%M %p",),
    ("%x",),
    ("%c",),
    ("%Y-%m-%dT%H:%M:%S",),
    ("%d.%m.%Y", "%A %d %B %Y"),
]


# running both sides


def python_cell(field: Field, text: str | None, stages=STAGES, default=None):
    """(value, problem) as ExportReader._compile_row gives them for one CSV cell."""
    text = text or ""
    convert = text_converter(field.type, stages=stages, **field.reading())
    blank = not text.strip()
    if blank:
        if field.required and default is None:
            return None, f"missing required field '{field.name}'"
        return default, None
    try:
        return (text.strip() if field.type == T.STRING else convert(text)), None
    except ValueProblem as problem:
        return None, str(problem)


_SQL_CACHE: dict = {}


def cell_sql(field: Field, stages, default, dialect="duckdb") -> str:
    key = (field, tuple(sorted((stages or {}).items())), repr(default), dialect)
    if key not in _SQL_CACHE:
        cell = read_cell(field, exp.column("c"), stages=stages, default=default)
        _SQL_CACHE[key] = f"{cell.value.sql(dialect=dialect)} AS value, {cell.problem.sql(dialect=dialect)} AS problem"
    return _SQL_CACHE[key]


@pytest.fixture(scope="module")
def db():
    connection = duckdb.connect()
    yield connection
    connection.close()


def duckdb_cells(db, field: Field, texts: list, stages=STAGES, default=None) -> list:
    sql = f"SELECT {cell_sql(field, stages, default)} FROM (SELECT unnest($1) AS c, unnest($2) AS i) ORDER BY i"
    return db.execute(sql, [texts, list(range(len(texts)))]).fetchall()


def same(type_: str, python, sql) -> bool:
    if type_ == T.LIST and python is not None and sql is not None:
        return tuple(python) == tuple(sql)
    if type_ in (T.MONEY, T.DECIMAL) and python is not None and sql is not None:
        return Decimal(python) == sql  # exact: DECIMAL(22, 6) holds every readable value
    if python is None or sql is None:
        return python is sql
    return type(python) is type(sql) and python == sql


def check(db, field: Field, texts: list, stages=STAGES, default=None):
    results = duckdb_cells(db, field, texts, stages, default)
    for text, (value, problem) in zip(texts, results):
        expected_value, expected_problem = python_cell(field, text, stages, default)
        assert problem == expected_problem, (field.type, text)
        assert same(field.type, expected_value, value), (field.type, text, expected_value, value)


# everyday formats and nasty ones, per type


MONEY_TEXTS = [
    "431370",
    " $431,370 ",
    "$12,500.00",
    "1,234.50",
    "12,34,567.25",
    "-$5",
    "$-5",
    "(1,200)",
    "$(1,200.50)",
    "($1,200.50)",
    "USD 250",
    "250 EUR",
    "€99.90",
    "1.5E+6",
    "0.10",
    "\u00a0$7\u00a0",
    "$-",
    "$ -",
    "-",
    " $-   ",
    "(-)",
    "TBD",
    "$",
    "()",
    "(-5)",
    "1,23",
    "1.234,50",
    "1_000",
    "NaN",
    "Infinity",
    "1e99",
    "12%",
    "x" * 500,
    "a\nb",
    "١٢٣",
    "$１,２００",
    "1.1234567",
    "1e-7",
    "1e99999999999999999999",
    "0E+99999999999999999999",
    "JPY 150000",
    "1 5",
    "12€345",
    "€1.500",
    "USD",
    "USDEUR",
    "ABC5DEF",
    "USD-5",
    "5USD",
    "5 usd",
    "(5)USD",
    "USD(5)",
    "+5",
    "+.5",
    "5.",
    ".",
    "1e",
    "1e+",
    "-0",
    "9999999999999999",
    "10000000000000000",
    "0.000001",
    "1,234,567,890,123,456",
    "\t$1\r\n",
    "'5'",
    '"5"',
    "1,000e3",
    "0x1F",
    "1\u20095",
    "$\u30001",
]
NUMBER_TEXTS = [
    "0.25",
    " 1,234.5 ",
    "$5",
    "20%",
    "nan",
    "3",
    " 12 ",
    "1,000",
    "1.0",
    "1e3",
    "-4",
    "1.5",
    "three",
    "1_000",
    "1" * 30,
    "9" * 5000,
    "5.0000000",
    "٣",
    "0.٥",
    "+7",
    "-0.0",
    "1E+15",
    "1e16",
    "0e-7",
    "9999999999999999.5",
    "0000000000000000000001",
    "1.000001",
    "1.0000001",
]
BOOL_TEXTS = [
    "TRUE",
    "false",
    "Y",
    "n",
    "1",
    "0",
    "yes",
    "No",
    "T",
    "f",
    "maybe",
    " tRuE ",
    "ye",
    "yes!",
    "\u00a0y\u3000",
    "ſ",
    "truE",
    "FALSE",
    "0.0",
    "on",
]
STAGE_TEXTS = [
    "Closed Won",
    " closed won ",
    "CLOSED_WON",
    "Qualification",
    "Foo",
    "GEWONNEN",
    "İstanbul",
    "i\u0307stanbul",
    "istanbul",
    "KELVIN",
    "\u212aelvin",
    "closed  won",
    "x" * 70,
]
LIST_TEXTS = ["a; b ;;c", "a", ";", " ; ; ", "a;b;", "x\u00a0;\u3000y"]
DATE_TEXTS = [
    "03/31/2026",
    "3/1/2026",
    "2026-03-31",
    "02/03/24",
    "02/30/2026",
    "02/29/2025",
    "02/29/2024",
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "31/03/2026",
    "03/31/2026 extra",
    "20260301",
    "2024-01-22T16:14:25.000+0000",
    "2024-01-22T23:30:00Z",
    "2024-01-22 23:30:00-08:00",
    "2024-01-22T24:00",
    "2024-01-22T16:14:60",
    "2024-01-22T16:14z",
    "٢٠٢٤-٠١-٠٥",
    "٠١/٠٥/٢٠٢٤",
    "5 Sep 2024",
    "5 SEP 2024",
    "5 ſep 2024",
    "05 sep 2024",
    "31 Feb 2024",
    "September 5, 2024",
    "SEPTEMBER  5,\u00a02024",
    "May 1, 2024",
    "02/23/2026 08:55 PM",
    "02/23/2026 8:55 am",
    "02/23/2026 08:61 PM",
    "2024-01-22T16:14:25",
    "2024-01-22T16:14:61",
    "22.01.2024",
    "Monday 22 January 2024",
    "MONDAY 22 JANUARY 2024",
    "Funday 22 January 2024",
    " 1/ 5/2024",
    "12/ 5/2024",
    "1/ 5/2024",
    "13/01/2024",
    "00/10/2024",
]


@pytest.mark.parametrize(
    "type_, texts",
    [
        (T.MONEY, MONEY_TEXTS),
        (T.DECIMAL, NUMBER_TEXTS),
        (T.INT, NUMBER_TEXTS),
        (T.MONEY, NUMBER_TEXTS),
        (T.BOOL, BOOL_TEXTS),
        (T.STAGE, STAGE_TEXTS),
        (T.LIST, LIST_TEXTS),
        (T.STRING, STAGE_TEXTS + LIST_TEXTS),
    ],
)
def test_cells_read_as_python_reads_them(db, type_, texts):
    check(db, Field("f", type_), texts + [None, "", " ", "\u00a0\u2029"])


@pytest.mark.parametrize("formats", DATE_FORMATS + [()])
def test_dates_read_as_python_reads_them(db, formats):
    check(db, Field("f", T.DATE, formats=formats), DATE_TEXTS + [None, ""])


def test_stage_without_a_table_is_the_stripped_text(db):
    check(db, Field("f", T.STAGE), [" Closed Won ", "x"], stages=None)


def test_list_separators(db):
    check(db, Field("f", T.LIST, separator="|"), ["a| b ||c", "a;b", "|"])
    check(db, Field("f", T.LIST, separator=" "), ["a b", "  a  ", "a\u00a0b"])
    check(db, Field("f", T.LIST, separator="::"), ["a::b:::c", "::"])


@pytest.mark.parametrize(
    "type_, default",
    [
        (T.MONEY, Decimal("12.50")),
        (T.DECIMAL, Decimal("0.000001")),
        (T.INT, 7),
        (T.BOOL, False),
        (T.DATE, dt.date(2026, 1, 1)),
        (T.STRING, "n/a"),
        (T.STAGE, "discovery"),
        (T.LIST, ("a", "b")),
        (T.LIST, ()),
    ],
)
def test_blank_cells_take_the_default(db, type_, default):
    field = Field("f", type_, required=True)
    check(db, field, [None, "", " \t", "\u3000"], default=default)


@pytest.mark.parametrize("type_", sorted(T.FIELD_TYPES))
def test_blank_required_cells_are_missing(db, type_):
    field = Field("close_date", type_, required=True)
    for value, problem in duckdb_cells(db, field, [None, "", " "]):
        assert (value, problem) == (None, "missing required field 'close_date'")


def test_messages_quote_as_python_does(db):
    texts = ["é" * 59 + "\t", "é" * 60, "é" * 61, "😀" * 70, "a\r\nb", "tab\there"]
    check(db, Field("f", T.MONEY), texts)
    check(db, Field("f", T.STAGE), texts)


@pytest.mark.parametrize(
    "fmt",
    [
        "%j/%Y",
        "%U %Y %m %d",
        "%m/%d/%Y %z",
        "%G-%V-%u",
        "%w %Y %m %d",
        "%Y %m %d %Z",
        "%d/%m/%Y/%d",
        "%Y %y %m %d",
        "%q",
    ],
)
def test_formats_that_cannot_be_exact_are_unsupported(fmt):
    with pytest.raises(Unsupported) as caught:
        read_cell(Field("f", T.DATE, formats=(fmt,)), exp.column("c"))
    assert caught.value.feature


def test_greek_sigma_in_a_stage_label_is_unsupported():
    with pytest.raises(Unsupported):
        read_cell(Field("f", T.STAGE), exp.column("c"), stages={"σύμβαση": "closed_won"})


def test_user_data_is_in_literals_not_sql_text():
    stages = {"it's'); drop table x; --": "closed_won"}
    cell = read_cell(Field("f", T.STAGE, default="closed_won"), exp.column("c"), stages=stages, default="closed_won")
    for tree in (cell.value, cell.problem):
        assert sqlglot.parse_one(tree.sql(dialect="duckdb"), read="duckdb") is not None


# the Python tables the SQL classes are built from


def test_no_case_mappings_beyond_the_cased_limit():
    import _sre

    assert all(
        c.lower() == c and c.upper() == c and c.casefold() == c and _sre.unicode_tolower(ord(c)) == ord(c)
        for c in map(chr, range(sqltext.CASED_LIMIT, sys.maxunicode + 1))
    )


@pytest.mark.parametrize("char", ["s", "k", "i", "a", "µ", "t"])
def test_ignorecase_classes_are_pythons(char):
    pattern = re.compile(re.escape(char), re.IGNORECASE)
    assert sqltext.ignorecase_chars(char) == "".join(
        c for c in map(chr, range(sqltext.CASED_LIMIT)) if pattern.fullmatch(c)
    )


def test_whitespace_is_pythons():
    assert all(c.isspace() == (c in sqltext.whitespace()) for c in map(chr, range(sys.maxunicode + 1)))
    assert all(bool(re.match(r"\s", c)) == c.isspace() for c in map(chr, range(0x3001)))


# differential: random texts


CELL_CHARS = st.sampled_from(
    list("0123456789,.-+()$€£¥eE_ /:T%'\"")
    + list("USDEURJPYabcyesnotruefalsY")
    + ["\u00a0", "\u2009", "\u3000", "\t", "\n", "\r", "\x85", "١", "٣", "５", "ſ", "İ", "\u212a", "é"]
)
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
CELL = st.one_of(
    st.text(CELL_CHARS, max_size=14),
    st.text(ANY_CHAR, max_size=6),
    st.sampled_from(MONEY_TEXTS + NUMBER_TEXTS + BOOL_TEXTS + STAGE_TEXTS + DATE_TEXTS),
)


def date_texts():
    def shown(day: dt.date, fmt: str, pad: str) -> str:
        return day.strftime(fmt).replace(" 0", pad)

    return st.one_of(
        st.builds(
            shown,
            st.dates(min_value=dt.date(1, 1, 1)),
            st.sampled_from(
                [
                    "%m/%d/%Y",
                    "%m/%d/%y",
                    "%d %b %Y",
                    "%B %d, %Y",
                    "%Y-%m-%d",
                    "%Y-%m-%dT%H:%M:%S",
                    "%d.%m.%Y",
                    "%A %d %B %Y",
                    "%Y-%m-%d %H:%M",
                ]
            ),
            st.sampled_from([" 0", " "]),
        ),
        st.text(st.sampled_from(list("0123456789/-.: TtZ+ſ١")), max_size=12),
        CELL,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([T.MONEY, T.DECIMAL, T.INT, T.BOOL, T.STAGE, T.LIST, T.STRING]), st.lists(CELL, max_size=40))
def test_random_cells_read_alike(db, type_, texts):
    check(db, Field("f", type_), texts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(DATE_FORMATS + [()]), st.lists(date_texts(), max_size=40))
def test_random_dates_read_alike(db, formats, texts):
    check(db, Field("f", T.DATE, formats=formats), texts)


# other dialects


@pytest.mark.parametrize("dialect", ["spark", "snowflake", "bigquery", "postgres"])
@pytest.mark.parametrize("type_", sorted(T.FIELD_TYPES))
def test_other_dialects_print_sql_that_parses_back(dialect, type_):
    field = Field("f", type_, formats=("%m/%d/%Y",))
    cell = read_cell(field, exp.column("c"), stages=STAGES, default=None)
    for tree in (cell.value, cell.problem, literal(type_, None), sql_type(type_)):
        assert sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect) is not None


# ``spark``: the one session-scoped local SparkSession of tests/conftest.py, set up as the Spark engine's


SPARK_CASES = [
    (T.MONEY, MONEY_TEXTS),
    (T.INT, NUMBER_TEXTS),
    (T.DECIMAL, NUMBER_TEXTS),
    (T.BOOL, BOOL_TEXTS),
    (T.STAGE, STAGE_TEXTS),
    (T.LIST, LIST_TEXTS),
    (T.STRING, STAGE_TEXTS),
]


@pytest.mark.parametrize("type_, texts", SPARK_CASES + [(T.DATE, DATE_TEXTS)])
def test_spark_reads_alike(spark, type_, texts):
    field = Field("f", type_, formats=DATE_FORMATS[0] if type_ == T.DATE else ())
    texts = texts + [None, "", "\u3000"]
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i INT, c STRING")
    frame.createOrReplaceTempView("cells")
    rows = spark.sql(f"SELECT i, {cell_sql(field, STAGES, None, 'spark')} FROM cells ORDER BY i").collect()
    for text, row in zip(texts, rows):
        expected_value, expected_problem = python_cell(field, text)
        assert row["problem"] == expected_problem, (type_, text)
        assert same(type_, expected_value, row["value"]), (type_, text, expected_value, row["value"])
