"""The reps file: CSV and YAML, every problem with file:line:column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from engine.pack import read_pack
from engine.payout import read_reps, reps_from_records

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plans():
    result = read_pack([ROOT / "rules"])
    return {plan.id: plan for plan in result.analysis.pack.plans}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_reps_file(plans):
    result = read_reps(ROOT / "examples" / "reps.csv", plans)
    assert result.ok and not result.diagnostics
    reps = {r.id: r for r in result.reps}
    assert set(reps) == {"alice", "bob", "carol", "dan", "erin", "frank", "sam", "sue"}
    assert reps["alice"].quota == Decimal(400000) and reps["bob"].quota is None  # blank: the plan's default
    assert reps["alice"].target_incentive == Decimal(30000)
    assert reps["dan"].start == dt.date(2026, 2, 2) and reps["dan"].end is None
    assert reps["sam"].plan == "sdr-2026"


def test_aliases_money_and_date_formats(tmp_path, plans):
    path = write(
        tmp_path,
        "reps.csv",
        "Rep ID,Rep Name,Plan ID,Quota,TI,Start Date,End Date\n"
        'alice,"Martin, Alice",ae-2026,"$250,000",30000,01/15/2026,2026-06-30\n',
    )
    result = read_reps(path, plans, ("%m/%d/%Y",))
    assert result.ok, result.diagnostics
    (alice,) = result.reps
    assert (alice.name, alice.quota, alice.target_incentive) == ("Martin, Alice", Decimal(250000), Decimal(30000))
    assert (alice.start, alice.end) == (dt.date(2026, 1, 15), dt.date(2026, 6, 30))


def test_every_problem_with_its_line_and_column(tmp_path, plans):
    path = write(
        tmp_path,
        "reps.csv",
        "id,name,plan,quota,start,end,currency,region\n"
        "alice,Alice,ae-2O26,250000,,,USD,west\n"
        "bob,Bob,ae-2026,lots,,,USD,west\n"
        "carol,Carol,ae-2026,0,,,USD,west\n"
        "dan,Dan,ae-2026,,2026-05-01,2026-04-01,USD,west\n"
        "erin,Erin,ae-2026,,,,EUR,west\n"
        "frank,Frank,ae-2026,,02/30/2026,,USD,west\n"
        ",Nobody,ae-2026,,,,USD,west\n"
        "sam,Sam,sdr-2026,,,,USD,east\n"
        "sam,Sam again,sdr-2026,,,,USD,east\n",
    )
    result = read_reps(path, plans)
    assert not result.ok
    found = {(d.line, d.column, d.code): d for d in result.diagnostics}
    shown = "\n".join(f"{d.location}: {d.code} {d.message} ({d.hint})" for d in result.diagnostics)
    assert (1, 39, "DG602") in found and "region" in found[(1, 39, "DG602")].message, shown  # unknown column
    assert found[(2, 13, "DG604")].hint == "did you mean 'ae-2026'?", shown
    assert "'lots' is not an amount" in found[(3, 17, "DG603")].message, shown
    assert "must be more than 0" in found[(4, 21, "DG603")].message, shown
    assert "ends (2026-04-01) before starting" in found[(5, 29, "DG603")].message, shown
    assert "paid in EUR but plan 'ae-2026' pays in USD" in found[(6, 22, "DG606")].message, shown
    assert "not a valid date" in found[(7, 22, "DG603")].message, shown
    assert "rep id is blank" in found[(8, 1, "DG603")].message, shown
    assert "listed twice (first at line 9)" in found[(10, 1, "DG605")].message, shown
    assert [r.id for r in result.reps] == ["sam"]  # only the clean rows become reps
    assert all(d.file == str(path) for d in result.diagnostics)


def test_a_quota_is_money_in_the_plans_currency(tmp_path, plans):
    """A quota cell is read as a money cell of an export is, in the plan's currency: another
    currency's code or symbol, a malformed amount or one not above zero is refused at its line."""
    path = write(
        tmp_path,
        "reps.csv",
        "id,plan,quota,target_incentive\n"
        "a1,ae-2026,EUR 100000,30000\n"
        'a2,ae-2026,"100,000.00",30000\n'
        "a3,ae-2026,1e6,30000\n"
        "a4,ae-2026,-5,30000\n"
        "a5,ae-2026,$250000,\u20ac30000\n"
        "a6,ae-2026,USD 250000,30000 USD\n"
        "a7,ae-2026,1.234.567,30000\n",
    )
    result = read_reps(path, plans)
    found = {(d.line, d.column): d for d in result.diagnostics}
    shown = "\n".join(f"{d.location}: {d.code} {d.message} ({d.hint})" for d in result.diagnostics)
    assert found[(2, 12)].message == "quota of rep 'a1': 'EUR 100000' is in EUR, not USD", shown
    assert found[(2, 12)].hint == "write a plain amount in USD such as 250000", shown
    assert "must be more than 0, not -5" in found[(5, 12)].message, shown
    assert found[(6, 20)].message == "target_incentive of rep 'a5': '\u20ac30000' is in \u20ac, not USD", shown
    assert "'1.234.567' is not an amount" in found[(8, 12)].message, shown
    assert {d.code for d in result.diagnostics} == {"DG603"} and len(result.diagnostics) == 4, shown
    quotas = {r.id: r.quota for r in result.reps}
    assert quotas == {"a2": Decimal(100000), "a3": Decimal(1000000), "a6": Decimal(250000)}


def test_structural_problems(tmp_path, plans):
    empty = read_reps(write(tmp_path, "empty.csv", ""), plans)
    assert [d.code for d in empty.diagnostics] == ["DG601"] and "empty" in empty.diagnostics[0].message
    no_plan = read_reps(write(tmp_path, "noplan.csv", "id,name\nalice,Alice\n"), plans)
    assert [d.code for d in no_plan.diagnostics] == ["DG602"] and "no 'plan' column" in no_plan.diagnostics[0].message
    missing = read_reps(tmp_path / "missing.csv", plans)
    assert [d.code for d in missing.diagnostics] == ["DG601"]
    binary = tmp_path / "reps.csv"
    binary.write_bytes(b"id,plan\n\xff\xfe,ae-2026\n")
    assert "not valid UTF-8" in read_reps(binary, plans).diagnostics[0].message


def test_yaml_reps_with_locations(tmp_path, plans):
    path = write(
        tmp_path,
        "reps.yaml",
        "reps:\n"
        "  - {id: alice, name: Alice, plan: ae-2026, quota: 250000, start: 2026-01-05}\n"
        "  - id: bob\n"
        "    plan: ae-2026\n"
        "    quota: -5\n"
        "  - id: carol\n"
        "    plan: ea-2026\n"
        "    team: east\n",
    )
    result = read_reps(path, plans)
    assert [r.id for r in result.reps] == ["alice"]
    alice = result.reps[0]
    assert alice.quota == Decimal(250000) and alice.start == dt.date(2026, 1, 5)
    found = {(d.line, d.code) for d in result.diagnostics}
    assert (5, "DG603") in found  # quota -5, on its own line
    assert (7, "DG604") in found  # unknown plan
    assert (8, "DG602") in found  # unknown key: a warning
    plain = read_reps(write(tmp_path, "list.yml", "- {id: sam, plan: sdr-2026}\n"), plans)
    assert plain.ok and plain.reps[0].id == "sam"
    broken = read_reps(write(tmp_path, "broken.yaml", "reps: [ {id: sam\n"), plans)
    assert broken.diagnostics[0].code == "DG601" and "not valid YAML" in broken.diagnostics[0].message
    scalar = read_reps(write(tmp_path, "scalar.yaml", "just text\n"), plans)
    assert scalar.diagnostics[0].code == "DG601"


def test_reps_from_records(plans):
    result = reps_from_records(
        [
            {"id": "alice", "plan": "ae-2026", "quota": Decimal(100000), "start": dt.date(2026, 1, 1)},
            {"id": "bob", "plan": "nope"},
            "not a mapping",
        ],
        plans,
    )
    assert [r.id for r in result.reps] == ["alice"]
    assert result.reps[0].quota == Decimal(100000) and result.reps[0].start == dt.date(2026, 1, 1)
    assert sorted(d.code for d in result.diagnostics) == ["DG603", "DG604"]


def test_a_problem_in_a_quoted_cell_points_at_that_cell(tmp_path, plans):
    """A quoted cell ("Martin, Alice") moves the cells after it: their columns are still exact."""
    path = write(
        tmp_path,
        "reps.csv",
        'id,name,plan,quota\nalice,"Martin, Alice",ae-2026,"100.000,00"\n',
    )
    result = read_reps(path, plans)
    (problem,) = [d for d in result.diagnostics if d.code == "DG603"]
    assert (problem.line, problem.column) == (2, 31), problem
