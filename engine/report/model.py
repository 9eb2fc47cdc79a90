"""The report as plain data: what ``engine.render.report_html`` draws, and nothing it has to compute.

The analyses are kept as their own result objects (a ``Forecast``, a ``Calibration``, a ``Movement``,
a ``PayoutResult``, the score ``Summary``), so that a renderer writes them with the same record
functions the commands' JSON is made from. Only the deal lists behind the charts are new here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import attrs

from ..forecast.calibrate import Calibration
from ..forecast.forecast import Forecast
from ..forecast.movement import Movement
from ..model import Pipeline
from ..payout import PayoutResult, Period
from ..score import Summary

# The kinds of deal group, in the order the page shows them: a deal is in exactly one verdict group,
# and in one group per qualify-out rule that fired, per exit criterion it failed, per warning it drew.
GROUP_KINDS = ("verdict", "qualify_out", "failed", "warning")


@attrs.frozen
class Source:
    """An export as the report read it: its name, the date its ages were counted to, and the counts
    every run ends with (read = scored + rejected)."""

    name: str
    as_of: dt.date
    read: int
    scored: int
    rejected: int


class DealRow(NamedTuple):
    """One deal as a list behind a bar shows it."""

    id: str | None
    name: str | None
    owner: str | None
    stage: str
    verdict: str
    category: str | None
    amount: Decimal | None
    weighted: Decimal | None
    close_date: dt.date | None
    failed: tuple
    qualify_out: tuple
    warnings: tuple


@attrs.frozen
class DealGroup:
    """The deals behind one bar: a verdict, a qualify-out rule, a failed exit criterion or a warning.

    ``count`` and ``amount`` are over every deal of the group; ``deals`` lists the largest of them
    (by amount, then id), at most the report's ``list_limit``: a bar of 50,000 deals is summed, not
    printed in full (``dealgate score --format csv`` lists every deal).
    """

    kind: str  # one of GROUP_KINDS
    key: str  # the verdict, or the rule's or criterion's id
    why: str | None  # the rule's or criterion's own explanation, from the pack
    stage: str | None  # a failed criterion's stage
    count: int
    amount: Decimal  # the amounts of its deals as each shows them (to the cent); blank ones add nothing
    deals: tuple  # DealRow, largest amount first

    @property
    def unlisted(self) -> int:
        return self.count - len(self.deals)


@attrs.frozen
class Report:
    """Everything the page shows. Optional parts are None when their inputs were not given; ``notes``
    says what was left out and why."""

    title: str
    rules: str
    source: Source
    pipeline: Pipeline  # stage names, probabilities and order
    summary: Summary  # of every scored deal, as `dealgate score` makes it
    groups: tuple[DealGroup, ...]  # GROUP_KINDS order, then as the pack declares its rules
    list_limit: int
    calibration: Calibration
    period: Period | None = None  # of the forecast, coverage and payouts
    by_category: Forecast | None = None  # the forecast grouped by category
    by_owner: Forecast | None = None  # ... by owner, with coverage against quota when reps were given
    previous: Source | None = None  # the older snapshot of the movement
    movement: Movement | None = None
    payouts: PayoutResult | None = None
    notes: tuple[str, ...] = ()

    @property
    def as_of(self) -> dt.date:
        return self.source.as_of

    def groups_of(self, kind: str) -> list:
        return [g for g in self.groups if g.kind == kind]
