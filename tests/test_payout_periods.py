"""Pay periods: labels, fiscal years, containment, ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.payout.compute import requested_periods
from engine.payout.periods import (
    PeriodError,
    active_fraction,
    fiscal_year,
    parse_period,
    period_of,
    periods_in,
    span,
)

D = dt.date


@pytest.mark.parametrize(
    "label,kind,start,end,shown",
    [
        ("2026-Q3", "quarter", D(2026, 7, 1), D(2026, 10, 1), "2026-Q3"),
        ("2026q4", "quarter", D(2026, 10, 1), D(2027, 1, 1), "2026-Q4"),
        ("FY2026-Q1", "quarter", D(2026, 1, 1), D(2026, 4, 1), "2026-Q1"),
        ("2026-05", "month", D(2026, 5, 1), D(2026, 6, 1), "2026-05"),
        ("2026-12", "month", D(2026, 12, 1), D(2027, 1, 1), "2026-12"),
        ("2026-H1", "half", D(2026, 1, 1), D(2026, 7, 1), "2026-H1"),
        ("2026-h2", "half", D(2026, 7, 1), D(2027, 1, 1), "2026-H2"),
        ("2026", "year", D(2026, 1, 1), D(2027, 1, 1), "2026"),
        ("FY2026", "year", D(2026, 1, 1), D(2027, 1, 1), "2026"),
    ],
)
def test_calendar_labels(label, kind, start, end, shown):
    period = parse_period(label)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, shown)


def test_fiscal_year_named_by_the_year_it_ends_in():
    # Salesforce style: the fiscal year starts in February; FY2027 runs 2026-02-01 .. 2027-01-31.
    fy = parse_period("2027", fy_start=2)
    assert (fy.start, fy.last) == (D(2026, 2, 1), D(2027, 1, 31))
    q1 = parse_period("2027-Q1", fy_start=2)
    assert (q1.start, q1.end) == (D(2026, 2, 1), D(2026, 5, 1))
    assert period_of(D(2026, 1, 31), "quarter", 2).label == "2026-Q4"  # Nov 2025 .. Jan 2026
    assert period_of(D(2026, 2, 1), "quarter", 2).label == "2027-Q1"
    assert period_of(D(2026, 7, 31), "half", 2).label == "2027-H1"  # Feb .. Jul is H1
    assert period_of(D(2026, 8, 1), "half", 2).label == "2027-H2"
    # Microsoft style: July start; FY2026 is 2025-07-01 .. 2026-06-30.
    assert (parse_period("2026", 7).start, parse_period("2026", 7).last) == (D(2025, 7, 1), D(2026, 6, 30))
    assert fiscal_year(D(2025, 7, 1), 7) == 2026 and fiscal_year(D(2025, 6, 30), 7) == 2025
    # months stay calendar months whatever the fiscal year
    assert parse_period("2026-05", fy_start=7).start == D(2026, 5, 1)


@pytest.mark.parametrize(
    "label,message",
    [
        ("2026-Q5", "there is no Q5"),
        ("2026-H3", "there is no H3"),
        ("2026-13", "month 13 does not exist"),
        ("FY2026-05", "months are calendar months"),
        ("Q3", "is not a period"),
        ("", "is not a period"),
        ("2026-07-01", "is not a period"),
    ],
)
def test_bad_labels(label, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(label)


def test_containment_is_half_open():
    q3 = parse_period("2026-Q3")
    assert D(2026, 7, 1) in q3 and D(2026, 9, 30) in q3
    assert D(2026, 10, 1) not in q3 and D(2026, 6, 30) not in q3
    assert q3.days == 92 and q3.last == D(2026, 9, 30)


def test_periods_in_a_span_and_ranges():
    assert [p.label for p in periods_in("month", *span("2026-Q3"))] == ["2026-07", "2026-08", "2026-09"]
    assert [p.label for p in periods_in("quarter", *span("2026-05"))] == ["2026-Q2"]  # the quarter overlapping May
    assert [p.label for p in periods_in("quarter", *span("2026-Q4", "2027-Q1"))] == ["2026-Q4", "2027-Q1"]
    with pytest.raises(PeriodError, match="ends before"):
        span("2026-Q3", "2026-Q1")


def test_requested_periods_per_plan_kind():
    assert [p.label for p in requested_periods("2026-Q3", "month", 1)] == ["2026-07", "2026-08", "2026-09"]
    assert [p.label for p in requested_periods("2026-Q1..2026-Q2", "quarter", 1)] == ["2026-Q1", "2026-Q2"]
    assert [p.label for p in requested_periods(["2026-Q3", "2026-07"], "quarter", 1)] == ["2026-Q3"]
    assert [p.label for p in requested_periods("2026", "half", 1)] == ["2026-H1", "2026-H2"]


def test_active_fraction_for_proration():
    q3 = parse_period("2026-Q3")
    assert active_fraction(q3.start, q3.end, None, None) == (92, 92)
    assert active_fraction(q3.start, q3.end, D(2026, 8, 16), None) == (46, 92)
    assert active_fraction(q3.start, q3.end, None, D(2026, 7, 31)) == (31, 92)  # the end date is a working day
    assert active_fraction(q3.start, q3.end, D(2026, 10, 5), None) == (0, 92)
