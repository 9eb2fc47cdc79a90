"""`dealgate calibrate`: observed win rates from each stage, Wilson intervals that hold the truth,
Brier score and reliability; on synthetic histories whose probabilities are known, and on the public
datasets."""

import csv
import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from conftest import ROOT, dataset_file
from engine.forecast.calibrate import HistoryRow, Outcome, calibrate, outcomes_from_history, wilson
from engine.results import DealResult

DEALS = ROOT / "examples" / "deals.csv"
OPEN = ["initial_contact", "discovery", "meeting", "proposal", "negotiation"]
ADVANCE = [0.7, 0.6, 0.75, 0.8, 0.65]  # the chance a deal at each stage moves on (from the last: is won)
DAYS = [3, 10, 14, 21, 30]  # days each stage takes, in the synthetic histories


def truth(index: int) -> float:
    """P(won | reached stage index) of the synthetic pipeline: every later step must succeed."""
    p = 1.0
    for a in ADVANCE[index:]:
        p *= a
    return p


def synthetic_deals(seed: int, count: int):
    """(id, stages reached, won) of deals walking the pipeline with the ADVANCE chances."""
    rng = random.Random(seed)
    for n in range(count):
        start = rng.randrange(len(OPEN))  # deals enter at any stage, as real pipelines have them
        reached = []
        won = False
        for i in range(start, len(OPEN)):
            reached.append(OPEN[i])
            if rng.random() >= ADVANCE[i]:
                break
        else:
            won = True
        yield f"S{seed}-{n}", reached, won


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_wilson_interval_known_values():
    low, high = wilson(0, 10)
    assert low == 0.0 and 0.27 < high < 0.28
    low, high = wilson(5, 10)
    assert abs(low - 0.2366) < 1e-4 and abs(high - 0.7634) < 1e-4
    assert wilson(0, 0) == (0.0, 1.0)


def test_intervals_hold_the_true_probabilities_in_at_least_90_percent_of_stages(default_ruleset):
    held = total = 0
    for seed in range(60):
        outcomes = [Outcome(i, tuple(r), w) for i, r, w in synthetic_deals(seed, 400)]
        result = calibrate(default_ruleset, outcomes)
        for index, stage in enumerate(result.stages):
            assert stage.stage == OPEN[index] and stage.reached > 0
            total += 1
            held += stage.low <= Decimal(repr(truth(index))) <= stage.high
    assert held / total >= 0.90, f"{held} of {total}"


def test_a_synthetic_history_gives_reach_outcome_and_days(default_ruleset):
    labels = {
        "initial_contact": "Prospecting",
        "discovery": "Qualification",
        "meeting": "Value Proposition",
        "proposal": "Proposal/Price Quote",
        "negotiation": "Negotiation/Review",
    }
    lookup = default_ruleset.analysis.stage_lookup
    rows, results = [], {}
    start = dt.datetime(2026, 1, 1, 9, 0)
    deals = list(synthetic_deals(7, 500))
    for deal_id, reached, won in deals:
        at = start
        for stage in reached:
            rows.append(HistoryRow(deal_id, lookup[labels[stage].lower()], at))
            at += dt.timedelta(days=DAYS[OPEN.index(stage)])
        final = "closed_won" if won else "closed_lost"
        rows.append(HistoryRow(deal_id, final, at))
        results[deal_id] = DealResult(
            deal_id, final, "won" if won else "lost", (), (), (), Decimal(0), None, None, None
        )
    outcomes, open_deals, unmatched = outcomes_from_history(default_ruleset, rows, results)
    assert (len(outcomes), open_deals, unmatched) == (len(deals), 0, 0)
    result = calibrate(default_ruleset, outcomes, source="history")
    for index, stage in enumerate(result.stages):
        expected_reach = sum(OPEN[index] in r for _, r, _ in deals)
        expected_won = sum(OPEN[index] in r and w for _, r, w in deals)
        assert (stage.reached, stage.won) == (expected_reach, expected_won)
        assert stage.days == Decimal(DAYS[index])  # every deal spends exactly DAYS in a stage it leaves
    assert result.brier is not None and result.brier_suggested < result.brier


def test_brier_score_and_reliability_by_hand(default_ruleset):
    outcomes = [Outcome("a", ("negotiation",), True), Outcome("b", ("negotiation",), False)]
    result = calibrate(default_ruleset, outcomes)
    # (0.8 - 1)^2 and (0.8 - 0)^2, averaged
    assert result.brier == Decimal("0.3400")
    negotiation = result.stages[-1]
    assert (negotiation.reached, negotiation.won, negotiation.observed, negotiation.suggested) == (
        2,
        1,
        Decimal("0.5000"),
        Decimal("0.50"),
    )
    assert not negotiation.outside  # 0.8 lies in the wide interval of two deals
    assert [b.forecasts for b in result.reliability] == [0, 0, 0, 0, 2]


def test_cli_on_the_example_export_warns_where_configured_lies_outside():
    result = run("calibrate", DEALS, "--as-of", "2026-09-30", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "export" and data["deals"] + data["open_deals"] == 396
    assert result.stderr.strip().splitlines()[-1].startswith("warning: stage") or "read 400" in result.stderr
    outside = [s["stage"] for s in data["stages"] if s["outside"]]
    assert len(data["warnings"]) == len(outside) > 0


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_formats(fmt):
    result = run("calibrate", DEALS, "--as-of", "2026-09-30", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "negotiation" in result.stdout
    if fmt == "csv":
        assert len(list(csv.DictReader(result.stdout.splitlines()))) == 5


def test_maven_export_win_rates_with_counts_intervals_and_brier():
    export = dataset_file("maven-crm-sales-opportunities", "sales_pipeline.csv")
    result = run(
        "calibrate",
        "--rules",
        ROOT / "examples" / "maven-crm-sales-opportunities",
        export,
        "--as-of",
        "2017-12-31",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["deals"] == 6711 and data["open_deals"] == 2089  # 4238 won + 2473 lost; the rest open
    prospecting, engaging = data["stages"]
    assert prospecting["reached"] == 6711 and prospecting["won"] == 4238
    assert Decimal(prospecting["low"]) < Decimal(prospecting["observed"]) < Decimal(prospecting["high"])
    assert Decimal(data["brier"]) > Decimal(data["brier_suggested"])
    assert result.stderr.strip().splitlines()[-1].startswith("warning:")  # 0.10 and 0.50 are far off


def test_salesforce_history_and_rejected_history_rows(tmp_path):
    export = dataset_file("sfdc-devorg-sample-opps", "Opportunity.csv")
    history = dataset_file("sfdc-devorg-sample-opps", "OpportunityHistory.csv")
    text = history.read_text(encoding="utf-8-sig").splitlines()
    broken = tmp_path / "history.csv"
    extra = [text[1].replace("Qualification", "Verbal Commit"), ",,x,y,Qualification"]  # unknown stage, no id
    broken.write_text("\n".join(text + extra) + "\n")
    result = run(
        "calibrate",
        "--rules",
        ROOT / "examples" / "sfdc-devorg-sample-opps",
        export,
        "--history",
        broken,
        "--as-of",
        "2026-02-23",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "history" and data["deals"] + data["open_deals"] == 36
    assert "unknown stage label 'Verbal Commit'" in result.stderr
    assert "no opportunity id" in result.stderr and "read 50, used 48, rejected 2" in result.stderr


def test_a_history_without_a_stage_column_is_bad_usage(tmp_path):
    history = tmp_path / "h.csv"
    history.write_text("OpportunityId,When\nx,2026-01-01\n")
    result = run("calibrate", DEALS, "--history", history, "--as-of", "2026-09-30")
    assert result.exit_code == 2 and "no column for stagename" in result.stderr


def test_write_changes_only_the_numbers_outside_their_intervals(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    before = (rules / "pipeline.yaml").read_text()
    result = run("calibrate", DEALS, "--rules", rules, "--as-of", "2026-09-30", "--format", "json", "--write")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    after = (rules / "pipeline.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    outside = [s for s in data["stages"] if s["outside"]]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == len(outside) > 0
    for (old, new), stage in zip(changed, outside):
        assert old.split(":")[0] == new.split(":")[0] == "    probability"
        assert new.split(":")[1].strip() == stage["suggested"]
    assert "calibrate --write" in result.stderr


def test_write_keeps_a_flow_style_pipeline_as_it_was_written(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "fields.yaml").write_text(
        "kind: fields\nfields:\n  id: {type: string, required: true}\n"
        "  stage: {type: stage, required: true}\n  amount: {type: money}\n"
    )
    (rules / "pipeline.yaml").write_text(
        "kind: pipeline  # flow style\nstages:\n  - {id: open, probability: 0.9}   # far too hopeful\n"
        "  - {id: won, probability: 1.0, won: true}\n  - {id: lost, probability: 0.0, lost: true}\n"
    )
    export = tmp_path / "deals.csv"
    export.write_text("id,stage,amount\n" + "".join(f"d{i},{'won' if i < 2 else 'lost'},10\n" for i in range(40)))
    result = run("calibrate", export, "--rules", rules, "--as-of", "2026-09-30", "--format", "csv", "--write")
    assert result.exit_code == 0, result.output
    assert (rules / "pipeline.yaml").read_text() == (
        "kind: pipeline  # flow style\nstages:\n  - {id: open, probability: 0.05}   # far too hopeful\n"
        "  - {id: won, probability: 1.0, won: true}\n  - {id: lost, probability: 0.0, lost: true}\n"
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10_000), st.integers(0, 300), st.booleans())
def test_tallied_outcomes_calibrate_as_one_per_deal(default_ruleset, seed, deals, with_days):
    """An export's outcomes are tallied by (reached, won) to keep memory flat: the calibration is the same."""
    one_each = [
        Outcome(i, tuple(r), w, {s: Decimal(len(i) % 7 + k) for k, s in enumerate(r)} if with_days else {})
        for i, r, w in synthetic_deals(seed, deals)
    ]
    tallied: dict = {}
    for o in one_each:
        key = (o.reached, o.won, tuple(sorted(o.days.items())))
        tallied.setdefault(key, [o, 0])[1] += 1
    weighted = [Outcome(o.id, o.reached, o.won, o.days, count) for o, count in tallied.values()]
    assert calibrate(default_ruleset, weighted) == calibrate(default_ruleset, one_each)
