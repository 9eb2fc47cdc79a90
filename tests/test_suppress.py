"""`# dealgate: ignore[DG310]` comments in rule files (engine/suppress.py), end to end through validate."""

import shutil

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine.suppress import suppressions

UNUSED = "  legacy_score: {type: decimal}"


@pytest.fixture
def pack(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "rules"


def with_field(pack, line: str) -> None:
    fields = pack / "fields.yaml"
    fields.write_text(
        fields.read_text(encoding="utf-8").replace("fields:\n", f"fields:\n{line}\n", 1), encoding="utf-8"
    )


def validate(*argv):
    return CliRunner().invoke(main, ["--no-config", "validate", "rules", *argv])


def test_a_comment_is_found_with_its_codes_and_column():
    (found,) = suppressions("f.yaml", "a: 1\n  x: {type: decimal}  # dealgate: ignore[dg310, DG311] why\n")
    assert (found.location.line, found.location.column, found.codes) == (2, 23, ("DG310", "DG311"))
    (bare,) = suppressions("f.yaml", "x: 1 #dealgate: ignore\n")
    assert bare.codes is None


def test_the_warning_is_reported_without_the_comment(pack):
    with_field(pack, UNUSED)
    result = validate()
    assert result.exit_code == 0 and "warning[DG310]: field 'legacy_score'" in result.output


def test_the_comment_silences_the_warning_on_its_line(pack):
    with_field(pack, UNUSED + "  # dealgate: ignore[DG310]  kept for the finance export")
    result = validate("--strict")
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.stderr


def test_a_bare_comment_silences_every_warning_on_its_line(pack):
    with_field(pack, UNUSED + "  # dealgate: ignore")
    assert validate("--strict").exit_code == 0


def test_a_comment_that_silences_nothing_is_reported(pack):
    with_field(pack, "  legacy_score: {type: decimal, check_only: true}  # dealgate: ignore[DG310]")
    result = validate()
    assert "warning[DG020]: this ignore comment silences nothing: no DG310 on its line" in result.output
    assert validate("--strict").exit_code == 1


def test_an_error_cannot_be_ignored(pack):
    with_field(pack, "  legacy_score: {type: number}  # dealgate: ignore[DG104]")
    result = validate()
    assert result.exit_code == 1
    assert "error[DG104]" in result.output
    assert "warning[DG020]: DG104 is an error here, and errors cannot be ignored" in result.output


def test_a_misspelt_code_is_reported(pack):
    with_field(pack, UNUSED + "  # dealgate: ignore[DG31O]")
    assert "'DG31O' is not a diagnostic code" in validate().output
