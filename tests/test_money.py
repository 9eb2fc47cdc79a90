"""engine.money.cents: the one rounding every shown or paid amount goes through."""

from decimal import Decimal

import pytest

from engine.money import cents


@pytest.mark.parametrize(
    "value, rounding, expected",
    [
        ("7500", "half_up", "7500.00"),
        ("-12.3", "half_up", "-12.30"),
        ("1.005", "half_up", "1.01"),
        ("-1.005", "half_up", "-1.01"),
        ("1.005", "half_even", "1.00"),
        ("1.015", "half_even", "1.02"),
        ("-0.005", "half_up", "-0.01"),
        ("-0.005", "half_even", "0.00"),
    ],
)
def test_rounds_to_the_cent_as_declared(value, rounding, expected):
    assert str(cents(Decimal(value), rounding)) == expected


@pytest.mark.parametrize("value", ["-0.004", "-0.0049999", "-0", "-0.00", "-0E+3", "0.004"])
@pytest.mark.parametrize("rounding", ["half_up", "half_even"])
def test_zero_is_never_negative(value, rounding):
    """Issue 10: Decimal('-0.004') used to print as '-0.00'; SQL engines print '0.00'."""
    assert str(cents(Decimal(value), rounding)) == "0.00"


def test_unknown_stays_unknown():
    assert cents(None) is None
