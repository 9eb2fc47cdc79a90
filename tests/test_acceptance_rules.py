"""The rule-pack issue's acceptance list, end to end from the CLI on a copy of the default pack."""

import json
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT


@pytest.fixture
def pack(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def validate(*args):
    return CliRunner().invoke(main, ["validate", *map(str, args)])


def test_default_pack_validates_clean():
    result = validate(ROOT / "rules")
    assert result.exit_code == 0 and result.stdout == ""


def test_a_misspelt_field_names_file_line_column_shows_a_caret_and_suggests(pack):
    pipeline = pack / "pipeline.yaml"
    text = pipeline.read_text().replace("when: economic_buyer != null", "when: economic_buyr != null")
    pipeline.write_text(text)
    result = validate(pack)
    assert result.exit_code == 1
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "economic_buyr" in l)
    column = text.splitlines()[line - 1].index("economic_buyr") + 1
    assert f"pipeline.yaml:{line}:{column}: error[DG203]: unknown field 'economic_buyr'" in result.stdout
    excerpt = result.stdout.splitlines()
    at = next(i for i, l in enumerate(excerpt) if l.endswith("when: economic_buyr != null"))
    assert excerpt[at + 1].index("^") == excerpt[at].index("economic_buyr")
    assert "did you mean 'economic_buyer'?" in result.stdout


@pytest.mark.parametrize("expression", ['"().__class__.__bases__"', "\"__import__('os').system('id')\""])
def test_escapes_are_diagnostics_and_nothing_runs(pack, expression, tmp_path, monkeypatch):
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("when: budget_confirmed\n", f"when: {expression}\n", 1))
    result = validate(pack)
    assert result.exit_code == 1 and "DG202" in result.stdout
    assert calls == []


def test_gap_duplicate_key_and_unknown_stage_each_give_one_diagnostic_in_one_run(pack):
    plan = pack / "plans" / "ae.yaml"
    plan.write_text(plan.read_text().replace("{from: 1.0, to: 1.5, rate: 0.12", "{from: 1.2, to: 1.5, rate: 0.12"))
    pipeline = pack / "pipeline.yaml"
    text = pipeline.read_text().replace("    from: meeting\n", "    from: meting\n")
    text = text.replace("    probability: 0.30\n", "    probability: 0.30\n    probability: 0.35\n")
    pipeline.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(pack), "--format", "json"])
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert sorted(d["code"] for d in found) == ["DG005", "DG307", "DG308"]
    messages = " / ".join(d["message"] for d in found)
    assert "no tier covers attainment 1.0–1.2" in messages and "duplicate key 'probability'" in messages
    assert "unknown stage 'meting'" in messages
    for d in found:
        assert set(d) >= {"file", "line", "column", "code", "severity", "message"} and d["line"] > 0


def test_a_billion_laughs_file_is_refused_before_expanding(tmp_path):
    """Refused after at most MAX_NODES node visits, not 10**9: quick by construction (timed in bench notes,
    not here: the test suite holds no wall-clock limits)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("kind: fields\n" + "\n".join(lines) + "\n")
    result = validate(bomb)
    assert result.exit_code == 1 and "DG008" in result.stdout and "billion laughs" in result.stdout
