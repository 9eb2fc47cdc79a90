"""`dealgate validate` on the plan keys payouts added: rate_of, tier gates, draw months, quota periods."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from engine.pack import read_pack

ROOT = Path(__file__).resolve().parent.parent


def check(tmp_path, plan: str):
    pack = tmp_path / "pack"
    (pack / "plans").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "fields.yaml", pack / "fields.yaml")
    shutil.copy(ROOT / "rules" / "pipeline.yaml", pack / "pipeline.yaml")
    path = pack / "plans" / "plan.yaml"
    path.write_text("kind: plan\n" + textwrap.dedent(plan), encoding="utf-8")
    return [d for d in read_pack([pack]).diagnostics if d.file and d.file.endswith("plan.yaml")], path


BASE = """\
id: p
period: quarter
credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
"""


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_default_plans_are_clean():
    assert not [d for d in read_pack([ROOT / "rules"]).diagnostics if d.file and "plans" in d.file]


@pytest.mark.parametrize(
    "body,anchor,fragment",
    [
        (
            "commission: {basis: credit, rate_of: target_incentive, rate: 1}\n",
            "commission:",
            "need 'basis: attainment'",
        ),
        ("quota: 10\nquota_period: month\ncommission: {rate: 0.1}\n", "quota_period", "shorter than the pay period"),
        (
            "quota: 10\ncommission:\n  tiers:\n"
            "    - {to: 1.0, rate: 0.1, gate: {attainment: 1.0}}\n    - {rate: 0.2}\n",
            "gate:",
            "the first tier cannot have a gate",
        ),
    ],
)
def test_semantic_errors(tmp_path, body, anchor, fragment):
    diagnostics, path = check(tmp_path, BASE + body)
    errors = [d for d in diagnostics if d.is_error]
    assert [d.code for d in errors] == ["DG308"], diagnostics
    assert fragment in errors[0].message
    assert errors[0].line == line_of(path, anchor)


@pytest.mark.parametrize(
    "body,code",
    [
        (
            "commission:\n  tiers:\n    - {to: 1.0, rate: 0.1}\n"
            "    - {rate: 0.2, gate: {attainment: 1.0, over: month}}\n",
            "DG104",
        ),
        (
            "commission:\n  tiers:\n    - {to: 1.0, rate: 0.1}\n"
            "    - {rate: 0.2, gate: {attainment: 1.0, window: 3}}\n",
            "DG101",
        ),
        ("commission: {rate: 0.1}\ndraw: {type: recoverable, amount: 100, months: 0}\n", "DG107"),
        ("commission: {rate: 0.1, rate_of: ote}\n", "DG104"),
    ],
)
def test_schema_errors(tmp_path, body, code):
    diagnostics, _ = check(tmp_path, "quota: 10\n" + BASE + body)
    assert code in [d.code for d in diagnostics if d.is_error], diagnostics


def test_quota_warnings(tmp_path):
    flat, _ = check(tmp_path / "flat", BASE + "commission: {rate: 0.1}\n")
    assert not flat  # a flat rate needs no quota
    milestone, _ = check(
        tmp_path / "m",
        BASE + "commission: {basis: credit, rate: 1}\nbonuses:\n  - {id: club, attainment: 1.0, amount: 100}\n",
    )
    assert [d.code for d in milestone] == ["DG313"] and "milestone" in milestone[0].message
    tiers, _ = check(tmp_path / "t", BASE + "commission:\n  tiers:\n    - {to: 1.0, rate: 0.1}\n    - {rate: 0.2}\n")
    assert [d.code for d in tiers] == ["DG313"]


def test_valid_new_keys(tmp_path):
    diagnostics, _ = check(
        tmp_path,
        "quota: 100\nquota_period: year\n"
        + BASE
        + """\
commission:
  rate_of: target_incentive
  tiers:
    - {to: 1.0, rate: 1.0}
    - {rate: 2.0, gate: {attainment: 1.0, over: quota_period}}
draw: {type: non_recoverable, amount: 1000, months: 3}
""",
    )
    assert not [d for d in diagnostics if d.is_error], diagnostics
