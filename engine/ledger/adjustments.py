"""Drift: what re-running a locked statement changes, line by line, as adjustments.

A locked statement is never rewritten. What it would be now is compared with
what the ledger holds for it -- its lines plus the adjustments already locked in
later periods -- per (kind, rule, deal); each difference becomes one adjustment
paid in the next open period. So, to the cent:

    locked lines + locked adjustments + pending adjustments == the statement recomputed now

and re-running twice with the same inputs makes the same pending adjustments, not twice as many.
"""

from __future__ import annotations

from decimal import Decimal

from ..money import shown_money
from .records import ZERO, Adjustment, BookedLine, Fingerprint

CLAWBACK = "clawback"
LATE_CANCELLATION = "late cancellation"


def differences(booked: list, recomputed: list) -> list[tuple[tuple, Decimal, Decimal]]:
    """(key, booked amount, recomputed amount) for each (kind, rule, deal) whose sums differ.

    ``booked`` and ``recomputed`` hold anything with ``key`` and ``amount`` (BookedLine, Adjustment).
    Keys come in the recomputed statement's order, then keys only the booked side has.
    """
    before: dict = {}
    for item in booked:
        before[item.key] = before.get(item.key, ZERO) + item.amount
    after: dict = {}
    for item in recomputed:
        after[item.key] = after.get(item.key, ZERO) + item.amount
    keys = list(after) + [k for k in before if k not in after]
    return [(k, before.get(k, ZERO), after.get(k, ZERO)) for k in keys if before.get(k, ZERO) != after.get(k, ZERO)]


def adjustments_for(
    source_period: str, booked: list, recomputed: list[BookedLine], stored: Fingerprint, now: Fingerprint
) -> list[Adjustment]:
    """The adjustments that bring what is booked for a locked statement to what it recomputes to now."""
    changed = stored.differences(now)
    result = []
    for (kind, rule, deal), was, now_amount in differences(booked, recomputed):
        reason = reason_for(kind, was, changed)
        what = f"{kind} ({rule})" + (f" on deal {deal}" if deal else "")
        note = f"{reason}: {what} in locked {source_period} was {shown_money(was)}, is now {shown_money(now_amount)}"
        result.append(Adjustment(kind, rule, deal, now_amount - was, reason, source_period, note))
    return result


def reason_for(kind: str, booked: Decimal, changed: list[str]) -> str:
    """A clawback that was not booked at all is a late cancellation; anything else is named by what changed."""
    if kind == CLAWBACK and booked == ZERO:
        return LATE_CANCELLATION
    return " and ".join(changed) or "recomputation"
