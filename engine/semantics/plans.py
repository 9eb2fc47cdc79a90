"""Checks of plan documents: ids, credit rules, commission rates and tier tables, bonuses, clawbacks,
quota periods."""

from __future__ import annotations

import datetime as dt

from .. import types as T
from ..diagnostics import Location, did_you_mean, error, has_errors, warning
from ..model import Expr, Plan
from .checks import Checks


class PlanChecks(Checks):
    def check_plans(self, plans: tuple) -> None:
        seen: dict[str, Location] = {}
        for plan in plans:
            id_at = plan.locate(
                "id",
            )
            if plan.id in seen:
                self.add(error("DG303", f"duplicate plan id '{plan.id}'", id_at, f"first declared at {seen[plan.id]}"))
            seen.setdefault(plan.id, id_at)
            self.check_plan(plan)

    def check_reps_mapping(self, mapping, plans: tuple) -> None:
        """The reps document's defaults: a plan the pack defines, dates that are dates."""
        if mapping is None:
            return
        document = mapping.document
        plan = mapping.defaults.get("plan")
        ids = [p.id for p in plans]
        if plan is not None and plan not in ids:
            self.add(
                error(
                    "DG326",
                    f"the reps document's default plan '{plan}' is not a plan of the pack",
                    document.locate(("defaults", "plan")),
                    did_you_mean(plan, ids) or f"plans are: {', '.join(ids) or 'none'}",
                )
            )
        for key in ("start", "end"):
            text = mapping.defaults.get(key)
            if text is None:
                continue
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                self.add(
                    error(
                        "DG326",
                        f"the reps document's default {key} '{text}' is not a date",
                        document.locate(("defaults", key)),
                        "write it as YYYY-MM-DD",
                    )
                )

    def check_clawback_schedule(self, plan: Plan) -> None:
        """A clawback schedule's steps in increasing days, and taking back less (or as much) as time passes."""
        claw = plan.clawback
        if claw is None:
            return
        steps = claw.schedule
        if steps and claw.share_given:
            self.add(
                error(
                    "DG308",
                    "a clawback with a schedule takes each step's share; 'share' is for a single window",
                    plan.document.locate_key(("clawback", "share")) if plan.document else plan.location,
                    "remove 'share', or give the share on each step of the schedule",
                )
            )
        for i in range(1, len(steps)):
            (days_before, share_before), (days, share) = steps[i - 1], steps[i]
            at = plan.locate("clawback", "schedule", i)
            if days <= days_before:
                self.add(
                    error(
                        "DG308",
                        f"clawback schedule step {i + 1} ends at {days} days, not after step {i} ({days_before} days)",
                        at,
                        "list the steps in increasing within_days",
                    )
                )
            elif share > share_before:
                self.add(
                    warning(
                        "DG308",
                        f"clawback schedule step {i + 1} takes back more ({share}) than step {i} ({share_before}): "
                        f"a later cancellation costs the rep more",
                        at,
                        "a clawback schedule usually declines with time",
                    )
                )

    def check_plan(self, plan: Plan) -> None:
        credit = plan.credit
        self.expression(credit.when, T.BOOL)
        amount = self.expression(credit.amount, T.NUMERIC)
        if amount is not None:
            self.check_credit_currency(plan, amount)
        self.field_reference(credit.date, (T.DATE,), "credit date", plan.locate("credit", "date"))
        self.field_reference(credit.to, (T.STRING,), "credited rep", plan.locate("credit", "to"))
        for key in ("splits", "overlay"):
            name = getattr(credit, key)
            if name is not None:
                self.field_reference(name, (T.STRING,), f"credit {key}", plan.locate("credit", key))
        commission = plan.commission
        for multiplier in commission.multipliers:
            self.expression(multiplier.when, T.BOOL)
        if commission.tiers:
            self.check_tiers(plan)
        elif commission.rate is not None and commission.rate < 0:
            self.add(error("DG308", f"negative commission rate {commission.rate}", plan.locate("commission", "rate")))
        elif commission.rate is not None:
            self.check_percent_rate(plan, commission.rate, ("commission", "rate"))
        bonus_ids: dict[str, Location] = {}
        for bonus in plan.bonuses:
            self.unique_rule(bonus.id, bonus.location, bonus_ids)
            if bonus.when is not None:
                self.expression(bonus.when, T.BOOL)
            if isinstance(bonus.amount, Expr):
                if bonus.when is None:
                    self.add(
                        error(
                            "DG205",
                            f"bonus '{bonus.id}' pays at an attainment milestone, so its amount "
                            f"must be a number, not an expression",
                            bonus.amount.location,
                        )
                    )
                else:
                    self.expression(bonus.amount, T.NUMERIC)
        if plan.clawback:
            self.field_reference(plan.clawback.date, (T.DATE,), "clawback date", plan.locate("clawback", "date"))
            self.check_clawback_schedule(plan)
        if commission.basis == "attainment" and commission.tiers and plan.quota is None:
            self.add(
                warning(
                    "DG313",
                    f"plan '{plan.id}' pays on attainment but sets no default quota",
                    plan.location,
                    "set 'quota:' or give every rep a quota in the reps file",
                )
            )
        if commission.rate_of == "target_incentive" and commission.basis != "attainment":
            self.add(
                error(
                    "DG308",
                    f"rates of the target incentive are paid per unit of attainment, so they "
                    f"need 'basis: attainment', not '{commission.basis}'",
                    plan.locate("commission", "rate_of"),
                )
            )
        if commission.method == "overage" and (commission.basis != "attainment" or not commission.tiers):
            self.add(
                error(
                    "DG308",
                    "'method: overage' pays the credit above quota at the rate of the highest tier reached, so it "
                    "needs 'basis: attainment' and a tier table",
                    plan.locate("commission", "method"),
                )
            )
        if plan.caps.carry_forward and plan.caps.per_period is None:
            self.add(
                error(
                    "DG308",
                    "'carry_forward' pays later what the period cap cuts, so it needs 'caps.per_period'",
                    plan.locate("caps", "carry_forward"),
                )
            )
        elif plan.caps.carry_forward and plan.quota_period and plan.quota_period != plan.period:
            self.add(
                error(
                    "DG308",
                    f"'carry_forward' with a quota period ('{plan.quota_period}') longer than the pay period: each "
                    f"period already pays the earnings to date less what was paid, so what a cap cuts is earned "
                    f"again; carrying it too would pay it twice",
                    plan.locate("caps", "carry_forward"),
                    "remove carry_forward: attainment to date carries the cut already",
                )
            )
        if plan.fx is not None:
            self.field_reference(plan.fx.currency, (T.STRING,), "deal currency", plan.locate("fx", "currency"))
        if plan.payment is not None:
            self.field_reference(plan.payment.rest_on, (T.DATE,), "payment date", plan.locate("payment", "rest_on"))
            if plan.quota_period and plan.quota_period != plan.period:
                self.add(
                    error(
                        "DG308",
                        f"payment timing with a quota period ('{plan.quota_period}') longer than the pay period is "
                        f"not supported: each period recomputes the quota period's deals to date, so what each deal "
                        f"was already paid could not be told apart",
                        plan.locate("payment"),
                        "pay and measure quota in the same period, or drop 'payment'",
                    )
                )
        if plan.holdback is not None and plan.quota_period and plan.quota_period != plan.period:
            self.add(
                error(
                    "DG308",
                    f"a holdback with a quota period ('{plan.quota_period}') longer than the pay period is not "
                    f"supported: each period recomputes what the quota period's deals were paid to date, so what "
                    f"was held back of each deal could not be told apart",
                    plan.locate("holdback"),
                    "pay and measure quota in the same period, or drop the holdback",
                )
            )
        if plan.mid_period_change == "split" and plan.draw is not None:
            self.add(
                error(
                    "DG308",
                    "'mid_period_change: split' cannot be combined with a draw: a draw and its balance are the "
                    "rep's for the whole period, not one assignment's",
                    plan.locate("mid_period_change"),
                    "use 'mid_period_change: prorate' (one attainment over the period), or drop the draw",
                )
            )
        order = ("month", "quarter", "half", "year")
        if plan.quota_period and order.index(plan.quota_period) < order.index(plan.period):
            self.add(
                error(
                    "DG308",
                    f"quota period '{plan.quota_period}' is shorter than the pay period '{plan.period}'",
                    plan.locate(
                        "quota_period",
                    ),
                    "the quota covers one or more pay periods: use the same period or a longer one",
                )
            )
        if not (commission.basis == "attainment" and commission.tiers):
            for bonus in plan.bonuses:
                if bonus.attainment is not None and plan.quota is None:
                    self.add(
                        warning(
                            "DG313",
                            f"bonus '{bonus.id}' pays at an attainment milestone but plan "
                            f"'{plan.id}' sets no default quota",
                            bonus.location,
                            "set 'quota:' or give every rep a quota in the reps file",
                        )
                    )
        if commission.min_attainment is not None and commission.basis != "attainment" and plan.quota is None:
            self.add(
                warning(
                    "DG313",
                    f"'min_attainment' needs a quota but plan '{plan.id}' sets no default quota",
                    plan.locate("commission", "min_attainment"),
                    "set 'quota:' or give every rep a quota in the reps file",
                )
            )

    def check_tiers(self, plan: Plan) -> None:
        tiers = plan.commission.tiers
        unit = "attainment" if plan.commission.basis == "attainment" else "credit"
        found_before = len(self.diagnostics)

        def at(index: int, key: str):
            """The offending bound or rate itself (the tier, when the bound is implicit)."""
            return plan.locate("commission", "tiers", index, key)

        for i, tier in enumerate(tiers):
            if tier.rate < 0:
                self.add(
                    error("DG308", f"negative rate {tier.rate} in tier {_span(tier.lower, tier.upper)}", at(i, "rate"))
                )
            if tier.upper is not None and tier.upper <= tier.lower:
                self.add(
                    error(
                        "DG308",
                        f"tier bounds are not in order: from {tier.lower} to {tier.upper}",
                        at(i, "to"),
                        "'to' must be greater than 'from'",
                    )
                )
        if not has_errors(self.diagnostics[found_before:]) and self.check_tier_order(plan, unit):
            return  # swapped rows: the gaps and overlaps below would all be the same mistake
        if tiers[0].lower > 0:
            self.add(
                error(
                    "DG308",
                    f"no tier covers {unit} 0–{tiers[0].lower}",
                    at(0, "from"),
                    "start the first tier at 0 (a rate of 0 is fine)",
                )
            )
        for i, (before, after) in enumerate(zip(tiers, tiers[1:])):
            if before.upper is None:
                self.add(
                    error(
                        "DG308",
                        f"tier {_span(before.lower, None)} has no upper bound but is not the last",
                        before.location,
                        "only the last tier may leave out 'to'",
                    )
                )
                continue
            if after.lower > before.upper:
                self.add(
                    error(
                        "DG308",
                        f"no tier covers {unit} {before.upper}–{after.lower}",
                        at(i + 1, "from"),
                        f"set 'from: {before.upper}' or leave 'from' out",
                    )
                )
            elif after.lower < before.upper:
                self.add(
                    error(
                        "DG308",
                        f"tiers overlap on {unit} {after.lower}–{before.upper}",
                        at(i + 1, "from"),
                        "each tier starts where the previous one ends",
                    )
                )
        if tiers[0].gate is not None:
            self.add(
                error(
                    "DG308",
                    "the first tier cannot have a gate: there is no tier below it to pay at until the gate opens",
                    at(0, "gate"),
                    "put the gate on a higher tier (e.g. the accelerator)",
                )
            )
        last = tiers[-1]
        if last.upper is not None:
            self.add(
                error(
                    "DG308",
                    f"no tier covers {unit} {last.upper} and above",
                    at(len(tiers) - 1, "to"),
                    "leave 'to' out of the last tier so it has no upper bound",
                )
            )
        if not has_errors(self.diagnostics[found_before:]):  # warn about rates only in a sound table
            self.check_tier_rates(plan)

    def check_tier_order(self, plan: Plan, unit: str) -> bool:
        """Rows out of order (a lower 'from' after a higher one) are one mistake, said once; True if found."""
        tiers = plan.commission.tiers
        for i, (before, after) in enumerate(zip(tiers, tiers[1:])):
            if after.lower < before.lower:
                self.add(
                    error(
                        "DG308",
                        f"tiers are out of order: the tier from {unit} {after.lower} comes after "
                        f"the tier from {before.lower}",
                        plan.locate("commission", "tiers", i + 1, "from"),
                        "list the tiers from the lowest 'from' to the highest",
                    )
                )
                return True
        return False

    def check_tier_rates(self, plan: Plan) -> None:
        """Rates above 1 of credit look like percentages; rates that fall as attainment rises look like a typo,
        unless the tier says it is a decelerator."""
        tiers = plan.commission.tiers
        percent_like = [
            self.check_percent_rate(plan, tier.rate, ("commission", "tiers", i, "rate")) for i, tier in enumerate(tiers)
        ]
        if any(percent_like):
            return  # the falling rate after a '12' is the same mistake
        for i, (before, after) in enumerate(zip(tiers, tiers[1:])):
            if after.rate < before.rate and not after.decelerator:
                self.add(
                    warning(
                        "DG323",
                        f"the rate falls from {before.rate} (tier {_span(before.lower, before.upper)})"
                        f" to {after.rate} (tier {_span(after.lower, after.upper)})",
                        plan.locate("commission", "tiers", i + 1, "rate"),
                        "rates usually rise with the tiers; if this tier pays less on purpose, "
                        "add 'decelerator: true' to it",
                    )
                )

    def check_percent_rate(self, plan: Plan, rate, path: tuple) -> bool:
        """A rate above 1 of credit in money pays more than all of it: almost always '12' meant as 12%.
        (Exactly 1, paying the credit itself, is a plan some write on purpose.)

        Only money credit is a percentage basis: a plan crediting a count (1 per opportunity) pays an
        amount per unit, and a rate of the target incentive is a multiple (1.5 = 1.5x)."""
        if plan.commission.rate_of != "credit" or rate <= 1 or not self.credits_money(plan):
            return False
        self.add(
            warning(
                "DG324",
                f"rate {rate} pays {_plain(rate * 100)}% of credit",
                plan.locate(*path),
                f"did you mean {rate / 100}? rates are fractions of credit: 0.12 means 12%",
            )
        )
        return True

    def check_credit_currency(self, plan: Plan, amount) -> None:
        """A plan paying in one currency from money fields read in another would pay yen as dollars."""
        if self.pack.fields is None or plan.fx is not None:  # fx: each deal says its currency
            return
        fields = self.pack.fields.fields
        other = [
            fields[name]
            for name in sorted(amount.fields)
            if name in fields
            and fields[name].type == T.MONEY
            and fields[name].compute is None
            and fields[name].currency != plan.currency
        ]
        for field in other:
            self.add(
                warning(
                    "DG325",
                    f"plan '{plan.id}' pays in {plan.currency}, but its credit amount reads "
                    f"'{field.name}', whose cells are in {field.currency}",
                    plan.locate("credit", "amount"),
                    f"declare 'currency: {plan.currency}' on the field (or the fields document), or "
                    f"'currency: {field.currency}' on the plan",
                )
            )

    def credits_money(self, plan: Plan) -> bool:
        checked = self.checked.get(plan.credit.amount.key)
        return checked is not None and checked.type == T.MONEY


def _plain(number) -> str:
    """12, 1200, 12.5: no exponent, no trailing zeros."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _span(lower, upper) -> str:
    return f"{lower}–{upper}" if upper is not None else f"{lower} and above"
