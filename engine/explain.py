"""Explaining one deal: every rule that applies to it, what it read, what it gave.

This answers "why is my deal blocked?" The explanation is data (attrs
values); engine.render.explain turns it into text or JSON.
"""

from __future__ import annotations

import datetime as dt

import attrs

from .compile import RuleSet
from .read import ExportReader, Reject
from .results import DealResult
from .score import is_over_staged


@attrs.frozen
class RuleTrace:
    id: str
    kind: str  # "exit" or "qualify_out"
    stage: str | None  # the stage an exit criterion belongs to
    expression: str
    values: dict  # field name -> the value the expression read
    status: str  # pass, fail, missing | fired, quiet, unknown, not applicable
    missing: tuple = ()
    why: str | None = None
    severity: str = "error"
    applies_from: str | None = None
    location: str | None = None


@attrs.frozen
class Explanation:
    line: int | None
    deal: dict
    result: DealResult | None  # None for a row that was rejected
    as_of: dt.date
    over_staged: bool
    current: tuple  # RuleTrace of the current stage's exit criteria
    earlier: tuple  # RuleTrace of the exit criteria of every other open stage, pipeline order
    qualify_out: tuple  # RuleTrace of every qualify-out rule
    reject: Reject | None = None  # when the deal's row could not be read


def find_deal(ruleset: RuleSet, source, deal_id: str, *, fmt=None, delimiter=None, records_path=None):
    """(line, deal) or (line, Reject) for the first record with this id, or None."""
    with ExportReader(ruleset.analysis, source, fmt=fmt, delimiter=delimiter, records_path=records_path) as reader:
        for line, record in reader.records():
            record_id = record.id if isinstance(record, Reject) else record.get("id")
            if record_id == deal_id:
                return line, record
    return None


def explain_deal(ruleset: RuleSet, found: tuple, as_of: dt.date) -> Explanation:
    line, record = found
    if isinstance(record, Reject):
        return Explanation(line, {}, None, as_of, False, (), (), (), reject=record)
    result = ruleset.score(record, as_of)
    values = ruleset.with_computed(record, as_of)
    outcomes = {o.id: o for o in ruleset.outcomes(record, result, as_of)}
    raw_results = ruleset.results(record, as_of)
    traces_by_stage: dict[str, list] = {}
    for (stage_id, criterion), raw in zip(ruleset.criteria, raw_results):
        outcome = outcomes.get(criterion.id)
        status, missing = _status(raw, outcome, "pass", "fail", "missing")
        traces_by_stage.setdefault(stage_id, []).append(
            _trace(ruleset, criterion, "exit", stage_id, values, status, missing)
        )
    rules = []
    for rule, raw in zip(ruleset.rules, raw_results[len(ruleset.criteria) :]):
        status, missing = _status(raw, outcomes.get(rule.id), "fired", "quiet", "unknown")
        if not ruleset.pipeline.rule_applies(rule, result.stage):
            status = "not applicable"
        rules.append(_trace(ruleset, rule, "qualify_out", None, values, status, missing))
    current = tuple(traces_by_stage.get(result.stage, ()))
    earlier = tuple(
        t for s in ruleset.pipeline.stages if s.is_open and s.id != result.stage for t in traces_by_stage.get(s.id, ())
    )
    return Explanation(line, record, result, as_of, is_over_staged(ruleset, result), current, earlier, tuple(rules))


def _status(raw, outcome, yes, no, unknown):
    if raw is True:
        return yes, ()
    if raw is False:
        return no, ()
    return unknown, outcome.missing if outcome else ()


def _trace(ruleset: RuleSet, rule, kind, stage_id, values, status, missing) -> RuleTrace:
    checked = ruleset.checked(rule.when)
    read = {name: values.get(name) for name in sorted(checked.fields)}
    return RuleTrace(
        id=rule.id,
        kind=kind,
        stage=stage_id,
        expression=rule.when.source,
        values=read,
        status=status,
        missing=tuple(missing),
        why=rule.why,
        severity=getattr(rule, "severity", "error"),
        applies_from=getattr(rule, "from_stage", None),
        location=str(rule.when.location),
    )
