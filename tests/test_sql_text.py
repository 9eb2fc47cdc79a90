"""engine.sql.text: output text made by DuckDB must be byte-identical to what the Python engine writes.

Each case is rendered twice, by the Python function the engine uses (``safe_cell``,
``csv.writer``, ``RejectWriter``, ``json.dumps``, ``cents``) and by DuckDB running the
expression printed with ``expr.sql(dialect="duckdb")``, and the two must be equal.
Hypothesis sends many values through one query per example to keep the file fast.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine import output
from engine.money import cents
from engine.read import Reject, RejectWriter
from engine.sql import text

# --- the two renderers ------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def in_duckdb(con, build, columns: dict[str, pa.Array]) -> list:
    """``build(*columns)`` evaluated by DuckDB on each row of ``columns``, in row order."""
    rows = len(next(iter(columns.values())))
    table = pa.table({"row_number": pa.array(range(rows), pa.int64()), **columns})
    con.register("cases", table)
    try:
        query = (
            exp.select(build(*(exp.column(name) for name in columns)).as_("out")).from_("cases").order_by("row_number")
        )
        return [row[0] for row in con.sql(query.sql(dialect="duckdb")).fetchall()]
    finally:
        con.unregister("cases")


def strings(values) -> dict[str, pa.Array]:
    return {"x": pa.array(list(values), pa.string())}


def python_csv(cells) -> str:
    out = io.StringIO()
    output.csv_writer(out).writerow(cells)
    assert out.getvalue().endswith("\n")
    return out.getvalue()[:-1]


def python_reject(source, reject: Reject, with_source: bool) -> str:
    out = io.StringIO()
    writer = RejectWriter(out, with_source=with_source)
    header = out.getvalue()
    writer(source, reject)
    return out.getvalue()[len(header) : -1]


def python_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def python_money(value: Decimal) -> str:
    return str(cents(value))


# --- the rules, pinned --------------------------------------------------------


def test_sql_constants_follow_the_python_engine():
    assert text.FORMULA_START == output.FORMULA_START
    assert output._PLAIN_NUMBER.pattern == r"^[+-]?\d+(\.\d+)?$"  # the SQL pattern was derived from this one


def test_digit_runs_are_what_python_re_calls_digits():
    assert text.decimal_digit_runs() == text._computed_digit_runs()


SAFE_CELLS = [
    (None, ""),
    ("", ""),
    ("Acme", "Acme"),
    ("=SUM(A1)", "'=SUM(A1)"),
    ("+1 555", "'+1 555"),
    ("-", "'-"),
    ("@here", "'@here"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("\nx", "\nx"),
    (" =x", " =x"),
    ("-1200.00", "-1200.00"),
    ("+7", "+7"),
    ("-1.", "'-1."),
    ("-.5", "'-.5"),
    ("-1e5", "'-1e5"),
    ("-12\n", "-12\n"),  # Python's $ matches before a final newline: a plain number
    ("-12\n\n", "'-12\n\n"),
    ("-12\r", "'-12\r"),
    ("-١٢٣", "-١٢٣"),  # \d is any Unicode digit
    ("-𝟏𝟐", "-𝟏𝟐"),
    ("-1.٥", "-1.٥"),
    ("--1", "'--1"),
    ("-1 ", "'-1 "),
]


@pytest.mark.parametrize("value, expected", SAFE_CELLS)
def test_safe_cell_table(value, expected):
    assert output.safe_cell(value) == expected


def test_safe_cell_in_duckdb(con):
    values = [value for value, _ in SAFE_CELLS]
    assert in_duckdb(con, text.safe_cell, strings(values)) == [expected for _, expected in SAFE_CELLS]


CSV_ROWS = [
    (["a", "b"], "a,b"),
    (["a,b", "c"], '"a,b",c'),
    (['say "hi"', ""], '"say ""hi""",'),
    (["two\nlines", None], '"two\nlines",'),
    (["cr\ronly", "x"], '"cr\ronly",x'),  # a CR alone is quoted too (3.11's csv.writer would not: engine.output)
    ([" pad ", "\x00\x1f"], " pad ,\x00\x1f"),
    (["", ""], ","),
    ([None, None, None], ",,"),
    ([""], '""'),
    ([None], '""'),
    ([" "], " "),
    (['"'], '""""'),
    (["a;b", "it's"], "a;b,it's"),
]


@pytest.mark.parametrize("cells, expected", CSV_ROWS)
def test_csv_rows_table(cells, expected):
    assert python_csv(cells) == expected


def csv_line_in_duckdb(con, rows: list[list]) -> list[str]:
    """Rows of equal width through ``csv_line``."""
    width = len(rows[0])
    columns = {f"c{i}": pa.array([row[i] for row in rows], pa.string()) for i in range(width)}
    return in_duckdb(con, lambda *cells: text.csv_line(list(cells)), columns)


@pytest.mark.parametrize("width", [1, 2, 3])
def test_csv_line_in_duckdb(con, width):
    rows = [cells for cells, _ in CSV_ROWS if len(cells) == width]
    assert csv_line_in_duckdb(con, rows) == [python_csv(cells) for cells in rows]


def test_csv_line_of_no_cells(con):
    assert in_duckdb(con, lambda x: text.csv_line([]), strings(["a"])) == [python_csv([])]


JSON_STRINGS = [
    (None, "null"),
    ("", '""'),
    ("plain", '"plain"'),
    ('q"b\\', '"q\\"b\\\\"'),
    ("\n\r\t\b\f", '"\\n\\r\\t\\b\\f"'),
    ("\x00\x01\x1b\x1f", '"\\u0000\\u0001\\u001b\\u001f"'),
    ("\x7f\u2028\u2029é€😀", '"\x7f\u2028\u2029é€😀"'),
    ("/", '"/"'),
]


@pytest.mark.parametrize("value, expected", JSON_STRINGS)
def test_json_strings_table(value, expected):
    assert python_json(value) == expected


def test_json_string_in_duckdb(con):
    values = [value for value, _ in JSON_STRINGS]
    assert in_duckdb(con, text.json_string, strings(values)) == [expected for _, expected in JSON_STRINGS]


JSON_LISTS = [None, [], ["a"], ["a", "b"], ["", None, 'x"y'], ["\n", "é"]]


def test_json_string_list_in_duckdb(con):
    column = {"x": pa.array(JSON_LISTS, pa.list_(pa.string()))}
    assert python_json(["a", "b"]) == '["a", "b"]' and python_json([]) == "[]"
    assert in_duckdb(con, text.json_string_list, column) == [python_json(value) for value in JSON_LISTS]


MONEY = [
    "7500",
    "-12.3",
    "0",
    "1.005",
    "-1.005",
    "0.004999",
    "-0.004",
    "-0.005",
    "9999999999999999.995",
    "-9999999999999999.994999",
    "0.000001",
    "123.455",
    "123.445",
]


def money_in_duckdb(
    con, values: list[Decimal], factors: list[Decimal] | None = None, factor_type: str = "DECIMAL(22, 6)"
) -> list[str]:
    """``money_text(CAST(value AS DECIMAL(22, 6)) [* CAST(factor AS factor_type)])`` per value."""
    columns = {"amount": pa.array([str(v) for v in values], pa.string())}
    if factors is not None:
        columns["factor"] = pa.array([str(f) for f in factors], pa.string())

    def build(amount, factor=None):
        value = exp.cast(amount, exp.DataType.build("DECIMAL(22, 6)"))
        if factor is not None:
            value = exp.Mul(this=value, expression=exp.cast(factor, exp.DataType.build(factor_type)))
        return text.money_text(value)

    return in_duckdb(con, build, columns)


def test_money_in_duckdb(con):
    values = [Decimal(v) for v in MONEY]
    assert money_in_duckdb(con, values) == [python_money(v) for v in values]
    assert python_money(Decimal("-0.004")) == "0.00" and python_money(Decimal("1.005")) == "1.01"


def test_money_of_unknown_is_null(con):
    assert in_duckdb(
        con, lambda x: text.money_text(exp.cast(x, exp.DataType.build("DECIMAL(22, 6)"))), strings([None])
    ) == [None]


REJECTS = [
    (None, Reject(7, "D-1", "amount", "=1+1", "not a number")),
    ("crm,export.csv", Reject(12, None, None, None, "row has 3 cells, header has 4")),
    ("-x.csv", Reject(3, "+1", "close date", 'a "b"\nc', "-bad\r")),
]


@pytest.mark.parametrize("with_source", [False, True])
def test_reject_lines_in_duckdb(con, with_source):
    expected = [python_reject(source, reject, with_source) for source, reject in REJECTS]
    assert in_duckdb(con, reject_builder(with_source), reject_columns(REJECTS)) == expected


def reject_columns(rejects) -> dict[str, pa.Array]:
    return {
        "source": pa.array([s for s, _ in rejects], pa.string()),
        "line": pa.array([r.line for _, r in rejects], pa.int64()),
        **{
            name: pa.array([getattr(r, name) for _, r in rejects], pa.string())
            for name in ("id", "column", "value", "reason")
        },
    }


def reject_builder(with_source: bool):
    def build(source, line, id, column, value, reason):
        return text.reject_line(line, id, column, value, reason, source=source if with_source else None)

    return build


# --- differential, random -------------------------------------------------------

TRICKY = "=+-@\t\r\n\",\\'; 0123456789.\x00\x08\x0c\x1b\x1f\x7f\u2028\u2029\u0663\U0001d7ce\ufeff\x85é"
characters = st.one_of(st.sampled_from(TRICKY), st.characters(exclude_categories=("Cs",)))
digits = st.text(st.sampled_from("0123456789\u0663\u0669\U0001d7ce\uff11"), min_size=1, max_size=4)
number_like = st.builds(
    lambda lead, sign, whole, fraction, tail: lead + sign + whole + fraction + tail,
    st.sampled_from(["", "", "=", "\t"]),
    st.sampled_from(["", "+", "-"]),
    digits,
    st.one_of(st.just(""), st.just("."), digits.map(lambda d: "." + d)),
    st.sampled_from(["", "", "\n", "\n\n", " ", "\r", "x"]),
)
texts = st.one_of(st.text(characters, max_size=12), number_like)
optional_texts = st.one_of(st.none(), texts)
RANDOM = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEWER = settings(RANDOM, max_examples=20)  # each query plans 5 formula guards: ~0.1 s


@RANDOM
@given(values=st.lists(optional_texts, min_size=1, max_size=25))
def test_safe_cell_matches_python(con, values):
    assert in_duckdb(con, text.safe_cell, strings(values)) == [output.safe_cell(v) for v in values]


@RANDOM
@given(width=st.integers(1, 4), data=st.data())
def test_csv_line_matches_python(con, width, data):
    rows = data.draw(st.lists(st.lists(optional_texts, min_size=width, max_size=width), min_size=1, max_size=20))
    assert csv_line_in_duckdb(con, rows) == [python_csv(row) for row in rows]


PLAIN_TEXTS = st.one_of(st.none(), st.text(characters.filter(lambda c: c not in ',"\n\r'), max_size=8))


@RANDOM
@given(width=st.integers(2, 4), data=st.data())
def test_csv_line_with_cells_never_quoted_matches_python(con, width, data):
    """Cells the caller declares free of commas, quotes and newlines are left out of the search."""
    never = data.draw(st.frozensets(st.integers(0, width - 1)))
    rows = data.draw(
        st.lists(
            st.tuples(*[PLAIN_TEXTS if i in never else optional_texts for i in range(width)]), min_size=1, max_size=20
        )
    )
    columns = {f"c{i}": pa.array([row[i] for row in rows], pa.string()) for i in range(width)}
    made = in_duckdb(con, lambda *cells: text.csv_line(list(cells), never), columns)
    assert made == [python_csv(list(row)) for row in rows]


@FEWER
@given(
    rejects=st.lists(
        st.tuples(
            optional_texts,
            st.builds(Reject, st.integers(1, 10**9), optional_texts, optional_texts, optional_texts, texts),
        ),
        min_size=1,
        max_size=40,
    ),
    with_source=st.booleans(),
)
def test_reject_line_matches_python(con, rejects, with_source):
    expected = [python_reject(source, reject, with_source) for source, reject in rejects]
    assert in_duckdb(con, reject_builder(with_source), reject_columns(rejects)) == expected


@FEWER
@given(values=st.lists(optional_texts, min_size=1, max_size=60))
def test_json_string_matches_python(con, values):
    assert in_duckdb(con, text.json_string, strings(values)) == [python_json(v) for v in values]


@FEWER
@given(lists=st.lists(st.one_of(st.none(), st.lists(optional_texts, max_size=4)), min_size=1, max_size=40))
def test_json_string_list_matches_python(con, lists):
    column = {"x": pa.array(lists, pa.list_(pa.string()))}
    assert in_duckdb(con, text.json_string_list, column) == [python_json(v) for v in lists]


# the engine's numeric domain, DECIMAL(22, 6): up to 16 integer digits and 6 decimal places
amounts = st.one_of(
    st.integers(-(10**22) + 1, 10**22 - 1),
    st.integers(-(10**9), 10**9),  # small amounts: more of them land near a half cent
    st.integers(-(10**6), 10**6).map(lambda n: n * 5000 + st_sign(n)),  # exactly on, or a millionth off, half a cent
).map(lambda n: Decimal(n).scaleb(-6))


def st_sign(n: int) -> int:
    return (n % 3) - 1


probabilities = st.one_of(
    st.sampled_from(["0.10", "0.6", "0.125", "0.25", "0.333", "0", "1", "0.05"]),
    st.integers(0, 1000).map(lambda n: str(Decimal(n).scaleb(-3))),
).map(Decimal)


@RANDOM
@given(values=st.lists(amounts, min_size=1, max_size=30))
def test_money_text_matches_python(con, values):
    assert money_in_duckdb(con, values) == [python_money(v) for v in values]


@RANDOM
@given(
    pairs=st.lists(st.tuples(amounts, probabilities), min_size=1, max_size=30),
    factor_type=st.sampled_from(["DECIMAL(22, 6)", "DECIMAL(4, 3)"]),
)
def test_weighted_money_text_matches_python(con, pairs, factor_type):
    values, factors = [a for a, _ in pairs], [p for _, p in pairs]
    assert money_in_duckdb(con, values, factors, factor_type) == [python_money(a * p) for a, p in pairs]


# --- writing lines out -------------------------------------------------------------


def test_write_lines_keeps_the_order_across_batches(con):
    out = io.StringIO()
    count = text.write_lines(
        con,
        "SELECT 'x' || i FROM range(2500) AS r(i) ORDER BY i DESC",
        out,
        header="h\n",
        footer="f\n",
        batch_rows=1000,
    )
    assert count == 2500
    assert out.getvalue() == "h\n" + "".join(f"x{i}\n" for i in reversed(range(2500))) + "f\n"


def test_write_lines_of_nothing_writes_header_and_footer_only(con):
    out = io.StringIO()
    assert text.write_lines(con, "SELECT 'x' WHERE false", out, header="[", footer="]") == 0
    assert out.getvalue() == "[]"


def test_write_lines_as_json_elements(con):
    out = io.StringIO()
    text.write_lines(
        con,
        "SELECT '\n  ' || i FROM range(3) AS r(i) ORDER BY i",
        out,
        header="[",
        footer="\n]\n",
        separator=",",
        end="",
    )
    assert out.getvalue() == json.dumps([0, 1, 2], indent=2) + "\n"


@pytest.mark.parametrize(
    "encoding, direct", [("utf-8", True), ("UTF8", True), ("utf-8-sig", False), ("latin-1", False)]
)
def test_write_lines_to_a_binary_stream_writes_the_bytes_text_would(con, encoding, direct):
    """Lines go straight to the buffer of a UTF-8 stream, in order with the text around them."""
    query = "SELECT 'é' || i || ',\"x\"' FROM range(2500) AS r(i) ORDER BY i"
    expected = io.StringIO()
    text.write_lines(con, query, expected, header="h\n", footer="f\n", separator=";", end="!", batch_rows=700)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    assert (text._byte_sink(out) is not None) == direct
    out.write("before ")
    text.write_lines(con, query, out, header="h\n", footer="f\n", separator=";", end="!", batch_rows=700)
    out.write(" after")
    out.flush()
    assert raw.getvalue() == ("before " + expected.getvalue() + " after").encode(encoding, errors="replace")


def test_write_lines_refuses_a_null_line(con):
    with pytest.raises(ValueError, match="NULL line"):
        text.write_lines(con, "SELECT CAST(NULL AS VARCHAR)", io.StringIO())


def test_csv_file_is_byte_identical_to_csv_writer(con, tmp_path):
    """End to end: a table of awkward rows, written by csv.writer and by write_lines_to."""
    rows = [
        [f"{i}", value, other]
        for i, (value, other) in enumerate(
            [("a,b", "\r"), ('"', "\n"), ("", None), ("=1", "-2"), ("é\x00", "\u2028")] * 3
        )
    ]
    expected = tmp_path / "python.csv"
    with open(expected, "w", encoding="utf-8", newline="") as handle:
        writer = output.csv_writer(handle)
        writer.writerow(["line", "value", "other"])
        writer.writerows([[i, output.safe_cell(v), output.safe_cell(o)] for i, v, o in rows])
    con.register(
        "awkward",
        pa.table(
            {name: pa.array([row[k] for row in rows], pa.string()) for k, name in enumerate(["line", "value", "other"])}
        ),
    )
    try:
        cells = [exp.column("line"), text.safe_cell(exp.column("value")), text.safe_cell(exp.column("other"))]
        query = (
            exp.select(text.csv_line(cells).as_("line"))
            .from_("awkward")
            .order_by(exp.cast(exp.column("line"), exp.DataType.Type.INT))
        )
        written = tmp_path / "duckdb.csv"
        assert text.write_lines_to(con, query.sql(dialect="duckdb"), written, header="line,value,other\n") == 15
    finally:
        con.unregister("awkward")
    assert written.read_bytes() == expected.read_bytes()


def test_copy_to_writes_lines_unchanged(con, tmp_path):
    """What the module docstring says of COPY (the runner-up): no quoting, NULL is an empty line, "\\n" after each."""
    lines = ["a,b", 'q"x', "nl\nx", "cr\rx", "", None, "\x01 delimiter", "\x00", "é\u2028", "\\", "=1"]
    con.register("copied", pa.table({"n": pa.array(range(len(lines))), "line": pa.array(lines, pa.string())}))
    target = tmp_path / "copy.txt"
    try:
        con.execute(
            f"COPY (SELECT line FROM copied ORDER BY n) TO '{target}' "
            "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
        )
    finally:
        con.unregister("copied")
    assert target.read_bytes() == "".join((line or "") + "\n" for line in lines).encode()
