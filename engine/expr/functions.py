"""The fixed list of functions an expression may call.

Each function is pure, bounded and null-aware: with a null argument it returns
null (except ``coalesce``, whose job is nulls). The table gives the type
checker each function's signature; generated code calls the implementations
directly.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

import attrs

from .. import types as T


@attrs.frozen
class Signature:
    name: str
    params: tuple  # one set of accepted types per parameter
    returns: str  # a type, or "same" for the first argument's type, or "numeric" for the widest numeric
    variadic: bool = False  # the last parameter repeats
    min_args: int | None = None
    doc: str = ""
    null_tolerant: bool = False  # a null argument is meaningful (coalesce)


MAX_ROUND_PLACES = 100  # round(x, 1000) asks for more precision than any amount has

_TEXT = {T.STRING}
_SIZED = {T.STRING, T.LIST}
_NUM = T.NUMERIC
_ORDERED = T.NUMERIC | {T.DATE}

SIGNATURES = {
    s.name: s
    for s in [
        Signature("len", (_SIZED,), T.INT, doc="number of characters of a string, or items of a list"),
        Signature("lower", (_TEXT,), T.STRING, doc="the string in lower case"),
        Signature("upper", (_TEXT,), T.STRING, doc="the string in upper case"),
        Signature("trim", (_TEXT,), T.STRING, doc="the string without surrounding spaces"),
        Signature("contains", (_SIZED, _TEXT), T.BOOL,
                  doc="true when a string contains a substring (case-insensitive) or a list holds an item"),
        Signature("startswith", (_TEXT, _TEXT), T.BOOL, doc="true when the string starts with the prefix"),
        Signature("endswith", (_TEXT, _TEXT), T.BOOL, doc="true when the string ends with the suffix"),
        Signature("coalesce", (T.ANY, T.ANY), "same", variadic=True, min_args=2, null_tolerant=True,
                  doc="the first argument that is not null"),
        Signature("min", (_ORDERED, _ORDERED), "numeric", variadic=True, min_args=2, doc="the smallest argument"),
        Signature("max", (_ORDERED, _ORDERED), "numeric", variadic=True, min_args=2, doc="the largest argument"),
        Signature("abs", (_NUM,), "same", doc="the absolute value"),
        Signature("round", (_NUM, {T.INT}), T.DECIMAL, min_args=1,
                  doc="rounded half-up to the given number of decimal places (default 0)"),
        Signature("days_between", ({T.DATE}, {T.DATE}), T.INT, doc="days from the first date to the second"),
        Signature("days_since", ({T.DATE},), T.INT, doc="days from the date to the as-of date"),
        Signature("date", (_TEXT,), T.DATE, doc="a date from 'YYYY-MM-DD' text, e.g. date(\"2026-07-01\")"),
        Signature("year", ({T.DATE},), T.INT, doc="the year of a date"),
        Signature("month", ({T.DATE},), T.INT, doc="the month (1-12) of a date"),
        Signature("quarter", ({T.DATE},), T.INT, doc="the calendar quarter (1-4) of a date"),
    ]
}


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


RUNTIME = {f"fn_{name}": globals()[f"fn_{name}"] for name in SIGNATURES}
RUNTIME.update(op_div=op_div, op_mod=op_mod, Decimal=Decimal)
NEEDS_AS_OF = {"days_since"}
