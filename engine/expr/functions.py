"""The fixed list of functions an expression may call.

Each function is pure, bounded and null-aware: with a null argument it returns
null (except ``coalesce``, whose job is nulls). ``FUNCTIONS`` declares each
one once: its signature for the type checker, its Python implementation for
generated code and the interpreter, and its SQL translation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext

import attrs

from .. import types as T
from . import sqlfunctions as S


@attrs.frozen
class Function:
    """One function of the language, declared once for every engine.

    The type checker reads the signature; generated Python and the reference
    interpreter call ``python``; the SQL compiler calls ``sql(args, nodes, as_of)``
    with the arguments as sqlglot expressions and as IR nodes (for their types),
    or finds ``sql`` None: the function has no exact SQL form, and a pack using it
    runs on the Python engine only.
    """

    name: str
    params: tuple  # one set of accepted types per parameter
    returns: str  # a type, or "same" for the first argument's type, or "numeric" for the widest numeric
    python: Callable = attrs.field(repr=False)
    sql: Callable | None = attrs.field(default=None, repr=False)
    variadic: bool = False  # the last parameter repeats
    min_args: int | None = None
    doc: str = ""
    null_tolerant: bool = False  # a null argument is meaningful (coalesce)
    needs_as_of: bool = False  # the implementation takes the as-of date as a last argument


MAX_ROUND_PLACES = 100  # round(x, 1000) asks for more precision than any amount has

_TEXT = {T.STRING}
_SIZED = {T.STRING, T.LIST}
_NUM = T.NUMERIC
_ORDERED = T.NUMERIC | {T.DATE}


# Implementations. Generated code binds these as fn_<name>; ``as_of`` is passed where needed.


def fn_len(value):
    return None if value is None else len(value)


def fn_lower(value):
    return None if value is None else value.lower()


def fn_upper(value):
    return None if value is None else value.upper()


def fn_trim(value):
    return None if value is None else value.strip()


def fn_contains(container, item):
    if container is None or item is None:
        return None
    if isinstance(container, str):
        return item.lower() in container.lower()
    return item in container


def fn_startswith(value, prefix):
    return None if value is None or prefix is None else value.startswith(prefix)


def fn_endswith(value, suffix):
    return None if value is None or suffix is None else value.endswith(suffix)


def fn_coalesce(*values):
    for value in values:
        if value is not None:
            return value
    return None


def fn_min(*values):
    return None if any(v is None for v in values) else min(values)


def fn_max(*values):
    return None if any(v is None for v in values) else max(values)


def fn_abs(value):
    return None if value is None else abs(value)


def fn_round(value, places=0):
    """Half-up to ``places`` decimals. Never raises: the context is made wide enough for the
    digits asked for, and a request beyond any sensible precision leaves the value as it is."""
    if value is None or places is None:
        return None
    value = Decimal(value)
    if abs(places) > MAX_ROUND_PLACES:
        return value if places > 0 else Decimal(0)
    digits = max(value.adjusted(), 0) + max(places, 0) + 2
    with localcontext() as context:
        context.prec = max(context.prec, digits)
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fn_days_between(start, end):
    return None if start is None or end is None else (end - start).days


def fn_days_since(value, as_of):
    return None if value is None else (as_of - value).days


def fn_date(text):
    return None if text is None else dt.date.fromisoformat(text)


def fn_year(value):
    return None if value is None else value.year


def fn_month(value):
    return None if value is None else value.month


def fn_quarter(value):
    return None if value is None else (value.month - 1) // 3 + 1


def op_div(left, right):
    """Division never raises: by zero (or with a null) it is null."""
    if left is None or right is None or right == 0:
        return None
    return Decimal(left) / Decimal(right)


def op_mod(left, right):
    """Remainder with the sign of the left operand (as SQL's MOD and Decimal's '%'), for whole
    numbers too: Python's int '%' would give -3 % 7 == 4 where Decimal gives -3. By zero (or
    with a null) it is null. Decimal's '%' raises when the quotient has more digits than the
    context holds, so the context is widened to fit."""
    if left is None or right is None or right == 0:
        return None
    if isinstance(left, int) and isinstance(right, int):
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    left, right = Decimal(left), Decimal(right)
    with localcontext() as context:
        context.prec = max(context.prec, left.adjusted() - right.adjusted() + 2, 1)
        return left % right


FUNCTIONS = {
    f.name: f
    for f in [
        Function("len", (_SIZED,), T.INT, fn_len, S.length, doc="number of characters of a string, or items of a list"),
        Function("lower", (_TEXT,), T.STRING, fn_lower, S.lower, doc="the string in lower case"),
        Function("upper", (_TEXT,), T.STRING, fn_upper, S.upper, doc="the string in upper case"),
        Function("trim", (_TEXT,), T.STRING, fn_trim, S.trim, doc="the string without surrounding spaces"),
        Function(
            "contains",
            (_SIZED, _TEXT),
            T.BOOL,
            fn_contains,
            S.contains,
            doc="true when a string contains a substring (case-insensitive) or a list holds an item",
        ),
        Function(
            "startswith",
            (_TEXT, _TEXT),
            T.BOOL,
            fn_startswith,
            S.startswith,
            doc="true when the string starts with the prefix",
        ),
        Function(
            "endswith", (_TEXT, _TEXT), T.BOOL, fn_endswith, S.endswith, doc="true when the string ends with the suffix"
        ),
        Function(
            "coalesce",
            (T.ANY, T.ANY),
            "same",
            fn_coalesce,
            S.coalesce,
            variadic=True,
            min_args=2,
            null_tolerant=True,
            doc="the first argument that is not null",
        ),
        Function(
            "min",
            (_ORDERED, _ORDERED),
            "numeric",
            fn_min,
            S.least,
            variadic=True,
            min_args=2,
            doc="the smallest argument",
        ),
        Function(
            "max",
            (_ORDERED, _ORDERED),
            "numeric",
            fn_max,
            S.greatest,
            variadic=True,
            min_args=2,
            doc="the largest argument",
        ),
        Function("abs", (_NUM,), "same", fn_abs, S.absolute, doc="the absolute value"),
        Function(
            "round",
            (_NUM, {T.INT}),
            T.DECIMAL,
            fn_round,
            S.round_half_up,
            min_args=1,
            doc="rounded half-up to the given number of decimal places (default 0)",
        ),
        Function(
            "days_between",
            ({T.DATE}, {T.DATE}),
            T.INT,
            fn_days_between,
            S.days_between,
            doc="days from the first date to the second",
        ),
        Function(
            "days_since",
            ({T.DATE},),
            T.INT,
            fn_days_since,
            S.days_since,
            needs_as_of=True,
            doc="days from the date to the as-of date",
        ),
        Function(
            "date",
            (_TEXT,),
            T.DATE,
            fn_date,
            None,  # a checked literal: folded into a constant
            doc="a date from 'YYYY-MM-DD' text, e.g. date(\"2026-07-01\")",
        ),
        Function("year", ({T.DATE},), T.INT, fn_year, S.year, doc="the year of a date"),
        Function("month", ({T.DATE},), T.INT, fn_month, S.month, doc="the month (1-12) of a date"),
        Function("quarter", ({T.DATE},), T.INT, fn_quarter, S.quarter, doc="the calendar quarter (1-4) of a date"),
    ]
}

RUNTIME = {f"fn_{name}": function.python for name, function in FUNCTIONS.items()}
RUNTIME.update(op_div=op_div, op_mod=op_mod, Decimal=Decimal)
