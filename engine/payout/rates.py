"""Rate tables: flat rates, tiers, marginal slices, retroactive true-ups, gates.

Tier bounds are inclusive at the bottom and exclusive at the top: a tier
``{from: 0.5, to: 1.0}`` covers attainment 0.5 <= a < 1.0, so attainment of
exactly 100% is in the tier that starts at 1.0. For marginal tiers on a
cumulative basis a deal's credit is the interval [before, after) of the
running total; the part of it inside each tier is a *slice* paid at that
tier's rate (credit ending exactly on a bound stays in the lower tier,
credit starting on it is in the upper one). For retroactive tiers and for
the per-deal basis the rate is the one of the tier that contains the point
(the running total after the deal, or the deal's own credit).

Everything here is exact Decimal arithmetic; rounding is applied once, to
each statement line, by the caller-supplied ``rounding``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from ..model import Commission

ZERO = Decimal(0)
ONE = Decimal(1)


class Tiers(NamedTuple):
    """The rate table of one statement, with bounds in credit units and effective rates."""

    lowers: tuple  # Decimal
    uppers: tuple  # Decimal, or None for no upper bound
    rates: tuple  # effective rate on one unit of credit
    labels: tuple  # shown on lines
    notes: tuple  # per tier: why its rate is not the table's (a closed gate), or ""

    def index_at(self, position: Decimal) -> int:
        """The tier containing ``position`` (bottom inclusive, top exclusive); below 0 is the first tier."""
        uppers = self.uppers
        for index in range(len(uppers)):
            upper = uppers[index]
            if upper is None or position < upper:
                return index
        return len(uppers) - 1


def build_tiers(
    commission: Commission, scale: Decimal | None, rate_scale: Decimal | None = None, open_gates: dict | None = None
) -> Tiers:
    """Tiers for one statement.

    ``scale`` turns the table's bounds into credit units (the quota, for basis attainment; None
    for bounds that already are credit). ``rate_scale`` multiplies every rate (target incentive /
    quota for ``rate_of: target_incentive``). ``open_gates`` maps tier index -> (open, why) for
    gated tiers; a closed gate pays the tier at the rate of the tier below it.
    """
    if commission.tiers:
        table = [(t.lower, t.upper, t.rate, t.label or f"tier {i + 1}") for i, t in enumerate(commission.tiers)]
    else:
        table = [(ZERO, None, commission.rate, "flat")]
    lowers: list = []
    uppers: list = []
    table_rates: list = []
    labels: list = []
    notes: list = []
    for index, (lower, upper, rate, label) in enumerate(table):
        note = ""
        if open_gates and index in open_gates:
            is_open, why = open_gates[index]
            if not is_open and index > 0:
                rate = table_rates[index - 1]  # a closed gate: the rate of the tier below
                note = why
        lowers.append(lower * scale if scale is not None else lower)
        uppers.append(None if upper is None else (upper * scale if scale is not None else upper))
        table_rates.append(rate)
        labels.append(label)
        notes.append(note)
    rates = [r * rate_scale for r in table_rates] if rate_scale is not None else table_rates
    return Tiers(tuple(lowers), tuple(uppers), tuple(rates), tuple(labels), tuple(notes))


def slices(tiers: Tiers, start: Decimal, end: Decimal) -> list:
    """(tier index, signed slice) for credit moving the running total from ``start`` to ``end``.

    Positive movement gives positive slices; negative movement (a credit reversal) gives negative
    slices, taken back at the rates of the tiers the total falls through. The first tier extends
    below 0.
    """
    if end == start:
        return [(tiers.index_at(start), ZERO)]
    sign = ONE
    lo, hi = start, end
    if end < start:
        sign, lo, hi = -ONE, end, start
    result = []
    lowers, uppers = tiers.lowers, tiers.uppers
    for index in range(len(lowers)):
        bottom = lowers[index] if index else None  # the first tier has no bottom
        top = uppers[index]
        a = lo if bottom is None else max(lo, bottom)
        b = hi if top is None else min(hi, top)
        if b > a:
            result.append((index, (b - a) * sign))
    if sign < 0:
        result.reverse()  # walk down through the tiers, as the running total does
    return result


def marginal_payout(tiers: Tiers, amounts) -> Decimal:
    """The exact (unrounded) marginal commission on a sequence of credits, from a zero running total."""
    total, position = ZERO, ZERO
    for amount in amounts:
        for index, piece in slices(tiers, position, position + amount):
            total += piece * tiers.rates[index]
        position += amount
    return total


def retroactive_payout(tiers: Tiers, amounts) -> Decimal:
    """The exact retroactive commission: the rate of the tier reached applies to all credit."""
    total = sum(amounts, ZERO)
    return total * tiers.rates[tiers.index_at(total)]
