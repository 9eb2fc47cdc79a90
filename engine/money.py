"""Money: exact Decimals, rounded to cents in one declared way.

Every amount dealgate shows or pays goes through ``cents``; the rounding is
half-up unless a plan declares otherwise (``rounding: half_even``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def cents(value: Decimal | None, rounding: str = "half_up") -> Decimal | None:
    """``value`` to the cent (None stays None: an unknown amount is not zero).

    A result of zero is always positive zero: ``Decimal('-0.004')`` rounds to
    ``Decimal('-0.00')``, which prints as "-0.00", a sign no reader wants and no
    SQL engine can reproduce (SQL decimals have no negative zero; issue 10).
    """
    if value is None:
        return None
    rounded = value.quantize(CENT, rounding=ROUNDING[rounding])
    return rounded.copy_abs() if rounded.is_zero() else rounded


def money_text(value: Decimal | None, rounding: str = "half_up") -> str | None:
    """``value`` to the cent as plain digits ("7500.00"), as JSON and CSV carry money; None stays None."""
    return None if value is None else str(cents(value, rounding))


def shown_money(value: Decimal | None, rounding: str = "half_up") -> str:
    """``value`` to the cent with thousands separators ("7,500.00"), for people; None is blank."""
    return "" if value is None else f"{cents(value, rounding):,}"
