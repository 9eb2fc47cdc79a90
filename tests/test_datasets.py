"""End-to-end on the public CRM exports in ../shared/datasets, each with its pack in examples/.

The exports are read from the shared folder (never copied here); when it is absent the tests skip.
"""

import csv
import json

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT, SHARED_DATASETS

CASES = [
    # folder, export file, as-of (the datasets carry no export date; see LOADER_NOTES.txt)
    ("maven-crm-sales-opportunities", "sales_pipeline.csv", "2017-12-31"),
    ("sfdc-assets-data-cloud-workshop", "Opportunity.csv", "2024-01-25"),
    ("sfdc-devorg-sample-opps", "Opportunity.csv", "2026-02-23"),
]


def count_records(path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row)) - 1


@pytest.mark.parametrize("folder, export, as_of", CASES, ids=[c[0] for c in CASES])
def test_public_export_scores_and_reconciles(tmp_path, folder, export, as_of):
    source = SHARED_DATASETS / folder / export
    if not source.is_file():
        pytest.skip(f"{source} is absent: the shared datasets are not beside this checkout")
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(main, [
        "score", "--rules", str(ROOT / "examples" / folder), str(source), "--format", "json",
        "--rejects", str(rejects), "--as-of", as_of])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rejected = list(csv.DictReader(rejects.open()))
    read, scored, rejected_count = (int(w) for w in result.stderr.strip().splitlines()[-1]
                                    .replace(",", "").split()[1::2])
    assert read == scored + rejected_count == count_records(source)
    assert scored == len(data["deals"]) == data["summary"]["deals"]
    assert rejected_count == len(rejected)
    assert all(r["reason"] and r["line"] for r in rejected)
    assert sum(data["summary"]["verdicts"].values()) == scored


def test_maven_pack_flags_the_misspelt_product():
    source = SHARED_DATASETS / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    result = CliRunner().invoke(main, ["score", "--rules", str(ROOT / "examples" / "maven-crm-sales-opportunities"),
                                       str(source), "--format", "json", "--as-of", "2017-12-31"])
    deals = json.loads(result.stdout)["deals"]
    engaging = [d for d in deals if d["stage"] == "engaging"]
    flagged = [d for d in engaging if "known_product" in d["failed"]]
    assert flagged, "GTXPro (no space) is not in the price list and must fail known_product"
    assert all(d["verdict"] in ("blocked", "disqualified") for d in flagged)
    # Open deals have no close_value: their amount is unknown, never zero.
    assert all(d["amount"] is None for d in engaging)
