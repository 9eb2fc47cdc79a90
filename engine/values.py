"""Turning raw values into typed field values.

One place decides what '$12,500.00', 'TRUE', '03/01/2026' or 'Closed Won'
mean, so that CSV cells, JSON values, YAML defaults and test-case deals all
agree. A value that cannot be read raises ValueProblem with a reason fit to
show a user; blank means null (unknown), never zero.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from .expr import types as T

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_MONEY_NOISE = re.compile(r"[\s$€£¥,]|^[A-Z]{3}\s*|\s*[A-Z]{3}$")
EXCEL_FLOAT_ID = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$|^[1-9]\d{14}0+$|^\d+\.0+$")


class ValueProblem(ValueError):
    """A value that cannot be read as its field's type; the message says why."""


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_money(text: str) -> Decimal:
    """'$431,370', '1,234.50', '(1,200)', '-$5' and the accounting '$-' (zero)."""
    raw = text.strip()
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1]
    cleaned = _MONEY_NOISE.sub("", raw)
    if cleaned.startswith("-$") or cleaned.startswith("$-"):
        cleaned = "-" + cleaned[2:]
    cleaned = cleaned.replace("$", "")
    if cleaned in ("-", ""):
        if "-" in raw:
            return Decimal(0)  # accounting format writes zero as '$ -'
        raise ValueProblem(f"'{text}' is not an amount")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueProblem(f"'{text}' is not an amount") from None
    if not value.is_finite():
        raise ValueProblem(f"'{text}' is not an amount")
    return -value if negative else value


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueProblem(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise ValueProblem(f"'{text}' is not a number")
    return value


def parse_integer(text: str) -> int:
    cleaned = text.strip().replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueProblem(f"'{text}' is not a whole number") from None
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise ValueProblem(f"'{text}' is not a whole number")


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem(f"'{text}' is not true/false (expected TRUE/FALSE, yes/no, Y/N or 1/0)")


def parse_date(text: str, formats: tuple = ()) -> dt.date:
    """A date in one of the declared formats, or ISO 8601. Day/month order is never guessed."""
    raw = text.strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    if ISO_DATETIME.match(raw):
        try:
            return _iso_datetime(raw).date()
        except ValueError:
            pass
    expected = ", ".join(formats) if formats else "YYYY-MM-DD"
    raise ValueProblem(f"'{text}' is not a valid date (expected {expected})")


def _iso_datetime(raw: str) -> dt.datetime:
    # Salesforce writes '2024-01-22T16:14:25.000+0000'; fromisoformat wants '+00:00' before 3.11.
    fixed = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", raw.replace("Z", "+00:00"))
    return dt.datetime.fromisoformat(fixed)


def parse_list(text: str, separator: str = ";") -> tuple:
    return tuple(part.strip() for part in text.split(separator) if part.strip())


def coerce(type_: str, value, *, formats: tuple = (), separator: str = ";", stages=None):
    """The typed value of ``value`` (a string from a file, or a JSON/YAML native value).

    ``stages`` maps lower-cased labels and ids to stage ids, for stage fields.
    Returns None for blanks. Raises ValueProblem when the value cannot be read.
    """
    if is_blank(value):
        return None
    if isinstance(value, str):
        return _from_text(type_, value, formats, separator, stages)
    return _from_native(type_, value, formats, separator, stages)


def _from_text(type_, text, formats, separator, stages):
    if type_ == T.STRING:
        return text.strip()
    if type_ == T.MONEY:
        return parse_money(text)
    if type_ == T.DECIMAL:
        return parse_decimal(text)
    if type_ == T.INT:
        return parse_integer(text)
    if type_ == T.BOOL:
        return parse_bool(text)
    if type_ == T.DATE:
        return parse_date(text, formats)
    if type_ == T.LIST:
        return parse_list(text, separator)
    if type_ == T.STAGE:
        return stage_id(text, stages)
    raise ValueProblem(f"unknown type {type_}")


def stage_id(label: str, stages) -> str:
    key = label.strip().lower()
    if stages is None:
        return label.strip()
    if key in stages:
        return stages[key]
    raise ValueProblem(f"unknown stage label '{label.strip()}'")


def _from_native(type_, value, formats, separator, stages):
    if type_ in (T.MONEY, T.DECIMAL) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not result.is_finite():
            raise ValueProblem(f"{value!r} is not a number")
        return result
    if type_ == T.INT and isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        if value != int(value):
            raise ValueProblem(f"{value!r} is not a whole number")
        return int(value)
    if type_ == T.BOOL and isinstance(value, bool):
        return value
    if type_ == T.BOOL and isinstance(value, int) and value in (0, 1):
        return bool(value)
    if type_ == T.DATE and isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    if type_ == T.LIST and isinstance(value, (list, tuple)):
        if not all(isinstance(item, str) for item in value):
            raise ValueProblem("a list field holds strings only")
        return tuple(value)
    if type_ == T.STRING and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise ValueProblem(f"{value!r} is not {T.describe(type_)}")


def looks_like_mangled_id(text: str) -> bool:
    """Excel turns long numeric ids into floats ('7.22671E+19', '72267051130851900000')."""
    return bool(EXCEL_FLOAT_ID.match(text.strip()))
