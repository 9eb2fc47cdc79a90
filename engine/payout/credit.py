"""Crediting: which deals count for a plan, for how much, when, and for whom.

Like the pipeline (engine/compile.py), each plan's expressions -- the credit
rule's ``when`` and ``amount``, the commission multipliers, the per-deal
bonuses -- are compiled once into one generated Python function per plan.
Calling it on a deal record returns ``False`` (not credited), ``None`` (the
``when`` rule could not be decided: a value it needs is null) or a plain tuple
whose fields are those of ``CreditResult`` (a plain tuple: the hot loop of
``engine.payout.compute`` unpacks a million of them, and the SQL engines make
the same tuple from their rows, engine/sql/crediting.py).
The generated source is kept (``CreditProgram.source``) so anyone can read it.

Splits are written ``alice:60;bob:40`` (percent, an optional ``%``); the
shares of one deal must total 100. An entry ending in ``:overlay``
(``carol:100:overlay``) is overlay credit: given on top of the split and not
counted in the 100. The plan's ``overlay`` field works the same way
(``carol`` or ``carol:50``; several separated by ``;``).
"""

from __future__ import annotations

import ast
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import attrs

from .. import expr as E
from .. import types as T
from ..generated import constants_comment, load
from ..model import Expr, Plan
from ..semantics import Analysis
from .rates import ONE  # one object with the statements' ONE: they test ``factor is ONE`` before comparing

HUNDRED = Decimal(100)
OWNER, SPLIT, OVERLAY = "owner", "split", "overlay"


class Credited(NamedTuple):
    """One rep's credit from one deal. Sorted as a tuple: credit date, then deal id, then seq."""

    date: object  # datetime.date
    deal: str
    seq: int  # position of the deal in the export, then of the recipient: a stable tie-break
    amount: Decimal  # this rep's share of the credit
    share: Decimal  # fraction of the deal's credit (1 for the owner, 0.6 for a 60% split)
    role: str  # owner, split or overlay
    deal_credit: Decimal  # the deal's whole credit
    factor: Decimal  # product of the multipliers that matched
    multipliers: tuple  # ids of the multipliers that matched
    bonuses: tuple  # (bonus id, amount for the whole deal) of the per-deal bonuses that matched
    cancelled: object  # cancellation date (clawback field), or None
    paid_on: object = None  # the plan's payment date (payment.rest_on), or None
    fx: object = None  # (currency, amount in it, rate, rate's date) when converted to the plan's currency


class CreditResult(NamedTuple):
    """The fields of a credited deal's tuple, in order: what a plan's credit function returns.

    The functions return plain tuples in this order (a NamedTuple's ``__new__`` is a Python
    call per deal); this class is where the order is declared, for the generator and for readers.
    """

    id: object  # the deal id (str, or whatever the export holds)
    amount: object  # the deal's credit (Decimal), or None when blank
    date: object  # the credit date, or None when blank
    to: object  # the credited rep field (the owner)
    splits: object  # the split field's text, or None
    overlay: object  # the overlay field's text, or None
    # (object: the generator also fills one with the code of each part, see _CreditGenerator)
    factor: object  # product (Decimal) of the multipliers that matched
    multipliers: object  # ids (a tuple) of the multipliers that matched
    bonuses: object  # (bonus id, amount for the whole deal) of the per-deal bonuses that matched
    cancelled: object  # cancellation date (the clawback's date field), or None
    paid_on: object = None  # only for a plan with payment timing: its ``rest_on`` date field
    currency: object = None  # only for a plan with fx: the deal's currency field


@attrs.frozen
class PlanCredit:
    plan: Plan
    function: object = attrs.field(repr=False)  # (deal, as_of) -> False | None | tuple
    when_fields: tuple  # the stored fields the credit rule reads (for "missing <field>")


@attrs.frozen
class CreditProgram:
    """The compiled crediting of every plan of a pack."""

    source: str = attrs.field(repr=False)
    plans: dict  # plan id -> PlanCredit


def compile_credit(analysis: Analysis) -> CreditProgram:
    pack = analysis.pack
    stages = pack.pipeline.stage_ids if pack.pipeline else ()
    names = E.Namespace(stages)
    chunks, built = [], []
    for index, plan in enumerate(pack.plans):
        generator = _CreditGenerator(analysis, plan, names, f"credit_{index}")
        chunks.append(generator.source())
        built.append((plan, f"credit_{index}", generator.when_fields))
    source = constants_comment("The plans' crediting, compiled by dealgate", names.constants) + "\n".join(chunks)
    namespace: dict[str, Any] = dict(E.RUNTIME)
    namespace.update(names.constants)
    namespace["ONE"] = ONE
    namespace["_dec"] = _dec
    load(source, namespace, f"credit {len(pack.plans)} plans")
    plans = {plan.id: PlanCredit(plan, namespace[name], fields) for plan, name, fields in built}
    return CreditProgram(source, plans)


def _dec(value):
    return None if value is None else Decimal(value)


class _CreditGenerator:
    def __init__(self, analysis: Analysis, plan: Plan, names: E.Namespace, name: str):
        self.analysis = analysis
        self.plan = plan
        self.names = names
        self.name = name
        self.fields = analysis.fields
        self.lines: list[str] = []
        self.read: set[str] = set()
        self.when_fields: tuple = ()

    def checked(self, expr: Expr) -> E.CheckedExpr:
        return self.analysis.checked[expr.key]

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def read_fields(self, wanted) -> None:
        """Emit reads of ``wanted`` fields (computed fields via their expression), each once."""
        computed = {f.name: f for f in self.fields.fields.values() if f.compute is not None}
        needed: set[str] = set()

        def close(name):
            if name in needed or name == "as_of" or name not in self.fields:
                return
            needed.add(name)
            if name in computed:
                for inner in self.checked(computed[name].compute).fields:
                    close(inner)

        for name in wanted:
            close(name)
        for field in self.fields.fields.values():  # declaration order: computed fields see earlier ones
            name = field.name
            if name not in needed or name in self.read:
                continue
            self.read.add(name)
            var = E.variable_name(name)
            if field.compute is not None:
                self.emit(f"{var} = {E.generate(self.checked(field.compute), self.names)}")
                continue
            self.emit(f"{var} = get({name!r})")
            default = self.analysis.defaults.get(name)
            if default is not None:
                self.emit(f"if {var} is None: {var} = {self.names.constant(default)}")

    def expression(self, expr: Expr, numeric: bool = False) -> str:
        checked = self.checked(expr)
        if numeric and checked.type == T.INT and isinstance(checked.tree, ast.Constant):
            return self.names.constant(Decimal(str(checked.tree.value)))  # e.g. amount: "1" to count deals
        code = E.generate(checked, self.names)
        if numeric and checked.type == T.INT:
            code = f"_dec({code})"
        return code

    def stored_fields(self, names) -> tuple:
        computed = {f.name: f for f in self.fields.fields.values() if f.compute is not None}
        result: list[str] = []

        def walk(name, seen=frozenset()):
            if name in computed and name not in seen:
                for inner in sorted(self.checked(computed[name].compute).needed):
                    walk(inner, seen | {name})
            elif name != "as_of" and name not in result:
                result.append(name)

        for name in sorted(names):
            walk(name)
        return tuple(result)

    def source(self) -> str:
        plan, credit = self.plan, self.plan.credit
        self.emit(f"def {self.name}(d, as_of):  # plan {plan.id}", 0)
        self.emit("get = d.get")
        when = self.checked(credit.when)
        self.when_fields = self.stored_fields(when.needed)
        self.read_fields(when.fields)
        self.emit(f"w = {self.expression(credit.when)}")
        self.emit("if w is not True:")
        self.emit("return w", 2)
        others = set(self.checked(credit.amount).fields)
        for m in plan.commission.multipliers:
            others |= self.checked(m.when).fields
        for b in plan.bonuses:
            if b.when is not None:
                others |= self.checked(b.when).fields
            if isinstance(b.amount, Expr):
                others |= self.checked(b.amount).fields
        self.read_fields(others)
        self.emit(f"amount = {self.expression(credit.amount, numeric=True)}")
        multipliers = plan.commission.multipliers
        if multipliers:
            self.emit("factor = ONE")
            self.emit("mults = ()")
            for m in multipliers:
                self.emit(f"if {self.expression(m.when)} is True:  # multiplier {m.id}")
                self.emit(f"factor = factor * {self.names.constant(m.factor)}", 2)
                self.emit(f"mults = mults + ({m.id!r},)", 2)
        deal_bonuses = [b for b in plan.bonuses if b.when is not None]
        self.emit("bonuses = ()")
        for b in deal_bonuses:
            amount = (
                self.expression(b.amount, numeric=True)
                if isinstance(b.amount, Expr)
                else self.names.constant(Decimal(b.amount))
            )
            self.emit(f"if {self.expression(b.when)} is True:  # bonus {b.id}")
            self.emit(f"bonuses = bonuses + (({b.id!r}, {amount}),)", 2)
        parts = CreditResult(
            id="get('id')",
            amount="amount",
            date=self.raw(credit.date),
            to=self.raw(credit.to),
            splits=self.raw(credit.splits),
            overlay=self.raw(credit.overlay),
            factor="factor" if multipliers else "ONE",
            multipliers="mults" if multipliers else "()",
            bonuses="bonuses",
            cancelled=self.raw(plan.clawback.date if plan.clawback else None),
            paid_on=self.raw(plan.payment.rest_on) if plan.payment else None,
            currency=self.raw(plan.fx.currency) if plan.fx else None,
        )
        # the last two only when the plan has them
        self.emit(f"return ({', '.join(str(p) for p in parts if p is not None)})")
        return "\n".join(self.lines) + "\n"

    def raw(self, name: str | None) -> str:
        if name is None:
            return "None"
        if name in self.read:
            return E.variable_name(name)
        return f"get({name!r})"


# Splits


class SplitProblem(NamedTuple):
    code: str
    message: str


def parse_recipients(to, splits, overlay):
    """The credit recipients of a deal: a tuple of (rep id, share fraction, role), or a SplitProblem.

    ``to`` is the credited rep field (the owner), ``splits`` the split field's text, ``overlay`` the
    overlay field's text; blank splits credit ``to`` in full.
    """
    if splits.__class__ is str and not overlay:
        plain = _plain_splits(splits)
        if plain is not None:
            return plain
    return _any_recipients(to, splits, overlay)


def _plain_splits(text: str):
    """The recipients of splits written plainly, ``alice:60;bob:40``, or None for anything else.

    Most split deals are written so, and each pair of reps is a new text that no cache holds; the
    general reading (``_any_recipients``) costs more than twice as much. Only what it would read
    the same way is taken here: every entry ``rep:digits`` with no space around it, distinct reps,
    shares above 0 and at most 100 that total 100. Anything else (a blank entry, a ``%``, an
    overlay, a problem to report) is left to it, so the results are the same by construction.
    """
    recipients = []
    seen = set()
    total = 0  # whole percentages: int arithmetic, exact as the Decimal sum it stands for
    for part in text.split(";"):
        rep, _, number = part.partition(":")
        # at most three digits: no plain share has more, and int() refuses thousands of them
        plain = rep and number.isascii() and number.isdigit() and len(number) <= 3
        if not plain or rep in seen or rep.strip() != rep:
            return None
        pct = int(number)
        if pct <= 0 or pct > 100:
            return None
        total += pct
        seen.add(rep)
        recipients.append((rep, Decimal(number) / HUNDRED, SPLIT))
    return tuple(recipients) if total == 100 else None


def _any_recipients(to, splits, overlay):
    """``parse_recipients`` for any splits and overlay text: blanks, ``%``, overlay entries, problems."""
    entries = _split_entries(splits) if splits else ()
    if isinstance(entries, SplitProblem):
        return entries
    overlays = _split_entries(overlay, overlay_default=True) if overlay else ()
    if isinstance(overlays, SplitProblem):
        return overlays
    normal = [e for e in entries if e[2] != OVERLAY]
    extra = [e for e in entries if e[2] == OVERLAY] + list(overlays)
    recipients = []
    if normal:
        total = sum((pct for _, pct, _ in normal), Decimal(0))
        if total != HUNDRED:
            shown = ";".join(f"{rep}:{pct}" for rep, pct, _ in normal)
            return SplitProblem("DG610", f"splits '{shown}' total {total}%, not 100%")
        seen = set()
        for rep, pct, _ in normal:
            if rep in seen:
                return SplitProblem("DG611", f"rep '{rep}' appears twice in splits '{splits}'")
            seen.add(rep)
            recipients.append((rep, pct / HUNDRED, SPLIT))
    else:
        if to is None or (isinstance(to, str) and not to.strip()):
            return SplitProblem("DG613", "no rep to credit: the credited-rep field is blank and there are no splits")
        recipients.append((to.strip(), ONE, OWNER))
    seen_overlay = set()
    for rep, pct, _ in extra:
        if rep in seen_overlay:
            return SplitProblem("DG611", f"overlay rep '{rep}' appears twice")
        seen_overlay.add(rep)
        recipients.append((rep, pct / HUNDRED, OVERLAY))
    return tuple(recipients)


def _split_entries(text: str, overlay_default: bool = False):
    entries = []
    for raw in str(text).split(";"):
        part = raw.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":")]
        role = OVERLAY if overlay_default else SPLIT
        if len(pieces) == 3 and pieces[2].lower() == OVERLAY:
            role = OVERLAY
            pieces = pieces[:2]
        if len(pieces) == 1 and (overlay_default or len([p for p in str(text).split(";") if p.strip()]) == 1):
            pieces.append("100")
        if len(pieces) != 2 or not pieces[0]:
            return SplitProblem(
                "DG611",
                f"cannot read split '{part}' in '{text}'; write rep:percent, e.g. "
                f"alice:60;bob:40 (overlay: carol:100:overlay)",
            )
        number = pieces[1].rstrip("%").strip()
        try:
            pct = Decimal(number)
        except InvalidOperation:
            return SplitProblem("DG611", f"split '{part}': '{pieces[1]}' is not a percentage")
        if not pct.is_finite() or pct <= 0 or pct > HUNDRED:
            return SplitProblem("DG611", f"split '{part}': a share must be more than 0 and at most 100 percent")
        entries.append((pieces[0], pct, role))
    return tuple(entries)
