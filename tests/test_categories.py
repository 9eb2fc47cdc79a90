"""Forecast categories as rules: checked, compiled to Python and SQL, and the same bytes on every engine.

A pack without categories keeps its outputs as they were (no ``category`` column): the golden files
of the bundled pack and the differential tests of the example packs hold that; here, the
categories themselves.
"""

import csv
import json
import shutil

import pytest
from click.testing import CliRunner
from test_sql_engine import assert_same

from cli import main
from conftest import ROOT

DEALS = ROOT / "examples" / "deals.csv"
AS_OF = "2026-09-30"

# Categories over a nullable field, a computed one, verdicts and stages, first match wins, and no
# catch-all: a deal may be in none (null).
CATEGORIES = """
categories:
  - id: stale_commit
    stages: [negotiation]
    when: days_in_stage > 60
  - id: commit
    stages: [negotiation]
    verdicts: [ready]
  - id: big_bet
    verdicts: [ready, blocked]
    when: amount >= 100000 and discount == null
  - id: early
    stages: [initial_contact, discovery, meeting]
    verdicts: [ready]
"""


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pack")
    shutil.copytree(ROOT / "rules", folder / "rules")
    shutil.rmtree(folder / "rules" / "tests")  # its cases expect the bundled categories
    pipeline = folder / "rules" / "pipeline.yaml"
    text = pipeline.read_text()
    pipeline.write_text(text[: text.index("\ncategories:")] + CATEGORIES)
    return folder / "rules"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def scored(rules, *extra):
    result = run("score", DEALS, "--rules", rules, "--as-of", AS_OF, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["deals"]


def test_the_bundled_pack_puts_every_deal_in_a_category():
    deals = scored(ROOT / "rules")
    by_category = {}
    for deal in deals:
        by_category.setdefault(deal["category"], []).append(deal)
    assert set(by_category) == {"closed", "commit", "best_case", "pipeline", "omitted"}
    assert all(d["stage"] == "negotiation" and d["verdict"] == "ready" for d in by_category["commit"])
    assert all(d["stage"] == "closed_won" for d in by_category["closed"])
    assert all(
        d["verdict"] in ("lost", "disqualified") or d["stage"] == "initial_contact" for d in by_category["omitted"]
    )


def test_first_matching_category_wins_and_a_deal_may_match_none(pack):
    deals = scored(pack)
    categories = {d["category"] for d in deals}
    assert None in categories and {"commit", "big_bet", "early"} <= categories
    for deal in deals:
        if deal["category"] == "commit":
            assert deal["stage"] == "negotiation" and deal["verdict"] == "ready"
        if deal["category"] == "big_bet":
            assert float(deal["amount"]) >= 100000


def test_a_pack_without_categories_has_no_category_column(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.rmtree(rules / "tests")  # its cases expect the bundled categories
    text = (rules / "pipeline.yaml").read_text()
    (rules / "pipeline.yaml").write_text(text[: text.index("\n# Forecast categories")] + "\n")
    result = run("score", DEALS, "--rules", rules, "--as-of", AS_OF, "--format", "csv")
    assert next(csv.reader(result.stdout.splitlines()))[-1] == "over_staged"
    assert "category" not in scored(rules)[0]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_duckdb_gives_the_categories_of_the_python_engine(tmp_path, pack, fmt):
    assert_same(tmp_path, DEALS, fmt, rules=pack)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_duckdb_gives_the_bundled_categories_of_the_python_engine(tmp_path, fmt):
    assert_same(tmp_path, DEALS, fmt)


def test_the_sql_view_has_the_category_column(pack):
    result = run("sql", "--rules", pack, "--table", "deals")
    assert result.exit_code == 0, result.output
    assert "AS category" in result.stdout and "'stale_commit'" in result.stdout


def test_forecast_by_category_adds_up(pack):
    result = run("forecast", DEALS, "--rules", ROOT / "rules", "--as-of", AS_OF, "--by", "category", "--format", "json")
    data = json.loads(result.stdout)
    assert [g["category"] for g in data["groups"]] == ["closed", "commit", "best_case", "pipeline", "omitted"]
    assert sum(g["deals"] for g in data["groups"]) == data["total"]["deals"]
    none = run("forecast", DEALS, "--rules", pack, "--as-of", AS_OF, "--by", "category", "--format", "json")
    assert json.loads(none.stdout)["groups"][-1]["category"] == "(none)"


def test_spark_gives_the_categories_of_the_python_engine(spark, tmp_path, pack):
    outputs = {}
    for engine in ("python", "spark"):
        out = tmp_path / f"{engine}.jsonl"
        result = run(
            "score", DEALS, "--rules", pack, "--as-of", AS_OF, "--engine", engine, "--format", "jsonl", "-o", out
        )
        assert result.exit_code == 0, result.output
        outputs[engine] = out.read_bytes()
    assert outputs["spark"] == outputs["python"]
    assert b'"category": "stale_commit"' in outputs["spark"] and b'"category": null' in outputs["spark"]


SFDC_CATEGORIES = """
categories:
  - id: closed
    stages: [closed_won]
  - id: commit
    stages: [negotiation]
    verdicts: [ready]
    labels: [Commit]
  - id: best_case
    stages: [proposal, negotiation]
    labels: [BestCase, Best Case]
  - id: pipeline
    stages: [qualification, discovery]
  - id: omitted
"""


def test_the_crm_forecast_category_column_is_compared_and_disagreements_listed(tmp_path):
    from conftest import dataset_file

    export = dataset_file("sfdc-assets-data-cloud-workshop", "Opportunity.csv")
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "examples" / "sfdc-assets-data-cloud-workshop", rules)
    with (rules / "pipeline.yaml").open("a") as handle:
        handle.write(SFDC_CATEGORIES)
    result = run(
        "forecast",
        export,
        "--rules",
        rules,
        "--as-of",
        "2024-01-25",
        "--by",
        "category",
        "--crm-category",
        "forecast_category",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    crm = json.loads(result.stdout)["crm_categories"]
    assert crm["compared"] + crm["blank"] == json.loads(result.stdout)["total"]["deals"]
    assert crm["agree"] + len(crm["disagreements"]) == crm["compared"] > 0
    for deal in crm["disagreements"]:
        assert deal["rules"] != deal["crm_category"]
    table = run(
        "forecast",
        export,
        "--rules",
        rules,
        "--as-of",
        "2024-01-25",
        "--crm-category",
        "forecast_category",
        "--format",
        "table",
    )
    assert "CRM forecast category ('forecast_category') against the rules" in table.stdout


def test_comparing_needs_categories_and_the_field(tmp_path):
    result = run("forecast", DEALS, "--as-of", AS_OF, "--crm-category", "crm_cat")
    assert result.exit_code == 2 and "no 'crm_cat' field" in result.stderr
