"""How large a value an expression can make, proven from its tree before anything runs.

Computed fields may use earlier computed fields, so a chain such as ``c2: c1 * c1``,
``c3: c2 * c2`` … doubles the digits at every step: forty steps make whole numbers no
machine can multiply in time, and decimals past Python's exponent limit. Strings do the
same with ``s + s``. Each expression's result is bounded here from its operands' bounds:

- a number by ``digits`` (at most this many digits before the point) and ``places``
  (at most this many after it, the smallest non-zero magnitude);
- a string by ``copies``: how many input texts (cells, each of bounded length) it can hold.

A pack whose bounds pass ``MAX_DIGITS``, ``MAX_PLACES`` or ``MAX_COPIES`` is refused by the
semantic check (DG209), so evaluation never meets a value it cannot hold.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from .. import types as T
from .. import values as V
from . import ir

MAX_DIGITS = 200  # far above any real formula (a product of six amounts has 96 digits)
MAX_PLACES = 200
MAX_COPIES = 100  # the pieces of text one string may be made of
_DIVISION_PRECISION = 28  # Decimal's default context: a quotient has at most 28 significant digits
_CASE_GROWTH = 3  # lower()/upper() can make one character three ('ﬃ' -> 'FFI')

_FIELD_DIGITS = V.MAX_ADJUSTED_EXPONENT + 1
_FIELD_PLACES = -V.MIN_EXPONENT
_SMALL_INT_DIGITS = 20  # len(), days, years, months: far below this


@attrs.frozen
class Size:
    """Bounds on one value: digits before and after the point, or the text pieces of a string."""

    digits: int = 0
    places: int = 0
    copies: int = 0

    def joined(self, other: Size) -> Size:
        """Either of two values (a conditional, coalesce, min, max)."""
        return Size(max(self.digits, other.digits), max(self.places, other.places), max(self.copies, other.copies))

    def too_large(self) -> str | None:
        """What exceeds a limit, in words, or None."""
        if self.digits > MAX_DIGITS:
            return f"a number of up to {self.digits} digits (the limit is {MAX_DIGITS})"
        if self.places > MAX_PLACES:
            return f"a number with up to {self.places} decimal places (the limit is {MAX_PLACES})"
        if self.copies > MAX_COPIES:
            return f"a string made of up to {self.copies} pieces of input text (the limit is {MAX_COPIES})"
        return None


def field_size(type_: str) -> Size:
    """The bound of a value read from an export (or a default) of ``type_``."""
    if type_ in (T.MONEY, T.DECIMAL):
        return Size(_FIELD_DIGITS, _FIELD_PLACES)
    if type_ == T.INT:
        return Size(_FIELD_DIGITS)
    if type_ in (T.STRING, T.STAGE, T.LIST):
        return Size(copies=1)
    return Size()


def size_of(node: ir.Node, fields: dict) -> Size:
    """The bound of ``node``'s value; ``fields`` maps a field name to its Size (base or computed)."""
    return _SIZERS.get(type(node), _no_size)(node, fields)


def _no_size(node, fields) -> Size:
    return Size()  # booleans, dates, comparisons


def _literal(node: ir.Literal, fields) -> Size:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return Size()
    value = Decimal(value)
    if not value:
        return Size(1)
    return Size(max(value.adjusted() + 1, 1), max(-int(value.as_tuple().exponent), 0))


def _field(node: ir.Field, fields) -> Size:
    return fields.get(node.name) or field_size(node.type)


def _arithmetic(node: ir.Arithmetic, fields) -> Size:
    left, right = size_of(node.left, fields), size_of(node.right, fields)
    if node.op == "+" and node.type == T.STRING:
        return Size(copies=left.copies + right.copies)
    if node.op in ("+", "-"):
        return Size(max(left.digits, right.digits) + 1, max(left.places, right.places))
    if node.op == "*":
        return Size(left.digits + right.digits, left.places + right.places)
    if node.op == "/":
        return Size(left.digits + right.places + 1, left.places + right.digits + _DIVISION_PRECISION)
    return Size(left.digits, max(left.places, right.places))  # '%': never larger than the left operand


def _same_as_operand(node, fields) -> Size:
    return size_of(node.operand, fields)


def _conditional(node: ir.Conditional, fields) -> Size:
    return size_of(node.body, fields).joined(size_of(node.orelse, fields))


def _call(node: ir.Call, fields) -> Size:
    args = [size_of(arg, fields) for arg in node.args]
    if node.function in ("coalesce", "min", "max", "abs", "trim"):
        result = Size()
        for arg in args:
            result = result.joined(arg)
        return result
    if node.function in ("lower", "upper"):
        return Size(copies=args[0].copies * _CASE_GROWTH)
    if node.function == "round":
        return Size(args[0].digits + 1, args[0].places)  # rounding up can add one digit, never places
    if node.type in (T.INT, T.DECIMAL, T.MONEY):
        return Size(_SMALL_INT_DIGITS)
    return Size()


_SIZERS: dict[type, Callable[[Any, dict], Size]] = {
    ir.Literal: _literal,
    ir.Field: _field,
    ir.Arithmetic: _arithmetic,
    ir.Negate: _same_as_operand,
    ir.Conditional: _conditional,
    ir.Call: _call,
}
