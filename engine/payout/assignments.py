"""Assignments and ramps: a rep's rows of the reps file, seen from each plan, and the quota they make.

A rep may have several rows, each on a plan for its own dates: an SDR promoted to AE on
2026-08-15 is on ``sdr-2026`` to 2026-08-14 and on ``ae-2026`` from then; a territory change
keeps the plan and changes the quota. Each plan pays the credits dated inside the rep's rows on
it (a credit dated while the rep was on another plan is that plan's to pay), so a period that
holds a change is paid in parts, each under its own plan.

Within one plan, a quota period the rep spends under several rows has **one** attainment: the
credit of all of them against a quota that is the rows' quotas weighted by their days. A plan's
``ramp`` weighs each day once more, by the fraction of the full quota the rep carries in that
month of tenure. So, for a span of ``days`` days::

    quota = sum over the rep's days on the plan in the span of (row quota x ramp factor) / days

which is the plain ``quota x active days / days`` proration for a rep of one row and no ramp.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import attrs

from . import periods as P
from .reps import Rep

ZERO = Decimal(0)


def by_plan(reps: list[Rep], plans: dict) -> dict:
    """plan id -> {rep id -> the rep's view of that plan}, reps file order.

    A rep of one row on a plan without a ramp is that row, untouched. Otherwise the view spans the
    rows on the plan (first start to last end) and carries every row of the rep (``assignments``)
    and the first day of its tenure, for ``quota_over`` and the statement's notes.
    """
    rows: dict[str, list[Rep]] = {}
    for rep in reps:
        rows.setdefault(rep.id, []).append(rep)
    views: dict = {}
    for rep in reps:
        plan_views = views.setdefault(rep.plan, {})
        if rep.id in plan_views:
            continue
        mine = sorted(rows[rep.id], key=_start_key)
        on_plan = [row for row in mine if row.plan == rep.plan]
        plan = plans.get(rep.plan)
        ramp = plan.ramp if plan is not None else None
        if len(mine) == 1 and ramp is None:
            plan_views[rep.id] = rep
            continue
        first, last = on_plan[0], on_plan[-1]
        plan_views[rep.id] = attrs.evolve(
            first,
            start=None if any(row.start is None for row in on_plan) else first.start,
            end=_last_end(on_plan),
            quota=last.quota,
            target_incentive=last.target_incentive,
            assignments=tuple(mine),
            tenure=_tenure(mine, on_plan, ramp),
        )
    return views


def _last_end(rows: list[Rep]) -> dt.date | None:
    """The last day of the rows on a plan (None: one of them is open-ended)."""
    ends = [row.end for row in rows]
    return max(ends) if all(end is not None for end in ends) else None  # type: ignore[type-var]


def _start_key(rep: Rep):
    return rep.start or dt.date.min


def _tenure(mine: list[Rep], on_plan: list[Rep], ramp) -> dt.date | None:
    if ramp is None:
        return None
    if ramp.counts_from == "plan":
        return on_plan[0].start
    hired = next((row.hired for row in mine if row.hired is not None), None)
    return hired or mine[0].start


def days_on(rep: Rep, start: dt.date, end: dt.date) -> tuple[int, int]:
    """(days the rep is on its plan, days) in ``[start, end)``: the sum over its rows on the plan."""
    terms = rep.terms
    if not terms:
        return P.active_fraction(start, end, rep.start, rep.end)
    days = (end - start).days
    return sum(P.active_fraction(start, end, row.start, row.end)[0] for row in terms), days


@attrs.frozen
class Quota:
    """A rep's quota over a span, and where it comes from."""

    base: Decimal | None  # the full quota per quota period (days-weighted over the rows), before ramp and proration
    quota: Decimal | None  # what the span's attainment is measured against
    target_incentive: Decimal | None  # days-weighted like ``base``
    source: str | None  # "rep" or "plan"
    notes: tuple = ()


def quota_over(rep: Rep, plan, span: P.Period) -> Quota:
    """The quota of ``rep`` for ``span`` (a quota period, or a year for an annual gate) under ``plan``.

    Each day the rep is on the plan counts its row's quota (the rep's, else the plan's) times the
    ramp factor of its month of tenure; the quota is their sum over the span's days. A day of a row
    with no quota and no plan quota makes the quota unknown (None).
    """
    start, end = span.start, span.end
    days = (end - start).days
    rows = [row for row in (rep.terms or (rep,)) if row.covers_any(start, end)]
    if not rows:  # not on the plan in the span: what the rep would carry, for milestones and rates
        return Quota(_quota(rep, plan), None, rep.target_incentive, _source(rep.terms or (rep,)))
    tenure = rep.tenure
    ramp = plan.ramp.quota if plan.ramp is not None and tenure is not None else ()
    bounds = [_plus_months(tenure, n) for n in range(len(ramp) + 1)] if ramp and tenure is not None else []
    full = weighted = incentive = ZERO  # quota x days, quota x ramp-weighted days, target incentive x days
    active_total = 0
    ramped: dict = {}  # month of tenure -> its days in the span
    for row in rows:
        lo = max(start, row.start) if row.start else start
        hi = min(end, row.end + dt.timedelta(days=1)) if row.end and row.end < end else end
        active = (hi - lo).days
        active_total += active
        quota = _quota(row, plan)
        if quota is not None:
            full += quota * active
            weighted += quota * _ramp_days(lo, hi, bounds, ramp, ramped)
        if row.target_incentive is not None:
            incentive += row.target_incentive * active
    quotas = {_quota(row, plan) for row in rows}
    target = incentive / active_total if all(row.target_incentive is not None for row in rows) else None
    if None in quotas:
        return Quota(None, None, target, _source(rows))
    notes = []
    if len(quotas) > 1:
        notes.append(
            "quota weighted by the days of each assignment on the plan, one attainment for the period "
            "(mid_period_change: prorate)"
        )
    if active_total != days:
        notes.append(f"quota prorated: {active_total} of {days} days active in {span.label}")
    for month, count in sorted(ramped.items()):
        notes.append(
            f"quota ramp: {count} day{'s' * (count != 1)} in month {month} of tenure "
            f"(from {bounds[month - 1]}) at {_pct(ramp[month - 1])} of the full quota"
        )
    if len(quotas) == 1 and weighted == full:  # one quota, no ramp: the plain proration, exactly as written
        (single,) = quotas
        assert single is not None  # None in quotas returned above
        base = single
        quota = base if active_total == days else base * active_total / days
    else:
        base = full / active_total
        quota = weighted / days
    return Quota(base, quota, target, _source(rows), tuple(notes))


def _quota(row: Rep, plan) -> Decimal | None:
    return row.quota if row.quota is not None else plan.quota


def _ramp_days(lo: dt.date, hi: dt.date, bounds: list, ramp: tuple, ramped: dict) -> Decimal:
    """The days of ``[lo, hi)`` weighted by the ramp factor of each day's month of tenure."""
    if not ramp:
        return Decimal((hi - lo).days)
    total = Decimal(0)
    for month, factor in enumerate(ramp, 1):
        a, b = max(lo, bounds[month - 1]), min(hi, bounds[month])
        if b > a:
            total += factor * (b - a).days
            ramped[month] = ramped.get(month, 0) + (b - a).days
    before = min(hi, bounds[0]) - lo  # days before the tenure starts: a full quota (nothing to ramp from)
    after = hi - max(lo, bounds[-1])
    return total + max(before.days, 0) + max(after.days, 0)


def _plus_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months on, on the same day of the month (or the month's last)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _source(terms) -> str:
    return "rep" if any(row.quota is not None for row in terms) else "plan"


def _pct(value: Decimal) -> str:  # as statement notes write percentages
    return f"{(value * 100).quantize(Decimal('0.01')).normalize():f}%"


@attrs.frozen
class Part:
    """The part of a period a statement pays when the rep's assignments change inside it."""

    start: dt.date  # the rep's first day on the plan in the period
    last: dt.date  # and last
    role: str | None = None
    territory: str | None = None
    others: tuple = ()  # (plan, first day, last day) of the rep's rows on other plans in the period

    @property
    def whole(self) -> bool:
        """The rep is on this plan, under one row, for the whole period: nothing to say."""
        return not self.others


def part_of(rep: Rep, period: P.Period) -> Part | None:
    """How ``period`` is split among the rep's assignments, seen from this plan (None: a rep of one row)."""
    if not rep.assignments:
        return None
    mine = [row for row in rep.terms if row.covers_any(period.start, period.end)]
    if not mine:
        return None
    others = tuple(
        (row.plan, max(period.start, row.start or period.start), min(period.last, row.end or period.last))
        for row in rep.assignments
        if row.plan != rep.plan and row.covers_any(period.start, period.end)
    )
    first, last = mine[0], mine[-1]
    start = max(period.start, first.start or period.start)
    end = min(period.last, last.end or period.last)
    return Part(start, end, last.role, last.territory, others)


def part_notes(rep: Rep, part: Part | None) -> list[str]:
    """What a statement says about the assignment change it is a part of."""
    if part is None or part.whole:
        return []
    what = ", ".join(x for x in (part.role, part.territory) if x)
    notes = [
        f"assignment: {rep.id} is on plan {rep.plan} from {part.start} to {part.last}"
        + (f" ({what})" if what else "")
        + "; this statement pays the credits dated in those days under this plan"
    ]
    for plan, first, last in part.others:
        notes.append(f"assignment: from {first} to {last} {rep.id} is on plan {plan}, paid on that plan's statement")
    return notes


@attrs.frozen
class Combined:
    """One rep's statement for a period in which it changed plans: the parts, each under its own plan."""

    rep: str
    name: str | None
    period: P.Period  # the longest of the parts' plan periods that holds them
    parts: tuple  # Statement, in date order
    currency: str | None  # None when the parts pay in different currencies (no total then)
    total: Decimal | None


def combine(statements) -> list[Combined]:
    """One statement per rep and period in which the rep changed plans, made of the statements it spans.

    The period is the longest plan period among the statements that hold the change: a rep moving
    from a monthly SDR plan to a quarterly AE plan on 2026-08-15 has, for 2026-Q3, the SDR statements
    of July and August and the AE statement of Q3 -- one Q3 statement in three parts.
    """
    statements = list(statements)
    by_rep: dict = {}
    for s in statements:
        by_rep.setdefault(s.rep, []).append(s)
    result = []
    for mine in by_rep.values():
        changed = [s for s in mine if s.part is not None and not s.part.whole]
        if not changed:
            continue
        size = max(P.MONTHS[s.period.kind] for s in changed)
        spans = sorted({s.period for s in changed if P.MONTHS[s.period.kind] == size})
        for span in spans:
            members = [s for s in mine if span.start <= s.period.start and s.period.end <= span.end]
            members.sort(key=lambda s: (s.part.start if s.part else s.period.start, s.period.end, s.plan))
            currencies = {s.currency for s in members}
            currency = currencies.pop() if len(currencies) == 1 else None
            total = sum((s.total for s in members), Decimal(0)) if currency else None
            first = members[0]
            result.append(Combined(first.rep, first.name, span, tuple(members), currency, total))
    return result
