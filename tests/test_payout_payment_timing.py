"""payment: a share of each deal's commission at credit, the rest when a date field is set
(docs/payouts.md#payment-timing)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from test_payout_support import ROOT, D

from cli import main

DATA = ROOT / "tests" / "data" / "payment"
FIELD = """\
  invoice_paid_on:
    type: date
    description: Date the customer paid the invoice
    columns: [Invoice Paid Date, invoice_paid_on]
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """The default pack plus the invoice date field and tests/data/payment/plan.yaml."""
    pack = tmp_path_factory.mktemp("payment") / "rules"
    shutil.copytree(ROOT / "rules", pack)
    fields = pack / "fields.yaml"
    text = fields.read_text(encoding="utf-8")
    fields.write_text(text.replace("  split:\n", FIELD + "  split:\n", 1), encoding="utf-8")
    shutil.copy(DATA / "plan.yaml", pack / "plans" / "invoice.yaml")
    return pack


def payout(rules, *args, code=0):
    result = CliRunner().invoke(
        main,
        ["payout", str(DATA / "deals.csv"), "--reps", str(DATA / "reps.csv"), "--rules", str(rules)]
        + ["--as-of", "2026-06-30", "--format", "json", *args],
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def by_month(rules, *args):
    document = json.loads(payout(rules, "--from", "2026-01", "--to", "2026-04", *args).stdout)
    return {
        s["period"]: [(line["kind"], line["deal"], line["amount"]) for line in s["lines"]]
        for s in document["statements"]
    }, document


def test_half_at_close_half_when_the_invoice_is_paid(rules):
    months, document = by_month(rules)
    assert months["2026-01"] == [
        ("commission", "P1", "4000.00"),
        ("commission", "P2", "1000.00"),
        ("deferred", "P1", "-2000.00"),  # P1's invoice is paid in March; P2's already in January: paid in full
    ]
    assert months["2026-02"] == [
        ("commission", "P3", "2000.00"),
        ("commission", "P4", "3000.00"),
        ("deferred", "P3", "-1000.00"),  # no invoice date yet: waits
        ("deferred", "P4", "-1500.00"),
    ]
    # March: P1's rest is due; P4 is cancelled before its invoice is paid: its deferred half is forgone
    # and only the half paid in February is clawed back
    assert months["2026-03"] == [("deferred_paid", "P1", "2000.00"), ("clawback", "P4", "-1500.00")]
    jan, feb, mar = (s for s in document["statements"] if s["period"] in ("2026-01", "2026-02", "2026-03"))
    assert jan["lines"][2]["note"] == (
        "50% of the deal's commission 4,000.00 is paid in 2026-03 (invoice_paid_on 2026-03-05)"
    )
    assert (
        feb["lines"][2]["note"]
        == "50% of the deal's commission 2,000.00 is paid when invoice_paid_on is set (blank so far)"
    )
    assert "(1,500.00 of it still held back, now not paid)" in mar["lines"][1]["note"]
    total = sum(Decimal(s["total"]) for s in document["statements"])
    assert total == D("6000.00")  # P1 4,000 + P2 1,000 + P3's first half 1,000 (its rest still waits)


def test_the_sql_engines_refuse_payment_timing_and_auto_runs_python(rules):
    pytest.importorskip("duckdb")
    refused = payout(rules, "--period", "2026-01", "--engine", "duckdb", code=1)
    assert "plan 'ae-invoice' payment timing cannot run on the SQL engines" in refused.stderr
    assert "does not read the payment date ('invoice_paid_on')" in refused.stderr
    auto = payout(rules, "--period", "2026-01", "--engine", "auto")
    assert json.loads(auto.stdout) == json.loads(payout(rules, "--period", "2026-01", "--engine", "python").stdout)


def test_the_payment_date_must_be_a_date_field(rules, tmp_path):
    pack = tmp_path / "rules"
    shutil.copytree(rules, pack)
    plan = pack / "plans" / "invoice.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("rest_on: invoice_paid_on", "rest_on: invoice_paid"))
    shown = CliRunner().invoke(main, ["validate", str(pack)]).output
    assert "invoice.yaml:17:12: error" in shown and "did you mean 'invoice_paid_on'?" in shown


def test_oracles_fifty_fifty_on_order_and_on_collection(rules):
    """Oracle Customer Connect, "How to pay 50/50 on order/on payment collection": a 10K order at 10%
    earns 1,000, paid 500 on the order and 500 when the invoice is collected."""
    result = CliRunner().invoke(
        main,
        ["payout", str(DATA / "oracle.csv"), "--reps", str(DATA / "reps.csv"), "--rules", str(rules)]
        + ["--from", "2026-04", "--to", "2026-05", "--as-of", "2026-06-30", "--format", "json"],
    )
    assert result.exit_code == 0, result.stderr
    april, may = json.loads(result.stdout)["statements"]
    assert (april["period"], april["total"], may["period"], may["total"]) == ("2026-04", "500.00", "2026-05", "500.00")
    assert may["lines"][0]["note"] == "the rest of deal O1's commission, due with invoice_paid_on 2026-05-20"
