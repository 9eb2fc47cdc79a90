"""Benchmark: `dealgate score` engines end to end, against hand-written DuckDB SQL and polars.

    python bench/engines.py [--rows N] [--engines python,duckdb,spark,handwritten,polars]
                            [--keep DIR] [--repeat K] [--quick]

1. Generates one export of N rows (default 1,000,000) with engine.synthetic (seed 7), as CSV,
   and the same as Parquet (every column text, as in the CSV), in a temporary directory (or
   DIR with --keep, where they are reused by later runs with the same rows and seed).
2. Times each run as a subprocess, end to end (interpreter start, read, score, write the CSV
   output and the rejects file) with the child's peak RSS:
   - python: `dealgate score EXPORT.csv --engine python --as-of 2026-09-30 --format csv -o OUT
     --rejects REJ` (without `--engine` while dealgate has no such option), with its default
     `--jobs auto`: a CSV export over 8 MB is scored in parts, one process per CPU (engine.parts);
   - duckdb, duckdb_parquet, spark, spark_parquet: the same with `--engine duckdb|spark`, on the
     CSV and on the Parquet file ("unavailable" until `dealgate score --help` shows `--engine`;
     spark also needs pyspark);
   - handwritten_duckdb[_parquet]: bench/hand_duckdb.py, the default pack as hand-written SQL;
   - polars[_parquet]: bench/hand_polars.py, the same as polars expressions.
3. Checks every available run on a small sample export (with four broken rows) against
   `dealgate score --format csv` with the python engine: differing rows per output column, and
   the rejects; then checks the full-size outputs against the python engine's, row for row.
4. Prints a table on stderr and, as the last line on stdout, one JSON object with the figures.

Peak RSS is ru_maxrss of the child from os.wait4. Linux carries the parent's peak into a
child's ru_maxrss across fork/vfork+exec, so this process stays small (it never imports
duckdb, polars or pyspark) and reports its own peak as `rss_floor_mb`: a child figure at the
floor means "no more than that". A child's ru_maxrss also covers grandchildren it waited for
(the max, not the sum): a JVM that Spark leaves unreaped is not counted.
Speeds are measured, never asserted: on a shared machine compare ratios from one run
(`load_avg` says how busy the machine was).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
AS_OF = "2026-09-30"
SEED = 7
CHECK_SEED = 11
ENGINES = ("python", "duckdb", "spark", "handwritten", "polars")
ALIASES = {"handwritten_duckdb": "handwritten", "hand": "handwritten"}
# run name -> (engine, input kind)
RUNS = {
    "python": ("python", "csv"),
    "duckdb": ("duckdb", "csv"),
    "duckdb_parquet": ("duckdb", "parquet"),
    "spark": ("spark", "csv"),
    "spark_parquet": ("spark", "parquet"),
    "handwritten_duckdb": ("handwritten", "csv"),
    "handwritten_duckdb_parquet": ("handwritten", "parquet"),
    "polars": ("polars", "csv"),
    "polars_parquet": ("polars", "parquet"),
}


def log(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


def dealgate_command() -> list[str]:
    """The installed `dealgate` script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "dealgate"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dealgate")
    if found:
        return [found]
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); from cli import main; main()"]


def engine_option_supported(dealgate: list[str]) -> bool:
    """Whether `dealgate score` has --engine yet (it is being added)."""
    out = subprocess.run(dealgate + ["score", "--help"], capture_output=True, text=True, cwd=ROOT)
    return "--engine" in out.stdout


def availability(engines: set[str], dealgate: list[str]) -> tuple[dict, bool]:
    """run name -> None (available) or the reason it is not."""
    has_engine = engine_option_supported(dealgate)
    reasons = {}
    for name, (engine, _) in RUNS.items():
        if engine not in engines:
            reasons[name] = "not selected"
        elif engine in ("duckdb", "spark") and not has_engine:
            reasons[name] = "unavailable: `dealgate score` has no --engine option"
        elif engine == "spark" and importlib.util.find_spec("pyspark") is None:
            reasons[name] = "unavailable: pyspark is not installed"
        elif engine == "polars" and importlib.util.find_spec("polars") is None:
            reasons[name] = "unavailable: polars is not installed"
        else:
            reasons[name] = None
    return reasons, has_engine


def command(name: str, export: Path, out: Path, rejects: Path, dealgate: list[str], has_engine: bool) -> list[str]:
    engine, _ = RUNS[name]
    if engine == "handwritten":
        return [
            sys.executable,
            str(BENCH / "hand_duckdb.py"),
            str(export),
            str(out),
            "--rejects",
            str(rejects),
            "--as-of",
            AS_OF,
        ]
    if engine == "polars":
        return [
            sys.executable,
            str(BENCH / "hand_polars.py"),
            str(export),
            str(out),
            "--rejects",
            str(rejects),
            "--as-of",
            AS_OF,
        ]
    flag = ["--engine", engine] if has_engine else []
    return dealgate + [
        "score",
        "--rules",
        str(ROOT / "rules"),
        str(export),
        *flag,
        "--as-of",
        AS_OF,
        "--format",
        "csv",
        "-o",
        str(out),
        "--rejects",
        str(rejects),
    ]


def measure(argv: list[str], log_path: Path) -> dict:
    """Run ``argv`` to completion: wall seconds, the child's peak RSS (MB), exit code."""
    with log_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "rc": child.returncode}


def tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


# ---------------------------------------------------------------- data


def make_export(directory: Path, stem: str, rows: int, seed: int, with_rejects: bool = False) -> tuple[Path, Path]:
    """CSV (engine.synthetic) and Parquet (all text) of the same rows; reused when already made."""
    csv_path, parquet_path = directory / f"{stem}.csv", directory / f"{stem}.parquet"
    meta_path = directory / f"{stem}.json"
    meta = {"rows": rows, "seed": seed, "with_rejects": with_rejects, "as_of": AS_OF}
    if csv_path.exists() and parquet_path.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == meta:
                return csv_path, parquet_path
        except ValueError:
            pass
    log(f"generating {rows:,} rows ({csv_path.name}, {parquet_path.name})...")
    generate = [
        sys.executable,
        "-m",
        "engine.synthetic",
        "--rows",
        str(rows),
        "--seed",
        str(seed),
        "--as-of",
        AS_OF,
        "--out",
        str(csv_path),
    ] + (["--with-rejects"] if with_rejects else [])
    subprocess.run(generate, cwd=ROOT, check=True)
    # In a child, so that this process never holds duckdb (see rss_floor_mb).
    convert = (
        "import duckdb, sys; duckdb.connect().execute("
        '"COPY (SELECT * FROM read_csv(?, all_varchar = true, header = true)) TO \'" '
        '+ sys.argv[2].replace("\'", "\'\'") + "\' (FORMAT parquet)", [sys.argv[1]])'
    )
    subprocess.run([sys.executable, "-c", convert, str(csv_path), str(parquet_path)], cwd=ROOT, check=True)
    meta_path.write_text(json.dumps(meta))
    return csv_path, parquet_path


# ---------------------------------------------------------------- checks


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def compare(reference: Path, candidate: Path, ignore: tuple = ()) -> dict:
    """Per column, how many rows differ (row by row; a missing row differs in every column)."""
    ref, got = read_rows(reference), read_rows(candidate)
    diffs: dict[str, int] = {}
    if not got or got[0] != ref[0]:
        return {"header": 1, "rows": abs(len(ref) - len(got))}
    header = ref[0]
    for index in range(1, max(len(ref), len(got))):
        a = ref[index] if index < len(ref) else [None] * len(header)
        b = got[index] if index < len(got) else [None] * len(header)
        for column, x, y in zip(header, a, b):
            if x != y and column not in ignore:
                diffs[column] = diffs.get(column, 0) + 1
    if len(ref) != len(got):
        diffs["rows"] = abs(len(ref) - len(got))
    return diffs


def digest(path: Path, skip_file_column: bool, skip_line_column: bool = False) -> tuple[str, int]:
    """sha256 of the output (without the first column, the input path, when asked; and the second, the
    line, for Parquet, whose rows are numbered by position) and its line count."""
    sha, count = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for line in handle:
            for _ in range(int(skip_file_column) + int(skip_line_column)):
                line = line[line.index(b",") + 1 :] if b"," in line else line
            sha.update(line)
            count += 1
    return sha.hexdigest(), count


def check_sample(work: Path, rows: int, names: list[str], dealgate, has_engine) -> tuple[dict, dict]:
    """Each run on a small export with broken rows, against the python engine's CSV output."""
    sample_csv, sample_parquet = make_export(work, f"check_{rows}", rows, CHECK_SEED, with_rejects=True)
    outputs = {}
    for name in ["python"] + [n for n in names if n != "python"]:
        export = sample_parquet if RUNS[name][1] == "parquet" else sample_csv
        out, rej = work / f"check_out_{name}.csv", work / f"check_rej_{name}.csv"
        result = measure(command(name, export, out, rej, dealgate, has_engine), work / f"check_{name}.log")
        outputs[name] = (result, out, rej)
    ref = outputs["python"]
    if ref[0]["rc"] != 0:
        raise SystemExit(f"dealgate score failed on the sample: {tail(work / 'check_python.log')}")
    diffs, reject_diffs = {}, {}
    for name in names:
        if name == "python":
            continue
        result, out, rej = outputs[name]
        if result["rc"] != 0 or not out.exists():
            diffs[name] = {"failed": f"exit {result['rc']}: {tail(work / f'check_{name}.log')}"}
            continue
        parquet = RUNS[name][1] == "parquet"
        diffs[name] = compare(
            ref[1], out, ignore=("file", "line") if parquet else ()
        )  # a Parquet row's line is its position
        reject_diffs[name] = (
            compare(ref[2], rej, ignore=("line",) if parquet else ()) if rej.exists() else {"missing": 1}
        )
    return diffs, reject_diffs


# ---------------------------------------------------------------- report


def table(results: dict, rows: int, python_seconds: float | None, reasons: dict) -> str:
    lines = [f"{'engine':<28}{'input':<9}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}{'vs python':>11}"]
    for name, (_engine, kind) in RUNS.items():
        if name in results:
            r = results[name]
            if r["rc"] != 0:
                lines.append(f"{name:<28}{kind:<9}  failed (exit {r['rc']}): {r['error']}")
                continue
            ratio = f"{python_seconds / r['seconds']:.2f}x" if python_seconds else "-"
            lines.append(
                f"{name:<28}{kind:<9}{r['seconds']:>9.2f}{rows / r['seconds']:>12,.0f}{r['rss_mb']:>13.0f}{ratio:>11}"
            )
        elif reasons.get(name) not in (None, "not selected"):
            lines.append(f"{name:<28}{kind:<9}  {reasons[name]}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="rows in the export (default 1,000,000; 2,000 with --quick)")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated: python,duckdb,spark,handwritten,polars (default all)",
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the exports and outputs there")
    parser.add_argument("--repeat", type=int, default=1, help="best of K timed runs each (interleaved)")
    parser.add_argument("--check-rows", type=int, help="rows of the output check (default 2,000; 300 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a small, CI-friendly run (spark only if asked for)")
    args = parser.parse_args(argv)
    rows = args.rows or (2_000 if args.quick else 1_000_000)
    check_rows = args.check_rows or (300 if args.quick else 2_000)
    engines = {ALIASES.get(e.strip(), e.strip()) for e in args.engines.split(",") if e.strip()}
    if args.quick and "--engines" not in " ".join(sys.argv[1:] if argv is None else argv):
        engines.discard("spark")  # a JVM start is not CI-friendly
    unknown = engines - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(sorted(unknown))}; choose from {', '.join(ENGINES)}")
    engines.add("python")  # the reference of every ratio and of the output check

    dealgate = dealgate_command()
    reasons, has_engine = availability(engines, dealgate)
    names = [name for name, reason in reasons.items() if reason is None]
    load_start = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="dealgate-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        work = work.resolve()
        if "," in str(work) or '"' in str(work):
            raise SystemExit(f"work directory {work} must not contain ',' or '\"' (outputs are compared as text)")
        export_csv, export_parquet = make_export(work, f"deals_{rows}", rows, SEED)

        log(f"checking outputs on {check_rows:,} rows against `dealgate score --format csv`...")
        diffs, reject_diffs = check_sample(work, check_rows, names, dealgate, has_engine)
        for name in names:
            if name != "python":
                found = diffs.get(name) or {}
                log(
                    f"  {name:<28} {'same output' if not found else 'DIFFERS: ' + json.dumps(found)}"
                    f"{'' if not reject_diffs.get(name) else '; rejects differ: ' + json.dumps(reject_diffs[name])}"
                )

        log(f"timing {rows:,} rows, {args.repeat} run(s) each; load average {load_start:.2f}...")
        results: dict[str, dict] = {}
        floor = 0.0
        for _attempt in range(args.repeat):
            for name in names:
                export = export_parquet if RUNS[name][1] == "parquet" else export_csv
                out, rej = work / f"out_{name}.csv", work / f"rej_{name}.csv"
                floor = max(floor, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
                result = measure(command(name, export, out, rej, dealgate, has_engine), work / f"{name}.log")
                result["error"] = tail(work / f"{name}.log", 1) if result["rc"] else None
                best = results.get(name)
                if best is None or (result["rc"] == 0 and result["seconds"] < best["seconds"]):
                    results[name] = result
                log(
                    f"  {name:<28} {result['seconds']:7.2f} s  {result['rss_mb']:6.0f} MB"
                    + (f"  exit {result['rc']}" if result["rc"] else "")
                )

        log("comparing full-size outputs with the python engine's...")
        matches = {}
        python_ok = results["python"]["rc"] == 0
        for name in names:
            if name != "python" and results[name]["rc"] == 0 and python_ok:
                parquet = RUNS[name][1] == "parquet"
                matches[name] = digest(work / f"out_{name}.csv", True, parquet) == digest(
                    work / "out_python.csv", True, parquet
                )
        floor = max(floor, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        load_end = os.getloadavg()[0]

    ok = {name: r for name, r in results.items() if r["rc"] == 0}
    python_seconds = ok["python"]["seconds"] if "python" in ok else None
    log("")
    log(table(results, rows, python_seconds, reasons))
    log(f"(peak RSS at least {floor:.0f} MB: this process's own peak, which Linux carries into children)")

    def rate(name):
        return round(rows / ok[name]["seconds"]) if name in ok else None

    def ratio(a, b):
        return round(ok[a]["seconds"] / ok[b]["seconds"], 3) if a in ok and b in ok else None

    report = {
        "rows": rows,
        "engine_option": has_engine,
        **{f"{name}_rows_per_s": rate(name) for name in RUNS},
        "duckdb_vs_handwritten": ratio("duckdb", "handwritten_duckdb"),
        "duckdb_parquet_vs_handwritten": ratio("duckdb_parquet", "handwritten_duckdb_parquet"),
        "duckdb_vs_python": ratio("python", "duckdb"),
        "duckdb_parquet_vs_python": ratio("python", "duckdb_parquet"),
        "spark_vs_python": ratio("python", "spark"),
        "handwritten_duckdb_vs_python": ratio("python", "handwritten_duckdb"),
        "polars_vs_python": ratio("python", "polars"),
        "seconds": {name: round(r["seconds"], 3) for name, r in ok.items()},
        **{f"{name}_peak_rss_mb": round(ok[name]["rss_mb"], 1) if name in ok else None for name in RUNS},
        "rss_floor_mb": round(floor, 1),
        "unavailable": {name: reason for name, reason in reasons.items() if reason and reason != "not selected"},
        "failed": {name: r["error"] for name, r in results.items() if r["rc"] != 0},
        "check_rows": check_rows,
        "check_diffs": diffs,
        "check_reject_diffs": reject_diffs,
        "check_ok": not any(diffs.values()) and not any(reject_diffs.values()),
        "full_output_matches_python": matches,
        "load_avg": [round(load_start, 2), round(load_end, 2)],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
