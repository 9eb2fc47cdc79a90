"""Properties of payouts, checked with generated deals and rate tables (Hypothesis).

- every statement's total equals the sum of its lines;
- with non-negative rates, marginal payout never falls when a deal is added or grows;
- retroactive payout >= marginal payout when rates rise with the tiers;
- split credits sum to the deal's credit;
- no period's commission exceeds the period cap;
- a clawback never exceeds what was paid for the deal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_payout_support import deal, program_for, rep

from engine.model import Commission, Tier
from engine.payout.credit import SPLIT, _any_recipients, parse_recipients
from engine.payout.rates import build_tiers, marginal_payout, retroactive_payout

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = dt.date(2026, 1, 1)
CREDIT = '{when: stage == "closed_won", amount: amount, date: close_date, to: owner, splits: split}'

PLANS = {
    # every feature at once, quarterly: marginal tiers on attainment, multiplier, caps, bonuses, clawback, draw
    "everything": f"""
id: p
period: quarter
quota: 100000
credit: {CREDIT}
commission:
  tiers:
    - {{to: 0.5, rate: 0.04}}
    - {{from: 0.5, to: 1.0, rate: 0.08}}
    - {{from: 1.0, rate: 0.125, gate: {{attainment: 0.5, over: year}}}}
  min_attainment: 0.1
  multipliers:
    - {{id: multi, when: contract_years >= 3, factor: 1.25}}
caps: {{per_deal: 3000, per_period: 9000}}
bonuses:
  - {{id: spif, when: contract_years >= 2, amount: amount * 0.003}}
  - {{id: club, attainment: 1.0, amount: 1000}}
clawback: {{date: cancelled_on, within_days: 60}}
draw: {{type: recoverable, amount: 2500}}
""",
    # retroactive, annual quota paid quarterly, half-even rounding, a period cap
    "retro_ytd": f"""
id: p
period: quarter
quota_period: year
quota: 300000
rounding: half_even
credit: {CREDIT}
commission:
  method: retroactive
  tiers:
    - {{to: 0.5, rate: 0.03}}
    - {{from: 0.5, to: 1.0, rate: 0.07}}
    - {{from: 1.0, rate: 0.11}}
caps: {{per_period: 8000}}
clawback: {{date: cancelled_on, within_days: 90}}
""",
    # exact arithmetic (integer credit, bounds and cent rates): no rounding anywhere
    "marginal_exact": f"""
id: p
period: year
credit: {CREDIT}
commission:
  basis: credit
  tiers:
    - {{to: 10000, rate: 0.05}}
    - {{from: 10000, to: 40000, rate: 0.10}}
    - {{from: 40000, rate: 0.20}}
""",
    "retro_exact": f"""
id: p
period: year
credit: {CREDIT}
commission:
  basis: credit
  method: retroactive
  tiers:
    - {{to: 10000, rate: 0.05}}
    - {{from: 10000, to: 40000, rate: 0.10}}
    - {{from: 40000, rate: 0.20}}
""",
    "monthly_draw": f"""
id: p
period: month
quota: 20000
credit: {CREDIT}
commission:
  method: retroactive
  tiers:
    - {{to: 1.0, rate: 0.05}}
    - {{from: 1.0, rate: 0.09}}
caps: {{per_period: 2500}}
clawback: {{date: cancelled_on, within_days: 45}}
draw: {{type: non_recoverable, amount: 800}}
""",
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    return {name: program_for(tmp_path_factory.mktemp(name), text) for name, text in PLANS.items()}


amount_st = st.one_of(
    st.integers(0, 60000).map(Decimal),
    st.decimals(min_value=0, max_value=60000, places=2, allow_nan=False, allow_infinity=False),
)


@st.composite
def deals_st(draw, reps=("a", "b"), cancellations=True, max_size=25, amounts=amount_st):
    count = draw(st.integers(0, max_size))
    result = []
    for n in range(count):
        day = draw(st.integers(0, 300))
        close = START + dt.timedelta(days=day)
        owner = draw(st.sampled_from(reps))
        extra = {"contract_years": draw(st.sampled_from([1, 2, 3]))}
        if draw(st.booleans()) and len(reps) > 1:
            share = draw(st.sampled_from([10, 25, 50, 60, 75]))
            other = next(r for r in reps if r != owner)
            extra["split"] = f"{owner}:{share};{other}:{100 - share}"
        if cancellations and draw(st.integers(0, 4)) == 0:
            extra["cancelled_on"] = close + dt.timedelta(days=draw(st.integers(0, 120)))
        result.append(deal(f"D{n:03d}", draw(amounts), close.isoformat(), owner=owner, **extra))
    return result


def run(program, deals, periods="2026-Q1..2026-Q4", reps=("a", "b")):
    return program.compute(deals, [rep(r) for r in reps], periods, dt.date(2026, 12, 31))


@SETTINGS
@given(deals=deals_st(), name=st.sampled_from(sorted(PLANS)))
def test_total_is_the_sum_of_the_lines(programs, deals, name):
    result = run(programs[name], deals, "2026-01..2026-12")
    for s in result.statements:
        assert s.total == sum((line.amount for line in s.lines), Decimal(0))
        assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in s.lines)


# marginal payout is monotone


@st.composite
def tables_st(draw, rising=False):
    count = draw(st.integers(1, 5))
    bounds = sorted(draw(st.lists(st.integers(1, 100000), min_size=count - 1, max_size=count - 1, unique=True)))
    rates = draw(st.lists(st.decimals(min_value=0, max_value=1, places=3), min_size=count, max_size=count))
    if rising:
        rates = sorted(rates)
    lows = [0] + bounds
    tiers = tuple(
        Tier(Decimal(lows[i]), Decimal(bounds[i]) if i < len(bounds) else None, rates[i]) for i in range(count)
    )
    return build_tiers(Commission(basis="credit", tiers=tiers), None)


exact_amounts = st.lists(st.decimals(min_value=0, max_value=50000, places=2), max_size=20)


@SETTINGS
@given(
    tiers=tables_st(),
    amounts=exact_amounts,
    extra=st.decimals(min_value=0, max_value=50000, places=2),
    where=st.integers(0, 20),
)
def test_marginal_never_falls_when_a_deal_is_added_or_grows(tiers, amounts, extra, where):
    before = marginal_payout(tiers, amounts)
    added = amounts[:where] + [extra] + amounts[where:]
    assert marginal_payout(tiers, added) >= before
    if amounts:
        grown = list(amounts)
        grown[where % len(amounts)] += extra
        assert marginal_payout(tiers, grown) >= before


@SETTINGS
@given(
    deals=deals_st(reps=("a",), cancellations=False, amounts=st.integers(0, 30000).map(Decimal)),
    extra=st.integers(0, 30000),
    day=st.integers(0, 300),
)
def test_marginal_statement_never_falls_when_a_deal_is_added_or_grows(programs, deals, extra, day):
    program = programs["marginal_exact"]
    total = lambda ds: sum((s.total for s in run(program, ds, "2026", ("a",)).statements), Decimal(0))  # noqa
    before = total(deals)
    added = deals + [deal("NEW", extra, (START + dt.timedelta(days=day)).isoformat(), owner="a")]
    assert total(added) >= before
    if deals:
        grown = [dict(d) for d in deals]
        grown[day % len(grown)]["amount"] += extra
        assert total(grown) >= before


@SETTINGS
@given(tiers=tables_st(rising=True), amounts=exact_amounts)
def test_retroactive_pays_at_least_marginal_when_rates_rise(tiers, amounts):
    assert retroactive_payout(tiers, amounts) >= marginal_payout(tiers, amounts)


@SETTINGS
@given(deals=deals_st(reps=("a",), cancellations=False, amounts=st.integers(0, 30000).map(Decimal)))
def test_retroactive_statement_pays_at_least_marginal(programs, deals):
    marginal = sum((s.total for s in run(programs["marginal_exact"], deals, "2026", ("a",)).statements), Decimal(0))
    retro = sum((s.total for s in run(programs["retro_exact"], deals, "2026", ("a",)).statements), Decimal(0))
    assert retro >= marginal


# splits


@SETTINGS
@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    cuts=st.lists(st.integers(1, 9999), min_size=0, max_size=6, unique=True),
)
def test_split_credits_sum_to_the_deal_credit(programs, amount, cuts):
    points = [0] + sorted(cuts) + [10000]  # shares in hundredths of a percent, totalling 100.00%
    shares = [b - a for a, b in zip(points, points[1:])]
    reps = [f"r{i}" for i in range(len(shares))]
    text = ";".join(f"{r}:{Decimal(s) / 100}" for r, s in zip(reps, shares))
    recipients = parse_recipients(reps[0], text, None)
    assert [r[2] for r in recipients] == [SPLIT] * len(reps)
    assert sum(amount * share for _, share, _ in recipients) == amount
    result = programs["marginal_exact"].compute(
        [deal("S", amount, "2026-03-03", owner=reps[0], split=text)],
        [rep(r) for r in reps],
        "2026",
        dt.date(2026, 12, 31),
    )
    assert sum(c.amount for s in result.statements for c in s.credits) == amount


def split_texts():
    """Split fields as exports hold them: mostly plain (``a:60;b:40``), often not quite (spaces, ``%``,
    decimals, zeros, blanks, repeated reps, overlays, long numbers), and some arbitrary text."""
    reps = st.sampled_from(["a", "b", "c", "bob", " a", "b ", "a b", "", "é"])
    numbers = st.one_of(
        st.integers(0, 120).map(str),
        st.sampled_from(["060", "0040", "50%", "50 %", " 50", "33.3", "1e2", "NaN", "-5", "٥٠", "9" * 5000]),
    )
    entry = st.one_of(
        st.tuples(reps, numbers).map(":".join),
        st.tuples(reps, numbers).map(lambda pair: ":".join(pair) + ":overlay"),
        reps,
    )
    entries = st.lists(entry, min_size=0, max_size=4).map(";".join)
    return st.one_of(plain_splits(), entries, st.text(alphabet="ab :;%0159.", max_size=16))


@st.composite
def plain_splits(draw):
    """``r0:30;r1:70``: distinct reps, whole percentages totalling 100 (or, now and then, not quite)."""
    cuts = draw(st.lists(st.integers(1, 99), max_size=4, unique=True))
    points = [0] + sorted(cuts) + [draw(st.sampled_from([100, 100, 100, 99, 101]))]
    shares = [b - a for a, b in zip(points, points[1:])]
    reps = draw(
        st.lists(
            st.sampled_from(["a", "b", "c", "d", "e", "bob", "carol"]),
            min_size=len(shares),
            max_size=len(shares),
            unique=True,
        )
    )
    return ";".join(f"{r}:{s}" for r, s in zip(reps, shares))


@settings(max_examples=1000, deadline=None)  # parsing only: cheap, and the short path is taken often enough
@given(
    to=st.sampled_from(["a", "c", " a ", "", None]),
    splits=st.one_of(st.none(), split_texts()),
    overlay=st.one_of(st.none(), st.just(""), split_texts()),
)
def test_plain_splits_read_as_the_general_reading_does(to, splits, overlay):
    """parse_recipients reads plain splits (``a:60;b:40``) on a short path; whatever it is given, it
    answers as the general reading alone (_any_recipients, the reading it had before) does."""
    assert parse_recipients(to, splits, overlay) == _any_recipients(to, splits, overlay)


# caps and clawbacks


@SETTINGS
@given(deals=deals_st(), name=st.sampled_from(["everything", "retro_ytd", "monthly_draw"]))
def test_no_period_commission_exceeds_its_cap(programs, deals, name):
    program = programs[name]
    cap = program.plans["p"].caps.per_period
    for s in run(program, deals, "2026-01..2026-12").statements:
        assert s.commission_total() <= cap


@SETTINGS
@given(deals=deals_st(), name=st.sampled_from(["everything", "retro_ytd", "monthly_draw"]))
def test_a_clawback_never_exceeds_what_was_paid(programs, deals, name):
    """What a deal was paid: its own lines in the last statement that counted it (its commission slices,
    per-deal cap; for a retroactive plan plus that statement's true-up, which re-rates it), and its
    bonuses. A clawback takes back at most that, and is never positive."""
    assert_clawbacks_within_paid(run(programs[name], deals, "2026-01..2026-12").statements)


def assert_clawbacks_within_paid(statements) -> None:
    """Every clawback line is negative and takes back at most what its deal was paid (see above)."""
    for s in statements:
        for line in (l for l in s.lines if l.kind == "clawback"):
            assert line.amount < 0
            earlier = [t for t in statements if t.rep == s.rep and t.period <= s.period]
            last = [t for t in earlier if any(c.deal == line.deal for c in t.credits)][-1]
            own = sum(
                (l.amount for l in last.lines if l.deal == line.deal and l.kind in ("commission", "cap")), Decimal(0)
            )
            own += sum((l.amount for l in last.lines if l.kind == "true_up" and l.amount > 0), Decimal(0))
            own += sum(
                (l.amount for t in earlier for l in t.lines if l.deal == line.deal and l.kind == "bonus"), Decimal(0)
            )
            assert -line.amount <= own


def test_a_tiny_split_credit_is_clawed_back_no_more_than_it_was_paid(programs):
    """The shrunk example of test_a_clawback_never_exceeds_what_was_paid (plan monthly_draw, retroactive).

    D010 (0.20 of credit, counted first) is paid 0.01 at 5%; D000 then takes attainment past 100% and
    is paid 1,800.045 -> 1,800.05 at 9%; the statement's total at 9% is 1,800.063 -> 1,800.06, equal to
    the lines, so there is no true-up. D010's share at the final rate rounds to 0.02, more than any
    line paid for it: the clawback takes back at most its line plus the true-up, 0.01.
    """
    deals = [deal("D000", 40001, "2026-08-02", owner="a", contract_years=1, split="a:50;b:50")]
    deals += [
        deal(f"D{n:03}", 0, "2026-01-01", owner="a", contract_years=1, cancelled_on="2026-01-01") for n in range(1, 10)
    ]
    deals.append(
        deal("D010", 2, "2026-08-01", owner="a", contract_years=1, split="a:10;b:90", cancelled_on="2026-08-01")
    )
    statements = run(programs["monthly_draw"], deals, "2026-01..2026-12").statements
    clawbacks = [
        line.amount
        for t in statements
        if t.rep == "a"
        for line in t.lines
        if line.kind == "clawback" and line.deal == "D010"
    ]
    assert clawbacks == [Decimal("-0.01")]
    assert_clawbacks_within_paid(statements)
