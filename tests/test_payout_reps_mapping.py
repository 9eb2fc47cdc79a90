"""A real export used as the reps file through the pack's ``kind: reps`` document (docs/payouts.md#the-reps-file)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from test_payout_support import ROOT

from cli import main
from conftest import dataset_file
from engine.pack import load_ruleset
from engine.payout import compile_payout, read_reps

DATA = ROOT / "tests" / "data" / "reps-mapping"
MAVEN = ROOT / "examples" / "maven-crm-sales-opportunities"


def dealgate(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def rules(tmp_path):
    """The default pack with the users-export mapping of tests/data/reps-mapping."""
    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    shutil.copy(DATA / "reps.yaml", pack / "reps.yaml")
    return pack


def test_a_crm_users_export_is_read_through_the_mapping(rules):
    ruleset = load_ruleset([rules])[0]
    program = compile_payout(ruleset)
    result = read_reps(DATA / "users.csv", program.plans, ruleset.fields.date_formats, ruleset.pack.reps)
    assert result.diagnostics == []  # 'Manager' is not read, and not warned about: the document says what is
    alice, bob, frank = result.reps
    assert (alice.id, alice.name, alice.plan, alice.quota) == ("alice", "Alice Martin", "ae-2026", Decimal(400000))
    assert (alice.role, alice.territory, str(alice.hired)) == ("Account Executive", "West", "2025-01-06")
    assert bob.quota is None and frank.quota == Decimal(250000)  # blank: the plan's quota


def test_payout_runs_on_the_users_export_as_it_is(rules):
    result = dealgate(
        "payout", ROOT / "examples" / "deals.csv", "--rules", rules, "--reps", DATA / "users.csv",
        "--period", "2026-Q3", "--as-of", "2026-09-30", "--format", "json",
    )  # fmt: skip
    statements = json.loads(result.stdout)["statements"]
    assert [s["rep"] for s in statements] == ["alice", "bob", "frank"]
    assert statements[0]["quota"] == "400000" and statements[1]["quota_source"] == "plan"
    # the same statements as the hand-written examples/reps.csv gives for those reps
    reference = dealgate(
        "payout", ROOT / "examples" / "deals.csv", "--reps", ROOT / "examples" / "reps.csv",
        "--period", "2026-Q3", "--as-of", "2026-09-30", "--format", "json",
    )  # fmt: skip
    expected = {s["rep"]: s["total"] for s in json.loads(reference.stdout)["statements"]}
    assert statements[0]["total"] == expected["alice"] and statements[1]["total"] == expected["bob"]


def test_a_mapped_column_the_file_lacks_is_named(rules, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("Login,Full Name\nalice,Alice\n", encoding="utf-8")
    result = dealgate(
        "payout", ROOT / "examples" / "deals.csv", "--rules", rules, "--reps", users, "--period", "2026-Q3", code=2
    )
    assert f"{users}:1:1: error[DG602]: the reps file has no 'id' column (the reps document reads it from " in (
        result.stderr
    )
    assert "'User ID', 'user_id'" in result.stderr


def test_the_reps_document_is_checked_with_locations(rules):
    (rules / "reps.yaml").write_text(
        "kind: reps\ncolumns:\n  id: User ID\n  teritory: Team\ndefaults:\n  plan: ae-2025\n  start: 1/2/2026\n",
        encoding="utf-8",
    )
    result = dealgate("validate", rules, code=1)
    shown = result.stdout + result.stderr
    assert "reps.yaml:4:3: error[DG101]: unknown key 'teritory' in columns" in shown
    assert "did you mean 'territory'?" in shown
    (rules / "reps.yaml").write_text(
        "kind: reps\ncolumns:\n  id: User ID\ndefaults:\n  plan: ae-2025\n  start: 1/2/2026\n", encoding="utf-8"
    )
    shown = "".join(dealgate("validate", rules, code=1).output)
    assert "reps.yaml:5:9: error[DG326]: the reps document's default plan 'ae-2025' is not a plan of the pack" in shown
    assert "did you mean 'ae-2026'?" in shown
    assert "reps.yaml:6:10: error[DG326]: the reps document's default start '1/2/2026' is not a date" in shown


def test_mavens_sales_teams_export_is_the_reps_file():
    """issue 13: /work/shared/datasets' Maven sales_teams.csv, with no hand conversion."""
    teams = dataset_file("maven-crm-sales-opportunities", "sales_teams.csv")
    pipeline = teams.parent / "sales_pipeline.csv"
    result = dealgate(
        "payout", pipeline, "--rules", MAVEN, "--reps", teams, "--period", "2017-Q2", "--as-of", "2017-12-31",
        "--format", "json",
    )  # fmt: skip
    statements = json.loads(result.stdout)["statements"]
    assert len(statements) == 35 and {s["plan"] for s in statements} == {"maven-agents"}
    assert all(s["rep"] == s["name"] for s in statements)
    assert "DG602" not in result.stderr and "DG612" not in result.stderr  # every credited agent is a rep
    assert sum(Decimal(s["total"]) for s in statements) == Decimal("160258.30")


def test_a_yaml_reps_file_is_read_through_the_mapping_too(rules, tmp_path):
    ruleset = load_ruleset([rules])[0]
    program = compile_payout(ruleset)
    users = tmp_path / "users.yaml"
    users.write_text("- {User ID: alice, Full Name: Alice Martin, Team: West, Manager: Dana}\n", encoding="utf-8")
    result = read_reps(users, program.plans, ruleset.fields.date_formats, ruleset.pack.reps)
    assert result.diagnostics == []
    [alice] = result.reps
    assert (alice.id, alice.name, alice.plan, alice.territory) == ("alice", "Alice Martin", "ae-2026", "West")
