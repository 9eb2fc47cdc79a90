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
