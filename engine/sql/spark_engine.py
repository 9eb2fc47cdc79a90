"""The Spark engine: score CSV and Parquet exports with the compiled SQL on Spark.

It mirrors the DuckDB runner (``engine.sql.duckdb_engine``): the header of a
CSV export is read by the Python reader (``ExportReader``), so column
matching, header warnings and header errors are the Python engine's own;
Spark reads the rows, every cell as text; one query (``typed_rows`` and
``ScoringQuery``, printed for Spark) reads the cells as typed values, sorts out
the rows that cannot be read (the rejects: same line, id, column, value and
reason) and scores the rest into a cached view, ``dealgate_scored``, with the
DuckDB engine's columns: the summary is made from aggregates over it, the CSV
and JSON lines in SQL (``engine.sql.lines``), streamed back in file order one
Spark partition at a time (``toLocalIterator``); the table format reads the
``ScoredDeal`` tuples the Python engine yields. ``write_parquet`` writes the
scored rows with Spark's own writer instead, without bringing them to the driver.

Reading CSV exactly as Python's ``csv`` module does:

- every cell is a STRING column ``c0..cN`` (explicit schema, no inference, no
  trimming), quotes and doubled quotes as RFC 4180 (``quote``/``escape`` ``"``);
- ``mode=FAILFAST`` with CSV column pruning off, so a row with the wrong number
  of cells fails the first pass over the file (``check_readable``): the whole
  export then goes to the Python engine (``Fallback``), whose reader rejects
  such rows one by one;
- one pass over the bytes (``_scan``) first: bytes that are not UTF-8 (Spark
  would read them as U+FFFD), NUL bytes, or a lone CR next to LF
  line ends send the export to Python too. A file with no double quote at all
  cannot have a quoted line break, and every line that is not blank is one
  record: Spark reads it split in parallel, and a row's line is its position.
  Otherwise Python's ``csv.reader`` reads the file once more to find where
  each record starts (``_record_starts``) and how many characters its cells
  hold; Spark reads it ``multiLine`` if a record spans lines, and the counts
  of records and characters must agree with Spark's, else ``Fallback``.

Row positions: Spark gives rows no number. Each row carries its partition id,
file, split start and ``monotonically_increasing_id`` (consecutive inside a
partition); the first pass counts the rows of each (partition, file, split)
and Python turns the counts into the offset of each split in file order. A
row's position is its split's offset plus its rank in the split. When the
partitions are in file order (always, for one file so far), the query needs no
sort: ``toLocalIterator`` already returns rows in file order.

Parquet (a ``.parquet`` file or a directory of them): the columns are matched
to fields as a CSV header would be (by the Python reader, given the column
names as a header line); a cell is the column's value cast to STRING; the
``line`` of a row is its 1-based position (files in name order).

Settings (``SPARK_CONF``): ANSI mode stays on (Spark 4's default) so that an
overflow or an invalid cast raises instead of giving NULL; decimal
arithmetic never rounds to fit (``allowPrecisionLoss`` false), so products are
exact as in Python; dates in UTC.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import os
import re
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from sqlglot import exp

from .. import progress
from ..read import ExportReader
from ..read.csv import LineFeed, runaway_quote
from ..results import DealResult
from ..score import ScoredDeal
from . import excel_ids
from .duckdb_engine import _NARROW, RUNAWAY_FALLBACK, Fallback, SqlStream, _ids, hand_rejects, rejects_query
from .expr import literal
from .rows import typed_rows
from .score import ScoringQuery
from .sources import ParquetHeader, is_parquet

__all__ = [
    "Fallback",
    "SPARK_CONF",
    "SparkScorer",
    "SparkSource",
    "SqlStream",
    "is_parquet",
    "spark_problem",
    "spark_session",
]

SPARK_CONF = {
    "spark.sql.ansi.enabled": "true",  # overflow and invalid casts raise, never a silent NULL
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",  # exact DECIMAL products, as Python's
    "spark.sql.session.timeZone": "UTC",  # CURRENT_DATE and dates independent of the machine
    "spark.sql.csv.parser.columnPruning.enabled": "false",  # parse every cell: FAILFAST sees every bad row
}
STATIC_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "2g",  # local mode: the driver is the executor; planning the query is memory-hungry
    # a local executor that misses 60 heartbeats (a machine stalled for a minute) kills the JVM
    "spark.executor.heartbeat.maxFailures": "600",
}
_VIEWS: list = []  # temporary views made in this process, dropped by the next run
BROADCAST_LINES = 2_000_000  # record start lines joined by broadcast up to this many rows
SCAN_CHUNK = 1 << 24


def spark_problem() -> str | None:
    """Why ``--engine spark`` cannot run here (no pyspark; no Java for a local Spark), or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "the Spark engine needs pyspark: pip install 'dealgate[spark]'"
    if os.environ.get("SPARK_REMOTE"):
        return None
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return None
    if shutil.which("java") is None:
        return "the Spark engine needs Java 17 or later (set JAVA_HOME or put java on PATH), or SPARK_REMOTE"
    return None


@contextlib.contextmanager
def _jvm_output_elsewhere():
    """While a local JVM starts, file descriptors 1 and 2 point at DEALGATE_SPARK_LOG (default: nowhere).

    The JVM keeps the descriptors it was started with: its log lines and warnings must not mix with
    dealgate's stdout (machine formats) or stderr (the same lines as the Python engine's).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    target = os.open(os.environ.get("DEALGATE_SPARK_LOG") or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def spark_session(master: str | None = None, remote: str | None = None):
    """The active SparkSession, or a new one: Spark Connect at ``remote`` (or SPARK_REMOTE), else ``master``."""
    from pyspark.sql import SparkSession

    remote = remote or os.environ.get("SPARK_REMOTE")
    active = SparkSession.getActiveSession()
    if active is not None:
        session = active
    elif remote:
        session = SparkSession.builder.remote(remote).appName("dealgate").getOrCreate()
    else:
        builder = SparkSession.builder.master(master or "local[*]").appName("dealgate")
        for key, value in {**STATIC_CONF, **SPARK_CONF}.items():
            builder = builder.config(key, value)
        with _jvm_output_elsewhere():
            session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    for key, value in SPARK_CONF.items():
        session.conf.set(key, value)
    return session


@attrs.define
class SparkSource:
    """One export prepared for Spark: its reader (header, plan, warnings), path and kind (csv or parquet)."""

    reader: Any  # an ExportReader, or a ParquetHeader (which has the attributes the engines read)
    path: str
    kind: str = "csv"
    multiline: bool = False
    simple: bool = True  # every line is one record: a row's line is its position
    physical: int = 0  # lines in the file (when simple)
    starts: list = attrs.field(factory=list)  # else: the start line of each record Spark reads, in order
    chars: int | None = None  # and the characters in all cells of those records
    groups: list | None = None  # (partition, file, split start, first id, offset) of each split, in file order
    in_order: bool = False  # the partitions are in file order: no sort needed

    @property
    def name(self) -> str:
        return self.reader.source_name


class TaskProgress:
    """How far Spark has got, as the progress meter reads an engine (``Meter.following``): the percentage of
    the tasks done in the stages it has run since this was made. Stages appear one after another, so the
    figure is kept from going back when a new one adds its tasks; -1 until the first stage runs.
    """

    def __init__(self, tracker):
        self.tracker = tracker
        self.stages: dict[int, tuple[int, int]] = {}  # stage id -> (tasks done, tasks)
        self.known = set(tracker.getActiveStageIds())  # stages of earlier work: not this block's
        self.best = -1.0

    def __call__(self) -> float:
        active = set(self.tracker.getActiveStageIds()) - self.known
        for stage in list(self.stages):  # a stage no longer active has finished
            if stage not in active:
                tasks = self.stages[stage][1]
                self.stages[stage] = (tasks, tasks)
        for stage in active:
            info = self.tracker.getStageInfo(stage)
            if info is not None and info.numTasks:
                self.stages[stage] = (info.numCompletedTasks, info.numTasks)
        done = sum(d for d, _ in self.stages.values())
        tasks = sum(t for _, t in self.stages.values())
        if tasks:
            self.best = max(self.best, 100.0 * done / tasks)
        return self.best


# Of a run the progress meter follows: reading and scoring every row into the cache is most of it; the
# output, read back from the cache, the rest.
SCORING_SHARE = 0.8


class SparkScorer:
    """Scores exports with one SparkSession; ``deals(sources)`` yields ScoredDeal in file order."""

    def __init__(
        self,
        ruleset,
        as_of: dt.date,
        *,
        on_reject=None,
        counts=None,
        spark=None,
        master: str | None = None,
        remote: str | None = None,
    ):
        self.ruleset = ruleset
        self.analysis = ruleset.analysis
        self.as_of = as_of
        self.on_reject = on_reject
        self.counts = counts
        self.spark = spark if spark is not None else spark_session(master, remote)
        self.query = ScoringQuery(ruleset, literal(as_of))
        self.probabilities = {s.id: s.probability for s in ruleset.pipeline.stages}
        self._views = 0
        self.all: Any = None  # Spark DataFrames (pyspark has no type information), once scored
        self.scored: Any = None
        self.in_order = False

    @property
    def follows_progress(self) -> bool:
        """Whether its work advances the run's progress meter: with a SparkContext to ask (Spark Connect has none)."""
        return self._tracker() is not None

    def _tracker(self):
        try:
            return self.spark.sparkContext.statusTracker()
        except Exception:  # Spark Connect sessions have no SparkContext
            return None

    def following(self, start: float, end: float):
        """The progress meter, if something watches it, follows Spark's tasks from ``start`` to ``end``."""
        meter = progress.current()
        tracker = self._tracker() if meter is not None else None
        if tracker is None:
            return contextlib.nullcontext()
        return meter.following(TaskProgress(tracker), start, end)  # type: ignore[union-attr]  # set when tracker is

    def describe(self) -> str:
        """Where the rules run, for -v: the master (or Spark Connect) and Spark's version."""
        try:
            where = self.spark.sparkContext.master
        except Exception:  # Spark Connect sessions have no SparkContext
            where = "Spark Connect"
        return f"{where}, Spark {self.spark.version}"

    # reading

    def prepare(self, path: str, fmt: str | None = None, delimiter: str | None = None) -> SparkSource:
        """The header read as the Python engine reads it; Fallback for what Spark cannot read exactly."""
        if path == "-":
            raise Fallback("standard input is read by the Python engine")
        if fmt is None and is_parquet(path):
            columns = self.spark.read.parquet(path).columns
            header = ParquetHeader(self.analysis, path, columns)
            if not header.readable:
                raise Fallback("a Parquet column name with a line break in it")
            return SparkSource(header, str(path), "parquet")
        reader = ExportReader(self.analysis, path, fmt=fmt, delimiter=delimiter)
        reader.close()
        if reader.format not in ("csv", "tsv"):
            raise Fallback(f"{reader.format} exports are read by the Python engine")
        source = SparkSource(reader, str(path))
        self._scan(source)
        return source

    def _scan(self, source: SparkSource) -> None:
        """One pass over the bytes: is every line one record? Fallback for what Spark would read differently."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        newlines = returns = crlf = quotes = 0
        size, last, previous = 0, b"", b""
        with open(source.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    raise Fallback("the export is not UTF-8 (the Python reader says where)") from None
                if b"\x00" in chunk:
                    raise Fallback("the export has NUL bytes")
                newlines += chunk.count(b"\n")
                returns += chunk.count(b"\r")
                crlf += chunk.count(b"\r\n") + (previous == b"\r" and chunk[:1] == b"\n")
                quotes += chunk.count(b'"')
                size += len(chunk)
                previous = last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise Fallback("the export is not UTF-8 (the Python reader says where)") from None
        if returns and crlf != returns:
            if newlines:
                raise Fallback("the export mixes CR and LF line ends")
        source.multiline = False
        if quotes == 0:
            physical = (
                newlines + (1 if size and last not in (b"\n", b"\r") else 0)
                if newlines
                else returns + (1 if size and last != b"\r" else 0)
            )
            source.simple, source.physical = True, physical  # checked against Spark's row count
            return
        self._record_starts(source)

    def _record_starts(self, source: SparkSource) -> None:
        """Python's csv.reader over the file: where each record Spark will read starts, and its characters."""
        starts, chars, multiline = [], 0, False
        delimiter = source.reader.delimiter
        width = len(source.reader.header)
        with open(source.path, encoding="utf-8-sig", newline="") as text:
            lines = LineFeed(text)
            reader = csv.reader(lines.lines(), delimiter=delimiter)
            line = 1
            try:
                for row in reader:
                    spanned = reader.line_num + 1 - line
                    if line > source.reader.header_line and runaway_quote(lines, row, spanned, width):
                        raise Fallback(RUNAWAY_FALLBACK)
                    lines.record_done()
                    spans = spanned > 1
                    multiline = multiline or spans
                    if spans or row and (len(row) > 1 or not _java_blank(row[0])):
                        starts.append(line)
                        chars += sum(map(len, row))
                    line = reader.line_num + 1
            except csv.Error:
                raise Fallback("Python's csv module cannot read the file (the Python reader says where)") from None
        source.multiline = multiline
        source.simple = False
        source.starts = starts
        source.chars = chars

    def raw_frame(self, source: SparkSource):
        """The export's records as text cells c0..cN, each with _pid, _file, _blk and _mid (see the docstring)."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as ST

        reader = source.reader
        width = len(reader.header)
        if source.kind == "parquet":
            frame = self.spark.read.parquet(source.path)
            cells = [F.col(f"`{name}`").cast("string").alias(f"c{i}") for i, name in enumerate(frame.columns)]
        else:
            schema = ST.StructType([ST.StructField(f"c{i}", ST.StringType()) for i in range(width)])
            frame = self.spark.read.csv(
                source.path,
                schema=schema,
                sep=reader.delimiter,
                quote='"',
                escape='"',
                header=False,
                mode="FAILFAST",
                multiLine=source.multiline,
                encoding="UTF-8",
                ignoreLeadingWhiteSpace=False,
                ignoreTrailingWhiteSpace=False,
                enforceSchema=True,
                maxCharsPerColumn=-1,
                nullValue=None,
                unescapedQuoteHandling="STOP_AT_DELIMITER",
            )
            cells = [F.col(f"c{i}") for i in range(width)]
        return frame.select(
            F.spark_partition_id().alias("_pid"),
            F.input_file_name().alias("_file"),
            F.input_file_block_start().alias("_blk"),
            F.monotonically_increasing_id().alias("_mid"),
            *cells,
        )

    def check_readable(self, source: SparkSource) -> int:
        """The first pass: every row parsed, the rows of each split counted; Fallback if Spark reads otherwise."""
        from pyspark.sql import functions as F

        frame = self.raw_frame(source)
        width = len(source.reader.header)
        length = sum((F.coalesce(F.length(F.col(f"c{i}")), F.lit(0)) for i in range(width)), F.lit(0))
        try:
            groups = (
                frame.groupBy("_pid", "_file", "_blk")
                .agg(F.count(F.lit(1)).alias("n"), F.min("_mid").alias("first"), F.sum(length).alias("chars"))
                .collect()
            )
        except Exception as error:  # Spark reports a malformed row as a job failure
            raise Fallback(f"Spark's CSV parser refused the file ({_spark_reason(error)})") from None
        groups = sorted(groups, key=lambda g: (g["_file"], g["_blk"], g["first"]))
        rows = sum(g["n"] for g in groups)
        chars = sum(g["chars"] or 0 for g in groups)
        if source.kind == "csv":
            if source.simple and rows != source.physical:
                self._record_starts(source)  # a blank line Spark skipped: find where records start
            if not source.simple:
                if rows != len(source.starts) or chars != source.chars:
                    raise Fallback("Spark and Python split the file into different records")
        offsets, offset = [], 0
        for g in groups:
            offsets.append((g["_pid"], g["_file"], g["_blk"], g["first"], offset))
            offset += g["n"]
        pids = [g[0] for g in offsets]
        source.groups = offsets
        source.in_order = pids == sorted(set(pids))
        return rows

    def positioned(self, source: SparkSource):
        """c0..cN with ``position`` (1-based, file order) and ``line``; data rows only (not the header)."""
        from pyspark.sql import functions as F

        if source.groups is None:
            self.check_readable(source)
        groups, in_order = source.groups, source.in_order
        frame = self.raw_frame(source)
        table = self.spark.createDataFrame(groups, "_pid int, _file string, _blk long, first long, offset long")
        frame = frame.join(F.broadcast(table), ["_pid", "_file", "_blk"])
        frame = frame.withColumn("position", F.col("offset") + (F.col("_mid") - F.col("first")) + F.lit(1))
        width = len(source.reader.header)
        cells = [F.col(f"c{i}") for i in range(width)]
        if source.kind == "parquet":
            return frame.select(F.col("position").alias("line"), *cells), in_order
        header_line = source.reader.header_line
        if source.simple:
            frame = frame.where(F.col("position") > header_line)
            return frame.select(F.col("position").alias("line"), *cells), in_order
        starts = source.starts
        header_records = sum(1 for s in starts if s <= header_line)
        lines = self._lines_frame(starts[header_records:], header_records)
        if len(starts) > BROADCAST_LINES:  # a shuffle join: the rows are sorted by line afterwards
            in_order = source.in_order = False
        else:
            lines = F.broadcast(lines)
        frame = frame.join(lines, "position")
        return frame.select(F.col("start").alias("line"), *cells), in_order

    def _lines_frame(self, starts: list[int], skip: int):
        import pyarrow as pa

        table = pa.table(
            {
                "position": pa.array(range(skip + 1, skip + len(starts) + 1), pa.int64()),
                "start": pa.array(starts, pa.int64()),
            }
        )
        try:
            return self.spark.createDataFrame(table)  # pyspark 4: straight from Arrow
        except (TypeError, ValueError):
            return self.spark.createDataFrame(
                list(zip(table["position"].to_pylist(), starts)), "position long, start long"
            )

    # the query

    def _view(self, frame, stem: str) -> str:
        self._views += 1
        name = f"dealgate_{stem}_{self._views}"
        frame.createOrReplaceTempView(name)
        _VIEWS.append(name)
        return name

    def typed_sql(self, source: SparkSource, used: set | None = None) -> tuple[exp.Select, bool]:
        """typed_rows over the positioned raw rows (a temp view), and whether they come in file order.

        ``used``: the fields whose values are read (by default, the scoring query's).
        """
        frame, in_order = self.positioned(source)
        raw = self._view(frame, "raw")
        header = source.reader.header
        cells = {name: (index, exp.column(f"c{index}")) for index, name in source.reader.column_plan}
        all_cells = [exp.column(f"c{i}") for i in range(len(header))]
        typed = typed_rows(
            self.ruleset,
            cells,
            all_cells,
            exp.to_table(raw),
            [exp.column("line")],
            reject_cells=True,
            used=self.query.used_fields() if used is None else used,
        )
        return typed, in_order

    def scored_frame(self, source: SparkSource, position: int = 0, text=None):
        """Every row of one export scored in one pass, the reading's bookkeeping carried along (a rejected
        row's fields are null, its verdict unused), with ``position`` and ``source``; with ``text`` (an
        output ``Line``, ``engine.sql.lines``) only that line and the columns the summary and rejects read."""
        typed, _ = self.typed_sql(source)
        scored = self.query.build(
            typed.subquery("typed", copy=False),
            ordered=False,
            carry=("problem", "problem_column", "blank_row", "cells"),
        )
        tagged = exp.select(
            exp.alias_(exp.Literal.number(position), "position", copy=False),
            exp.alias_(exp.Literal.string(source.name), "source", copy=False),
            "*",
            exp.alias_(excel_ids.excel_id(self.ruleset, source.reader.column_plan), "excel_id", copy=False),
        ).from_(scored.subquery("s", copy=False))
        if text is not None:  # the output line, from its cells (computed first, each once)
            celled = exp.select("*", *[c.copy() for c in text.cells], copy=False).from_(
                tagged.subquery("tagged", copy=False), copy=False
            )
            tagged = exp.select(
                *[exp.column(c) for c in _NARROW], exp.alias_(text.text.copy(), "text"), copy=False
            ).from_(celled.subquery("celled", copy=False), copy=False)
        return self.spark.sql(tagged.sql("spark"))

    def run(self, sources: list[SparkSource], text=None) -> None:
        """Read and score every export into the cached view ``dealgate_all`` (``dealgate_scored``: its deals);
        rejects go to ``on_reject``.

        Like the DuckDB engine's tables: the columns of ``engine.sql.score`` plus ``position`` (of the
        export) and ``source`` (its name), or with ``text`` the output line and what the summary reads.
        Cached (memory, spilling to disk): Spark plans the large query once and reads the export once
        more after the first pass; the rejects, the summary and the output read the cache.
        """
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        self.close()
        frames = [self.scored_frame(source, position, text) for position, source in enumerate(sources)]
        self.in_order = all(source.in_order for source in sources)
        everything = frames[0]
        for frame in frames[1:]:
            everything = everything.union(frame)
        self.all = everything.persist(StorageLevel.MEMORY_AND_DISK)
        self.all.createOrReplaceTempView("dealgate_all")
        self.scored = self.spark.sql("SELECT * FROM dealgate_all WHERE problem IS NULL AND NOT blank_row")
        self.scored.createOrReplaceTempView("dealgate_scored")
        with self.following(0.0, SCORING_SHARE):  # every row read and scored into the cache
            deals = dict(self.scored.groupBy("position").agg(F.count(F.lit(1))).collect())
        for position, source in enumerate(sources):
            rejected = self.rejects(source, position)
            if self.counts is not None:
                self.counts.read += deals.get(position, 0) + rejected
                self.counts.deals += deals.get(position, 0)
                self.counts.rejected += rejected

    def mangled_id_warnings(self, position: int) -> list:
        """The Python reader's warnings on ids Excel mangled, for export ``position`` (engine.sql.excel_ids)."""
        listed, total = excel_ids.queries(position)
        rows = [tuple(r) for r in self.spark.sql(listed.sql("spark")).collect()]
        return excel_ids.warnings(rows, lambda: tuple(self.spark.sql(total.sql("spark")).collect()[0]))

    def close(self) -> None:
        """Drop the cached scored rows and the temporary views of earlier runs in this session."""
        for name in [*_VIEWS, "dealgate_scored", "dealgate_all"]:
            self.spark.catalog.dropTempView(name)  # uncaches it too
        _VIEWS.clear()
        if self.all is not None:
            self.all.unpersist()
            self.all = self.scored = None

    def _in_file_order(self, query: exp.Select) -> exp.Select:
        """``query`` without its ORDER BY when the cached rows are in (export, line) order already."""
        if self.in_order:
            query = query.copy()
            query.set("order", None)
        return query

    def deals(self):
        """ScoredDeal for every scored row, in order (after ``run``), for the renderers written in Python."""
        query = self._in_file_order(exp.select("*").from_("dealgate_scored").order_by("position", "line"))
        criteria = self.query.missing_criteria()
        probabilities = self.probabilities
        categories = bool(self.ruleset.pipeline.categories)
        previous = (-1, 0)
        for r in self.spark.sql(query.sql("spark")).toLocalIterator(prefetchPartitions=True):
            key = (r["position"], r["line"])
            if key <= previous:  # partitions out of file order: a bug, never a wrong file
                raise RuntimeError(f"the Spark engine returned line {key} after {previous}")
            previous = key
            stage = r["stage"]
            result = DealResult(
                r["id"],
                stage,
                r["verdict"],
                _ids(r["failed"]),
                _ids(r["qualify_out"]),
                _ids(r["warnings"]),
                probabilities[stage],  # a stage of the pipeline: the query maps labels to ids
                r["amount"],
                r["weighted_amount"],
                r["evidence_stage"],
                r["category"] if categories else None,
            )
            missing = {c: _ids(r[f"missing_{n}"], ",") for n, c in enumerate(criteria) if r[f"missing_{n}"] is not None}
            deal = {"name": r["display_name"], "owner": r["display_owner"]}
            yield ScoredDeal(r["line"], deal, result, r["source"], missing)

    def write_lines(
        self,
        query: exp.Select,
        out,
        *,
        header: str | None = None,
        footer: str | None = None,
        separator: str = "\n",
        end: str = "\n",
        batch_rows: int = 10_000,
    ) -> int:
        """``engine.sql.text.write_lines`` for Spark: the one text column of ``query``, streamed in order."""
        if header:
            out.write(header)
        count = 0
        batch: list = []
        rows = self.spark.sql(self._in_file_order(query).sql("spark")).toLocalIterator(prefetchPartitions=True)
        with self.following(SCORING_SHARE, 1.0):
            for row in rows:
                text = row[0]
                if text is None:
                    raise ValueError("write_lines: the query made a NULL line")
                batch.append(text)
                if len(batch) >= batch_rows:
                    out.write((separator if count else "") + separator.join(batch))
                    count += len(batch)
                    batch = []
        if batch:
            out.write((separator if count else "") + separator.join(batch))
            count += len(batch)
        if count:
            out.write(end)
        if footer:
            out.write(footer)
        return count

    def fill_summary(self, summary) -> None:
        """Per-stage totals, verdict and rule counts of the scored rows, as ``Summary.add`` keeps them.

        One Spark job: every figure is a row of one UNION ALL query (each job costs seconds to plan and
        schedule, whatever the rows)."""
        if self.scored is None or "stage" not in self.scored.columns:
            return
        totals = (
            "SELECT 'stage' AS kind, stage AS item, verdict, over_staged, count(*) AS n, "
            "sum(round(amount, 2)) AS amount, sum(round(weighted_amount, 2)) AS weighted, "
            "count(CASE WHEN amount IS NULL THEN 1 END) AS unknown FROM dealgate_scored "
            "GROUP BY stage, verdict, over_staged"
        )
        lists = [
            f"SELECT '{column}', item, NULL, NULL, count(*), NULL, NULL, NULL FROM "
            f"(SELECT explode(split({column}, ';')) AS item FROM dealgate_scored WHERE {column} <> '') "
            f"GROUP BY item"
            for column in ("qualify_out", "warnings", "failed")
        ]
        counters = {"qualify_out": summary.qualify_out, "warnings": summary.warnings, "failed": summary.failed}
        for row in self.spark.sql(" UNION ALL ".join([totals, *lists])).collect():
            kind, item, n = row["kind"], row["item"], row["n"]
            if kind != "stage":
                counters[kind][item] += n
                continue
            stage = summary.stages[item]
            stage.count += n
            stage.amount += row["amount"] or Decimal(0)
            stage.weighted += row["weighted"] or Decimal(0)
            stage.unknown_amount += row["unknown"]
            summary.verdicts[row["verdict"]] += n
            summary.over_staged += n if row["over_staged"] else 0

    # Parquet out

    def write_parquet(self, path: str) -> None:
        """The scored rows (after ``run``) as Parquet in the new directory ``path``, by Spark's writer: the CSV
        columns, typed (lists as arrays, ``missing`` as a map, money as DECIMAL(38, 2) to the cent)."""
        from pyspark.sql import functions as F

        def ids(column, separator=";"):
            return F.when(F.col(column) == "", F.array().cast("array<string>")).otherwise(F.split(column, separator))

        criteria = self.query.missing_criteria()
        if criteria:
            pairs = F.map_from_arrays(
                F.array(*[F.lit(c) for c in criteria]),
                F.array(*[ids(f"missing_{n}", ",") for n in range(len(criteria))]),
            )
            missing = F.map_filter(pairs, lambda k, v: v.isNotNull())
        else:
            missing = F.create_map().cast("map<string,array<string>>")
        frame = self.scored.select(
            F.col("source").alias("file"),
            "line",
            "id",
            F.col("display_name").alias("name"),
            F.col("display_owner").alias("owner"),
            "stage",
            "verdict",
            ids("failed").alias("failed"),
            missing.alias("missing"),
            ids("qualify_out").alias("qualify_out"),
            ids("warnings").alias("warnings"),
            "probability",
            F.round("amount", 2).cast("decimal(38,2)").alias("amount"),
            F.round("weighted_amount", 2).cast("decimal(38,2)").alias("weighted_amount"),
            "evidence_stage",
            "over_staged",
            *(["category"] if self.ruleset.pipeline.categories else []),
        )
        frame.write.mode("errorifexists").parquet(str(path))

    def rejects(self, source: SparkSource, position: int) -> int:
        """Hand each rejected row to ``on_reject`` in line order; return how many there were."""
        rows = self.spark.sql(rejects_query(position).sql("spark")).toLocalIterator()
        return hand_rejects(rows, source, self.ruleset, self.on_reject)


def _spark_reason(error: Exception) -> str:
    text = str(error)
    found = re.search(r"Malformed records are detected in record parsing[^\n]*?(: \[.{0,80})?", text)
    if found:
        return "a row with the wrong number of cells" + (f" {found.group(1)[2:]}" if found.group(1) else "")
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:200]


def _java_blank(text: str) -> bool:
    """What Spark's line reader drops as an empty line: nothing but characters up to U+0020 (Java's trim)."""
    return all(c <= " " for c in text)
