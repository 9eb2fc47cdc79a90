"""Pay periods: months, quarters, halves and years of a fiscal calendar.

A fiscal year starts on the first day of the plan's ``fiscal_year_start``
month and is named by the calendar year in which it *ends* (the common US
convention: with ``fiscal_year_start: 2``, FY2027 runs from 2026-02-01 to
2027-01-31; with the default 1, FY2026 is the calendar year 2026).
Quarters and halves are counted from the start of the fiscal year. Months
are always calendar months and are written ``2026-05``.

Labels: ``2026-05`` (month), ``2026-Q3`` (quarter), ``2026-H1`` (half),
``2026`` or ``FY2026`` (year); ``FY2026-Q3`` is the same as ``2026-Q3``.
Every period is a half-open date range ``[start, end)``: ``end`` is the day
after its last day.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import attrs

KINDS = ("month", "quarter", "half", "year")
MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}

_LABEL = re.compile(
    r"^\s*(?:FY)?(?P<year>\d{4})(?:\s*-?\s*(?:(?P<qh>[QqHh])(?P<n>\d)|(?P<month>\d{1,2})))?\s*$", re.IGNORECASE
)


class PeriodError(ValueError):
    """A period label that cannot be read; the message says why and what is expected."""


@attrs.frozen(order=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive: the first day after the period
    kind: str = attrs.field(order=False)
    label: str = attrs.field(order=False)

    @property
    def last(self) -> dt.date:
        """The last day of the period (inclusive)."""
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def __str__(self) -> str:
        return self.label


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month (the day of month is dropped)."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def fiscal_year(day: dt.date, fy_start: int = 1) -> int:
    """The name (ending calendar year) of the fiscal year containing ``day``."""
    if fy_start == 1:
        return day.year
    return day.year + 1 if day.month >= fy_start else day.year


def fiscal_year_start(year: int, fy_start: int = 1) -> dt.date:
    """The first day of fiscal year ``year``."""
    return dt.date(year, 1, 1) if fy_start == 1 else dt.date(year - 1, fy_start, 1)


def _label(kind: str, start: dt.date, fy_start: int) -> str:
    if kind == "month":
        return f"{start.year:04d}-{start.month:02d}"
    year = fiscal_year(start, fy_start)
    offset = (start.month - fy_start) % 12
    if kind == "quarter":
        return f"{year}-Q{offset // 3 + 1}"
    if kind == "half":
        return f"{year}-H{offset // 6 + 1}"
    return f"{year}"


@functools.lru_cache(maxsize=4096)
def make_period(kind: str, start: dt.date, fy_start: int = 1) -> Period:
    """The period of ``kind`` starting on ``start``.

    Cached, as ``period_of`` is: a payout asks for the same few periods for every rep and every
    cancelled deal, and building one (its label, its end) costs more than the rest of the lookup.
    A Period is frozen, so one shared object is as good as a new one each time.
    """
    return Period(start, add_months(start, MONTHS[kind]), kind, _label(kind, start, fy_start))


@functools.lru_cache(maxsize=8192)
def period_of(day: dt.date, kind: str, fy_start: int = 1) -> Period:
    """The period of ``kind`` that contains ``day`` (cached: see ``make_period``)."""
    if kind == "month":
        return make_period(kind, dt.date(day.year, day.month, 1), fy_start)
    size = MONTHS[kind]
    year_start = fiscal_year_start(fiscal_year(day, fy_start), fy_start)
    months_in = (day.year - year_start.year) * 12 + day.month - year_start.month
    return make_period(kind, add_months(year_start, months_in // size * size), fy_start)


def parse_period(label: str, fy_start: int = 1) -> Period:
    """The period a label names, in the fiscal calendar starting in month ``fy_start``."""
    match = _LABEL.match(label or "")
    if not match:
        raise PeriodError(
            f"'{label}' is not a period; write 2026-05 (month), 2026-Q3 (quarter), 2026-H1 (half) or 2026 (year)"
        )
    year = int(match["year"])
    if not 1900 <= year <= 9000:  # Python dates end in 9999; a pay period outside this is a typo
        raise PeriodError(f"'{label}': year {year} is out of range (1900-9000)")
    if match["qh"]:
        letter, number = match["qh"].upper(), int(match["n"])
        kind, count = ("quarter", 4) if letter == "Q" else ("half", 2)
        if not 1 <= number <= count:
            raise PeriodError(f"'{label}': there is no {letter}{number}; a year has {letter}1 to {letter}{count}")
        start = add_months(fiscal_year_start(year, fy_start), (number - 1) * MONTHS[kind])
        return make_period(kind, start, fy_start)
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(f"'{label}': month {month} does not exist")
        if label.strip().upper().startswith("FY"):
            raise PeriodError(f"'{label}': months are calendar months; write {year}-{month:02d}")
        return make_period("month", dt.date(year, month, 1), fy_start)
    return make_period("year", fiscal_year_start(year, fy_start), fy_start)


def periods_in(kind: str, start: dt.date, end: dt.date, fy_start: int = 1) -> list[Period]:
    """Every period of ``kind`` that overlaps the half-open range ``[start, end)``, in order."""
    periods: list[Period] = []
    if end <= start:
        return periods
    current = period_of(start, kind, fy_start)
    while current.start < end:
        periods.append(current)
        current = make_period(kind, current.end, fy_start)
    return periods


def span(first: str, last: str | None = None, fy_start: int = 1) -> tuple[dt.date, dt.date]:
    """The date range from the start of period ``first`` to the end of period ``last``."""
    a = parse_period(first, fy_start)
    b = parse_period(last, fy_start) if last else a
    if b.end <= a.start:
        raise PeriodError(f"'{last}' ends before '{first}' starts")
    return a.start, max(a.end, b.end)


def active_fraction(period_start: dt.date, period_end: dt.date, start: dt.date | None, end: dt.date | None):
    """(active days, days) of a rep employed from ``start`` to ``end`` (inclusive) in ``[period_start, period_end)``."""
    days = (period_end - period_start).days
    lo = max(period_start, start) if start else period_start
    hi = min(period_end, end + dt.timedelta(days=1)) if end and end < period_end else period_end
    return max((hi - lo).days, 0), days
