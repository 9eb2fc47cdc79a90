"""Exports as the CRMs really write them, scored with the default pack: no rejects, on every engine."""

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

HUBSPOT = ROOT / "tests" / "data" / "exports" / "hubspot.csv"
SALESFORCE_PICKLIST = {  # Salesforce's default Opportunity stage picklist -> the default pack's stage
    "Prospecting": "initial_contact",
    "Qualification": "discovery",
    "Needs Analysis": "discovery",
    "Value Proposition": "meeting",
    "Id. Decision Makers": "meeting",
    "Perception Analysis": "meeting",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    "Closed Won": "closed_won",
    "Closed Lost": "closed_lost",
}


def score(export, engine, tmp_path):
    out = tmp_path / f"{engine}.csv"
    result = CliRunner().invoke(
        main, ["score", str(export), "--as-of", "2026-09-30", "--format", "csv", "--engine", engine, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8"), result.stderr


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_hubspot_ui_export_with_default_labels_and_datetimes_scores_with_no_rejects(engine, tmp_path):
    text, log = score(HUBSPOT, engine, tmp_path)
    assert "read 8, scored 8, rejected 0" in log
    stages = [line.split(",")[5] for line in text.splitlines()[1:]]
    assert stages == [
        "initial_contact",
        "discovery",
        "meeting",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
        "initial_contact",
    ]  # labels, then an internal id
    assert ",stalled" not in text  # "2026-09-20 17:02" is a date: days in stage are counted


def test_both_engines_agree_on_the_hubspot_export(tmp_path):
    assert score(HUBSPOT, "python", tmp_path)[0] == score(HUBSPOT, "duckdb", tmp_path)[0]


def test_salesforces_default_picklist_maps_to_the_default_stages(tmp_path):
    export = tmp_path / "sf.csv"
    rows = [f"006X{n:08d},Deal {n},{label},1000,10/31/2026" for n, label in enumerate(SALESFORCE_PICKLIST)]
    export.write_text("Opportunity ID,Opportunity Name,Stage,Amount,Close Date\n" + "\n".join(rows) + "\n")
    text, log = score(export, "python", tmp_path)
    assert "rejected 0" in log
    assert [line.split(",")[5] for line in text.splitlines()[1:]] == list(SALESFORCE_PICKLIST.values())


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_unknown_stage_labels_are_counted_at_the_end_with_what_they_probably_meant(engine, tmp_path):
    export = tmp_path / "labels.csv"
    export.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Close Date\n1,a,Closd Won,10,10/01/2026\n"
        "2,b,Closd Won,10,10/01/2026\n3,c,Verbal Commit,5,10/01/2026\n"
        "4,d,negotation/review,5,10/01/2026\n5,e,Qualification,5,10/01/2026\n"
    )
    result = CliRunner().invoke(
        main,
        [
            "score",
            str(export),
            "--as-of",
            "2026-09-30",
            "--format",
            "csv",
            "--engine",
            engine,
            "-o",
            str(tmp_path / "out.csv"),
            "--rejects",
            str(tmp_path / "rejects.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "unknown stage labels: 'Closd Won' (2 rows; did you mean 'Closed Won'?), 'Verbal Commit' (1 row), "
        "'negotation/review' (1 row; did you mean 'Negotiation/Review'?); add each to the labels of its stage "
        "in the pipeline, or correct the export\n"
    ) in result.stderr
    assert result.stderr.endswith("read 5, scored 1, rejected 4\n")


def test_no_unknown_labels_no_line(tmp_path):
    _, log = score(HUBSPOT, "python", tmp_path)
    assert "unknown stage labels" not in log


# API answers: records wrapped in an object (engine/read/json.py)

HUBSPOT_API = ROOT / "tests" / "data" / "exports" / "hubspot-api.json"
SALESFORCE_API = ROOT / "tests" / "data" / "exports" / "salesforce-api.json"


def test_the_hubspot_api_shape_reads_with_no_option(tmp_path):
    """results[].properties are the record's keys; paging and archived are left aside; hs_object_id is the id."""
    text, log = score(HUBSPOT_API, "python", tmp_path)
    rows = [line.split(",") for line in text.splitlines()[1:]]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        ("1", "9815301001", "Acme renewal", "alice", "initial_contact"),
        ("2", "9815301002", "Globex", "bob", "discovery"),
    ]
    assert "hubspot-api.json:3: column 'dealstage' rejected: unknown stage label 'nosuchstage'" in log
    assert "warning" not in log and log.endswith("read 3, scored 2, rejected 1\n")


def test_the_salesforce_rest_query_shape_reads_too(tmp_path):
    text, log = score(SALESFORCE_API, "python", tmp_path)
    assert text.splitlines()[1].split(",")[2:6] == ["006A", "X", "", "initial_contact"]
    assert log.endswith("read 1, scored 1, rejected 0\n")


def test_an_object_with_no_records_array_says_where_records_are_looked_for(tmp_path):
    export = tmp_path / "x.json"
    export.write_text('{"total": 2, "deals": {"a": 1}}\n')
    result = CliRunner().invoke(main, ["score", str(export), "--as-of", "2026-09-30", "--format", "csv"])
    assert result.exit_code == 2
    assert (
        "found an object (keys: 'total', 'deals'); an API answer's records are read from an array under "
        "results, records, data, items"
    ) in result.stderr


def test_a_repeated_key_inside_properties_is_still_a_reject(tmp_path):
    export = tmp_path / "dup.json"
    export.write_text(
        '{"results": [{"id": "1", "properties": {"dealstage": "closedwon", "amount": "5", '
        '"amount": "500000", "dealname": "x"}}]}'
    )
    result = CliRunner().invoke(main, ["score", str(export), "--as-of", "2026-09-30", "--format", "csv"])
    assert "key 'amount' appears twice in the record" in result.stderr
    assert result.stderr.endswith("read 1, scored 0, rejected 1\n")


def test_forecast_sums_up_unknown_labels_too(tmp_path):
    export = tmp_path / "labels.csv"
    export.write_text(
        "Opportunity ID,Opportunity Name,Stage,Amount,Close Date\n1,a,Closd Won,10,10/01/2026\n"
        "2,b,Qualification,5,10/01/2026\n"
    )
    result = CliRunner().invoke(main, ["forecast", str(export), "--as-of", "2026-09-30", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "unknown stage labels: 'Closd Won' (1 row; did you mean 'Closed Won'?)" in result.stderr
