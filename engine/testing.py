"""Running the rule tests ops write beside their rules (``kind: tests``), and their coverage.

A case is a deal (or deals, reps and a period) and what the rules must say
about it. Running a case gives a CaseResult: passed, or the list of
expected-vs-actual mismatches; a case that cannot even be built (a value of
the wrong type) is an error with its location. Coverage counts, for every
exit criterion, qualify-out rule, tier, multiplier, bonus and clawback rule, the cases
that exercised it, and for criteria and qualify-out rules whether both
outcomes were seen.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from . import progress
from .compile import RuleSet
from .diagnostics import Location
from .model import TestCase
from .payout.compute import PayoutProgram, compile_payout
from .payout.reps import reps_from_records
from .values import ValueProblem

if TYPE_CHECKING:  # imported when a SQL engine runs the cases
    from .sql.records import SqlRecords


@attrs.frozen
class Mismatch:
    key: str  # what was checked: verdict, failed, payouts.alice, lines.bob[2].amount ...
    expected: Any
    actual: Any


@attrs.frozen
class CaseResult:
    case: TestCase
    mismatches: tuple = ()
    error: str | None = None  # the case could not run: a bad value, an unknown plan...
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    @property
    def location(self) -> Location | None:
        return self.case.location


@attrs.define
class CoverageItem:
    kind: str  # exit, qualify_out, tier, multiplier, bonus, clawback
    id: str
    owner: str  # the stage of an exit criterion, 'pipeline', or the plan id
    cases: int = 0
    outcomes: set = attrs.field(factory=set)  # criteria: pass/fail; rules: fired/quiet
    location: Location | None = None

    @property
    def covered(self) -> bool:
        if self.kind == "exit":
            return {"pass", "fail"} <= self.outcomes
        if self.kind == "qualify_out":
            return {"fired", "quiet"} <= self.outcomes
        return self.cases > 0


@attrs.define
class TestRun:
    results: list = attrs.field(factory=list)
    coverage: dict = attrs.field(factory=dict)  # (kind, owner, id) -> CoverageItem

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.passed]

    def coverage_percent(self) -> Decimal:
        items = list(self.coverage.values())
        if not items:
            return Decimal(100)
        covered = sum(1 for item in items if item.covered)
        return (Decimal(covered) * 100 / len(items)).quantize(Decimal("0.1"))


class CaseError(Exception):
    """A case that cannot be run as written."""


def build_deal(ruleset: RuleSet, values: dict, where: str = "deal") -> dict:
    """A typed deal record from a test case's mapping, defaults filled in like the reader does."""
    try:
        return ruleset.record(values)
    except ValueProblem as problem:
        raise CaseError(f"{where}: {problem}") from None


def case_as_of(case: TestCase, default: dt.date) -> dt.date:
    if case.as_of is None:
        return default
    try:
        return dt.date.fromisoformat(str(case.as_of))
    except ValueError:
        raise CaseError(f"as_of '{case.as_of}' is not a date (YYYY-MM-DD)") from None


class TestRunner:
    """Runs every case of a pack against its compiled RuleSet (and its plans, for payout cases)."""

    def __init__(self, ruleset: RuleSet, as_of: dt.date, engine: str = "python", master: str | None = None):
        """``engine``: python, or duckdb or spark (at ``master``) to score and credit every case with the
        compiled SQL instead.

        Coverage is the cases' (which rules they exercise), measured the same on either engine.
        """
        self.ruleset = ruleset
        self.as_of = as_of
        self.run = TestRun(coverage=_coverage_items(ruleset))
        self._payout: PayoutProgram | None = None
        self._sql: SqlRecords | None = None  # scores and credits the cases on a SQL engine
        if engine == "duckdb":
            from .sql.records import DuckDBRecords

            self._sql = DuckDBRecords(ruleset)
        elif engine == "spark":
            from .sql.records import SparkRecords

            self._sql = SparkRecords(ruleset, master)

    def run_all(self) -> TestRun:
        meter = progress.current()  # cases done, for a progress display (engine.progress)
        try:
            for case in self.ruleset.pack.tests:
                start = time.perf_counter()
                try:
                    mismatches = self.run_case(case)
                    result = CaseResult(case, tuple(mismatches))
                except CaseError as problem:
                    result = CaseResult(case, (), str(problem))
                self.run.results.append(attrs.evolve(result, seconds=time.perf_counter() - start))
                if meter is not None:
                    meter.advance()
        finally:
            if self._sql is not None:
                self._sql.close()
        return self.run

    def _score(self, deal: dict, as_of: dt.date):
        if self._sql is None:
            return self.ruleset.score(deal, as_of)
        from .sql.records import RecordsError

        try:
            return self._sql.score([deal], as_of)[0]
        except RecordsError as problem:
            raise CaseError(f"deal: {problem}") from None

    def run_case(self, case: TestCase) -> list[Mismatch]:
        as_of = case_as_of(case, self.as_of)
        if case.deal is not None:
            return self.run_deal_case(case, as_of)
        return self.run_payout_case(case, as_of)

    # deal cases

    def run_deal_case(self, case: TestCase, as_of: dt.date) -> list[Mismatch]:
        assert case.deal is not None, "a deal case"
        deal = build_deal(self.ruleset, case.deal)
        if deal.get("stage") is None:
            raise CaseError("deal: a test deal needs a stage")
        result = self._score(deal, as_of)
        self.record_pipeline_coverage(deal, result, as_of, "evidence_stage" in case.expect)
        actual = {
            "verdict": result.verdict,
            "failed": sorted(result.failed),
            "qualify_out": sorted(result.qualify_out + result.warnings),
            "evidence_stage": result.evidence_stage,
            "category": result.category,
            "probability": result.probability,
            "weighted_amount": result.weighted_amount,
        }
        mismatches = []
        for key, expected in case.expect.items():
            if key not in actual:
                raise CaseError(f"expect.{key} applies to payout cases (deals, reps, period), not to a deal")
            got = actual[key]
            want = sorted(expected) if isinstance(expected, list) else expected
            if isinstance(got, Decimal) and want is not None:
                equal = got == Decimal(str(want))
            else:
                equal = got == want
            if not equal:
                mismatches.append(Mismatch(key, want, got))
        return mismatches

    def record_pipeline_coverage(self, deal, result, as_of, checks_evidence: bool) -> None:
        raw = self.ruleset.results(deal, as_of)
        stage = self.ruleset.pipeline.stage(result.stage)
        for (stage_id, criterion), value in zip(self.ruleset.criteria, raw):
            if stage_id == result.stage or (checks_evidence and stage is not None and stage.is_open):
                item = self.run.coverage[("exit", stage_id, criterion.id)]
                item.cases += 1
                item.outcomes.add("pass" if value is True else "fail")
        for rule, value in zip(self.ruleset.rules, raw[len(self.ruleset.criteria) :]):
            if self.ruleset.pipeline.rule_applies(rule, result.stage):
                item = self.run.coverage[("qualify_out", "pipeline", rule.id)]
                item.cases += 1
                item.outcomes.add("fired" if value is True else "quiet")

    # payout cases

    def run_payout_case(self, case: TestCase, as_of: dt.date) -> list[Mismatch]:
        if self._payout is None:
            self._payout = compile_payout(self.ruleset)
        deals = [build_deal(self.ruleset, d, f"deals[{i}]") for i, d in enumerate(case.deals)]
        reps = reps_from_records(case.reps, self._payout.plans, self.ruleset.fields.date_formats)
        if not reps.ok:
            raise CaseError("reps: " + "; ".join(d.message for d in reps.diagnostics if d.is_error))
        try:
            if self._sql is None:
                result = self._payout.compute(deals, reps.reps, case.period, as_of)
            else:
                result = self._sql.compute_payout(self._payout, deals, reps.reps, case.period, as_of)
        except ValueError as problem:
            raise CaseError(str(problem)) from None
        errors = [d for d in result.diagnostics if d.is_error]
        if errors:
            raise CaseError("; ".join(d.message for d in errors))
        self.record_payout_coverage(result.statements)
        return _compare_statements(case.expect, result.statements)

    def record_payout_coverage(self, statements) -> None:
        seen = set()
        for statement in statements:
            for line in statement.lines:
                for key in _coverage_keys(statement.plan, line):
                    if key in self.run.coverage:
                        seen.add(key)
            for credited in statement.credits:
                seen.update(("multiplier", statement.plan, m) for m in credited.multipliers)
        for key in seen:
            self.run.coverage[key].cases += 1


def _coverage_keys(plan: str, line) -> list:
    keys = []
    if line.tier:
        keys.append(("tier", plan, line.tier))
    if line.kind == "bonus":
        keys.append(("bonus", plan, line.rule))
    if line.kind == "clawback":
        keys.append(("clawback", plan, line.rule))
    return keys


def tier_name(tier, index: int) -> str:
    return tier.label or f"tier {index + 1}"


def _coverage_items(ruleset: RuleSet) -> dict:
    items = {}
    for stage_id, criterion in ruleset.criteria:
        items[("exit", stage_id, criterion.id)] = CoverageItem(
            "exit", criterion.id, stage_id, location=criterion.location
        )
    for rule in ruleset.rules:
        items[("qualify_out", "pipeline", rule.id)] = CoverageItem(
            "qualify_out", rule.id, "pipeline", location=rule.location
        )
    for plan in ruleset.pack.plans:
        for i, tier in enumerate(plan.commission.tiers):
            name = tier_name(tier, i)
            items[("tier", plan.id, name)] = CoverageItem("tier", name, plan.id, location=tier.location)
        for multiplier in plan.commission.multipliers:
            items[("multiplier", plan.id, multiplier.id)] = CoverageItem("multiplier", multiplier.id, plan.id)
        for bonus in plan.bonuses:
            items[("bonus", plan.id, bonus.id)] = CoverageItem("bonus", bonus.id, plan.id, location=bonus.location)
        if plan.clawback:
            items[("clawback", plan.id, plan.clawback.id)] = CoverageItem(
                "clawback", plan.clawback.id, plan.id, location=plan.clawback.location
            )
    return items


def _money(value):
    """An expected amount as a Decimal; anything else stays as written (it will then not match)."""
    try:
        return Decimal(str(value))
    except ArithmeticError:  # decimal.InvalidOperation: 'abc' is no amount
        return value


def _compare_statements(expect: dict, statements) -> list[Mismatch]:
    misplaced = [k for k in expect if k not in ("payouts", "lines")]
    if misplaced:
        raise CaseError(f"expect.{misplaced[0]} applies to deal cases, not to payout cases")
    totals: dict[str, Decimal] = {}
    lines: dict[str, list] = {}
    for statement in statements:
        totals[statement.rep] = totals.get(statement.rep, Decimal(0)) + statement.total
        lines.setdefault(statement.rep, []).extend(statement.lines)
    mismatches = []
    for rep, expected in (expect.get("payouts") or {}).items():
        actual = totals.get(rep)
        if actual is None or actual != _money(expected):
            mismatches.append(Mismatch(f"payouts.{rep}", _money(expected), actual))
    for rep, expected_lines in (expect.get("lines") or {}).items():
        actual_lines = lines.get(rep, [])
        if len(actual_lines) != len(expected_lines):
            mismatches.append(
                Mismatch(
                    f"lines.{rep}",
                    f"{len(expected_lines)} lines",
                    f"{len(actual_lines)} lines: " + ", ".join(f"{line.kind} {line.amount}" for line in actual_lines),
                )
            )
            continue
        for i, (want, got) in enumerate(zip(expected_lines, actual_lines)):
            for key, value in want.items():
                have = getattr(got, key, None)
                same = (have == _money(value)) if isinstance(have, Decimal) and value is not None else have == value
                if not same:
                    mismatches.append(Mismatch(f"lines.{rep}[{i}].{key}", value, have))
    return mismatches
