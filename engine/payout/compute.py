"""Payouts: deals + reps + periods -> statements, with every problem as a diagnostic.

    program = compile_payout(analysis)          # once per pack
    result = program.compute(deals, reps, "2026-Q3", as_of)
    for statement in result.statements: ...

``deals`` is any iterable of deal records (field name -> typed value), read
once. Each plan's crediting function runs on every deal; credits go to the
reps of that plan. For each rep, statements are computed period by period
from the start of the fiscal year of its earliest credit (or start date)
when the plan carries state between periods (draws, clawbacks, attainment
to date), so a requested period always sees what earlier ones paid.

``program.stream(...)`` does the same with bounded memory: the credits are
kept by rep, on disk once they are many (``spill.CreditStore``), and the
statements are computed as they are read, a bucket of reps at a time, in
the order ``compute`` gives them. ``compute`` is ``stream`` read whole.
"""

from __future__ import annotations

import datetime as dt
import gc
from bisect import bisect_left
from collections.abc import Iterable
from decimal import Decimal
from itertools import compress, repeat
from operator import eq, is_not, itemgetter
from typing import Any

import attrs

from ..diagnostics import Diagnostic, Location, error, warning
from ..model import Expr
from ..semantics import Analysis
from . import periods as P
from .assignments import by_plan, days_on
from .credit import ONE, OWNER, Credited, CreditProgram, SplitProblem, compile_credit, parse_recipients
from .fx import FxTable
from .reps import Rep
from .spill import HELD, CreditStore
from .split import merge_parts
from .statement import NoQuota, NoTargetIncentive, PlanRuntime, RepState, compute_statement

_DATE = itemgetter(0)  # Credited.date
_DEAL_ID = itemgetter(1)  # Credited.deal
_CANCELLED = itemgetter(10)  # Credited.cancelled
_COUNTS = ("credited", "not_credited", "undecided", "skipped", "credits")
CREDITED, NOT_CREDITED, UNDECIDED, SKIPPED, CREDITS = range(len(_COUNTS))  # indexes of a plan's tally
MAX_LISTED = 20  # per-deal diagnostics of one kind listed one by one; the rest are counted


@attrs.frozen
class PayoutResult:
    statements: tuple  # Statement, by rep (reps file order) then period
    diagnostics: list
    counts: dict  # deals, and per plan: credited, not_credited, undecided, skipped, credits

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@attrs.frozen
class PayoutProgram:
    """The compiled plans of a pack. Immutable; ``compute`` may be called many times."""

    analysis: Analysis = attrs.field(repr=False)
    credit: CreditProgram = attrs.field(repr=False)
    runtimes: dict  # plan id -> PlanRuntime

    @property
    def plans(self) -> dict:
        return {plan_id: rt.plan for plan_id, rt in self.runtimes.items()}

    def compute(
        self,
        deals: Iterable,
        reps: Iterable[Rep],
        periods,
        as_of: dt.date,
        rep: str | None = None,
        source: str | None = None,
        fx: FxTable | None = None,
    ) -> PayoutResult:
        """Statements of every rep (or ``rep``) for ``periods``.

        ``deals`` yields deal records, or ``(line, record)`` pairs as ExportReader.records() gives
        them (then problems with a deal point at ``source``:line). ``fx`` is the dated FX table
        plans with ``fx`` convert deals in other currencies with (``engine.payout.fx.read_fx``).
        """
        # Paused for the whole run (stream pauses it only while it computes, and a collection
        # between two buckets would walk every credit still held).
        with _collector_paused(), self.stream(deals, reps, periods, as_of, rep, source, fx, held=None) as streamed:
            statements = tuple(streamed)
            return PayoutResult(statements, streamed.diagnostics, streamed.counts)

    def stream(
        self,
        deals: Iterable,
        reps: Iterable[Rep],
        periods,
        as_of: dt.date,
        rep: str | None = None,
        source: str | None = None,
        fx: FxTable | None = None,
        held: int | None = HELD,
    ) -> PayoutStream:
        """``compute``'s statements as an iterator, in the same order, with bounded memory.

        The deals are read and credited here, at once (beyond ``held`` credits they go to a
        temporary file); iterating computes the statements a bucket of reps at a time. The
        diagnostics are complete once the iteration is over. ``held=None`` keeps every credit
        in memory. Use it as a context manager, or ``close`` it, to let the temporary file go.
        """
        run = _Run(self, list(reps), periods, as_of, rep, source, fx)
        try:
            with _collector_paused():
                run.distribute(deals, held)
        except BaseException:  # an unreadable export, an interrupt: the temporary file goes now
            run.store.close()
            raise
        return PayoutStream(run)


class PayoutStream:
    """The statements of a payout whose deals are credited, computed as they are iterated.

    ``diagnostics``, ``ok`` and ``counts`` are those of ``PayoutResult``; the diagnostics of the
    statements (duplicates, missing quotas, ...) are there once every statement was read.
    """

    def __init__(self, run: _Run):
        self.run = run
        self.counts = run.counts
        self.read = False
        self._statements = run.statements()

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._statements)
        except StopIteration:
            self.read = True
            self.close()
            raise

    def __enter__(self) -> PayoutStream:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self._statements.close()
        self.run.store.close()

    @property
    def diagnostics(self) -> list:
        return self.run.all_diagnostics()

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class _collector_paused:
    """A run makes a few small tuples per deal (credits, lines) and no reference cycles; with a
    large export alive, the cyclic collector's passes over it would cost more than the
    computation. It is paused while crediting, and while each bucket's statements are computed."""

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_):
        if self.was_enabled:
            gc.enable()


def compile_payout(source) -> PayoutProgram:
    """A PayoutProgram from an Analysis or a compiled RuleSet (anything with ``.analysis``)."""
    analysis = source if isinstance(source, Analysis) else source.analysis
    return PayoutProgram(
        analysis, compile_credit(analysis), {plan.id: PlanRuntime.of(plan) for plan in analysis.pack.plans}
    )


def compute_statements(
    ruleset_or_analysis,
    deals: Iterable,
    reps: Iterable[Rep],
    periods,
    as_of: dt.date,
    rep: str | None = None,
    source: str | None = None,
    fx: FxTable | None = None,
) -> PayoutResult:
    """Statements for every rep (or ``rep``) in ``periods``.

    ``periods``: a label ('2026-Q3', '2026-05', '2026-H1', '2026'), a range 'FIRST..LAST', or a list
    of labels. Each plan pays its own periods that overlap the requested span (a monthly plan asked
    for 2026-Q3 gives July, August and September), in its own fiscal calendar.
    """
    program = (
        ruleset_or_analysis if isinstance(ruleset_or_analysis, PayoutProgram) else compile_payout(ruleset_or_analysis)
    )
    return program.compute(deals, reps, periods, as_of, rep, source, fx)


def requested_periods(periods, kind: str, fy_start: int) -> list:
    """The plan periods of ``kind`` overlapping the requested labels. Raises PeriodError."""
    labels = [periods] if isinstance(periods, (str, P.Period)) else list(periods)
    found: dict = {}
    for label in labels:
        if isinstance(label, P.Period):
            start, end = label.start, label.end
        elif ".." in label:
            first, last = label.split("..", 1)
            start, end = P.span(first.strip(), last.strip(), fy_start)
        else:
            start, end = P.span(label, None, fy_start)
        for period in P.periods_in(kind, start, end, fy_start):
            found[period.start] = period
    return [found[k] for k in sorted(found)]


class _Problems:
    """Per-deal problems: the first few listed one by one, the rest counted, per (code, plan, kind)."""

    def __init__(self, source: str | None = None):
        self.groups: dict = {}
        self.source = source
        self.keyed: dict = {}  # (severity, code, group) -> [count, [(key, n, message)], hint]
        self.n = 0

    def add_keyed(self, key: tuple, severity: str, code: str, group: str, message: str, hint: str | None = None):
        """A problem found computing statements, where ``key`` (plan index, rep index) orders it.

        Statements are computed a bucket of reps at a time, for every plan; a run held whole computed
        them plan by plan. Problems are listed in that order whatever the buckets: the first
        MAX_LISTED by key are kept (a few more between trims), the rest only counted.
        """
        entry = self.keyed.setdefault((severity, code, group), [0, [], hint])
        entry[0] += 1
        entry[1].append((key, self.n, message))
        self.n += 1
        if len(entry[1]) > 8 * MAX_LISTED:
            entry[1].sort()
            del entry[1][MAX_LISTED:]

    def add(
        self, severity: str, code: str, group: str, message: str, hint: str | None = None, line: int | None = None
    ) -> None:
        entry = self.groups.setdefault((severity, code, group), [0, [], hint])
        entry[0] += 1
        if len(entry[1]) < MAX_LISTED:
            where = None
            if self.source is not None:
                where = Location(self.source, line, 1) if line else Location(self.source)
            entry[1].append((message, where))

    def diagnostics(self) -> list[Diagnostic]:
        result: list[Diagnostic] = []
        groups = dict(self.groups)
        keyed = sorted(self.keyed.items(), key=lambda item: min(item[1][1]))  # in order of their first problem
        for name, (count, found, hint) in keyed:
            where = Location(self.source) if self.source is not None else None
            listed = [(message, where) for _, _, message in sorted(found)[:MAX_LISTED]]
            if name in groups:  # not met: the crediting pass and the statements report different codes
                groups[name] = [groups[name][0] + count, (groups[name][1] + listed)[:MAX_LISTED], groups[name][2]]
            else:
                groups[name] = [count, listed, hint]
        for (severity, code, group), (count, messages, hint) in groups.items():
            make = error if severity == "error" else warning
            result.extend(make(code, message, where, hint) for message, where in messages)
            if count > len(messages):
                where = Location(self.source) if self.source else None
                result.append(make(code, f"... and {count - len(messages)} more: {group}", where, hint))
        return result


class _Run:
    def __init__(
        self,
        program: PayoutProgram,
        reps: list,
        periods,
        as_of: dt.date,
        only: str | None,
        source: str | None = None,
        fx: FxTable | None = None,
    ):
        self.program = program
        self.as_of = as_of
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.problems = _Problems(source)
        self.only = only
        self.fx = fx
        self.computed_bonuses = {
            plan_id: frozenset(b.id for b in rt.plan.bonuses if isinstance(b.amount, Expr))
            for plan_id, rt in program.runtimes.items()
        }
        self.all_reps = list(reps)
        self.reps = [r for r in self.all_reps if only is None or r.id == only]
        for r in self.reps:
            if r.plan not in program.runtimes:
                self.diagnostics.append(
                    error(
                        "DG604", f"rep '{r.id}' is on plan '{r.plan}', which the rule pack does not define", r.location
                    )
                )
        self.by_plan = by_plan([r for r in self.reps if r.plan in program.runtimes], program.plans)
        self.requested = {}
        for plan_id, rt in program.runtimes.items():
            if plan_id in self.by_plan:
                self.requested[plan_id] = requested_periods(periods, rt.plan.period, rt.plan.fiscal_year_start)
        self.run_end = max((ps[-1].end for ps in self.requested.values() if ps), default=None)
        self.counts: dict = {"deals": 0}
        self.order = list(dict.fromkeys(rep.id for rep in self.reps))  # the statements' order: reps file order
        self.store = CreditStore(self.order, None)
        self.key: tuple = (0, 0)  # (plan index, rep index) of the statements being computed: orders their problems
        self.late: list = []  # (key, n, Diagnostic) of the statements: no quota, no target incentive, too large

    def statements(self):
        """Every rep's statements, reps file order, then by period (a rep who changed plans: date order).

        Computed a bucket of reps at a time; within a bucket plan by plan, as a run held whole did.
        """
        store = self.store
        work: list[list] = [[] for _ in range(store.count)]  # bucket -> (plan index, rep index, plan id, rep)
        for plan_index, (plan_id, reps) in enumerate(self.by_plan.items()):
            for rep_index, (rep_id, rep) in enumerate(reps.items()):
                work[store.bucket_of[rep_id]].append((plan_index, rep_index, plan_id, rep))
        order: list[list] = [[] for _ in range(store.count)]
        for rep_id in self.order:
            order[store.bucket_of[rep_id]].append(rep_id)
        for bucket in range(store.count):
            with _collector_paused():
                credits = store.take(bucket, [(plan_id, rep.id) for _, _, plan_id, rep in work[bucket]])
                by_rep: dict = {}  # rep id -> its statements on every plan it is on
                for plan_index, rep_index, plan_id, rep in work[bucket]:
                    self.key = (plan_index, rep_index)
                    rt = self.program.runtimes[plan_id]
                    mine = self.rep_statements(rt, rep, credits.pop((plan_id, rep.id), []))
                    by_rep.setdefault(rep.id, []).extend(mine)
                del credits
                statements = []
                for rep_id in order[bucket]:
                    mine = by_rep.pop(rep_id, [])
                    if len({s.plan for s in mine}) > 1:  # a rep who changed plans: the parts in date order
                        mine.sort(key=lambda s: (s.part.start if s.part else s.period.start, s.period.end))
                    statements.extend(mine)
            yield from statements
            del statements

    def all_diagnostics(self) -> list:
        """The run's diagnostics in the order of a run held whole: reps and crediting, the statements'
        own (by plan, then rep), then the per-deal problems grouped."""
        late = [d for _, _, d in sorted(self.late, key=lambda item: item[:2])]
        return self.diagnostics + late + self.problems.diagnostics()

    def _late(self, diagnostic: Diagnostic) -> None:
        self.late.append((self.key, len(self.late), diagnostic))

    # crediting

    def distribute(self, deals: Iterable[dict], held: int | None = HELD) -> None:
        """Credit every deal into ``self.store`` (to disk past ``held`` credits in memory)."""
        store = self.store = CreditStore(self.order, held)
        plans = []
        tallies: dict = {}
        for plan_id, reps in self.by_plan.items():
            rt = self.program.runtimes[plan_id]
            program = self.program.credit.plans[plan_id]
            counts = [0] * len(_COUNTS)  # a list indexed by CREDITED, ...: the hot loop counts in place
            tallies[plan_id] = counts
            bounded = frozenset(r.id for r in reps.values() if r.bounded or r.assignments)
            # the payment date and the deal's currency, when the plan has them, come after the CreditResult fields
            extras = (rt.plan.payment is not None, rt.plan.fx is not None) if rt.plan.payment or rt.plan.fx else None
            plans.append(
                (plan_id, program.function, program.when_fields, reps, store.plan(plan_id), counts, rt, bounded, extras)
            )
        every = list(tallies.values())
        as_of = self.as_of
        end = self.run_end
        problems = self.problems
        recipients_cache: dict = {}
        strangers: dict = {}  # (plan, rep id) -> [count, first deal ids]
        outside: dict = {}  # (plan, rep id) -> count of credits outside the rep's dates
        number = 0
        new = tuple.__new__
        date_class, decimal_class, one, owner = dt.date, Decimal, ONE, OWNER  # locals: read for every deal
        mask = 0 if held is not None and held < 4096 else 4095  # how often to look: every 4096 deals, or every one
        for number, deal in enumerate(deals, 1):
            if not number & mask and held is not None and sum(t[CREDITS] for t in every) - store.written > held:
                store.spill()
            line = None
            if deal.__class__ is tuple:  # (line, record) from ExportReader.records()
                line, deal = deal
            for plan_id, function, when_fields, reps, plan_credits, counts, rt, bounded, extras in plans:
                try:
                    result = function(deal, as_of)
                except Exception as exc:  # a record of the wrong shape must not stop the run
                    counts[SKIPPED] += 1
                    problems.add(
                        "error",
                        "DG617",
                        f"deals plan '{plan_id}' could not evaluate",
                        f"deal {_deal_id(deal, number)}: plan '{plan_id}' could not evaluate it: "
                        f"{type(exc).__name__}: {exc}",
                        "deal values must be typed as the fields declare",
                        line,
                    )
                    continue
                if result is False:
                    counts[NOT_CREDITED] += 1
                    continue
                if result.__class__ is not tuple:
                    counts[UNDECIDED] += 1
                    missing = [f for f in when_fields if deal.get(f) is None]
                    problems.add(
                        "warning",
                        "DG613",
                        f"deals whose credit rule of plan '{plan_id}' is unknown",
                        f"deal {_deal_id(deal, number)}: plan '{plan_id}' cannot tell whether it earns "
                        f"credit (missing {', '.join(missing) or 'a value'}); it is not credited",
                        None,
                        line,
                    )
                    continue
                # a CreditResult, as a plain tuple (engine/payout/credit.py)
                paid_on = currency = converted = None
                if extras is None:
                    deal_id, amount, date, to, splits, overlay, factor, mults, bonuses, cancelled = result
                else:
                    deal_id, amount, date, to, splits, overlay, factor, mults, bonuses, cancelled, *extra = result
                    if extras[0]:
                        paid_on = extra[0]
                        if paid_on is not None and paid_on.__class__ is not dt.date:
                            paid_on = _as_date(paid_on)
                    if extras[1]:
                        currency = extra[-1]
                if deal_id.__class__ is not str:
                    deal_id = _deal_id(deal, number) if deal_id is None else str(deal_id)
                if amount is None or date is None:
                    counts[SKIPPED] += 1
                    if (
                        self.only is not None
                        and self.only != to
                        and self.only not in (splits or "")
                        and self.only != overlay
                    ):
                        continue  # another rep's deal: not this --rep's concern
                    what = "amount" if amount is None else f"date ({rt.plan.credit.date})"
                    problems.add(
                        "warning",
                        "DG613",
                        f"credited deals of plan '{plan_id}' without a credit {what}",
                        f"deal {deal_id}: plan '{plan_id}' credits it, but its credit {what} is blank; "
                        f"it is not paid until that is known",
                        None,
                        line,
                    )
                    continue
                if (
                    amount.__class__ is not decimal_class
                    or date.__class__ is not date_class
                    or (cancelled is not None and cancelled.__class__ is not date_class)
                ):
                    amount, date, cancelled, why = _typed(amount, date, cancelled)
                    if why:
                        counts[SKIPPED] += 1
                        problems.add(
                            "error",
                            "DG617",
                            f"deals plan '{plan_id}' could not evaluate",
                            f"deal {deal_id}: plan '{plan_id}' could not evaluate it: {why}",
                            "deal values must be typed as the fields declare",
                            line,
                        )
                        continue
                if end is not None and date >= end:
                    counts[CREDITED] += 1
                    continue  # after the last requested period: no statement needs it
                if currency is not None:
                    converted = self.convert(rt.plan, deal_id, amount, date, bonuses, currency, line)
                    if converted is None:
                        counts[SKIPPED] += 1
                        continue
                    if converted is not False:
                        amount, bonuses, converted = converted
                recipients: Any  # ((rep, share, role), ...), or the SplitProblem that refuses the deal
                if splits is None and overlay is None and to is not None:
                    recipients = ((to, one, owner),)  # the common case: the owner, in full
                else:
                    key = (to, splits, overlay)
                    recipients = recipients_cache.get(key)
                    if recipients is None:
                        recipients = parse_recipients(to, splits, overlay)
                        if len(recipients_cache) < 100_000:
                            recipients_cache[key] = recipients
                    if recipients.__class__ is SplitProblem:
                        counts[SKIPPED] += 1
                        problems.add(
                            "error",
                            recipients.code,
                            f"deals of plan '{plan_id}' with unusable splits",
                            f"deal {deal_id}: {recipients.message}; the deal is not credited",
                            "fix the split field so the shares total 100 (mark overlay credit 'rep:pct:overlay')",
                            line,
                        )
                        continue
                counts[CREDITED] += 1
                position = number * 64
                for rep_id, share, role in recipients:
                    # A rep with a list here is on the plan (the list was made once that was known):
                    # only a new one, or one with dates to check, is looked up.
                    items = plan_credits.get(rep_id)
                    if items is None or rep_id in bounded:
                        rep = reps.get(rep_id)
                        if rep is None:
                            entry = strangers.setdefault((plan_id, rep_id), [0, []])
                            entry[0] += 1
                            if len(entry[1]) < 5:
                                entry[1].append(deal_id)
                            continue
                        if rep_id in bounded and (
                            (rep.start is not None and date < rep.start)
                            or (rep.end is not None and date > rep.end)
                            or (rep.assignments and not _on_plan(rep, date))
                        ):
                            outside[(plan_id, rep_id)] = outside.get((plan_id, rep_id), 0) + 1
                            continue
                        if items is None:
                            items = plan_credits[rep_id] = []
                    items.append(
                        new(
                            Credited,
                            (
                                date,
                                deal_id,
                                position,
                                amount if share is one else amount * share,
                                share,
                                role,
                                amount,
                                factor,
                                mults,
                                bonuses,
                                cancelled,
                                paid_on,
                                converted or None,
                            ),
                        )
                    )
                    position += 1
                    counts[CREDITS] += 1
        self.counts["deals"] = number
        for plan_id, counts in tallies.items():
            self.counts[plan_id] = dict(zip(_COUNTS, counts))
        self.report_strangers(strangers, outside)
        if store.spilled:
            store.spill()  # the rest too: every bucket is then read back the same way

    def convert(self, plan, deal_id, amount, date, bonuses, currency, line):
        """A deal's credit in the plan's currency: (amount, bonuses, (currency, amount, rate, rate date)),
        False when it is in the plan's currency already, None (and DG621) when there is no rate for it."""
        code = currency.strip().upper() if currency.__class__ is str else str(currency)
        if not code or code == plan.currency:
            return False
        day = date
        if plan.fx.rate_date == "period_end":
            day = P.period_of(date, plan.period, plan.fiscal_year_start).last
        found = self.fx.rate(code, plan.currency, day) if self.fx is not None else None
        if found is None:
            where = "no FX table was given (--fx FILE)" if self.fx is None else f"{self.fx.source} has none"
            self.problems.add(
                "error",
                "DG621",
                f"deals of plan '{plan.id}' without an FX rate",
                f"deal {deal_id}: no {code}->{plan.currency} rate on or before {day} ({where}); it is not credited",
                f"add a row '{day},{code},{plan.currency},<rate>' to the FX table",
                line,
            )
            return None
        rate, rate_day = found
        computed = self.computed_bonuses.get(plan.id, ())
        if computed and bonuses:  # amounts computed from the deal are in its currency; constants are the plan's
            bonuses = tuple((b, v * rate if b in computed and v is not None else v) for b, v in bonuses)
        return amount * rate, bonuses, (code, amount, rate, rate_day)

    def report_strangers(self, strangers: dict, outside: dict) -> None:
        everyone = {r.id: r for r in self.all_reps}
        for (plan_id, rep_id), (count, ids) in strangers.items():
            if self.only is not None and rep_id != self.only and rep_id in everyone:
                continue  # a rep left out by --rep, not a stranger
            other = everyone.get(rep_id)
            deals = f"{count} deal{'s' * (count != 1)} ({', '.join(ids)}{', ...' if count > len(ids) else ''})"
            if other is not None:
                message = (
                    f"{deals} credit '{rep_id}' under plan '{plan_id}', but '{rep_id}' is on plan "
                    f"'{other.plan}'; that credit is not paid"
                )
            else:
                message = (
                    f"{deals} credit '{rep_id}' under plan '{plan_id}', who is not in the reps file; "
                    f"that credit is not paid"
                )
            where = Location(self.source) if self.source else None
            self.diagnostics.append(
                warning("DG612", message, where, "add the rep to the reps file, or fix the deal's credited-rep field")
            )
        for (plan_id, rep_id), count in outside.items():
            rep = self.by_plan[plan_id][rep_id]
            if rep.assignments:
                spans = ", ".join(f"{row.start or '...'} to {row.end or '...'}" for row in rep.terms)
                message = (
                    f"{count} credit{'s' * (count != 1)} of rep '{rep_id}' under plan '{plan_id}' "
                    f"{'are' if count != 1 else 'is'} dated outside "
                    f"the rep's assignments to that plan ({spans}) and {'are' if count != 1 else 'is'} not paid by it"
                )
            else:
                message = (
                    f"{count} credit{'s' * (count != 1)} of rep '{rep_id}' (plan '{plan_id}') fall outside "
                    f"the rep's dates ({rep.start or '...'} to {rep.end or '...'}) and are not paid"
                )
            self.diagnostics.append(warning("DG612", message, rep.location))

    # statements

    def drop_duplicates(self, plan_id: str, rep_id: str, credits: list) -> None:
        """Keep one credit per deal, role and date: a row duplicated in the export would be paid twice.

        Sorted credits put the copies side by side, so this is one pass over what is already
        there, instead of a lookup per deal while crediting (a fifth of the payout time).
        """
        # Copies share a deal id; comparing the ids of neighbours in C leaves the few with one to look at.
        deals = list(map(_DEAL_ID, credits))
        same_deal = compress(range(1, len(credits)), map(eq, deals[1:], deals))
        duplicates = [i for i in same_deal if _same_credit(credits[i], credits[i - 1])]
        for i in reversed(duplicates):
            again, first = credits[i], credits[i - 1]
            self.problems.add_keyed(
                self.key,
                "error",
                "DG618",
                f"deals that appear more than once under plan '{plan_id}'",
                f"deal {again.deal} is credited to '{rep_id}' twice (records #{first.seq // 64} and "
                f"#{again.seq // 64} of the export); plan '{plan_id}' pays it once",
                "remove the duplicate row",
            )
            del credits[i]

    def rep_statements(self, rt: PlanRuntime, rep: Rep, credits: list) -> list:
        """The rep's statements on this plan: one computation, or one per assignment merged (a split plan)."""
        terms = rep.terms
        if rt.plan.mid_period_change != "split" or len(terms) < 2:
            return self.part_statements(rt, rep, credits)
        parts = []
        for term in terms:
            alone = attrs.evolve(
                term,
                assignments=tuple(r for r in rep.assignments if r.plan != rep.plan or r is term),
                tenure=rep.tenure,
            )
            parts.append(self.part_statements(rt, alone, [c for c in credits if term.covers(c.date)]))
        return merge_parts(parts)

    def part_statements(self, rt: PlanRuntime, rep: Rep, credits: list) -> list:
        plan = rt.plan
        requested = self.requested[plan.id]
        if not requested:
            return []
        credits.sort()
        self.drop_duplicates(plan.id, rep.id, credits)
        dates = list(map(_DATE, credits))
        fy = plan.fiscal_year_start
        carries = (
            plan.draw is not None
            or plan.clawback is not None
            or rt.to_date
            or plan.caps.carry_forward
            or plan.holdback is not None
            or plan.payment is not None
        )
        if carries:
            earliest = min([d for d in (dates[0] if dates else None, rep.start, requested[0].start) if d])
            year = P.period_of(earliest, "year", fy)
            wanted = {p.start for p in requested}
            todo = P.periods_in(plan.period, year.start, requested[-1].end, fy)
        else:
            wanted = None
            todo = requested
        clawbacks = self.clawbacks_due(rt, rep, credits)
        state = RepState()
        statements: list = []
        for period in todo:
            active, _ = days_on(rep, period.start, period.end)
            due = clawbacks.get(period.start, ())
            if not active and not due and state.draw_balance == 0 and state.carried == 0 and not _any_held(state):
                continue
            if (
                wanted is not None
                and period.start not in wanted
                and not due
                and plan.draw is None
                and not state.carried
                and not _any_held(state)
                and not _any_between(dates, period.start, period.end)
            ):
                continue  # an earlier period with nothing in it: it changes nothing that carries
            try:
                statement = compute_statement(rt, rep, period, credits, dates, state, due)
            except NoQuota:
                self._late(
                    error(
                        "DG614",
                        f"rep '{rep.id}' has no quota and plan '{plan.id}' sets no default; no statement for "
                        f"{period.label}",
                        rep.location,
                        "give the rep a quota in the reps file",
                    )
                )
                return statements
            except NoTargetIncentive:
                self._late(
                    error(
                        "DG615",
                        f"plan '{plan.id}' pays rates of the target incentive, but rep '{rep.id}' has none; "
                        f"no statements",
                        rep.location,
                        "add target_incentive to the reps file",
                    )
                )
                return statements
            except ArithmeticError:  # decimal.InvalidOperation: beyond 28 significant digits nothing is exact
                self._late(
                    error(
                        "DG619",
                        f"rep '{rep.id}': amounts in {period.label} are too large to pay exactly (more than "
                        f"28 significant digits); no statement",
                        rep.location,
                        f"check plan '{plan.id}': its credit amount or rates multiply to an impossible figure",
                    )
                )
                return statements
            if wanted is None or period.start in wanted:
                if active or statement.lines:
                    statements.append(statement)
        return statements

    def clawbacks_due(self, rt: PlanRuntime, rep: Rep, credits: list) -> dict:
        """Period start -> the (Credited, share, days) clawed back in it: cancelled inside the window.

        The window starts on the credit date, or with ``from: payment`` on the last day of the pay
        period that paid the deal; ``days`` are counted from there, and the clawback's steps say
        which share of what was paid is taken back.
        """
        plan = rt.plan
        claw = plan.clawback
        due: dict = {}
        if claw is None:
            return due
        for c in _cancelled(credits):
            start = c.date
            if claw.counts_from == "payment":
                start = P.period_of(c.date, plan.period, plan.fiscal_year_start).last
            days = (c.cancelled - start).days
            share = claw.share_after(max(days, 0))
            if share is None:
                continue
            if c.cancelled < c.date:
                self.problems.add_keyed(
                    self.key,
                    "warning",
                    "DG616",
                    f"deals cancelled before their credit date ({plan.id})",
                    f"deal {c.deal}: cancelled on {c.cancelled}, before its credit date {c.date}; "
                    f"clawed back in the credit period",
                )
            when = max(c.cancelled, c.date)
            period = P.period_of(when, plan.period, plan.fiscal_year_start)
            due.setdefault(period.start, []).append((c, share, max(days, 0), start))
        return due


def _as_date(value):
    """A payment date as a date (a datetime's day); a value of another type counts as not known yet."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _typed(amount, date, cancelled):
    """(amount, date, cancelled, None) as Decimal, date, date; or (..., why not) for values of the wrong type."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        return amount, date, cancelled, f"the credit amount {amount!r} is not a number"
    if not isinstance(amount, Decimal):
        amount = Decimal(amount)
    if not amount.is_finite():
        return amount, date, cancelled, f"the credit amount {amount} is not a finite number"
    dates = []
    for what, value in (("credit date", date), ("cancellation date", cancelled)):
        if isinstance(value, dt.datetime):
            value = value.date()
        elif value is not None and not isinstance(value, dt.date):
            return amount, date, cancelled, f"the {what} {value!r} is not a date"
        dates.append(value)
    return amount, dates[0], dates[1], None


def _cancelled(credits: list):
    """The credits with a cancellation date, picked out in C: a rep's credits are mostly without one."""
    return compress(credits, map(is_not, map(_CANCELLED, credits), repeat(None)))


def _any_held(state) -> bool:
    """A holdback, or payment timing with a known date, still has something to pay."""
    return any(any(pending.values()) for pending in state.held.values()) or any(
        any(pending.values()) for due, pending in state.deferred.items() if due != dt.date.max
    )


def _on_plan(rep: Rep, day: dt.date) -> bool:
    """One of the rep's rows on its plan covers ``day``."""
    return any(row.covers(day) for row in rep.terms)


def _same_credit(one: Credited, other: Credited) -> bool:
    """The same deal credited to the same rep in the same role on the same date: a duplicated row."""
    return one.deal == other.deal and one.date == other.date and one.role == other.role


def _any_between(dates: list, start: dt.date, end: dt.date) -> bool:
    index = bisect_left(dates, start)
    return index < len(dates) and dates[index] < end


def _deal_id(deal: dict, number: int) -> str:
    value = deal.get("id")
    return str(value) if value is not None else f"#{number}"
