"""`dealgate payout` end to end per engine: the same statements, how long, how much memory.

    python bench/payout_engines.py [--rows 1000000] [--engines python,duckdb[,spark]] [--keep DIR]

One synthetic export (``engine.synthetic``, seed 7) and the example reps file
(``examples/reps.csv``: six AEs on the tiered plan, two SDRs); each engine runs as a subprocess,
timed from start to the written JSON statements:

    dealgate payout EXPORT --reps examples/reps.csv --from 2026-Q1 --to 2026-Q4 --as-of 2026-09-30
                    --format json -o OUT --rejects REJ --engine ENGINE

Every engine's statements and rejects must be the Python engine's, byte for byte (a difference
exits 1). The last line printed is JSON: rows, ``<engine>_seconds``, ``<engine>_rows_per_s``,
``<engine>_peak_rss_mb``, ``duckdb_vs_python`` (python time / duckdb time: the speedup),
``outputs_match`` and ``load_avg``. Peak RSS is the child's ru_maxrss (see bench/engines.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from engines import ROOT, dealgate_command, log, measure, tail  # noqa: E402

AS_OF = "2026-09-30"


def make_export(directory: Path, rows: int) -> Path:
    export = directory / f"payout_deals_{rows}.csv"
    if not export.exists():
        log(f"generating {rows:,} rows -> {export}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "engine.synthetic",
                "--rows",
                str(rows),
                "--seed",
                "7",
                "--as-of",
                AS_OF,
                "--out",
                str(export),
            ],
            cwd=ROOT,
            check=True,
        )
    return export


def command(dealgate: list[str], engine: str, export: Path, out: Path, rejects: Path) -> list[str]:
    return dealgate + [
        "payout",
        str(export),
        "--rules",
        str(ROOT / "rules"),
        "--reps",
        str(ROOT / "examples" / "reps.csv"),
        "--from",
        "2026-Q1",
        "--to",
        "2026-Q4",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "-o",
        str(out),
        "--rejects",
        str(rejects),
        "--engine",
        engine,
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="python,duckdb")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the export and outputs here")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "python" not in engines:
        engines.insert(0, "python")  # the reference every other engine is checked against
    with tempfile.TemporaryDirectory(prefix="dealgate-payout-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        export = make_export(work, args.rows)
        dealgate = dealgate_command()
        load_before = os.getloadavg()[0]
        results, outputs = {}, {}
        for engine in engines:
            out, rejects = work / f"payout_{engine}.json", work / f"payout_{engine}_rejects.csv"
            log(f"{engine}: running")
            run = measure(command(dealgate, engine, export, out, rejects), work / f"payout_{engine}.log")
            if run["rc"] != 0:
                log(f"{engine}: failed ({tail(work / f'payout_{engine}.log')})")
                continue
            results[engine] = run
            outputs[engine] = (out.read_bytes(), rejects.read_bytes())
            log(
                f"{engine}: {run['seconds']:.1f} s, {args.rows / run['seconds']:,.0f} rows/s, "
                f"peak RSS {run['rss_mb']:,.0f} MB"
            )
        reference = outputs.get("python")
        match = {e: outputs[e] == reference for e in outputs if e != "python"} if reference else {}
        figures = {"rows": args.rows, "load_avg": [load_before, os.getloadavg()[0]], "outputs_match": match}
        for engine, run in results.items():
            figures[f"{engine}_seconds"] = round(run["seconds"], 2)
            figures[f"{engine}_rows_per_s"] = round(args.rows / run["seconds"])
            figures[f"{engine}_peak_rss_mb"] = round(run["rss_mb"])
        if "python" in results and "duckdb" in results:
            figures["duckdb_vs_python"] = round(results["python"]["seconds"] / results["duckdb"]["seconds"], 2)
        print(json.dumps(figures))
        if not all(match.values()):
            sys.exit(1)


if __name__ == "__main__":
    main()
