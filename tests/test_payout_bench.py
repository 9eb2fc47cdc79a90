"""bench/payout.py runs, agrees with its hand-written loop to the cent, and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_small_bench_run_agrees_with_the_handwritten_loop():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "payout.py"), "--deals", "3000", "--reps", "30", "--repeat", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(last) >= {"deals", "reps", "payout_deals_per_s", "handwritten_deals_per_s", "payout_vs_handwritten"}
    assert (last["deals"], last["reps"], last["totals_match"]) == (3000, 30, True)
    assert last["payout_vs_handwritten"] > 0
    # end to end: the CLI wrote JSON and CSV statements of the same run, in a child process each
    assert set(last) >= {"e2e_json_seconds", "e2e_csv_seconds", "json_vs_csv", "peak_rss_mb_json", "peak_rss_mb_csv"}
    assert last["e2e_json_seconds"] > 0 and last["e2e_csv_seconds"] > 0 and last["json_vs_csv"] > 0
    assert last["peak_rss_mb_json"] > 0 and last["peak_rss_mb_csv"] > 0
    assert last["e2e_statements"] > 0
