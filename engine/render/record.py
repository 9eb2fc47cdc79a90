"""One scored deal as a plain dict, and its values as CSV cells and JSON: the definition of the output.

Every format of ``dealgate score`` writes these values. The generated row writers
(engine.render.rows) write the same text without building the dict, and fall back to these
functions for anything unusual, so this module is what they are held to.
"""

from __future__ import annotations

import json
from decimal import Decimal

from ..money import money_text
from ..output import safe_cell
from ..score import ScoredDeal, is_over_staged, missing_by_criterion


def deal_record(ruleset, scored: ScoredDeal, as_of) -> dict:
    """One deal as the plain mapping every format is made from."""
    result, deal = scored.result, scored.deal
    record = {
        "file": scored.source,
        "line": scored.line,
        "id": result.id,
        "name": deal.get("name"),
        "owner": deal.get("owner"),
        "stage": result.stage,
        "verdict": result.verdict,
        "failed": list(result.failed),
        "missing": missing_by_criterion(ruleset, scored, as_of),
        "qualify_out": list(result.qualify_out),
        "warnings": list(result.warnings),
        "probability": result.probability,
        "amount": money_text(result.amount),
        "weighted_amount": money_text(result.weighted_amount),
        "evidence_stage": result.evidence_stage,
        "over_staged": is_over_staged(ruleset, result),
    }
    if ruleset.pipeline.categories:  # only then: the outputs of packs without categories stay as they were
        record["category"] = result.category
    return record


def _json_default(value):
    if isinstance(value, Decimal):  # only probabilities reach here: short fractions, exact as floats
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=False)


def cell(value) -> str:
    """A value of ``deal_record`` as its CSV cell: lists joined by ';', the missing map as
    'criterion:field,field;...', booleans as true/false, the rest spreadsheet-safe text."""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return ";".join(f"{k}:{','.join(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)
