"""The forecast: open pipeline, weighted and won amounts by owner, team, stage, period or category,
restricted to the deals closing in a period, and coverage against the reps' quotas.

Amounts are summed as each deal shows them (to the cent), exactly as ``engine.score.Summary`` sums
them, so the forecast's totals equal ``dealgate score``'s summary for the same deals. A deal is
*open*, *won* or *lost* by its stage (the pipeline's ``won``/``lost`` flags), whatever its verdict:
a disqualified deal still sits in the pipeline until someone closes it, and the score summary
counts it there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import attrs

from ..money import CENT, cents
from ..payout.periods import MONTHS, Period, active_fraction, period_of
from ..score import ScoredDeal

GROUP_KEYS = ("owner", "team", "stage", "period", "category")
RATIO = Decimal("0.01")  # coverage is shown as 3.25x
ZERO = Decimal(0)
RATE = Decimal("0.0001")  # win rates to a hundredth of a percent
NONE = "(none)"  # the group of deals with no value for a key
# --by period within --period: the periods it is made of (a quarter by month, a year by quarter)
SUBPERIOD = {"year": "quarter", "half": "quarter", "quarter": "month", "month": "month"}


class ForecastError(ValueError):
    """A forecast that cannot be made as asked (a key the pack has no field for); the message says why."""


@attrs.define
class Totals:
    """Counts and exact sums of one group of deals (money summed to the cent, as each deal shows it)."""

    deals: int = 0
    open_deals: int = 0
    open_amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    won_deals: int = 0
    won_amount: Decimal = Decimal(0)
    lost_deals: int = 0
    lost_amount: Decimal = Decimal(0)
    unknown_amount: int = 0  # deals with a blank amount: counted, not summed

    def add(self, state: str, amount: Decimal | None, weighted: Decimal | None) -> None:
        shown = None if amount is None else amount.quantize(CENT, ROUND_HALF_UP)
        if state == "open" and weighted is not None:
            weighted = weighted.quantize(CENT, ROUND_HALF_UP)
        self.add_shown(state, shown, weighted)

    def add_shown(self, state: str, shown: Decimal | None, weighted: Decimal | None) -> None:
        """``add`` of amounts already to the cent (for an open deal, its weighted amount too): a deal
        counted in several groups is rounded once."""
        self.deals += 1
        if shown is None:
            self.unknown_amount += 1
            shown = ZERO
        if state == "open":
            self.open_deals += 1
            self.open_amount += shown
            self.weighted += ZERO if weighted is None else weighted
        elif state == "won":
            self.won_deals += 1
            self.won_amount += shown
        else:
            self.lost_deals += 1
            self.lost_amount += shown

    @property
    def win_rate(self) -> Decimal | None:
        """Won amount over closed (won + lost) amount: the share of closed value that was won."""
        closed = self.won_amount + self.lost_amount
        return None if closed <= 0 else (self.won_amount / closed).quantize(RATE, ROUND_HALF_UP)


@attrs.frozen
class Coverage:
    """One rep (or the total) against quota in the forecast period."""

    rep: str
    name: str | None
    quota: Decimal | None  # None: no quota known (an owner not in the reps file)
    won: Decimal
    remaining: Decimal | None
    open_amount: Decimal
    weighted: Decimal
    coverage: Decimal | None  # open / remaining; None when nothing remains (or no quota)
    weighted_coverage: Decimal | None
    win_rate: Decimal | None  # from the rep's closed deals in the whole export
    needed: Decimal | None  # the coverage the win rate says is needed: 1 / win rate

    @property
    def short(self) -> bool:
        """Less coverage than the win rate needs: the quota will not be reached at that rate."""
        return self.coverage is not None and self.needed is not None and self.coverage < self.needed


@attrs.frozen
class Disagreement:
    """A deal whose forecast category in the CRM is not the one the rules give it."""

    id: str
    owner: str
    stage: str
    rules: str | None  # the rules' category (None: no category matched)
    crm: str  # the CRM's value as written
    crm_category: str | None  # the category that value means (a category's id or one of its labels); None: none


@attrs.define
class CrmComparison:
    """The CRM's forecast-category column against the rules, over the forecast's deals."""

    field: str
    compared: int = 0  # deals with a value in the CRM column
    blank: int = 0  # deals without one: not compared
    disagreements: list = attrs.field(factory=list)  # Disagreement, in export order

    @property
    def agree(self) -> int:
        return self.compared - len(self.disagreements)


def category_labels(pipeline) -> dict:
    """The CRM values that mean each category, lower-cased: its labels and its id ('Best Case' -> best_case)."""
    labels: dict[str, str] = {}
    for category in pipeline.categories:
        for text in (category.id, category.id.replace("_", " "), *category.labels):
            labels.setdefault(text.strip().lower(), category.id)
    return labels


@attrs.define
class Forecast:
    """The grouped forecast, its total, and what was left out (outside the period, no close date)."""

    keys: tuple
    period: Period | None
    period_kind: str
    as_of: dt.date
    groups: dict = attrs.field(factory=dict)  # key values -> Totals, in first-seen order until sorted
    total: Totals = attrs.field(factory=Totals)
    owners: dict = attrs.field(factory=dict)  # owner -> Totals of the period's deals (coverage), any grouping
    history: dict = attrs.field(factory=dict)  # owner -> Totals of every deal in the export (win rates)
    everything: Totals = attrs.field(factory=Totals)  # every deal in the export, any period
    outside_period: int = 0
    no_close_date: int = 0
    coverage: tuple = ()  # Coverage per rep, then the total (when reps were given)
    crm: CrmComparison | None = None  # the CRM's own forecast category against the rules' (when asked)

    orders: dict = attrs.field(factory=dict)  # key -> {value: position}: stages (and categories) in pipeline order

    def sorted_groups(self) -> list:
        """Groups in a stable order: stages and categories as the pipeline declares them, other values
        alphabetically, blanks last."""

        def position(item):
            return [
                (value == NONE, self.orders.get(key, {}).get(value, -1), value)
                for key, value in zip(self.keys, item[0])
            ]

        return sorted(self.groups.items(), key=position)


def deal_state(stage) -> str:
    return "won" if stage.won else "lost" if stage.lost else "open"


def check_keys(ruleset, keys: Iterable[str]) -> tuple:
    """The group keys, each one the pack can answer, or ForecastError saying which it cannot."""
    keys = tuple(keys)
    for key in keys:
        if key not in GROUP_KEYS:
            raise ForecastError(f"cannot group by '{key}'; choose from {', '.join(GROUP_KEYS)}")
        if key in ("owner", "team") and key not in ruleset.fields:
            raise ForecastError(f"--by {key}: the pack's fields have no '{key}' field to group by")
        if key == "category" and not ruleset.pipeline.categories:
            raise ForecastError(
                "--by category: the pack's pipeline declares no forecast categories "
                "(docs/rules.md, 'Forecast categories')"
            )
    if "close_date" not in ruleset.fields:
        raise ForecastError("the pack's fields have no 'close_date' field: the forecast places deals in periods by it")
    return keys


def check_crm_field(ruleset, field: str) -> None:
    """ForecastError unless the pack has categories and a field ``field`` to read the CRM's category from."""
    if not ruleset.pipeline.categories:
        raise ForecastError("the pack's pipeline declares no forecast categories to compare the CRM's with")
    if field not in ruleset.fields:
        raise ForecastError(f"the pack's fields have no '{field}' field holding the CRM's forecast category")


def build_forecast(
    ruleset,
    deals: Iterable[ScoredDeal],
    as_of: dt.date,
    keys=("owner",),
    period: Period | None = None,
    period_kind: str | None = None,
    fy_start: int = 1,
    crm_field: str | None = None,
) -> Forecast:
    """Group the scored ``deals`` by ``keys``, keeping those that close in ``period`` (all when None);
    with ``crm_field``, compare the CRM's forecast category in that field with the rules' category."""
    keys = check_keys(ruleset, keys)
    comparer = None if crm_field is None else _CrmComparer(ruleset, deals, crm_field, period)
    forecast = _group(ruleset, comparer or deals, as_of, keys, period, period_kind, fy_start)
    if comparer is not None:
        forecast.crm = comparer.comparison
    return forecast


class _CrmComparer:
    """The deals, passed on unchanged while their CRM category is compared with the rules' (in the period)."""

    def __init__(self, ruleset, deals, field: str, period: Period | None):
        check_crm_field(ruleset, field)
        self.deals, self.field, self.period = deals, field, period
        self.labels = category_labels(ruleset.pipeline)
        self.comparison = CrmComparison(field)

    def __iter__(self):
        comparison, labels, field, period = self.comparison, self.labels, self.field, self.period
        for scored in self.deals:
            yield scored
            close = scored.deal.get("close_date")
            if period is not None and (close is None or close not in period):
                continue
            value = scored.deal.get(field)
            if value is None or str(value).strip() == "":
                comparison.blank += 1
                continue
            comparison.compared += 1
            meant = labels.get(str(value).strip().lower())
            if meant != scored.result.category:
                comparison.disagreements.append(
                    Disagreement(
                        str(scored.result.id),
                        _text(scored.deal.get("owner")),
                        scored.result.stage,
                        scored.result.category,
                        str(value),
                        meant,
                    )
                )


def _group(ruleset, deals, as_of, keys, period, period_kind, fy_start) -> Forecast:
    grouping = Grouping(ruleset, as_of, keys, period, period_kind, fy_start)
    for scored in deals:
        grouping.add(scored)
    return grouping.forecast


class Grouping:
    """A forecast filled one scored deal at a time (``add``), as ``build_forecast`` fills it from a list:
    ``dealgate report`` walks its deals once for all its parts. ``keys`` as ``check_keys`` returns them."""

    def __init__(self, ruleset, as_of: dt.date, keys, period: Period | None, period_kind=None, fy_start: int = 1):
        self.kind = period_kind or (SUBPERIOD[period.kind] if period is not None else "quarter")
        self.forecast = Forecast(keys, period, self.kind, as_of)
        self.forecast.orders["stage"] = {stage_id: i for i, stage_id in enumerate(ruleset.pipeline.stage_ids)}
        self.forecast.orders["category"] = {c.id: i for i, c in enumerate(ruleset.pipeline.categories)}
        self.stages = {s.id: s for s in ruleset.pipeline.stages}
        self.keys, self.period, self.fy_start = keys, period, fy_start

    def add(self, scored: ScoredDeal) -> None:
        forecast, period = self.forecast, self.period
        result, deal = scored.result, scored.deal
        state = deal_state(self.stages[result.stage])
        amount, weighted = result.amount, result.weighted_amount
        # Rounded once here, as Totals.add rounds: the deal is counted in up to five totals.
        shown = None if amount is None else amount.quantize(CENT, ROUND_HALF_UP)
        if state == "open" and weighted is not None:
            weighted = weighted.quantize(CENT, ROUND_HALF_UP)
        forecast.everything.add_shown(state, shown, weighted)
        owner = _text(deal.get("owner"))
        _totals(forecast.history, owner).add_shown(state, shown, weighted)
        close = deal.get("close_date")
        if period is not None and (close is None or close not in period):
            forecast.outside_period += 1
            forecast.no_close_date += close is None
            return
        if len(self.keys) == 1:
            values: tuple = (_value(self.keys[0], scored, close, self.kind, self.fy_start),)
        else:
            values = tuple(_value(key, scored, close, self.kind, self.fy_start) for key in self.keys)
        _totals(forecast.groups, values).add_shown(state, shown, weighted)
        _totals(forecast.owners, owner).add_shown(state, shown, weighted)
        forecast.total.add_shown(state, shown, weighted)


def _totals(groups: dict, key) -> Totals:
    """The totals of ``key`` in ``groups``, new ones the first time."""
    found = groups.get(key)
    if found is None:
        found = groups[key] = Totals()
    return found


def _text(value) -> str:
    return NONE if value is None or value == "" else str(value)


def _value(key: str, scored: ScoredDeal, close: dt.date | None, kind: str, fy_start: int) -> str:
    if key == "stage":
        return scored.result.stage
    if key == "period":
        return NONE if close is None else period_of(close, kind, fy_start).label
    if key == "category":
        return _text(scored.result.category)
    return _text(scored.deal.get(key))


def quota_in(rep, plan, period: Period) -> Decimal | None:
    """The rep's quota for ``period``: the rep's (else the plan's) quota per quota period, scaled to the
    period's length in months and prorated by the days the rep is employed in it (as payouts prorate)."""
    quota = rep.quota if rep.quota is not None else (plan.quota if plan is not None else None)
    if quota is None:
        return None
    quota_kind = (plan.quota_period or plan.period) if plan is not None else period.kind
    scaled = quota * MONTHS[period.kind] / MONTHS[quota_kind]
    active, days = active_fraction(period.start, period.end, rep.start, rep.end)
    return cents(scaled * active / days)


def add_coverage(forecast: Forecast, reps, plans: dict) -> None:
    """Per rep of the reps file whose plan credits deal owners, then per owner of the period's deals not in
    it (no quota), then the total:
    won, remaining quota, open pipeline and coverage. Every deal of the period is in exactly one row,
    so the rows add up to the total."""
    if forecast.period is None:
        raise ForecastError("quotas are per period: give --period (e.g. 2026-Q4) with --reps")
    rows = []
    owners = forecast.owners
    known = set()
    quotas_of: dict = {}  # rep id -> (name, quota): a rep of several rows (assignments) adds their prorated quotas
    for rep in reps:
        plan = plans.get(rep.plan)
        if plan is not None and plan.credit.to != "owner":
            continue  # paid on others' deals (an SDR's sourced opportunities): no pipeline of their own to cover
        quota = quota_in(rep, plan, forecast.period)
        if rep.id in quotas_of:
            name, before = quotas_of[rep.id]
            quota = before if quota is None else (quota if before is None else before + quota)
        quotas_of[rep.id] = (quotas_of.get(rep.id, (rep.name, None))[0], quota)
    for rep_id, (name, quota) in quotas_of.items():
        known.add(rep_id)
        rows.append(_coverage(rep_id, name, quota, owners.get(rep_id, Totals()), forecast.history.get(rep_id)))
    for owner in sorted(set(owners) - known, key=lambda o: (o == NONE, o)):
        rows.append(_coverage(owner, None, None, owners[owner], forecast.history.get(owner)))
    quotas = [r.quota for r in rows if r.quota is not None]
    total_quota = sum(quotas, Decimal(0)) if quotas else None
    rows.append(_coverage("total", None, total_quota, forecast.total, forecast.everything))
    forecast.coverage = tuple(rows)


def _coverage(rep: str, name, quota, totals: Totals, history: Totals | None) -> Coverage:
    remaining = None if quota is None else max(quota - totals.won_amount, Decimal(0))
    usable = remaining is not None and remaining > 0
    divisor = (
        remaining if remaining is not None and usable else Decimal(1)
    )  # unused when not usable: no coverage without a quota left
    win_rate = history.win_rate if history is not None else None
    return Coverage(
        rep=rep,
        name=name,
        quota=quota,
        won=totals.won_amount,
        remaining=remaining,
        open_amount=totals.open_amount,
        weighted=totals.weighted,
        coverage=(totals.open_amount / divisor).quantize(RATIO, ROUND_HALF_UP) if usable else None,
        weighted_coverage=(totals.weighted / divisor).quantize(RATIO, ROUND_HALF_UP) if usable else None,
        win_rate=win_rate,
        needed=(1 / win_rate).quantize(RATIO, ROUND_HALF_UP) if win_rate else None,
    )
