"""The pre-commit hooks (.pre-commit-hooks.yaml) catch an invalid rule file in a rule repository."""

import shutil
import subprocess

import pytest

from conftest import ROOT


def git(*args, cwd):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True
    )


@pytest.fixture
def rule_repo(tmp_path):
    if shutil.which("pre-commit") is None or shutil.which("git") is None:
        pytest.skip("pre-commit or git is not installed (pip install -e '.[test]' installs pre-commit)")
    repo = tmp_path / "rule-repo"
    shutil.copytree(ROOT / "examples" / "rule-repo", repo)
    git("init", "-q", ".", cwd=repo)
    return repo


def try_repo(repo, hook):
    return subprocess.run(
        ["pre-commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_pre_commit_passes_a_valid_pack_and_catches_an_invalid_rule_file(rule_repo):
    git("add", ".", cwd=rule_repo)
    clean = try_repo(rule_repo, "dealgate-validate")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    pipeline = rule_repo / "rules" / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("    probability: 0.30", "    probabilty: 0.30"))
    git("add", ".", cwd=rule_repo)
    broken = try_repo(rule_repo, "dealgate-validate")
    assert broken.returncode != 0
    assert "unknown key 'probabilty'" in broken.stdout and "did you mean 'probability'?" in broken.stdout
    assert "rules/pipeline.yaml:" in broken.stdout
