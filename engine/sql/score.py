"""The scoring query: what ``RuleSet.score`` computes for one deal, for every row at once.

``scoring_query`` takes a relation of *typed* deals (one column per stored
field, named by ``field_column``, plus ``line``) and returns a SELECT of one
row per deal, in ``line`` order, with the columns of ``SCORED_COLUMNS``:
the stage, the verdict, the failed exit criteria, the qualify-out rules that
fired (errors and warnings apart), the probability, the amount and weighted
amount, the evidence stage, whether the deal is over-staged, and, per failed
criterion whose result was unknown, the null fields it needed.

It mirrors ``engine.compile._ScoreGenerator`` rule for rule; the differential
tests hold the two to identical results. Computed fields become one CTE each,
in declaration order (a computed field may only use earlier ones), so the
query grows linearly with the pack.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from .expr import ExpressionCompiler, decimal_literal

SCORED_COLUMNS = (
    "line",
    "id",
    "stage",
    "verdict",
    "failed",
    "qualify_out",
    "warnings",
    "probability",
    "amount",
    "weighted_amount",
    "evidence_stage",
    "over_staged",
)  # then missing_<n>, display_name, display_owner,
# and category when the pack declares forecast categories


def field_column(name: str) -> exp.Identifier:
    """The column of a deal field inside the query (prefixed: a field may be called 'line' or 'verdict')."""
    return exp.to_identifier(f"f_{name}", quoted=True)


def _column(name: str) -> exp.Column:
    return exp.column(field_column(name))


def joined(items: Sequence[tuple[exp.Expr, str]], separator: str) -> exp.Expr:
    """The texts whose condition holds, in order, joined by ``separator`` ('' when none).

    Text, not an array: ids are identifiers (no separator in them), and building and filtering an
    array per row costs DuckDB a lambda call each time.
    """
    if not items:
        return exp.Literal.string("")
    elements = [exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.string(text))]) for condition, text in items]
    # CONCAT_WS skips NULLs in DuckDB and Spark alike (sqlglot's ConcatWs would make any NULL fatal)
    return exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(separator), *elements])


def computed_ctes(fields, compiler, checked, typed: exp.Expr) -> list:
    """(name, SELECT) CTEs: ``deals`` over ``typed``, then one per computed field, in declaration order.

    A computed field may only use earlier ones, so each CTE adds one column to the one before.
    """
    ctes = [("deals", exp.select("*", copy=False).from_(typed, copy=False))]
    for k, field in enumerate(f for f in fields if f.compute is not None):
        value = compiler.compile(checked(field.compute).ir)
        ctes.append(
            (
                f"computed_{k}",
                exp.select("*", exp.alias_(value, field_column(field.name), copy=False)).from_(ctes[-1][0], copy=False),
            )
        )
    return ctes


class ScoringQuery:
    """Builds the query for one compiled RuleSet (``engine.compile.RuleSet``)."""

    def __init__(self, ruleset, as_of: exp.Expr):
        self.ruleset = ruleset
        self.pipeline = ruleset.pipeline
        self.fields = ruleset.fields.fields
        self.stage_ids = self.pipeline.stage_ids
        self.positions = {stage: i for i, stage in enumerate(self.stage_ids)}
        self.compiler = ExpressionCompiler(_column, as_of, self.positions)

    def checked(self, expression):
        return self.ruleset.checked(expression)

    # the stage of a deal, as the position the generated Python calls 'si'

    def used_fields(self) -> set:
        """Stored fields whose values the query reads: the rules' (computed fields expanded) and the output's."""
        used = {"id", "stage", "amount", "name", "owner"}
        expressions = [f.compute for f in self.fields.values() if f.compute is not None]
        expressions += [c.when for _, c in self.ruleset.criteria] + [r.when for r in self.ruleset.rules]
        expressions += [c.when for c in self.pipeline.categories if c.when is not None]
        for expression in expressions:
            used |= self.checked(expression).fields
        for needed in self.ruleset.needed_inputs.values():
            used |= set(needed)
        return {name for name in used if name in self.fields}

    def stage_index(self) -> exp.Expr:
        if "stage" not in self.fields:
            return exp.Literal.number(-1)
        stage = _column("stage")
        ifs = [
            exp.If(this=exp.EQ(this=stage.copy(), expression=exp.Literal.string(s)), true=exp.Literal.number(i))
            for i, s in enumerate(self.stage_ids)
        ]
        return exp.Case(ifs=ifs, default=exp.Literal.number(-1))

    def stage_in(self, indexes) -> exp.Expr:
        indexes = list(indexes)
        if not indexes:
            return exp.false()
        return exp.In(this=exp.column("si"), expressions=[exp.Literal.number(i) for i in indexes])

    # the query

    def build(self, typed: exp.Expr, ordered: bool = True, carry: tuple = ()) -> exp.Select:
        """The scoring SELECT over ``typed`` (a table or subquery of typed deals), in ``line`` order if ``ordered``.

        ``carry`` names columns of ``typed`` passed through unchanged (a runner's bookkeeping).
        """
        ctes = computed_ctes(self.fields.values(), self.compiler, self.checked, typed)
        ctes.append(
            (
                "staged",
                exp.select("*", exp.alias_(self.stage_index(), "si", copy=False), *self.value_columns()).from_(
                    ctes[-1][0], copy=False
                ),
            )
        )
        ctes.append(("results", exp.select("*", *self.rule_columns(), copy=False).from_("staged", copy=False)))
        carried = [exp.column(name) for name in carry]
        ctes.append(("outcome", exp.select(*self.outcome_columns(), *carried, copy=False).from_("results", copy=False)))
        final = exp.select(*self.final_columns(), *[c.copy() for c in carried], copy=False).from_("outcome", copy=False)
        if ordered:
            final = final.order_by(exp.column("line"), copy=False)
        for name, query in ctes:
            final = final.with_(name, as_=query, copy=False)
        return final

    def value_columns(self) -> list:
        """v<i>: the value of criterion i (True, False or NULL), computed once for r<i> and u<i>."""
        return [
            exp.alias_(self.compiler.compile(self.checked(criterion.when).ir), f"v{i}", copy=False)
            for i, (_, criterion) in enumerate(self.ruleset.criteria)
        ]

    def rule_columns(self) -> list:
        """r<i>: criterion i is True; u<i>: its result is unknown; q<i>: qualify-out rule i fires."""
        columns = []
        for i, (_, criterion) in enumerate(self.ruleset.criteria):
            value = exp.column(f"v{i}")
            nullable = self.checked(criterion.when).ir.nullable
            columns.append(
                exp.alias_(
                    exp.Coalesce(this=value, expressions=[exp.false()]) if nullable else value, f"r{i}", copy=False
                )
            )
            unknown = exp.Is(this=value.copy(), expression=exp.Null()) if nullable else exp.false()
            columns.append(exp.alias_(unknown, f"u{i}", copy=False))
        open_stages = [i for i, s in enumerate(self.pipeline.stages) if s.is_open]
        for i, rule in enumerate(self.ruleset.rules):
            applies = self.stage_in(open_stages)
            if rule.from_stage is not None:
                applies = exp.and_(
                    applies,
                    exp.GTE(this=exp.column("si"), expression=exp.Literal.number(self.positions[rule.from_stage])),
                    copy=False,
                )
            fires = exp.and_(applies, self.compiler.condition(self.checked(rule.when).ir), copy=False)
            columns.append(exp.alias_(fires, f"q{i}", copy=False))
        for i, category in self.conditional_categories():
            condition = self.compiler.condition(self.checked(category.when).ir)
            columns.append(exp.alias_(condition, f"category_{i}", copy=False))
        return columns

    def conditional_categories(self) -> list:
        """(position, category) of the forecast categories with a 'when': category_<position> holds its condition
        (not c<i>: the SQL view names the export's raw cells so)."""
        return [(i, c) for i, c in enumerate(self.pipeline.categories) if c.when is not None]

    def outcome_columns(self) -> list:
        """Per deal: the ids that failed, fired and warned (';'-joined text, '' for none), evidence, missing."""
        stages = self.pipeline.stages
        failed, missing = [], []
        position = 0
        for index, stage in enumerate(stages):
            for k, criterion in enumerate(stage.exit):
                i = position + k
                if stage.is_open:
                    here = exp.EQ(this=exp.column("si"), expression=exp.Literal.number(index))
                    failed.append((exp.and_(here, exp.Not(this=exp.column(f"r{i}")), copy=False), criterion.id))
                    missing.append((i, criterion, here))
            position += len(stage.exit)
        fired = [(exp.column(f"q{i}"), r.id) for i, r in enumerate(self.ruleset.rules) if r.severity == "error"]
        warned = [(exp.column(f"q{i}"), r.id) for i, r in enumerate(self.ruleset.rules) if r.severity != "error"]
        columns = [
            exp.column("line"),
            exp.alias_(_column("id") if "id" in self.fields else exp.Null(), "id", copy=False),
            exp.alias_(_column("stage") if "stage" in self.fields else exp.Null(), "stage", copy=False),
            exp.column("si"),
            exp.alias_(joined(failed, ";"), "failed", copy=False),
            exp.alias_(joined(fired, ";"), "qualify_out", copy=False),
            exp.alias_(joined(warned, ";"), "warnings", copy=False),
            exp.alias_(_column("amount") if "amount" in self.fields else exp.Null(), "amount", copy=False),
            exp.alias_(self.evidence(), "ev", copy=False),
        ]
        for n, (i, criterion, here) in enumerate(missing):
            columns.append(exp.alias_(self.missing_fields(i, criterion, here), f"missing_{n}", copy=False))
        columns += [exp.column(f"category_{i}") for i, _ in self.conditional_categories()]
        for name in ("name", "owner"):
            if name in self.fields:
                columns.append(exp.alias_(_column(name), f"display_{name}", copy=False))
        return columns

    def missing_fields(self, i: int, criterion, here) -> exp.Expr:
        """For a criterion of the deal's stage whose result is unknown: its null needed fields ('a,b'), else NULL."""
        needed = self.ruleset.needed_inputs[criterion.id]
        names = joined([(exp.Is(this=_column(f), expression=exp.Null()), f) for f in needed], ",")
        return exp.Case(ifs=[exp.If(this=exp.and_(here, exp.column(f"u{i}"), copy=False), true=names)])

    def evidence(self) -> exp.Expr:
        """The pipeline position of the furthest open stage whose exit criteria, and those of every
        open stage before it, all hold; -1 when there is none."""
        reached = []  # (condition, stage position) from the first open stage on
        conditions: list = []
        position = 0
        for index, stage in enumerate(self.pipeline.stages):
            count = len(stage.exit)
            if stage.is_open:
                conditions.extend(exp.column(f"r{position + k}") for k in range(count))
                test = exp.and_(*[c.copy() for c in conditions], copy=False) if conditions else exp.true()
                reached.append((test, index))
            position += count
        ifs = [exp.If(this=test, true=exp.Literal.number(index)) for test, index in reversed(reached)]
        return exp.Case(ifs=ifs, default=exp.Literal.number(-1))

    def final_columns(self) -> list:
        stages = self.pipeline.stages
        won = [i for i, s in enumerate(stages) if s.won]
        lost = [i for i, s in enumerate(stages) if s.lost]

        def some(column):
            return exp.NEQ(this=exp.column(column), expression=exp.Literal.string(""))

        verdict = exp.Case(
            ifs=[
                exp.If(this=self.stage_in(won), true=exp.Literal.string("won")),
                exp.If(this=self.stage_in(lost), true=exp.Literal.string("lost")),
                exp.If(this=some("qualify_out"), true=exp.Literal.string("disqualified")),
                exp.If(this=some("failed"), true=exp.Literal.string("blocked")),
            ],
            default=exp.Literal.string("ready"),
        )
        probability = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=exp.column("si"), expression=exp.Literal.number(i)),
                    true=decimal_literal(s.probability),
                )
                for i, s in enumerate(stages)
            ]
        )
        weighted = exp.Mul(this=exp.column("amount"), expression=probability.copy())
        evidence = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=exp.column("ev"), expression=exp.Literal.number(i)), true=exp.Literal.string(s.id)
                )
                for i, s in enumerate(stages)
                if s.is_open
            ]
        )
        # over-staged: an open deal whose evidence stops short of the open stage before its own
        open_rank = {self.positions[s]: rank for s, rank in self.ruleset.open_positions.items()}
        rank_of = lambda column: exp.Case(  # noqa: E731
            ifs=[
                exp.If(
                    this=exp.EQ(this=exp.column(column), expression=exp.Literal.number(i)),
                    true=exp.Literal.number(rank),
                )
                for i, rank in open_rank.items()
            ],
            default=exp.Literal.number(-1),
        )
        over_staged = exp.and_(
            self.stage_in(list(open_rank)),
            exp.LT(this=rank_of("ev"), expression=exp.Sub(this=rank_of("si"), expression=exp.Literal.number(1))),
            copy=False,
        )
        columns = [
            exp.column("line"),
            exp.column("id"),
            exp.column("stage"),
            exp.alias_(verdict, "verdict", copy=False),
            exp.column("failed"),
            exp.column("qualify_out"),
            exp.column("warnings"),
            exp.alias_(probability, "probability", copy=False),
            exp.column("amount"),
            exp.alias_(weighted, "weighted_amount", copy=False),
            exp.alias_(evidence, "evidence_stage", copy=False),
            exp.alias_(over_staged, "over_staged", copy=False),
        ]
        columns += [exp.column(f"missing_{n}") for n in range(len(self.missing_indexes()))]
        for name in ("name", "owner"):
            columns.append(
                exp.column(f"display_{name}")
                if name in self.fields
                else exp.alias_(exp.cast(exp.Null(), exp.DataType.build("VARCHAR")), f"display_{name}", copy=False)
            )
        if self.pipeline.categories:  # only then: the query of a pack without categories stays as it was
            columns.append(exp.alias_(self.category(verdict), "category", copy=False))
        return columns

    def category(self, verdict: exp.Expr) -> exp.Expr:
        """The first forecast category whose stages, verdicts and condition (category_<i>) all hold, else NULL,
        as engine.compile._ScoreGenerator.category decides it."""
        ifs: list[exp.Expr] = []
        default: exp.Expr | None = None  # no ELSE: NULL when no category matches
        for i, category in enumerate(self.pipeline.categories):
            if category.catch_all:
                default = exp.Literal.string(category.id)
                break
            tests = []
            if category.stages:
                tests.append(self.stage_in(sorted({self.positions[s] for s in category.stages})))
            if category.verdicts:
                verdicts = [exp.Literal.string(v) for v in category.verdicts]
                tests.append(exp.In(this=verdict.copy(), expressions=verdicts))
            if category.when is not None:
                tests.append(exp.column(f"category_{i}"))
            ifs.append(exp.If(this=exp.and_(*tests, copy=False), true=exp.Literal.string(category.id)))
        if not ifs:  # the first category takes every deal
            assert default is not None, "only a catch-all category stops the loop before any condition"
            return default
        return exp.Case(ifs=ifs, default=default)

    def missing_indexes(self) -> list[int]:
        """Criterion positions (in ``ruleset.criteria``) of open stages: the ones a deal can fail."""
        indexes: list[int] = []
        position = 0
        for stage in self.pipeline.stages:
            if stage.is_open:
                indexes.extend(range(position, position + len(stage.exit)))
            position += len(stage.exit)
        return indexes

    def missing_criteria(self) -> list[str]:
        """The criterion id of each ``missing_<n>`` column, in order."""
        return [self.ruleset.criteria[i][1].id for i in self.missing_indexes()]


def scoring_query(ruleset, typed: exp.Expr, as_of: exp.Expr) -> exp.Select:
    return ScoringQuery(ruleset, as_of).build(typed)
