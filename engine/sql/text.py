"""Output text made inside the SQL engine, byte for byte as ``engine.render`` writes it.

The SQL engines must write files identical to the Python engine's, and fast:
a million deals cannot go through Python one row at a time. So each output
line is computed by the query as one VARCHAR, with the expressions below,
and only whole batches of lines cross into Python (``write_lines``).

Every function takes and returns sqlglot expressions, never SQL text with
data pasted in, so one tree prints for DuckDB and for Spark. Expressions
that use their argument more than once copy it; give them a column (or a
column of a CTE) rather than a big expression, or rely on the engine's
common-subexpression elimination.

The rules, found by trying them on CPython 3.11 (the tests pin each one):

``safe_cell`` (``engine.output.safe_cell``)
    NULL is ''. Text whose first character is = + - @ TAB or CR gets a
    leading apostrophe, unless it is a plain number by ``_PLAIN_NUMBER``,
    ``^[+-]?\\d+(\\.\\d+)?$`` under Python's ``re``. Two traps: ``\\d`` is
    every Unicode decimal digit (category Nd, as in the Python's Unicode
    version, not only 0-9), and ``$`` also matches before one final newline,
    so "-12\\n" is a plain number. The SQL pattern spells both out and uses
    ``\\z``, which RE2 (DuckDB) and java.util.regex (Spark) read alike.

``csv_field`` / ``csv_line`` (``engine.output.csv_writer(out)``, QUOTE_MINIMAL, a CR quoted too)
    A field is quoted if, and only if, it contains a comma, a double quote
    or a newline (the characters of the delimiter, quote char and line
    terminator); quotes inside are doubled. A lone CR is *not* quoted on
    3.11 (it is not in the line terminator). NUL, other control characters
    and leading or trailing spaces are written as they are. NULL (Python's
    None) is an empty field. One exception: a row of exactly one field that
    is empty is written as ``""`` (else it would be a blank line).

``json_string`` (``json.dumps(s, ensure_ascii=False)``)
    ``"`` and ``\\`` are backslash-escaped; \\n \\r \\t \\b \\f get their short
    escapes; every other character below U+0020 is ``\\u00XX`` in lower-case
    hex. DEL (U+007F), U+2028, U+2029 and all other non-ASCII characters are
    written as they are. NULL is ``null``. Lone surrogates, which Python
    would write as they are, cannot occur: a DuckDB VARCHAR is valid UTF-8.
    ``json_string_list`` writes a list as ``json.dumps`` does: ``["a", "b"]``,
    ``[]`` when empty, ``null`` for NULL.

``money_text`` (``str(engine.money.cents(value))``)
    Rounded half away from zero to two decimals, always two decimals shown;
    zero is "0.00", never "-0.00" (``cents`` normalises; SQL has no -0).

Writing the lines out (``write_lines``), measured with bench/sql_text.py on
this 2-core machine while other work ran on it (load 4-6), so take the
ratios more than the seconds. 10M short lines ('D-123', 99 MB), streamed:

    method                                      s     lines/s   peak RSS (before: 69 MB)
    query only (made and counted, not written)  0.43  23 M      76 MB
    COPY (q) TO file (FORMAT csv, QUOTE '', ...) 1.03  9.8 M     82 MB
    Arrow batches + binary_join (write_lines)   1.29  7.8 M     123 MB
    Arrow batches + "\\n".join(to_pylist())      2.73  3.7 M     124 MB
    string_agg per 100k rows, one row a batch   3.55  2.8 M     967 MB
    fetchmany + "\\n".join                       5.80  1.7 M     102 MB

On 1M deal-like lines (8 cells, two of them money; 69 MB) every method costs
what making the lines costs (1.9-3.2 s here, mostly the DECIMAL(22, 6) to
text casts, ~0.3-0.6 s a money column), and the spread between runs was
larger than between methods; all wrote identical bytes.

COPY ... (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\\x01')
does write every line unchanged (no quoting even of the delimiter, NUL, CR,
newlines; NULL as an empty line; "\\n" after every line, the last too), and
is fastest, but it writes to a path only: not to a stream, not to
``atomic_write``'s open handle, with no header or footer but by UNION tricks,
and its lead over write_lines is ~0.03 s per million lines. The winner is
``write_lines``: Arrow record batches from ``con.sql(q).to_arrow_reader``,
each joined by Arrow's C++ ``binary_join`` and written in one call. Memory is
one batch (~50 MB above the query's own for 100k lines); an ORDER BY makes
DuckDB sort the whole result first (10M short lines: ~500 MB, spilling to
disk when it must), which no writer can avoid.

A query plans in ~0.1 s when a line has five formula guards (the Unicode
digit class is long); that is per query, not per row.

Spark: sqlglot prints every expression here for Spark SQL (RLIKE, CONTAINS,
CONCAT, TRANSFORM/ARRAY_JOIN, \\x{...} and \\z in java.util.regex) and Spark
4.3 local gives the same text on the tricky cases. One trap there: Spark
types DECIMAL(22, 6) * DECIMAL(22, 6) as DECIMAL(38, 6), rounding the
product to 6 places before ``money_text`` rounds it to cents (0.039996 *
0.125 = 0.0049995 -> 0.005000 -> "0.01", Python "0.00"): multiply by a
probability typed narrowly (DECIMAL(4, 3)) so the product stays exact.
"""

from __future__ import annotations

import functools
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import IO

from sqlglot import exp

# --- small builders -------------------------------------------------------


def _text(value: str) -> exp.Expr:
    """A string literal; control characters go through CHR so no SQL text ever holds a NUL or a raw CR."""
    if any(ord(c) < 0x20 for c in value):
        if len(value) != 1:
            raise ValueError("only single control characters are built here")
        return exp.Chr(expressions=[exp.Literal.number(ord(value))])
    return exp.Literal.string(value)


def _concat(*parts: exp.Expr) -> exp.Expr:
    """``CONCAT(a, b, ...)``: one call, one allocation per row (a chain of ``||`` copies each prefix again,
    4x slower for a 16-cell line). Every part here is non-NULL, so DuckDB's skipping and Spark's
    propagating of NULLs never differ."""
    return exp.Anonymous(this="CONCAT", expressions=list(parts))


def _matches(value: exp.Expr, pattern: str) -> exp.Expr:
    """An unanchored regular-expression search (REGEXP_MATCHES in DuckDB, RLIKE in Spark)."""
    return exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(pattern))


def _replace(value: exp.Expr, old: str, new: str) -> exp.Expr:
    return exp.func("REPLACE", value, _text(old), exp.Literal.string(new))


def _or_empty(value: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=value.copy(), expressions=[exp.Literal.string("")])


# --- safe_cell ------------------------------------------------------------

_UNICODE_14_DIGITS = (  # starts of the runs of ten Nd digits in Unicode 14.0 (CPython 3.11)
    0x30,
    0x660,
    0x6F0,
    0x7C0,
    0x966,
    0x9E6,
    0xA66,
    0xAE6,
    0xB66,
    0xBE6,
    0xC66,
    0xCE6,
    0xD66,
    0xDE6,
    0xE50,
    0xED0,
    0xF20,
    0x1040,
    0x1090,
    0x17E0,
    0x1810,
    0x1946,
    0x19D0,
    0x1A80,
    0x1A90,
    0x1B50,
    0x1BB0,
    0x1C40,
    0x1C50,
    0xA620,
    0xA8D0,
    0xA900,
    0xA9D0,
    0xA9F0,
    0xAA50,
    0xABF0,
    0xFF10,
    0x104A0,
    0x10D30,
    0x11066,
    0x110F0,
    0x11136,
    0x111D0,
    0x112F0,
    0x11450,
    0x114D0,
    0x11650,
    0x116C0,
    0x11730,
    0x118E0,
    0x11950,
    0x11C50,
    0x11D50,
    0x11DA0,
    0x16A60,
    0x16AC0,
    0x16B50,
    0x1D7CE,
    0x1E140,
    0x1E2F0,
    0x1E950,
    0x1FBF0,
)
# 0x1D7CE..0x1D7FF: the five sets of mathematical digits, one run of fifty
_UNICODE_14_RUNS = tuple((start, start + (49 if start == 0x1D7CE else 9)) for start in _UNICODE_14_DIGITS)


def decimal_digit_runs() -> tuple[tuple[int, int], ...]:
    """The code point ranges Python's ``re`` calls ``\\d``: Unicode category Nd, in this Python's Unicode.

    Known for Unicode 14.0 (CPython 3.11); any other version is computed once (about 0.1 s).
    """
    if unicodedata.unidata_version == "14.0.0":
        return _UNICODE_14_RUNS
    return _computed_digit_runs()


@functools.cache
def _computed_digit_runs() -> tuple[tuple[int, int], ...]:
    runs: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if chr(code).isdecimal():
            if runs and runs[-1][1] == code - 1:
                runs[-1][1] = code
            else:
                runs.append([code, code])
    return tuple((start, end) for start, end in runs)


def _digit_class() -> str:
    ranges = "".join(
        "0-9" if start == 0x30 else f"\\x{{{start:X}}}-\\x{{{end:X}}}" for start, end in decimal_digit_runs()
    )
    return f"[{ranges}]"


def plain_number_pattern() -> str:
    """``engine.output._PLAIN_NUMBER`` for RE2 and Java: Unicode digits spelled out, Python's ``$`` as ``\\n?\\z``."""
    digit = _digit_class()
    return f"^[+-]?{digit}+(?:\\.{digit}+)?\\n?\\z"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # engine.output.FORMULA_START, checked by the tests


def safe_cell(value: exp.Expr) -> exp.Expr:
    """VARCHAR -> ``engine.output.safe_cell(value)``: a cell a spreadsheet will not run as a formula."""
    text = _or_empty(value)
    starts_like_formula = exp.In(
        this=exp.Left(this=text.copy(), expression=exp.Literal.number(1)), expressions=[_text(c) for c in FORMULA_START]
    )
    is_formula = exp.and_(starts_like_formula, exp.not_(_matches(text, plain_number_pattern())))
    return exp.Case().when(is_formula, _concat(exp.Literal.string("'"), text.copy())).else_(text.copy())


# --- CSV ------------------------------------------------------------------

_NEEDS_QUOTES = (",", '"', "\n", "\r")  # delimiter, quote char, line breaks (engine.output.csv_writer quotes a CR)


def csv_field(value: exp.Expr) -> exp.Expr:
    """VARCHAR -> the field as ``csv.writer`` writes it in a row of several (NULL is an empty field)."""
    text = _or_empty(value)
    quoted = _concat(exp.Literal.string('"'), _replace(text.copy(), '"', '""'), exp.Literal.string('"'))
    return exp.Case().when(_needs_quotes(text), quoted).else_(text.copy())


def _needs_quotes(text: exp.Expr) -> exp.Expr:
    """Three CONTAINS: twice as fast in DuckDB as one regular expression for the same three characters."""
    return exp.or_(*(exp.Contains(this=text.copy(), expression=_text(c)) for c in _NEEDS_QUOTES))


def csv_line(cells: Sequence[exp.Expr], never_quoted: frozenset = frozenset()) -> exp.Expr:
    """VARCHAR cells -> one CSV row as ``engine.output.csv_writer(out).writerow`` writes it, without the "\\n".

    Most rows need no quoting at all; they are told by one search of the cells joined, and joined
    with commas at once. Only the others are built field by field (half the time on a deal line).
    Each cell appears several times in the expression: pass columns, not computed cells.
    ``never_quoted``: positions of cells that cannot hold a comma, quote or newline (the caller
    knows: digits, the pack's ids); they are left out of the search and never quoted.
    """
    if not cells:
        return exp.Literal.string("")
    if len(cells) == 1:  # a single empty field is written "" so that the row is not a blank line
        only = cells[0]
        return (
            exp.Case()
            .when(exp.EQ(this=_or_empty(only), expression=exp.Literal.string("")), exp.Literal.string('""'))
            .else_(csv_field(only))
        )
    plain = [_or_empty(cell) for cell in cells]
    searched = [p for i, p in enumerate(plain) if i not in never_quoted]
    if not searched:
        return _concat(*_separated(plain))
    field_by_field = _concat(
        *_separated(
            [p.copy() if i in never_quoted else csv_field(cell) for i, (cell, p) in enumerate(zip(cells, plain))]
        )
    )
    return (
        exp.Case()
        .when(_needs_quotes(_concat(*[p.copy() for p in searched])), field_by_field)
        .else_(_concat(*_separated([p.copy() for p in plain])))
    )


def _separated(fields: list[exp.Expr]) -> list[exp.Expr]:
    parts = [fields[0]]
    for field in fields[1:]:
        parts += [exp.Literal.string(","), field]
    return parts


def reject_line(
    line: exp.Expr,
    id: exp.Expr,
    column: exp.Expr,
    value: exp.Expr,
    reason: exp.Expr,
    *,
    source: exp.Expr | None = None,
) -> exp.Expr:
    """One row of ``engine.read.RejectWriter``: (file,) line, id, column, value, reason, formula-guarded."""
    cells: list[exp.Expr] = [exp.cast(line.copy(), exp.DataType.Type.VARCHAR)]
    cells += [safe_cell(cell) for cell in (id, column, value, reason)]
    if source is not None:
        cells.insert(0, safe_cell(source))
    return csv_line(cells)


# --- JSON -----------------------------------------------------------------

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = '[\\x00-\\x1f"\\\\]'


def _json_escapes() -> list[tuple[str, str]]:
    """(character, escape) in the order to replace them: the backslash first, as every escape adds one."""
    pairs = [("\\", "\\\\"), ('"', '\\"')]
    pairs += [(chr(code), _SHORT_ESCAPES.get(chr(code), f"\\u{code:04x}")) for code in range(0x20)]
    return pairs


def json_string(value: exp.Expr) -> exp.Expr:
    """VARCHAR -> ``json.dumps(value, ensure_ascii=False)``; NULL -> ``null``.

    The 34 REPLACEs run only for text that has something to escape: most cells have not.
    """
    escaped = value.copy()
    for old, new in _json_escapes():
        escaped = _replace(escaped, old, new)
    quote = exp.Literal.string('"')
    return (
        exp.Case()
        .when(exp.Is(this=value.copy(), expression=exp.Null()), exp.Literal.string("null"))
        .when(_matches(value, _NEEDS_ESCAPE), _concat(quote, escaped, quote.copy()))
        .else_(_concat(quote.copy(), value.copy(), quote.copy()))
    )


_ITEM = "dealgate_item"  # the lambda's parameter: a name no export column has


def json_string_list(values: exp.Expr) -> exp.Expr:
    """VARCHAR[] -> ``json.dumps(list, ensure_ascii=False)``: ``["a", "b"]``, ``[]``; NULL -> ``null``."""
    item = exp.Lambda(this=json_string(exp.column(_ITEM)), expressions=[exp.to_identifier(_ITEM)])
    joined = exp.ArrayToString(
        this=exp.Transform(this=values.copy(), expression=item), expression=exp.Literal.string(", ")
    )
    return (
        exp.Case()
        .when(exp.Is(this=values.copy(), expression=exp.Null()), exp.Literal.string("null"))
        .when(
            exp.EQ(this=exp.ArraySize(this=values.copy()), expression=exp.Literal.number(0)), exp.Literal.string("[]")
        )  # the common case, without the lambda
        .else_(_concat(exp.Literal.string("["), joined, exp.Literal.string("]")))
    )


# --- money ----------------------------------------------------------------


def money_text(value: exp.Expr) -> exp.Expr:
    """DECIMAL -> ``str(engine.money.cents(value))``: half away from zero, two decimals; NULL stays NULL.

    ROUND says the rounding; the cast to DECIMAL(38, 2) fixes the scale so the text has exactly two decimals.
    """
    rounded = exp.Round(this=value.copy(), decimals=exp.Literal.number(2))
    return exp.cast(exp.cast(rounded, exp.DataType.build("DECIMAL(38, 2)")), exp.DataType.Type.VARCHAR)


# --- writing the lines out -------------------------------------------------

BATCH_ROWS = 100_000  # lines per Arrow batch: ~10 MB of deal lines, few enough calls into Python


def write_lines(
    connection,
    query_sql: str,
    out: IO[str],
    *,
    header: str | None = None,
    footer: str | None = None,
    separator: str = "\n",
    end: str = "\n",
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Write the one VARCHAR column of ``query_sql`` to ``out``, lines in the query's order; return how many.

    ``header`` and ``footer`` are written as they are (include their newlines). Lines are joined by
    ``separator`` and the last is followed by ``end``; with no lines neither is written. The JSON
    document's deals, for example, are lines ``'\\n  ' || record`` with ``separator=","`` and ``end=""``.

    DuckDB streams the result as Arrow record batches; each batch is joined into one string by
    Arrow's C++ ``binary_join`` and written with one call, so no Python object is made per line
    and memory is bounded by one batch (plus whatever the query itself needs, e.g. to sort).
    Measured (bench/sql_text.py, 2 busy cores) against COPY TO, ``"\\n".join(to_pylist())``
    and string_agg: see the module docstring. A NULL line is refused: Python would not have
    written an empty line there.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if header:
        out.write(header)
    raw = _byte_sink(out)
    if raw is not None:
        out.flush()  # what was written as text goes first
    count = 0
    for batch in connection.sql(query_sql).to_arrow_reader(batch_rows):
        if batch.num_columns != 1:
            raise ValueError(f"write_lines needs a query of one column, not {batch.num_columns}")
        lines = batch.column(0)
        if not len(lines):
            continue
        if lines.null_count:
            raise ValueError("write_lines: the query made a NULL line")
        whole = pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines)
        joined = pc.binary_join(whole, separator)[0]
        if raw is not None:
            if count:
                raw.write(separator.encode("utf-8"))
            raw.write(joined.as_buffer())
        else:
            out.write((separator if count else "") + joined.as_py())
        count += len(lines)
    if count:
        out.write(end)
    if footer:
        out.write(footer)
    return count


def _byte_sink(out):
    """The binary stream under ``out`` when writing UTF-8 bytes there is what writing the text would do.

    Arrow's joined batch is UTF-8 already: handing it to the buffer saves decoding it into a str and
    encoding it again (~0.5 s a million lines). Only for a UTF-8 stream whose newline translation, if
    any, is the identity (POSIX); anything else (a StringIO, Windows) is written as text.
    """
    raw = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    if raw is None or encoding != "utf8" or os.linesep != "\n" or not hasattr(raw, "write"):
        return None
    return raw


def write_lines_to(connection, query_sql: str, path: str | os.PathLike, **options) -> int:
    """``write_lines`` into ``path`` through ``engine.output.atomic_write``: the file appears only when complete.

    Opened with ``newline=""`` so that no newline (in the lines or inside a quoted value) is translated.
    """
    from ..output import atomic_write

    with atomic_write(path, newline="") as out:
        return write_lines(connection, query_sql, out, **options)
