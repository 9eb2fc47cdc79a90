"""Benchmark: `dealgate report` end to end, its time and peak memory at a tenth of the rows and at all of them.

    python bench/report.py [--rows N]        # default 1,000,000

Generates a synthetic export (engine.synthetic) of N rows and one of N/10, then runs
`dealgate report EXPORT --as-of 2026-09-30 -o PAGE` on each as a child process of this checkout's
CLI, timed from start to exit, with the child's peak resident memory (VmHWM, read by the child
itself at exit: Linux carries a parent's peak into a child's ru_maxrss across fork+exec).
The report walks its deals once and holds none of them, so its memory stays flat in rows; it grows
with what the page shows (owners, the largest deals behind each bar).

The last line printed is JSON: rows, seconds, rows_per_s, peak_rss_mb_small (N/10 rows),
peak_rss_mb_full (N rows), page_mb.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.synthetic import write_csv  # noqa: E402

CHILD = (
    "import sys; from cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr)"
)


def report(export: Path, page: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `dealgate report` on ``export``."""
    args = ["report", str(export), "--rules", str(ROOT / "rules"), "--as-of", "2026-09-30", "-o", str(page)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if not page.exists():
        sys.exit(f"dealgate report failed:\n{done.stderr}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.csv", Path(tmp) / "big.csv"
        print(f"generating {args.rows:,} rows...", file=sys.stderr)
        for path, rows in ((small, max(args.rows // 10, 1)), (big, args.rows)):
            with path.open("w", encoding="utf-8", newline="") as out:
                write_csv(out, rows)
        _, small_mb = report(small, Path(tmp) / "small.html")
        seconds, big_mb = report(big, Path(tmp) / "big.html")
        page_mb = (Path(tmp) / "big.html").stat().st_size / 1e6
    print(
        f"report: {args.rows:,} rows in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s); peak memory "
        f"{small_mb:.0f} MB at {args.rows // 10:,} rows, {big_mb:.0f} MB at {args.rows:,}; page {page_mb:.1f} MB",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "rows": args.rows,
                "seconds": round(seconds, 2),
                "rows_per_s": round(args.rows / seconds),
                "peak_rss_mb_small": round(small_mb, 1),
                "peak_rss_mb_full": round(big_mb, 1),
                "page_mb": round(page_mb, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
