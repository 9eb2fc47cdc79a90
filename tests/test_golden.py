"""Golden files: what the CLI prints for the bundled rules and example export, kept in tests/golden/.

Any change to an output -- a column, a rounding, a message, the generated code -- shows as a diff of
these files in review, not only as a failing assertion somewhere. When a change is meant, rewrite them
and review the diff:

    DEALGATE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

Each case runs from the project root (paths in outputs are relative) with a fixed --as-of.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
AS_OF = ["--as-of", "2026-09-30"]
EXPORT = "examples/deals.csv"
REPS = ["--reps", "examples/reps.csv"]

CASES = {
    "compile.py.txt": ["compile", "--rules", "rules"],
    "compile-credits.py.txt": ["compile", "--rules", "rules", "--credits"],
    "score.json": ["score", EXPORT, "--format", "json", "--engine", "python", *AS_OF],
    "score.csv": ["score", EXPORT, "--format", "csv", "--engine", "python", *AS_OF],
    "score-table.txt": ["score", EXPORT, "--format", "table", "--width", "120", "--color", "never", *AS_OF],
    "payout-q3.json": ["payout", EXPORT, *REPS, "--period", "2026-Q3", "--format", "json", *AS_OF],
    "payout-q3.md": ["payout", EXPORT, *REPS, "--period", "2026-Q3", "--format", "markdown", *AS_OF],
    "payout-2026.csv": ["payout", EXPORT, *REPS, "--from", "2026-Q1", "--to", "2026-Q4", "--format", "csv", *AS_OF],
    "explain-deal.txt": ["explain", EXPORT, "--deal", "006X00000012", *AS_OF],
    "explain-rep.txt": ["explain", EXPORT, "--rep", "alice", "--period", "2026-Q3", *REPS, *AS_OF],
    "test-coverage.txt": ["test", "rules", "--coverage", *AS_OF],
}


def run(argv: list[str]) -> str:
    """stdout and stderr of one CLI run, as a user sees them in order."""
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_equals_its_golden_file(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DEALGATE_CACHE_DIR", "off")
    monkeypatch.setenv("NO_COLOR", "1")
    output = run(CASES[name])
    golden = GOLDEN / name
    if os.environ.get("DEALGATE_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(output, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run with DEALGATE_UPDATE_GOLDEN=1 and review it"
    assert output == golden.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file: if the change is meant, rerun with DEALGATE_UPDATE_GOLDEN=1 "
        f"and review `git diff tests/golden/{name}`"
    )


def test_every_golden_file_has_a_case():
    """A golden file whose case was removed would never be checked again."""
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(CASES)
