"""Turning raw values into typed field values.

One place decides what '$12,500.00', 'TRUE', '03/01/2026' or 'Closed Won'
mean, so that CSV cells, JSON values, YAML defaults and test-case deals all
agree. A value that cannot be read raises ValueProblem with a reason fit to
show a user; blank means null (unknown), never zero.

Two entry points share the same parsers:

- ``coerce(type, value, ...)`` for any single value (text or a JSON/YAML native);
- ``text_converter(type, ...)`` returns a function for non-blank text of one
  field, built once per export column. It takes fast paths (a dict lookup for
  booleans and stages, a memo for dates, a direct ``Decimal`` for plain
  numbers) but always gives the same value or the same ValueProblem as
  ``coerce`` (the tests check this property).

Numbers are exact ``Decimal``; a comma is accepted only as a thousands
separator ('1,234.50', or Indian grouping '12,34,567'), so a European
'1.234,50' or '1,5' is refused instead of silently read as 1.2345 or 15.

Every rule here is also compiled to SQL (``engine.sql.coerce``), which must give
the same value or the same message for every input text. So the rules are spelled
out rather than left to what ``Decimal()``, ``int()`` or ``fromisoformat()`` happen
to accept on one Python version: digits are the ASCII 0-9 only (Python would read
Arabic-Indic '١٢٣' as 123), a number's grammar is a regex, and ISO date-times have
one explicit grammar.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from decimal import Decimal

from . import types as T

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
BOOL_WORDS = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
# The ISO date-times read (after the ISO_DATETIME prefix): seconds, a fraction and a zone are optional.
ISO_DATETIME_FULL = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,][0-9]+)?)?(?:Z|[+-]([0-9]{2})(?::?([0-9]{2}))?)?"
)
# Digits Python's int(), Decimal() and regex \d would read but an export never means: '١٢٣', '１２３'.
# Every currency symbol (Unicode category Sc: $ € £ ¥ ₹ ₩ ₽ …): a cell may hold only its field's.
# Written out (Unicode 14) rather than found by scanning every code point at import, which cost
# every command 0.2-0.4 s; tests/test_values.py checks it against this Python's Unicode database.
CURRENCY_SYMBOLS = (
    "$\u00a2\u00a3\u00a4\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9"
    "\u0e3f\u17db\u20a0\u20a1\u20a2\u20a3\u20a4\u20a5\u20a6\u20a7\u20a8\u20a9\u20aa\u20ab"
    "\u20ac\u20ad\u20ae\u20af\u20b0\u20b1\u20b2\u20b3\u20b4\u20b5\u20b6\u20b7\u20b8\u20b9"
    "\u20ba\u20bb\u20bc\u20bd\u20be\u20bf\u20c0\ua838\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5"
    "\uffe6\U00011fdd\U00011fde\U00011fdf\U00011fe0\U0001e2ff\U0001ecb0"
)
# The symbol a money field's currency is written with; a currency without one accepts none.
SYMBOL_OF = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "SGD": "$",
    "HKD": "$",
    "MXN": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
}
_SYMBOL_CLASS = re.escape(CURRENCY_SYMBOLS)
# A leading or trailing ISO code ('USD 5', '5 USD'); ('+-.' is a range in a character class:
# it holds '+', ',', '-' and '.').
_LEADING_CODE = re.compile(rf"^([A-Z]{{3}})(?=[0-9\s{_SYMBOL_CLASS}(+-.])")
_TRAILING_CODE = re.compile(r"(?<=[0-9\s)])([A-Z]{3})$")
# Whitespace or a currency symbol between two parts of a number: '1 5', '12€345', '1 000'.
# (Looked for once a leading and a trailing code are off: '5 EUR' is no split number; a sign
# before a symbol, '-$5', is no number part.)
_SPLIT_NUMBER = re.compile(rf"(?:[0-9.,eE]|[eE][+-])[\s{_SYMBOL_CLASS}]+[0-9.,eE+-]")
# What is taken off a money cell once its currency is known to be the field's: whitespace and
# its symbol anywhere, its code at either end.
_MONEY_NOISE = re.compile(rf"[\s{_SYMBOL_CLASS}]|^[A-Z]{{3}}(?=[0-9\s{_SYMBOL_CLASS}(+-.])|(?<=[0-9\s)])[A-Z]{{3}}$")
# Thousands grouping: western 1,234,567 or Indian 12,34,567; the comma is never a decimal point.
_GROUPED = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3})(?:\.[0-9]*)?$")
# The decimal marks a number field may declare ('decimal_mark'): the point (the default), or the
# comma of a European export, whose thousands are then grouped by points or by a space.
DECIMAL_MARKS = (".", ",")
# The spaces a comma-mark locale groups thousands with: a space, a no-break space (Excel, many CRMs)
# and the narrow no-break space (French, as CLDR writes it). Each is read as one group mark between
# two digits; any other whitespace stays noise around the number, or splits it.
GROUP_SPACES = " \u00a0\u202f"
# A comma-mark number once its group spaces are '_': thousands grouped by points or by spaces
# (one kind in a number, groups of three), the comma its decimal mark.
_GROUPED_COMMA = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?:_[0-9]{3})+)(?:,[0-9]*)?$")
# What is left of a group space that is not between two digits, once the rest of the noise is off:
# taken off beside a sign or a parenthesis (these pairs, in this order, once each) and at either end.
_LOOSE_GROUP_SPACES = ("(_", "_)", "-_", "+_", "_-", "_+")
_SPACE_OR_SYMBOL = re.compile(rf"[\s{_SYMBOL_CLASS}]")
# A split number in a comma-mark money cell: as _SPLIT_NUMBER, except that one group space between
# two digits groups thousands ('1 234,56').
_SPLIT_COMMA_NUMBER = re.compile(
    rf"(?:[.,eE]|[eE][+-])[\s{_SYMBOL_CLASS}]+[0-9.,eE+-]"
    rf"|[0-9][\s{_SYMBOL_CLASS}]+[.,eE+-]"
    rf"|[0-9][\s{_SYMBOL_CLASS}]{{2,}}[0-9]"
    rf"|[0-9](?:[^\S{GROUP_SPACES}]|[{_SYMBOL_CLASS}])[0-9]"
)
# What Decimal() is asked to read: sign, digits with at most one point, an optional exponent.
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?")
# A decimal digit other than 0-9: Python would read '١٢٣' (Arabic-Indic) or '１２３' (full width) as 123.
_NON_ASCII_DIGIT = re.compile(r"[^\D0-9]")
# Exponents longer than this are all equally absurd; the bound keeps int() and Decimal() away from them.
MAX_EXPONENT_DIGITS = 15
# Excel shows long numbers as '7.22671E+19' (the sign is always written) or keeps 15
# significant digits and pads with zeros ('72267051130851900000'); pandas writes '12345.0'.
EXCEL_FLOAT_ID = re.compile(r"^\d+(\.\d+)?[eE][+-]\d+$|^[1-9]\d{14}0+$|^\d+\.0+$")

# Bounds that keep a typo or a hostile file from making huge numbers: deal values up to
# 10^16 (exclusive) and at most 6 decimal places; whole numbers likewise. Every value read
# fits DECIMAL(22, 6) exactly, so the SQL engines hold the very same numbers.
MAX_ADJUSTED_EXPONENT = 15
MIN_EXPONENT = -6
MAX_INTEGER = 10**16 - 1
DATE_MEMO_SIZE = 65_536

_FORMAT_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%H": "hh",
    "%I": "hh",
    "%M": "mm",
    "%S": "ss",
    "%p": "AM/PM",
    "%b": "Mon",
    "%B": "Month",
    "%f": "ffffff",
    "%z": "+hhmm",
    "%%": "%",
}


class ValueProblem(ValueError):
    """A value that cannot be read as its field's type; the message says why."""


def _q(text, limit: int = 60) -> str:
    """``text`` quoted for a message, cut short if long (the full value travels separately)."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "…"
    if any(c in text for c in "\r\n\t"):  # a message is one line; the raw value keeps its newlines
        text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return f"'{text}'"


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _finite(value: Decimal, text, what: str) -> Decimal:
    """``value`` if it is a finite number of sane size; integral exponents are made plain."""
    if not value.is_finite():
        raise ValueProblem(f"{_q(text)} is not {what}")
    if value and value.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise ValueProblem(f"{_q(text)} is too large for {what}")
    exponent = int(value.as_tuple().exponent)  # an int: the value is finite
    if exponent < MIN_EXPONENT:
        raise ValueProblem(f"{_q(text)} has too many decimal places (at most {-MIN_EXPONENT})")
    if exponent > 0:
        value = value.quantize(Decimal(1))  # 1.5E+6 -> 1500000, so it prints as written money does
    return value


def _ascii_digits(text: str, what: str) -> None:
    """Refuse digits other than 0-9, which int() and Decimal() would silently read."""
    if _NON_ASCII_DIGIT.search(text):
        raise ValueProblem(f"{_q(text)} is not {what} (digits must be 0-9)")


def _number(cleaned: str, text: str, what: str) -> Decimal:
    """A Decimal from digits, sign, point, thousands commas and an exponent; nothing else.

    The grammar is ``_NUMBER`` (so '1_000', 'NaN', 'Infinity' and '0x1F' are not numbers),
    and the bounds are checked on the digits and exponent as written, before Decimal()
    sees them: '1e99999999999999999999' is too large, not a crash or a different message.
    """
    if "," in cleaned:
        if not _GROUPED.match(cleaned):
            raise ValueProblem(f"{_q(text)} is not {what} (a comma may only separate thousands)")
        cleaned = cleaned.replace(",", "")
    found = _NUMBER.fullmatch(cleaned)
    if found is None or not (found.group(2) or found.group(3)):
        raise ValueProblem(f"{_q(text)} is not {what}")
    _, whole, fraction, exponent_sign, exponent_digits = found.groups()
    fraction = fraction or ""
    digits = (whole + fraction).lstrip("0")
    exponent_digits = (exponent_digits or "").lstrip("0")
    if len(exponent_digits) > MAX_EXPONENT_DIGITS:
        exponent = 10**MAX_EXPONENT_DIGITS
    else:
        exponent = int(exponent_digits or "0")
    exponent = (-exponent if exponent_sign == "-" else exponent) - len(fraction)
    if digits and exponent + len(digits) - 1 > MAX_ADJUSTED_EXPONENT:
        raise ValueProblem(f"{_q(text)} is too large for {what}")
    if exponent < MIN_EXPONENT:
        raise ValueProblem(f"{_q(text)} has too many decimal places (at most {-MIN_EXPONENT})")
    if not digits and exponent > 0:
        return Decimal(0)  # '0E+99': Decimal() would refuse a long exponent; zero is zero
    value = Decimal(cleaned)
    if int(value.as_tuple().exponent) > 0:  # finite: 'n', 'N' and 'F' were refused above
        value = value.quantize(Decimal(1))  # 1.5E+6 -> 1500000, so it prints as written money does
    return value


def _comma_number(cleaned: str, text: str, what: str) -> Decimal:
    """``_number`` of a number written with a decimal comma: '1.234,56', '1_234,56' (group spaces as '_').

    The grouping must be whole (groups of three, one kind of mark), so '1,234.56' or '1.23.4' is
    refused, never read as another number; then the text is ``_number``'s, with a decimal point.
    """
    if "." in cleaned or "_" in cleaned:
        if not _GROUPED_COMMA.match(cleaned):
            raise ValueProblem(
                f"{_q(text)} is not {what} (the decimal mark is ','; '.' or a space may only separate thousands)"
            )
        cleaned = cleaned.replace(".", "").replace("_", "")
    return _number(cleaned.replace(",", "."), text, what)


def _no_underscore(text: str, stripped: str, what: str) -> None:
    """A comma-mark number holds no '_': it stands for a group space while the number is read."""
    if "_" in stripped:
        raise ValueProblem(f"{_q(text)} is not {what}")


def _group_spaces(text: str) -> str:
    """``text`` with its group spaces (see GROUP_SPACES) as '_', so that noise removal keeps them."""
    for space in GROUP_SPACES:
        text = text.replace(space, "_")
    return text


def _loose_group_spaces(cleaned: str) -> str:
    """``cleaned`` without the group spaces that group nothing: beside a sign, a parenthesis, or an end."""
    for pair in _LOOSE_GROUP_SPACES:
        cleaned = cleaned.replace(pair, pair.replace("_", ""))
    return cleaned.strip("_")


def parse_money(text: str, currency: str | None = None, decimal_mark: str = ".") -> Decimal:
    """'$431,370', '1,234.50', '(1,200)', '$(1,200)', '-$5', 'USD 5', and the accounting '$-' (zero).

    With a ``currency`` (a money field's), a code or symbol of another currency ('JPY 150000',
    '€1.500', '5 TBD') is refused, never read as an amount of this one; without one (an amount
    with no currency to hold it to) any single code or symbol is accepted. Either way a number split
    by a space or a symbol ('1 5', '12€345') is refused, not read as 15 or 12345.

    With ``decimal_mark`` ',' (a field's declared European format) the comma is the decimal mark
    and points or spaces group thousands: '1.234,56', '€1.234,56', '1 234,56 €', '1234,56'.
    """
    _ascii_digits(text, "an amount")
    stripped = text.strip()
    if currency is not None:
        _same_currency(text, stripped, currency)
    comma = decimal_mark == ","
    if (_SPLIT_COMMA_NUMBER if comma else _SPLIT_NUMBER).search(_without_codes(stripped)):
        raise ValueProblem(f"{_q(text)} is not an amount (a space or currency sign inside the number)")
    if comma:  # codes off, group spaces kept (as '_') while the other spaces and the symbols go
        _no_underscore(text, stripped, "an amount")
        cleaned = _loose_group_spaces(_SPACE_OR_SYMBOL.sub("", _group_spaces(_without_codes(stripped))))
    else:
        cleaned = _MONEY_NOISE.sub("", stripped)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    if cleaned == "-":
        return Decimal(0)  # accounting format writes zero as '$ -'
    if not cleaned or cleaned[0] in "+-" and negative:
        raise ValueProblem(f"{_q(text)} is not an amount")
    value = (_comma_number if comma else _number)(cleaned, text, "an amount")
    return -value if negative else value


def _without_codes(stripped: str) -> str:
    """``stripped`` without its leading and trailing ISO codes (both found on ``stripped`` itself)."""
    start = 3 if _LEADING_CODE.search(stripped) else 0
    end = len(stripped) - 3 if _TRAILING_CODE.search(stripped) else len(stripped)
    return stripped[start:end]


def _same_currency(text: str, stripped: str, currency: str) -> None:
    """Refuse a money cell whose ISO code or currency symbol is not ``currency``'s."""
    for pattern in (_LEADING_CODE, _TRAILING_CODE):
        found = pattern.search(stripped)
        if found is not None and found.group(1) != currency:
            raise ValueProblem(f"{_q(text)} is in {found.group(1)}, not {currency}")
    own = SYMBOL_OF.get(currency)
    for char in stripped:
        if char in CURRENCY_SYMBOLS and char != own:
            raise ValueProblem(f"{_q(text)} is in {char}, not {currency}")


def parse_decimal(text: str, decimal_mark: str = ".") -> Decimal:
    _ascii_digits(text, "a number")
    if decimal_mark == ",":
        _no_underscore(text, text, "a number")
        return _comma_number(_group_spaces(text.strip()), text, "a number")
    return _number(text.strip(), text, "a number")


_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]{1,16}")


def parse_integer(text: str) -> int:
    """'12', ' -4 ', '1,000', '1.0', '1e3'; read as a number that must be whole."""
    cleaned = text.strip()
    if _PLAIN_INTEGER.fullmatch(cleaned):
        return int(cleaned)  # the everyday case; 16 digits are within MAX_INTEGER
    _ascii_digits(text, "a whole number")
    value = _number(cleaned, text, "a whole number")
    if value != value.to_integral_value():
        raise ValueProblem(f"{_q(text)} is not a whole number")
    return int(value)  # _number's bound (below 10**16) is MAX_INTEGER's


def parse_bool(text: str) -> bool:
    value = BOOL_WORDS.get(text.strip().lower())
    if value is None:
        raise ValueProblem(f"{_q(text)} is not true/false (expected TRUE/FALSE, yes/no, Y/N or 1/0)")
    return value


def describe_formats(formats: tuple) -> str:
    """'%m/%d/%Y' -> 'MM/DD/YYYY', for messages meant for people who never wrote strptime."""

    def one(fmt: str) -> str:
        return re.sub(r"%.", lambda m: _FORMAT_WORDS.get(m.group(0), m.group(0)), fmt)

    shown = [one(f) for f in formats] + ([] if "%Y-%m-%d" in formats else ["YYYY-MM-DD"])
    return " or ".join(shown)


def parse_date(text: str, formats: tuple = ()) -> dt.date:
    """A date in one of the declared formats, or ISO 8601. Day/month order is never guessed.

    ISO dates (YYYY-MM-DD) and ISO datetimes (Salesforce API '2024-01-22T16:14:25.000+0000')
    are always accepted; a datetime gives the date as written (no time-zone shift). A value
    in the right shape naming a day that does not exist ('02/30/2026') is an "impossible
    date", told apart from a value in no known shape.
    """
    raw = text.strip()
    impossible = False
    tried = () if _NON_ASCII_DIGIT.search(raw) else formats  # strptime's \d would read '٠١'
    for fmt in tried:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError as exc:
            impossible = impossible or _out_of_range(exc)
    if ISO_DATE.match(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            impossible = True
    elif ISO_DATETIME.match(raw):
        found = ISO_DATETIME_FULL.fullmatch(raw)
        if found is not None:
            try:
                return _iso_datetime(found)
            except ValueError:
                impossible = True
    if impossible:
        raise ValueProblem(f"impossible date {_q(raw)}")
    raise ValueProblem(f"{_q(text)} is not a valid date (expected {describe_formats(formats)})")


def _out_of_range(exc: ValueError) -> bool:
    """The text had the shape of a date but names one that does not exist (February 30th)."""
    message = str(exc)
    return "out of range" in message or "must be in" in message


def _iso_datetime(found: re.Match) -> dt.date:
    """The date of an ISO date-time ('2024-01-22T16:14:25.000+0000', Salesforce's API).

    Spelled out (``ISO_DATETIME_FULL``) rather than left to ``fromisoformat``, whose grammar
    grows with each Python version: any part out of range (hour 24, second 60, offset +24:00)
    makes an impossible date.
    """
    year, month, day, hour, minute, second, zone_hour, zone_minute = found.groups()
    limits = ((hour, 23), (minute, 59), (second, 59), (zone_hour, 23), (zone_minute, 59))
    if any(part is not None and int(part) > limit for part, limit in limits):
        raise ValueError("a time part is out of range")
    return dt.date(int(year), int(month), int(day))


def parse_list(text: str, separator: str = ";") -> tuple:
    return tuple(part.strip() for part in text.split(separator) if part.strip())


def stage_id(label: str, stages) -> str:
    key = label.strip().lower()
    if stages is None:
        return label.strip()
    if key in stages:
        return stages[key]
    raise ValueProblem(f"unknown stage label {_q(label.strip())}")


def coerce(
    type_: str,
    value,
    *,
    formats: tuple = (),
    separator: str = ";",
    stages=None,
    currency: str = "USD",
    decimal_mark: str = ".",
):
    """The typed value of ``value`` (a string from a file, or a JSON/YAML native value).

    ``stages`` maps lower-cased labels and ids to stage ids, for stage fields.
    Returns None for blanks. Raises ValueProblem when the value cannot be read.
    """
    if is_blank(value):
        return None
    if isinstance(value, str):
        return _from_text(type_, value, formats, separator, stages, currency, decimal_mark)
    return _from_native(type_, value, formats, separator, stages)


def _from_text(type_, text, formats, separator, stages, currency="USD", decimal_mark="."):
    if type_ == T.STRING:
        return text.strip()
    if type_ == T.MONEY:
        return parse_money(text, currency, decimal_mark)
    if type_ == T.DECIMAL:
        return parse_decimal(text, decimal_mark)
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


def _native_number(value) -> Decimal | None:
    """int, float or Decimal (not bool) as a Decimal; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips: 0.1 -> Decimal('0.1')
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise ValueProblem(f"{value} is too large")
    return Decimal(value)


def _from_native(type_, value, formats, separator, stages):
    number = _native_number(value)
    if type_ in (T.MONEY, T.DECIMAL) and number is not None:
        return _finite(number, value, "a number")
    if type_ == T.INT and number is not None:
        number = _finite(number, value, "a whole number")
        if number != number.to_integral_value():
            raise ValueProblem(f"{value!r} is not a whole number")
        if abs(number) > MAX_INTEGER:
            raise ValueProblem(f"{value!r} is too large for a whole number")
        return int(number)
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
    if type_ == T.STRING and number is not None and not isinstance(value, float):
        return str(value)
    raise ValueProblem(f"{value!r} is not {T.describe(type_)}")


def text_converter(
    type_: str,
    *,
    formats: tuple = (),
    separator: str = ";",
    stages=None,
    currency: str = "USD",
    decimal_mark: str = ".",
) -> Callable[[str], object]:
    """A function reading the non-blank text of one field, built once per export column.

    Same results as ``coerce(type_, text, ...)`` for every non-blank ``text``; blank
    handling (null, default, required) is the caller's.
    """
    if type_ == T.STRING:
        return str.strip
    if type_ == T.MONEY:
        slow = functools.partial(parse_money, currency=currency, decimal_mark=decimal_mark)
        if decimal_mark == ",":
            return _fast_comma_number(slow)
        # The fast path's '$' is only the field's own symbol when its currency is written with '$'.
        plain = _PLAIN_MONEY if SYMBOL_OF.get(currency) == "$" else _PLAIN_DECIMAL
        return _fast_number(slow, plain)
    if type_ == T.DECIMAL:
        if decimal_mark == ",":
            return _fast_comma_number(functools.partial(parse_decimal, decimal_mark=decimal_mark))
        return _fast_number(parse_decimal, _PLAIN_DECIMAL)
    if type_ == T.INT:
        return parse_integer
    if type_ == T.BOOL:
        return _bool_converter()
    if type_ == T.DATE:
        return _date_converter(tuple(formats))
    if type_ == T.LIST:
        return lambda text: parse_list(text, separator)
    if type_ == T.STAGE:
        return _stage_converter(stages)
    raise ValueProblem(f"unknown type {type_}")


# The everyday shapes of amounts and numbers, read without the general parser. Sizes are
# bounded so that whatever matches is within the limits _finite() enforces.
_PLAIN_MONEY = re.compile(r"\s*\$?(-?)([0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,16})(\.[0-9]{0,6})?\s*")
_PLAIN_DECIMAL = re.compile(r"\s*(-?)([0-9]{1,16})(\.[0-9]{0,6})?\s*")


def _fast_number(slow: Callable[[str], Decimal], plain: re.Pattern) -> Callable[[str], Decimal]:
    """'$12,500.00' or '0.10' straight to Decimal; anything else ('USD 5', 'TBD') to the full parser."""
    match = plain.fullmatch

    def convert(text: str) -> Decimal:
        found = match(text)
        if found is None:
            return slow(text)
        sign, whole, fraction = found.groups()
        return Decimal(sign + whole.replace(",", "") + (fraction or ""))

    return convert


# A plain number with a decimal comma ('1234,56'); grouped ones ('1.234,56') go to the full parser.
_PLAIN_COMMA = re.compile(r"\s*(-?)([0-9]{1,16})(?:,([0-9]{1,6}))?\s*")


def _fast_comma_number(slow: Callable[[str], Decimal]) -> Callable[[str], Decimal]:
    """'1234,56' straight to Decimal; anything else to the full parser (``slow``)."""
    match = _PLAIN_COMMA.fullmatch

    def convert(text: str) -> Decimal:
        found = match(text)
        if found is None:
            return slow(text)
        sign, whole, fraction = found.groups()
        return Decimal(f"{sign}{whole}.{fraction}" if fraction else sign + whole)

    return convert


def _bool_converter() -> Callable[[str], bool]:
    words = {}
    for word, value in BOOL_WORDS.items():
        words[word] = words[word.upper()] = words[word.title()] = value

    def convert(text: str) -> bool:
        value = words.get(text)
        if value is None:
            return parse_bool(text)
        return value

    return convert


def _date_converter(formats: tuple) -> Callable[[str], dt.date]:
    """Exports repeat the same few thousand dates: remember them (bounded)."""
    memo: dict = {}

    def convert(text: str) -> dt.date:
        value = memo.get(text)
        if value is None:
            value = parse_date(text, formats)
            if len(memo) >= DATE_MEMO_SIZE:
                memo.clear()
            memo[text] = value
        return value

    return convert


def _stage_converter(stages) -> Callable[[str], str]:
    if stages is None:
        return str.strip
    get = stages.get

    def convert(text: str) -> str:
        value = get(text.strip().lower())
        if value is None:
            raise ValueProblem(f"unknown stage label {_q(text.strip())}")
        return value

    return convert


def looks_like_mangled_id(text: str) -> bool:
    """Excel turns long numeric ids into floats ('7.22671E+19', '72267051130851900000')."""
    return bool(EXCEL_FLOAT_ID.match(text.strip()))
