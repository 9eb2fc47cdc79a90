"""The SQL engine against the reference, with Hypothesis.

- expressions: a random well-typed expression (``typed`` of tests/test_properties_rules.py)
  compiled to SQL and run by DuckDB over a table of random deals (nulls included) gives, row by
  row, the value of the tree-walking interpreter (``engine.expr.interpret``);
- cells: small random exports (valid and invalid money, dates, stage labels, booleans, blank and
  white-space cells) score to the same bytes with ``--engine python`` and ``--engine duckdb``.

The Python side is the reference: a difference is a bug of the SQL compiler.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import duckdb
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from test_properties_rules import ENV, FIELDS, STAGES, deals, typed
from test_sql_engine import assert_same

from engine import expr as E
from engine import types as T
from engine.expr.interpret import evaluate as interpret
from engine.expr.sqlfunctions import Unsupported
from engine.sql.expr import ExpressionCompiler, literal
from engine.sql.types import sql_type

# --- expressions -----------------------------------------------------------------------------------

COLUMNS = list(FIELDS)
POSITIONS = {stage: i for i, stage in enumerate(STAGES)}
CONNECTION = duckdb.connect()


def _column(name: str):
    from sqlglot import exp

    return exp.column(exp.to_identifier(name, quoted=True))


def _parameter(type_: str, value):
    """A deal's value as a query parameter: decimals as exact text, lists as lists."""
    if value is None:
        return None
    if type_ in (T.MONEY, T.DECIMAL):
        return str(value)
    if type_ == T.LIST:
        return list(value)
    return value


def _table(rows: list[dict]) -> tuple[str, list]:
    """A VALUES table of the deals, one typed column per field and ``i`` (the row's position)."""
    casts = ", ".join(f"CAST(? AS {sql_type(FIELDS[n][0]).sql(dialect='duckdb')})" for n in COLUMNS)
    values = ", ".join(f"({i}, {casts})" for i in range(len(rows)))
    names = ", ".join(["i", *(f'"{n}"' for n in COLUMNS)])
    parameters = [_parameter(FIELDS[n][0], row[n]) for row in rows for n in COLUMNS]
    return f"(VALUES {values}) AS t({names})", parameters


def run_sql(node, rows: list[dict], as_of: dt.date) -> list:
    code = ExpressionCompiler(_column, literal(as_of), POSITIONS).compile(node).sql(dialect="duckdb")
    table, parameters = _table(rows)
    return [v for _, v in CONNECTION.execute(f"SELECT i, {code} AS v FROM {table} ORDER BY i", parameters).fetchall()]


def same(python, sql) -> bool:
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, bool) or isinstance(sql, bool):
        return type(python) is type(sql) and python == sql
    if isinstance(python, (int, Decimal)):
        return isinstance(sql, (int, Decimal)) and Decimal(python) == Decimal(sql)
    return type(python) is type(sql) and python == sql


def differs(source: str, rows: list[dict], as_of: dt.date):
    """The first deal on which SQL and the interpreter disagree, as (deal, python, sql); None when they agree."""
    checked, problems = E.check(source, ENV)
    assert problems == [], (source, problems)
    # lower()'s final-sigma rule ('ΑΣ' -> 'ας' in Python, 'ασ' in DuckDB) is not spelled out in SQL
    # (docs/engines.md): texts with a capital sigma are left out where lower() is applied
    if "lower" in source or "contains" in source:
        assume(not any("Σ" in (row[n] or "") for row in rows for n in ("s", "name")))
    try:
        values = run_sql(checked.ir, rows, as_of)
    except Unsupported:
        assume(False)  # no exact SQL form: the pack would run on Python (DG701)
    except duckdb.OutOfRangeException:
        # BIGINT or DECIMAL(38) overflow (k * k * k * k, amount * amount * quota): Python's numbers are
        # unbounded, SQL's are not; real amounts (16 digits) multiplied this way do not occur in rules
        assume(False)
    for deal, value in zip(rows, values):
        expected = interpret(checked.ir, deal, as_of, STAGES)
        if not same(expected, value):
            return deal, expected, value
    return None


EXPRESSIONS = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], max_examples=120
)
as_of_dates = st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1))


def deal(**values) -> dict:
    """A deal with every field set (nullable ones null), then ``values``."""
    return {
        **{n: None for n in FIELDS},
        "c": False,
        "k": 0,
        "quota": Decimal(0),
        "name": "",
        "e": dt.date(2026, 1, 1),
        **values,
    }


@EXPRESSIONS
@example("upper(name)", [deal(name="ß"), deal(name="ﬁle")], dt.date(2026, 6, 30))  # SQL gave 'ẞ' and 'ﬁLE'
@example("lower(s)", [deal(s="İ")], dt.date(2026, 6, 30))  # SQL gave 'i', Python 'i̇'
@example("contains(name, s)", [deal(name="İD", s="i\u0307d")], dt.date(2026, 6, 30))  # SQL gave False
@given(
    st.sampled_from([T.BOOL, "num", T.STRING, T.DATE]).flatmap(typed),
    st.lists(deals(), min_size=1, max_size=12),
    as_of_dates,
)
def test_sql_expressions_agree_with_the_interpreter(source, rows, as_of):
    assert differs(source, rows, as_of) is None, source


# --- cells: whole exports through the CLI ----------------------------------------------------------

HEADER = [
    "Opportunity ID",
    "Opportunity Name",
    "Opportunity Owner",
    "Account Name",
    "Stage",
    "Amount",
    "Close Date",
    "Last Stage Change Date",
    "Budget Confirmed",
    "Compelling Event",
    "Economic Buyer",
    "Champion",
    "Decision Criteria",
    "Proposal Sent Date",
    "Discount",
    "Discount Approved",
    "Contract Years",
    "Cancellation Date",
    "Split",
    "SDR",
    "Qualified Date",
]
LABELS = [
    "Prospecting",
    "Lead",
    "appointmentscheduled",
    "Qualification",
    "Needs Analysis",
    "qualifiedtobuy",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "presentationscheduled",
    "Proposal/Price Quote",
    "decisionmakerboughtin",
    "Negotiation/Review",
    "contractsent",
    "Closed Won",
    "Won",
    "closedwon",
    "Closed Lost",
    "Lost",
    "closedlost",
    "discovery",
    "closed_won",
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
]
SPACES = st.sampled_from(["", " ", "  ", "\t", "\u00a0", "\u2003", "\u3000", "\u200b", "\x0b", "\x1c"])


def padded(values):
    return st.tuples(SPACES, values, SPACES).map("".join)


def random_case(text: str):
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(text, flips))
    )


blank = st.sampled_from(["", " ", "   ", "\t", "\u00a0", "\u2003 "])
junk = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=6)
money = st.one_of(
    st.sampled_from(
        [
            "$1,234.50",
            "(1,200)",
            "$(1,200)",
            "-$5",
            "USD 5",
            "5 EUR",
            "$-",
            "TBD",
            "1.2345678",
            "1.234567",
            "1,23",
            "12,34,567",
            "1e3",
            "1E+20",
            "0E+99",
            "NaN",
            "١٢٣",
            "1_000",
            "+",
            "-",
            "(−5)",
            "€ 12",
            "9999999999999999",
            "10000000000000000",
            ".5",
            "5.",
            "£1,000.000001",
            "$ 1 000",
            "(+5)",
        ]
    ),
    st.decimals(-(10**12), 10**12, places=2, allow_nan=False).map(str),
    st.integers(-(10**7), 10**7).map(lambda n: f"${n:,}"),
    junk,
)
dates = st.one_of(
    st.sampled_from(
        [
            "03/01/2026",
            "2026-02-30",
            "02/30/2026",
            "13/01/2026",
            "2026-1-5",
            "1/5/2026",
            "2026-02-28",
            "2024-01-22T16:14:25.000+0000",
            "2024-01-22 24:00",
            "2024-01-22T10:00Z",
            "2026/03/01",
            "03/01/26",
            "٠٣/٠١/٢٠٢٦",
            "0000-01-01",
            "9999-12-31",
            "12/31/9999",
            "1/1/1",
            "yesterday",
        ]
    ),
    st.dates(dt.date(2020, 1, 1), dt.date(2028, 12, 31)).flatmap(
        lambda d: st.sampled_from(
            [
                d.isoformat(),
                d.strftime("%m/%d/%Y"),
                f"{d.month}/{d.day}/{d.year}",
                f"{d.isoformat()} {d.day % 24}:{d.month * 5:02}",
                f"{d.isoformat()}  09:30",
                f"{d.isoformat()} 9:5",
                f"{d.isoformat()}T09:30",
            ]
        )
    ),
    junk,
)
stages = st.one_of(
    st.sampled_from(LABELS).flatmap(random_case), st.sampled_from(["Closed-Won", "Stalled", "İd", ""]), junk
)
booleans = st.one_of(
    st.sampled_from(["TRUE", "FALSE", "true", "t", "Yes", "y", "N", "no", "1", "0", "2", "maybe", "ı"]),
    st.sampled_from(["true", "false", "yes", "no"]).flatmap(random_case),
    junk,
)
integers = st.one_of(
    st.integers(-5, 30).map(str),
    st.sampled_from(["1.0", "2.5", "1e2", "3,000", "x", "-0", "+1", "10000000000000000", "1.5E+3"]),
    junk,
)
decimals = st.one_of(
    st.sampled_from(["0.2", "0.15", "0.1500001", "20%", "1e-7", ".3", "-0.5"]),
    st.decimals(0, 1, places=3, allow_nan=False).map(str),
    junk,
)
texts = st.one_of(st.sampled_from(["Acme", "alice", "bob:50;carol:50"]), junk)
KINDS = {
    "Stage": stages,
    "Amount": money,
    "Discount": decimals,
    "Contract Years": integers,
    "Budget Confirmed": booleans,
    "Discount Approved": booleans,
}
for column in ("Close Date", "Last Stage Change Date", "Proposal Sent Date", "Cancellation Date", "Qualified Date"):
    KINDS[column] = dates


def cell(column: str):
    values = KINDS.get(column, texts)
    return (
        st.one_of(values, padded(values), blank)
        if column != "Opportunity ID"
        else st.one_of(st.from_regex(r"006[0-9A-Z]{4}", fullmatch=True), blank)
    )


rows = st.lists(st.tuples(*[cell(c) for c in HEADER]), min_size=1, max_size=30)


def export_text(records) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *records])
    return buffer.getvalue()


# A DuckDB run costs ~5 s here (building the query, whatever the export's size), so few examples of
# many rows each: the file stays under a minute on a busy machine.
CELLS = settings(
    deadline=None,
    max_examples=6,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@CELLS
@given(rows)
def test_random_exports_score_to_the_same_bytes_on_both_engines(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("cells")
    export = folder / "export.csv"
    export.write_text(export_text(records), encoding="utf-8")
    assert_same(folder, export)  # scored rows, rejects and counts line, byte for byte
