"""An Explanation as text for people, or as JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from ..explain import Explanation, RuleTrace
from ..money import cents, money_text
from .common import jsonable, visible

MARKS = {
    "pass": "PASS",
    "fail": "FAIL",
    "missing": "MISSING",
    "fired": "FIRED",
    "quiet": "quiet",
    "unknown": "unknown",
    "not applicable": "n/a",
}


def _value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _trace_lines(trace: RuleTrace, indent: str = "  ") -> list[str]:
    label = trace.id
    if trace.severity == "warn":
        label += " (warn)"
    if trace.applies_from:
        label += f" (from {trace.applies_from})"
    lines = [f"{indent}{MARKS[trace.status]:<8} {label}: {trace.expression}"]
    if trace.values:
        lines.append(f"{indent}         read: " + ", ".join(f"{k} = {_value(v)}" for k, v in trace.values.items()))
    if trace.missing:
        lines.append(f"{indent}         missing: {', '.join(trace.missing)}")
    if trace.why and trace.status in ("fail", "missing", "fired"):
        lines.append(f"{indent}         why: {trace.why}")
    return lines


def render_explanation_text(explanation: Explanation) -> str:
    if explanation.reject is not None:
        r = explanation.reject
        column = f" column '{r.column}' value {r.value!r}:" if r.column else ""
        return visible(f"line {explanation.line}: this row was rejected, not scored:{column} {r.reason}") + "\n"
    result, deal = explanation.result, explanation.deal
    assert result is not None, "a scored deal (rejects returned above)"
    out = [
        f"Deal {result.id}"
        + (f" — {deal.get('name')}" if deal.get("name") else "")
        + (f" (owner {deal.get('owner')})" if deal.get("owner") else ""),
        f"  line {explanation.line}, as of {explanation.as_of.isoformat()}",
        f"  stage {result.stage} (probability {result.probability}), verdict {result.verdict.upper()}",
        f"  amount {_value(cents(result.amount))}, weighted {_value(cents(result.weighted_amount))}",
        f"  evidence stage {result.evidence_stage or 'none'}"
        + ("  (over-staged: the evidence does not support the current stage)" if explanation.over_staged else ""),
        *([f"  forecast category {result.category}"] if result.category is not None else []),
        "",
    ]
    if explanation.current:
        out.append(f"Exit criteria of {result.stage} (the current stage):")
        for trace in explanation.current:
            out.extend(_trace_lines(trace))
    else:
        out.append(f"Stage {result.stage} has no exit criteria.")
    if explanation.earlier:
        out.append("")
        out.append("Exit criteria of the other open stages (they decide the evidence stage):")
        stage = None
        for trace in explanation.earlier:
            if trace.stage != stage:
                stage = trace.stage
                out.append(f"  {stage}:")
            out.extend(_trace_lines(trace, "    "))
    if explanation.qualify_out:
        out.append("")
        out.append("Qualify-out rules:")
        for trace in explanation.qualify_out:
            out.extend(_trace_lines(trace))
    return visible("\n".join(out), keep="\n") + "\n"  # CRM text never reaches the terminal raw


def _trace_dict(trace: RuleTrace) -> dict:
    return {
        "id": trace.id,
        "kind": trace.kind,
        "stage": trace.stage,
        "expression": trace.expression,
        "values": {k: jsonable(v) for k, v in trace.values.items()},
        "status": trace.status,
        "missing": list(trace.missing),
        "why": trace.why,
        "severity": trace.severity,
        "from": trace.applies_from,
        "location": trace.location,
    }


def render_explanation_json(explanation: Explanation) -> str:
    if explanation.reject is not None:
        r = explanation.reject
        data: dict[str, Any] = {
            "line": explanation.line,
            "rejected": {"id": r.id, "column": r.column, "value": r.value, "reason": r.reason},
        }
    else:
        result = explanation.result
        assert result is not None, "a scored deal (rejects handled above)"
        data = {
            "line": explanation.line,
            "id": result.id,
            "as_of": explanation.as_of.isoformat(),
            "stage": result.stage,
            "verdict": result.verdict,
            "probability": float(result.probability),
            "amount": money_text(result.amount),
            "weighted_amount": money_text(result.weighted_amount),
            "evidence_stage": result.evidence_stage,
            "over_staged": explanation.over_staged,
            "failed": list(result.failed),
            "qualify_out": list(result.qualify_out),
            "exit_criteria": [_trace_dict(t) for t in explanation.current],
            "other_stages": [_trace_dict(t) for t in explanation.earlier],
            "qualify_out_rules": [_trace_dict(t) for t in explanation.qualify_out],
        }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# Every format: (explanation) -> text.
FORMATS = {"text": render_explanation_text, "json": render_explanation_json}
