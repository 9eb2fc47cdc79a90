"""`--format sarif` for validate and test: SARIF 2.1.0 logs for code-scanning dashboards."""

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine.diagnostics import Diagnostic, Location
from engine.render.sarif import render_diagnostics

SUBSET = json.loads((ROOT / "tests" / "data" / "sarif" / "subset.schema.json").read_text(encoding="utf-8"))
INVALID = ROOT / "tests" / "data" / "invalid"


def assert_valid_sarif(text: str) -> dict:
    log = json.loads(text)
    jsonschema.Draft202012Validator(SUBSET, format_checker=jsonschema.FormatChecker()).validate(log)
    official = os.environ.get("DEALGATE_SARIF_SCHEMA")
    if official:  # the OASIS schema, when a copy is at hand (draft-04)
        schema = json.loads(Path(official).read_text(encoding="utf-8"))
        jsonschema.Draft4Validator(schema).validate(log)
    for result in log["runs"][0]["results"]:
        for location in result.get("locations", []):
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            assert " " not in uri and "\\" not in uri
        rules = log["runs"][0]["tool"]["driver"]["rules"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    return log


def invoke(*argv):
    return CliRunner().invoke(main, list(argv))


def test_validate_sarif_lists_every_diagnostic_with_its_rule_and_place(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("validate", "tests/data/invalid/bad-field-name", "--format", "sarif")
    assert result.exit_code == 1
    log = assert_valid_sarif(result.stdout)
    (run,) = log["runs"]
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == "DG105" and rule["defaultConfiguration"] == {"level": "error"}
    assert rule["shortDescription"]["text"].startswith("An id or field name that is not lower_snake_case")
    (found,) = run["results"]
    assert found["level"] == "error" and found["message"]["text"].startswith("'Amount' is not a valid name")
    location = found["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "tests/data/invalid/bad-field-name/fields.yaml"},
        "region": {"startLine": 7, "startColumn": 3, "endColumn": 9},
    }
    assert run["columnKind"] == "unicodeCodePoints"


def test_every_invalid_pack_gives_a_valid_sarif_log(monkeypatch):
    monkeypatch.chdir(ROOT)
    for pack in sorted(p for p in INVALID.iterdir() if p.is_dir()):
        result = invoke("validate", str(pack.relative_to(ROOT)), "--format", "sarif")
        assert result.exit_code in (0, 1, 2), pack  # a pack with only warnings exits 0
        log = assert_valid_sarif(result.stdout)
        assert log["runs"][0]["results"], pack


def test_a_clean_pack_is_an_empty_run():
    result = invoke("validate", str(ROOT / "rules"), "--format", "sarif")
    assert result.exit_code == 0
    log = assert_valid_sarif(result.stdout)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_a_problem_without_a_position_has_no_region_and_an_absolute_path_is_a_file_uri(tmp_path):
    diagnostics = [
        Diagnostic("DG002", "error", "this is a binary file, not YAML", Location(str(tmp_path / "a b.yaml"))),
        Diagnostic("DG310", "warning", "field 'x' is declared but no rule uses it", None),
    ]
    log = assert_valid_sarif(render_diagnostics(diagnostics))
    first, second = log["runs"][0]["results"]
    assert first["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": (tmp_path / "a b.yaml").as_uri()}}
    assert "locations" not in second and second["level"] == "warning"


def test_an_undocumented_code_still_makes_a_valid_rule():
    log = assert_valid_sarif(render_diagnostics([Diagnostic("DG999", "error", "new", None)]))
    assert log["runs"][0]["tool"]["driver"]["rules"] == [{"id": "DG999"}]


@pytest.fixture
def failing_pack(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "rules", pack)
    cases = next(p for p in (pack / "tests").iterdir() if p.suffix == ".yaml")
    text = cases.read_text(encoding="utf-8")
    assert "verdict: blocked" in text
    cases.write_text(text.replace("verdict: blocked", "verdict: ready", 1), encoding="utf-8")
    return pack, cases


def test_test_sarif_reports_each_failed_case_at_its_place(failing_pack):
    pack, cases = failing_pack
    result = invoke("test", str(pack), "--format", "sarif", "--as-of", "2026-09-30")
    assert result.exit_code == 1
    log = assert_valid_sarif(result.stdout)
    (failed,) = log["runs"][0]["results"]
    assert failed["ruleId"] == "rule-test" and "verdict: expected ready, got blocked" in failed["message"]["text"]
    assert failed["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == cases.as_uri()
    assert "1 failed" in result.stderr  # people read the summary in the log


def test_test_sarif_with_coverage_keeps_stdout_a_sarif_log():
    result = invoke("test", str(ROOT / "rules"), "--format", "sarif", "--coverage", "--as-of", "2026-09-30")
    assert result.exit_code == 0
    assert assert_valid_sarif(result.stdout)["runs"][0]["results"] == []
    assert "coverage: 100.0%" in result.stderr
