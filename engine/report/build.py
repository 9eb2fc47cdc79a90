"""Build the report from scored deals: each analysis by the library function its command calls.

| part of the page            | made by                                        | as the command    |
|-----------------------------|------------------------------------------------|-------------------|
| funnel, verdicts, rules     | ``engine.score.Summary`` (filled by the caller) | ``score``         |
| forecast by category, owner | ``build_forecast``, ``add_coverage``           | ``forecast``      |
| calibration                 | ``outcomes_from_*``, ``calibrate``             | ``calibrate``     |
| movement                    | ``engine.forecast.movement.compare``           | ``movement``      |
| payouts                     | ``compile_payout(...).compute``                | ``payout``        |

The deals are walked once, every part taking each deal as it passes (``Grouping``, ``OutcomeTally``,
``Snapshots``, ``DealGroups``; the payouts pull them through ``PayoutProgram.compute``, which keeps
its credits in bounded memory): a report of a million deals holds no list of them. What stays is
what the page shows: the totals, the largest deals behind each bar (``list_limit`` of them), the
movement's snapshots of both exports (one per deal id, to join them), and the results of a
``history`` calibration (one per deal id).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

import attrs

from ..forecast.calibrate import OutcomeTally, calibrate, outcomes_from_history
from ..forecast.forecast import ForecastError, Grouping, add_coverage, check_keys
from ..forecast.movement import Snapshots, compare_taken, snapshots
from ..money import CENT
from ..payout import PayoutResult, compile_payout
from ..results import VERDICTS
from ..score import ScoredDeal, Summary
from .model import GROUP_KINDS, DealGroup, DealRow, Report, Source

LIST_LIMIT = 200  # deals listed behind one bar by default; the rest are counted and summed


def build_report(
    ruleset,
    deals: Iterable[ScoredDeal],
    summary: Summary,
    source: Source,
    *,
    title: str | None = None,
    rules: str = "rules",
    period=None,
    fy_start: int = 1,
    reps: Iterable | None = None,
    plans: dict | None = None,
    history: Iterable | None = None,
    previous: Iterable[ScoredDeal] | None = None,
    previous_source: Source | None = None,
    period_kind: str = "quarter",
    list_limit: int = LIST_LIMIT,
) -> Report:
    """The report of ``deals`` (scored by ``ruleset``; ``summary`` counted them, as ``score`` counts).

    ``deals`` is walked once, and then ``previous``: a stream of scored deals will do (the caller
    may count the exports as they are read and put the counts in the report's sources after).
    ``period`` (an engine.payout Period) limits the forecast to deals closing in it; ``reps`` and
    ``plans`` (as ``engine.payout.read_reps`` gives them; they need ``period``) add coverage against
    quota and the payouts of the period; ``history`` (rows of a stage history) says which stages
    closed deals reached; ``previous`` (the scored deals of an older snapshot) adds the movement.
    """
    notes: list[str] = []
    if reps is not None:
        reps = list(reps)
        if period is None:
            raise ForecastError("quotas and payouts are per period: give a period with the reps")
    forecasts = {key: _grouping(ruleset, key, source.as_of, period, fy_start, notes) for key in ("category", "owner")}
    groups = DealGroups(ruleset, list_limit)
    outcomes = OutcomeTally(ruleset) if history is None else None
    results: dict = {}  # id -> result, for a calibration from a history (the last deal of an id, as a dict makes it)
    current = Snapshots(ruleset) if previous is not None else None

    def walked() -> Iterator[ScoredDeal]:
        for scored in deals:
            for grouping in forecasts.values():
                if grouping is not None:
                    grouping.add(scored)
            groups.add(scored)
            if outcomes is not None:
                outcomes.add(scored)
            else:
                results[str(scored.result.id)] = scored.result
            if current is not None:
                current.add(scored)
            yield scored

    walk = walked()
    payouts = None
    if reps is not None:
        payouts = _payouts(ruleset, ((scored.line, scored.deal) for scored in walk), reps, period, source)
    else:
        notes.append("No reps file: coverage against quota and payouts per rep are left out (give --reps).")
    for _ in walk:  # every deal, whether the payouts read them all or not
        pass
    by_category, by_owner = (None if g is None else g.forecast for g in forecasts.values())
    if reps is not None and by_owner is not None:
        add_coverage(by_owner, reps, plans or {})
    movement = None
    if previous is not None:
        assert current is not None
        taken = current.found, current.read, current.repeated
        movement = compare_taken(snapshots(ruleset, previous), taken, period_kind, fy_start)
    else:
        notes.append("No previous snapshot: the movement is left out (give --previous OLD_EXPORT).")
    if outcomes is not None:
        calibration = calibrate(ruleset, *outcomes.outcomes(), "export")
    else:
        assert history is not None
        found, open_deals, unmatched = outcomes_from_history(ruleset, history, results)
        calibration = calibrate(ruleset, found, open_deals, "history", unmatched)
    return Report(
        title=title or f"Pipeline report: {source.name}, as of {source.as_of.isoformat()}",
        rules=rules,
        source=source,
        pipeline=ruleset.pipeline,
        summary=summary,
        groups=tuple(groups.groups()),
        list_limit=list_limit,
        calibration=calibration,
        period=period,
        by_category=by_category,
        by_owner=by_owner,
        previous=previous_source,
        movement=movement,
        payouts=payouts,
        notes=tuple(notes),
    )


def _payouts(ruleset, deals: Iterable, reps: list, period, source: Source) -> PayoutResult:
    """The period's statements as ``dealgate payout`` computes them (its credits in bounded memory), each
    kept without its credits: the page shows a statement's totals and lines, not every deal credited,
    so what stays grows with the reps, not the deals."""
    with compile_payout(ruleset).stream(deals, reps, period.label, source.as_of, source=source.name) as streamed:
        statements = tuple(attrs.evolve(statement, credits=()) for statement in streamed)
        return PayoutResult(statements, streamed.diagnostics, streamed.counts)


def _grouping(ruleset, key: str, as_of, period, fy_start: int, notes: list[str]) -> Grouping | None:
    """The forecast by ``key`` to fill (None, with a note, where the pack cannot give one)."""
    try:
        return Grouping(ruleset, as_of, check_keys(ruleset, (key,)), period, fy_start=fy_start)
    except ForecastError as problem:
        notes.append(f"No forecast by {key}: {problem}.")
        return None


def deal_row(scored: ScoredDeal) -> DealRow:
    result, deal = scored.result, scored.deal
    return DealRow(
        None if result.id is None else str(result.id),
        _text(deal.get("name")),
        _text(deal.get("owner")),
        result.stage,
        result.verdict,
        result.category,
        result.amount,
        result.weighted_amount,
        deal.get("close_date"),
        tuple(result.failed),
        tuple(result.qualify_out),
        tuple(result.warnings),
    )


def deal_groups(ruleset, deals: Iterable[ScoredDeal], list_limit: int = LIST_LIMIT) -> list[DealGroup]:
    """The deals behind each bar: one group per verdict (all five, in their order), then one per
    qualify-out rule that fired, exit criterion that failed and warning drawn (in the pack's order).
    The counts are the score summary's (``verdicts``, ``qualify_out``, ``failed_criteria``, ``warnings``)."""
    groups = DealGroups(ruleset, list_limit)
    for scored in deals:
        groups.add(scored)
    return groups.groups()


class DealGroups:
    """``deal_groups`` one scored deal at a time (``add``), keeping per group its count, its amount and
    its largest ``list_limit`` deals only: a bar of a million deals holds a page's worth of rows."""

    def __init__(self, ruleset, list_limit: int = LIST_LIMIT):
        self.ruleset, self.list_limit = ruleset, list_limit
        self.members: dict = {}  # (kind, id) -> _Members

    def add(self, scored: ScoredDeal) -> None:
        row = deal_row(scored)
        members, limit = self.members, self.list_limit
        keys = [("verdict", row.verdict)]
        for kind, ids in (("qualify_out", row.qualify_out), ("failed", row.failed), ("warning", row.warnings)):
            keys += [(kind, rule_id) for rule_id in ids]
        shown = None if row.amount is None else row.amount.quantize(CENT, ROUND_HALF_UP)  # once for all its bars
        for key in keys:
            group = members.get(key)
            if group is None:
                group = members[key] = _Members(limit)
            group.add(row, shown)

    def groups(self) -> list[DealGroup]:
        members, limit = self.members, self.list_limit
        empty = _Members(limit)
        groups = [_group("verdict", v, None, None, members.get(("verdict", v), empty)) for v in VERDICTS]
        for kind, key, why, stage in _rules(self.ruleset.pipeline):
            found = members.pop((kind, key), None)
            if found is not None and found.count:
                groups.append(_group(kind, key, why, stage, found))
        return sorted(groups, key=lambda group: GROUP_KINDS.index(group.kind))  # stable: the pack's order within a kind


class _Members:
    """One bar's deals: how many, their amount (each to the cent, as the page shows it), and the largest
    ``limit`` by amount then id, in the order a stable sort of all of them gives (ties: first seen first).

    Rows are kept until there are twice ``limit``, then cut back to the first ``limit`` in that order:
    a row cut could never come back, since ``limit`` rows before it stay before it.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.count = 0
        self.amount = Decimal(0)
        self.rows: list[DealRow] = []

    def add(self, row: DealRow, shown: Decimal | None) -> None:
        """Count ``row``, whose amount to the cent is ``shown``."""
        self.count += 1
        if shown is not None:
            self.amount += shown
        rows = self.rows
        rows.append(row)
        if len(rows) > 2 * self.limit + 64:
            self.rows = self._largest()

    def _largest(self) -> list[DealRow]:
        return sorted(self.rows, key=_largest_first)[: self.limit]

    def largest(self) -> tuple[DealRow, ...]:
        return tuple(self._largest())


def _largest_first(row: DealRow) -> tuple:
    return -(row.amount or 0), row.id or ""


def _rules(pipeline):
    """(kind, id, why, stage) of every rule a deal can be listed under, in the order the pack declares them."""
    for rule in pipeline.qualify_out:
        yield ("qualify_out" if rule.severity == "error" else "warning"), rule.id, rule.why, None
    seen = set()
    for stage in pipeline.stages:
        for criterion in stage.exit:
            if criterion.id not in seen:  # the summary counts failed criteria by id
                seen.add(criterion.id)
                yield "failed", criterion.id, criterion.why, stage.id


def _group(kind, key, why, stage, members: _Members) -> DealGroup:
    return DealGroup(kind, key, why, stage, members.count, members.amount, members.largest())


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
