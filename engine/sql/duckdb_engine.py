"""The DuckDB engine: score CSV exports in-process with the compiled SQL.

The header of each export is read by the Python reader (``ExportReader``), so
column matching, header warnings and header errors are the Python engine's
own. DuckDB then reads the rows (all cells as text), and one query reads the
cells as typed values (``engine.sql.coerce``), sorts out the rows that cannot be
read (the rejects, with the same line, id, column, value and reason), and
scores the rest (``engine.sql.score``). Results come back in file order as the
same ``ScoredDeal`` tuples the Python engine yields, so every renderer, the
summary and the counts line are shared.

Line numbers: DuckDB does not report the physical line of a row. When every
record of the file is one line (the newline count says so), a row's line is
the header's line plus its position; otherwise (quoted line breaks, empty
lines) one plain ``csv.reader`` pass over the file records where each record
starts.

A file DuckDB's strict CSV parser refuses (a row with the wrong number of
cells, an unclosed quote) is not this engine's to judge: ``Fallback`` is
raised before any output, and the caller scores that export with the Python
engine, which rejects those rows one by one.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import duckdb
from sqlglot import exp

from .. import progress
from ..read import ExportError, ExportReader, ReadWarning, Reject, StreamCounts
from ..read.csv import LineFeed, runaway_quote
from ..results import DealResult
from ..score import ScoredDeal
from . import excel_ids
from .cache import SqlCache
from .expr import literal
from .rows import typed_rows
from .score import ScoringQuery
from .sources import ParquetHeader, is_parquet

BATCH = 50_000
MEMORY_LIMIT = "1GB"  # DuckDB's own memory; beyond it, it spills to disk


# What -v says when a csv pass meets a quote left open: the Python reader rejects that row with
# its line and reads on (engine.read.csv.runaway_quote), which no SQL reader does.
RUNAWAY_FALLBACK = (
    "an unclosed quote runs on through the lines after it (the Python reader rejects its row and reads on)"
)


class Fallback(Exception):
    """This export cannot be scored exactly by the SQL engine; score it with Python. ``str()`` says why."""


@attrs.define
class SqlSource:
    """One CSV export prepared for DuckDB: its reader (header, plan, warnings) and where its rows start."""

    reader: Any  # an ExportReader, or a ParquetHeader (which has the attributes the engines read)
    path: str
    rows: int | None = None  # data rows DuckDB reads (blank ones included), once checked
    kind: str = "csv"  # or parquet

    @property
    def name(self) -> str:
        return self.reader.source_name


@attrs.define
class SqlStream:
    """The DuckDB engine's counterpart of ``engine.read.ExportStream``: counts, warnings, missing fields."""

    @property
    def follows_progress(self) -> bool:
        """Whether its engine's queries advance the run's progress meter (DuckDB's do, and Spark's with a
        SparkContext)."""
        return getattr(self.scorer, "follows_progress", False)

    scorer: DuckDBScorer
    sources: list
    counts: StreamCounts = attrs.field(factory=StreamCounts)
    warnings: list = attrs.field(factory=list)
    missing_fields: dict = attrs.field(factory=dict)

    def __attrs_post_init__(self):
        self.scorer.counts = self.counts
        for source in self.sources:
            self.warnings.extend((source.name, w) for w in source.reader.warnings)
            self.missing_fields[source.name] = list(source.reader.missing_fields)

    def run(self, text=None) -> str | None:
        """Score every export; why not, when DuckDB's parser refused one while scoring it (then score none).

        The warnings are then the Python stream's, in its order: each export's header warnings, then
        its rows' (ids mangled by Excel).
        """
        try:
            self.scorer.run(self.sources, text)
        except Fallback as why:
            return str(why)
        self.warnings = [
            (source.name, w)
            for position, source in enumerate(self.sources)
            for w in [*source.reader.warnings, *self.scorer.mangled_id_warnings(position)]
        ]
        return None


# Of a run over an export the meter follows, the part that counts its rows (a scan, about a third of
# reading and scoring it); scoring it is the rest.
COUNTING_SHARE = 0.3


class DuckDBScorer:
    """Scores exports with one DuckDB connection; ``deals(sources)`` yields ScoredDeal in order."""

    follows_progress = True  # its queries advance the run's progress meter (``following``)

    def __init__(
        self,
        ruleset,
        as_of: dt.date,
        *,
        on_reject=None,
        counts=None,
        threads: int | None = None,
        check_while_scoring: bool = False,
    ):
        # check_while_scoring: a CSV file is not read once just to see that DuckDB's parser takes it
        # (~15% of a run); ``run`` finds out while scoring it, and raises Fallback having kept nothing.
        self.check_while_scoring = check_while_scoring
        self.ruleset = ruleset
        self.analysis = ruleset.analysis
        self.as_of = as_of
        self.on_reject = on_reject
        self.counts = counts
        self.connection = duckdb.connect()
        # The scored table of a big export outgrows memory: DuckDB spills it to a directory of
        # our own (removed with the scorer), and RSS stays bounded whatever the export's size.
        self._spill = tempfile.TemporaryDirectory(prefix="dealgate-duckdb-")
        self.connection.execute(f"SET temp_directory = '{self._spill.name}'")
        self.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        self.meter: progress.Meter | None = None  # the run's progress meter, when something watches it
        self.spans: dict[str, tuple[float, float]] = {}  # export path -> its share of the bytes to read
        self._counted: set[str] = set()  # exports whose rows were counted while the meter watched
        self.query = ScoringQuery(ruleset, literal(as_of))
        self.cache = SqlCache(ruleset)

    def close(self) -> None:
        self.connection.close()
        self._spill.cleanup()

    # reading

    def prepare(self, path: str, fmt: str | None = None, delimiter: str | None = None) -> SqlSource:
        """Read the header with the Python reader; refuse (Fallback) what DuckDB cannot read exactly."""
        if path == "-":
            raise Fallback("standard input is read by the Python engine")
        if fmt is None and is_parquet(path):
            return self._prepare_parquet(path)
        reader = ExportReader(self.analysis, path, fmt=fmt, delimiter=delimiter)
        if reader.format not in ("csv", "tsv"):
            reader.close()
            raise Fallback(f"{reader.format} exports are read by the Python engine")
        reader.close()
        return SqlSource(reader, str(path))

    def _prepare_parquet(self, path: str) -> SqlSource:
        scan = _parquet_scan(path)
        try:
            columns = [
                row[0] for row in self.connection.execute(f"DESCRIBE SELECT * FROM {scan.sql('duckdb')}").fetchall()
            ]
        except duckdb.Error as error:
            raise ExportError(f"cannot read the Parquet export: {str(error).splitlines()[0]}", source=path) from None
        header = ParquetHeader(self.analysis, path, columns)
        if not header.readable:
            raise Fallback("a Parquet column name with a line break in it")
        return SqlSource(header, str(path), kind="parquet")

    def raw_rows(self, source: SqlSource, target: str | None = None) -> exp.Select:
        """The export's data rows as text cells c0..cN, with their position ``rn`` from 1.

        ``target``: the text read_csv/read_parquet is given, when not the source's own (a placeholder).
        """
        reader = source.reader
        if source.kind == "parquet":
            names = [
                row[0]
                for row in self.connection.execute(
                    f"DESCRIBE SELECT * FROM {_parquet_scan(source.path).sql('duckdb')}"
                ).fetchall()
            ]
            cells = [
                exp.alias_(
                    exp.cast(exp.column(exp.to_identifier(name, quoted=True)), exp.DataType.build("VARCHAR")),
                    f"c{i}",
                    copy=False,
                )
                for i, name in enumerate(names)
            ]
            scan = _parquet_scan(source.path) if target is None else _scan("read_parquet", target)
            return exp.select(exp.alias_(exp.Window(this=exp.RowNumber()), "rn", copy=False), *cells).from_(
                scan, copy=False
            )
        columns = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.Literal.string(f"c{i}"), expression=exp.Literal.string("VARCHAR"))
                for i in range(len(reader.header))
            ]
        )
        options = {
            "header": exp.false(),
            "skip": exp.Literal.number(reader.header_line),
            "delim": exp.Literal.string(reader.delimiter),
            "quote": exp.Literal.string('"'),
            "escape": exp.Literal.string('"'),
            "auto_detect": exp.false(),
            "columns": columns,
            "strict_mode": exp.true(),
            "encoding": exp.Literal.string("utf-8"),
        }
        call = exp.Anonymous(
            this="read_csv",
            expressions=[exp.Literal.string(target or source.path)]
            + [exp.PropertyEQ(this=exp.column(key), expression=value) for key, value in options.items()],
        )
        number = exp.Window(this=exp.RowNumber())
        return exp.select(exp.alias_(number, "rn", copy=False), "*").from_(call, copy=False)

    def check_readable(self, source: SqlSource) -> int | None:
        """Rows DuckDB reads from the file; Fallback when its strict parser refuses the file.

        None, without reading, for a CSV file when checking while scoring (``run`` checks it then).
        """
        if source.rows is None and self.check_while_scoring and source.kind == "csv":
            return None
        return self._count_rows(source)

    def _count_rows(self, source: SqlSource) -> int:
        if source.rows is not None:
            return source.rows
        query = exp.select(exp.Count(this=exp.Star()), copy=False).from_(
            self.raw_rows(source).subquery("raw", copy=False)
        )
        try:
            with self.following(source, 0.0, COUNTING_SHARE):
                source.rows = self.connection.execute(query.sql("duckdb")).fetchall()[0][0]
            if self.meter is not None:
                self._counted.add(source.path)
            return source.rows
        except duckdb.Error as error:
            raise Fallback(f"DuckDB's CSV parser refused the file ({str(error).splitlines()[0]})") from None

    def lines(self, source: SqlSource, rows: int) -> list[int] | None:
        """Physical start line of each row, or None when it is the header line + the row's position."""
        if source.kind == "parquet":
            return None  # a Parquet row's line is its position (the header line is 0)
        with open(source.path, "rb") as handle:
            newlines, size, last = 0, 0, b""
            returns = 0
            for chunk in iter(lambda: handle.read(1 << 24), b""):
                newlines += chunk.count(b"\n")
                returns += chunk.count(b"\r")
                size += len(chunk)
                last = chunk[-1:]
        physical = newlines + (1 if size and last != b"\n" else 0)
        if (returns == 0 or returns == newlines) and physical - source.reader.header_line == rows:
            return None
        starts = []
        width = len(source.reader.header)
        with open(source.path, encoding="utf-8-sig", newline="") as text:
            lines = LineFeed(text)
            reader = csv.reader(lines.lines(), delimiter=source.reader.delimiter)
            line = 1
            for _ in range(source.reader.header_line):
                next(reader)
            line = reader.line_num + 1
            lines.record_done()
            for row in reader:
                if runaway_quote(lines, row, reader.line_num + 1 - line, width):
                    raise Fallback(RUNAWAY_FALLBACK)
                lines.record_done()
                starts.append(line)
                line = reader.line_num + 1
        if len(starts) != rows:
            raise Fallback("DuckDB and Python split the file into different rows")
        return starts

    # the query

    def line_expression(self, source: SqlSource) -> exp.Expr:
        """Each row's line in the file, from its position ``rn`` (a table of line starts when needed)."""
        starts = self.lines(source, self._count_rows(source))
        if starts is None:
            return exp.Add(this=exp.column("rn"), expression=exp.Literal.number(source.reader.header_line))
        self.connection.register("dealgate_lines", _lines_table(starts))
        return exp.Subquery(
            this=exp.select("start", copy=False)
            .from_("dealgate_lines", copy=False)
            .where(exp.EQ(this=exp.column("position", table="dealgate_lines"), expression=exp.column("rn")), copy=False)
        )

    def typed_rows(
        self, source: SqlSource, line: exp.Expr, target: str | None = None, used: set | None = None
    ) -> exp.Select:
        """Typed fields, the first problem of the row (in column order), and the raw cells of rejected rows.

        ``used``: the fields whose values are read (by default, the scoring query's).
        """
        header = source.reader.header
        cells = {name: (index, exp.column(f"c{index}")) for index, name in source.reader.column_plan}
        all_cells = [exp.column(f"c{i}") for i in range(len(header))]
        return typed_rows(
            self.ruleset,
            cells,
            all_cells,
            self.raw_rows(source, target).subquery("raw", copy=False),
            [exp.alias_(line, "line", copy=False)],
            reject_cells=True,
            used=self.query.used_fields() if used is None else used,
            native=True,
        )

    def run(self, sources: list[SqlSource], text=None) -> None:
        """Read and score every export into ``dealgate_scored``; rejects go to ``on_reject`` as they are found.

        The scored table holds the columns of ``engine.sql.score`` plus ``position`` (of the export)
        and ``source`` (its name): what the summary and every renderer read, in (position, line) order.
        With ``text`` (an output ``Line`` made from those columns, ``engine.sql.lines``), it holds that
        line as ``text`` and only the columns the summary needs: materialising a wide table costs
        more than scoring it.
        """
        connection = self.connection
        self.watch(sources)
        for position, source in enumerate(sources):  # every export first: a Fallback leaves no rejects sent
            self._score(source, position, text)
        # the deals: rows that are neither blank nor rejected
        connection.execute(
            "CREATE OR REPLACE TEMP VIEW dealgate_scored AS SELECT * FROM dealgate_all "
            "WHERE problem IS NULL AND NOT blank_row"
        )
        for position, source in enumerate(sources):
            # both counts in one scan; the rejects are fetched only when there are some
            deals, rejected = connection.execute(
                "SELECT count(*) FILTER (WHERE problem IS NULL), count(*) FILTER (WHERE problem IS NOT NULL) "
                f"FROM dealgate_all WHERE position = {position} AND NOT blank_row"
            ).fetchall()[0]
            if rejected:
                self.rejects(source, position)
            if self.counts is not None:
                self.counts.read += deals + rejected
                self.counts.deals += deals
                self.counts.rejected += rejected

    def _score(self, source: SqlSource, position: int, text) -> None:
        """Score one export into ``dealgate_all``.

        When its rows were not counted beforehand (``check_while_scoring``), it is scored as if each
        record were one line, then counted; in the rare file where that is not so (quoted line
        breaks, blank lines) it is scored again with the line of each record.
        """
        if source.rows is None and self.check_while_scoring and source.kind == "csv":
            self._insert(source, position, True, text)
            source.rows = self.connection.execute(
                f"SELECT count(*) FROM dealgate_all WHERE position = {position}"
            ).fetchall()[0][0]
            starts = self.lines(source, source.rows)
            if starts is None:
                return
            if position:
                self.connection.execute(f"DELETE FROM dealgate_all WHERE position = {position}")
        else:
            starts = self.lines(source, self._count_rows(source))
        if starts is not None:
            self.connection.register("dealgate_lines", _lines_table(starts))
        self._insert(source, position, starts is None, text)

    def _insert(self, source: SqlSource, position: int, numbered: bool, text) -> None:
        verb = "CREATE OR REPLACE TEMP TABLE dealgate_all AS" if position == 0 else "INSERT INTO dealgate_all"
        try:
            with self.following(source, COUNTING_SHARE if source.path in self._counted else 0.0, 1.0):
                self.connection.execute(f"{verb} {self.scoring_sql(source, position, numbered, text)}")
        except duckdb.Error:
            if source.rows is None:
                self._count_rows(source)  # Fallback when reading the file is what failed
            raise

    def watch(self, sources: list[SqlSource]) -> None:
        """Follow the run's progress meter, if something watches it: DuckDB measures its queries then."""
        self.meter = progress.current()
        if self.meter is None:
            return
        self.connection.execute("SET enable_progress_bar = true")
        self.connection.execute("SET enable_progress_bar_print = false")  # measured, never printed
        self.spans = _byte_spans(sources)

    def following(self, source: SqlSource, start: float, end: float):
        """The progress meter follows DuckDB's query from ``start`` to ``end`` of ``source``'s share."""
        if self.meter is None or source.path not in self.spans:
            return contextlib.nullcontext()
        low, high = self.spans[source.path]
        return self.meter.following(
            self.connection.query_progress, low + (high - low) * start, low + (high - low) * end
        )

    def scoring_sql(self, source: SqlSource, position: int, numbered: bool, text=None) -> str:
        """The SELECT of every row of ``source``, scored: from the cache when the same text was made before.

        ``numbered``: a row's line is the header's line plus its position (else ``dealgate_lines`` has it).
        """
        cacheable = text is None or text.key is not None
        return self.cached_sql(
            source,
            ("duckdb-scoring", position, numbered, None if text is None else text.key),
            lambda: self._build_scoring(source, position, numbered, text),
            cacheable,
        )

    def cached_sql(self, source: SqlSource, parts: tuple, build, cacheable: bool = True) -> str:
        """The text of ``build()`` (a query over ``source`` with the path and name placeholders ``scan_target``
        and ``source_name``), from the cache when the same text was made before, placeholders filled in.

        The key is ``parts`` plus what the text depends on besides the pack: the export's header and
        column plan, delimiter, header line and the as-of date.
        """
        reader = source.reader
        key = None
        if cacheable:
            key = self.cache.key(
                *parts,
                source.kind,
                tuple(reader.header),
                tuple(reader.column_plan),
                reader.delimiter,
                reader.header_line,
                self.as_of.isoformat(),
            )
        sql = self.cache.load(key)
        if sql is None:
            sql = build().sql("duckdb")
            self.cache.store(key, sql)
        target = _scan_target(source)
        return sql.replace(exp.Literal.string(_TARGET).sql("duckdb"), exp.Literal.string(target).sql("duckdb")).replace(
            exp.Literal.string(_NAME).sql("duckdb"), exp.Literal.string(source.name).sql("duckdb")
        )

    def _build_scoring(self, source: SqlSource, position: int, numbered: bool, text) -> exp.Select:
        """The scoring SELECT, with placeholders for the scanned path and the source's name."""
        line: exp.Expr
        if numbered:
            line = exp.Add(this=exp.column("rn"), expression=exp.Literal.number(source.reader.header_line))
        else:
            line = exp.Subquery(
                this=exp.select("start", copy=False)
                .from_("dealgate_lines", copy=False)
                .where(
                    exp.EQ(this=exp.column("position", table="dealgate_lines"), expression=exp.column("rn")), copy=False
                )
            )
        typed = self.typed_rows(source, line, _TARGET)
        # One pass: every row is scored (a rejected row's fields are null, its verdict unused), and
        # the reading's bookkeeping rides along, so the export is read and converted once.
        scored = self.query.build(
            typed.subquery("typed", copy=False),
            ordered=False,
            carry=("problem", "problem_column", "blank_row", "cells"),
        )
        tagged = exp.select(
            exp.alias_(exp.Literal.number(position), "position", copy=False),
            exp.alias_(exp.Literal.string(_NAME), "source", copy=False),
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
        return tagged

    def mangled_id_warnings(self, position: int) -> list[ReadWarning]:
        """The Python reader's warnings on ids Excel mangled, for export ``position`` (engine.sql.excel_ids)."""
        listed, total = excel_ids.queries(position)
        rows = self.connection.execute(listed.sql("duckdb")).fetchall()
        return excel_ids.warnings(rows, lambda: self.connection.execute(total.sql("duckdb")).fetchall()[0])

    def scored_sql(self) -> str:
        """The scored rows of every export, in (export, line) order."""
        return "SELECT * FROM dealgate_scored ORDER BY position, line"

    def deals(self):
        """ScoredDeal for every scored row, in order (after ``run``), for the renderers written in Python."""
        result = self.connection.execute(self.scored_sql())
        names = [d[0] for d in result.description]
        criteria = self.query.missing_criteria()
        while True:
            batch = result.fetchmany(BATCH)
            if not batch:
                break
            for row in batch:
                r = dict(zip(names, row))
                result_tuple = deal_result(r)
                missing = {
                    c: _ids(r[f"missing_{n}"], ",") for n, c in enumerate(criteria) if r[f"missing_{n}"] is not None
                }
                deal = {"name": r["display_name"], "owner": r["display_owner"]}
                yield ScoredDeal(r["line"], deal, result_tuple, r["source"], missing)

    def fill_summary(self, summary) -> None:
        """Per-stage totals, verdict and rule counts of the scored rows, as ``Summary.add`` keeps them.

        One grouped pass over the scored rows (their distinct outcomes are few: a few hundred at
        most for a real pack) rather than one query per figure; the id lists are counted here.
        """
        groups = self.connection.execute(
            "SELECT stage, verdict, over_staged, qualify_out, warnings, failed, count(*), sum(round(amount, 2)), "
            "sum(round(weighted_amount, 2)), count(*) FILTER (WHERE amount IS NULL) FROM dealgate_scored "
            "GROUP BY ALL"
        ).fetchall()
        for stage, verdict, over_staged, qualify_out, warnings, failed, count, amount, weighted, unknown in groups:
            totals = summary.stages[stage]
            totals.count += count
            totals.amount += amount or 0
            totals.weighted += weighted or 0
            totals.unknown_amount += unknown
            summary.verdicts[verdict] += count
            if over_staged:
                summary.over_staged += count
            for text, counter in (
                (qualify_out, summary.qualify_out),
                (warnings, summary.warnings),
                (failed, summary.failed),
            ):
                for item in _ids(text):
                    counter[item] += count

    def rejects(self, source: SqlSource, position: int) -> int:
        """Hand each rejected row to ``on_reject`` in line order; return how many there were."""
        rows = self.connection.execute(rejects_query(position).sql("duckdb")).fetchall()
        return hand_rejects(rows, source, self.ruleset, self.on_reject)


def rejects_query(position: int) -> exp.Select:
    """The rejected rows of export ``position`` in ``dealgate_all``, in line order (either engine's table)."""
    return (
        exp.select("line", "problem_column", "problem", "cells", copy=False)
        .from_("dealgate_all", copy=False)
        .where(
            exp.and_(
                exp.EQ(this=exp.column("position"), expression=exp.Literal.number(position)),
                exp.Not(this=exp.column("blank_row")),
                exp.Not(this=exp.Is(this=exp.column("problem"), expression=exp.Null())),
                copy=False,
            )
        )
        .order_by("line", copy=False)
    )


def hand_rejects(rows, source, ruleset, on_reject) -> int:
    """Each (line, problem column, reason, cells) row as the Python reader's Reject to ``on_reject``; the count."""
    header = source.reader.header
    id_index = _id_index(source)
    count = 0
    for line, column, reason, cells in rows:
        deal_id = _reject_id(ruleset, cells[id_index] if id_index is not None else None)
        count += 1
        if on_reject is not None:
            on_reject(source.name, Reject(line, deal_id, header[column], cells[column] or "", reason))
    return count


def deal_result(row: dict) -> DealResult:
    """A DealResult from a row of the scoring query (``engine.sql.score``), by column name."""
    return DealResult(
        row["id"],
        row["stage"],
        row["verdict"],
        _ids(row["failed"]),
        _ids(row["qualify_out"]),
        _ids(row["warnings"]),
        row["probability"],
        row["amount"],
        row["weighted_amount"],
        row["evidence_stage"],
        row.get("category"),
    )


def _ids(text: str, separator: str = ";") -> tuple:
    """A joined list of ids back as a tuple ('' is none)."""
    return tuple(text.split(separator)) if text else ()


# what the summary and the rejects read, beside the output lines
_NARROW = (
    "position",
    "line",
    "stage",
    "verdict",
    "amount",
    "weighted_amount",
    "failed",
    "qualify_out",
    "warnings",
    "over_staged",
    "problem",
    "problem_column",
    "blank_row",
    "cells",
    "excel_id",
)


# Placeholders in the scoring SQL (so that the cached text serves any export of the same shape);
# no pack constant looks like them.
_TARGET = "dealgate:scan-target:5c0f2a91"
_NAME = "dealgate:source-name:5c0f2a91"
scan_target, source_name = _TARGET, _NAME  # for queries of other runners cached with ``cached_sql``


def _scan_target(source: SqlSource) -> str:
    """The text read_csv or read_parquet is given for ``source``."""
    path = source.path
    if source.kind == "parquet" and Path(path).is_dir():
        return str(Path(path) / "*.parquet")
    return str(path)


def _scan(function: str, target: str) -> exp.Expr:
    return exp.Anonymous(this=function, expressions=[exp.Literal.string(target)])


def _parquet_scan(path: str) -> exp.Expr:
    target = str(Path(path) / "*.parquet") if Path(path).is_dir() else str(path)
    return _scan("read_parquet", target)


def _id_index(source: SqlSource) -> int | None:
    for index, name in source.reader.column_plan:
        if name == "id":
            return index
    return None


def _reject_id(ruleset, id_cell):
    """The id a reject shows: the id cell as the reader would read it, if it can."""
    if id_cell is None:
        return None
    field = ruleset.fields.fields.get("id")
    from ..values import ValueProblem, coerce

    try:
        value = coerce(field.type, id_cell, stages=ruleset.analysis.stage_lookup, **field.reading())
    except ValueProblem:
        return None
    return value if isinstance(value, str) else None


def _lines_table(starts: list[int]):
    import pyarrow as pa

    return pa.table(
        {"position": pa.array(range(1, len(starts) + 1), pa.int64()), "start": pa.array(starts, pa.int64())}
    )


def _byte_spans(sources: list[SqlSource]) -> dict[str, tuple[float, float]]:
    """Each export's share of the bytes to read (path -> (start, end) as fractions), for the progress meter."""
    sizes = [os.path.getsize(s.path) if os.path.isfile(s.path) else 0 for s in sources]
    total = sum(sizes)
    spans, done = {}, 0
    for source, size in zip(sources, sizes):
        spans[source.path] = (done / total, (done + size) / total) if total else (0.0, 1.0)
        done += size
    return spans
