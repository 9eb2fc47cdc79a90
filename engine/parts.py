"""Scoring a large CSV export in parts, on several processes at once.

One Python process reads, scores and writes about 100,000 rows a second, and reading is
most of it; a machine has more cores than one. So a large CSV export is cut between records
(engine.read.split) and each part is read, scored and written as lines by a process of its
own (a fork: the compiled rules come along, nothing is pickled but the results). The
parent then writes the head, the parts' lines in file order, the foot, and replays their
rejects into the run's sink, so that the output, the rejects and every count are byte for
byte what one process writes.

What a part sends back is small: its counts, the summary's tally of result shapes and the
per-stage money (exact Decimal sums add in any order), its warnings, and whether it ended
cleanly. A cut is trusted only when the part before it ends with no record running into
the cut; a part that does not, or a part that fails in any way (an unreadable byte, a
killed process), makes ``run`` return None having written nothing, and the caller reads
the export in one process, which finds and reports the same problem exactly.

Only the Python engine's CSV, TSV and JSONL exports and its machine formats (csv, jsonl,
json) are run in parts; JSON documents, stdin, ``--strict`` and the table for people are read
in one process.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import shutil
import signal
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

import attrs

from .compile import RuleSet
from .progress import Meter
from .read import MAX_ROW_WARNINGS, ExportReader, ReadWarning, Reject
from .read.json import RecordsPath
from .read.split import ByteRange, Part, line_start, split_csv, split_lines
from .read.stream import StreamCounts
from .render.deals import JSON_FIRST, SEPARATORS, csv_head, json_foot, json_head, line_writer
from .score import ScoredDeal, Summary

MIN_PART_BYTES = 4 << 20  # smaller parts cost more to start and join than they save
PART_FORMATS = ("csv", "jsonl", "json")
# How the reader words a record that a quote left open (engine.read.csv): in any part but a file's last,
# it may be a record cut in two, so the run starts again in one process (tests/test_parts.py pins it).
RUNAWAY_REASON = "unclosed quote opened at line"
PROGRESS_EVERY = 4096  # rows between the reports a part writes to shared memory
_SLOT = struct.Struct("qq")  # bytes read, rows read: one slot per part in the shared progress page


def can_fork() -> bool:
    return hasattr(os, "fork")


@attrs.frozen
class Task:
    """One part of one export, with what its reader needs to start there."""

    position: int  # the export's position among the run's sources
    path: str
    part: Part
    header: bytes  # read before the part's bytes: the file's own header lines (CSV), a byte-order mark (JSONL)
    format: str
    delimiter: str
    columns: tuple | None = None  # the header as the file's first part reads it (CSV): every part must agree

    @property
    def first(self) -> bool:
        return self.part.start == 0


@attrs.define
class PartResult:
    """What a part's process sends back (pickled): everything but its lines and rejects, which go to files."""

    records: int = 0
    deals: int = 0
    rejected: int = 0
    header_warnings: list = attrs.field(factory=list)  # ReadWarning: the first part of a file only
    body_warnings: list = attrs.field(factory=list)  # (row warning kind or None, ReadWarning), in order
    row_warning_counts: dict = attrs.field(factory=dict)  # kind -> [count, last line, summary template]
    missing_fields: list = attrs.field(factory=list)
    tally: dict = attrs.field(factory=dict)
    stage_money: dict = attrs.field(factory=dict)  # stage -> (amount, weighted, unknown_amount)
    wrote: bool = False  # whether it wrote any line
    clean: bool = True  # no record ran into the part's end (see RUNAWAY_REASON)
    error: str | None = None  # why the part failed: the run starts again in one process

    def trusted(self, task: Task, last_of_file: bool) -> bool:
        """Read to the end; a cut (a part that is not its file's last) ended with no record running into it;
        and, but in a file's first part, no warning but of rows (a JSONL reader warns once per set of keys that
        map two keys to one field: a later part cannot know whether an earlier one warned of the same)."""
        if self.error is not None or not (self.clean or last_of_file):
            return False
        return task.first or all(kind is not None for kind, _ in self.body_warnings)


@attrs.define
class PartsRun:
    """Score ``sources`` in parts and write one format's output; ``run`` returns None when it cannot.

    Has ``counts``, ``warnings`` and ``missing_fields`` like an ExportStream, for the counts line.
    """

    ruleset: RuleSet
    sources: list
    as_of: Any
    summary: Summary
    fmt: str
    jobs: int
    input_format: str | None = None
    delimiter: str | None = None
    on_reject: Callable[[str, Reject], None] | None = None
    records_path: RecordsPath | None = None  # where a JSONL export's fields are (engine.read.json)
    meter: Meter | None = None
    min_bytes: int = MIN_PART_BYTES
    counts: StreamCounts = attrs.field(factory=StreamCounts)
    warnings: list = attrs.field(factory=list)  # (source name, ReadWarning)
    missing_fields: dict = attrs.field(factory=dict)
    parts: int = 0  # how many parts it read, once it has run
    processes: int = 0  # on how many processes at once

    def tasks(self) -> list[Task] | None:
        """Every part of every export, in order; None when the run is not worth (or not able) to split."""
        if self.jobs < 2 or self.fmt not in PART_FORMATS or not can_fork():
            return None
        tasks: list[Task] = []
        for position, source in enumerate(self.sources):
            if source == "-" or not os.path.isfile(source):
                return None
            with self._reader(source, self.input_format, self.delimiter) as reader:
                fmt, delimiter = reader.format, reader.delimiter
                if fmt == "json":  # one document: no line break is sure to end a record
                    return None
                columns = tuple(reader.header) if reader.header is not None else None
                header_lines = reader.header_line if fmt != "jsonl" else 0
            if fmt == "jsonl":  # the decoder drops a mark at the start: the part's own first line keeps one
                header, split = BOM, split_lines
            else:  # the header's own bytes (a mark, blank lines, quoting and all): read exactly as in one process
                header, split = _head(source, header_lines), split_csv
                if header.endswith(b"\r"):  # with a part's first line feed it would make one \r\n: rare, declined
                    return None
            for part in split(source, self.jobs, self.min_bytes):
                head = header if part.start else b""
                tasks.append(Task(position, str(source), part, head, fmt, delimiter, columns))
        return tasks if len(tasks) > len(self.sources) else None

    def _reader(self, source, fmt: str | None, delimiter: str | None) -> ExportReader:
        return ExportReader(self.ruleset.analysis, source, fmt=fmt, delimiter=delimiter, records_path=self.records_path)

    def run(self, out: IO[str]) -> PartsRun | None:
        """Write the output to ``out``; None (nothing written, nothing counted) when it has to be read in one
        process instead."""
        tasks = self.tasks()
        if tasks is None:
            return None
        try:
            folder = tempfile.mkdtemp(prefix="dealgate-parts-")
        except OSError:  # no room for the parts' files: one process needs none
            return None
        try:
            results = _Workers(self, tasks, folder).run()
            if results is None:
                if self.meter is not None:
                    self.meter.update(0, 0)  # the export is read again from the start
                return None
            self._write(out, tasks, results, folder)
            self._reconcile(tasks, results, folder)
            self.parts, self.processes = len(tasks), min(self.jobs, len(tasks))
            return self
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _write(self, out: IO[str], tasks: list[Task], results: list[PartResult], folder: str) -> None:
        """Head, the parts' lines in order, foot: what FORMATS[fmt] writes in one process."""
        _fold(self.summary, results)  # the JSON foot holds the summary
        if self.fmt == "csv":
            out.write(csv_head(self.ruleset))
        elif self.fmt == "json":
            out.write(json_head(self.summary))
        first = True
        for k, result in enumerate(results):
            if not result.wrote:
                continue
            if self.fmt == "json":
                out.write(JSON_FIRST if first else SEPARATORS["json"])
            first = False
            with open(_path(folder, "lines", k), encoding="utf-8", newline="") as lines:
                shutil.copyfileobj(lines, out, 1 << 20)
        if self.fmt == "json":
            out.write(json_foot(self.summary))
        self.summary.fold()  # as ScoreRun leaves it: the counts in their fields

    def _reconcile(self, tasks: list[Task], results: list[PartResult], folder: str) -> None:
        """Rejects replayed into the sink, counts summed, warnings merged as one reader keeps them."""
        kept: dict[tuple[int, str], int] = {}
        totals: dict[tuple[int, str], list] = {}
        for k, (task, result) in enumerate(zip(tasks, results)):
            name = task.path
            self.counts.read += result.records
            self.counts.deals += result.deals
            self.counts.rejected += result.rejected
            if self.on_reject is not None and result.rejected:
                for reject in _load_rejects(_path(folder, "rejects", k)):
                    self.on_reject(name, reject)
            if task.first:
                self.missing_fields[name] = list(result.missing_fields)
                self.warnings.extend((name, w) for w in result.header_warnings)
            elif task.format == "jsonl":  # a field is missing when no record had it: no part had it
                self.missing_fields[name] = [f for f in self.missing_fields[name] if f in result.missing_fields]
            for kind, warning in result.body_warnings:
                key = (task.position, kind)
                if kind is None:  # a warning of the first part about a set of JSON keys (see _trusted)
                    self.warnings.append((name, warning))
                elif kept.get(key, 0) < MAX_ROW_WARNINGS:
                    kept[key] = kept.get(key, 0) + 1
                    self.warnings.append((name, warning))
            for kind, (count, last, summary) in result.row_warning_counts.items():
                entry = totals.setdefault((task.position, kind), [0, 0, summary, name])
                entry[0] += count
                entry[1] = last
            if k + 1 == len(tasks) or tasks[k + 1].position != task.position:  # the file's last part
                for (position, _), (count, last, summary, source) in list(totals.items()):
                    if position == task.position and count > MAX_ROW_WARNINGS:
                        self.warnings.append(
                            (source, ReadWarning(last, summary.format(count=count - MAX_ROW_WARNINGS)))
                        )


BOM = b"\xef\xbb\xbf"


def _head(path: str, header_lines: int) -> bytes:
    """The file's bytes up to the line after its header (which ends on physical line ``header_lines``)."""
    with open(path, "rb") as file:
        return file.read(line_start(path, header_lines + 1))


def _line_breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _path(folder: str, what: str, k: int) -> str:
    return os.path.join(folder, f"{what}-{k}")


def _last_of_file(tasks: list[Task], k: int) -> bool:
    return k + 1 == len(tasks) or tasks[k + 1].position != tasks[k].position


def _fold(summary: Summary, results: list[PartResult]) -> None:
    for result in results:
        summary.absorb(result.tally, result.stage_money)


def _load_rejects(path: str) -> Iterator[Reject]:
    with open(path, "rb") as file:
        while True:
            try:
                batch = pickle.load(file)
            except EOFError:
                return
            yield from batch


def _poll(pid: int) -> tuple[int, int]:
    """(pid, exit status) of a child that has ended, (0, 0) of one still running."""
    ended, status = os.waitpid(pid, os.WNOHANG)
    return ended, status


DECLINED = 2  # a part's exit status when the run must start again in one process (its result says why)
SIGNALS = {signal.SIGINT, signal.SIGTERM}
PR_SET_PDEATHSIG = 1  # Linux prctl: a signal for the child when its parent dies


def _die_with_parent() -> None:
    """Linux: a part stops if the parent is killed (SIGKILL leaves nobody to stop it); elsewhere nothing."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class _Workers:
    """The processes, at most ``jobs`` at a time, each scoring one part into files of ``folder``."""

    def __init__(self, run: PartsRun, tasks: list[Task], folder: str):
        self.owner, self.tasks, self.folder = run, tasks, folder
        self.lines = line_writer(run.fmt, run.ruleset, run.as_of)  # generated once, before the forks
        self.page = mmap.mmap(-1, max(_SLOT.size * len(tasks), mmap.PAGESIZE))

    def run(self) -> list[PartResult] | None:
        """Each part's result, in order; None as soon as a part fails or declines (or cannot be started):
        the others are stopped, since the export is read again in one process."""
        waiting = list(range(len(self.tasks)))
        running: dict[int, int] = {}  # pid -> part
        try:
            while waiting or running:
                while waiting and len(running) < self.owner.jobs:
                    k = waiting.pop(0)
                    pid = self._start(k)
                    if pid is None:
                        return None
                    running[pid] = k
                ended = [(pid, status) for pid, status in map(_poll, list(running)) if pid]
                for pid, _ in ended:  # reaped: never signalled again (the id may be another process's by now)
                    del running[pid]
                if any(status != 0 for _, status in ended):
                    return None
                if not ended:
                    self._report_progress()
                    time.sleep(0.02)
            self._report_progress()
            return [self._result(k) for k in range(len(self.tasks))]
        finally:
            for pid in running:  # an interruption or a failed part: the rest are not needed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            self.page.close()

    def _start(self, k: int) -> int | None:
        """Fork the process of part ``k``: its pid, or None when the system has no process to give.

        SIGINT and SIGTERM are held while forking, so that the child never runs the parent's handlers (which
        remove the run's temporary files): it takes them up again with the default action, and just stops.
        """
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
            return None
        if pid:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
            return pid
        status = 1
        try:  # the child: never return into the parent's code, never run its cleanup
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
            _die_with_parent()
            result = self._score(k)
            with open(_path(self.folder, "result", k), "wb") as file:
                pickle.dump(result, file, pickle.HIGHEST_PROTOCOL)
            status = 0 if result.trusted(self.tasks[k], _last_of_file(self.tasks, k)) else DECLINED
        finally:
            os._exit(status)

    def _result(self, k: int) -> PartResult:
        with open(_path(self.folder, "result", k), "rb") as file:
            result = pickle.load(file)
        assert isinstance(result, PartResult)
        return result

    def _report_progress(self) -> None:
        meter = self.owner.meter
        if meter is None:
            return
        done = rows = 0
        for k, task in enumerate(self.tasks):
            part_bytes, part_rows = _SLOT.unpack_from(self.page, _SLOT.size * k)
            done += max(part_bytes - len(task.header), 0)  # the header before a part is not the part's
            rows += part_rows
        meter.update(rows, done)

    def _score(self, k: int) -> PartResult:
        """Read, score and write one part (in the child process)."""
        task, run = self.tasks[k], self.owner
        result = PartResult()
        try:
            source = ByteRange(task.path, task.part.start, task.part.end, task.header)
            reader = run._reader(cast(IO[bytes], source), task.format, task.delimiter)
        except Exception as exc:  # noqa: BLE001 - any failure: the run goes again in one process
            result.error = repr(exc)
            return result
        try:
            if task.columns is not None and tuple(reader.header or ()) != task.columns:
                raise ValueError("the part's header is not read as the file's")  # the guard: never seen
            result.header_warnings = list(reader.warnings)
            shift = task.part.line - (_line_breaks(task.header) + 1)  # part lines -> the file's
            summary = Summary(run.ruleset, run.as_of)
            with (
                open(_path(self.folder, "lines", k), "w", encoding="utf-8", newline="") as lines,
                open(_path(self.folder, "rejects", k), "wb") as rejects,
            ):
                deals = self._deals(k, reader, shift, summary, result, rejects)
                result.wrote = self.lines(lines, deals)
            self._collect(reader, shift, summary, result)
        except Exception as exc:  # noqa: BLE001
            result.error = repr(exc)
        finally:
            reader.close()
            source.close()
        return result

    def _deals(self, k, reader, shift, summary, result, rejects) -> Iterator[ScoredDeal]:
        score, add, as_of, name = self.owner.ruleset.score_function, summary.add, self.owner.as_of, reader.source_name
        new, page, offset = tuple.__new__, self.page, _SLOT.size * k
        batch: list[Reject] = []
        rows = 0
        for line, record in reader.records():
            rows += 1
            if rows % PROGRESS_EVERY == 0:
                _SLOT.pack_into(page, offset, reader.bytes_read, rows)
            if type(record) is Reject:
                if record.reason.startswith(RUNAWAY_REASON):
                    result.clean = False
                    if shift:  # the reason names the line too
                        record = attrs.evolve(record, reason=f"{RUNAWAY_REASON} {record.line + shift}")
                batch.append(attrs.evolve(record, line=record.line + shift) if shift else record)
                if len(batch) >= 10_000:
                    pickle.dump(batch, rejects, pickle.HIGHEST_PROTOCOL)
                    batch = []
                continue
            result_ = score(record, as_of)
            add(result_)
            yield new(ScoredDeal, (line + shift, record, result_, name, None))
        if batch:
            pickle.dump(batch, rejects, pickle.HIGHEST_PROTOCOL)
        _SLOT.pack_into(page, offset, reader.bytes_read, rows)

    def _collect(self, reader, shift: int, summary: Summary, result: PartResult) -> None:
        counts = reader.counts
        result.records, result.deals, result.rejected = counts.records, counts.deals, counts.rejected
        result.missing_fields = list(reader.missing_fields)  # JSONL: the fields no record of the part had
        kinds, counted = reader.row_warning_kinds, reader.row_warning_counts
        summaries = sum(count > MAX_ROW_WARNINGS for count, _, _ in counted.values())  # added as the rows ran out
        body = range(len(result.header_warnings), len(reader.warnings) - summaries)
        result.body_warnings = [
            (kinds.get(i), ReadWarning(reader.warnings[i].line + shift, reader.warnings[i].message)) for i in body
        ]
        result.row_warning_counts = {
            kind: [count, last + shift, template] for kind, (count, last, template) in counted.items()
        }
        result.tally = summary._tally
        result.stage_money = {
            stage: (totals.amount, totals.weighted, totals.unknown_amount) for stage, totals in summary.stages.items()
        }
