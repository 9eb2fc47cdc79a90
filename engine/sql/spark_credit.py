"""Payouts on Spark: the export read and credited by Spark SQL, statements by ``engine.payout``.

The Spark counterpart of ``engine.sql.duckdb_credit``: the export is read as the Spark scorer
reads it (``SparkScorer``: the same typed rows, rejects and line numbers), the crediting query of
``engine.sql.credit`` runs as Spark SQL over it, and the credited rows stream back to the driver
in export order for ``engine.payout``. Every deal comes back (numbering them in Spark would move
them all to one partition); the driver keeps only what the statements need.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from .crediting import SqlCrediting, credit_records
from .excel_ids import excel_id
from .spark_engine import SparkScorer, SqlStream

_BOOKKEEPING = ("problem", "problem_column", "blank_row", "cells")


class SparkCrediting(SqlCrediting):
    """Credits the deals of one export on a SparkSession, for ``program`` (a PayoutProgram of ``ruleset``)."""

    def __init__(self, ruleset, program, as_of: dt.date, *, on_reject=None, master: str | None = None):
        super().__init__(SparkScorer(ruleset, as_of, on_reject=on_reject, master=master), ruleset, program, as_of)

    def records(self, stream: SqlStream):
        """(line, record) of every deal of the export, in order; rejects go to ``on_reject`` first."""
        from pyspark import StorageLevel

        scorer, spark = self.scorer, self.scorer.spark
        source = stream.sources[0]
        scorer.close()
        typed, _ = scorer.typed_sql(source, used=self.query.used_fields())
        credited = self.query.build(typed.subquery("typed", copy=False), carry=_BOOKKEEPING)
        table = exp.select(
            exp.alias_(exp.Literal.number(0), "position", copy=False),
            "*",
            exp.alias_(excel_id(scorer.ruleset, source.reader.column_plan), "excel_id", copy=False),
            copy=False,
        ).from_(credited.subquery("credited", copy=False), copy=False)
        scorer.all = spark.sql(table.sql("spark")).persist(StorageLevel.MEMORY_AND_DISK)
        scorer.all.createOrReplaceTempView("dealgate_all")
        rejected = scorer.rejects(source, 0)
        deals = scorer.all.where("problem IS NULL AND NOT blank_row")
        deals.createOrReplaceTempView("dealgate_scored")
        stream.warnings = [(source.name, w) for w in [*source.reader.warnings, *scorer.mangled_id_warnings(0)]]
        total = deals.count()
        stream.counts.read += total + rejected
        stream.counts.deals += total
        stream.counts.rejected += rejected
        rows = deals.drop("position", "excel_id", *_BOOKKEEPING).orderBy("line")
        yield from credit_records(rows.toLocalIterator(prefetchPartitions=True), rows.columns, self.program, total)
