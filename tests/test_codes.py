"""`dealgate rule CODE`: the documentation of a diagnostic code, read from docs/ (engine/codes.py)."""

import json
import re

from click.testing import CliRunner

from cli import main
from conftest import ROOT
from engine.codes import catalogue, lookup, parse


def invoke(*argv):
    return CliRunner().invoke(main, list(argv))


def test_every_documented_code_is_in_the_catalogue():
    documented = set()
    for name in ("diagnostics.md", "payouts.md"):
        documented |= set(
            re.findall(r"^\| (DG\d{3}) \|", (ROOT / "docs" / name).read_text(encoding="utf-8"), re.MULTILINE)
        )
    assert set(catalogue()) == documented
    assert all(doc.meaning and doc.severity for doc in catalogue().values())


def test_a_table_row_is_split_on_unescaped_pipes_only():
    text = "## DG9xx — tests\n\n| DG901 | error | a `a \\| b` value. More. | `x` → `y` |\n"
    (doc,) = parse("t.md", text).values()
    assert (doc.code, doc.severity, doc.section) == ("DG901", "error", "DG9xx — tests")
    assert doc.meaning == "a `a \\| b` value. More." and doc.summary == "a a | b value"


def test_rule_prints_the_meaning_the_example_and_where_it_is_documented():
    result = invoke("rule", "dg310")
    assert result.exit_code == 0
    assert result.output.startswith("DG310 (warning): DG3xx — meaning across the pack\n")
    assert "check_only: true" in result.output  # Markdown backticks are dropped for the terminal
    assert "Example:\n  → field 'champion' is declared but no rule uses it" in result.output
    assert result.output.endswith("Documented in docs/diagnostics.md.\n")


def test_a_payout_code_is_documented_from_payouts_md():
    assert lookup("DG601").document == "payouts.md"
    result = invoke("rule", "DG601", "--format", "json")
    assert json.loads(result.output)["document"] == "docs/payouts.md"


def test_an_unknown_code_is_a_usage_error_with_the_nearest_codes():
    result = invoke("rule", "DG399")
    assert result.exit_code == 2
    assert "no diagnostic code 'DG399'; did you mean DG319" in result.output


def test_no_code_lists_them_all():
    result = invoke("rule")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(catalogue())
    assert lines[0].startswith("DG001  error")
