"""End-to-end: `dealgate test` (cases, coverage, JUnit, GitHub) and `dealgate diff` (dirs and git refs)."""

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

EXPORT = ROOT / "examples" / "deals.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def pack(tmp_path):
    """A copy of the default pack to change."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


# dealgate test


def test_default_pack_tests_pass_with_full_coverage_and_junit(tmp_path):
    junit = tmp_path / "out.xml"
    result = run("test", ROOT / "rules", "--coverage", "--min-coverage", "100", "--junit", junit)
    assert result.exit_code == 0, result.output
    assert "coverage: 100.0%" in result.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and int(root.get("failures")) == 0 and int(root.get("errors")) == 0
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) > 10
    assert all(c.get("name") and c.get("classname") and c.get("file") for c in cases)


def test_a_failing_case_reports_expected_vs_actual_with_its_location(pack, tmp_path):
    tests = pack / "tests" / "pipeline.yaml"
    text = tests.read_text().replace(
        "expect: {verdict: blocked, failed: [access_to_funds, compelling_event]",
        "expect: {verdict: ready, failed: [access_to_funds, compelling_event]",
    )
    tests.write_text(text)
    junit = tmp_path / "out.xml"
    result = run("test", pack, "--junit", junit)
    assert result.exit_code == 1
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "discovery deal without budget" in l)
    assert f"tests/pipeline.yaml:{line}:5: FAIL discovery deal without budget" in result.stdout
    assert "verdict: expected ready, got blocked" in result.stdout
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert len(failures) == 1 and "expected ready, got blocked" in failures[0].text


def test_github_format_annotates_failures(pack):
    tests = pack / "tests" / "pipeline.yaml"
    tests.write_text(tests.read_text().replace("weighted_amount: 32000}", "weighted_amount: 31000}"))
    result = run("test", pack, "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=") and "line=" in result.stdout
    assert "weighted_amount: expected 31000, got 32000" in result.stdout


def test_min_coverage_fails_when_a_criterion_is_only_seen_one_way(pack):
    (pack / "tests" / "pipeline.yaml").write_text(
        "kind: tests\nas_of: '2026-09-30'\ncases:\n"
        "  - name: approved discount\n"
        "    deal: {id: X, stage: negotiation, stage_entered: '2026-09-20', discount: 0.3, discount_approved: true}\n"
        "    expect: {failed: []}\n"
    )
    result = run("test", pack, "--coverage", "--min-coverage", "100")
    assert result.exit_code == 1
    line = next(l for l in result.stdout.splitlines() if "discount_approval" in l)
    assert line.split()[3:] == ["1", "pass", "<-", "never", "fail"]
    assert "below --min-coverage 100%" in result.stderr


# dealgate diff


def scored_outcomes(rules) -> dict:
    result = run("score", "--rules", rules, EXPORT, "--format", "json", *AS_OF)
    return {
        d["line"]: (d["verdict"], d["failed"], d["evidence_stage"], d["weighted_amount"], d["qualify_out"])
        for d in json.loads(result.stdout)["deals"]
    }


def changed_lines(diff_json: str) -> set:
    return {c["line"] for c in json.loads(diff_json)["changes"]}


def test_changing_a_probability_shows_exactly_the_deals_of_that_stage(pack):
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("probability: 0.60", "probability: 0.65"))
    result = run("diff", ROOT / "rules", pack, "--deals", EXPORT, "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    before, after = scored_outcomes(ROOT / "rules"), scored_outcomes(pack)
    expected = {line for line in before if before[line] != after[line]}
    assert expected and changed_lines(result.stdout) == expected
    data = json.loads(result.stdout)
    assert {c["stage"] for c in data["changes"]} == {"proposal"}
    assert all(set(c["changes"]) == {"probability", "weighted_amount"} for c in data["changes"])


def test_tightening_a_criterion_shows_exactly_the_deals_that_change(pack):
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("coalesce(discount, 0) <= 0.15", "coalesce(discount, 0) <= 0.05"))
    result = run("diff", ROOT / "rules", pack, "--deals", EXPORT, "--format", "json", *AS_OF)
    before, after = scored_outcomes(ROOT / "rules"), scored_outcomes(pack)
    expected = {line for line in before if before[line] != after[line]}
    assert expected and changed_lines(result.stdout) == expected
    assert run("diff", ROOT / "rules", pack, "--deals", EXPORT, "--fail-on-change", *AS_OF).exit_code == 1
    assert run("diff", ROOT / "rules", ROOT / "rules", "--deals", EXPORT, "--fail-on-change", *AS_OF).exit_code == 0


def test_markdown_report_for_a_pull_request(pack):
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("days_in_stage > 90", "days_in_stage > 60"))
    result = run("diff", ROOT / "rules", pack, "--deals", EXPORT, "--format", "markdown", *AS_OF)
    assert result.stdout.startswith("### dealgate diff:")
    assert "| line | deal | stage | what changes |" in result.stdout
    assert "verdict ready → disqualified" in result.stdout or "verdict blocked → disqualified" in result.stdout


def test_git_refs_are_read_from_the_repository(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "rules", repo / "rules")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q", str(repo)], check=True)
    subprocess.run(git + ["-C", str(repo), "add", "."], check=True)
    subprocess.run(git + ["-C", str(repo), "commit", "-qm", "base"], check=True)
    pipeline = repo / "rules" / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("probability: 0.80", "probability: 0.75"))
    monkeypatch.chdir(repo)
    result = run("diff", "git:HEAD", "rules", "--deals", EXPORT, "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changes"] and {c["stage"] for c in data["changes"]} == {"negotiation"}
    bad = run("diff", "git:no-such-ref", "rules", "--deals", EXPORT, *AS_OF)
    assert bad.exit_code == 2 and "git" in bad.stderr


def test_example_rule_repository_is_the_default_pack_and_passes():
    """examples/rule-repo/rules is a copy of rules/ (modelines aside): it must not drift."""
    import re

    repo_rules = ROOT / "examples" / "rule-repo" / "rules"
    strip = lambda text: re.sub(r"\$schema=\S+", "", text)  # noqa: E731
    ours = {p.relative_to(ROOT / "rules"): strip(p.read_text()) for p in (ROOT / "rules").rglob("*.yaml")}
    theirs = {p.relative_to(repo_rules): strip(p.read_text()) for p in repo_rules.rglob("*.yaml")}
    assert ours == theirs, "copy rules/ to examples/rule-repo/rules/ (keeping its $schema paths)"
    assert run("test", repo_rules, "--min-coverage", "100").exit_code == 0


def test_diff_reports_the_per_rep_payout_delta_of_a_tier_rate_change(pack):
    plan = pack / "plans" / "ae.yaml"
    plan.write_text(plan.read_text().replace("rate: 0.12, label: accelerator", "rate: 0.13, label: accelerator"))
    result = run(
        "diff",
        ROOT / "rules",
        pack,
        "--deals",
        EXPORT,
        "--reps",
        ROOT / "examples" / "reps.csv",
        "--period",
        "2026-Q3",
        "--format",
        "json",
        *AS_OF,
    )
    assert result.exit_code == 0, result.output
    payouts = json.loads(result.stdout)["payouts"]
    assert payouts["reps"], "someone above 100% of quota earns more"
    assert all(Decimal(r["delta"]) > 0 for r in payouts["reps"])
    total_delta = Decimal(payouts["total"]["after"]) - Decimal(payouts["total"]["before"])
    assert total_delta == sum(Decimal(r["delta"]) for r in payouts["reps"])
    assert json.loads(result.stdout)["changes"] == []  # a plan change moves no deal
