"""The acceptance scenarios of issue 13, from the CLI, on a copy of the default pack: the mistakes a
new rule author makes, each reported once, at its token, in words that fit."""

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rules(tmp_path, monkeypatch):
    """A copy of rules/ in ./rules, and a function to edit one of its files by text replacement."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "rules", tmp_path / "rules")

    def edit(name, old, new):
        path = tmp_path / "rules" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def validate(*args):
    return CliRunner().invoke(main, ["validate", "rules", *args], catch_exceptions=False)


def reported(result):
    return re.findall(r"^(\S+?):(\d+):(\d+): (\w+)\[(DG\d+)\]: (.*)$", result.stdout, re.MULTILINE)


def test_a_dedented_when_is_one_indentation_error_at_its_line(rules):
    rules("pipeline.yaml", "        when: budget_confirmed\n", "      when: budget_confirmed\n")
    [(file, line, column, severity, code, message)] = reported(validate())
    assert (file, code) == ("rules/pipeline.yaml", "DG009")
    assert (ROOT / "rules/pipeline.yaml").read_text().splitlines()[int(line) - 1].strip() == "when: budget_confirmed"
    assert "inconsistent indentation" in message and "?" not in message


def test_four_mistakes_in_three_documents_one_run(rules):
    rules("pipeline.yaml", "    probability: 0.30\n", "    probability: 0.30\n    colour: red\n")
    rules("pipeline.yaml", "when: champion != null", "when: champpion != null")
    rules("pipeline.yaml", "    from: proposal\n", "    from: propsal\n")
    rules("plans/ae.yaml", "period: quarter\n", "period: quarter\nquotaa: 1\n")
    found = [(file, code, message) for file, _, _, _, code, message in reported(validate())]
    assert found == [
        ("rules/pipeline.yaml", "DG101", "unknown key 'colour' in stages[2]"),
        ("rules/pipeline.yaml", "DG203", "unknown field 'champpion'"),
        ("rules/pipeline.yaml", "DG307", "unknown stage 'propsal' in 'from'"),
        ("rules/plans/ae.yaml", "DG101", "unknown key 'quotaa' in the document"),
    ]


def test_swapped_tiers_are_one_out_of_order_error(rules):
    base = "    - {from: 0.5, to: 1.0, rate: 0.08, label: base}\n"
    accelerator = "    - {from: 1.0, to: 1.5, rate: 0.12, label: accelerator}\n"
    rules("plans/ae.yaml", base + accelerator, accelerator + base)
    [(_, _, _, severity, code, message)] = reported(validate())
    assert (severity, code) == ("error", "DG308") and "out of order" in message


def test_a_rate_written_as_a_percentage_is_a_warning_suggesting_the_fraction(rules):
    rules("plans/ae.yaml", "rate: 0.12, label: accelerator", "rate: 12, label: accelerator")
    result = validate()
    [(_, _, _, severity, code, _)] = reported(result)
    assert (severity, code) == ("warning", "DG324")
    assert "did you mean 0.12?" in result.stdout
    assert validate("--strict").exit_code == 1


def test_carets_span_the_offending_token(rules):
    rules("pipeline.yaml", "    from: proposal\n", "    from: Proposal/Price Quote\n")
    rules("pipeline.yaml", "when: close_date < as_of", "when: close_date < today()")
    out = validate().stdout
    assert "|           ^^^^^^^^^^^^^^^^^^^^\n" in out  # under 'Proposal/Price Quote'
    assert "is a CRM label of stage 'proposal'; write its id: from: proposal" in out
    assert "|                        ^^^^^^^\n" in out  # under 'today()'
    assert "write as_of" in out


def test_both_rate_and_tiers_points_at_the_second_key(rules):
    rules("plans/ae.yaml", "  basis: attainment\n", "  basis: attainment\n  rate: 0.1\n")
    [(_, line, column, _, code, _)] = reported(validate())
    text = (Path("rules/plans/ae.yaml")).read_text().splitlines()[int(line) - 1]
    assert code == "DG106" and text[int(column) - 1 :].startswith("tiers:")
