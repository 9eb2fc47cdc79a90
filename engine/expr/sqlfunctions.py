"""The SQL form of each function of the language, as sqlglot expressions.

Each builder takes the arguments already compiled (``args``, sqlglot
expressions), the IR nodes they came from (``nodes``, for their types) and the
as-of date as an expression, and returns an expression with the function's
documented semantics — null in, null out, exactly as ``engine.expr.functions``.
Where SQL's own function differs from ours (``LEAST`` ignores nulls, ``TRIM``
strips only spaces), the builder spells our meaning out. The table that binds
these to names is ``engine.expr.functions.FUNCTIONS``.
"""

from __future__ import annotations

import functools
import re

from sqlglot import exp

from .. import types as T


class Unsupported(Exception):
    """A construct with no exact SQL form; ``feature`` (and ``str()``) names it. The pack then runs on Python only."""

    def __init__(self, feature: str):
        super().__init__(feature)
        self.feature = feature


# Python's str.strip() removes every character for which str.isspace() is true; SQL's TRIM
# removes spaces only, and regex \s is ASCII in RE2 and Java. Spell the set out.
# Written out rather than found by scanning every code point at import (0.1-0.2 s for every
# command); tests/test_sql_coerce.py checks it against str.isspace() on each Python run.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
WHITESPACE_CLASS = (
    "["
    + "".join(
        re.escape(c) if c in "\\]^-[" else (c if c.isprintable() and c != " " else f"\\x{{{ord(c):x}}}")
        for c in PY_WHITESPACE
    )
    + "]"
)


def strip(value: exp.Expr) -> exp.Expr:
    """``str.strip()``: leading and trailing Unicode whitespace removed."""
    leading = exp.RegexpReplace(
        this=value, expression=exp.Literal.string(f"^{WHITESPACE_CLASS}+"), replacement=exp.Literal.string("")
    )
    return exp.RegexpReplace(
        this=leading, expression=exp.Literal.string(f"{WHITESPACE_CLASS}+$"), replacement=exp.Literal.string("")
    )


def null_if_any_null(args, result: exp.Expr) -> exp.Expr:
    """``result``, or null when any argument is null (for SQL functions that skip nulls)."""
    test: exp.Expr | None = None
    for arg in args:
        is_null = exp.Is(this=arg.copy(), expression=exp.Null())
        test = is_null if test is None else exp.Or(this=test, expression=is_null)
    return exp.Case(ifs=[exp.If(this=test, true=exp.Null())], default=result)


def length(args, nodes, as_of):
    if nodes[0].type == T.LIST:
        return exp.ArraySize(this=args[0])
    return exp.Length(this=args[0])


# Python's str.upper()/lower() apply Unicode's full case mapping, where one character can become
# several ('ß' -> 'SS', 'ﬁ' -> 'FI', 'İ' -> 'i̇'); DuckDB's UPPER/LOWER map one character to one
# ('ß' -> 'ẞ'). Those characters are replaced by Python's result first (a no-op for Java's, which
# maps fully too). Only the final-sigma rule of lower() ('ΑΣ' -> 'ας') is left to the database.
# Built on first use, not at import: scanning every code point costs ~0.4 s, paid by every
# dealgate command otherwise, and only packs that call lower() or upper() need the tables.
@functools.cache
def multi_upper() -> dict:
    return {c: c.upper() for c in map(chr, range(0x110000)) if len(c.upper()) > 1}


@functools.cache
def multi_lower() -> dict:
    return {c: c.lower() for c in map(chr, range(0x110000)) if len(c.lower()) > 1}


def _expanded(value: exp.Expr, table: dict) -> exp.Expr:
    """``value`` with each key of ``table`` replaced by its text, when it holds any (else as it is)."""
    replaced = value.copy()
    for char, text in table.items():
        replaced = exp.Anonymous(
            this="REPLACE", expressions=[replaced, exp.Literal.string(char), exp.Literal.string(text)]
        )
    holds = exp.RegexpLike(this=value.copy(), expression=exp.Literal.string("[" + "".join(table) + "]"))
    return exp.Case(ifs=[exp.If(this=holds, true=replaced)], default=value)


def lower(args, nodes, as_of):
    return exp.Lower(this=_expanded(args[0], multi_lower()))


def upper(args, nodes, as_of):
    return exp.Upper(this=_expanded(args[0], multi_upper()))


def trim(args, nodes, as_of):
    return strip(args[0])


def contains(args, nodes, as_of):
    container, item = args
    if nodes[0].type == T.LIST:
        return null_if_any_null(args, exp.ArrayContains(this=container.copy(), expression=item.copy()))
    position = exp.StrPosition(this=lower([container], nodes, as_of), substr=lower([item], nodes, as_of))
    return exp.GT(this=position, expression=exp.Literal.number(0))


def startswith(args, nodes, as_of):
    return exp.StartsWith(this=args[0], expression=args[1])


def endswith(args, nodes, as_of):
    value, suffix = args
    tail = exp.Right(this=value, expression=exp.Length(this=suffix.copy()))
    return exp.EQ(this=tail, expression=suffix)


def coalesce(args, nodes, as_of):
    return exp.Coalesce(this=args[0], expressions=list(args[1:]))


def least(args, nodes, as_of):
    return null_if_any_null(args, exp.Least(this=args[0].copy(), expressions=[a.copy() for a in args[1:]]))


def greatest(args, nodes, as_of):
    return null_if_any_null(args, exp.Greatest(this=args[0].copy(), expressions=[a.copy() for a in args[1:]]))


def absolute(args, nodes, as_of):
    return exp.Abs(this=args[0])


def round_half_up(args, nodes, as_of):
    """SQL's ROUND on exact numbers rounds half away from zero: our half-up."""
    places = 0
    if len(nodes) > 1:
        node = nodes[1]
        if type(node).__name__ != "Literal" or not isinstance(node.value, int):
            raise Unsupported("round() with a number of places that is not a literal")
        places = node.value
    if places > 18:  # more places than any value the SQL engines hold: the value as it is
        return args[0]
    return exp.Round(this=args[0], decimals=exp.Literal.number(places))


def days_between(args, nodes, as_of):
    return exp.DateDiff(this=args[1], expression=args[0], unit=exp.var("DAY"))


def days_since(args, nodes, as_of):
    return exp.DateDiff(this=as_of, expression=args[0], unit=exp.var("DAY"))


def year(args, nodes, as_of):
    return exp.Year(this=args[0])


def month(args, nodes, as_of):
    return exp.Month(this=args[0])


def quarter(args, nodes, as_of):
    return exp.Quarter(this=args[0])
