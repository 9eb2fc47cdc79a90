"""Statements: what one rep is owed for one period, line by line.

A statement's total is, by construction, the sum of its lines; each line is
rounded once, with the plan's rounding, when it is made. The order of lines
is the order of the computation (docs/payouts.md):

1. commission: one line per tier slice of each credited deal (per-deal caps
   right after the deal's slices); for retroactive tiers, a ``true_up`` line;
2. ``gate`` (min_attainment not reached: the commission is held back);
3. ``prior_periods`` (attainment to date: what earlier periods of the quota
   period already paid);
4. ``cap`` per period, or ``carry_forward`` (what earlier caps cut, paid under this period's cap);
   then ``deferred_paid`` (the rest of earlier deals whose payment date is in this period) and
   ``deferred`` (the rest of this period's deals, paid when their payment date comes: payment
   timing); then ``holdback_release`` (what earlier periods held back, due now) and
   ``holdback`` (this period's share held back);
5. ``bonus`` lines: per deal, then attainment milestones;
6. ``clawback`` lines for deals cancelled within the plan's window;
7. ``draw`` / ``draw_recovery``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from decimal import Decimal
from itertools import compress
from operator import itemgetter
from typing import Final, Literal, NamedTuple, get_args

import attrs

from ..model import Holdback, Payment, Plan
from ..money import CENT, ROUNDING
from . import periods as P
from .assignments import days_on, part_notes, part_of, quota_over
from .rates import ONE, ZERO, Tiers, build_tiers, slices
from .reps import Rep

_AMOUNT = itemgetter(3)  # Credited.amount
_LINE_AMOUNT = itemgetter(1)  # Line.amount: summed in C, where a generator costs a frame resume per line
_BONUSES = itemgetter(9)  # Credited.bonuses
# Rounding is passed to ``quantize`` positionally: CPython's decimal parses a keyword argument at
# about the cost of the rounding itself, and a payout rounds once per line.

# The kinds of statement line, in the order a statement lists them.
LineKind = Literal[
    "commission",
    "true_up",
    "gate",
    "prior_periods",
    "cap",
    "carry_forward",
    "deferred",
    "deferred_paid",
    "holdback",
    "holdback_release",
    "bonus",
    "clawback",
    "draw",
    "draw_recovery",
]
COMMISSION: Final = "commission"
TRUE_UP: Final = "true_up"
GATE: Final = "gate"
PRIOR: Final = "prior_periods"
CAP: Final = "cap"
CARRIED: Final = "carry_forward"
DEFERRED: Final = "deferred"
DEFERRED_PAID: Final = "deferred_paid"
HOLDBACK: Final = "holdback"
RELEASE: Final = "holdback_release"
BONUS: Final = "bonus"
CLAWBACK: Final = "clawback"
DRAW: Final = "draw"
RECOVERY: Final = "draw_recovery"
LINE_KINDS: tuple[LineKind, ...] = get_args(LineKind)
COMMISSION_KINDS = frozenset({COMMISSION, TRUE_UP, GATE, PRIOR, CAP, CARRIED, DEFERRED, DEFERRED_PAID})


class Line(NamedTuple):
    """One line of a statement. A tuple: a million deals make a million lines."""

    kind: LineKind
    amount: Decimal  # rounded once, to cents
    rule: str  # the rule that made it: commission, retroactive, min_attainment, cap.per_deal, bonus id, ...
    deal: str | None = None
    credit: Decimal | None = None  # the credit this line pays on (a tier slice, a deal's share)
    rate: Decimal | None = None  # effective rate on that credit
    tier: str | None = None  # tier label
    factor: Decimal | None = None  # product of matching multipliers, when not 1
    note: str = ""


@attrs.frozen
class Statement:
    rep: str
    plan: str
    period: P.Period
    currency: str
    lines: tuple  # Line
    total: Decimal  # == sum of the lines' amounts, always
    name: str | None = None
    quota: Decimal | None = None  # effective quota of the quota period (prorated)
    credit: Decimal = ZERO  # credited in this period
    attainment: Decimal | None = None  # credit to date / quota (to date within the quota period)
    credits: tuple = ()  # Credited entering the commission computation, in order
    quota_period: P.Period | None = None  # the span attainment is measured over, when longer than the period
    credit_to_date: Decimal | None = None  # credit in the quota period up to the end of this period
    draw_balance: Decimal | None = None  # outstanding recoverable draw after this statement
    rounding: str = "half_up"
    notes: tuple = ()
    tiers: Tiers | None = attrs.field(default=None, eq=False)  # the rate table as applied (bounds in credit)
    quota_source: str | None = None  # "rep" or "plan": where the quota came from
    part: object = None  # assignments.Part: the days this plan pays when the rep changed plans in the period

    @property
    def reconciles(self) -> bool:
        return self.total == sum((line.amount for line in self.lines), ZERO)

    def commission_total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind in COMMISSION_KINDS), ZERO)


class NoQuota(Exception):
    """A rep's statement needs a quota (attainment basis or milestone) that neither the rep nor the plan gives."""


class NoTargetIncentive(Exception):
    """The plan's rates are fractions of the target incentive, which the rep does not have."""


@attrs.define
class RepState:
    """What carries from one period to the next for one rep."""

    draw_balance: Decimal = ZERO
    carried: Decimal = ZERO  # what period caps cut, waiting to be paid under a later period's cap
    held: dict = attrs.field(factory=dict)  # period start it is paid in -> {Credited.seq or None: amount held}
    deferred: dict = attrs.field(factory=dict)  # period start it is paid in (date.max: not known) -> {seq: amount}
    deferred_deals: dict = attrs.field(factory=dict)  # Credited.seq -> (deal id, payment date) of what is deferred
    paid_commission: dict = attrs.field(factory=dict)  # Credited.seq -> commission attributed to it
    paid_bonus: dict = attrs.field(factory=dict)  # Credited.seq -> per-deal bonuses paid on it
    paid_to_date: dict = attrs.field(factory=dict)  # quota period start -> commission paid in it so far
    milestones: set = attrs.field(factory=set)  # (quota period start, bonus id) already paid


@attrs.frozen
class PlanRuntime:
    """Everything about a plan that does not change from statement to statement."""

    plan: Plan
    mode: str  # decimal rounding constant
    quota_kind: str
    to_date: bool  # the quota period is longer than the pay period: attainment is to date
    cap_deal: Decimal | None
    cap_period: Decimal | None
    milestones: tuple  # Bonus with attainment, in order
    gated: tuple  # (tier index, TierGate)

    @classmethod
    def of(cls, plan: Plan) -> PlanRuntime:
        quota_kind = plan.quota_period or plan.period
        caps = plan.caps
        cent = lambda v: None if v is None else v.quantize(CENT, rounding=ROUNDING[plan.rounding])  # noqa: E731
        return cls(
            plan=plan,
            mode=ROUNDING[plan.rounding],
            quota_kind=quota_kind,
            to_date=quota_kind != plan.period,
            cap_deal=cent(caps.per_deal),
            cap_period=cent(caps.per_period),
            milestones=tuple(b for b in plan.bonuses if b.attainment is not None),
            gated=tuple((i, t.gate) for i, t in enumerate(plan.commission.tiers) if t.gate is not None),
        )


@attrs.frozen
class _Measure:
    """Where a statement stands before any money: its spans, credits, quota and attainment."""

    quota_period: P.Period  # the span attainment is measured over (the period itself unless to date)
    window: list  # Credited from the start of the quota period to the end of this period
    in_period: list  # Credited dated in this period
    quota_base: Decimal | None  # the rep's or the plan's quota, before proration
    quota: Decimal | None  # prorated to the rep's active days in the quota period
    credit_window: Decimal
    credit_period: Decimal
    attainment: Decimal | None
    tiers: Tiers
    quota_source: str | None = None


def compute_statement(
    rt: PlanRuntime, rep: Rep, period: P.Period, credits: list, dates: list, state: RepState, clawbacks: list
) -> Statement:
    """The statement of ``rep`` for ``period``.

    ``credits`` are all the rep's Credited on this plan sorted (``dates`` their credit dates);
    ``clawbacks`` the Credited whose cancellation falls due in this period. ``state`` carries
    draws, amounts paid per deal, and to-date figures between periods, and is updated.
    The phases run in the order of the lines they make (see the module docstring).
    """
    plan = rt.plan
    part = part_of(rep, period)
    notes: list[str] = part_notes(rep, part)
    measure = _measure(rt, rep, period, credits, dates, notes)
    lines: list[Line] = []
    earned = _commission_lines(rt, measure, lines)
    kept = _hold_back(rt, measure, lines, earned, state)
    if plan.payment is not None:
        _payment_lines(rt, plan.payment, period, measure, lines, kept, state)
    if plan.holdback is not None:
        _holdback_lines(rt, plan.holdback, period, lines, earned, state)
    _deal_bonus_lines(rt, measure, lines, state, notes)
    _milestone_lines(rt, measure, lines, state)
    _clawback_lines(plan, clawbacks, lines, state)
    balance = None
    if plan.draw is not None:
        balance = _draw(plan, rep, period, lines, state, rt.mode, notes)
    total = sum(map(_LINE_AMOUNT, lines), ZERO)
    quota_base = measure.quota_base
    return Statement(
        rep=rep.id,
        plan=plan.id,
        period=period,
        currency=plan.currency,
        lines=tuple(lines),
        total=total,
        name=rep.name,
        quota=measure.quota,
        credit=measure.credit_period,
        attainment=measure.attainment,
        credits=tuple(measure.window),
        quota_period=measure.quota_period if rt.to_date else None,
        credit_to_date=measure.credit_window if rt.to_date else None,
        draw_balance=balance,
        rounding=plan.rounding,
        notes=tuple(notes),
        tiers=measure.tiers,
        quota_source=None if quota_base is None else measure.quota_source,
        part=part,
    )


def _measure(rt: PlanRuntime, rep: Rep, period: P.Period, credits: list, dates: list, notes: list) -> _Measure:
    """Spans, credit, quota (prorated), attainment and the rate table as it applies to this rep.

    Raises NoQuota / NoTargetIncentive when the plan needs what the rep lacks: no statement can be
    right without them.
    """
    plan = rt.plan
    commission = plan.commission
    qp = P.period_of(period.start, rt.quota_kind, plan.fiscal_year_start) if rt.to_date else period
    first = bisect_left(dates, qp.start)
    begin = bisect_left(dates, period.start)
    stop = bisect_left(dates, period.end)
    window = credits[first:stop]
    in_period = credits[begin:stop] if rt.to_date else window

    measured = quota_over(rep, plan, qp)
    quota_base, quota = measured.base, measured.quota
    notes.extend(measured.notes)
    credit_window = sum(map(_AMOUNT, window), ZERO)
    credit_period = sum(map(_AMOUNT, in_period), ZERO) if rt.to_date else credit_window
    attainment = credit_window / quota if quota else None
    tiered_on_quota = commission.basis == "attainment" and bool(commission.tiers)
    needs_quota = tiered_on_quota or commission.min_attainment is not None or commission.rate_of != "credit"
    if quota is None and ((needs_quota and window) or (rt.milestones and quota_base is None)):
        raise NoQuota()

    rate_scale = None
    if commission.rate_of == "target_incentive":
        if measured.target_incentive is None:
            raise NoTargetIncentive()
        if quota_base is None:
            raise NoQuota()
        rate_scale = measured.target_incentive / quota_base
    gates = _gates(rt, rep, period, credits, dates, attainment, quota_base) if rt.gated else None
    scale = quota if tiered_on_quota else None
    if tiered_on_quota and scale is None:
        scale = ONE  # no quota and nothing credited: an empty statement (no line uses the tiers)
    tiers = build_tiers(commission, scale, rate_scale, gates)
    return _Measure(
        qp, window, in_period, quota_base, quota, credit_window, credit_period, attainment, tiers, measured.source
    )


def _commission_lines(rt: PlanRuntime, measure: _Measure, lines: list) -> dict:
    """The deals' commission lines (and per-deal caps, true-up); returns Credited.seq -> what each earned."""
    commission = rt.plan.commission
    earned: dict = {}
    if commission.basis == "deal":
        _per_deal(measure.window, measure.tiers, commission.method, rt.mode, rt.cap_deal, lines, earned)
    elif commission.method == "retroactive":
        _retroactive(measure.window, measure.tiers, rt.mode, rt.cap_deal, lines, earned)
    elif commission.method == "overage":
        _overage(measure.window, measure.tiers, measure.quota or ZERO, rt.mode, rt.cap_deal, lines, earned)
    else:
        _marginal(measure.window, measure.tiers, rt.mode, rt.cap_deal, lines, earned)
    return earned


def _hold_back(rt: PlanRuntime, measure: _Measure, lines: list, earned: dict, state: RepState) -> Decimal:
    """Gate, earlier periods' payments and the period cap; then what each cancellable deal was paid.

    A clawback takes back what was paid, so a deal's commission is scaled by the share of the
    statement's commission the gate or the cap let through (returned).
    """
    commission = rt.plan.commission
    attainment = measure.attainment
    qp = measure.quota_period
    earned_total = sum(map(_LINE_AMOUNT, lines), ZERO)
    kept = ONE  # fraction of the earned commission actually paid (gate, period cap)
    if commission.min_attainment is not None and (attainment is None or attainment < commission.min_attainment):
        if earned_total:
            shown = "unknown" if attainment is None else _pct(attainment)
            lines.append(
                Line(
                    GATE,
                    -earned_total,
                    "min_attainment",
                    note=f"attainment {shown} is below the {_pct(commission.min_attainment)} gate: no commission",
                )
            )
        kept = ZERO
    net = earned_total if kept else ZERO  # commission payable this period, before the period cap
    prior = ZERO
    if rt.to_date:
        prior = state.paid_to_date.get(qp.start, ZERO)
        if prior:
            lines.append(Line(PRIOR, -prior, "to_date", note=f"already paid in earlier periods of {qp.label}"))
        net -= prior
    caps = rt.plan.caps
    if rt.cap_period is not None and net > rt.cap_period:
        excess = net - rt.cap_period
        note = f"commission {_money(net)} is above the period cap {_money(rt.cap_period)}"
        if caps.carry_forward:
            note += _carry(caps, excess, state)
        lines.append(Line(CAP, -excess, "cap.per_period", note=note))
        net = rt.cap_period
        if kept and earned_total > 0:
            kept = (prior + net) / earned_total  # the share of the deals' commission actually paid to date
    elif caps.carry_forward and rt.cap_period is not None and state.carried > 0:
        room = rt.cap_period - max(net, ZERO)
        paid = min(state.carried, room)
        if paid > 0:
            state.carried -= paid
            lines.append(
                Line(
                    CARRIED,
                    paid,
                    "cap.carry_forward",
                    note=f"paid from what earlier period caps cut, under this period's cap {_money(rt.cap_period)}; "
                    f"{_money(state.carried)} still to pay",
                )
            )
    if rt.to_date:
        state.paid_to_date[qp.start] = state.paid_to_date.get(qp.start, ZERO) + net

    for seq, value in earned.items():  # what each cancellable deal was paid, for clawbacks
        state.paid_commission[seq] = value if kept == ONE else (value * kept).quantize(CENT, rt.mode)
    return kept


def _payment_lines(
    rt: PlanRuntime, payment: Payment, period: P.Period, measure: _Measure, lines: list, kept, state: RepState
) -> None:
    """Payment timing: pay the rest of earlier deals whose payment date is in this period, and defer the rest of
    this period's deals (``1 - at_credit`` of what each deal's lines paid) to the period of their payment date.

    A deal whose payment date is already in or before this period is paid in full now. A blank
    payment date defers the rest until the export has one. The deferred part is the deal's, so a
    deal cancelled before it is paid forgoes it instead of being clawed back for it.
    """
    for seq, amount in state.deferred.pop(period.start, {}).items():
        deal, paid_on = state.deferred_deals.pop(seq)
        if seq in state.paid_commission:
            state.paid_commission[seq] += amount
        note = f"the rest of deal {deal}'s commission, due with {payment.rest_on} {paid_on}"
        lines.append(Line(DEFERRED_PAID, amount, "payment", deal, note=note))
    paid_by_deal: dict = {}
    for line in lines:
        if line.deal is not None and line.kind in (COMMISSION, CAP):
            paid_by_deal[line.deal] = paid_by_deal.get(line.deal, ZERO) + line.amount
    rest = ONE - payment.at_credit
    seen: set = set()
    for c in measure.in_period:
        if c.deal in seen or (c.paid_on is not None and c.paid_on < period.end):
            continue  # a deal once (its lines are summed by id); due already: paid in full now
        seen.add(c.deal)
        paid = paid_by_deal.get(c.deal, ZERO) * kept
        deferred = (paid * rest).quantize(CENT, rt.mode)
        if deferred <= 0:
            continue
        if c.paid_on is None:
            due, when = dt.date.max, f"when {payment.rest_on} is set (blank so far)"
        else:
            paid_in = P.period_of(c.paid_on, rt.plan.period, rt.plan.fiscal_year_start)
            due, when = paid_in.start, f"in {paid_in.label} ({payment.rest_on} {c.paid_on})"
        state.deferred.setdefault(due, {})[c.seq] = deferred
        state.deferred_deals[c.seq] = (c.deal, c.paid_on)
        if c.seq in state.paid_commission:
            state.paid_commission[c.seq] -= deferred
        lines.append(
            Line(
                DEFERRED,
                -deferred,
                "payment",
                c.deal,
                note=f"{_pct(rest)} of the deal's commission {_money(paid)} is paid {when}",
            )
        )


def _holdback_lines(
    rt: PlanRuntime, holdback: Holdback, period: P.Period, lines: list, earned: dict, state: RepState
) -> None:
    """Pay what earlier periods held back and is due now; hold back the plan's share of this period's commission.

    What is held is attributed to the cancellable deals it came from, so a deal cancelled before its
    held part is paid loses that part (the release shrinks) instead of being clawed back for it.
    """
    plan = rt.plan
    due = state.held.pop(period.start, None)
    if due:
        amount = sum(due.values(), ZERO)
        for seq, value in due.items():
            if seq is not None:
                state.paid_commission[seq] = state.paid_commission.get(seq, ZERO) + value
        if amount:
            lines.append(Line(RELEASE, amount, "holdback", note="held back in earlier periods, due now"))
    payable = sum((line.amount for line in lines if line.kind in COMMISSION_KINDS), ZERO)
    if payable <= 0:
        return
    share = holdback.share
    held = (payable * share).quantize(CENT, rt.mode)
    if not held:
        return
    months = P.MONTHS[plan.period] * holdback.periods
    paid_in = P.period_of(P.add_months(period.start, months), plan.period, plan.fiscal_year_start)
    by_deal: dict = {}
    for seq in earned:
        part = (state.paid_commission.get(seq, ZERO) * share).quantize(CENT, rt.mode)
        if part > 0:
            by_deal[seq] = part
            state.paid_commission[seq] -= part
    rest = held - sum(by_deal.values(), ZERO)
    if rest:
        by_deal[None] = rest
    pending = state.held.setdefault(paid_in.start, {})
    for seq, value in by_deal.items():
        pending[seq] = pending.get(seq, ZERO) + value
    lines.append(
        Line(
            HOLDBACK,
            -held,
            "holdback",
            note=f"{_pct(share)} of the period's commission {_money(payable)} is held back, paid in {paid_in.label}",
        )
    )


def _carry(caps, excess: Decimal, state: RepState) -> str:
    """Carry what the cap cut (up to the limit) to later periods; the words the cap line says it with."""
    room = excess if caps.carry_limit is None else max(caps.carry_limit - state.carried, ZERO)
    carried = min(excess, room)
    state.carried += carried
    note = f"; {_money(carried)} carried forward to later periods"
    if carried < excess:
        note += f", {_money(excess - carried)} forfeited (the carry-forward limit is {_money(caps.carry_limit)})"
    return note


def _deal_bonus_lines(rt: PlanRuntime, measure: _Measure, lines: list, state: RepState, notes: list) -> None:
    """Per-deal bonuses of the deals credited in this period, times the rep's share of each deal."""
    mode = rt.mode
    new = tuple.__new__  # as in _marginal: a NamedTuple's own __new__ is a Python call per line
    in_period = measure.in_period
    # Most deals' bonus is one constant of the plan and their share the one ONE: a note is made once
    # per (amount, share, role) and reused. Keyed by the ids of the values, which the credits hold
    # for the whole call, so an id is one value (equal Decimals may print apart: 0 and -0).
    texts: dict = {}
    with_bonus = compress(in_period, map(_BONUSES, in_period))  # the deals with a bonus, picked out in C
    for _, deal, seq, credit, share, role, _, _, _, bonuses, cancelled, _, _ in with_bonus:
        for bonus_id, amount in bonuses:
            if amount is None:
                notes.append(f"bonus {bonus_id} on deal {deal}: amount unknown (a value it needs is blank)")
                continue
            value = (amount * share).quantize(CENT, mode)
            key = (id(amount), id(share), role)
            note = texts.get(key)
            if note is None:
                shown = "" if share == ONE else f" x {_pct(share)} {role}"
                note = texts[key] = f"per-deal bonus {_money(amount)}{shown}"
            lines.append(new(Line, (BONUS, value, bonus_id, deal, credit, None, None, None, note)))
            if cancelled is not None:
                state.paid_bonus[seq] = state.paid_bonus.get(seq, ZERO) + value


def _milestone_lines(rt: PlanRuntime, measure: _Measure, lines: list, state: RepState) -> None:
    """Attainment milestones, each paid once per quota period."""
    attainment = measure.attainment
    for bonus in rt.milestones:
        key = (measure.quota_period.start, bonus.id)
        if attainment is not None and attainment >= bonus.attainment and key not in state.milestones:
            state.milestones.add(key)
            amount = Decimal(bonus.amount).quantize(CENT, rt.mode)
            lines.append(
                Line(
                    BONUS,
                    amount,
                    bonus.id,
                    note=f"attainment {_pct(attainment)} reached the {_pct(bonus.attainment)} milestone",
                )
            )


def _clawback_lines(plan: Plan, clawbacks: list, lines: list, state: RepState) -> None:
    """Take back the clawback's share of what was paid on each deal cancelled within the window (once per deal).

    ``clawbacks`` holds (Credited, share, days since the window's start, the window's first day).
    The share is a fraction of at most 1 of what the deal earned, rounded once. What a holdback
    still holds of the deal is forgone first (it will not be paid); only the rest is a clawback
    line, so a clawback never takes more than was paid.
    """
    claw = plan.clawback
    if claw is None:
        return
    mode = ROUNDING[plan.rounding]
    for c, share, days, start in clawbacks:
        books = (state.held, state.deferred)
        held = sum((pending.get(c.seq, ZERO) for book in books for pending in book.values()), ZERO)
        paid = state.paid_commission.get(c.seq, ZERO) + state.paid_bonus.get(c.seq, ZERO)
        if paid + held <= 0:
            continue
        state.paid_commission[c.seq] = ZERO
        state.paid_bonus[c.seq] = ZERO
        owed = paid + held
        due = owed if share == ONE else (owed * share).quantize(CENT, mode)
        forgone = _forgo_held(state, c.seq, min(held, due))
        taken = due - forgone
        since = "its credit date" if claw.counts_from == "credit" else "the end of the period that paid it"
        window = (
            f"window {claw.within_days} days"
            if not claw.schedule
            else "schedule " + ", ".join(f"{_pct(s)} to {d} days" for d, s in claw.steps)
        )
        what = "takes back what was paid" if share == ONE else f"takes back {_pct(share)} of the {_money(owed)} paid"
        if forgone:
            what += f" ({_money(forgone)} of it still held back, now not paid)"
        if taken <= 0:
            continue  # all of it was still held back: the release shrinks, nothing to take back
        lines.append(
            Line(
                CLAWBACK,
                -taken,
                claw.id,
                c.deal,
                c.amount,
                note=f"cancelled {c.cancelled}, {days} days after {since} {start} ({window}): {what}",
            )
        )


def _forgo_held(state: RepState, seq: int, amount: Decimal) -> Decimal:
    """Take up to ``amount`` of a cancelled deal's held and deferred parts out of the payments still to come,
    earliest first; what was taken."""
    left = amount
    for book in (state.held, state.deferred):
        for paid_in in sorted(book):
            pending = book[paid_in]
            part = min(pending.get(seq, ZERO), left)
            if part > 0:
                pending[seq] -= part
                left -= part
                if not pending[seq]:
                    del pending[seq]
                    if book is state.deferred:
                        state.deferred_deals.pop(seq, None)
    return amount - left


def _gates(rt: PlanRuntime, rep: Rep, period, credits, dates, attainment, quota_base) -> dict:
    fy = rt.plan.fiscal_year_start
    result = {}
    for index, gate in rt.gated:
        if gate.over == "quota_period":
            value, what = attainment, "attainment"
        else:
            year = P.period_of(period.start, "year", fy)
            credit = sum(
                (c.amount for c in credits[bisect_left(dates, year.start) : bisect_left(dates, period.end)]), ZERO
            )
            year_quota = quota_over(rep, rt.plan, year).quota
            annual = None if year_quota is None else year_quota * 12 / P.MONTHS[rt.quota_kind]
            value = credit / annual if annual else None
            what = f"year-to-date attainment of the {year.label} quota"
        opened = value is not None and value >= gate.attainment
        why = (
            ""
            if opened
            else (
                f"gate closed: {what} {_pct(value) if value is not None else 'unknown'} "
                f"< {_pct(gate.attainment)}; paid at the rate of the tier below"
            )
        )
        result[index] = (opened, why)
    return result


def _marginal(window, tiers: Tiers, mode, cap, out: list, earned: dict) -> None:
    """Each deal's credit sliced across the tiers its running total passes through.

    The hot loop of a payout run: lines are made with ``tuple.__new__`` (a NamedTuple's own
    ``__new__`` is a Python function), and what each deal earned is only kept for deals that
    have a cancellation date (the only ones a clawback can need). The tier the running total is
    in (``current``) is kept in locals, its bound, rate, label and note, which change only when
    the total reaches the next tier.
    """
    uppers, rates, labels, notes = tiers.uppers, tiers.rates, tiers.labels, tiers.notes
    last = len(uppers) - 1
    position = zero = ZERO
    one = ONE
    current = 0
    upper, rate, label, tier_note = uppers[0], rates[0], labels[0], notes[0]
    append = out.append
    new = tuple.__new__
    cent = CENT
    for _, deal, seq, amount, _, _, _, factor, mults, _, cancelled, _, fx in window:
        scaled = factor is not one and factor != one
        if amount >= zero:
            end = position + amount
            if current < last and position >= upper:
                while current < last and position >= uppers[current]:
                    current += 1
                upper, rate, label, tier_note = uppers[current], rates[current], labels[current], notes[current]
            if upper is None or end <= upper:  # the usual case: the deal stays in one tier
                if scaled:
                    paid = (amount * rate * factor).quantize(cent, mode)
                    note = _with_multipliers(tier_note, mults, factor)
                else:
                    paid = (amount * rate).quantize(cent, mode)
                    note = tier_note
                if fx is not None:
                    note = fx_note(note, fx)
                append(
                    new(
                        Line,
                        (COMMISSION, paid, "commission", deal, amount, rate, label, factor if scaled else None, note),
                    )
                )
            else:
                paid = _marginal_slices(
                    deal, amount, factor, mults, fx, scaled, position, end, current, tiers, mode, append
                )
        else:
            end = position + amount
            paid = zero
            for index, piece in slices(tiers, position, end):
                line = commission_line(
                    deal, piece, rates[index], labels[index], notes[index] or "credit reversal", factor, mults, mode, fx
                )
                append(line)
                paid += line.amount
            current = 0
            upper, rate, label, tier_note = uppers[0], rates[0], labels[0], notes[0]
        position = end
        if cap is not None and paid > cap:
            append(
                Line(
                    CAP,
                    cap - paid,
                    "cap.per_deal",
                    deal,
                    note=f"deal commission {_money(paid)} is above the per-deal cap {_money(cap)}",
                )
            )
            paid = cap
        if cancelled is not None:
            earned[seq] = paid


def _marginal_slices(deal, amount, factor, mults, fx, scaled, start, end, index, tiers: Tiers, mode, append):
    """The lines of a deal whose credit crosses from tier ``index`` into higher ones; what they pay.

    Few deals do (one a tier reached), so ``_marginal``'s loop stays short for the others.
    """
    uppers, rates, labels, notes = tiers.uppers, tiers.rates, tiers.labels, tiers.notes
    new = tuple.__new__
    paid = ZERO
    while True:
        upper = uppers[index]
        if upper is None or end <= upper:
            piece = end - start
            done = True
        else:
            piece = upper - start
            done = False
        rate = rates[index]
        value = ((piece * rate * factor) if scaled else (piece * rate)).quantize(CENT, mode)
        note = _with_multipliers(notes[index], mults, factor) if scaled else notes[index]
        if fx is not None:
            note = fx_note(note, fx)
        append(
            new(
                Line,
                (COMMISSION, value, "commission", deal, piece, rate, labels[index], factor if scaled else None, note),
            )
        )
        paid += value
        if done:
            return paid
        start = upper
        index += 1


def _retroactive(window, tiers: Tiers, mode, cap, out: list, earned: dict) -> None:
    """Each deal at the rate in force once it is counted; a true-up re-rates everything at the final rate."""
    rates, labels, notes = tiers.rates, tiers.labels, tiers.notes
    position = ZERO
    paid_total = ZERO
    finals = []
    line_paid: dict = {}  # Credited.seq -> what the deal's own line paid (after the per-deal cap)
    for c in window:
        position += c.amount
        index = tiers.index_at(position)
        line = commission_line(
            c.deal, c.amount, rates[index], labels[index], notes[index], c.factor, c.multipliers, mode, c.fx
        )
        out.append(line)
        value = line.amount
        if cap is not None and value > cap:
            out.append(
                Line(
                    CAP,
                    cap - value,
                    "cap.per_deal",
                    c.deal,
                    note=f"deal commission {_money(value)} is above the per-deal cap {_money(cap)}",
                )
            )
            value = cap
        paid_total += value
        line_paid[c.seq] = value
        finals.append((c, ZERO, c.amount))
    if not finals:
        return
    index = tiers.index_at(position)
    rate = rates[index]
    target, difference = _true_up(finals, rate, cap, mode, paid_total, line_paid, earned)
    if difference:
        out.append(
            Line(
                TRUE_UP,
                difference,
                "retroactive",
                credit=position,
                rate=rate,
                tier=labels[index],
                note=f"the rate reached, {_rate(rate)} ({labels[index]}), applies to all "
                f"{_money(position)} of credit: {_money(target)} less {_money(paid_total)} "
                f"on the deal lines" + (f"; {notes[index]}" if notes[index] else ""),
            )
        )


def _overage(window, tiers: Tiers, quota: Decimal, mode, cap, out: list, earned: dict) -> None:
    """Below quota, each slice at its own tier's rate; the whole amount above quota at the rate of the
    highest tier the period reaches.

    As a deal is counted, its part above quota is paid at the rate in force (the tier its running
    total reaches); once every deal is in, an ``overage`` true-up brings all the credit above quota
    to the final rate. Nothing below quota is ever re-rated.
    """
    rates, labels, notes = tiers.rates, tiers.labels, tiers.notes
    position = paid_total = ZERO
    finals = []  # (Credited, exact commission below quota as paid, part above quota)
    line_paid: dict = {}
    for c in window:
        start, end = position, position + c.amount
        paid = below = ZERO
        low_start, low_end = min(start, quota), min(end, quota)
        if low_end != low_start:
            for index, piece in slices(tiers, low_start, low_end):
                line = commission_line(
                    c.deal, piece, rates[index], labels[index], notes[index], c.factor, c.multipliers, mode, c.fx
                )
                out.append(line)
                paid += line.amount
            below = paid
        above = max(end, quota) - max(start, quota)
        if above:
            index = tiers.index_at(max(end, quota))
            note = "overage: above quota, at the rate in force" + (f"; {notes[index]}" if notes[index] else "")
            line = commission_line(
                c.deal, above, rates[index], labels[index], note, c.factor, c.multipliers, mode, c.fx
            )
            out.append(line)
            paid += line.amount
        paid = _capped_per_deal(out, paid, cap, c.deal)
        paid_total += paid
        line_paid[c.seq] = paid
        finals.append((c, below, above))
        position = end
    above_total = max(position, quota) - quota
    if not finals:
        return
    index = tiers.index_at(max(position, quota))
    rate = rates[index]
    target, difference = _true_up(finals, rate, cap, mode, paid_total, line_paid, earned)
    if difference:
        out.append(
            Line(
                TRUE_UP,
                difference,
                "overage",
                credit=above_total,
                rate=rate,
                tier=labels[index],
                note=f"the highest tier reached, {labels[index]} ({_rate(rate)}), applies to all "
                f"{_money(above_total)} of credit above the quota {_money(quota)}: the deal lines are "
                f"{_money(paid_total)}, at the final rate {_money(target)}"
                + (f"; {notes[index]}" if notes[index] else ""),
            )
        )


def _true_up(finals: list, rate, cap, mode, paid_total: Decimal, line_paid: dict, earned: dict) -> tuple:
    """(what the deals earn at the final ``rate``, less what their lines paid): the target and the true-up.

    ``finals``: (credit, paid below the re-rated part, the re-rated part) per deal; each deal is capped
    per deal as its lines were. A deal that may be clawed back gets its share in ``earned``.
    """
    target_raw = ZERO
    shares = {}
    for c, below, above in finals:
        final = below + above * rate * c.factor
        if cap is not None and final > cap:
            final = cap
        if c.cancelled is not None:
            shares[c.seq] = final.quantize(CENT, mode)
        target_raw += final
    target = target_raw.quantize(CENT, mode)
    difference = target - paid_total
    for seq, share in shares.items():
        # A deal was paid its own line and, at most, the whole true-up: rounding the other lines can
        # leave its final-rate share above both (0.018 -> 0.02 against a 0.01 line and no true-up),
        # and a clawback never takes back more than was paid.
        earned[seq] = min(share, line_paid[seq] + max(difference, ZERO))
    return target, difference


def _per_deal(window, tiers: Tiers, method, mode, cap, out: list, earned: dict) -> None:
    """Tiers keyed on each deal's own credit."""
    rates, labels, notes = tiers.rates, tiers.labels, tiers.notes
    for c in window:
        factor = c.factor
        if method == "retroactive":
            pieces = [(tiers.index_at(c.amount), c.amount)]
        else:
            pieces = slices(tiers, ZERO, c.amount)
        paid = ZERO
        for index, piece in pieces:
            line = commission_line(
                c.deal, piece, rates[index], labels[index], notes[index], factor, c.multipliers, mode, c.fx
            )
            out.append(line)
            paid += line.amount
        paid = _capped_per_deal(out, paid, cap, c.deal)
        if c.cancelled is not None:
            earned[c.seq] = paid


def _draw(plan: Plan, rep: Rep, period, lines: list, state: RepState, mode, notes: list) -> Decimal | None:
    draw = plan.draw
    assert draw is not None, "called for a plan with a draw"
    earnings = sum(map(_LINE_AMOUNT, lines), ZERO)
    guaranteed = ZERO
    applies = True
    if draw.months is not None:
        if rep.start is None:
            applies = False
            notes.append(
                f"no draw: the plan pays it for the first {draw.months} months but rep '{rep.id}' has no start date"
            )
        else:
            applies = (
                period.start < P.add_months(dt.date(rep.start.year, rep.start.month, 1), draw.months)
                and period.end > rep.start
            )
    if applies:
        active, days = days_on(rep, period.start, period.end)
        guaranteed = (
            (draw.amount * active / days).quantize(CENT, mode) if active != days else draw.amount.quantize(CENT, mode)
        )
        if active != days:
            notes.append(f"draw prorated: {active} of {days} days active")
    if earnings < guaranteed:
        top_up = guaranteed - earnings
        recoverable = draw.type == "recoverable"
        lines.append(
            Line(
                DRAW,
                top_up,
                "draw",
                note=(
                    f"earnings {_money(earnings)} are below the {'recoverable' if recoverable else 'non-recoverable'} "
                    f"draw {_money(guaranteed)}"
                    + ("; added to the balance to recover" if recoverable else "; not recovered")
                ),
            )
        )
        if recoverable:
            state.draw_balance += top_up
    elif state.draw_balance > 0 and draw.type == "recoverable":
        recovered = min(state.draw_balance, earnings - guaranteed)
        if recovered > 0:
            lines.append(
                Line(
                    RECOVERY,
                    -recovered,
                    "draw",
                    note=(
                        f"recovers {_money(recovered)} of the {_money(state.draw_balance)} draw balance from earnings "
                        f"above the draw"
                    ),
                )
            )
            state.draw_balance -= recovered
    return state.draw_balance if draw.type == "recoverable" else None


def commission_line(deal, credit, rate, label, note, factor, multipliers, mode, fx=None) -> Line:
    """A commission line: credit x rate (x the multipliers' factor), rounded once.

    The hot loop of ``_marginal`` builds the same line inline, for speed; everything else uses this.
    ``fx`` (currency, amount, rate, rate date) says how the credit was converted to the plan's currency.
    """
    scaled = factor != ONE
    value = ((credit * rate * factor) if scaled else (credit * rate)).quantize(CENT, mode)
    note = _with_multipliers(note, multipliers, factor) if scaled else note
    return Line(
        COMMISSION,
        value,
        "commission",
        deal,
        credit,
        rate,
        label,
        factor if scaled else None,
        fx_note(note, fx) if fx is not None else note,
    )


def fx_note(note: str, fx: tuple) -> str:
    """A line's note with the conversion of its deal: "EUR 10,000.00 at 1.085 (rate of 2026-07-01)"."""
    currency, amount, rate, day = fx
    text = f"{currency} {amount:,.2f} at {rate} (rate of {day})"
    return f"{note}; {text}" if note else text


def _with_multipliers(note: str, multipliers: tuple, factor: Decimal) -> str:
    text = f"multipliers {', '.join(multipliers)}: x{factor.normalize():f}" if multipliers else f"x{factor}"
    return f"{note}; {text}" if note else text


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01')).normalize():f}%"


def _rate(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.0001')).normalize():f}%"


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT):,}"


def _capped_per_deal(out: list, paid: Decimal, cap: Decimal | None, deal) -> Decimal:
    """A deal's commission under the plan's per-deal cap; a cap line goes to ``out`` when it cuts."""
    if cap is None or paid <= cap:
        return paid
    note = f"deal commission {_money(paid)} is above the per-deal cap {_money(cap)}"
    out.append(Line(CAP, cap - paid, "cap.per_deal", deal, note=note))
    return cap
