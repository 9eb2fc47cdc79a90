"""Stage 4, compile: an analysed pack becomes a RuleSet of generated Python.

Like Jinja2, we generate Python source once and ``exec`` it; scoring a deal is
then a single call into straight-line code that reads the fields it needs,
evaluates every exit criterion and qualify-out rule, and works out the
verdict. The generated source is kept on the RuleSet (``ruleset.source``) so
that anyone can read what a pack compiles to.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import attrs

from . import expr as E
from .generated import Origin, constants_comment, load
from .model import Criterion, Expr, Field, FieldSet, Pipeline, QualifyOut
from .results import BLOCKED, DISQUALIFIED, LOST, READY, WON, CriterionOutcome, DealResult
from .semantics import Analysis


@attrs.frozen
class RuleSet:
    """A compiled pack. Immutable; ``score`` is safe to call from many threads."""

    analysis: Analysis = attrs.field(repr=False)
    source: str = attrs.field(repr=False)
    criteria: tuple  # (stage id, Criterion) in evaluation order
    rules: tuple  # QualifyOut in evaluation order
    needed_inputs: dict = attrs.field(repr=False)  # rule id -> base fields whose null makes it unknown
    _score: Callable[[dict, dt.date], DealResult] = attrs.field(repr=False)
    _computed: Callable[[dict, dt.date], dict] = attrs.field(repr=False)
    _results: Callable[[dict, dt.date], tuple] = attrs.field(repr=False)
    # The name the source is compiled (and registered in linecache) under, and which rule each of
    # its lines evaluates (1-based): what a traceback or a profile of the generated code points back to.
    filename: str = attrs.field(default="", repr=False)
    origins: dict = attrs.field(factory=dict, repr=False)

    @property
    def pack(self):
        return self.analysis.pack

    @functools.cached_property
    def open_positions(self) -> dict:
        """Open stage id -> its position among the open stages (closed stages are absent)."""
        return {s.id: i for i, s in enumerate(s for s in self.pipeline.stages if s.is_open)}

    @functools.cached_property
    def nullable_criteria(self) -> frozenset:
        """Ids of the exit criteria whose value can be unknown (null), as the type checker proves.

        Only these can fail as "missing"; for a pack with none, no deal needs its rules re-run
        to say which fields were missing.
        """
        return frozenset(c.id for _, c in self.criteria if self.checked(c.when).nullable)

    @property
    def fields(self) -> FieldSet:
        return self.analysis.fields

    @property
    def pipeline(self) -> Pipeline:
        return self.analysis.pipeline

    def score(self, deal: dict, as_of: dt.date) -> DealResult:
        """Score one deal record: field name -> typed value, defaults applied.

        Records from ExportReader are such; build others with ``record``. Scoring trusts
        its input (that is what makes it fast): a raw dict may give wrong verdicts.
        """
        return self._score(deal, as_of)

    @property
    def score_function(self):
        """The generated ``score(deal, as_of)`` itself: loops over millions of deals call it without
        the method call in between."""
        return self._score

    @functools.cached_property
    def record(self) -> Callable[[dict], dict]:
        """``record(values)``: a deal record from plain values (YAML/JSON natives or export text), as
        the reader makes them.

        Unknown keys, unreadable values and missing required fields raise ValueProblem naming the
        field. The converter is generated on first use (engine.read.record), in C where it can be
        (engine.read.cells), and is this attribute itself: a call costs no method in between.
        """
        from .read.record import compile_record

        analysis = self.analysis
        return compile_record(analysis.fields.fields, analysis.defaults, analysis.stage_lookup)[0]

    def with_computed(self, deal: dict, as_of: dt.date) -> dict:
        """The deal plus the values of its computed fields (for explaining, not for scoring)."""
        values = dict(deal)
        values.update(self._computed(deal, as_of))
        values["as_of"] = as_of
        return values

    def results(self, deal: dict, as_of: dt.date) -> tuple:
        """The raw result of every exit criterion, then every qualify-out rule: True, False or None.

        Scoring does not keep these (it would cost every deal a tuple); explaining recomputes them.
        """
        return self._results(deal, as_of)

    def outcomes(self, deal: dict, result: DealResult, as_of: dt.date) -> list[CriterionOutcome]:
        """Every exit criterion of the deal's stage, and every qualify-out rule, with its status."""
        outcomes = []
        results = self.results(deal, as_of)
        for (stage_id, criterion), value in zip(self.criteria, results):
            if stage_id != result.stage:
                continue
            outcomes.append(self._outcome(deal, criterion, stage_id, value, "pass", "fail"))
        rule_results = results[len(self.criteria) :]
        for rule, value in zip(self.rules, rule_results):
            outcomes.append(self._outcome(deal, rule, None, value, "fired", "quiet"))
        return outcomes

    def _outcome(self, deal, rule, stage_id, value, yes, no) -> CriterionOutcome:
        if value is True:
            return CriterionOutcome(rule.id, stage_id, yes, (), rule.why)
        if value is False:
            return CriterionOutcome(rule.id, stage_id, no, (), rule.why)
        # Unknown: a value it needed was null. For a criterion that is a failure ("missing");
        # a qualify-out rule that cannot be decided does not fire.
        missing = tuple(f for f in self.needed_inputs[rule.id] if deal.get(f) is None)
        return CriterionOutcome(rule.id, stage_id, "missing" if yes == "pass" else "unknown", missing, rule.why)

    def checked(self, expr: Expr) -> E.CheckedExpr:
        return self.analysis.checked[expr.key]


def compile_ruleset(analysis: Analysis) -> RuleSet:
    generator = _ScoreGenerator(analysis)
    source = generator.source()
    namespace: dict[str, Any] = dict(E.RUNTIME)
    namespace.update(generator.names.constants)
    namespace["DealResult"] = DealResult
    namespace["new_tuple"] = tuple.__new__
    filename = load(source, namespace, f"ruleset {generator.pack_file}", generator.origins)
    return RuleSet(
        analysis,
        source,
        tuple(generator.criteria),
        tuple(generator.rules),
        generator.needed_inputs(),
        namespace["score"],
        namespace["computed"],
        namespace["results"],
        filename,
        generator.origins,
    )


class _ScoreGenerator:
    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.pipeline = analysis.pipeline
        self.fields = analysis.fields
        self.names = E.Namespace(self.pipeline.stage_ids)
        self.criteria: list[tuple[str, Criterion]] = [
            (stage.id, c) for stage in self.pipeline.stages for c in stage.exit
        ]
        self.rules: list[QualifyOut] = list(self.pipeline.qualify_out)
        self.lines: list[str] = []
        self.origins: dict[int, Origin] = {}  # 1-based line of the final source -> the rule it evaluates

    @property
    def pack_file(self) -> str:
        """The pipeline's file, naming the generated module (\"ruleset rules/pipeline.yaml\")."""
        location = self.pipeline.location
        return location.file if location is not None else "(pack)"

    def checked(self, expr: Expr) -> E.CheckedExpr:
        return self.analysis.checked[expr.key]

    def emit(self, line: str = "", depth: int = 1, origin: Origin | None = None) -> None:
        """Add a line; one that evaluates a rule says which, in a comment and in the line map."""
        if origin is not None:
            self.origins[len(self.lines) + 1] = origin
            line = f"{line}  # {origin.comment}"
        self.lines.append("    " * depth + line)

    def source(self) -> str:
        # Fields only qualify-out rules use are read inside their open-deals block: closed deals skip them.
        bound = self.prologue("score", [criterion.when for _, criterion in self.criteria])
        self.evaluate_criteria(condition=True)
        self.qualify_out(bound)
        self.evidence()
        self.verdict()
        self.category(bound)
        self.finish()
        self.computed_function()
        self.results_function()
        runtime = set(E.RUNTIME) | set(self.names.constants) | {"DealResult", "new_tuple"}
        body = _bind_globals("\n".join(self.lines) + "\n", runtime)
        header = constants_comment(f"The pack of {self.pack_file}, compiled by dealgate", self.names.constants)
        offset = header.count("\n")
        self.origins = {line + offset: origin for line, origin in self.origins.items()}
        return header + body

    def prologue(self, name: str, expressions) -> set:
        """``def name(d, as_of):`` reading the fields ``expressions`` use, and the stage's position."""
        self.emit(f"def {name}(d, as_of):", 0)
        self.emit("get = d.get")
        bound = self.read_fields(expressions)
        self.emit("v_stage = d['stage']" if "stage" in self.fields else "v_stage = None")
        self.emit("si = STAGE_INDEX.get(v_stage, -1)")
        return bound

    def results_function(self) -> None:
        """``results(d, as_of)``: the raw result of every rule, for explaining one deal."""
        self.emit("", 0)
        self.prologue("results", self.expressions())
        self.evaluate_criteria(condition=False)
        self.evaluate_rules()
        names = [f"r{i}" for i in range(len(self.criteria))] + [f"q{i}" for i in range(len(self.rules))]
        self.emit(f"return ({', '.join(names)}{',' if len(names) == 1 else ''})")

    def computed_function(self) -> None:
        """``computed(d, as_of)``: every computed field, for explain (scoring inlines what it uses)."""
        self.emit("", 0)
        self.emit("def computed(d, as_of):", 0)
        self.emit("get = d.get")
        computed = [f for f in self.fields.fields.values() if f.compute is not None]
        inputs: set[str] = set()
        for field in computed:
            inputs |= self.checked(field.compute).fields
        for field in self.fields.fields.values():
            if field.name in inputs and field.compute is None:
                self.emit(f"{E.variable_name(field.name)} = get({field.name!r})")
        for field in computed:
            code = E.generate(self.checked(field.compute), self.names)
            self.emit(f"{E.variable_name(field.name)} = {code}", origin=_computed_origin(field))
        pairs = ", ".join(f"{f.name!r}: {E.variable_name(f.name)}" for f in computed)
        self.emit(f"return {{{pairs}}}")

    def read_fields(self, expressions, depth: int = 1, already: set | None = None) -> set:
        """Emit the reads (and computations) of every field ``expressions`` use; return the names bound.

        ``already`` holds names bound earlier in the function, which are not read again.
        """
        already = already or set()
        used: set[str] = set()
        for expr in expressions:
            used |= self.checked(expr).fields
        computed = [f for f in self.fields.fields.values() if f.compute is not None]
        for field in reversed(computed):  # a computed field may only use earlier ones: reverse order closes it
            if field.name in used:
                used |= self.checked(field.compute).fields
        used -= already | {"as_of", "stage"}
        for field in self.fields.fields.values():
            if field.name in used and field.compute is None:
                self.emit(f"{E.variable_name(field.name)} = get({field.name!r})", depth)
        for field in computed:
            if field.name in used:
                code = E.generate(self.checked(field.compute), self.names)
                self.emit(f"{E.variable_name(field.name)} = {code}", depth, _computed_origin(field))
        return already | used

    def expressions(self):
        for _, criterion in self.criteria:
            yield criterion.when
        for rule in self.rules:
            yield rule.when

    def evaluate_criteria(self, condition: bool) -> None:
        """r<i> for every exit criterion: its value, or (``condition``) just whether it is True."""
        generate = E.generate_condition if condition else E.generate
        for i, (stage_id, criterion) in enumerate(self.criteria):
            code = generate(self.checked(criterion.when), self.names)
            self.emit(f"r{i} = {code}", origin=_criterion_origin(stage_id, criterion))

    def applies(self, rule: QualifyOut) -> str:
        """The stage test of a qualify-out rule: open deals, from its 'from' stage on."""
        stage_ids = self.pipeline.stage_ids
        open_stages = [i for i, s in enumerate(self.pipeline.stages) if s.is_open]
        condition = self.membership("si", open_stages)
        if rule.from_stage is not None:
            condition += f" and si >= {stage_ids.index(rule.from_stage)}"
        return condition

    def qualify_out(self, bound: set) -> None:
        """``fired`` and ``warned``: the ids of the rules whose condition is True, by severity.

        Qualify-out rules apply to open deals only, so they sit in one block behind that test,
        which also reads the fields only they use (``bound`` are those read already).
        """
        stage_ids = self.pipeline.stage_ids
        open_stages = [i for i, s in enumerate(self.pipeline.stages) if s.is_open]
        self.emit("fired = warned = ()")
        if not self.rules:
            return
        self.emit(f"if {self.membership('si', open_stages)}:")
        self.read_fields([rule.when for rule in self.rules], depth=2, already=bound)
        for name, severity_is_error in (("fired", True), ("warned", False)):
            rules = [r for r in self.rules if (r.severity == "error") == severity_is_error]
            if not rules:
                continue
            self.emit(f"{name} = []", 2)
            for rule in rules:
                test = E.generate_condition(self.checked(rule.when), self.names)
                if rule.from_stage is not None:
                    test = f"si >= {stage_ids.index(rule.from_stage)} and {test}"
                self.emit(f"if {test}:", 2, _rule_origin(rule))
                self.emit(f"{name}.append({rule.id!r})", 3)
            self.emit(f"{name} = tuple({name})", 2)

    def evaluate_rules(self) -> None:
        """q<i> for every qualify-out rule: its value where it applies, False elsewhere."""
        for i, rule in enumerate(self.rules):
            code = E.generate(self.checked(rule.when), self.names)
            self.emit(f"q{i} = ({code}) if {self.applies(rule)} else False", origin=_rule_origin(rule))

    def evidence(self) -> None:
        """Index of the furthest open stage whose exit criteria, and all earlier ones, hold."""
        position = 0
        depth = 1
        if not any(s.is_open and not s.exit for s in self.pipeline.stages[:1]):
            self.emit("ev = -1")
        for index, stage in enumerate(self.pipeline.stages):
            if not stage.is_open:
                continue
            count = len(stage.exit)
            checks = " and ".join(f"r{position + k}" for k in range(count)) or "True"
            position += count
            if checks != "True":
                self.emit(f"if {checks}:", depth)
                depth += 1
            self.emit(f"ev = {index}", depth)
        self.emit(f"evidence = {self.names.constant(self.pipeline.stage_ids)}[ev] if ev >= 0 else None")

    def verdict(self) -> None:
        stages = self.pipeline.stages
        probabilities = {s.id: s.probability for s in stages}
        self.emit(f"probability = {self.names.constant(_frozen(probabilities))}.get(v_stage)")
        amount = "get('amount')" if "amount" in self.fields else "None"
        self.emit(f"amount = {amount}")
        self.emit("weighted = None if amount is None or probability is None else amount * probability")
        position = 0
        self.emit("failed = ()")
        keyword = "if"
        for index, stage in enumerate(stages):
            count = len(stage.exit)
            if stage.is_open and count:
                self.emit(f"{keyword} si == {index}:")
                keyword = "elif"
                self.emit("failed = []", 2)
                for k, criterion in enumerate(stage.exit):
                    self.emit(f"if not r{position + k}:", 2)
                    self.emit(f"failed.append({criterion.id!r})", 3)
                self.emit("failed = tuple(failed)", 2)
            position += count
        won = [i for i, s in enumerate(stages) if s.won]
        lost = [i for i, s in enumerate(stages) if s.lost]
        self.emit(f"if {self.membership('si', won)}:")
        self.emit(f"verdict = {WON!r}", 2)
        self.emit(f"elif {self.membership('si', lost)}:")
        self.emit(f"verdict = {LOST!r}", 2)
        self.emit("elif fired:")
        self.emit(f"verdict = {DISQUALIFIED!r}", 2)
        self.emit("elif failed:")
        self.emit(f"verdict = {BLOCKED!r}", 2)
        self.emit("else:")
        self.emit(f"verdict = {READY!r}", 2)

    def category(self, bound: set) -> None:
        """``category``: the first forecast category whose stages, verdicts and condition all hold, else None.

        The fields only category conditions use are read here (those of qualify-out rules again: they
        were read inside the open-deals block only)."""
        categories = self.pipeline.categories
        self.emit("category = None")
        if not categories:
            return
        self.read_fields([c.when for c in categories if c.when is not None], already=bound)
        keyword = "if"
        stage_ids = self.pipeline.stage_ids
        for category in categories:
            tests = []
            if category.stages:
                tests.append(self.membership("si", sorted({stage_ids.index(s) for s in category.stages})))
            if category.verdicts:
                # a tuple, not a frozenset: the constants are listed in the module, and a set's order varies
                tests.append(f"verdict in {self.names.constant(tuple(category.verdicts))}")
            if category.when is not None:
                tests.append(f"({E.generate_condition(self.checked(category.when), self.names)})")
            origin = Origin(
                f"forecast category {category.id}",
                category.when.location if category.when is not None else category.location,
            )
            self.emit(
                f"{keyword} {' and '.join(tests)}:" if tests else ("else:" if keyword == "elif" else "if True:"),
                origin=origin,
            )
            self.emit(f"category = {category.id!r}", 2)
            keyword = "elif"
            if category.catch_all:
                break

    def finish(self) -> None:
        # tuple.__new__ directly: a NamedTuple's own __new__ is a Python-level call per deal
        self.emit(
            "return new_tuple(DealResult, (get('id'), v_stage, verdict, failed, fired, warned, probability, "
            "amount, weighted, evidence, category))"
        )

    def membership(self, variable: str, indexes: list) -> str:
        """``variable in indexes`` as the cheapest test: a range check when they are contiguous."""
        if not indexes:
            return "False"
        if indexes == list(range(indexes[0], indexes[-1] + 1)):
            if len(indexes) == 1:
                return f"{variable} == {indexes[0]}"
            return f"{indexes[0]} <= {variable} <= {indexes[-1]}"
        return f"{variable} in {self.names.constant(frozenset(indexes))}"

    def needed_inputs(self) -> dict:
        """Rule id -> the stored fields whose null can make it unknown (computed fields expanded)."""
        computed = {f.name: f for f in self.fields.fields.values() if f.compute is not None}

        # Memoised over the dependency graph: each computed field is expanded once, so fields
        # that each use the two before them cost linear time, not Fibonacci time. A computed
        # field only uses earlier ones (checked), so there is no cycle to guard against.
        @functools.cache
        def expand_field(name: str) -> tuple:
            return expand(self.checked(computed[name].compute).needed)

        def expand(names) -> tuple:
            result: list[str] = []
            for name in sorted(names):
                if name in computed:
                    result.extend(expand_field(name))
                elif name != "as_of":
                    result.append(name)
            return tuple(dict.fromkeys(result))

        needed = {}
        for _, criterion in self.criteria:
            needed[criterion.id] = tuple(expand(self.checked(criterion.when).needed))
        for rule in self.rules:
            needed[rule.id] = tuple(expand(self.checked(rule.when).needed))
        return needed


def _criterion_origin(stage_id: str, criterion: Criterion) -> Origin:
    return Origin(f"stage {stage_id}, criterion {criterion.id}", criterion.when.location)


def _rule_origin(rule: QualifyOut) -> Origin:
    return Origin(f"qualify-out rule {rule.id}", rule.when.location)


def _computed_origin(field: Field) -> Origin:
    assert field.compute is not None, "only a computed field has a computation to point to"
    return Origin(f"computed field {field.name}", field.compute.location)


def _bind_globals(source: str, global_names: set) -> str:
    """Make each generated function take the globals it uses as keyword defaults.

    A default is a local variable (one array access); a global is a dict lookup per use,
    and the hot path uses the constants table many times per deal. The names come from
    the syntax tree, so a string literal such as "K9 launch" is never taken for one.
    """
    tree = ast.parse(source)
    lines = source.split("\n")
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        used = sorted(
            {
                node.id
                for node in ast.walk(function)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in global_names
            }
        )
        if used:
            header = lines[function.lineno - 1]
            lines[function.lineno - 1] = header.replace("):", ", *, " + ", ".join(f"{n}={n}" for n in used) + "):", 1)
    return "\n".join(lines)


class _frozen(dict):
    """A dict usable as a Namespace constant key (constants are looked up by value)."""

    def __hash__(self) -> int:  # type: ignore[override]  # a dict is unhashable; this one hashes by its items
        return hash(tuple(sorted(self.items())))
