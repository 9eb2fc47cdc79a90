"""Semantic checks across a whole pack: references, ids, tiers and expression types.

The result is an Analysis: the pack plus everything later stages need that
checking had to work out anyway (typed expressions, the stage label table,
typed defaults), so compiling never repeats it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Iterable

import attrs

from . import expr as E
from .diagnostics import Diagnostic, Location, did_you_mean, error, warning
from . import types as T
from .expr.parse import BOOL_NAMES, NULL_NAMES
from .model import Expr, FieldSet, Pipeline, Plan, RulePack, coerce_default
from .values import ValueProblem, coerce

SPECIAL_FIELDS = ("id", "stage", "amount", "name", "owner", "account")  # read or shown by the engine itself
BUILTINS = {"as_of": E.Variable(T.DATE, nullable=False)}
# Names an expression reads as something else: a field called one of these could never be used.
RESERVED = frozenset(BUILTINS) | NULL_NAMES | frozenset(BOOL_NAMES)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class Analysis:
    pack: RulePack
    checked: dict  # Expr.key -> CheckedExpr
    environment: E.Environment
    stage_lookup: dict  # lower-cased label or id -> stage id
    defaults: dict  # field name -> typed default


def analyse(pack: RulePack, broken_kinds: frozenset = frozenset()) -> tuple[Analysis, list[Diagnostic]]:
    """Check ``pack``; ``broken_kinds`` are kinds whose documents failed their schema (not "missing")."""
    checker = _PackChecker(pack, broken_kinds)
    checker.run()
    analysis = Analysis(pack, checker.checked, checker.environment, checker.stage_lookup, checker.defaults)
    return analysis, checker.diagnostics


class _PackChecker:
    def __init__(self, pack: RulePack, broken_kinds: frozenset = frozenset()):
        self.pack = pack
        self.broken_kinds = broken_kinds
        self.diagnostics: list[Diagnostic] = []
        self.checked: dict = {}
        self.used_fields: set[str] = set()
        self.stage_lookup: dict = {}
        self.defaults: dict = {}
        stages = pack.pipeline.stage_ids if pack.pipeline else ()
        variables = dict(BUILTINS)
        if pack.fields:
            for field in pack.fields.fields.values():
                # A computed field is null when its inputs are, whatever 'required'/'default' say.
                nullable = field.nullable or field.compute is not None
                variables[field.name] = E.Variable(field.type, nullable)
        self.environment = E.Environment(variables, stages)

    def run(self) -> None:
        pack = self.pack
        anchor = pack.documents[0].locate() if pack.documents else None
        if pack.fields is None and "fields" not in self.broken_kinds:
            self.add(error("DG301", "the pack has no fields document", anchor,
                           "add a file with 'kind: fields' declaring the deal fields"))
        if pack.pipeline is None and "pipeline" not in self.broken_kinds:
            self.add(error("DG301", "the pack has no pipeline document", anchor,
                           "add a file with 'kind: pipeline' declaring the stages"))
        if pack.fields:
            self.check_fields(pack.fields)
        if pack.pipeline:
            self.check_pipeline(pack.pipeline)
        if pack.fields and pack.pipeline:
            self.check_stage_labels(pack.fields, pack.pipeline)
        self.check_plans(pack.plans)
        self.check_tests(pack.tests)
        if pack.fields and pack.pipeline and not self.broken_kinds:
            # Without a pipeline, or with a document left out (schema errors), usage is unknown:
            # "unused" warnings would be noise around the real error.
            self.check_unused(pack.fields)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def document(self, kind: str):
        """The document the model of ``kind`` was built from (the first valid one, as in build_pack)."""
        return next((d for d in self.pack.documents if d.kind == kind), None)

    def at(self, kind: str, path: tuple, fallback: Location | None = None) -> Location | None:
        """The location of the value at ``path`` in the ``kind`` document: the offending token itself."""
        document = self.document(kind)
        return document.locate(path) if document is not None else fallback

    # expressions

    def expression(self, expr: Expr, expect, environment: E.Environment | None = None):
        if self.pack.fields is None:
            return None  # without fields every name would be "unknown": noise, not help
        checked, problems = E.check(expr.source, environment or self.environment, expect)
        for problem in problems:
            self.add(error(problem.code, problem.message, expr.location_at(problem.offset), problem.hint))
        if checked is not None:
            self.checked[expr.key] = checked
            self.used_fields.update(checked.fields)
        else:  # the rule is wrong, not its fields unused: don't add "unused" warnings to the error
            self.used_fields.update(_IDENTIFIER.findall(expr.source))
        return checked

    def field_reference(self, name: str, types: Iterable[str], what: str, location: Location | None) -> None:
        fields = self.pack.fields
        if fields is None:
            return
        if name not in fields:
            self.add(error("DG203", f"unknown field '{name}' ({what})", location,
                           did_you_mean(name, list(fields.fields)) or "declare it in the fields document"))
            return
        self.used_fields.add(name)
        field = fields[name]
        types = tuple(types)
        if field.type not in types:
            self.add(error("DG205", f"{what} must be a field of type {' or '.join(types)}, "
                                    f"but '{name}' is {field.type}", location))

    # fields

    def check_fields(self, fields: FieldSet) -> None:
        available = dict(BUILTINS)
        for field in fields.fields.values():
            self.check_field_name(field.name, field.location)
            if field.type != T.DATE and field.formats and field.formats != fields.date_formats:
                self.add(warning("DG311", f"'formats' has no effect on {field.type} field '{field.name}'",
                                 self.at("fields", ("fields", field.name, "formats"), field.location)))
            default, problem = coerce_default(field)
            if problem:
                self.add(error("DG205", f"default of '{field.name}': {problem}",
                               self.at("fields", ("fields", field.name, "default"), field.location)))
            elif default is not None:
                self.defaults[field.name] = default
            if field.compute is None:
                available[field.name] = E.Variable(field.type, field.nullable)
        for field in fields.fields.values():
            if field.compute is not None:
                env = E.Environment(dict(available), self.environment.stages)
                expect = T.NUMERIC if field.type in T.NUMERIC else field.type
                self.expression(field.compute, expect, env)
                available[field.name] = E.Variable(field.type, True)
        self.check_special_fields(fields)
        self.check_columns(fields)
        self.check_date_formats(fields)
        if "id" not in fields:
            self.add(warning("DG309", "no field named 'id'", fields.location,
                             "declare id: {type: string, required: true, columns: [...]} so results name deals"))

    def check_date_formats(self, fields: FieldSet) -> None:
        """A date format must read back the date it writes; else every row would be rejected at run time."""
        lists = [(("date_formats",), fields.date_formats, fields.location)]
        lists += [(("fields", f.name, "formats"), f.formats, f.location) for f in fields.fields.values()
                  if f.type == T.DATE and f.formats != fields.date_formats]
        for path, formats, fallback in lists:
            for index, fmt in enumerate(formats):
                problem = _date_format_problem(fmt)
                if problem:
                    self.add(error("DG322", f"date format '{fmt}' {problem}",
                                   self.at("fields", path + (index,), fallback),
                                   "use strptime codes with a year, month and day, e.g. %m/%d/%Y or %d.%m.%y"))

    def check_columns(self, fields: FieldSet) -> None:
        """One export column feeds one field: the reader would silently give it to the first."""
        claimed: dict[str, str] = {}
        for field in fields.fields.values():
            if field.compute is not None:
                continue
            for index, column in enumerate((field.name, *field.columns)):
                key = column.strip().lower()
                owner = claimed.setdefault(key, field.name)
                if owner != field.name:
                    where = self.at("fields", ("fields", field.name, "columns", index - 1), field.location) \
                        if index else field.location
                    self.add(error("DG321", f"column '{column}' of field '{field.name}' is already read by field "
                                            f"'{owner}'", where,
                                   "a column can feed one field only; remove it from one of them"))

    def check_special_fields(self, fields: FieldSet) -> None:
        """The engine itself reads 'stage', 'amount' and 'id': they must be what it expects."""
        stage_fields = fields.of_type(T.STAGE)
        if "stage" not in fields:
            where = stage_fields[0].location if stage_fields else fields.location
            self.add(error("DG309", "no field named 'stage'", where,
                           "declare the deal's stage as stage: {type: stage, required: true, columns: [Stage]}"))
        for field in stage_fields:
            if field.name != "stage":
                self.add(error("DG309", f"field '{field.name}' has type stage, but only the field named 'stage' "
                                        f"can", field.location, "rename it to 'stage'"))
        expected = {"stage": (T.STAGE,), "amount": (T.MONEY, T.DECIMAL), "id": (T.STRING,)}
        for name, types in expected.items():
            field = fields.fields.get(name)
            if field is None:
                continue
            if field.type not in types:
                self.add(error("DG309", f"field '{name}' must have type {' or '.join(types)}, not {field.type}",
                               field.location))
            if field.compute is not None:
                self.add(error("DG309", f"field '{name}' is read from the export; it cannot be computed",
                               field.location))
        stage = fields.fields.get("stage")
        if stage is not None and stage.type == T.STAGE and (not stage.required or stage.default is not None):
            self.add(error("DG309", "the stage field must be 'required: true' and have no default", stage.location,
                           "a deal without a stage cannot be judged: such rows are rejected"))
        for field in fields.fields.values():
            if field.compute is not None and (field.required or field.default is not None or field.columns):
                self.add(error("DG309", f"computed field '{field.name}' cannot have 'required', 'default' or "
                                        f"'columns'", field.location, "it is never read from the export"))

    def check_field_name(self, name: str, location: Location | None) -> None:
        if name in RESERVED or name.startswith("__"):
            what = "a built-in name" if name in BUILTINS else "a word expressions reserve"
            self.add(error("DG314", f"'{name}' cannot be a field name: it is {what}", location,
                           "rename the field (its CRM columns can keep their names)"))

    # pipeline

    def check_pipeline(self, pipeline: Pipeline) -> None:
        seen_stages: dict[str, Location] = {}
        rule_ids: dict[str, Location] = {}
        for i, stage in enumerate(pipeline.stages):
            path = ("stages", i)
            id_at = self.at("pipeline", path + ("id",), stage.location)
            if stage.id in seen_stages:
                self.add(error("DG303", f"duplicate stage id '{stage.id}'", id_at,
                               f"first declared at line {seen_stages[stage.id].line}"))
            seen_stages.setdefault(stage.id, id_at)
            if not Decimal(0) <= stage.probability <= Decimal(1):
                hint = "write probabilities as fractions: 0.6 means 60%" if stage.probability > 1 else None
                self.add(error("DG304", f"probability of '{stage.id}' is {stage.probability}; "
                                        f"it must be between 0 and 1",
                               self.at("pipeline", path + ("probability",), stage.location), hint))
            if stage.won and stage.lost:
                self.add(error("DG308", f"stage '{stage.id}' cannot be both won and lost",
                               self.at("pipeline", path + ("lost",), stage.location)))
            if not stage.is_open and stage.exit:
                self.add(warning("DG312", f"closed stage '{stage.id}' has exit criteria; they are never checked",
                                 self.key_at("pipeline", path + ("exit",), stage.location)))
            for j, criterion in enumerate(stage.exit):
                self.unique_rule(criterion.id, self.at("pipeline", path + ("exit", j, "id"), criterion.location),
                                 rule_ids)
                self.expression(criterion.when, T.BOOL)
        for i, rule in enumerate(pipeline.qualify_out):
            self.unique_rule(rule.id, self.at("pipeline", ("qualify_out", i, "id"), rule.location), rule_ids)
            if rule.from_stage is not None and rule.from_stage not in seen_stages:
                self.add(error("DG307", f"unknown stage '{rule.from_stage}' in 'from'", rule.from_location,
                               did_you_mean(rule.from_stage, list(seen_stages))
                               or f"stages are: {', '.join(seen_stages)}"))
            self.expression(rule.when, T.BOOL)
        self.check_probability_order(pipeline)
        if not any(s.won for s in pipeline.stages):
            self.add(warning("DG308", "no stage is marked 'won: true'", pipeline.location,
                             "mark the closed-won stage so won deals are reported and credited"))

    def key_at(self, kind: str, path: tuple, fallback: Location | None = None) -> Location | None:
        """The location of the key introducing ``path`` in the ``kind`` document."""
        document = self.document(kind)
        return document.locate_key(path) if document is not None else fallback

    def unique_rule(self, rule_id: str, location, seen: dict) -> None:
        if rule_id in seen:
            self.add(error("DG303", f"duplicate rule id '{rule_id}'", location,
                           f"first declared at line {seen[rule_id].line}; ids must be unique in the pipeline"))
        else:
            seen[rule_id] = location

    def check_probability_order(self, pipeline: Pipeline) -> None:
        open_stages = [(i, s) for i, s in enumerate(pipeline.stages) if s.is_open]
        for (_, before), (i, after) in zip(open_stages, open_stages[1:]):
            if after.probability < before.probability:
                self.add(warning("DG305", f"probability falls from '{before.id}' ({before.probability}) to "
                                          f"'{after.id}' ({after.probability})",
                                 self.at("pipeline", ("stages", i, "probability"), after.location),
                                 "probabilities usually rise along the pipeline; check the stage order"))

    def check_stage_labels(self, fields: FieldSet, pipeline: Pipeline) -> None:
        stage_ids = pipeline.stage_ids
        for stage_id in stage_ids:
            self.stage_lookup[stage_id.lower()] = stage_id
        first: dict[str, object] = {}
        labels = [label for stage in pipeline.stages for label in stage.labels] + list(fields.stage_labels)
        for label in labels:
            key = label.label.strip().lower()
            if label.stage not in stage_ids:  # only 'stage_labels' in the fields document can say this
                self.add(error("DG307", f"stage label '{label.label}' maps to unknown stage '{label.stage}'",
                               self.at("fields", ("stage_labels", label.label), label.location),
                               did_you_mean(label.stage, list(stage_ids)) or f"stages are: {', '.join(stage_ids)}"))
                continue
            if key in first:
                previous = first[key]
                self.add(error("DG306", f"stage label '{label.label}' is mapped twice ('{previous.stage}' at "
                                        f"{previous.location}, and '{label.stage}')", label.location,
                               "a CRM label must mean one stage; remove one mapping"))
                continue
            first[key] = label
            existing = self.stage_lookup.get(key)
            if existing is not None and existing != label.stage:
                self.add(error("DG306", f"stage label '{label.label}' is the id of stage '{existing}' but maps to "
                                        f"'{label.stage}'", label.location))
                continue
            self.stage_lookup[key] = label.stage

    # plans

    def check_plans(self, plans: tuple) -> None:
        seen: dict[str, Location] = {}
        for plan in plans:
            id_at = plan.document.locate(("id",))
            if plan.id in seen:
                self.add(error("DG303", f"duplicate plan id '{plan.id}'", id_at, f"first declared at {seen[plan.id]}"))
            seen.setdefault(plan.id, id_at)
            self.check_plan(plan)

    def check_plan(self, plan: Plan) -> None:
        credit = plan.credit
        doc = plan.document
        self.expression(credit.when, T.BOOL)
        self.expression(credit.amount, T.NUMERIC)
        self.field_reference(credit.date, (T.DATE,), "credit date", doc.locate(("credit", "date")))
        self.field_reference(credit.to, (T.STRING,), "credited rep", doc.locate(("credit", "to")))
        for key in ("splits", "overlay"):
            name = getattr(credit, key)
            if name is not None:
                self.field_reference(name, (T.STRING,), f"credit {key}", doc.locate(("credit", key)))
        commission = plan.commission
        for multiplier in commission.multipliers:
            self.expression(multiplier.when, T.BOOL)
        if commission.tiers:
            self.check_tiers(plan)
        elif commission.rate is not None and commission.rate < 0:
            self.add(error("DG308", f"negative commission rate {commission.rate}", doc.locate(("commission", "rate"))))
        bonus_ids: dict[str, Location] = {}
        for bonus in plan.bonuses:
            self.unique_rule(bonus.id, bonus.location, bonus_ids)
            if bonus.when is not None:
                self.expression(bonus.when, T.BOOL)
            if isinstance(bonus.amount, Expr):
                if bonus.when is None:
                    self.add(error("DG205", f"bonus '{bonus.id}' pays at an attainment milestone, so its amount "
                                            f"must be a number, not an expression", bonus.amount.location))
                else:
                    self.expression(bonus.amount, T.NUMERIC)
        if plan.clawback:
            self.field_reference(plan.clawback.date, (T.DATE,), "clawback date", doc.locate(("clawback", "date")))
        if commission.basis == "attainment" and commission.tiers and plan.quota is None:
            self.add(warning("DG313", f"plan '{plan.id}' pays on attainment but sets no default quota",
                             plan.location, "set 'quota:' or give every rep a quota in the reps file"))
        if commission.rate_of == "target_incentive" and commission.basis != "attainment":
            self.add(error("DG308", f"rates of the target incentive are paid per unit of attainment, so they "
                                    f"need 'basis: attainment', not '{commission.basis}'",
                           doc.locate(("commission", "rate_of"))))
        order = ("month", "quarter", "half", "year")
        if plan.quota_period and order.index(plan.quota_period) < order.index(plan.period):
            self.add(error("DG308", f"quota period '{plan.quota_period}' is shorter than the pay period "
                                    f"'{plan.period}'", doc.locate(("quota_period",)),
                           "the quota covers one or more pay periods: use the same period or a longer one"))
        if not (commission.basis == "attainment" and commission.tiers):
            for bonus in plan.bonuses:
                if bonus.attainment is not None and plan.quota is None:
                    self.add(warning("DG313", f"bonus '{bonus.id}' pays at an attainment milestone but plan "
                                              f"'{plan.id}' sets no default quota", bonus.location,
                                     "set 'quota:' or give every rep a quota in the reps file"))
        if commission.min_attainment is not None and commission.basis != "attainment" and plan.quota is None:
            self.add(warning("DG313", f"'min_attainment' needs a quota but plan '{plan.id}' sets no default quota",
                             doc.locate(("commission", "min_attainment")),
                             "set 'quota:' or give every rep a quota in the reps file"))

    def check_tiers(self, plan: Plan) -> None:
        tiers = plan.commission.tiers
        unit = "attainment" if plan.commission.basis == "attainment" else "credit"

        def at(index: int, key: str):
            """The offending bound or rate itself (the tier, when the bound is implicit)."""
            return plan.document.locate(("commission", "tiers", index, key))

        for i, tier in enumerate(tiers):
            if tier.rate < 0:
                self.add(error("DG308", f"negative rate {tier.rate} in tier {_span(tier.lower, tier.upper)}",
                               at(i, "rate")))
            if tier.upper is not None and tier.upper <= tier.lower:
                self.add(error("DG308", f"tier bounds are not in order: from {tier.lower} to {tier.upper}",
                               at(i, "to"), "'to' must be greater than 'from'"))
        if tiers[0].lower > 0:
            self.add(error("DG308", f"no tier covers {unit} 0–{tiers[0].lower}", at(0, "from"),
                           "start the first tier at 0 (a rate of 0 is fine)"))
        for i, (before, after) in enumerate(zip(tiers, tiers[1:])):
            if before.upper is None:
                self.add(error("DG308", f"tier {_span(before.lower, None)} has no upper bound but is not the last",
                               before.location, "only the last tier may leave out 'to'"))
                continue
            if after.lower > before.upper:
                self.add(error("DG308", f"no tier covers {unit} {before.upper}–{after.lower}", at(i + 1, "from"),
                               f"set 'from: {before.upper}' or leave 'from' out"))
            elif after.lower < before.upper:
                self.add(error("DG308", f"tiers overlap on {unit} {after.lower}–{before.upper}", at(i + 1, "from"),
                               "each tier starts where the previous one ends"))
        if tiers[0].gate is not None:
            self.add(error("DG308", "the first tier cannot have a gate: there is no tier below it to pay at "
                                    "until the gate opens", at(0, "gate"),
                           "put the gate on a higher tier (e.g. the accelerator)"))
        last = tiers[-1]
        if last.upper is not None:
            self.add(error("DG308", f"no tier covers {unit} {last.upper} and above", at(len(tiers) - 1, "to"),
                           "leave 'to' out of the last tier so it has no upper bound"))

    # tests (ops' own expectations): every name they use must exist, every expectation must be possible

    def check_tests(self, cases: tuple) -> None:
        checked_as_of: set = set()
        for case in cases:
            self.check_test_as_of(case, checked_as_of)
            stage = self.check_test_deal(case.deal, case, ("deal",)) if case.deal is not None else None
            for i, deal in enumerate(case.deals):
                self.check_test_deal(deal, case, ("deals", i))
            if self.pack.pipeline is not None:
                self.check_expectations(case, self.pack.pipeline, stage)

    def check_test_as_of(self, case, seen: set) -> None:
        document, spec = case.document, case.document.data["cases"][case.path[-1]]
        path = case.path + ("as_of",) if "as_of" in spec else ("as_of",)
        if case.as_of is None or (document.file, document.index, path) in seen:
            return
        seen.add((document.file, document.index, path))
        try:
            dt.date.fromisoformat(case.as_of)
        except ValueError:
            self.add(error("DG320", f"as_of '{case.as_of}' is not a date", document.locate(path),
                           "write it as YYYY-MM-DD, e.g. 2026-06-30"))

    def check_test_deal(self, deal: dict, case, where: tuple) -> str | None:
        """Problems with one test deal's keys and values; returns the deal's stage id when known."""
        fields = self.pack.fields
        if fields is None:
            return None
        document, path = case.document, case.path + where
        stage = None
        for key, value in deal.items():
            if key not in fields:
                self.add(error("DG315", f"test deal sets '{key}', which is not a declared field",
                               document.locate_key(path + (key,)),
                               did_you_mean(key, list(fields.fields)) or "declare it in the fields document"))
                continue
            field = fields[key]
            if field.compute is not None:
                sources = sorted(self.checked[field.compute.key].fields - set(BUILTINS)) \
                    if field.compute.key in self.checked else []
                self.add(error("DG316", f"'{key}' is computed, so a test deal cannot set it",
                               document.locate_key(path + (key,)),
                               f"set what it is computed from: {', '.join(sources)}" if sources else None))
                continue
            typed = self.test_value(field, value, document.locate(path + (key,)))
            if field.type == T.STAGE and field.name == "stage":
                stage = typed
        for field in fields.fields.values():
            if field.required and field.default is None and field.compute is None and deal.get(field.name) is None:
                self.add(error("DG317", f"test deal has no '{field.name}', a required field",
                               document.locate(path), "a deal without it would be rejected, not scored"))
        return stage

    def test_value(self, field, value, location: Location):
        """The typed value a test deal gives ``field``, read as an export cell would be."""
        stages = self.stage_lookup or None
        try:
            return coerce(field.type, value, formats=field.formats, separator=field.separator, stages=stages)
        except ValueProblem as problem:
            hint = None
            if field.type == T.STAGE and isinstance(value, str) and self.pack.pipeline is not None:
                hint = did_you_mean(value, list(self.pack.pipeline.stage_ids))
            self.add(error("DG317", f"'{field.name}' in test deal: {problem}", location, hint))
            return None

    def check_expectations(self, case, pipeline: Pipeline, stage_id: str | None) -> None:
        expect, document = case.expect, case.document
        path = case.path + ("expect",)
        stage = pipeline.stage(stage_id) if stage_id else None
        criteria = {c.id: s for s in pipeline.stages for c in s.exit}
        rules = {r.id: r for r in pipeline.qualify_out}
        for i, criterion_id in enumerate(expect.get("failed") or ()):
            at = document.locate(path + ("failed", i))
            if criterion_id not in criteria:
                self.add(error("DG318", f"expected failure of unknown exit criterion '{criterion_id}'", at,
                               did_you_mean(criterion_id, list(criteria)) or f"criteria are: {', '.join(criteria)}"))
            elif stage is not None and criteria[criterion_id].id != stage.id:
                own = [c.id for c in stage.exit] if stage.is_open else []
                self.add(error("DG319", f"criterion '{criterion_id}' belongs to stage '{criteria[criterion_id].id}', "
                                        f"but the deal is at '{stage.id}': it can never be reported as failed",
                               at, f"criteria of '{stage.id}': {', '.join(own)}" if own
                               else f"'{stage.id}' has no exit criteria to fail"))
        for i, rule_id in enumerate(expect.get("qualify_out") or ()):
            at = document.locate(path + ("qualify_out", i))
            if rule_id not in rules:
                self.add(error("DG318", f"expected unknown qualify-out rule '{rule_id}' to fire", at,
                               did_you_mean(rule_id, list(rules)) or f"rules are: {', '.join(rules)}"))
            elif stage is not None and not pipeline.rule_applies(rules[rule_id], stage.id):
                self.add(error("DG319", f"rule '{rule_id}' cannot fire for a deal at '{stage.id}'", at,
                               "closed deals are never qualified out" if not stage.is_open
                               else f"it applies from '{rules[rule_id].from_stage}' on"))
        self.check_expected_stage(expect, document, path, pipeline)
        if stage is not None:
            self.check_expected_outcome(expect, document, path, stage)

    def check_expected_stage(self, expect: dict, document, path: tuple, pipeline: Pipeline) -> None:
        evidence = expect.get("evidence_stage")
        if evidence is None:
            return
        at = document.locate(path + ("evidence_stage",))
        found = pipeline.stage(evidence)
        if found is None:
            self.add(error("DG318", f"expected evidence stage '{evidence}' is not a stage", at,
                           did_you_mean(evidence, list(pipeline.stage_ids))
                           or f"stages are: {', '.join(pipeline.stage_ids)}"))
        elif not found.is_open:
            self.add(error("DG319", f"evidence stage '{evidence}' is closed; evidence is only ever an open stage", at))

    def check_expected_outcome(self, expect: dict, document, path: tuple, stage) -> None:
        """What the deal's stage alone decides: closed stages have their verdict; the probability is the stage's."""
        verdict = expect.get("verdict")
        decided = "won" if stage.won else "lost" if stage.lost else None
        if verdict is not None and verdict != decided and (decided or verdict in ("won", "lost")):
            reason = f"'{stage.id}' is closed, so the verdict is '{decided}'" if decided \
                else f"'{stage.id}' is an open stage, so the verdict cannot be '{verdict}'"
            self.add(error("DG319", f"expected verdict '{verdict}' cannot happen: {reason}",
                           document.locate(path + ("verdict",))))
        probability = expect.get("probability")
        if probability is not None and Decimal(probability) != stage.probability:
            self.add(error("DG319", f"expected probability {probability} cannot happen: stage '{stage.id}' has "
                                    f"probability {stage.probability}", document.locate(path + ("probability",))))

    # usage

    def check_unused(self, fields: FieldSet) -> None:
        for field in fields.fields.values():
            if field.name not in self.used_fields and field.name not in SPECIAL_FIELDS:
                self.add(warning("DG310", f"field '{field.name}' is declared but no rule uses it", field.location,
                                 "remove it, or use it in a criterion, qualify-out rule or plan"))


def _date_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot read dates, or None. Round-trips a date with a day, month and year all distinct."""
    sample = dt.date(2031, 11, 23)
    try:
        written = sample.strftime(fmt)
        read = dt.datetime.strptime(written, fmt).date()
    except ValueError as problem:
        return f"is not a valid strptime format ({problem})"
    if read != sample:
        return "does not hold a full date (it needs a year, a month and a day)"
    return None


def _span(lower, upper) -> str:
    return f"{lower}–{upper}" if upper is not None else f"{lower} and above"
