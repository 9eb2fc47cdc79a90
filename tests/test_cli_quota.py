"""Quotas are money: `score --quota` and a reps file's quota are read as money cells are, in their
currency (issue 10), and a quota in another currency is refused with its reason, never compared or
paid as this one's."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

EUROPEAN = ROOT / "tests" / "data" / "european"
EXAMPLE = ROOT / "examples" / "deals.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [*args, *AS_OF])


def coverage(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["summary"]["coverage"]


@pytest.mark.parametrize("quota", ["$100,000,000", "100000000 USD", "1e8", "100,000,000.00"])
def test_a_quota_in_the_packs_currency_is_read_as_an_amount(quota):
    assert coverage(run("score", str(EXAMPLE), "--rules", str(ROOT / "rules"), "--quota", quota, "--format", "json"))[
        "quota"
    ] == ("100000000.00")


@pytest.mark.parametrize(
    "quota, reason",
    [
        ("EUR 100000", "'EUR 100000' is in EUR, not USD"),
        ("€100000", "'€100000' is in €, not USD"),
        ("100.000,00", "'100.000,00' is not an amount (a comma may only separate thousands)"),
        ("-5", "'-5' must be more than zero"),
        ("lots", "'lots' is not an amount"),
    ],
)
def test_a_quota_in_another_currency_or_malformed_is_refused(quota, reason):
    result = run("score", str(EXAMPLE), "--rules", str(ROOT / "rules"), "--quota", quota)
    assert result.exit_code == 2
    assert f"Invalid value for '--quota': {reason}" in result.stderr


def test_a_european_packs_quota_is_written_as_its_amounts_are():
    args = ["score", str(EUROPEAN / "deals.csv"), "--rules", str(EUROPEAN / "rules"), "--delimiter", ";"]
    assert coverage(run(*args, "--quota", "100.000,00 €", "--format", "json"))["quota"] == "100000.00"
    refused = run(*args, "--quota", "100,000.00")
    assert refused.exit_code == 2 and "the decimal mark is ','" in refused.stderr


def test_a_reps_file_quota_in_another_currency_stops_the_payout_at_its_line(tmp_path):
    reps = tmp_path / "reps.csv"
    reps.write_text("id,plan,quota\nalice,ae-2026,EUR 400000\nbob,ae-2026,250000\n", encoding="utf-8")
    result = run("payout", str(EXAMPLE), "--rules", str(ROOT / "rules"), "--reps", str(reps), "--period", "2026-Q3")
    assert result.exit_code == 2
    assert f"{reps}:2:15: error[DG603]: quota of rep 'alice': 'EUR 400000' is in EUR, not USD" in result.stderr
