"""How fast DuckDB makes output lines (engine.sql.text), and how fast they reach a file.

    python bench/sql_text.py [rows] [--short]

Each write-out method runs in its own process so that its peak RSS is its own.
``--short`` writes short lines ('D-123') instead of deal-like CSV lines, which is
the case where per-row overhead and memory per row show most (try 10000000).
The recommendation in engine/sql/text.py comes from these numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ("query_only", "copy", "arrow_join", "engine_write_lines", "string_agg", "fetchmany")


def deals_sql(rows: int) -> str:
    """A deals table like a scored export: a few awkward names, money, a list."""
    return f"""
        CREATE TABLE deals AS
        SELECT i AS line, 'D-' || i AS id,
               CASE WHEN i % 97 = 0 THEN 'Acme, "Big" Deal' WHEN i % 101 = 0 THEN '=cmd|x'
                    ELSE 'Deal ' || i END AS name,
               'owner' || (i % 50) AS owner, ['discovery', 'proposal', 'negotiation'][1 + i % 3] AS stage,
               CAST(CAST((i * 7919) % 10000000 AS DECIMAL(22, 6)) * 0.01 AS DECIMAL(22, 6)) AS amount,
               CAST([0.1, 0.6, 0.125][1 + i % 3] AS DECIMAL(4, 3)) AS probability,
               CASE WHEN i % 3 = 0 THEN ['budget', 'champion'] ELSE [] END AS failed
        FROM range({rows}) AS r(i)
    """


def line_query(short: bool, rows: int = 0, staged: bool = True) -> str:
    from sqlglot import exp

    from engine.sql import text

    if short:  # made as read, not from a table: the memory measured is the writer's
        return f"SELECT 'D-' || i AS line FROM range({rows}) AS r(i)"
    c = exp.column
    cells = [
        exp.cast(c("line"), exp.DataType.Type.VARCHAR),
        text.safe_cell(c("id")),
        text.safe_cell(c("name")),
        text.safe_cell(c("owner")),
        text.safe_cell(c("stage")),
        exp.func("ARRAY_TO_STRING", c("failed"), exp.Literal.string(";")),
        text.money_text(c("amount")),
        text.money_text(exp.Mul(this=c("amount"), expression=c("probability"))),
    ]
    if staged:  # cells first, in a subquery, so that csv_field repeats a column, not a safe_cell
        inner = exp.select(c("line"), *(cell.as_(f"c{i}") for i, cell in enumerate(cells))).from_("deals")
        line = text.csv_line([c(f"c{i}") for i in range(len(cells))])
        return exp.select(line.as_("line")).from_(inner.subquery("cells")).order_by(c("line")).sql(dialect="duckdb")
    line = text.csv_line(cells)
    return exp.select(line.as_("line")).from_("deals").order_by(c("line")).sql(dialect="duckdb")


def run_method(method: str, rows: int, short: bool, path: str) -> dict:
    import duckdb

    con = duckdb.connect()
    if not short:
        con.execute(deals_sql(rows))
    query = line_query(short, rows)
    before = _rss_mb("VmRSS:")
    start = time.perf_counter()
    if method == "query_only":  # the lines made and counted, not written: the floor for every method
        con.sql(f"SELECT count(*), sum(strlen(line)) FROM ({query})").fetchall()
        Path(path).write_text("")
    elif method == "copy":
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')")
    else:
        with open(path, "w", encoding="utf-8", newline="") as out:
            WRITERS[method](con, query, out)
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": int(rows / seconds),
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb("VmHWM:"),
        "bytes": os.path.getsize(path),
    }


def _rss_mb(field: str) -> int:
    """Current (VmRSS) or peak (VmHWM) resident memory of this process, Linux."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith(field))


def _arrow_join(con, query, out):
    for batch in con.sql(query).to_arrow_reader(100_000):
        out.write("\n".join(batch.column(0).to_pylist()))
        out.write("\n")


def _engine_write_lines(con, query, out):
    from engine.sql.text import write_lines

    write_lines(con, query, out)


def _string_agg(con, query, out):
    chunked = (
        f"SELECT string_agg(line, CHR(10) ORDER BY n) || CHR(10) FROM "
        f"(SELECT line, row_number() OVER () AS n FROM ({query})) GROUP BY n // 100000 ORDER BY n // 100000"
    )
    for batch in con.sql(chunked).to_arrow_reader(1):
        for text in batch.column(0).to_pylist():
            out.write(text)


def _fetchmany(con, query, out):
    result = con.execute(query)
    while rows := result.fetchmany(100_000):
        out.write("\n".join(row[0] for row in rows))
        out.write("\n")


WRITERS = {
    "arrow_join": _arrow_join,
    "engine_write_lines": _engine_write_lines,
    "string_agg": _string_agg,
    "fetchmany": _fetchmany,
}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 1_000_000
    short = "--short" in sys.argv
    if len(args) > 1:  # child: one method
        print(json.dumps(run_method(args[1], rows, short, args[2])))
        return
    with tempfile.TemporaryDirectory() as directory:
        reference = None
        for method in METHODS:
            path = os.path.join(directory, method)
            done = subprocess.run(
                [sys.executable, __file__, str(rows), method, path] + (["--short"] if short else []),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                print(method, "failed:", done.stderr.strip().splitlines()[-1:])
                continue
            result = json.loads(done.stdout)
            if method != "query_only":
                content = Path(path).read_bytes()
                reference = reference or content
                result["same_bytes"] = content == reference
            print(json.dumps(result))
            os.unlink(path)


if __name__ == "__main__":
    main()
