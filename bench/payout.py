"""Payout benchmark: the compiled AE plan against a hand-written Decimal loop for the same plan.

    python bench/payout.py [--deals 1000000] [--reps 10000] [--rules rules] [--plan ae-2026]

Generates ``--deals`` credited (closed-won) deals in 2026-Q3 spread over ``--reps`` reps, with
what the default AE plan looks at: amounts, some 60/40 splits, some multi-year contracts (the
SPIF), some deep discounts (the half-rate multiplier) and some cancellations inside the quarter
(clawbacks). Each rep's quota is set near what
it sells, so deals cross the decelerator, base and accelerator tiers.

Then it times, on the same in-memory deals:

- payout: ``PayoutProgram.compute`` for the period -- the generated crediting function, splits,
  grouping, tier slices as statement lines, caps, bonuses, clawbacks, statements;
- handwritten: the same plan written by hand as plain Python over Decimals (what a careful
  engineer would write for exactly this plan, nothing configurable), producing per-rep totals.

The two must agree to the cent on every rep's total (checked; a mismatch exits 1). The last line
printed is JSON: deals, reps, payout_deals_per_s, handwritten_deals_per_s and
payout_vs_handwritten (payout time / handwritten time; acceptance: <= 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import sys
import time
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.pack import read_pack  # noqa: E402
from engine.payout import Rep, compile_payout  # noqa: E402

CENT = Decimal("0.01")
PERIOD = "2026-Q3"
START, END = dt.date(2026, 7, 1), dt.date(2026, 10, 1)


def make_data(deals: int, reps: int, seed: int = 11):
    rng = random.Random(seed)
    rep_ids = [f"rep{n:05d}" for n in range(reps)]
    days = (END - START).days
    dates = [START + dt.timedelta(days=k) for k in range(days)]
    amounts = [Decimal(250 * k) for k in range(2, 41)]  # 500 .. 10,000
    discounts = [Decimal("0.05"), Decimal("0.10"), Decimal("0.20"), Decimal("0.30")]
    records = []
    for n in range(deals):
        owner = rep_ids[n % reps]
        close = dates[rng.randrange(days)]
        record = {
            "id": f"D{n:08d}",
            "name": f"Deal {n}",
            "owner": owner,
            "account": f"Account {n % 997}",
            "stage": "closed_won",
            "amount": amounts[rng.randrange(len(amounts))],
            "close_date": close,
            "budget_confirmed": True,
            "discount_approved": False,
            "contract_years": 1,
            "split": None,
            "cancelled_on": None,
            "sdr": None,
            "qualified_on": None,
            "discount": None,
        }
        if rng.random() < 0.3:
            record["discount"] = discounts[rng.randrange(len(discounts))]
        roll = rng.random()
        if roll < 0.05:
            partner = rep_ids[(n + 1 + rng.randrange(reps - 1)) % reps] if reps > 1 else owner
            if partner != owner:
                record["split"] = f"{owner}:60;{partner}:40"
        elif roll < 0.15:
            record["contract_years"] = 3
        if rng.random() < 0.02:
            record["cancelled_on"] = close + dt.timedelta(days=rng.randrange(5, 60))
        records.append(record)
    per_rep = deals / max(reps, 1)
    mean = sum(amounts) / len(amounts)
    quotas = {
        r: (Decimal(per_rep) * mean * Decimal(rng.choice((60, 80, 100, 120, 140))) / 100).quantize(Decimal(1))
        for r in rep_ids
    }
    return records, quotas


def handwritten(deals, quotas: dict, plan) -> dict:
    """The AE plan by hand: marginal tiers on attainment, the discount multiplier, period cap, SPIF,
    splits, in-period clawbacks."""
    rounding = ROUND_HALF_UP if plan.rounding == "half_up" else ROUND_HALF_EVEN
    tiers = [(t.lower, t.upper, t.rate) for t in plan.commission.tiers]
    deep_discount, deep_factor = Decimal("0.25"), Decimal("0.5")  # ae.yaml: coalesce(discount, 0) > 0.25
    cap = plan.caps.per_period
    spif = next(b for b in plan.bonuses if b.when is not None)
    spif_amount, spif_years = spif.amount, 3
    window = plan.clawback.within_days
    one = Decimal(1)
    by_rep = defaultdict(list)
    for n, d in enumerate(deals):
        if d["stage"] != "closed_won":
            continue
        amount, close = d["amount"], d["close_date"]
        if amount is None or close is None or not START <= close < END:
            continue
        years = d["contract_years"]
        bonus = spif_amount if (years if years is not None else 1) >= spif_years else None
        cancelled = d["cancelled_on"]
        discount = d["discount"]
        factor = deep_factor if discount is not None and discount > deep_discount else None
        split = d["split"]
        if split:
            for k, part in enumerate(split.split(";")):
                rep, pct = part.split(":")
                share = Decimal(pct) / 100
                by_rep[rep].append((close, d["id"], n * 64 + k, amount * share, share, bonus, cancelled, factor))
        else:
            by_rep[d["owner"]].append((close, d["id"], n * 64, amount, one, bonus, cancelled, factor))
    totals = {}
    for rep, items in by_rep.items():
        items.sort()
        quota = quotas[rep]
        bounds = [(lo * quota, None if hi is None else hi * quota, rate) for lo, hi, rate in tiers]
        position = Decimal(0)
        commission = Decimal(0)
        bonuses = Decimal(0)
        paid = {}
        for close, _deal_id, seq, amount, share, bonus, cancelled, factor in items:
            end = position + amount
            deal_paid = Decimal(0)
            for lo, hi, rate in bounds:
                a = position if position > lo else lo
                b = end if hi is None or end < hi else hi
                if b > a:
                    value = (b - a) * rate if factor is None else (b - a) * rate * factor
                    deal_paid += value.quantize(CENT, rounding=rounding)
            position = end
            commission += deal_paid
            deal_bonus = Decimal(0)
            if bonus is not None:
                deal_bonus = (bonus * share).quantize(CENT, rounding=rounding)
                bonuses += deal_bonus
            if cancelled is not None:
                paid[seq] = (deal_paid, deal_bonus, cancelled, close)
        kept = commission
        if cap is not None and commission > cap:
            kept = cap
        clawed = Decimal(0)
        for deal_paid, deal_bonus, cancelled, close in paid.values():
            if (cancelled - close).days <= window and START <= cancelled < END:
                if kept != commission:
                    deal_paid = (deal_paid * kept / commission).quantize(CENT, rounding=rounding)
                clawed += deal_paid + deal_bonus
        totals[rep] = kept + bonuses - clawed
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--rules", default=str(ROOT / "rules"))
    parser.add_argument("--plan", default="ae-2026")
    parser.add_argument("--repeat", type=int, default=3, help="time each side this many times, keep the best")
    args = parser.parse_args(argv)

    pack = read_pack([args.rules])
    if not pack.ok:
        print("the rule pack has errors; run dealgate validate", file=sys.stderr)
        return 2
    program = compile_payout(pack.analysis)
    plan = program.plans[args.plan]
    print(f"generating {args.deals:,} deals for {args.reps:,} reps ...", file=sys.stderr)
    deals, quotas = make_data(args.deals, args.reps)
    reps = [Rep(r, plan.id, quota=q) for r, q in quotas.items()]
    as_of = dt.date(2026, 9, 30)

    best_payout = best_hand = None
    result = totals = None
    for _ in range(args.repeat):
        gc.collect()
        started = time.perf_counter()
        result = program.compute(deals, reps, PERIOD, as_of)
        elapsed = time.perf_counter() - started
        best_payout = elapsed if best_payout is None else min(best_payout, elapsed)
        result_totals = {s.rep: s.total for s in result.statements}
        del result
        gc.collect()
        started = time.perf_counter()
        totals = handwritten(deals, quotas, plan)
        elapsed = time.perf_counter() - started
        best_hand = elapsed if best_hand is None else min(best_hand, elapsed)

    mismatches = [r for r in quotas if result_totals.get(r, Decimal(0)) != totals.get(r, Decimal(0))]
    print(
        f"payout:      {best_payout:8.2f} s  ({args.deals / best_payout:,.0f} deals/s, "
        f"{len(result_totals):,} statements)",
        file=sys.stderr,
    )
    print(f"handwritten: {best_hand:8.2f} s  ({args.deals / best_hand:,.0f} deals/s)", file=sys.stderr)
    if mismatches:
        r = mismatches[0]
        print(
            f"MISMATCH on {len(mismatches)} reps, e.g. {r}: payout {result_totals.get(r)} vs handwritten "
            f"{totals.get(r)}",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "deals": args.deals,
                "reps": args.reps,
                "payout_deals_per_s": round(args.deals / best_payout),
                "handwritten_deals_per_s": round(args.deals / best_hand),
                "payout_vs_handwritten": round(best_payout / best_hand, 3),
                "totals_match": not mismatches,
            }
        )
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
