"""Multi-currency deals converted with a dated FX table (docs/payouts.md#multi-currency)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_payout_support import ROOT, D

from cli import main
from engine.payout.fx import parse_fx, read_fx

DATA = ROOT / "tests" / "data" / "fx"
FIELD = """\
  deal_currency:
    type: string
    description: ISO code of the deal's currency
    columns: [Currency, CurrencyIsoCode]
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """The default pack plus a deal currency field and tests/data/fx/plan.yaml."""
    pack = tmp_path_factory.mktemp("fx") / "rules"
    shutil.copytree(ROOT / "rules", pack)
    fields = pack / "fields.yaml"
    fields.write_text(
        fields.read_text(encoding="utf-8").replace("  split:\n", FIELD + "  split:\n", 1), encoding="utf-8"
    )
    shutil.copy(DATA / "plan.yaml", pack / "plans" / "global.yaml")
    return pack


def dealgate(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def payout(rules, *args, code=0, fx=DATA / "rates.csv"):
    extra = ["--fx", fx] if fx else []
    return dealgate(
        "payout", DATA / "deals.csv", "--reps", DATA / "reps.csv", "--rules", rules, "--period", "2026-03",
        "--as-of", "2026-04-01", "--format", "json", *extra, *args, code=code,
    )  # fmt: skip


def test_idynamics_pound_invoice_paid_in_dollars(rules):
    """iDynamics Commissions ("Commission & Settlement Currency"): a £1,000 invoice at 10% is £100 of
    commission, $122 at the rate of the day it was posted (£1 = $1.22)."""
    result = payout(rules, code=1)  # code 1: J1, in yen, has no rate (DG621)
    [march] = json.loads(result.stdout)["statements"]
    g1 = next(line for line in march["lines"] if line["deal"] == "G1")
    assert (g1["credit"], g1["amount"]) == ("1220", "122.00")
    assert g1["note"] == "GBP 1,000.00 at 1.22 (rate of 2026-03-01)"


def test_each_deal_at_the_rate_in_force_on_its_credit_date(rules):
    result = payout(rules, code=1)
    [march] = json.loads(result.stdout)["statements"]
    got = {line["deal"]: (line["credit"], line["amount"]) for line in march["lines"]}
    assert got == {
        "G1": ("1220", "122.00"),
        "E1": ("10800", "1080.00"),  # 2026-03-10: the 2026-03-01 rate, 1.08
        "E2": ("11000", "1100.00"),  # 2026-03-20: the 2026-03-16 rate, 1.10
        "U1": ("5000", "500.00"),  # blank currency: the plan's own
    }
    assert march["total"] == "2802.00"
    assert "deal J1: no JPY->USD rate on or before 2026-03-28" in result.stderr and "DG621" in result.stderr
    assert "hint: add a row '2026-03-28,JPY,USD,<rate>' to the FX table" in result.stderr


def test_the_rate_of_the_period_end(rules, tmp_path):
    pack = tmp_path / "rules"
    shutil.copytree(rules, pack)
    plan = pack / "plans" / "global.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("rate_date: credit", "rate_date: period_end"))
    [march] = json.loads(payout(pack, code=1).stdout)["statements"]
    got = {line["deal"]: line["note"] for line in march["lines"]}
    assert got["E1"] == "EUR 10,000.00 at 1.10 (rate of 2026-03-16)"  # the rate in force on 2026-03-31
    assert got["G1"] == "GBP 1,000.00 at 1.22 (rate of 2026-03-01)"


def test_a_plan_that_converts_needs_the_table(rules):
    result = payout(rules, fx=None, code=2)
    assert "plan 'ae-global' converts deals from other currencies: give the FX table with --fx FILE" in result.stderr


def test_fx_table_problems_point_at_line_and_column(rules, tmp_path):
    table = tmp_path / "rates.csv"
    table.write_text(
        "date,from,to,rate\n2026-03-01,GBP,USD,1.22\n2026-13-01,EUR,USD,1.1\n2026-03-01,EURO,USD,1.1\n"
        "2026-03-01,EUR,USD,-1\n2026-03-01,GBP,USD,1.23\n",
        encoding="utf-8",
    )
    found = read_fx(table)
    shown = {(d.line, d.column): d.message for d in found.diagnostics}
    assert "not a valid date" in shown[(3, 1)] or "date" in shown[(3, 1)]
    assert shown[(4, 12)] == "'EURO' is not a currency code"
    assert shown[(5, 20)] == "FX rate must be more than 0, not -1"
    assert shown[(6, 1)] == "GBP->USD on 2026-03-01 is 1.22 on line 2 and 1.23 here"
    assert all(d.code == "DG620" for d in found.diagnostics)
    result = payout(rules, fx=table, code=2)
    assert f"{table}:4:12: error[DG620]" in result.stderr and "has errors" in result.stderr


def test_unknown_fx_columns_get_a_did_you_mean():
    found = parse_fx("date,from,to,rte\n", "rates.csv")
    assert [d.hint for d in found.diagnostics][0] == "did you mean 'rate'?"


def test_the_sql_engines_refuse_conversion(rules):
    pytest.importorskip("duckdb")
    result = payout(rules, "--engine", "duckdb", code=1)
    assert "plan 'ae-global' currency conversion cannot run on the SQL engines" in result.stderr


def test_the_ledger_books_the_fx_table_as_data(rules, tmp_path):
    ledger = tmp_path / "comp.db"
    run = payout(rules, "--ledger", ledger, code=1)  # a deal without a rate: an error, the ledger is not written
    assert "not written: the payout has errors" in run.stderr
    table = tmp_path / "rates.csv"
    table.write_text((DATA / "rates.csv").read_text(encoding="utf-8") + "2026-03-01,JPY,USD,0.0067\n", encoding="utf-8")
    first = payout(rules, "--ledger", ledger, fx=table)
    assert "1 open statement written" in first.stderr
    dealgate("close", "2026-03", "--ledger", ledger)
    table.write_text(table.read_text(encoding="utf-8") + "2026-03-25,JPY,USD,0.0070\n", encoding="utf-8")
    later = dealgate(
        "payout", DATA / "deals.csv", "--reps", DATA / "reps.csv", "--rules", rules, "--period", "2026-04",
        "--as-of", "2026-05-01", "--format", "json", "--fx", table, "--ledger", ledger,
    )  # fmt: skip
    # J1 (100,000 yen on 2026-03-28) is now at 0.0070: 30.00 more, booked as a data change in April
    assert "data change: commission (commission) on deal J1 in locked 2026-03 was 67.00, is now 70.00" in later.stderr


@settings(max_examples=100, deadline=None)
@given(
    st.decimals(min_value="0.01", max_value="10000000", places=2),
    st.decimals(min_value="0.0001", max_value="1000", places=4),
    st.integers(min_value=0, max_value=60),
)
def test_a_converted_credit_is_the_amount_times_the_rate_in_force(amount, rate, offset):
    table = parse_fx(f"date,from,to,rate\n2026-01-01,EUR,USD,{rate}\n2026-02-01,EUR,USD,{rate * 2}\n", "fx").table
    day = dt.date(2026, 1, 1) + dt.timedelta(offset)
    found_rate, found_day = table.rate("EUR", "USD", day)
    assert found_rate == (rate if day < dt.date(2026, 2, 1) else rate * 2)
    assert found_day <= day and table.rate("EUR", "USD", dt.date(2025, 12, 31)) is None
    assert table.rate("USD", "EUR", day) is None  # never inverted
    assert amount * found_rate == Decimal(amount) * found_rate  # exact, no float on the way
    assert D(0) < found_rate
