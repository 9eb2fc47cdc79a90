"""``engine.values.parse_date`` in SQL: declared strptime formats, then ISO dates and date-times.

A declared format is read with the very regex Python's ``strptime`` builds for it
(``_strptime.TimeRE().pattern(fmt)``), translated to a subset RE2 and Java read alike:
``\\d`` becomes [0-9] (texts holding other digits skip the formats, as in Python),
``\\s`` Python's whitespace class, and every literal letter the class of characters
Python's IGNORECASE matches for it. Like ``re.match`` followed by strptime's
"unconverted data remains" check, the pattern is matched from the start without an end
anchor (leftmost-first, as Python) and must have consumed the whole text.

Then the parts are checked as strptime and ``datetime`` check them: a month or weekday
name must lower-case to a name of the locale (else the format fails), the day must exist
in its month and year (year 0, February 30th, and February 29th without a year are
impossible dates, since strptime's default year is 1900), and a second of 60 or 61 is
impossible. Directives whose meaning needs more (%j, %U, %W, %z, %Z, %G, %V, %u, %w)
raise ``Unsupported``; %c, %x and %X are supported, since TimeRE spells them out in the
supported ones (for the current locale, the one strptime uses too).
"""

from __future__ import annotations

import _strptime  # type: ignore[import-not-found]  # CPython's strptime internals: no stubs
import re

from sqlglot import exp

from .. import values as V
from .textops import (
    Unsupported,
    case,
    char_class,
    concat,
    extract,
    ignorecase_chars,
    let,
    lit,
    lower_equals,
    matches,
    non_ascii_digits,
    num,
    one_of,
    quoted,
    strip,
    whitespace,
)

# directive group -> what it sets; names are looked up, the rest are ignored once matched
_SUPPORTED = {"Y", "y", "m", "b", "B", "d", "H", "I", "M", "S", "f", "p", "a", "A"}
_TOKEN = re.compile(
    r"\(\?P<(\w+)>|\\d|\\s|\\(.)|\[([0-9\-]+)\]|(\{\d+(?:,\d+)?\}|[+*?|)])|(\(|\.|\^|\$|\[)|(.)", re.DOTALL
)


def _translate(pattern: str) -> tuple[str, list]:
    """A TimeRE pattern as portable regex text, and its named groups in order."""
    out, names = [], []
    for found in _TOKEN.finditer(pattern):
        name, escaped, digits, syntax, unsupported, char = found.groups()
        token = found.group(0)
        if name is not None:
            if name in names:
                raise Unsupported(f"a date format with %{name} twice")
            names.append(name)
            out.append("(")
        elif token == "\\d":
            out.append("[0-9]")
        elif token == "\\s":
            out.append(char_class(whitespace()))
        elif escaped is not None:
            out.append(one_of(ignorecase_chars(escaped)))
        elif digits is not None:
            out.append(token)
        elif syntax is not None:
            out.append(token)
        elif unsupported is not None:
            raise Unsupported(f"regex syntax {unsupported!r} in a date format's pattern")
        else:
            out.append(one_of(ignorecase_chars(char)))
    return "".join(out), names


def _format_pattern(fmt: str) -> tuple[str, list]:
    try:
        pattern = _strptime.TimeRE().pattern(fmt)
    except (KeyError, IndexError, ValueError):
        raise Unsupported(f"date format {fmt!r} (not a strptime format)") from None
    regex, names = _translate(pattern)
    unknown = [n for n in names if n not in _SUPPORTED]
    if unknown:
        raise Unsupported(f"date format directive %{unknown[0]} (in {fmt!r})")
    if (
        sum(n in names for n in ("Y", "y")) > 1
        or sum(n in names for n in ("m", "b", "B")) > 1
        or ("H" in names and "I" in names)
    ):
        raise Unsupported(f"date format {fmt!r} (a part given twice)")
    return regex, names


def check_format(fmt: str) -> None:
    """Raise ``Unsupported`` when ``fmt`` cannot be read exactly in SQL (cheap: no expression is built)."""
    _format_pattern(fmt)


def _int(text: exp.Expr) -> exp.Expr:
    """The digits of a part as an integer, like int() (%d may be ' 5'); 0 for '' (a part left out).

    A '0' in front makes '' castable too, so the CAST never fails on a row whose match
    failed (the directive regexes let only digits into the groups of a match).
    """
    return exp.cast(concat("0", exp.Trim(this=text.copy(), expression=lit(" "), position="LEADING")), "INT")


def _name_index(text: exp.Expr, names: list) -> exp.Expr:
    """1-based position of the locale name ``text`` lower-cases to (``list.index``), else NULL."""
    return case(*((matches(text, "^" + lower_equals(name) + "$"), num(i + 1)) for i, name in enumerate(names)))


def days_in_month(year: exp.Expr, month: exp.Expr) -> exp.Expr:
    def divisible(by):
        return exp.EQ(this=exp.Mod(this=year.copy(), expression=num(by)), expression=num(0))

    leap = exp.or_(exp.and_(divisible(4), exp.not_(divisible(100))), divisible(400))
    return case(
        (exp.EQ(this=month.copy(), expression=num(2)), case((leap, num(29)), default=num(28))),
        (exp.In(this=month.copy(), expressions=[num(4), num(6), num(9), num(11)]), num(30)),
        default=num(31),
    )


def _valid(year, month, day) -> exp.Expr:
    """A day that exists (years 1-9999, as Python's date)."""
    return exp.and_(
        exp.GTE(this=year.copy(), expression=num(1)),
        exp.Between(this=month.copy(), low=num(1), high=num(12)),
        exp.Between(this=day.copy(), low=num(1), high=days_in_month(year, month)),
    )


def _make_date(year, month, day) -> exp.Expr:
    """The date, built so that no engine errors on parts that are not a date (rows it will not use).

    The first of the month (year and month clamped to a valid range) plus the days.
    """

    def clamp(part, low, high):
        return exp.Least(this=exp.Greatest(this=part.copy(), expressions=[num(low)]), expressions=[num(high)])

    first = exp.DateFromParts(year=clamp(year, 1, 9999), month=clamp(month, 1, 12), day=num(1))
    days = exp.DateAdd(this=first, expression=exp.Sub(this=day.copy(), expression=num(1)), unit=exp.var("DAY"))
    return exp.cast(days, "DATE")  # DuckDB's date + interval is a timestamp


# What an attempt says, as a number that adds up across attempts: any OK wins, then any impossible.
NO_SHAPE, IMPOSSIBLE, OK = 0, 1, 100


def _outcome(shape, year, month, day, extra_valid=None) -> tuple:
    """(status, date) of one attempt (status: OK, IMPOSSIBLE or NO_SHAPE)."""
    valid = _valid(year, month, day)
    if extra_valid is not None:
        valid = exp.and_(valid, extra_valid)
    status = case((shape.copy(), case((valid, num(OK)), default=num(IMPOSSIBLE))), default=num(NO_SHAPE))
    return status, _make_date(year, month, day)


def _format_attempt(text, fmt: str, ascii_digits) -> tuple:
    """(status, date) of ``strptime(text, fmt)``: its regex, then the checks strptime and datetime make."""
    regex, names = _format_pattern(fmt)
    anchored = "^(" + regex + ")"
    locale = _strptime.LocaleTime()  # what TimeRE() and strptime use: the current LC_TIME

    def read(found):
        whole, *texts = found
        groups = dict(zip(names, texts))
        shape = [ascii_digits.copy(), exp.EQ(this=whole, expression=text.copy())]  # other digits skip the formats
        year = num(1900)
        if "Y" in groups:
            year = _int(groups["Y"])
        elif "y" in groups:
            two = _int(groups["y"])
            year = exp.Add(
                this=two, expression=case((exp.LTE(this=two.copy(), expression=num(68)), num(2000)), default=num(1900))
            )
        month = _int(groups["m"]) if "m" in groups else num(1)
        for key, table in (("b", locale.a_month), ("B", locale.f_month)):
            if key in groups:  # a name that does not lower-case to the locale's fails the format
                month = _name_index(groups[key], list(table[1:]))
                shape.append(exp.not_(exp.Is(this=month.copy(), expression=exp.Null())))
        for key, table in (("a", locale.a_weekday), ("A", locale.f_weekday)):
            if key in groups:  # read, checked against the locale's names, then ignored (as strptime does)
                shape.append(exp.not_(exp.Is(this=_name_index(groups[key], list(table)), expression=exp.Null())))
        day = _int(groups["d"]) if "d" in groups else num(1)
        second = exp.LTE(this=_int(groups["S"]), expression=num(59)) if "S" in groups else None
        return _outcome(exp.and_(*shape), year, month, day, second)

    return read([extract(text, anchored, i + 1) for i in range(len(names) + 1)])


_ISO_DATE_PARTS = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$"  # engine.values.ISO_DATE, with groups


def _iso_date_attempt(text) -> tuple:
    parts = [_int(extract(text, _ISO_DATE_PARTS, i)) for i in (1, 2, 3)]
    return _outcome(matches(text, V.ISO_DATE.pattern), *parts)


def _iso_datetime_attempt(text) -> tuple:
    pattern = "^" + V.ISO_DATETIME_FULL.pattern + "$"
    shape = exp.and_(matches(text, V.ISO_DATETIME.pattern), matches(text, pattern))

    def read(found):
        year, month, day, *times = found
        limits = (23, 59, 59, 23, 59)  # hour, minute, second, zone hour, zone minute
        in_range = exp.and_(*(exp.LTE(this=_int(part), expression=num(limit)) for part, limit in zip(times, limits)))
        return _outcome(shape, _int(year), _int(month), _int(day), in_range)

    return read([extract(text, pattern, i) for i in range(1, 9)])


def read_date(raw: exp.Expr, formats: tuple) -> tuple[exp.Expr, exp.Expr]:
    """(value, problem) of ``parse_date(raw, formats)`` for a non-blank cell."""
    return let(strip(raw), lambda text: _read(raw, text, formats))


def _read(raw, text, formats) -> tuple:
    ascii_digits = exp.not_(matches(text, char_class(non_ascii_digits())))
    attempts = [_format_attempt(text, fmt, ascii_digits) for fmt in formats]
    attempts += [_iso_date_attempt(text), _iso_datetime_attempt(text)]
    expected = V.describe_formats(tuple(formats))

    statuses = [status for status, _ in attempts]
    value = case(*((exp.EQ(this=status.copy(), expression=num(OK)), date) for status, date in attempts))
    total = statuses[0]
    for status in statuses[1:]:
        total = exp.Add(this=total, expression=status)
    problem = case(
        (exp.GTE(this=total, expression=num(OK)), exp.Null()),
        (exp.GTE(this=total.copy(), expression=num(IMPOSSIBLE)), concat("impossible date ", quoted(text))),
        default=concat(quoted(raw), f" is not a valid date (expected {expected})"),
    )
    return value, problem
