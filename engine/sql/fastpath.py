"""Fast paths for the everyday shapes of export cells, as the Python reader has them.

``engine.values.text_converter`` reads '$12,500.00', 'TRUE' or '03/01/2026' without
its general parser; the general one runs only for the rest. The SQL engines do the
same: ``fast_cell`` gives, for one field, a cheap test that a cell has an everyday
shape and the value such a cell has. The caller takes the fast value where the test
holds and the exact reading (``engine.sql.coerce``) elsewhere; SQL's CASE evaluates a
branch only for the rows that reach it, so the exact reading, long and slow, costs
only the rows that need it.

Every fast path is a strict subset of what the exact reading accepts, with the same
value: a cell that is blank, padded with white space, or in any doubt goes the exact
way. The differential tests hold the two to it.
"""

from __future__ import annotations

import re

from sqlglot import exp

from .. import types as T
from ..values import BOOL_WORDS, SYMBOL_OF
from .dates import _int, _make_date, _valid
from .textops import extract
from .types import decimal_type

# the shapes (RE2 and java.util.regex read these alike: ASCII only, no look-arounds)
_MONEY = r"\$?-?([0-9]{1,3}(,[0-9]{3}){1,4}|[0-9]{1,16})(\.[0-9]{0,6})?"
_DECIMAL = r"-?[0-9]{1,16}(\.[0-9]{0,6})?"
_COMMA_DECIMAL = r"-?[0-9]{1,16}(,[0-9]{1,6})?"
_INTEGER = r"-?[0-9]{1,15}"
_ISO_DATE = r"([1-9][0-9]{3})-([0-9]{2})-([0-9]{2})"
# strptime directives a fast date shape may use, with the digits each accepts (as Python's TimeRE); one
# capturing group each, so that a shape's groups are its directives in order
_DATE_PARTS = {"%Y": "([1-9][0-9]{3})", "%m": "(1[0-2]|0[1-9]|[1-9])", "%d": "(3[01]|[12][0-9]|0[1-9]|[1-9])"}
# a time of day after the date (HubSpot writes "2026-09-30 14:03"): checked by its shape, then dropped;
# not captured, so that a shape's groups stay the date's directives
# (seconds 60 and 61: Python's datetime refuses them, so they are not a fast shape)
_TIME_PARTS = {"%H": "(?:2[0-3]|[0-1][0-9]|[0-9])", "%M": "(?:[0-5][0-9]|[0-9])", "%S": "(?:[0-5][0-9]|[0-9])"}
# One ASCII space stands for itself only (Python's strptime reads a space as any run of whitespace:
# those texts go the exact way); likewise a literal T is upper case here, either case in Python.
_DATE_SEPARATORS = "/-. :T"


def _full(cell: exp.Expr, pattern: str) -> exp.Expr:
    return exp.RegexpLike(this=cell.copy(), expression=exp.Literal.string(f"^{pattern}$"))


def _lookup(cell: exp.Expr, table: dict) -> tuple[exp.Expr, exp.Expr]:
    """A cell that is exactly one of ``table``'s keys, and the value it maps to."""
    keys = sorted(table)
    test = exp.In(this=cell.copy(), expressions=[exp.Literal.string(k) for k in keys])
    value = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=cell.copy(), expression=exp.Literal.string(k)), true=_constant(table[k]))
            for k in keys
        ]
    )
    return test, value


def _constant(value) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    return exp.Literal.string(value)


def _date_shape(fmt: str) -> str | None:
    """The regex of a format made of %Y, %m, %d, separators and optionally %H, %M, %S (each once);
    None for any other format."""
    parts = re.findall(r"%.|.", fmt, re.DOTALL)
    directives = [p for p in parts if p.startswith("%")]
    if sorted(p for p in directives if p in _DATE_PARTS) != ["%Y", "%d", "%m"]:
        return None
    times = [p for p in directives if p not in _DATE_PARTS]
    if any(p not in _TIME_PARTS for p in times) or len(set(times)) != len(times):
        return None
    shape = []
    for part in parts:
        if part in _DATE_PARTS:
            shape.append(_DATE_PARTS[part])
        elif part in _TIME_PARTS:
            shape.append(_TIME_PARTS[part])
        elif part in _DATE_SEPARATORS:
            shape.append(re.escape(part))
        else:
            return None
    return "".join(shape)


def _dates(cell: exp.Expr, formats: tuple, native: bool = False) -> tuple[exp.Expr, exp.Expr] | None:
    """Declared formats in order, then ISO: the first whose shape matches and that names a real day.

    Python tries the formats in the same order and takes the first that parses; a shape that
    matches but names no real day (February 30th) fails here too and goes the exact way.
    With ``native`` (DuckDB), the engine's own TRY_STRPTIME reads a text of the shape: on
    these digits-and-separators shapes it agrees with Python's (tests/test_sql_fastpath.py),
    and it costs a fraction of building the day from regex groups.
    """
    attempts = []
    for fmt in formats:
        shape = _date_shape(fmt)
        if shape is None:
            return None  # an exotic format earlier in the list could claim a text: no fast path at all
        order = [p for p in re.findall(r"%.|.", fmt, re.DOTALL) if p in _DATE_PARTS]
        attempts.append((shape, [order.index(d) + 1 for d in ("%Y", "%m", "%d")], fmt))
    attempts.append((_ISO_DATE, [1, 2, 3], "%Y-%m-%d"))
    ifs = []
    for shape, groups, fmt in attempts:
        if native:
            parsed = exp.cast(
                exp.Anonymous(this="TRY_STRPTIME", expressions=[cell.copy(), exp.Literal.string(fmt)]),
                exp.DataType.build("DATE"),
            )
            real = exp.and_(_full(cell, shape), exp.not_(exp.Is(this=parsed.copy(), expression=exp.Null())))
            ifs.append(exp.If(this=real, true=parsed))
            continue
        # the day is built from its parts and checked to exist, portably (no engine's own date parser:
        # DuckDB's TRY_STRPTIME is not Spark's, and Spark's parsers raise in ANSI mode)
        year, month, day = (_int(extract(cell, f"^{shape}$", group)) for group in groups)
        real = exp.and_(_full(cell, shape), _valid(year, month, day))
        ifs.append(exp.If(this=real, true=_make_date(year, month, day)))
    value = exp.Case(ifs=ifs)
    # CASE rather than OR: DuckDB evaluates an OR of ANDs several times slower (measured: 6x)
    test = exp.Case(ifs=[exp.If(this=i.this.copy(), true=exp.true()) for i in ifs], default=exp.false())
    return test, value


def fast_cell(field, cell: exp.Expr, stages: dict | None, native: bool = False) -> tuple[exp.Expr, exp.Expr] | None:
    """(test, value): ``test`` holds for a cell of an everyday shape, whose value is ``value``.

    None when the field's type has no fast path. ``stages`` is ``Analysis.stage_lookup``.
    ``native``: DuckDB's own, cheaper forms (TRY_STRPTIME for dates, see ``_dates``; the last
    character of a string by SUBSTRING(c, -1, 1)); DuckDB only.
    """
    type_ = field.type
    if type_ == T.STRING:
        # first and last character printable ASCII: nothing to strip, the text is the value
        def printable(end):
            return exp.Between(this=end, low=exp.Literal.string("!"), high=exp.Literal.string("~"))

        first = exp.Left(this=cell.copy(), expression=exp.Literal.number(1))
        last: exp.Expr = exp.Right(this=cell.copy(), expression=exp.Literal.number(1))
        if native:  # DuckDB: SUBSTRING from the end costs half of RIGHT (other dialects read -1 otherwise)
            last = exp.Substring(this=cell.copy(), start=exp.Literal.number(-1), length=exp.Literal.number(1))
        return exp.and_(printable(first), printable(last)), cell.copy()
    if type_ in (T.MONEY, T.DECIMAL) and field.decimal_mark == ",":  # '1234,56'; grouped ones the exact way
        point = exp.Replace(this=cell.copy(), expression=exp.Literal.string(","), replacement=exp.Literal.string("."))
        return _full(cell, _COMMA_DECIMAL), exp.cast(point, decimal_type())
    if type_ == T.MONEY:
        if SYMBOL_OF.get(field.currency) != "$":  # '$5' is another currency's: the exact reading rejects it
            return _full(cell, _DECIMAL), exp.cast(cell.copy(), decimal_type())
        digits = exp.Replace(
            this=exp.Replace(this=cell.copy(), expression=exp.Literal.string("$"), replacement=exp.Literal.string("")),
            expression=exp.Literal.string(","),
            replacement=exp.Literal.string(""),
        )
        return _full(cell, _MONEY), exp.cast(digits, decimal_type())
    if type_ == T.DECIMAL:
        return _full(cell, _DECIMAL), exp.cast(cell.copy(), decimal_type())
    if type_ == T.INT:
        return _full(cell, _INTEGER), exp.cast(cell.copy(), exp.DataType.build("BIGINT"))
    if type_ == T.BOOL:
        words = {}
        for word, value in BOOL_WORDS.items():
            words[word] = words[word.upper()] = words[word.title()] = value
        return _lookup(cell, words)
    if type_ == T.STAGE and stages is not None:
        # the labels as ops write them in the pack, and the ids: exact text, no case folding needed
        return _lookup(cell, {key: stage for key, stage in _stage_spellings(stages).items()})
    if type_ == T.DATE:
        return _dates(cell, tuple(field.formats), native)
    return None


def _stage_spellings(stages: dict) -> dict:
    """Exact texts that read as a stage: each lower-cased key as it is, title-cased and upper-cased."""
    spellings: dict[str, str] = {}
    for key, stage in stages.items():
        for text in (key, key.title(), key.upper()):
            if text.strip() == text and text and text.lower() == key:
                spellings.setdefault(text, stage)
    return spellings
