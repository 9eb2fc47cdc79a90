"""Stage 3, model: schema-checked documents become frozen attrs objects.

The schema has already vouched for the shape and the JSON types of every
document handed in here, so building is plain translation. Cross-references
(stages, fields, expression types) are checked later by ``semantics``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .diagnostics import Diagnostic, Location, error
from .load import Document
from .values import ValueProblem, coerce, is_blank

if TYPE_CHECKING:  # the segments model builds on this one
    from .segments.model import Segments


@attrs.frozen
class Expr:
    """An expression as written, with enough context to point at any column of it."""

    source: str
    document: Document = attrs.field(repr=False, eq=False)
    path: tuple = attrs.field(eq=False)

    @property
    def location(self) -> Location:
        return self.document.locate(self.path)

    def location_at(self, offset: int) -> Location:
        return self.document.locate_within(self.path, offset)

    @property
    def key(self) -> tuple:
        """Identifies this expression within a pack (two identical texts are still two rules)."""
        return (self.document.file, self.document.index, self.path)


@attrs.frozen
class Field:
    name: str
    type: str
    columns: tuple = ()
    required: bool = False
    default: Any = None
    formats: tuple = ()
    separator: str = ";"
    compute: Expr | None = None
    description: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)
    check_only: bool = False  # read and validated, though no rule uses it: not "unused"
    currency: str = "USD"  # money fields: a cell in another currency is rejected
    decimal_mark: str = "."  # money and decimal fields: ',' reads a European '1.234,56'

    def reading(self) -> dict:
        """How this field's cells are read: the keyword arguments of ``values.coerce``/``text_converter``."""
        return {
            "formats": self.formats,
            "separator": self.separator,
            "currency": self.currency,
            "decimal_mark": self.decimal_mark,
        }

    @property
    def nullable(self) -> bool:
        # A blank default ("") is no default: the reader leaves the value null.
        return not self.required and is_blank(self.default)


@attrs.frozen
class StageLabel:
    label: str
    stage: str
    location: Location = attrs.field(eq=False)


@attrs.frozen
class FieldSet:
    fields: dict  # name -> Field, in declaration order
    stage_labels: tuple = ()  # StageLabel declared in the fields document
    date_formats: tuple = ()
    location: Location | None = attrs.field(default=None, eq=False)
    decimal_mark: str = "."  # the document's, for the fields without their own

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def of_type(self, type_: str) -> list[Field]:
        return [f for f in self.fields.values() if f.type == type_]


@attrs.frozen
class Criterion:
    id: str
    when: Expr
    why: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class QualifyOut:
    id: str
    when: Expr
    why: str | None = None
    from_stage: str | None = None
    severity: str = "error"
    location: Location | None = attrs.field(default=None, eq=False)
    from_location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Stage:
    id: str
    probability: Decimal
    name: str | None = None
    won: bool = False
    lost: bool = False
    labels: tuple = ()  # StageLabel
    exit: tuple = ()  # Criterion
    location: Location | None = attrs.field(default=None, eq=False)

    @property
    def is_open(self) -> bool:
        return not (self.won or self.lost)


@attrs.frozen
class Category:
    """A forecast category: a deal is in the first category (in declared order) whose conditions all hold."""

    id: str
    stages: tuple = ()  # stage ids; empty: any stage
    verdicts: tuple = ()  # verdicts; empty: any verdict
    when: Expr | None = None
    name: str | None = None
    labels: tuple = ()  # the CRM's own forecast-category values that mean this one
    location: Location | None = attrs.field(default=None, eq=False)

    @property
    def catch_all(self) -> bool:
        """No condition: every deal that reaches it is in it (so later categories are never reached)."""
        return not self.stages and not self.verdicts and self.when is None


@attrs.frozen
class Pipeline:
    stages: tuple  # Stage, in order
    qualify_out: tuple = ()
    location: Location | None = attrs.field(default=None, eq=False)
    categories: tuple = ()  # Category, in order of precedence

    @property
    def stage_ids(self) -> tuple:
        return tuple(s.id for s in self.stages)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def rule_applies(self, rule: QualifyOut, stage_id: str) -> bool:
        """Whether a qualify-out rule is checked for a deal at ``stage_id``: open deals, from its 'from' stage on.

        The one statement of this rule; compiled code, explain, tests and their coverage all follow it.
        """
        stage = self.stage(stage_id)
        if stage is None or not stage.is_open:
            return False
        ids = self.stage_ids
        return (
            rule.from_stage is None or rule.from_stage not in ids or ids.index(stage_id) >= ids.index(rule.from_stage)
        )


@attrs.frozen
class Credit:
    when: Expr
    amount: Expr
    date: str
    to: str
    splits: str | None = None
    overlay: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class TierGate:
    """A tier pays its rate only when attainment over ``over`` has reached ``attainment``."""

    attainment: Decimal
    over: str = "year"  # "year": fiscal-year-to-date credit against the annual quota; "quota_period"


@attrs.frozen
class Tier:
    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    label: str | None = None
    gate: TierGate | None = None
    location: Location | None = attrs.field(default=None, eq=False)
    decelerator: bool = False  # pays less than the tier below on purpose: no falling-rate warning


@attrs.frozen
class Multiplier:
    id: str
    when: Expr
    factor: Decimal
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Commission:
    basis: str = "attainment"
    method: str = "marginal"
    rate_of: str = "credit"  # or "target_incentive": rates are fractions of the rep's target incentive
    rate: Decimal | None = None
    tiers: tuple = ()
    min_attainment: Decimal | None = None
    multipliers: tuple = ()
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Caps:
    per_deal: Decimal | None = None
    per_period: Decimal | None = None
    carry_forward: bool = False  # what the period cap cuts is paid in later periods, under the cap
    carry_limit: Decimal | None = None  # the most waiting to be paid; beyond it a cut is forfeited


@attrs.frozen
class Bonus:
    id: str
    amount: Any  # Decimal, or Expr for an amount computed per deal
    when: Expr | None = None
    attainment: Decimal | None = None
    description: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Clawback:
    date: str
    within_days: int  # the window: the last step's, with a schedule
    id: str = "clawback"
    location: Location | None = attrs.field(default=None, eq=False)
    schedule: tuple = ()  # (within_days, share) steps, increasing days; () is one step: (within_days, share)
    share: Decimal = Decimal(1)
    counts_from: str = "credit"  # or "payment": the last day of the pay period that paid the deal
    share_given: bool = attrs.field(default=False, eq=False)  # 'share' written (with a schedule: an error)

    @property
    def steps(self) -> tuple:
        """(within_days, share) in increasing days: the share taken back up to each day count."""
        return self.schedule or ((self.within_days, self.share),)

    def share_after(self, days: int) -> Decimal | None:
        """The share taken back of a deal cancelled ``days`` after the window starts (None: outside it)."""
        return next((share for within, share in self.steps if days <= within), None)


@attrs.frozen
class Draw:
    type: str
    amount: Decimal
    months: int | None = None  # paid only in the rep's first N months on the plan
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Ramp:
    """A new hire's quota by month of tenure: ``quota[0]`` of the full quota in month 1, and so on."""

    quota: tuple  # Decimal fractions in (0, 1], month 1 first; the full quota after the last
    counts_from: str = "hire"  # "hire": the rep's hire date (else first start); "plan": first day on this plan
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Fx:
    """Conversion of each deal's credit from its currency (the field ``currency``) to the plan's."""

    currency: str  # a string field holding the deal's currency code
    rate_date: str = "credit"  # or "period_end": the last day of the pay period of the credit
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Payment:
    """Payment timing: ``at_credit`` of a deal's commission in its credit period, the rest in ``rest_on``'s period."""

    at_credit: Decimal
    rest_on: str  # a date field
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Holdback:
    """A share of each period's commission, paid ``periods`` pay periods later."""

    share: Decimal
    periods: int = 1
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Plan:
    id: str
    period: str
    credit: Credit
    commission: Commission
    name: str | None = None
    currency: str = "USD"
    rounding: str = "half_up"
    fiscal_year_start: int = 1
    quota: Decimal | None = None
    quota_period: str | None = None
    caps: Caps = Caps()
    bonuses: tuple = ()
    clawback: Clawback | None = None
    draw: Draw | None = None
    location: Location | None = attrs.field(default=None, eq=False)
    document: Document | None = attrs.field(default=None, repr=False, eq=False)
    ramp: Ramp | None = None
    mid_period_change: str = "prorate"  # or "split": each assignment to the plan its own part of the statement
    holdback: Holdback | None = None
    payment: Payment | None = None
    fx: Fx | None = None

    def locate(self, *path) -> Location | None:
        """Where a key of the plan is written (the plan's own location when it was not read from a file)."""
        return self.document.locate(path) if self.document is not None else self.location


@attrs.frozen
class TestCase:
    name: str
    expect: dict
    deal: dict | None = None
    deals: tuple = ()
    reps: tuple = ()
    period: str | None = None
    as_of: str | None = None
    location: Location | None = attrs.field(default=None, eq=False)
    document: Document | None = attrs.field(default=None, repr=False, eq=False)
    path: tuple = attrs.field(default=(), eq=False)


@attrs.frozen
class RulePack:
    fields: FieldSet | None
    pipeline: Pipeline | None
    plans: tuple = ()
    tests: tuple = ()
    documents: tuple = attrs.field(default=(), repr=False, eq=False)
    segments: Segments | None = None  # the account tiers, when the pack has them
    reps: RepsMapping | None = None  # how the reps file's columns are read, when the pack says


@attrs.frozen
class RepsMapping:
    """The ``kind: reps`` document: the export columns holding each reps-file key, and default values."""

    columns: dict  # key -> tuple of column names, first found wins
    defaults: dict  # key -> text, as a reps-file cell would hold it
    location: Location | None = attrs.field(default=None, eq=False)
    document: Document | None = attrs.field(default=None, repr=False, eq=False)


def _build_clawback(document: Document, claw: dict) -> Clawback:
    schedule = tuple((step["within_days"], Decimal(str(step["share"]))) for step in claw.get("schedule", ()))
    return Clawback(
        claw["date"],
        schedule[-1][0] if schedule else claw["within_days"],
        claw.get("id", "clawback"),
        document.locate(("clawback",)),
        schedule,
        Decimal(str(claw.get("share", 1))),
        claw.get("from", "credit"),
        "share" in claw,
    )


def _build_reps(document: Document) -> RepsMapping:
    data = document.data
    columns = {
        key: (names,) if isinstance(names, str) else tuple(names) for key, names in data.get("columns", {}).items()
    }
    defaults = {key: str(value) for key, value in data.get("defaults", {}).items()}
    return RepsMapping(columns, defaults, document.locate(), document)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def build_pack(documents: list[Document]) -> tuple[RulePack, list[Diagnostic]]:
    """The model of a pack from its schema-valid documents, plus pack-level problems."""
    diagnostics: list[Diagnostic] = []
    by_kind: dict[str, list[Document]] = {}
    for document in documents:
        by_kind.setdefault(document.kind, []).append(document)

    fields = _single(by_kind, "fields", diagnostics, _build_fields)
    pipeline = _single(by_kind, "pipeline", diagnostics, _build_pipeline)
    plans = tuple(_build_plan(d) for d in by_kind.get("plan", []))
    tests = tuple(case for d in by_kind.get("tests", []) for case in _build_tests(d))
    from .segments.model import build_segments  # here: that module builds on this one's Field and Expr

    segments = _single(by_kind, "segments", diagnostics, build_segments)
    reps = _single(by_kind, "reps", diagnostics, _build_reps)
    return RulePack(fields, pipeline, plans, tests, tuple(documents), segments, reps), diagnostics


def _single(by_kind, kind, diagnostics, build):
    found = by_kind.get(kind, [])
    if len(found) > 1:
        first = found[0]
        for extra in found[1:]:
            diagnostics.append(
                error(
                    "DG302",
                    f"a pack has one {kind} document; this is another one",
                    extra.locate(),
                    f"the first is in {first.file}",
                )
            )
    return build(found[0]) if found else None


def _build_fields(document: Document) -> FieldSet:
    data = document.data
    date_formats = tuple(data.get("date_formats", ()))
    currency = data.get("currency", "USD")
    decimal_mark = data.get("decimal_mark", ".")
    fields = {}
    for name, spec in data["fields"].items():
        path = ("fields", name)
        compute = spec.get("compute")
        fields[name] = Field(
            name=name,
            type=spec["type"],
            columns=tuple(spec.get("columns", ())),
            required=spec.get("required", False),
            default=spec.get("default"),  # raw until semantics coerces it (it may be wrong)
            formats=tuple(spec.get("formats", date_formats)),
            separator=spec.get("separator", ";"),
            compute=Expr(compute, document, path + ("compute",)) if compute else None,
            description=spec.get("description"),
            location=document.locate_key(path),
            check_only=spec.get("check_only", False),
            currency=spec.get("currency", currency),
            decimal_mark=spec.get("decimal_mark", decimal_mark),
        )
    labels = tuple(
        StageLabel(label, stage, document.locate_key(("stage_labels", label)))
        for label, stage in data.get("stage_labels", {}).items()
    )
    return FieldSet(fields, labels, date_formats, document.locate(), decimal_mark)


def coerce_default(field: Field) -> tuple[Any, str | None]:
    """The typed default of a field, or the reason it cannot be one."""
    if field.default is None:
        return None, None
    try:
        return coerce(field.type, field.default, **field.reading()), None
    except ValueProblem as problem:
        return None, str(problem)


def _build_pipeline(document: Document) -> Pipeline:
    data = document.data
    stages = []
    for i, spec in enumerate(data["stages"]):
        path = ("stages", i)
        labels = tuple(
            StageLabel(label, spec["id"], document.locate(path + ("labels", j)))
            for j, label in enumerate(spec.get("labels", ()))
        )
        exits = tuple(
            Criterion(
                c["id"],
                Expr(c["when"], document, path + ("exit", j, "when")),
                c.get("why"),
                document.locate(path + ("exit", j)),
            )
            for j, c in enumerate(spec.get("exit", ()))
        )
        stages.append(
            Stage(
                id=spec["id"],
                probability=Decimal(spec["probability"]),
                name=spec.get("name"),
                won=spec.get("won", False),
                lost=spec.get("lost", False),
                labels=labels,
                exit=exits,
                location=document.locate(path),
            )
        )
    rules = tuple(
        QualifyOut(
            id=q["id"],
            when=Expr(q["when"], document, ("qualify_out", i, "when")),
            why=q.get("why"),
            from_stage=q.get("from"),
            severity=q.get("severity", "error"),
            location=document.locate(("qualify_out", i)),
            from_location=document.locate(("qualify_out", i, "from")),
        )
        for i, q in enumerate(data.get("qualify_out", ()))
    )
    categories = tuple(
        Category(
            id=c["id"],
            stages=tuple(c.get("stages", ())),
            verdicts=tuple(c.get("verdicts", ())),
            when=Expr(c["when"], document, ("categories", i, "when")) if "when" in c else None,
            name=c.get("name"),
            labels=tuple(c.get("labels", ())),
            location=document.locate(("categories", i)),
        )
        for i, c in enumerate(data.get("categories", ()))
    )
    return Pipeline(tuple(stages), rules, document.locate(), categories)


def _build_plan(document: Document) -> Plan:
    data = document.data
    c = data["credit"]
    credit = Credit(
        when=Expr(c["when"], document, ("credit", "when")),
        amount=Expr(c["amount"], document, ("credit", "amount")),
        date=c["date"],
        to=c["to"],
        splits=c.get("splits"),
        overlay=c.get("overlay"),
        location=document.locate(("credit",)),
    )
    m = data["commission"]
    tiers, previous = [], Decimal(0)
    for i, t in enumerate(m.get("tiers", ())):
        lower = Decimal(t["from"]) if "from" in t else previous
        upper = _decimal(t.get("to"))
        gate = t.get("gate")
        tiers.append(
            Tier(
                lower,
                upper,
                Decimal(t["rate"]),
                t.get("label"),
                TierGate(Decimal(gate["attainment"]), gate.get("over", "year")) if gate else None,
                document.locate(("commission", "tiers", i)),
                t.get("decelerator", False),
            )
        )
        previous = upper if upper is not None else lower
    commission = Commission(
        basis=m.get("basis", "attainment"),
        method=m.get("method", "marginal"),
        rate_of=m.get("rate_of", "credit"),
        rate=_decimal(m.get("rate")),
        tiers=tuple(tiers),
        min_attainment=_decimal(m.get("min_attainment")),
        multipliers=tuple(
            Multiplier(
                x["id"],
                Expr(x["when"], document, ("commission", "multipliers", i, "when")),
                Decimal(x["factor"]),
                document.locate(("commission", "multipliers", i)),
            )
            for i, x in enumerate(m.get("multipliers", ()))
        ),
        location=document.locate(("commission",)),
    )
    caps = data.get("caps", {})
    bonuses = tuple(_build_bonus(document, i, b) for i, b in enumerate(data.get("bonuses", ())))
    claw = data.get("clawback")
    draw = data.get("draw")
    ramp = data.get("ramp")
    hold = data.get("holdback")
    pay = data.get("payment")
    fx = data.get("fx")
    return Plan(
        fx=Fx(fx["currency"], fx.get("rate_date", "credit"), document.locate(("fx",))) if fx else None,
        payment=Payment(Decimal(str(pay["at_credit"])), pay["rest_on"], document.locate(("payment",))) if pay else None,
        holdback=Holdback(Decimal(str(hold["share"])), hold.get("periods", 1), document.locate(("holdback",)))
        if hold
        else None,
        mid_period_change=data.get("mid_period_change", "prorate"),
        ramp=Ramp(tuple(Decimal(str(f)) for f in ramp["quota"]), ramp.get("from", "hire"), document.locate(("ramp",)))
        if ramp
        else None,
        id=data["id"],
        period=data["period"],
        credit=credit,
        commission=commission,
        name=data.get("name"),
        currency=data.get("currency", "USD"),
        rounding=data.get("rounding", "half_up"),
        fiscal_year_start=data.get("fiscal_year_start", 1),
        quota=_decimal(data.get("quota")),
        quota_period=data.get("quota_period"),
        caps=Caps(
            _decimal(caps.get("per_deal")),
            _decimal(caps.get("per_period")),
            "carry_forward" in caps,
            _decimal(caps.get("carry_forward", {}).get("limit")),
        ),
        bonuses=bonuses,
        clawback=_build_clawback(document, claw) if claw else None,
        draw=Draw(draw["type"], Decimal(draw["amount"]), draw.get("months"), document.locate(("draw",)))
        if draw
        else None,
        location=document.locate(),
        document=document,
    )


def _build_bonus(document: Document, i: int, spec: dict) -> Bonus:
    path = ("bonuses", i)
    amount = spec["amount"]
    amount = Expr(amount, document, path + ("amount",)) if isinstance(amount, str) else Decimal(amount)
    return Bonus(
        id=spec["id"],
        amount=amount,
        when=Expr(spec["when"], document, path + ("when",)) if "when" in spec else None,
        attainment=_decimal(spec.get("attainment")),
        description=spec.get("description"),
        location=document.locate(path),
    )


def _build_tests(document: Document) -> list[TestCase]:
    data = document.data
    cases = []
    for i, spec in enumerate(data["cases"]):
        path = ("cases", i)
        cases.append(
            TestCase(
                name=spec["name"],
                expect=spec["expect"],
                deal=spec.get("deal"),
                deals=tuple(spec.get("deals", ())),
                reps=tuple(spec.get("reps", ())),
                period=spec.get("period"),
                as_of=spec.get("as_of", data.get("as_of")),
                location=document.locate(path),
                document=document,
                path=path,
            )
        )
    return cases
