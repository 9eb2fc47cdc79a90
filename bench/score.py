"""Benchmark: reading and scoring a deal export with the default pack.

    python bench/score.py [--rows N]        # default 1,000,000

Generates a Salesforce-report-style CSV for rules/ (engine.synthetic), then in
one run measures
- parse only: ExportReader over the file, every record typed;
- parse + score: the same, each deal scored by the compiled RuleSet;
- score only: the compiled RuleSet over the already-parsed deals;
- hand-written: bench/handwritten.py, the same checks written by hand, over the same deals,
  returning the same DealResult (and, for reference, a bare tuple);
- a bare ``csv.reader`` over the same file (the floor reading can approach);
- parse only, of the same rows as a JSONL export (one JSON object per row, keyed by the header);
- end to end: the CLI's own code path (``cli.main``, in process, ``--engine python``) from the
  export to a written output file, as csv, jsonl and json: as a user runs it (``--jobs auto``: a
  large export is scored in parts, one process per CPU, engine.parts), and in one process (``--jobs 1``);
- record + score: ``RuleSet.record`` on plain dicts (the library's entry point for callers
  that hold dicts) then ``score``, against ``score`` alone on the same records;
- peak memory of `dealgate score` streaming 10% of the rows and then all of them (flat = streaming).
The last line is JSON with the figures; ratios are times measured in this run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwritten  # noqa: E402

from engine.pack import load_ruleset  # noqa: E402
from engine.read import ExportReader, cells  # noqa: E402
from engine.synthetic import write_csv  # noqa: E402

AS_OF = dt.date(2026, 9, 30)
RECORD_SAMPLE = 200_000  # dicts held at once for record + score: enough for a steady rate


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def parse_only(ruleset, path) -> int:
    count = 0
    for _ in ExportReader(ruleset.analysis, path).records():
        count += 1
    return count


def write_jsonl(csv_path, out_path) -> None:
    """The export's rows as a JSONL export (one object per row, keyed by the header), as a CRM API gives them."""
    with csv_path.open(encoding="utf-8", newline="") as handle, out_path.open("w", encoding="utf-8") as out:
        for row in csv.DictReader(handle):
            out.write(json.dumps(row) + "\n")


def parse_and_score(ruleset, path) -> int:
    score, count = ruleset.score, 0
    for _, deal in ExportReader(ruleset.analysis, path).records():
        score(deal, AS_OF)
        count += 1
    return count


def score_all(score, deals) -> None:
    for deal in deals:
        score(deal, AS_OF)


def bare_csv_reader(path) -> int:
    """Every row of the file through ``csv.reader`` and nothing else: the floor for reading."""
    count = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            count += 1
    return count


def end_to_end(path, fmt: str, out, jobs: str = "auto") -> None:
    """`dealgate score` as the CLI runs it, in process: compile, read, score, render, write the file."""
    from cli import main

    args = [
        "score",
        "--rules",
        str(ROOT / "rules"),
        str(path),
        "--engine",
        "python",
        "--format",
        fmt,
        "--output",
        str(out),
        "--as-of",
        AS_OF.isoformat(),
        "--jobs",
        jobs,
    ]
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
        try:
            main(args)
        except SystemExit as done:
            if done.code not in (0, None):
                raise RuntimeError(f"dealgate score --format {fmt} exited {done.code}") from None


def plain_values(ruleset, path, limit: int) -> list[dict]:
    """Up to ``limit`` rows of the export as a caller holding dicts has them: field name -> text."""
    reader = ExportReader(ruleset.analysis, path)
    plan = reader.column_plan
    reader.close()
    values = []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        for row in rows:
            values.append({name: row[index] for index, name in plan})
            if len(values) == limit:
                break
    return values


def record_and_score(ruleset, values) -> None:
    record, score = ruleset.record, ruleset.score
    for value in values:
        score(record(value), AS_OF)


def peak_rss_mb(path, jobs: str = "1") -> tuple[float, float]:
    """Peak resident memory of a `dealgate score --engine python` child streaming ``path`` to /dev/null,
    and the largest peak of the processes it scored parts with (0 with ``--jobs 1``).

    (--engine python: what this measures, whatever `auto` would choose.)
    """
    # VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork+exec. The parts'
    # processes are forks (no exec): their ru_maxrss is their own, shared pages included.
    code = (
        "import sys, resource; from cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')),"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "score",
            "--rules",
            str(ROOT / "rules"),
            str(path),
            "--format",
            "jsonl",
            "--output",
            os.devnull,
            "--as-of",
            AS_OF.isoformat(),
            "--engine",
            "python",
            "--jobs",
            jobs,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    own, parts = out.stdout.strip().splitlines()[-1].split()
    return int(own) / 1024, int(parts) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="score-only timings: best of N")
    args = parser.parse_args()
    ruleset, _ = load_ruleset([ROOT / "rules"])
    import cli  # imported before timing: the end-to-end runs measure work, not imports

    jobs = cli.available_cpus()

    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.csv", Path(tmp) / "big.csv"
        print(f"generating {args.rows:,} rows...", file=sys.stderr)
        with big.open("w", encoding="utf-8", newline="") as out:
            write_csv(out, args.rows)
        with small.open("w", encoding="utf-8", newline="") as out:
            write_csv(out, max(args.rows // 10, 1))

        parse_time, rows = timed(lambda: parse_only(ruleset, big))
        print(f"parse only:    {rows / parse_time:>12,.0f} rows/s", file=sys.stderr)
        both_time, _ = timed(lambda: parse_and_score(ruleset, big))
        print(f"parse + score: {rows / both_time:>12,.0f} rows/s", file=sys.stderr)

        reader_time, _ = timed(lambda: bare_csv_reader(big))
        print(f"csv.reader:    {rows / reader_time:>12,.0f} rows/s", file=sys.stderr)
        as_jsonl = Path(tmp) / "big.jsonl"
        write_jsonl(big, as_jsonl)
        jsonl_time, _ = timed(lambda: parse_only(ruleset, as_jsonl))
        as_jsonl.unlink()
        print(f"parse JSONL:   {rows / jsonl_time:>12,.0f} rows/s (the same rows as JSON objects)", file=sys.stderr)
        cells_in_c = ""
        if not cells.available():
            cells_in_c = " (without the C loop: engine/read/_cells.c is not built, or DEALGATE_PURE_PYTHON=1)"
            print(f"note: reading{cells_in_c}", file=sys.stderr)
        e2e, one = {}, {}
        for fmt in ("csv", "jsonl", "json"):
            out = Path(tmp) / f"out.{fmt}"
            e2e[fmt], _ = timed(lambda fmt=fmt, out=out: end_to_end(big, fmt, out))
            one[fmt], _ = timed(lambda fmt=fmt, out=out: end_to_end(big, fmt, out, "1"))
            print(
                f"end to end {fmt + ':':<6}{rows / e2e[fmt]:>10,.0f} rows/s "
                f"({jobs} processes; one process: {rows / one[fmt]:,.0f})",
                file=sys.stderr,
            )
            out.unlink()

        sample = min(rows, RECORD_SAMPLE)
        values = plain_values(ruleset, big, sample)
        records = [ruleset.record(v) for v in values]
        record_time = alone_time = float("inf")
        for _ in range(args.repeat):
            record_time = min(record_time, timed(lambda: record_and_score(ruleset, values))[0])
            alone_time = min(alone_time, timed(lambda: score_all(ruleset.score, records))[0])
        values = records = None  # free them before the next measurement
        print(
            f"record + score:{sample / record_time:>12,.0f} rows/s (score alone: {sample / alone_time:,.0f})",
            file=sys.stderr,
        )

        deals = [deal for _, deal in ExportReader(ruleset.analysis, big).records()]
        score_time = hand_time = plain_time = float("inf")
        for _ in range(args.repeat):  # interleaved, best of N: all see the same machine noise
            score_time = min(score_time, timed(lambda: score_all(ruleset.score, deals))[0])
            hand_time = min(hand_time, timed(lambda: score_all(handwritten.score, deals))[0])
            plain_time = min(plain_time, timed(lambda: score_all(handwritten.score_plain, deals))[0])
        deals = None
        print(f"score only:    {rows / score_time:>12,.0f} rows/s", file=sys.stderr)
        print(
            f"hand-written:  {rows / hand_time:>12,.0f} rows/s (bare tuple: {rows / plain_time:,.0f})", file=sys.stderr
        )

        (small_mb, _), (big_mb, _) = peak_rss_mb(small), peak_rss_mb(big)
        parent_mb, part_mb = peak_rss_mb(big, "auto")
        print(
            f"peak memory of `dealgate score`: {small_mb:.0f} MB at {max(args.rows // 10, 1):,} rows, "
            f"{big_mb:.0f} MB at {args.rows:,} rows; in parts: {parent_mb:.0f} MB and {part_mb:.0f} MB per part",
            file=sys.stderr,
        )

    print(
        json.dumps(
            {
                "rows": rows,
                "parse_rows_per_s": round(rows / parse_time),
                "parse_score_rows_per_s": round(rows / both_time),
                "score_rows_per_s": round(rows / score_time),
                "handwritten_rows_per_s": round(rows / hand_time),
                "score_vs_handwritten": round(score_time / hand_time, 3),
                "score_vs_handwritten_bare_tuple": round(score_time / plain_time, 3),
                "parse_score_vs_parse": round(both_time / parse_time, 3),
                "csv_reader_rows_per_s": round(rows / reader_time),
                "parse_vs_csv_reader": round(parse_time / reader_time, 3),
                "parse_jsonl_rows_per_s": round(rows / jsonl_time),
                "parse_jsonl_vs_csv": round(jsonl_time / parse_time, 3),
                "cells_in_c": cells.available(),
                "e2e_csv_rows_per_s": round(rows / e2e["csv"]),
                "e2e_jsonl_rows_per_s": round(rows / e2e["jsonl"]),
                "e2e_json_rows_per_s": round(rows / e2e["json"]),
                "e2e_vs_parse_score": round(e2e["csv"] / both_time, 3),
                "e2e_jsonl_vs_parse_score": round(e2e["jsonl"] / both_time, 3),
                "e2e_json_vs_parse_score": round(e2e["json"] / both_time, 3),
                "e2e_jobs": jobs,
                "e2e_one_process_csv_rows_per_s": round(rows / one["csv"]),
                "e2e_one_process_jsonl_rows_per_s": round(rows / one["jsonl"]),
                "e2e_one_process_json_rows_per_s": round(rows / one["json"]),
                "e2e_one_process_vs_parse_score": round(one["csv"] / both_time, 3),
                "e2e_one_process_jsonl_vs_parse_score": round(one["jsonl"] / both_time, 3),
                "e2e_one_process_json_vs_parse_score": round(one["json"] / both_time, 3),
                "record_score_rows_per_s": round(sample / record_time),
                "record_score_vs_score": round(record_time / alone_time, 3),
                "peak_rss_mb_small": round(small_mb, 1),
                "peak_rss_mb_full": round(big_mb, 1),
                "peak_rss_mb_parts_parent": round(parent_mb, 1),
                "peak_rss_mb_parts_part": round(part_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
