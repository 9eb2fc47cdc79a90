"""Statement renderers: JSON (exact strings), CSV (a total row per statement), Markdown, table, explain."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from test_payout_support import D, deal, program_for, rep

from conftest import ROOT
from engine.render import payout as R


@pytest.fixture(scope="module")
def statements(tmp_path_factory):
    program = program_for(
        tmp_path_factory.mktemp("render"),
        """
        id: p
        name: Render plan
        period: quarter
        quota: 100000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner, splits: split}
        commission:
          method: retroactive
          tiers:
            - {to: 1.0, rate: 0.05, label: base}
            - {from: 1.0, rate: 0.10, label: accelerator}
        bonuses:
          - {id: spif, when: contract_years >= 3, amount: 250}
        clawback: {date: cancelled_on, within_days: 90}
        draw: {type: recoverable, amount: 1000}
    """,
    )
    deals = [
        deal("A", "60000.10", "2026-04-03", owner="a|b", contract_years=3),
        deal("B", 50000, "2026-05-03", owner="a|b", split="a|b:60;c:40", cancelled_on="2026-07-01"),
        deal("=HYPERLINK(1)", 100, "2026-05-04", owner="c"),
    ]
    result = program.compute(
        deals, [rep("a|b", name="Pipe | Person"), rep("c")], "2026-Q2..2026-Q3", dt.date(2026, 9, 30)
    )
    assert not result.diagnostics
    return result.statements


def test_json_money_is_exact_strings(statements):
    document = json.loads(R.render_json(statements, dt.date(2026, 9, 30)))
    assert document["as_of"] == "2026-09-30"
    first = document["statements"][0]
    assert first["rep"] == "a|b" and first["period"] == "2026-Q2" and first["plan"] == "p"
    assert (first["start"], first["end"]) == ("2026-04-01", "2026-06-30")
    assert first["quota"] == "100000" and first["attainment"] == "0.900001"
    assert [c["deal"] for c in first["credits"]] == ["A", "B"]
    assert first["credits"][1] == {
        "deal": "B",
        "date": "2026-05-03",
        "credit": "30000",
        "share": "0.6",
        "role": "split",
        "deal_credit": "50000",
        "multipliers": [],
        "cancelled": "2026-07-01",
    }
    kinds = [line["kind"] for line in first["lines"]]
    assert kinds == ["commission", "commission", "bonus", "draw_recovery"]  # Q1 paid a 1,000 draw (no deals)
    for s in document["statements"]:
        assert isinstance(s["total"], str) and Decimal(s["total"]) == sum(Decimal(l["amount"]) for l in s["lines"])
    q3 = document["statements"][1]
    assert [(l["kind"], l["rule"], l["amount"]) for l in q3["lines"]] == [
        ("clawback", "clawback", "-1500.00"),
        ("draw", "draw", "2500.00"),
    ]  # the draw covers the clawback
    assert q3["draw_balance"] == "2500.00"


def test_csv_rows_and_total_rows_are_formula_safe(statements):
    rows = list(csv.DictReader(io.StringIO(R.render_csv(statements))))
    assert tuple(rows[0]) == R.CSV_COLUMNS
    totals = [r for r in rows if r["kind"] == "total"]
    assert len(totals) == len(statements)
    for s, total in zip(statements, totals):
        mine = [r for r in rows if r["rep"] == s.rep and r["period"] == s.period.label and r["kind"] != "total"]
        assert Decimal(total["amount"]) == s.total == sum((Decimal(r["amount"]) for r in mine), Decimal(0))
    assert any(r["deal"] == "'=HYPERLINK(1)" for r in rows)  # never a formula in a spreadsheet
    assert all(not r["amount"].startswith("'") for r in rows)  # negative amounts stay numbers


def test_markdown_escapes_pipes(statements):
    text = R.render_markdown(statements)
    assert "## Pipe \\| Person (a\\|b) · p · 2026-Q2" in text
    assert "| **total** |" in text and "## Summary" in text


def test_table(statements):
    text = R.render_table(statements)
    assert "Pipe | Person (a|b) · plan p · 2026-Q2 (2026-04-01 to 2026-06-30) · USD" in text
    assert "quota 100,000.00 · credited 90,000.10 · attainment 90% · 2 credited deals" in text
    assert "total 3,750.01 USD (4 lines)" in text and "draw balance 2,500.00" in text
    assert R.render_table([]) == "no statements\n"


def test_explain_walks_the_retroactive_true_up(statements):
    c_q2 = next(s for s in statements if s.rep == "c" and s.period.label == "2026-Q2")
    text = R.render_explain(c_q2)
    assert "Step 1. Quota" in text and "100,000.00 for 2026-Q2 (the plan's default quota)" in text
    assert "1. 2026-05-03  B: credit 20,000.00 (40% split of 50,000.00)" in text
    assert "2. 2026-05-04  =HYPERLINK(1): credit 100.00" in text
    assert "base: from 0.00 to 100,000.00: rate 5%" in text
    assert "Sum of 3 lines" in text and "(reconciles to the cent)" in text
    a_q2 = statements[0]
    explained = R.render_explain(a_q2)
    assert "x 5% = 3,000.01 (exactly 3000.005, rounded)" in explained


def test_explain_of_a_true_up_line(tmp_path):
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        quota: 1000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          method: retroactive
          tiers:
            - {to: 1.0, rate: 0.05}
            - {from: 1.0, rate: 0.10}
    """,
    )
    result = program.compute(
        [deal("A", 600, "2026-04-01"), deal("B", 600, "2026-04-02")], [rep()], "2026-Q2", dt.date(2026, 6, 30)
    )
    (s,) = result.statements
    assert [(l.kind, l.amount) for l in s.lines] == [
        ("commission", D("30.00")),
        ("commission", D("60.00")),
        ("true_up", D("30.00")),
    ]
    text = R.render_explain(s)
    assert (
        "retroactive true-up [retroactive]: 30.00 — the rate reached, 10% (tier 2), applies to all 1,200.00 "
        "of credit: 120.00 less 90.00 on the deal lines" in text
    )


def test_a_credit_that_is_not_whole_cents_shows_six_places_at_most():
    """A tier slice of a prorated quota has 28 digits; tables show six and say that more were cut."""
    from decimal import Decimal

    from engine.render.payout import shown_credit

    assert shown_credit(Decimal("51086.9565217391304347826087")) == "51,086.956522…"
    assert shown_credit(Decimal("1234.125")) == "1,234.125"  # every digit, when there are few
    assert shown_credit(Decimal("1000")) == "1,000.00"
    assert shown_credit(None) == ""


def test_the_streaming_writers_write_the_renderers_text(statements):
    """payout writes CSV and JSON statement by statement; the bytes are the whole-document renderers'."""
    import io

    for as_of in (None, dt.date(2026, 9, 30)):
        for chosen in (statements, statements[:1], []):
            out = io.StringIO()
            R.write_json(out, chosen, as_of)
            assert out.getvalue() == R.render_json(chosen, as_of)
    out = io.StringIO()
    R.write_csv(out, statements)
    assert out.getvalue() == R.render_csv(statements)


def test_the_streaming_json_writer_keeps_a_combined_statement(tmp_path):
    """A rep who changed plans has a combined view at the end of the document: streamed alike."""
    from click.testing import CliRunner

    from cli import main

    data = ROOT / "tests" / "data" / "assignments"
    args = ["payout", str(data / "deals.csv"), "--reps", str(data / "reps.csv"), "--period", "2026-Q3"]
    args += ["--rules", str(ROOT / "rules"), "--as-of", "2026-09-30", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    document = __import__("json").loads(result.stdout)
    assert document["combined"] and document["as_of"] == "2026-09-30"
