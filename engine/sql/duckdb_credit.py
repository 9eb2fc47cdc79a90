"""Payouts on DuckDB: the export read and credited in SQL, statements by ``engine.payout``.

The export is read exactly as the DuckDB scorer reads it (``DuckDBScorer``:
header by the Python reader, the same typed rows, the same rejects with their
lines and reasons), and one query computes every plan's crediting for every
deal (``engine.sql.credit``). Only the deals some plan may credit come back to
Python, in export order, where ``engine.sql.crediting`` hands them to the
payout code as the results of its credit functions.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from .crediting import SqlCrediting, credit_records
from .duckdb_engine import BATCH, DuckDBScorer, SqlSource, SqlStream, scan_target
from .excel_ids import excel_id

_BOOKKEEPING = ("problem", "problem_column", "blank_row", "cells")


class DuckDBCrediting(SqlCrediting):
    """Credits the deals of one export with DuckDB, for ``program`` (a PayoutProgram of ``ruleset``)."""

    follows_progress = True  # its query advances the run's progress meter

    def __init__(self, ruleset, program, as_of: dt.date, *, on_reject=None):
        super().__init__(DuckDBScorer(ruleset, as_of, on_reject=on_reject), ruleset, program, as_of)

    def records(self, stream: SqlStream):
        """(line, record) of every deal of the export, in order; rejects go to ``on_reject`` first."""
        source: SqlSource = stream.sources[0]
        scorer, connection = self.scorer, self.scorer.connection
        line = scorer.line_expression(source)
        numbered = not isinstance(line, exp.Subquery)  # else each row's line comes from a table of line starts

        def build():
            typed = scorer.typed_rows(source, line, scan_target, used=self.query.used_fields())
            credited = self.query.build(typed.subquery("typed", copy=False), carry=_BOOKKEEPING)
            return exp.select(
                exp.alias_(exp.Literal.number(0), "position", copy=False),
                "*",
                exp.alias_(excel_id(scorer.ruleset, source.reader.column_plan), "excel_id", copy=False),
                copy=False,
            ).from_(credited.subquery("credited", copy=False), copy=False)

        table = scorer.cached_sql(source, ("duckdb-credit", numbered), build)
        scorer.watch([source])
        with scorer.following(source, 0.0, 1.0):
            connection.execute(f"CREATE OR REPLACE TEMP TABLE dealgate_all AS {table}")
        rejected = scorer.rejects(source, 0)
        deals = "problem IS NULL AND NOT blank_row"
        connection.execute(f"CREATE OR REPLACE TEMP VIEW dealgate_scored AS SELECT * FROM dealgate_all WHERE {deals}")
        stream.warnings = [(source.name, w) for w in [*source.reader.warnings, *scorer.mangled_id_warnings(0)]]
        total = connection.execute("SELECT count(*) FROM dealgate_scored").fetchall()[0][0]
        stream.counts.read += total + rejected
        stream.counts.deals += total
        stream.counts.rejected += rejected
        plans = len(self.program.credit.plans)
        credited_by_some = " OR ".join(f"w{k} IS NOT FALSE" for k in range(plans)) or "FALSE"
        result = connection.execute(
            f"SELECT * EXCLUDE (position, excel_id, {', '.join(_BOOKKEEPING)}) FROM ("
            f"SELECT *, row_number() OVER (ORDER BY line) AS number FROM dealgate_all WHERE {deals}) "
            f"WHERE {credited_by_some} ORDER BY number"
        )
        names = [d[0] for d in result.description]
        yield from credit_records(_batches(result), names, self.program, total)


def _batches(result):
    while True:
        batch = result.fetchmany(BATCH)
        if not batch:
            return
        yield from batch
