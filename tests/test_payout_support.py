"""Helpers shared by the payout tests (no tests here): build a pack around one plan, make deals and reps."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

from engine.pack import read_pack
from engine.payout import Rep, compile_payout

ROOT = Path(__file__).resolve().parent.parent
D = Decimal


def program_for(tmp_path: Path, plan_yaml: str, *, strict: bool = True):
    """A PayoutProgram for the default fields and pipeline plus one plan written in YAML."""
    pack = tmp_path / "pack"
    (pack / "plans").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "rules" / "fields.yaml", pack / "fields.yaml")
    shutil.copy(ROOT / "rules" / "pipeline.yaml", pack / "pipeline.yaml")
    (pack / "plans" / "plan.yaml").write_text("kind: plan\n" + textwrap.dedent(plan_yaml), encoding="utf-8")
    result = read_pack([pack])
    errors = [d for d in result.diagnostics if d.is_error and d.file and "plan.yaml" in d.file]
    assert not errors, errors
    return compile_payout(result.analysis)


def deal(deal_id: str, amount, close: str, owner: str = "rep", **extra) -> dict:
    record = {
        "id": deal_id,
        "stage": "closed_won",
        "amount": D(str(amount)),
        "close_date": dt.date.fromisoformat(close),
        "owner": owner,
    }
    for key, value in extra.items():
        if isinstance(value, str) and key.endswith(("_on", "_date")):
            value = dt.date.fromisoformat(value)
        record[key] = value
    return record


def rep(rep_id: str = "rep", plan: str = "p", **extra) -> Rep:
    for key in ("quota", "target_incentive"):
        if key in extra and extra[key] is not None:
            extra[key] = D(str(extra[key]))
    for key in ("start", "end"):
        if isinstance(extra.get(key), str):
            extra[key] = dt.date.fromisoformat(extra[key])
    return Rep(rep_id, plan, **extra)


def statements(program, deals, reps, periods, as_of=dt.date(2026, 12, 31)):
    result = program.compute(deals, reps, periods, as_of)
    for statement in result.statements:
        assert statement.reconciles, statement
    return result


def amounts(statement, kind: str | None = None) -> list:
    return [line.amount for line in statement.lines if kind is None or line.kind == kind]
