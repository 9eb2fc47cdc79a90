"""What moved between two snapshots of the same pipeline, deals matched by id, and a waterfall of the
weighted pipeline from the old snapshot to the new one whose steps add up exactly to the difference.

Each deal's weighted amount counts as the score summary counts it: to the cent, for open stages
only (a won deal leaves the weighted pipeline; its money is won, not forecast). A deal's change of
weighted amount is cut into steps that add up to it exactly:

- a deal only in the new snapshot is ``new``; only in the old one, ``removed``;
- an open deal that closed is ``won`` or ``lost`` (its old weighted amount leaves); a closed deal
  that is open again is ``reopened``;
- an open deal that stays open moves by ``amount`` (the new amount at the old probability, less
  the old weighted amount) and then by ``stage`` (the new weighted amount, less the new amount at
  the old probability): each rounded to the cent the way the deal shows it, so the two add up to
  the deal's change to the cent.

The waterfall steps are the sums of those parts, so old total + steps = new total, always.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import attrs

from ..money import CENT
from ..payout.periods import period_of
from ..score import ScoredDeal

# Waterfall steps, in the order a sales leader reads them.
STEPS = ("new", "reopened", "amount_up", "amount_down", "stage_forward", "stage_back", "won", "lost", "removed")
# What can happen to a deal between snapshots (several at once: slipped and amount_down, say).
CHANGES = (
    "new",
    "removed",
    "won",
    "lost",
    "reopened",
    "slipped",
    "pushed",
    "pulled_in",
    "amount_up",
    "amount_down",
    "stage_forward",
    "stage_back",
    "verdict",
    "category",
)


class Snapshot(NamedTuple):
    """What movement compares of a deal in one snapshot (a deal's record is not kept: a million of them)."""

    stage: str
    position: int  # the stage's place in the pipeline
    state: str  # open, won, lost
    amount: Decimal | None  # to the cent
    probability: Decimal
    weighted: Decimal  # to the cent; 0 unless open with an amount
    close: dt.date | None
    verdict: str
    category: str | None
    name: str | None
    owner: str | None


@attrs.frozen
class DealMovement:
    id: str
    changes: tuple  # of CHANGES, in that order
    old: Snapshot | None
    new: Snapshot | None
    steps: tuple  # (step, amount) of the waterfall this deal contributes to (non-zero ones)

    @property
    def delta(self) -> Decimal:
        return sum((amount for _, amount in self.steps), Decimal(0))


@attrs.define
class Movement:
    period_kind: str
    old_weighted: Decimal = Decimal(0)
    new_weighted: Decimal = Decimal(0)
    steps: dict = attrs.field(factory=lambda: {step: Decimal(0) for step in STEPS})
    step_deals: dict = attrs.field(factory=lambda: {step: 0 for step in STEPS})
    counts: dict = attrs.field(factory=lambda: {change: 0 for change in CHANGES})
    deals: list = attrs.field(factory=list)  # DealMovement of every deal with a change, by id
    old_deals: int = 0
    new_deals: int = 0
    duplicates: dict = attrs.field(factory=lambda: {"old": 0, "new": 0})  # repeated ids (the first one counts)

    @property
    def difference(self) -> Decimal:
        return self.new_weighted - self.old_weighted

    @property
    def reconciles(self) -> bool:
        """The waterfall's steps add up to the difference (true by construction; checked, never assumed)."""
        return self.old_weighted + sum(self.steps.values(), Decimal(0)) == self.new_weighted


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def snapshots(ruleset, deals: Iterable[ScoredDeal]) -> tuple[dict, int, int]:
    """id -> Snapshot of every scored deal (the first of a repeated id), the deals read, the repeats."""
    taken = Snapshots(ruleset)
    for scored in deals:
        taken.add(scored)
    return taken.found, taken.read, taken.repeated


class Snapshots:
    """``snapshots`` one scored deal at a time (``add``): ``dealgate report`` walks its deals once."""

    def __init__(self, ruleset):
        self.stages = {s.id: (i, s) for i, s in enumerate(ruleset.pipeline.stages)}
        self.found: dict = {}
        self.read = self.repeated = 0

    def add(self, scored: ScoredDeal) -> None:
        self.read += 1
        result, deal = scored.result, scored.deal
        if result.id in self.found:
            self.repeated += 1
            return
        position, stage = self.stages[result.stage]
        state = "won" if stage.won else "lost" if stage.lost else "open"
        amount = None if result.amount is None else _cents(result.amount)
        weighted = (
            _cents(result.weighted_amount) if state == "open" and result.weighted_amount is not None else Decimal(0)
        )
        self.found[result.id] = Snapshot(
            result.stage,
            position,
            state,
            amount,
            stage.probability,
            weighted,
            deal.get("close_date"),
            result.verdict,
            result.category,
            deal.get("name"),
            deal.get("owner"),
        )


def compare(
    ruleset, old: Iterable[ScoredDeal], new: Iterable[ScoredDeal], period_kind: str = "quarter", fy_start: int = 1
) -> Movement:
    """The movement from the ``old`` snapshot's scored deals to the ``new`` one's."""
    return compare_taken(snapshots(ruleset, old), snapshots(ruleset, new), period_kind, fy_start)


def compare_taken(old: tuple[dict, int, int], new: tuple[dict, int, int], period_kind: str, fy_start: int) -> Movement:
    """``compare`` of two snapshots as ``snapshots`` returns them (found, read, repeated)."""
    (before, old_read, old_repeated), (after, new_read, new_repeated) = old, new
    movement = compare_snapshots(before, after, period_kind, fy_start)
    movement.old_deals, movement.new_deals = old_read, new_read
    movement.duplicates.update(old=old_repeated, new=new_repeated)
    return movement


def compare_snapshots(before: dict, after: dict, period_kind: str = "quarter", fy_start: int = 1) -> Movement:
    """The movement between two snapshots, each id -> Snapshot."""
    movement = Movement(period_kind, old_deals=len(before), new_deals=len(after))
    movement.old_weighted = sum((s.weighted for s in before.values()), Decimal(0))
    movement.new_weighted = sum((s.weighted for s in after.values()), Decimal(0))
    for deal_id in sorted(before.keys() | after.keys(), key=str):
        changed = deal_movement(deal_id, before.get(deal_id), after.get(deal_id), period_kind, fy_start)
        if not changed.changes and not changed.steps:
            continue
        movement.deals.append(changed)
        for change in changed.changes:
            movement.counts[change] += 1
        for step, amount in changed.steps:
            movement.steps[step] += amount
            movement.step_deals[step] += 1
    return movement


def compare_positions(
    ruleset, deals: Iterable[tuple[int, ScoredDeal]], period_kind: str = "quarter", fy_start: int = 1
) -> Movement:
    """``compare`` for one stream of (0 for the old snapshot or 1 for the new, scored deal), old ones first."""
    deals = iter(deals)
    pending: list = []

    def old():
        for position, scored in deals:
            if position != 0:
                pending.append(scored)
                return
            yield scored

    def new():
        yield from pending
        for _, scored in deals:
            yield scored

    return compare(ruleset, old(), new(), period_kind, fy_start)


def deal_movement(
    deal_id: str, old: Snapshot | None, new: Snapshot | None, period_kind: str, fy_start: int = 1
) -> DealMovement:
    """One deal's changes and its parts of the waterfall."""
    if old is None:
        assert new is not None, "a deal is in one snapshot at least"
        return DealMovement(deal_id, ("new",), None, new, _nonzero([("new", new.weighted)]))
    if new is None:
        return DealMovement(deal_id, ("removed",), old, None, _nonzero([("removed", -old.weighted)]))
    changes, steps = set(), []
    if old.state == "open" and new.state != "open":
        changes.add(new.state)
        steps.append((new.state, -old.weighted))
    elif old.state != "open" and new.state == "open":
        changes.add("reopened")
        steps.append(("reopened", new.weighted))
    elif old.state == new.state == "open":
        at_old_probability = Decimal(0) if new.amount is None else _cents(new.amount * old.probability)
        amount_step = at_old_probability - old.weighted
        stage_step = new.weighted - at_old_probability
        steps.append(("amount_up" if amount_step > 0 else "amount_down", amount_step))
        steps.append(("stage_forward" if new.position > old.position else "stage_back", stage_step))
        if new.position != old.position:
            changes.add("stage_forward" if new.position > old.position else "stage_back")
    elif old.state != new.state:  # won <-> lost: nothing of it was in the weighted pipeline
        changes.add(new.state)
    if old.amount != new.amount and old.amount is not None and new.amount is not None:
        changes.add("amount_up" if new.amount > old.amount else "amount_down")
    changes |= _close_change(old.close, new.close, period_kind, fy_start)
    if old.verdict != new.verdict and "won" not in changes and "lost" not in changes:
        changes.add("verdict")
    if old.category != new.category:
        changes.add("category")
    return DealMovement(deal_id, tuple(c for c in CHANGES if c in changes), old, new, _nonzero(steps))


def _close_change(old: dt.date | None, new: dt.date | None, kind: str, fy_start: int) -> set:
    """slipped (to a later period), pushed (later, same period), pulled_in (earlier); nothing for a blank."""
    if old is None or new is None or old == new:
        return set()
    if new < old:
        return {"pulled_in"}
    later_period = period_of(new, kind, fy_start).start > period_of(old, kind, fy_start).start
    return {"slipped" if later_period else "pushed"}


def _nonzero(steps: list) -> tuple:
    return tuple((step, amount) for step, amount in steps if amount)
