"""`dealgate init`: a new rule repository that validates and tests clean (engine/scaffold.py)."""

import yaml
from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine import scaffold


def invoke(*argv):
    return CliRunner().invoke(main, list(argv))


def test_a_new_repository_validates_tests_scores_and_pays_clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "newpack")
    assert result.exit_code == 0, result.output
    assert "created newpack/rules/pipeline.yaml" in result.stdout
    assert "next: cd newpack && dealgate validate --strict" in result.stderr
    monkeypatch.chdir(tmp_path / "newpack")
    validated = invoke("validate", "--strict")
    assert validated.exit_code == 0 and "no problems found" in validated.stderr
    tested = invoke("test")
    assert tested.exit_code == 0 and "20 passed, 0 failed" in tested.output
    assert tested.stderr.startswith("as of 2026-09-30")  # dealgate.toml pins the date
    scored = invoke("score", "samples/deals.csv", "--format", "csv")
    assert scored.exit_code == 0 and "read 200, scored 200, rejected 0" in scored.stderr
    paid = invoke("payout", "samples/deals.csv", "--period", "2026-Q3", "--format", "csv")  # reps from the config
    assert paid.exit_code == 0, paid.output
    assert paid.stdout.startswith("rep,name,plan,period")


def test_the_pack_is_the_bundled_one_and_the_reps_the_examples():
    assert scaffold.default_pack() == {
        str(p.relative_to(ROOT / "rules")): p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "rules").rglob("*.yaml"))
    }
    assert scaffold.REPS == (ROOT / "examples" / "reps.csv").read_text(encoding="utf-8")


def test_every_modeline_names_a_schema_the_repository_has(tmp_path):
    """Editors complete from the $schema modelines (docs/editors.md): their paths must resolve in the new repo."""
    import re

    scaffold.scaffold(tmp_path)
    rule_files = sorted((tmp_path / "rules").rglob("*.yaml"))
    assert len(rule_files) == 6
    for path in rule_files:
        (target,) = re.findall(r"\$schema=(\S+)", path.read_text(encoding="utf-8").splitlines()[0])
        assert (path.parent / target).resolve().is_file(), path


def test_the_ci_files_are_yaml_that_run_dealgate():
    files = scaffold.files()
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]["hooks"]
    assert [h["entry"] for h in hooks] == ["dealgate validate --strict", "dealgate test"]
    steps = yaml.safe_load(files[".github/workflows/rules.yml"])["jobs"]["rules"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "dealgate validate --strict --format github" in runs and "dealgate test" in runs


def test_existing_files_are_not_overwritten_without_force(tmp_path):
    assert invoke("init", str(tmp_path)).exit_code == 0
    pipeline = tmp_path / "rules" / "pipeline.yaml"
    pipeline.write_text("# mine\n")
    again = invoke("init", str(tmp_path))
    assert again.exit_code == 2
    assert f"{len(scaffold.files())} files would be overwritten" in again.stderr and "--force" in again.stderr
    assert pipeline.read_text() == "# mine\n"
    assert invoke("init", str(tmp_path), "--force").exit_code == 0
    assert pipeline.read_text() != "# mine\n"


def test_an_unwritable_place_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("init", str(blocker / "sub"))
    assert result.exit_code == 2 and "dealgate: cannot write" in result.stderr
