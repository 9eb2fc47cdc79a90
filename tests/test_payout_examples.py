"""Worked examples from public incentive-compensation documentation, encoded as tests.

Each test names its source. Where a source gives only part of the setup (the
quota, the dates) the docstring says what was assumed; where no public
example was found the example is constructed and computed by hand in the
docstring, and says so.
"""

from __future__ import annotations

import datetime as dt

from test_payout_support import D, amounts, deal, program_for, rep, statements


def test_marginal_vs_retroactive_on_the_same_table(tmp_path):
    """Source: https://www.earnbase.no/glossary/retroactive-tier-jumping

    Tiers: 50% on the first $100K of sales, 60% above. $180K of sales pays $108K when the tier
    reached applies retroactively to everything, $98K incrementally ($50K on the first $100K at 50%
    plus $48K on the remaining $80K at 60%). The $180K is split into two deals (80K then 100K) so
    that the retroactive statement shows its true-up: the 80K deal is paid at 50% when it is
    credited (40,000), the 100K deal at the 60% then in force (60,000), and the true-up re-rates the
    first 80K at 60%: 108,000 - 100,000 = 8,000.
    """
    table = """
          tiers:
            - {to: 100000, rate: 0.50, label: first 100K}
            - {from: 100000, rate: 0.60, label: above 100K}
    """
    base = """
        id: p
        period: month
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          basis: credit
          method: %s"""
    deals = [deal("A", 80000, "2026-03-02"), deal("B", 100000, "2026-03-20")]
    marginal = program_for(tmp_path / "m", base % "marginal" + table)
    retro = program_for(tmp_path / "r", base % "retroactive" + table)
    m = statements(marginal, deals, [rep()], "2026-03").statements[0]
    r = statements(retro, deals, [rep()], "2026-03").statements[0]
    assert m.total == D("98000.00")
    assert amounts(m) == [D("40000.00"), D("10000.00"), D("48000.00")]  # deal B crosses the bound: split in two
    assert r.total == D("108000.00")
    assert amounts(r, "commission") == [D("40000.00"), D("60000.00")]
    assert amounts(r, "true_up") == [D("8000.00")]


def test_non_retroactive_three_tiers(tmp_path):
    """Source: https://www.sparrowgenie.com/sales-commission-models/non-retroactive-commission

    3% on the first $300,000 of quarterly sales, 5% from $300,000 to $500,000, 7% above; $600,000
    of sales pays $9,000 + $10,000 + $7,000 = $26,000.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          basis: credit
          tiers:
            - {to: 300000, rate: 0.03}
            - {to: 500000, rate: 0.05}
            - {rate: 0.07}
    """,
    )
    s = statements(program, [deal("Q", 600000, "2026-05-15")], [rep()], "2026-Q2").statements[0]
    assert amounts(s) == [D("9000.00"), D("10000.00"), D("7000.00")]
    assert s.total == D("26000.00")


def test_accelerator_above_100_percent(tmp_path):
    """Source: https://www.hyperbots.com/glossary/accelerator-commission

    Sales up to quota at the 5% base rate, sales above quota at the 8% accelerator rate:
    $200,000 x 5% = $10,000 plus $60,000 x 8% = $4,800, total $14,800. Assumed from the example's
    figures: a quota of $200,000 and $260,000 of credited sales in the period.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        quota: 200000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          tiers:
            - {to: 1.0, rate: 0.05, label: base}
            - {from: 1.0, rate: 0.08, label: accelerator}
    """,
    )
    s = statements(
        program, [deal("A", 150000, "2026-04-10"), deal("B", 110000, "2026-05-10")], [rep()], "2026-Q2"
    ).statements[0]
    assert s.attainment == D("1.3")
    assert [(l.deal, l.credit, l.tier, l.amount) for l in s.lines] == [
        ("A", D("150000"), "base", D("7500.00")),
        ("B", D("50000"), "base", D("2500.00")),
        ("B", D("60000"), "accelerator", D("4800.00")),
    ]
    assert s.total == D("14800.00")


def test_accelerator_as_multiple_of_target_incentive(tmp_path):
    """Source: https://revopsmasters.com/category/sales-compensation/accelerators-and-decelerators

    $500K quota, $100K variable target: 1.0x up to 100% of quota, 1.5x from 100% to 130%. A rep who
    closes $650K (130%) earns $100,000 for the first 100% plus 30% x $100,000 x 1.5 = $45,000: total
    $145,000. With ``rate_of: target_incentive`` a rate is the share of the target incentive paid per
    100% of attainment.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: year
        quota: 500000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          rate_of: target_incentive
          tiers:
            - {to: 1.0, rate: 1.0, label: target}
            - {from: 1.0, to: 1.3, rate: 1.5, label: accelerator}
            - {from: 1.3, rate: 2.0, label: accelerator 2}
    """,
    )
    s = statements(program, [deal("A", 650000, "2026-11-30")], [rep(target_incentive=100000)], "2026").statements[0]
    assert amounts(s) == [D("100000.00"), D("45000.00")]  # nothing reaches the 2.0x tier: 130% is its bottom
    assert s.total == D("145000.00")


def test_decelerator_below_threshold_on_target_incentive(tmp_path):
    """Source: https://revopsmasters.com/category/sales-compensation/accelerators-and-decelerators

    Threshold decelerator: 0.5x below 50% of quota, 1.0x from 50% to 100%. "A rep at 40% attainment
    on a $100K variable target earns $20,000 in variable pay (40% x $100K x 0.5)." Assumed: quota
    $500,000, so 40% is $200,000 of credit.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: year
        quota: 500000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          rate_of: target_incentive
          tiers:
            - {to: 0.5, rate: 0.5, label: decelerator}
            - {from: 0.5, to: 1.0, rate: 1.0, label: standard}
            - {from: 1.0, rate: 1.5, label: accelerator}
    """,
    )
    s = statements(program, [deal("A", 200000, "2026-06-30")], [rep(target_incentive=100000)], "2026").statements[0]
    assert s.attainment == D("0.4")
    assert s.total == D("20000.00")


def test_decelerator_applied_to_all_sales_below_80_percent(tmp_path):
    """Source: https://www.prowi.io/en/glossary/decelerator

    10% standard rate, a 0.5x decelerator below 80% of quota; the rep closes $350,000, 70% of quota:
    $350,000 x 10% x 0.5 = $17,500 (instead of $35,000). The decelerator applies to the whole amount,
    so the table is retroactive: 5% below 80% of quota, 10% from 80%. Quota $500,000 (70% =
    $350,000, as stated).
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        quota: 500000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          method: retroactive
          tiers:
            - {to: 0.8, rate: 0.05, label: decelerated}
            - {from: 0.8, rate: 0.10, label: standard}
    """,
    )
    deals = [deal("A", 200000, "2026-07-05"), deal("B", 150000, "2026-08-05")]
    s = statements(program, deals, [rep()], "2026-Q3").statements[0]
    assert s.total == D("17500.00")
    assert amounts(s, "true_up") == []  # every deal was already paid at the 5% reached
    # 50,000 more reaches 80% (inclusive): the 10% rate then applies to all 400,000
    deals.append(deal("C", 50000, "2026-09-05"))
    s = statements(program, deals, [rep()], "2026-Q3").statements[0]
    assert s.attainment == D("0.8")
    assert amounts(s, "commission") == [D("10000.00"), D("7500.00"), D("5000.00")]
    assert amounts(s, "true_up") == [D("17500.00")]
    assert s.total == D("40000.00")


def test_period_cap(tmp_path):
    """Source: https://www.sparrowgenie.com/sales-commission-models/capped-commission

    Commission rate 3% of sales, monthly commission cap $10,000: with $400,000 of sales in the month
    the commission is capped at $10,000 rather than $12,000.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: month
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission: {rate: 0.03}
        caps: {per_period: 10000}
    """,
    )
    deals = [deal("A", 250000, "2026-02-03"), deal("B", 150000, "2026-02-20")]
    s = statements(program, deals, [rep()], "2026-02").statements[0]
    assert amounts(s, "commission") == [D("7500.00"), D("4500.00")]
    assert [(l.rule, l.amount) for l in s.lines if l.kind == "cap"] == [("cap.per_period", D("-2000.00"))]
    assert s.total == D("10000.00")


def test_recoverable_draw_over_six_months(tmp_path):
    """Source: https://docs.oracle.com/cd/E05553_01/books/InCompAdm/InCompAdmPlanDesign8.html
    (Siebel Incentive Compensation Administration Guide, "Recoverable Draw Scenario", Table 4)

    A $2,000 monthly recoverable draw. Gross earnings Jan-Jun: 2,750, 3,000, 1,500, 2,375, 3,000,
    2,750. March pays 1,500 + a 500 draw (a loan); April recovers 375 of it (net 2,000, balance
    125); May recovers the last 125 (net 2,875). Net earnings: 2,750, 3,000, 2,000, 2,000, 2,875,
    2,750. The gross earnings are produced here by a flat 10% commission on each month's sales.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: month
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission: {rate: 0.10}
        draw: {type: recoverable, amount: 2000}
    """,
    )
    sales = [27500, 30000, 15000, 23750, 30000, 27500]
    deals = [deal(f"M{m}", amount, f"2002-{m:02d}-15") for m, amount in enumerate(sales, 1)]
    result = statements(program, deals, [rep()], "2002-01..2002-06", as_of=dt.date(2002, 6, 30))
    nets = [s.total for s in result.statements]
    assert nets == [D("2750.00"), D("3000.00"), D("2000.00"), D("2000.00"), D("2875.00"), D("2750.00")]
    assert [s.draw_balance for s in result.statements] == [D(0), D(0), D("500.00"), D("125.00"), D(0), D(0)]
    march, april, may = result.statements[2:5]
    assert [(l.kind, l.amount) for l in march.lines if l.kind.startswith("draw")] == [("draw", D("500.00"))]
    assert [(l.kind, l.amount) for l in april.lines if l.kind.startswith("draw")] == [("draw_recovery", D("-375.00"))]
    assert [(l.kind, l.amount) for l in may.lines if l.kind.startswith("draw")] == [("draw_recovery", D("-125.00"))]


def test_non_recoverable_draw(tmp_path):
    """Source: https://docs.oracle.com/cd/E05553_01/books/InCompAdm/InCompAdmPlanDesign24.html
    (Siebel Incentive Compensation Administration Guide, "Creating a Draw for a Compensation Plan")

    A $2,000 draw; "if a sales representative's performance results in gross earnings of $800, the
    company pays the sales representative the $800 earned, plus an additional $1,200". Non-recoverable:
    the $1,200 is never paid back, so a following month with $3,000 of earnings pays all $3,000
    (that second month is our own extension of the example).
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: month
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission: {rate: 0.10}
        draw: {type: non_recoverable, amount: 2000}
    """,
    )
    deals = [deal("A", 8000, "2026-01-12"), deal("B", 30000, "2026-02-12")]
    jan, feb = statements(program, deals, [rep()], "2026-01..2026-02").statements
    assert [(l.kind, l.amount) for l in jan.lines] == [("commission", D("800.00")), ("draw", D("1200.00"))]
    assert jan.total == D("2000.00")
    assert [(l.kind, l.amount) for l in feb.lines] == [("commission", D("3000.00"))]
    assert feb.total == D("3000.00")


def test_clawback_of_a_returned_sale(tmp_path):
    """Source: https://support.mypurium.com/support/solutions/articles/6000058186-negative-balance

    "If you originally earned $50 on the weekly commission schedule, that same amount will be deducted
    from your next weekly commission. If you earn less than $50 on the next commission, there will be
    a negative balance of $50 minus whatever you did earn." Encoded monthly: a $500 sale at 10% earns
    $50 in January; it is cancelled in February (within the 90-day window), when the rep earns $30:
    February's statement is 30 - 50 = -$20.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: month
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission: {rate: 0.10}
        clawback: {id: returns, date: cancelled_on, within_days: 90}
    """,
    )
    deals = [deal("SALE", 500, "2026-01-20", cancelled_on="2026-02-10"), deal("NEXT", 300, "2026-02-15")]
    jan, feb = statements(program, deals, [rep()], "2026-01..2026-02").statements
    assert jan.total == D("50.00")
    assert [(l.kind, l.rule, l.deal, l.amount) for l in feb.lines] == [
        ("commission", "commission", "NEXT", D("30.00")),
        ("clawback", "returns", "SALE", D("-50.00")),
    ]
    assert feb.total == D("-20.00")


def test_clawback_at_the_rate_originally_paid_and_only_within_the_window(tmp_path):
    """Constructed example (no public worked example with tiers was found); computed by hand.

    Quarterly quota 100,000; 5% below quota, 10% from quota (marginal). In Q1, deal A (60,000) is paid
    3,000 at 5%; deal B (60,000) is paid 40,000 x 5% + 20,000 x 10% = 4,000. B is cancelled on
    2026-04-20, 48 days after its credit date (window 90): Q2 has a clawback line of -4,000, B's
    own commission at the rates it was paid, not at Q2's rates. A is cancelled 2026-07-01, 122 days
    after its credit date: outside the window, no clawback.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        quota: 100000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          tiers:
            - {to: 1.0, rate: 0.05}
            - {from: 1.0, rate: 0.10}
        clawback: {date: cancelled_on, within_days: 90}
    """,
    )
    deals = [
        deal("A", 60000, "2026-03-01", cancelled_on="2026-07-01"),
        deal("B", 60000, "2026-03-03", cancelled_on="2026-04-20"),
    ]
    q1, q2, q3 = statements(program, deals, [rep()], "2026-Q1..2026-Q3").statements
    assert q1.total == D("7000.00")
    assert [(l.kind, l.deal, l.amount) for l in q2.lines] == [("clawback", "B", D("-4000.00"))]
    assert q3.lines == ()


def test_split_credit_60_40(tmp_path):
    """Source: https://prowi.io/en/glossary/split-commission ("Territory Overlap")

    A $100,000 deal split 60% / 40% between two reps at a 10% commission: $60,000 of credit and
    $6,000 to Rep A, $40,000 and $4,000 to Rep B; $10,000 in total.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner, splits: split}
        commission: {rate: 0.10}
    """,
    )
    deals = [deal("T", 100000, "2026-05-05", owner="rep_a", split="rep_a:60;rep_b:40")]
    a, b = statements(program, deals, [rep("rep_a"), rep("rep_b")], "2026-Q2").statements
    assert (a.credit, a.total) == (D("60000"), D("6000.00"))
    assert (b.credit, b.total) == (D("40000"), D("4000.00"))
    assert a.total + b.total == D("10000.00")


def test_accelerators_only_once_the_annual_quota_is_met(tmp_path):
    """Source: https://excelforum.com/excel-formulas-and-functions/861932-vlookup-for-multiple-results-without-duplicates-prev-thread.html
    (a public forum question, not vendor documentation; the figures are the poster's)

    Quarterly quota $100,000: 5% to $100,000, 6% from $100,000 to $125,000, 7% above. $150,000 in a
    quarter pays $5,000 + $1,500 + $1,750 = $8,250. "The salesperson needs to be above their entire
    quota for the year before they receive over-quota accelerators": with $50,000 in Q1 and $75,000 in
    Q2, $200,000 in Q3 gets no accelerators (year to date $325,000 < $400,000): 200,000 x 5% = $10,000.
    Q4 brings the year to $475,000 >= $400,000, so Q4's $150,000 earns the accelerators: $8,250.
    """
    program = program_for(
        tmp_path,
        """
        id: p
        period: quarter
        quota: 100000
        credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
        commission:
          tiers:
            - {to: 1.0, rate: 0.05, label: base}
            - {from: 1.0, to: 1.25, rate: 0.06, label: accelerator, gate: {attainment: 1.0, over: year}}
            - {from: 1.25, rate: 0.07, label: accelerator 2, gate: {attainment: 1.0, over: year}}
    """,
    )
    deals = [
        deal("Q1", 50000, "2026-02-01"),
        deal("Q2", 75000, "2026-05-01"),
        deal("Q3", 200000, "2026-08-01"),
        deal("Q4", 150000, "2026-11-01"),
    ]
    q1, q2, q3, q4 = statements(program, deals, [rep()], "2026-Q1..2026-Q4").statements
    assert q3.total == D("10000.00")
    assert all(l.rate == D("0.05") for l in q3.lines)
    assert "gate closed" in q3.lines[-1].note
    assert amounts(q4) == [D("5000.00"), D("1500.00"), D("1750.00")]
    assert q4.total == D("8250.00")
