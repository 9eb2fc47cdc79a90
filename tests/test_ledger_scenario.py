"""The ledger end to end, from the CLI, over six months (files in tests/data/ledger/).

January to June 2026 on a monthly plan with a recoverable draw and a 60-day clawback:
each month is paid from the export, closed and paid; February's L-05 is cancelled after
February was closed (a late cancellation, booked in March); in April the accelerator rate
is fixed (0.08 was a typo for 0.10) and every closed month drifts; in May an April deal is
cancelled (a clawback in May's own statement, of what the ledger says April paid); payroll
files report what was actually paid. At the end, nothing locked has changed (verify), and
the ledger's payable equals the statements recomputed from scratch, to the cent.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

from click.testing import CliRunner
from test_payout_support import ROOT

from cli import main

DATA = ROOT / "tests" / "data" / "ledger"
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
ENDS = {
    "2026-01": "2026-01-31",
    "2026-02": "2026-02-28",
    "2026-03": "2026-03-31",
    "2026-04": "2026-04-30",
    "2026-05": "2026-05-31",
    "2026-06": "2026-06-30",
}
D = Decimal


def dealgate(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def pack(tmp_path, fixed: bool = False):
    """The default fields and pipeline with the scenario's plan; ``fixed``: with April's rate fix."""
    rules = tmp_path / ("rules-fixed" if fixed else "rules")
    (rules / "plans").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "fields.yaml", rules / "fields.yaml")
    shutil.copy(ROOT / "rules" / "pipeline.yaml", rules / "pipeline.yaml")
    plan = (DATA / "plan.yaml").read_text(encoding="utf-8")
    if fixed:
        plan = plan.replace("rate: 0.08, label: accelerator", "rate: 0.10, label: accelerator")
    (rules / "plans" / "plan.yaml").write_text(plan, encoding="utf-8")
    return rules


def payout(rules, export, period, ledger=None):
    """``period`` a month, or 'FIRST..LAST'; as of the last day of the (last) month."""
    first, _, last = period.partition("..")
    span = ["--from", first, "--to", last] if last else ["--period", first]
    args = [
        "payout",
        DATA / export,
        "--rules",
        rules,
        "--reps",
        DATA / "reps.csv",
        *span,
        "--as-of",
        ENDS[last or first],
        "--format",
        "json",
        "--engine",
        "python",
    ]
    if ledger is not None:
        args += ["--ledger", ledger]
    result = dealgate(*args)
    return json.loads(result.stdout), result.stderr


def ledger_json(ledger, *more) -> dict:
    return json.loads(dealgate("ledger", "export", "--ledger", ledger, "--format", "json", *more).stdout)


def test_six_months_of_pay_runs(tmp_path):
    rules, fixed = pack(tmp_path), pack(tmp_path, fixed=True)
    ledger = tmp_path / "comp.db"
    hashes: dict = {}

    def close_and_verify(month):
        dealgate("close", month, "--ledger", ledger)
        for s in ledger_json(ledger)["statements"]:
            if s["state"] != "open":
                assert hashes.setdefault((s["rep"], s["period"]), s["content_hash"]) == s["content_hash"]
        assert "match their content hashes" in dealgate("ledger", "verify", "--ledger", ledger).stdout

    # January: paid from the ledger, closed, paid with a payroll file that paid Ben a different amount
    january, _ = payout(rules, "deals.csv", "2026-01", ledger)
    close_and_verify("2026-01")
    paid = dealgate("pay", "2026-01", "--ledger", ledger, "--file", DATA / "payroll-2026-01.csv")
    assert "ben: ledger 1,306.45, paid 1,450.00  difference 143.55" in paid.stdout
    assert "warning[DG806]" in paid.stderr
    assert {s["rep"]: s["total"] for s in january["statements"]} == {"ana": "3300.00", "ben": "1306.45"}

    # February, with the export as it was then
    payout(rules, "deals.csv", "2026-02", ledger)
    close_and_verify("2026-02")
    dealgate("pay", "2026-02", "--ledger", ledger)

    # March: the export now carries L-05's cancellation, dated in (closed) February
    _, said = payout(rules, "deals-cancelled.csv", "2026-03", ledger)
    assert "late cancellation: clawback (cancel_60) on deal L-05 in locked 2026-02 was 0.00, is now -2,700.00" in said
    again, said_again = payout(rules, "deals-cancelled.csv", "2026-03", ledger)  # a re-run books nothing twice
    march = [s for s in ledger_json(ledger, "--period", "2026-03")["statements"] if s["rep"] == "ana"][0]
    assert [(a["source_period"], a["kind"], a["deal"], a["amount"], a["reason"]) for a in march["adjustments"]] == [
        ("2026-02", "clawback", "L-05", "-2700.00", "late cancellation"),
        ("2026-02", "draw", None, "500.00", "data change"),
    ]
    close_and_verify("2026-03")
    dealgate("pay", "2026-03", "--ledger", ledger)

    # April: the rate fix; every closed month is recomputed and drifts as a rule change
    _, said = payout(fixed, "deals-cancelled.csv", "2026-04", ledger)
    assert "locked with drift" in said
    april = ledger_json(ledger, "--period", "2026-04", "--rep", "ana")["statements"][0]
    reasons = {(a["source_period"], a["kind"], a["deal"]): (a["amount"], a["reason"]) for a in april["adjustments"]}
    assert reasons[("2026-01", "commission", "L-02")] == ("200.00", "rule change")
    assert reasons[("2026-02", "commission", "L-05")] == ("300.00", "rule change")
    assert reasons[("2026-02", "clawback", "L-05")] == ("-300.00", "rule change")
    close_and_verify("2026-04")
    dealgate("pay", "2026-04", "--ledger", ledger)

    # May: L-10 (April, Ben) is cancelled in May: May's own statement takes back what April paid
    may, _ = payout(fixed, "deals-cancelled.csv", "2026-05", ledger)
    ben_may = [s for s in may["statements"] if s["rep"] == "ben"][0]
    clawback = [line for line in ben_may["lines"] if line["kind"] == "clawback"]
    april_ben = ledger_json(ledger, "--period", "2026-04", "--rep", "ben")["statements"][0]
    paid_on_l10 = sum(D(line["amount"]) for line in april_ben["lines"] if line["deal"] == "L-10")
    assert [(c["deal"], D(c["amount"])) for c in clawback] == [("L-10", -paid_on_l10)]
    shown = dealgate("ledger", "show", "--ledger", ledger, "--rep", "ben", "--period", "2026-05").stdout
    assert "paid in 2026-04 (paid)" in shown and "L-10" in shown
    close_and_verify("2026-05")
    dealgate("pay", "2026-05", "--ledger", ledger)

    # June, then everything checked against a from-scratch run of the final rules and data
    payout(fixed, "deals-cancelled.csv", "2026-06", ledger)
    close_and_verify("2026-06")
    dealgate("close", "2026-06", "--ledger", ledger, code=2)  # already closed
    scratch, _ = payout(fixed, "deals-cancelled.csv", "2026-01..2026-06")
    booked = ledger_json(ledger)
    for rep in ("ana", "ben"):
        recomputed = sum(D(s["total"]) for s in scratch["statements"] if s["rep"] == rep)
        payable = sum(D(s["payable"]) for s in booked["statements"] if s["rep"] == rep)
        assert payable == recomputed, rep
        last = [s for s in scratch["statements"] if s["rep"] == rep][-1]
        balance = [b for b in booked["balances"] if b["rep"] == rep][0]
        assert balance["draw_balance"] == last["draw_balance"], rep
    # the payroll file's difference stays on record
    assert [b["paid"] for b in booked["balances"] if b["rep"] == "ben"] != [None]
    export = dealgate("ledger", "export", "--ledger", ledger, "--rep", "ana").stdout
    assert export.splitlines()[0].startswith("record,rep,name,plan,period,state")
    assert "adjustment,ana" in export and "late cancellation" in export
