"""`dealgate movement`: each change between two snapshots, and a waterfall that adds up exactly."""

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from conftest import ROOT
from engine.forecast.movement import STEPS, compare
from engine.score import ScoredDeal

DEALS = ROOT / "examples" / "deals.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    """The example export, and a week later: a few deals won, lost, slipped, pushed, pulled in, re-priced,
    moved on or back, one gone and one new."""
    folder = tmp_path_factory.mktemp("snapshots")
    with DEALS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    by_id = {r["Opportunity ID"]: r for r in rows}
    edits = {
        "006X00000000": {"Stage": "Closed Won"},  # meeting -> won
        "006X00000001": {"Stage": "Closed Lost"},  # discovery -> lost
        "006X00000002": {"Close Date": "02/15/2027"},  # Q4 -> Q1: slipped
        "006X00000008": {"Close Date": "11/30/2026"},  # later in Q4: pushed
        "006X00000009": {"Close Date": "12/15/2026"},  # Q1 -> Q4: pulled in
        "006X00000005": {"Amount": "$99,000.00"},  # 8,250 -> 99,000
        "006X00000011": {"Amount": "$1,000.00"},
        "006X00000012": {"Stage": "Negotiation/Review"},  # proposal -> negotiation
        "006X00000004": {"Stage": "Qualification"},  # proposal -> discovery: back
        "006X00000014": {"Stage": "Qualification"},  # won -> discovery: reopened
    }
    for deal_id, change in edits.items():
        by_id[deal_id].update(change)
    removed = "006X00000006"
    new_rows = [r for r in rows if r["Opportunity ID"] != removed]
    new_rows.append(dict(rows[20], **{"Opportunity ID": "006X00009999"}))
    new = folder / "new.csv"
    with new.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(new_rows)
    return DEALS, new


def movement_json(old, new, *args):
    result = run("movement", old, new, *AS_OF, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_acceptance_each_change_is_reported(snapshots):
    data, stderr = movement_json(*snapshots)
    changes = {d["id"]: d["changes"] for d in data["deals"]}
    assert "won" in changes["006X00000000"] and "lost" in changes["006X00000001"]
    assert "slipped" in changes["006X00000002"] and "pushed" in changes["006X00000008"]
    assert "pulled_in" in changes["006X00000009"] and "reopened" in changes["006X00000014"]
    assert "amount_up" in changes["006X00000005"] and "amount_down" in changes["006X00000011"]
    assert "stage_forward" in changes["006X00000012"] and "stage_back" in changes["006X00000004"]
    assert changes["006X00000006"] == ["removed"] and changes["006X00009999"] == ["new"]
    assert stderr.strip().splitlines()[-1] == "read 800, scored 792, rejected 8"


def test_the_waterfall_adds_up_to_the_difference_of_the_score_summaries(snapshots):
    data, _ = movement_json(*snapshots)
    summaries = []
    for export in snapshots:
        scored = run("score", export, *AS_OF, "--format", "json")
        summaries.append(json.loads(scored.stdout)["summary"]["weighted_forecast"])
    assert (data["old"]["weighted_pipeline"], data["new"]["weighted_pipeline"]) == tuple(summaries)
    steps = sum(Decimal(step["amount"]) for step in data["waterfall"])
    assert Decimal(data["old"]["weighted_pipeline"]) + steps == Decimal(data["new"]["weighted_pipeline"])
    assert str(steps) == data["difference"]
    per_deal = sum(Decimal(d["weighted_change"]) for d in data["deals"])
    assert per_deal == steps


def test_the_same_file_twice_is_bad_usage():
    result = run("movement", DEALS, DEALS, *AS_OF)
    assert result.exit_code == 2 and "the same file" in result.output


def test_an_unchanged_copy_has_no_movement_until_it_is_aged(tmp_path):
    copy = tmp_path / "same.csv"
    copy.write_bytes(DEALS.read_bytes())
    data, _ = movement_json(DEALS, copy)
    assert data["deals"] == [] and data["difference"] == "0.00"
    later, _ = movement_json(DEALS, copy, "--old-as-of", "2026-06-30")
    assert later["changes"]["verdict"] > 0  # deals stalled between June and September


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_formats(snapshots, fmt):
    result = run("movement", *snapshots, *AS_OF, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "006X00009999" in result.stdout
    if fmt == "csv":
        rows = list(csv.DictReader(result.stdout.splitlines()))
        assert {r["id"] for r in rows} >= {"006X00000000", "006X00009999"}


# --- the waterfall adds up, whatever happens to the deals -------------------------------------------

STAGE_NAMES = ["initial_contact", "discovery", "meeting", "proposal", "negotiation", "closed_won", "closed_lost"]
amounts = st.one_of(st.none(), st.decimals(min_value=Decimal("-1000"), max_value=Decimal("10000000"), places=3))
dates = st.one_of(st.none(), st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)))
deal_values = st.fixed_dictionaries(
    {"stage": st.sampled_from(STAGE_NAMES), "amount": amounts, "close_date": dates, "budget_confirmed": st.booleans()}
)


def _scored(ruleset, deals: dict):
    for deal_id, values in deals.items():
        record = ruleset.record({"id": deal_id, **{k: v for k, v in values.items() if v is not None}})
        yield ScoredDeal(1, record, ruleset.score(record, dt.date(2026, 9, 30)), "x")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.dictionaries(st.sampled_from([f"d{i}" for i in range(12)]), deal_values, max_size=12),
    new=st.dictionaries(st.sampled_from([f"d{i}" for i in range(12)]), deal_values, max_size=12),
    kind=st.sampled_from(["month", "quarter", "year"]),
)
def test_the_waterfall_steps_always_add_up_to_the_difference(default_ruleset, old, new, kind):
    movement = compare(default_ruleset, _scored(default_ruleset, old), _scored(default_ruleset, new), kind)
    assert movement.reconciles
    assert movement.old_weighted + sum(movement.steps.values()) == movement.new_weighted
    assert sum((d.delta for d in movement.deals), Decimal(0)) == movement.difference
    assert set(movement.steps) == set(STEPS)
    for deal in movement.deals:  # each deal's steps: its own change of weighted pipeline, exactly
        before = deal.old.weighted if deal.old else Decimal(0)
        after = deal.new.weighted if deal.new else Decimal(0)
        assert deal.delta == after - before
