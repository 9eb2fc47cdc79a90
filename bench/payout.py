"""Payout benchmark: the compiled AE plan against a hand-written Decimal loop for the same plan.

    python bench/payout.py [--deals 1000000] [--reps 10000] [--rules rules] [--plan ae-2026]
                           [--no-e2e] [--keep DIR]

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

The two must agree to the cent on every rep's total (checked; a mismatch exits 1).

Then, end to end (unless ``--no-e2e``): a synthetic export of ``--deals`` rows and a reps file of
``--reps`` reps (``write_e2e_inputs``), and ``dealgate payout EXPORT --reps REPS --from 2026-Q1
--to 2026-Q4 --format json|csv -o FILE --engine python`` run as a child process of this
checkout's CLI, timed from start to exit with the child's peak RSS (``os.wait4``).

The last line printed is JSON: deals, reps, payout_deals_per_s, handwritten_deals_per_s,
payout_vs_handwritten (payout time / handwritten time; acceptance: <= 2), totals_match; and
e2e_json_seconds, e2e_csv_seconds, json_vs_csv (target <= 1.5), peak_rss_mb_json and
peak_rss_mb_csv (target < 300 at 1M deals / 10k reps), e2e_statements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
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


def write_e2e_inputs(folder: Path, deals: int, reps: int) -> tuple[Path, Path]:
    """A synthetic export (``engine.synthetic``, seed 7) and a reps file of ``reps`` reps to go with it.

    The synthetic export names six owners; here each row's owner, split partner and SDR are taken
    from ``reps`` reps instead (1% of them SDRs on the monthly SDR plan, the rest AEs), so a run
    has the statements of many reps, as a real company's has. Files already there are reused.
    """
    import csv

    from engine import synthetic

    export = folder / f"deals-{deals}-{reps}.csv"
    reps_file = folder / f"reps-{reps}.csv"
    sdrs = max(1, reps // 100)
    aes = [f"ae{n:05d}" for n in range(max(1, reps - sdrs))]
    sdr_ids = [f"sdr{n:04d}" for n in range(sdrs)]
    if not reps_file.exists():
        rng = random.Random(5)
        with open(reps_file, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "name", "plan", "quota", "target_incentive", "start", "end", "currency"])
            per_ae = 150_000 * deals // max(len(aes), 1) // 100  # near what an AE sells, so tiers are crossed
            for n, rep in enumerate(aes):
                quota = per_ae * rng.choice((60, 80, 100, 120, 140)) // 100
                writer.writerow([rep, f"AE {n}", "ae-2026", quota or 1000, 25000, "2024-01-01", "", "USD"])
            for n, rep in enumerate(sdr_ids):
                writer.writerow([rep, f"SDR {n}", "sdr-2026", "", "", "2025-01-01", "", "USD"])
    if not export.exists():
        rng = random.Random(3)
        partial = export.with_suffix(".part")
        with open(partial, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(synthetic.HEADER)
            for n, row in enumerate(synthetic.rows(deals)):
                owner = aes[n % len(aes)]
                row[2] = owner
                if row[18]:  # a split: the owner's share stays, the partner is another AE
                    share = row[18].split(";")[0].split(":")[1]
                    partner = aes[(n + 1 + rng.randrange(max(len(aes) - 1, 1))) % len(aes)]
                    row[18] = f"{owner}:{share};{partner}:{100 - int(share)}" if partner != owner else ""
                if row[19]:
                    row[19] = sdr_ids[rng.randrange(len(sdr_ids))]
                writer.writerow(row)
        partial.replace(export)
    return export, reps_file


def run_payout(export: Path, reps_file: Path, fmt: str, out: Path, log: Path) -> dict:
    """``dealgate payout`` of this checkout as a child process: seconds, peak RSS (MB), exit code."""
    cli = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from cli import main; main()"
    argv = [sys.executable, "-c", cli, "payout", str(export), "--reps", str(reps_file), "--rules", str(ROOT / "rules")]
    argv += ["--from", "2026-Q1", "--to", "2026-Q4", "--as-of", "2026-09-30", "--format", fmt, "-o", str(out)]
    argv += ["--engine", "python"]
    with log.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest of every child
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "rc": child.returncode}


def end_to_end(deals: int, reps: int, folder: Path) -> dict:
    """JSON and CSV statements written by the CLI from an export and a reps file: the e2e_* figures."""
    export, reps_file = write_e2e_inputs(folder, deals, reps)
    found: dict = {}
    for fmt in ("json", "csv"):
        print(f"e2e: dealgate payout {export.name} --format {fmt} ...", file=sys.stderr)
        log = folder / f"payout-{fmt}.log"
        run = run_payout(export, reps_file, fmt, folder / f"statements.{fmt}", log)
        closing = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        if run["rc"] not in (0, 1):  # 1: deal problems (duplicates, blank amounts), statements still written
            print(f"dealgate payout --format {fmt} failed ({run['rc']}): see {log}", file=sys.stderr)
            raise SystemExit(2)
        print(f"  {run['seconds']:.2f} s, peak RSS {run['rss_mb']:.0f} MB: {' '.join(closing)}", file=sys.stderr)
        found[fmt] = run
        if closing and closing[0].split(" ", 1)[0].replace(",", "").isdigit():
            found["statements"] = int(closing[0].split(" ", 1)[0].replace(",", ""))
    return {
        "e2e_json_seconds": round(found["json"]["seconds"], 2),
        "e2e_csv_seconds": round(found["csv"]["seconds"], 2),
        "json_vs_csv": round(found["json"]["seconds"] / found["csv"]["seconds"], 3),
        "peak_rss_mb_json": round(found["json"]["rss_mb"], 1),
        "peak_rss_mb_csv": round(found["csv"]["rss_mb"], 1),
        "e2e_statements": found.get("statements"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--rules", default=str(ROOT / "rules"))
    parser.add_argument("--plan", default="ae-2026")
    parser.add_argument("--repeat", type=int, default=3, help="time each side this many times, keep the best")
    parser.add_argument(
        "--e2e", action=argparse.BooleanOptionalAction, default=True, help="also run dealgate payout end to end"
    )
    parser.add_argument("--keep", help="folder for the end-to-end inputs and statements (reused); default: temporary")
    args = parser.parse_args(argv)

    pack = read_pack([args.rules])
    if not pack.ok:
        print("the rule pack has errors; run dealgate validate", file=sys.stderr)
        return 2
    program = compile_payout(pack.analysis)
    plan = program.plans[args.plan]
    # End to end first: a child's peak RSS on Linux starts from this process's own at the time of
    # the fork (the exec inherits its high-water mark), and the in-memory deals below are a GB.
    e2e: dict = {}
    if args.e2e:
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            e2e = end_to_end(args.deals, args.reps, Path(args.keep))
        else:
            with tempfile.TemporaryDirectory(prefix="dealgate-bench-") as folder:
                e2e = end_to_end(args.deals, args.reps, Path(folder))
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
    figures = {
        "deals": args.deals,
        "reps": args.reps,
        "payout_deals_per_s": round(args.deals / best_payout),
        "handwritten_deals_per_s": round(args.deals / best_hand),
        "payout_vs_handwritten": round(best_payout / best_hand, 3),
        "totals_match": not mismatches,
    }
    figures.update(e2e)
    print(json.dumps(figures))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
