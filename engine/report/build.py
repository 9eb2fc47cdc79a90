"""Build the report from scored deals: each analysis by the library function its command calls.

| part of the page            | made by                                        | as the command    |
|-----------------------------|------------------------------------------------|-------------------|
| funnel, verdicts, rules     | ``engine.score.Summary`` (filled by the caller) | ``score``         |
| forecast by category, owner | ``build_forecast``, ``add_coverage``           | ``forecast``      |
| calibration                 | ``outcomes_from_*``, ``calibrate``             | ``calibrate``     |
| movement                    | ``engine.forecast.movement.compare``           | ``movement``      |
| payouts                     | ``compile_payout(...).compute``                | ``payout``        |

The deals are read once by the caller and held as a list: every analysis walks them, and the page
lists the deals behind each bar anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from ..forecast.calibrate import calibrate, outcomes_from_export, outcomes_from_history
from ..forecast.forecast import Forecast, ForecastError, add_coverage, build_forecast
from ..forecast.movement import compare
from ..money import CENT
from ..payout import compile_payout
from ..results import VERDICTS
from ..score import ScoredDeal, Summary
from .model import GROUP_KINDS, DealGroup, DealRow, Report, Source

LIST_LIMIT = 200  # deals listed behind one bar by default; the rest are counted and summed


def build_report(
    ruleset,
    deals: Sequence[ScoredDeal],
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
    previous: Sequence[ScoredDeal] | None = None,
    previous_source: Source | None = None,
    period_kind: str = "quarter",
    list_limit: int = LIST_LIMIT,
) -> Report:
    """The report of ``deals`` (scored by ``ruleset``; ``summary`` counted them, as ``score`` counts).

    ``period`` (an engine.payout Period) limits the forecast to deals closing in it; ``reps`` and
    ``plans`` (as ``engine.payout.read_reps`` gives them; they need ``period``) add coverage against
    quota and the payouts of the period; ``history`` (rows of a stage history) says which stages
    closed deals reached; ``previous`` (the scored deals of an older snapshot) adds the movement.
    """
    deals = list(deals)
    notes: list[str] = []
    by_category, by_owner = _forecasts(ruleset, deals, source.as_of, period, fy_start, notes)
    payouts = None
    if reps is not None:
        reps = list(reps)
        if period is None:
            raise ForecastError("quotas and payouts are per period: give a period with the reps")
        if by_owner is not None:
            add_coverage(by_owner, reps, plans or {})
        payouts = compile_payout(ruleset).compute(
            ((scored.line, scored.deal) for scored in deals), reps, period.label, source.as_of, source=source.name
        )
    else:
        notes.append("No reps file: coverage against quota and payouts per rep are left out (give --reps).")
    movement = None
    if previous is not None:
        movement = compare(ruleset, previous, deals, period_kind, fy_start)
    else:
        notes.append("No previous snapshot: the movement is left out (give --previous OLD_EXPORT).")
    return Report(
        title=title or f"Pipeline report: {source.name}, as of {source.as_of.isoformat()}",
        rules=rules,
        source=source,
        pipeline=ruleset.pipeline,
        summary=summary,
        groups=tuple(deal_groups(ruleset, deals, list_limit)),
        list_limit=list_limit,
        calibration=_calibration(ruleset, deals, history),
        period=period,
        by_category=by_category,
        by_owner=by_owner,
        previous=previous_source,
        movement=movement,
        payouts=payouts,
        notes=tuple(notes),
    )


def _forecasts(ruleset, deals, as_of, period, fy_start, notes: list[str]) -> tuple[Forecast | None, Forecast | None]:
    """The forecast by category and by owner (None, with a note, where the pack cannot give one)."""
    found: list[Forecast | None] = []
    for key in ("category", "owner"):
        try:
            found.append(build_forecast(ruleset, deals, as_of, (key,), period, fy_start=fy_start))
        except ForecastError as problem:
            notes.append(f"No forecast by {key}: {problem}.")
            found.append(None)
    return found[0], found[1]


def _calibration(ruleset, deals, history):
    if history is None:
        outcomes, open_deals = outcomes_from_export(ruleset, deals)
        return calibrate(ruleset, outcomes, open_deals, "export")
    results = {str(scored.result.id): scored.result for scored in deals}
    outcomes, open_deals, unmatched = outcomes_from_history(ruleset, history, results)
    return calibrate(ruleset, outcomes, open_deals, "history", unmatched)


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
    members: dict = {}
    for scored in deals:
        row = deal_row(scored)
        members.setdefault(("verdict", row.verdict), []).append(row)
        for kind, ids in (("qualify_out", row.qualify_out), ("failed", row.failed), ("warning", row.warnings)):
            for rule_id in ids:
                members.setdefault((kind, rule_id), []).append(row)
    groups = [_group("verdict", v, None, None, members.get(("verdict", v), []), list_limit) for v in VERDICTS]
    for kind, key, why, stage in _rules(ruleset.pipeline):
        rows = members.pop((kind, key), None)
        if rows:
            groups.append(_group(kind, key, why, stage, rows, list_limit))
    return sorted(groups, key=lambda group: GROUP_KINDS.index(group.kind))  # stable: the pack's order within a kind


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


def _group(kind, key, why, stage, rows: list, list_limit: int) -> DealGroup:
    amount = sum((row.amount.quantize(CENT, ROUND_HALF_UP) for row in rows if row.amount is not None), Decimal(0))
    largest = sorted(rows, key=lambda r: (-(r.amount or 0), r.id or ""))[:list_limit]
    return DealGroup(kind, key, why, stage, len(rows), amount, tuple(largest))


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
