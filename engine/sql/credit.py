"""The crediting query: what each plan's credit function returns for a deal, for every row at once.

``engine.payout.credit`` compiles each plan's crediting into a Python function
that, for one deal, returns ``False`` (not credited), ``None`` (the ``when``
rule is unknown) or the credit: amount, date, the credited rep, splits,
overlay, the multipliers and per-deal bonuses that matched, the cancellation
date. ``CreditQuery`` computes the same per plan as columns of one SELECT over
typed deals (with the computed fields as CTEs, as the scoring query has them):

=============  ============================================================
``w<k>``       the credit rule (TRUE, FALSE or NULL)
``a<k>``       the credit amount
``d<k>``       the credit date; ``to<k>``, ``sp<k>``, ``ov<k>``: rep, splits, overlay
``x<k>``       the clawback's cancellation date (NULL without a clawback)
``m<k>``       the ids of the multipliers that matched, ';'-joined ('' for none)
``b<k>_<j>``   per-deal bonus j's amount when it matched, else NULL
``n<k>``       when the rule is unknown: the null fields it needed, ','-joined
=============  ============================================================

Who gets what share (splits and overlays, each checked as ``parse_recipients``
checks them), multiplier products and the statements are computed by
``engine.payout`` over these rows, so a statement is the Python engine's to the
cent by construction; ``engine.sql.crediting`` turns the rows into what the
credit functions would have returned.
"""

from __future__ import annotations

from sqlglot import exp

from ..model import Expr
from .expr import ExpressionCompiler
from .score import _column, computed_ctes, joined


def plan_key(index: int) -> str:
    """The record key holding plan ``index``'s credit result (see ``engine.sql.crediting``)."""
    return f"credit_{index}"


class CreditQuery:
    """Builds the crediting SELECT for one compiled RuleSet and its PayoutProgram."""

    def __init__(self, ruleset, program, as_of: exp.Expr):
        self.ruleset = ruleset
        self.program = program
        self.fields = ruleset.fields.fields
        positions = {stage: i for i, stage in enumerate(ruleset.pipeline.stage_ids)} if ruleset.pipeline else {}
        self.compiler = ExpressionCompiler(_column, as_of, positions)

    @property
    def plans(self) -> list:
        return list(self.program.plans.values())

    def checked(self, expression):
        return self.ruleset.checked(expression)

    def used_fields(self) -> set:
        """Stored fields the crediting reads (computed fields expanded), plus the id."""
        names = {"id"}
        for plan in self.plans:
            names |= self._closure(plan) | self._closure(plan, _raw_fields(plan))
        return {name for name in names if self.fields[name].compute is None}

    def build(self, typed: exp.Expr, carry: tuple = ()) -> exp.Select:
        """The crediting SELECT over ``typed`` (typed deals with ``line``), passing ``carry`` columns through."""
        ctes = computed_ctes(self.fields.values(), self.compiler, self.checked, typed)
        plan_columns = [c for k, plan in enumerate(self.plans) for c in self.plan_columns(k, plan)]
        id_column = exp.alias_(_column("id") if "id" in self.fields else exp.Null(), "id", copy=False)
        ctes.append(("credited", exp.select("*", id_column, *plan_columns, copy=False).from_(ctes[-1][0], copy=False)))
        outer: list[exp.Expr] = [exp.column("line"), exp.column("id"), *[exp.column(c.alias) for c in plan_columns]]
        outer += [self.missing(k, plan) for k, plan in enumerate(self.plans)]
        final = exp.select(*outer, *[exp.column(name) for name in carry], copy=False).from_("credited", copy=False)
        for name, query in ctes:
            final = final.with_(name, as_=query, copy=False)
        return final

    def plan_columns(self, k: int, plan) -> list:
        credit = plan.credit
        read = self._closure(plan)
        columns = [
            exp.alias_(self.compiler.compile(self.checked(credit.when).ir), f"w{k}", copy=False),
            exp.alias_(self.compiler.compile(self.checked(credit.amount).ir), f"a{k}", copy=False),
            exp.alias_(self._raw(credit.date, read), f"d{k}", copy=False),
            exp.alias_(self._raw(credit.to, read), f"to{k}", copy=False),
            exp.alias_(self._raw(credit.splits, read), f"sp{k}", copy=False),
            exp.alias_(self._raw(credit.overlay, read), f"ov{k}", copy=False),
            exp.alias_(self._raw(plan.clawback.date if plan.clawback else None, read), f"x{k}", copy=False),
            exp.alias_(
                joined(
                    [(self.compiler.condition(self.checked(m.when).ir), m.id) for m in plan.commission.multipliers], ";"
                ),
                f"m{k}",
                copy=False,
            ),
        ]
        for j, bonus in enumerate(b for b in plan.bonuses if b.when is not None):
            # a constant amount is the plan's own Decimal: the column only says the bonus matched
            value = (
                self.compiler.compile(self.checked(bonus.amount).ir) if isinstance(bonus.amount, Expr) else exp.true()
            )
            matched = self.compiler.condition(self.checked(bonus.when).ir)
            columns.append(exp.alias_(exp.Case(ifs=[exp.If(this=matched, true=value)]), f"b{k}_{j}", copy=False))
        return columns

    def missing(self, k: int, plan) -> exp.Expr:
        """n<k>: when the credit rule is unknown, the stored fields it needed that are null (for DG613)."""
        when_fields = self.program.credit.plans[plan.id].when_fields
        unknown = exp.Is(this=exp.column(f"w{k}"), expression=exp.Null())
        names = joined([(exp.Is(this=_column(f), expression=exp.Null()), f) for f in when_fields], ",")
        return exp.alias_(exp.Case(ifs=[exp.If(this=unknown, true=names)]), f"n{k}", copy=False)

    def _closure(self, plan, names=None) -> set:
        """The fields ``names`` read, computed fields expanded (by default those of the plan's expressions).

        These are also the fields the credit function reads into variables; it passes on others
        (the credit date, rep, splits...) from the record as stored.
        """
        if names is None:
            names = [name for expression in _expressions(plan) for name in self.checked(expression).fields]
        closed: set = set()

        def close(name):
            if name in closed or name not in self.fields:
                return
            closed.add(name)
            if self.fields[name].compute is not None:
                for inner in self.checked(self.fields[name].compute).fields:
                    close(inner)

        for name in names:
            close(name)
        return closed

    def _raw(self, name: str | None, read: set) -> exp.Expr:
        """A field as the credit function passes it on: a computed field it did not read is not in the record."""
        if name is None or name not in self.fields:
            return exp.Null()
        if self.fields[name].compute is not None and name not in read:
            return exp.Null()
        return _column(name)


def _expressions(plan) -> list:
    """Every expression of a plan's crediting, in the order the credit function evaluates them."""
    expressions = [plan.credit.when, plan.credit.amount]
    expressions += [m.when for m in plan.commission.multipliers]
    for bonus in plan.bonuses:
        if bonus.when is not None:
            expressions.append(bonus.when)
            if isinstance(bonus.amount, Expr):
                expressions.append(bonus.amount)
    return expressions


def _raw_fields(plan) -> list:
    credit = plan.credit
    names = [credit.date, credit.to, credit.splits, credit.overlay, plan.clawback.date if plan.clawback else None]
    return [name for name in names if name is not None]


def plan_expressions(plan) -> list:
    """(what, expression) of a plan's crediting, for diagnostics of what SQL cannot run."""
    items = [
        (f"plan '{plan.id}' credit rule", plan.credit.when),
        (f"plan '{plan.id}' credit amount", plan.credit.amount),
    ]
    items += [(f"plan '{plan.id}' multiplier '{m.id}'", m.when) for m in plan.commission.multipliers]
    for bonus in plan.bonuses:
        if bonus.when is not None:
            items.append((f"plan '{plan.id}' bonus '{bonus.id}'", bonus.when))
            if isinstance(bonus.amount, Expr):
                items.append((f"plan '{plan.id}' bonus '{bonus.id}' amount", bonus.amount))
    return items
