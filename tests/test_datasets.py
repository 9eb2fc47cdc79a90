"""End-to-end on the public CRM exports in ../shared/datasets, each with its pack in examples/.

The exports are read from the shared folder (never copied here); when it is absent the tests skip.
"""

import csv
import json

import pytest
from click.testing import CliRunner

from cli import main
from conftest import DATASETS, ROOT, dataset_file

CASES = DATASETS


def count_records(path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row)) - 1


@pytest.mark.parametrize("folder, export, as_of", CASES, ids=[c[0] for c in CASES])
def test_public_export_scores_and_reconciles(tmp_path, folder, export, as_of):
    source = dataset_file(folder, export)
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--rules",
            str(ROOT / "examples" / folder),
            str(source),
            "--format",
            "json",
            "--rejects",
            str(rejects),
            "--as-of",
            as_of,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rejected = list(csv.DictReader(rejects.open()))
    read, scored, rejected_count = (
        int(w) for w in result.stderr.strip().splitlines()[-1].replace(",", "").split()[1::2]
    )
    assert read == scored + rejected_count == count_records(source)
    assert scored == len(data["deals"]) == data["summary"]["deals"]
    assert rejected_count == len(rejected)
    assert all(r["reason"] and r["line"] for r in rejected)
    assert sum(data["summary"]["verdicts"].values()) == scored


def test_maven_pack_flags_the_misspelt_product():
    source = dataset_file("maven-crm-sales-opportunities", "sales_pipeline.csv")
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--rules",
            str(ROOT / "examples" / "maven-crm-sales-opportunities"),
            str(source),
            "--format",
            "json",
            "--as-of",
            "2017-12-31",
        ],
    )
    deals = json.loads(result.stdout)["deals"]
    engaging = [d for d in deals if d["stage"] == "engaging"]
    flagged = [d for d in engaging if "known_product" in d["failed"]]
    assert flagged, "GTXPro (no space) is not in the price list and must fail known_product"
    assert all(d["verdict"] in ("blocked", "disqualified") for d in flagged)
    # Open deals have no close_value: their amount is unknown, never zero.
    assert all(d["amount"] is None for d in engaging)


def test_the_readme_has_a_ready_command_for_each_dataset():
    """The as-of dates live here (DATASETS); the README must give the same ones, one command per pack."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for folder, export, as_of in CASES:
        command = f"dealgate score --rules examples/{folder} ../shared/datasets/{folder}/{export} --as-of {as_of}"
        assert command in readme, command


@pytest.mark.parametrize("folder, export, as_of", CASES, ids=[c[0] for c in CASES])
def test_public_export_table_tells_deals_apart_at_120_columns(folder, export, as_of):
    source = dataset_file(folder, export)
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--rules",
            str(ROOT / "examples" / folder),
            str(source),
            "--as-of",
            as_of,
            "--format",
            "table",
            "--width",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = lines[2 : next(i for i, line in enumerate(lines) if line.startswith("Forecast as of ")) - 1]
    assert all(len(line) <= 120 for line in rows)
    ids = [line.split("  ")[0] for line in rows]
    assert len(set(ids)) == len(ids), "every shown id is a different deal"
    assert lines[0].split()[:3] == ["id", "name", "owner"]
