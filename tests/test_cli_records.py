"""Issue 13, item 5: a JSON export may name where its records are (``--records``).

tests/data/exports/nested-api.json is an API answer of a shape dealgate does not read by default:
``{"meta": …, "data": {"page": 1, "opportunities": [{"Id": …, "fields": {…}}]}}``. Named with
``--records data.opportunities[].fields`` (or in dealgate.toml), every command that reads exports
reads its records; a path that leads nowhere, or to something other than a list, stops the run with
the keys that are there.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cli import main
from conftest import ROOT
from engine.pack import load_ruleset
from engine.read import ExportError, ExportReader, RecordsPath

EXPORTS = ROOT / "tests" / "data" / "exports"
NESTED = EXPORTS / "nested-api.json"
NESTED_LINES = EXPORTS / "nested-api.jsonl"
PATH = "data.opportunities[].fields"
RULES = ["--rules", str(ROOT / "rules"), "--as-of", "2026-09-30"]
NO_FIELDS = "rejected: the record's fields are to be in an object at 'fields' (--records); found nothing"


def run(*args):
    rules = RULES if args[0] != "diff" else RULES[2:]  # diff names its two packs
    return CliRunner().invoke(main, [*args, *rules])


# the path


@pytest.mark.parametrize(
    "text, array, fields",
    [
        ("results", ("results",), None),
        ("data.opportunities", ("data", "opportunities"), None),
        ("results[].properties", ("results",), ("properties",)),
        ("[].fields", (), ("fields",)),
        ("[]", (), None),
        ("a.b[].c.d", ("a", "b"), ("c", "d")),
    ],
)
def test_a_records_path_reads_back_as_written(text, array, fields):
    path = RecordsPath.parse(text)
    assert (path.array, path.fields) == (array, fields)
    assert str(path) == text


KEY = st.text(st.characters(blacklist_characters=".[]", blacklist_categories=("Cs",)), min_size=1)
KEYS = st.lists(KEY.filter(lambda key: key == key.strip()), max_size=3)  # a path is read stripped


@given(KEYS, st.one_of(st.none(), KEYS.filter(bool)))
def test_any_records_path_written_out_parses_back(array, fields):
    path = RecordsPath(tuple(array), None if fields is None else tuple(fields))
    if not path.array and path.fields is None:
        assert str(path) == "[]"
    assert RecordsPath.parse(str(path)) == path


@pytest.mark.parametrize("text", ["", "data..deals", "results[]properties", "a[].", "a[b]", ".a"])
def test_a_malformed_records_path_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="e.g."):
        RecordsPath.parse(text)


# every command that reads exports


@pytest.mark.parametrize(
    "command",
    [
        ["score", str(NESTED), "--format", "csv"],
        ["explain", str(NESTED), "--deal", "006A2"],
        ["explain", str(NESTED), "--rep", "bob", "--period", "2026-Q3", "--reps", str(ROOT / "examples" / "reps.csv")],
        ["payout", str(NESTED), "--reps", str(ROOT / "examples" / "reps.csv"), "--period", "2026-Q3"],
        ["diff", str(ROOT / "rules"), str(ROOT / "rules"), "--deals", str(NESTED)],
        ["forecast", str(NESTED)],
        ["calibrate", str(NESTED)],
    ],
    ids=lambda command: command[0],
)
def test_every_command_reads_the_records_where_they_are_named(command):
    unnamed = run(*command)
    assert unnamed.exit_code == 2, unnamed.output
    assert "found an object (keys: 'meta', 'data')" in unnamed.stderr
    named = run(*command, "--records", PATH)
    assert named.exit_code == 0, named.stderr
    if "--deal" in command:
        assert "Deal 006A2 — Globex (owner bob)" in named.stdout
    else:
        assert "read 4, scored 2, rejected 2" in named.stderr or "0 deals of 4 change" in named.stdout


def test_movement_reads_both_exports_where_they_are_named(tmp_path):
    old = tmp_path / "old.json"
    shutil.copy(NESTED, old)
    result = run("movement", str(old), str(NESTED), "--old-as-of", "2026-09-01", "--records", PATH)
    assert result.exit_code == 0, result.stderr


def test_segment_reads_an_accounts_export_where_it_is_named(tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"page": {"accounts": [{"fields": {"id": "A1", "name": "Acme"}}]}}))
    result = CliRunner().invoke(
        main,
        ["segment", str(accounts), "--rules", str(ROOT / "examples" / "rule-repo" / "rules")]
        + ["--segments", str(ROOT / "examples" / "segments.yaml"), "--as-of", "2026-09-30"]
        + ["--records", "page.accounts[].fields", "--format", "csv"],
    )
    assert "found an object" not in result.stderr, result.stderr
    assert "read 1," in result.stderr, result.stderr


def test_the_scored_deals_are_the_records_of_the_named_list():
    result = run("score", str(NESTED), "--records", PATH, "--format", "jsonl")
    deals = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["line"], d["id"], d["owner"], d["amount"]) for d in deals] == [
        (1, "006A1", "alice", "24000.00"),
        (2, "006A2", "bob", "58000.00"),
    ]
    assert f"nested-api.json:4: {NO_FIELDS}" in result.stderr  # the record without its 'fields' object
    assert "nested-api.json:3: column 'StageName' rejected: unknown stage label 'Nope'" in result.stderr


# where the path leads nowhere


@pytest.mark.parametrize(
    "path, message",
    [
        (
            "data.deals",
            "nested-api.json:6: --records 'data.deals': no 'deals' in 'data' (its keys: 'page', 'opportunities')",
        ),
        (
            "results[].properties",
            "--records 'results[].properties': no 'results' in the export's top-level object "
            "(its keys: 'meta', 'data')",
        ),
        ("data.page", "nested-api.json:7: --records 'data.page': 'data.page' is a number, not a list of records"),
        ("meta", "--records 'meta': 'meta' is an object (keys: 'total', 'exported'), not a list of records"),
        ("data.page.x", "--records 'data.page.x': 'data.page' is a number, not an object"),
        ("[].fields", "--records '[].fields' says the export is a list of records; it is an object"),
    ],
)
def test_a_path_that_leads_to_no_list_stops_with_the_keys_there(path, message):
    result = run("score", str(NESTED), "--records", path, "--format", "csv")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_list_export_is_not_an_object_to_look_into(tmp_path):
    export = tmp_path / "list.json"
    export.write_text('[{"Id": "1"}]')
    result = run("score", str(export), "--records", "results")
    assert result.exit_code == 2
    assert "--records 'results' names a member of an object; the export is not one" in result.stderr


def test_a_malformed_path_is_a_usage_error():
    result = run("score", str(NESTED), "--records", "data..opportunities")
    assert result.exit_code == 2
    assert "Invalid value for '--records': 'data..opportunities' is not a path" in result.stderr


# JSONL and CSV


def test_in_jsonl_the_path_names_where_each_lines_fields_are():
    result = run("score", str(NESTED_LINES), "--records", "[].fields", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert f"nested-api.jsonl:4: {NO_FIELDS}" in result.stderr
    assert "read 4, scored 2, rejected 2" in result.stderr


def test_in_jsonl_a_list_path_is_refused():
    result = run("score", str(NESTED_LINES), "--records", PATH)
    assert result.exit_code == 2
    assert "a JSONL export has one record per line, so it names no list; name only where each line's fields are" in (
        result.stderr
    )


def test_typed_for_a_csv_export_it_is_a_usage_error():
    result = run("score", str(ROOT / "examples" / "deals.csv"), "--records", "results")
    assert result.exit_code == 2
    assert "--records names where a JSON export's records are; " in result.stderr
    assert "is read as CSV" in result.stderr


def test_named_records_are_read_as_they_are_no_properties_guessed():
    """The default reads HubSpot's 'properties'; a named path says exactly where the fields are."""
    hubspot = EXPORTS / "hubspot-api.json"
    default = run("score", str(hubspot), "--format", "csv")
    named = run("score", str(hubspot), "--records", "results[].properties", "--format", "csv")
    assert named.exit_code == default.exit_code == 0
    assert named.stdout == default.stdout
    as_is = run("score", str(hubspot), "--records", "results", "--format", "csv")
    assert "missing required field 'stage'" in as_is.stderr  # dealstage is inside 'properties', not read


# the configuration


def test_dealgate_toml_names_the_records_for_every_command(tmp_path, monkeypatch):
    (tmp_path / "dealgate.toml").write_text(f'records = "{PATH}"\n')
    monkeypatch.chdir(tmp_path)
    scored = run("score", str(NESTED), "--format", "csv")
    assert scored.exit_code == 0, scored.stderr
    assert "read 4, scored 2, rejected 2" in scored.stderr
    # a CSV export reads no records path: the setting applies to JSON exports only
    csv_run = run("score", str(ROOT / "examples" / "deals.csv"), "--format", "csv")
    assert csv_run.exit_code == 0, csv_run.stderr
    # and the command line wins: '' is the default shapes again
    again = run("score", str(NESTED), "--records", "", "--format", "csv")
    assert again.exit_code == 2 and "found an object (keys: 'meta', 'data')" in again.stderr


def test_a_commands_table_names_them_for_that_command(tmp_path, monkeypatch):
    (tmp_path / "dealgate.toml").write_text(f'[forecast]\nrecords = "{PATH}"\n')
    monkeypatch.chdir(tmp_path)
    assert run("forecast", str(NESTED)).exit_code == 0
    assert run("score", str(NESTED)).exit_code == 2


def test_a_records_setting_that_is_not_text_is_a_configuration_error(tmp_path, monkeypatch):
    (tmp_path / "dealgate.toml").write_text("records = 3\n")
    monkeypatch.chdir(tmp_path)
    result = run("score", str(NESTED))
    assert result.exit_code == 2
    assert "'records' must be a path (a string)" in result.stderr


# the library


def test_the_reader_streams_the_named_list():
    ruleset, _ = load_ruleset([ROOT / "rules"])
    text = io.StringIO(json.dumps({"a": {"skip": [1, 2], "b": [{"x": {"Id": "1", "Stage": "Closed Won"}}]}}))
    with ExportReader(ruleset.analysis, text, fmt="json", records_path=RecordsPath.parse("a.b[].x")) as reader:
        ((line, deal),) = list(reader.records())
    assert (line, deal["id"], deal["stage"]) == (1, "1", "closed_won")


def test_a_reader_of_a_missing_path_raises_an_export_error():
    ruleset, _ = load_ruleset([ROOT / "rules"])
    text = io.StringIO('{"a": {"c": []}}')
    with ExportReader(ruleset.analysis, text, fmt="json", records_path=RecordsPath.parse("a.b")) as reader:
        with pytest.raises(ExportError, match=r"no 'b' in 'a' \(its keys: 'c'\)"):
            list(reader.records())


@pytest.mark.parametrize(
    "command",
    [["score", "--format", "jsonl"], ["payout", "--reps", str(ROOT / "examples" / "reps.csv"), "--period", "2026-Q3"]],
)
def test_the_sql_engines_hand_the_named_records_to_the_python_reader(command):
    name, *options = command
    python = run(name, str(NESTED), *options, "--records", PATH, "--engine", "python")
    duckdb = run(name, str(NESTED), *options, "--records", PATH, "--engine", "duckdb", "-v")
    assert duckdb.exit_code == python.exit_code == 0, duckdb.stderr
    assert duckdb.stdout == python.stdout
    assert "json exports are read by the Python engine" in duckdb.stderr
