"""dealgate.toml and [tool.dealgate]: found upward, checked, and applied as every command's defaults."""

import shutil

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine import config

EXPORT = str(ROOT / "examples" / "deals.csv")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A rule repository: the default pack in packs/sales, one unused field, and no configuration yet."""
    shutil.copytree(ROOT / "rules", tmp_path / "packs" / "sales")
    fields = tmp_path / "packs" / "sales" / "fields.yaml"
    fields.write_text(
        fields.read_text(encoding="utf-8").replace("fields:\n", "fields:\n  legacy_score: {type: decimal}\n", 1),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*argv):
    return CliRunner().invoke(main, list(argv))


def test_the_nearest_file_wins_and_a_pyproject_without_the_table_does_not_count(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dealgate]\nrules = 'r'\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert config.find(sub) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "dealgate.toml").write_text("rules = 'r'\n")
    assert config.find(sub) == tmp_path / "a" / "dealgate.toml"


def test_settings_become_every_commands_defaults(project):
    (project / "dealgate.toml").write_text('rules = "packs/sales"\nas-of = 2026-09-30\n\n[score]\nformat = "csv"\n')
    result = invoke("score", EXPORT)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("as of 2026-09-30\n")
    assert result.stdout.startswith("file,line,id,")
    assert invoke("score", EXPORT, "--format", "json").stdout.startswith('{"as_of"')  # the command line wins
    assert "field 'legacy_score' is declared but no rule uses it" in invoke("validate").output
    assert invoke("test").exit_code == 0


def test_pyproject_table_and_paths_relative_to_the_file(project, monkeypatch):
    (project / "pyproject.toml").write_text('[tool.dealgate]\nrules = "packs/sales"\n')
    sub = project / "docs"
    sub.mkdir()
    monkeypatch.chdir(sub)
    result = invoke("validate")
    assert result.exit_code == 0
    assert "../packs/sales/fields.yaml" in result.output


def test_ignore_and_select_filter_warnings_but_never_errors(project):
    (project / "dealgate.toml").write_text('rules = "packs/sales"\nignore = ["DG310"]\n')
    assert "DG310" not in invoke("validate", "--strict").output
    assert invoke("validate", "--strict").exit_code == 0
    (project / "dealgate.toml").write_text('rules = "packs/sales"\nselect = ["DG2"]\n')
    assert invoke("validate", "--strict").exit_code == 0
    fields = project / "packs" / "sales" / "fields.yaml"
    fields.write_text(
        fields.read_text(encoding="utf-8").replace("legacy_score: {type: decimal}", "legacy_score: {type: number}")
    )
    assert "error[DG104]" in invoke("validate").output  # not selected, but an error


def test_no_config_and_config_options(project):
    (project / "dealgate.toml").write_text('rules = "packs/sales"\nignore = ["DG310"]\n')
    assert "DG310" in invoke("--no-config", "validate", "packs/sales").output
    other = project / "other.toml"
    other.write_text('rules = "packs/sales"\n')
    assert "DG310" in invoke("--config", str(other), "validate").output


@pytest.mark.parametrize(
    "text, message",
    [
        ('rulez = "x"\n', "unknown key 'rulez' in the top level; did you mean 'rules'?"),
        ('[scor]\nformat = "csv"\n', "unknown key 'scor' in the top level; did you mean 'score'?"),
        ('[score]\nfromat = "csv"\n', "'score' has no option '--fromat'; did you mean 'format'?"),
        ('ignore = "DG310"\n', "'ignore' must be a list of codes"),
        ('ignore = ["W310"]\n', "'W310' in 'ignore' is not a diagnostic code or prefix"),
        ("rules = [\n", "not valid TOML"),
        ("\udcff\udcfe", "not valid TOML: not UTF-8 text (byte 0)"),
    ],
)
def test_a_bad_file_is_a_usage_error_naming_it(project, text, message):
    (project / "dealgate.toml").write_bytes(text.encode("utf-8", "surrogateescape"))
    result = invoke("validate")
    assert result.exit_code == 2
    assert f"dealgate: {project / 'dealgate.toml'}: " in result.stderr and message in result.stderr


def test_a_bad_value_for_an_option_is_reported_like_one_on_the_command_line(project):
    (project / "dealgate.toml").write_text('[score]\nformat = "xml"\n')
    result = invoke("score", EXPORT, "--rules", "packs/sales")
    assert result.exit_code == 2 and "'xml' is not one of" in result.output
