"""ExportReader: one export opened, its format and encoding handled, its records read (see the package docstring)."""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from .. import types as T
from ..values import EXCEL_FLOAT_ID, coerce, text_converter
from .counting import CountingReader
from .csv import CsvRecords
from .errors import ExportError, ReadCounts, ReadWarning, Reject, RejectedRow, RequiredMissing
from .json import JsonRecords, RecordsPath

FORMATS = ("csv", "tsv", "json", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FORMAT_NAMES = {"csv": "csv", "tsv": "tsv", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl"}
STDIN = "-"
TEXT_CHUNK = 1 << 16
# The warning on an id Excel turned into a number (the SQL engines find them too: engine.sql.duckdb_engine)
MANGLED_ID = (
    "id '{value}' looks like a number mangled by Excel (scientific notation or lost digits); "
    "kept as written, but it may not match the CRM record"
)
MANGLED_IDS_NOT_LISTED = "{count} more ids look mangled by Excel (not listed)"
MAX_ROW_WARNINGS = 100  # per kind; the rest are counted in one summary warning


class ExportReader(CsvRecords, JsonRecords):
    """One pass over one export. Opens the source and reads the CSV header on creation.

    ``analysis`` supplies the fields (``analysis.pack.fields``), the stage label table
    (``analysis.stage_lookup``) and typed defaults (``analysis.defaults``).
    ``source`` is a path, ``'-'`` for stdin, or an open binary (preferred: exact
    locations of encoding errors) or text stream. ``fmt`` is csv, tsv, json or jsonl
    (ndjson is jsonl); without it the file extension decides, and stdin is csv.
    ``delimiter`` is for CSV (default ',' or tab for tsv). ``records_path`` (a RecordsPath) is for JSON:
    where the records are (see engine.read.json); in JSONL, where each line's fields are. A CSV
    export has no such places: it reads no ``records_path``.

    After (or during) ``records()``: ``warnings``, ``missing_fields`` (declared fields
    with no column; for JSON, fields no record has had so far) and ``counts``.
    The reader is single-use; use it as a context manager, or exhaust ``records()``,
    to close the file.
    """

    def __init__(
        self,
        analysis,
        source: str | os.PathLike | IO,
        *,
        fmt: str | None = None,
        delimiter: str | None = None,
        strict: bool = False,
        records_path: RecordsPath | None = None,
    ):
        self.fields = analysis.pack.fields
        if self.fields is None:
            raise ValueError("the rule pack has no fields document; exports are read through one")
        self.stages = analysis.stage_lookup
        self.defaults = dict(analysis.defaults)
        self.strict = strict
        self.warnings: list[ReadWarning] = []
        self.counts = ReadCounts()
        self.header: list[str] | None = None
        self.columns: dict[str, str] = {}  # field name -> column (header or JSON key) it is read from
        self._readable = {name: f for name, f in self.fields.fields.items() if f.compute is None}
        self._started = False
        self._closed = False
        self._row_warnings: dict[str, list] = {}  # kind -> [count, last line, template]
        self.row_warning_kinds: dict[int, str] = {}  # position in ``warnings`` -> kind, of each row warning kept
        self.source_name, self.format = self._resolve(source, fmt)
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise ExportError(f"the delimiter must be one character (not a quote or newline), not {delimiter!r}")
        self.delimiter = delimiter or ("\t" if self.format == "tsv" else ",")
        if records_path is not None and records_path.array and self.format == "jsonl":
            raise ExportError(
                f"--records '{records_path}': a JSONL export has one record per line, so it names no list; "
                f"name only where each line's fields are, e.g. '[].properties'",
                source=self.source_name,
            )
        self.records_path = records_path if self.format in ("json", "jsonl") else None
        self._counter: CountingReader | None = None
        self._owned: IO | None = None  # a file we opened and must close
        self._text = self._open(source)
        try:
            self._lookup = self._column_lookup()
            self._template = {name: self.defaults.get(name) for name in self._readable}
            self._cells = {name: self._cell(f) for name, f in self._readable.items()}
            if self.format in ("csv", "tsv"):
                self._start_csv()
                self.missing_fields = [n for n in self._readable if n not in self.columns]
            else:
                self._plans: dict = {}
                self._memos: dict = {}
                self.missing_fields = list(self._readable)
        except BaseException:
            self.close()
            raise

    # sources

    def _resolve(self, source, fmt) -> tuple[str, str]:
        if isinstance(source, (str, os.PathLike)):
            name = "<stdin>" if str(source) == STDIN else str(source)
        else:
            given = getattr(source, "name", None)
            name = given if isinstance(given, str) else "<stream>"
        if fmt is not None:
            key = fmt.lower().lstrip(".")
            if key not in FORMAT_NAMES:
                raise ExportError(f"unknown export format {fmt!r}; use one of: csv, tsv, json, jsonl", source=name)
            return name, FORMAT_NAMES[key]
        if isinstance(source, (str, os.PathLike)) and str(source) != STDIN:
            suffix = Path(source).suffix.lower()
            if suffix in EXTENSIONS:
                return name, EXTENSIONS[suffix]
            raise ExportError(
                f"cannot tell the format from the extension {suffix or '(none)'!r}; "
                f"give the format: csv, tsv, json or jsonl",
                source=name,
            )
        return name, "csv"

    def _open(self, source) -> IO[str]:
        if isinstance(source, (str, os.PathLike)) and str(source) != STDIN:
            try:
                binary = open(source, "rb")  # closed by close()
            except OSError as exc:
                raise ExportError(f"cannot read the export: {exc.strerror or exc}", source=self.source_name) from None
            self._owned = binary
            return self._wrap(binary)
        stream = sys.stdin if isinstance(source, (str, os.PathLike)) else source
        if isinstance(stream, io.TextIOBase):
            underneath = getattr(stream, "buffer", None)
            if underneath is None:
                return cast(IO[str], stream)  # a text stream without bytes underneath (io.StringIO): decoded
            stream = underneath
        return self._wrap(stream)

    def _wrap(self, binary) -> IO:
        self._counter = CountingReader(binary)
        text = io.TextIOWrapper(self._counter, encoding="utf-8-sig", newline="")  # type: ignore[type-var]
        text._CHUNK_SIZE = TEXT_CHUNK  # type: ignore[attr-defined]  # CPython reads 8 KiB at a time; bigger chunks read CSV ~25% faster
        return text

    @property
    def bytes_read(self) -> int:
        """Bytes read so far (ahead of the records by at most a chunk): how far a progress bar has got."""
        return self._counter.total if self._counter is not None else 0

    def close(self) -> None:
        """Close the file if we opened it; leave a caller's stream (or stdin) open."""
        if self._closed:
            return
        self._closed = True
        text = getattr(self, "_text", None)
        if isinstance(text, io.TextIOWrapper) and self._counter is not None:
            try:
                text.detach()  # closing the wrapper would close a stream that is not ours
            except ValueError:
                pass
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unreadable(self, exc: Exception) -> ExportError:
        if isinstance(exc, UnicodeDecodeError):
            return self._encoding_error(exc)
        if isinstance(exc, csv.Error):
            return self._csv_error(exc, self._csv.line_num if hasattr(self, "_csv") else None)
        return ExportError(str(exc), source=self.source_name)

    def _csv_error(self, exc: csv.Error, line: int | None) -> ExportError:
        """csv.Error is rare with the default dialect: in practice, an unclosed quote."""
        message = str(exc)
        if "field larger than field limit" in message:
            message = (
                f"a cell is longer than {csv.field_size_limit()} characters "
                f"(an unclosed quote in the record starting here?)"
            )
        return ExportError(f"malformed CSV: {message}", source=self.source_name, line=line)

    def _encoding_error(self, exc: UnicodeDecodeError) -> ExportError:
        bad = exc.object[exc.start : exc.start + 1]
        byte = f"0x{bad[0]:02X}" if bad else "a byte"
        counter = self._counter
        head = counter.head if counter is not None else b""
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            hint = "the file looks like UTF-16 (Excel 'Unicode Text'); save it as 'CSV UTF-8'"
        else:
            hint = "save or export it as UTF-8 (Excel: 'CSV UTF-8'); it may be Windows-1252 or Latin-1"
        if counter is None:
            return ExportError(f"not UTF-8: byte {byte} cannot be decoded; {hint}", source=self.source_name)
        offset, line = counter.locate(exc)
        return ExportError(
            f"not UTF-8: byte {byte} at byte offset {offset} cannot be decoded; {hint}",
            source=self.source_name,
            line=line,
        )

    # column matching

    def _column_lookup(self) -> dict:
        """Stripped lower-case header -> field; a name shared by two fields goes to the first declared."""
        lookup: dict = {}
        for field in self._readable.values():
            for name in (field.name, *field.columns):
                lookup.setdefault(name.strip().lower(), field)
        return lookup

    def _cell(self, field) -> Callable[[Any], Any]:
        """The converter of one field's value: text (a CSV cell or JSON string), null, or a JSON native.

        Blank text and null take the field's default, or None, or are 'missing' if the field is
        required; numbers, booleans and lists from JSON are read natively (exact Decimals).
        """
        convert = text_converter(field.type, stages=self.stages, **field.reading())
        default = self.defaults.get(field.name)
        required = field.required and default is None
        message = f"missing required field '{field.name}'"
        is_string = field.type == T.STRING
        type_, reading, stages = field.type, field.reading(), self.stages

        def cell(value):
            if isinstance(value, str):
                if is_string:
                    value = value.strip()
                    if value:
                        return value
                elif value and not value.isspace():
                    return convert(value)
            elif value is not None:
                return coerce(type_, value, stages=stages, **reading)
            if required:
                raise RequiredMissing(message)
            return default

        return cell

    # warnings

    def _warn(self, line: int, message: str) -> None:
        self.warnings.append(ReadWarning(line, message))

    def _row_warning(self, kind: str, line: int, message: str, summary: str) -> None:
        """A per-row warning, kept for the first MAX_ROW_WARNINGS rows, then only counted."""
        entry = self._row_warnings.setdefault(kind, [0, 0, summary])
        entry[0] += 1
        entry[1] = line
        if entry[0] <= MAX_ROW_WARNINGS:
            self.row_warning_kinds[len(self.warnings)] = kind  # engine.parts merges the parts' warnings by kind
            self._warn(line, message)

    @property
    def row_warning_counts(self) -> dict[str, list]:
        """Per kind of row warning: [rows it was given for, the last row's line, the summary's template]."""
        return self._row_warnings

    def _finish_warnings(self) -> None:
        for count, last_line, summary in self._row_warnings.values():
            if count > MAX_ROW_WARNINGS:
                self._warn(last_line, summary.format(count=count - MAX_ROW_WARNINGS))

    def _check_id(self, line: int, value) -> None:
        if isinstance(value, str) and EXCEL_FLOAT_ID.match(value):
            self._row_warning("mangled_id", line, MANGLED_ID.format(value=value), MANGLED_IDS_NOT_LISTED)

    # records

    def records(self) -> Iterator[tuple[int, dict | Reject]]:
        """(line, deal) or (line, Reject) for every record, in file order. Single use."""
        if self._started:
            raise RuntimeError("ExportReader.records() can only be iterated once")
        self._started = True
        if self._closed:
            raise RuntimeError("the reader is closed")
        if self.format in ("csv", "tsv"):
            body = self._csv_records()
        elif self.format == "jsonl":
            body = self._jsonl_records()
        else:
            body = self._json_records()
        try:
            yield from body
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self._unreadable(exc) from None
        finally:
            self._finish_warnings()
            self.close()

    def _reject(self, line: int, deal_id, column, value, reason: str) -> Reject:
        reject = Reject(line, deal_id, column, value, reason)
        self.counts.rejected += 1
        if self.strict:
            raise RejectedRow(reject, self.source_name)
        return reject
