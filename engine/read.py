"""Reading a deal export: CSV, JSON or JSONL, from a file or stdin, into typed deal records.

An export is read as a stream: ``ExportReader.records()`` yields one item per
record, in file order, so memory stays flat on millions of rows. Each item is
``(line, deal)`` where ``deal`` maps field names to typed values, or
``(line, Reject)`` for a record that cannot be read. Nothing is lost: every
record is one or the other, and ``counts`` reconciles (records = deals +
rejected). Lines with no content at all are not records; they are counted
apart (``counts.blank``).

Problems come in three sizes:

- a bad record (a cell that is not an amount, an unknown stage label, a blank
  required field, a CSV row with the wrong number of cells, a JSON value that
  is not an object) is a ``Reject`` value, with the line, the deal id when it
  is known, the column as written in the file, the raw value and a reason;
- something worth knowing that does not stop a record (a duplicated column,
  an id that Excel turned into a float) is a ``ReadWarning`` on the reader;
- an export that cannot be read at all (missing file, bytes that are not
  UTF-8, a malformed JSON document, a header with no column for a required
  field) raises ``ExportError``, which the CLI turns into exit code 2.

In ``strict`` mode the first reject raises ``RejectedRow`` (an ExportError
carrying the Reject) instead.

Columns are matched to fields through the fields document: a column belongs
to a field when its stripped, case-insensitive header equals the field's name
or one of its ``columns``. Computed fields are never read. Values are read by
``engine.values`` (the same rules as everywhere else); for speed each column
gets its converter once per file, and the row loop does no lookups of field
metadata.

Line numbers: for CSV the physical line where the record starts (a quoted
cell may span lines); for JSONL the line; for a JSON array the record's
position in the array, counting from 1.

JSON arrays are streamed too: elements are decoded one at a time with the
standard library's ``raw_decode`` from a sliding buffer, so a large ``.json``
export is not loaded whole. A single record larger than ``MAX_RECORD_CHARS``
is refused (in practice it means a broken document).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import attrs

from . import types as T
from .output import atomic_write, safe_cell
from .values import EXCEL_FLOAT_ID, ValueProblem, coerce, text_converter

FORMATS = ("csv", "tsv", "json", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FORMAT_NAMES = {"csv": "csv", "tsv": "tsv", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl"}
STDIN = "-"
ID_FIELD = "id"
MAX_RECORD_CHARS = 16 * 1024 * 1024
JSON_CHUNK = 1 << 16
TEXT_CHUNK = 1 << 16
MAX_ROW_WARNINGS = 100  # per kind; the rest are counted in one summary warning
REJECT_COLUMNS = ("line", "id", "column", "value", "reason")


class ExportError(Exception):
    """An export that cannot be read at all. ``str()`` is 'source:line: message'."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.source, self.line) if p is not None)
        return f"{where}: {self.message}" if where else self.message


@attrs.frozen
class Reject:
    """A record that could not be read, with everything needed to find and fix it."""

    line: int
    id: str | None
    column: str | None  # the header (or JSON key) as written in the file
    value: str | None  # the raw value, as text
    reason: str


class RejectedRow(ExportError):
    """Raised in strict mode at the first record that cannot be read."""

    def __init__(self, reject: Reject, source: str | None = None):
        where = f"column '{reject.column}': " if reject.column else ""
        super().__init__(f"{where}{reject.reason}", source=source, line=reject.line)
        self.reject = reject


@attrs.frozen
class ReadWarning:
    line: int
    message: str


@attrs.define
class ReadCounts:
    records: int = 0  # rows (CSV), lines (JSONL) or elements (JSON) that hold a record
    deals: int = 0
    rejected: int = 0
    blank: int = 0  # empty lines and all-empty CSV rows: not records

    @property
    def reconciles(self) -> bool:
        return self.records == self.deals + self.rejected


class _Required(ValueProblem):
    pass


class ExportReader:
    """One pass over one export. Opens the source and reads the CSV header on creation.

    ``analysis`` supplies the fields (``analysis.pack.fields``), the stage label table
    (``analysis.stage_lookup``) and typed defaults (``analysis.defaults``).
    ``source`` is a path, ``'-'`` for stdin, or an open binary (preferred: exact
    locations of encoding errors) or text stream. ``fmt`` is csv, tsv, json or jsonl
    (ndjson is jsonl); without it the file extension decides, and stdin is csv.
    ``delimiter`` is for CSV (default ',' or tab for tsv).

    After (or during) ``records()``: ``warnings``, ``missing_fields`` (declared fields
    with no column; for JSON, fields no record has had so far) and ``counts``.
    The reader is single-use; use it as a context manager, or exhaust ``records()``,
    to close the file.
    """

    def __init__(self, analysis, source: str | os.PathLike | IO, *, fmt: str | None = None,
                 delimiter: str | None = None, strict: bool = False):
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
        self.source_name, self.format = self._resolve(source, fmt)
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise ExportError(f"the delimiter must be one character (not a quote or newline), not {delimiter!r}")
        self.delimiter = delimiter or ("\t" if self.format == "tsv" else ",")
        self._counter: _CountingReader | None = None
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
                self.missing_fields = list(self._readable)
        except BaseException:
            self.close()
            raise

    # sources

    def _resolve(self, source, fmt) -> tuple[str, str]:
        if isinstance(source, (str, os.PathLike)):
            name = "<stdin>" if str(source) == STDIN else str(source)
        else:
            name = getattr(source, "name", None)
            name = name if isinstance(name, str) else "<stream>"
        if fmt is not None:
            key = fmt.lower().lstrip(".")
            if key not in FORMAT_NAMES:
                raise ExportError(f"unknown export format {fmt!r}; use one of: csv, tsv, json, jsonl", source=name)
            return name, FORMAT_NAMES[key]
        if isinstance(source, (str, os.PathLike)) and str(source) != STDIN:
            suffix = Path(source).suffix.lower()
            if suffix in EXTENSIONS:
                return name, EXTENSIONS[suffix]
            raise ExportError(f"cannot tell the format from the extension {suffix or '(none)'!r}; "
                              f"give the format: csv, tsv, json or jsonl", source=name)
        return name, "csv"

    def _open(self, source) -> IO:
        if isinstance(source, (str, os.PathLike)) and str(source) != STDIN:
            try:
                binary = open(source, "rb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise ExportError(f"cannot read the export: {exc.strerror or exc}", source=self.source_name) from None
            self._owned = binary
            return self._wrap(binary)
        stream = sys.stdin if isinstance(source, (str, os.PathLike)) else source
        if isinstance(stream, io.TextIOBase):
            binary = getattr(stream, "buffer", None)
            if binary is None:
                return stream  # a text stream without bytes underneath (io.StringIO): already decoded
            stream = binary
        return self._wrap(stream)

    def _wrap(self, binary) -> IO:
        self._counter = _CountingReader(binary)
        text = io.TextIOWrapper(self._counter, encoding="utf-8-sig", newline="")
        text._CHUNK_SIZE = TEXT_CHUNK  # CPython reads 8 KiB at a time; bigger chunks read CSV ~25% faster
        return text

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

    def __enter__(self) -> "ExportReader":
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
            message = (f"a cell is longer than {csv.field_size_limit()} characters "
                       f"(an unclosed quote in the record starting here?)")
        return ExportError(f"malformed CSV: {message}", source=self.source_name, line=line)

    def _encoding_error(self, exc: UnicodeDecodeError) -> ExportError:
        bad = exc.object[exc.start:exc.start + 1]
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
        return ExportError(f"not UTF-8: byte {byte} at byte offset {offset} cannot be decoded; {hint}",
                           source=self.source_name, line=line)

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
        convert = text_converter(field.type, formats=field.formats, separator=field.separator, stages=self.stages)
        default = self.defaults.get(field.name)
        required = field.required and default is None
        message = f"missing required field '{field.name}'"
        is_string = field.type == T.STRING
        type_, formats, separator, stages = field.type, field.formats, field.separator, self.stages

        def cell(value):
            if isinstance(value, str):
                if is_string:
                    value = value.strip()
                    if value:
                        return value
                elif value and not value.isspace():
                    return convert(value)
            elif value is not None:
                return coerce(type_, value, formats=formats, separator=separator, stages=stages)
            if required:
                raise _Required(message)
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
            self._warn(line, message)

    def _finish_warnings(self) -> None:
        for count, last_line, summary in self._row_warnings.values():
            if count > MAX_ROW_WARNINGS:
                self._warn(last_line, summary.format(count=count - MAX_ROW_WARNINGS))

    def _check_id(self, line: int, value) -> None:
        if isinstance(value, str) and EXCEL_FLOAT_ID.match(value):
            self._row_warning(
                "mangled_id", line,
                f"id '{value}' looks like a number mangled by Excel (scientific notation or lost digits); "
                f"kept as written, but it may not match the CRM record",
                "{count} more ids look mangled by Excel (not listed)")

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

    # CSV

    def _start_csv(self) -> None:
        self._csv = csv.reader(self._text, delimiter=self.delimiter)
        try:
            header = None
            for row in self._csv:
                if not _blank(row):
                    header = row
                    break
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self._unreadable(exc) from None
        if header is None:
            raise ExportError("the export is empty: no header row", source=self.source_name)
        self._header_line = self._csv.line_num
        self.header = [name.strip() for name in header]
        taken: dict[str, int] = {}  # field name -> column index
        seen: dict[str, int] = {}  # lower-case header -> first column index
        plan = []
        line = self._header_line
        for index, name in enumerate(self.header):
            key = name.lower()
            field = self._lookup.get(key)
            first = seen.setdefault(key, index)
            if field is None:
                continue
            if first != index:
                self._warn(line, f"column '{name}' appears more than once (columns {first + 1} and {index + 1}); "
                                 f"using the first")
                continue
            if field.name in taken:
                other = taken[field.name]
                self._warn(line, f"columns '{self.header[other]}' and '{name}' both map to field '{field.name}'; "
                                 f"using '{self.header[other]}' (column {other + 1})")
                continue
            taken[field.name] = index
            self.columns[field.name] = name
            plan.append((index, field.name))
        missing = [f for f in self._readable.values()
                   if f.name not in taken and f.required and self.defaults.get(f.name) is None]
        if missing:
            message = "; ".join(
                f"no column for required field '{f.name}' (looked for: {', '.join([f.name, *f.columns])})"
                for f in missing)
            if len(header) == 1:
                others = [d for d in ";\t|," if d != self.delimiter and d in header[0]]
                if others:
                    message += f" — the header is one column: is the delimiter {others[0]!r}?"
            raise ExportError(message, source=self.source_name, line=line)
        self._csv_plan = plan

    def _csv_records(self) -> Iterator[tuple[int, dict | Reject]]:
        reader = self._csv
        width = len(self.header)
        convert, self.row_source = _compile_row(self._csv_plan, self._readable, self.defaults, self.stages,
                                                [n for n in self._readable if n not in self.columns])
        id_is_text = ID_FIELD in self.columns and self._readable[ID_FIELD].type == T.STRING
        check_id = self._check_id if id_is_text else None
        mangled = EXCEL_FLOAT_ID.match
        counts = self.counts
        delimiter = self.delimiter
        line = self._header_line + 1
        try:
            for row in reader:
                start, line = line, reader.line_num + 1
                if not row or (not row[0] or row[0].isspace()) and _blank(row):
                    counts.blank += 1
                    continue
                counts.records += 1
                if len(row) != width:
                    cells = f"{len(row)} cell" + ("" if len(row) == 1 else "s")
                    yield start, self._reject(start, None, None, delimiter.join(row),
                                              f"row has {cells}, header has {width}")
                    continue
                try:
                    deal = convert(row)
                except ValueProblem:
                    yield start, self._csv_reject(start, row)
                    continue
                if check_id is not None:
                    deal_id = deal[ID_FIELD]
                    if deal_id is not None and mangled(deal_id):
                        check_id(start, deal_id)
                counts.deals += 1
                yield start, deal
        except csv.Error as exc:
            raise self._csv_error(exc, line) from None

    def _csv_reject(self, line: int, row: list) -> Reject:
        """The first cell, in column order, that cannot be read (the fast path only knows one failed)."""
        cells = self._cells
        deal_id = None
        if ID_FIELD in self.columns:
            id_index = next(index for index, name in self._csv_plan if name == ID_FIELD)
            try:
                deal_id = cells[ID_FIELD](row[id_index])
            except ValueProblem:
                deal_id = None
        for index, name in self._csv_plan:
            try:
                cells[name](row[index])
            except ValueProblem as problem:
                return self._reject(line, deal_id, self.header[index], row[index], str(problem))
        raise AssertionError("a cell failed once and then passed")  # converters are pure functions

    # JSON and JSONL

    def _object_plan(self, keys: tuple, line: int) -> tuple:
        """For one set of JSON keys: ((key, field name, converter), ...) and the required fields absent."""
        plan = []
        taken: dict[str, str] = {}
        for key in keys:
            if not isinstance(key, str):
                continue
            field = self._lookup.get(key.strip().lower())
            if field is None:
                continue
            if field.name in taken:
                self._warn(line, f"keys '{taken[field.name]}' and '{key}' both map to field '{field.name}'; "
                                 f"using '{taken[field.name]}'")
                continue
            taken[field.name] = key
            plan.append((key, field.name, self._cells[field.name]))
            if field.name not in self.columns:
                self.columns[field.name] = key
                self.missing_fields.remove(field.name)
        missing = tuple(f.name for f in self._readable.values()
                        if f.name not in taken and f.required and self.defaults.get(f.name) is None)
        return tuple(plan), missing

    def _object(self, line: int, record) -> dict | Reject:
        counts = self.counts
        counts.records += 1
        if not isinstance(record, dict):
            kind = _json_kind(record)
            return self._reject(line, None, None, _as_text(record), f"record is not a JSON object (found {kind})")
        keys = tuple(record)
        plan = self._plans.get(keys)
        if plan is None:
            if len(self._plans) > 1024:
                self._plans.clear()
            plan = self._plans[keys] = self._object_plan(keys, line)
        cells, missing = plan
        deal = self._template.copy()
        deal_id = None
        try:
            for key, name, cell in cells:
                deal[name] = cell(record[key])
        except ValueProblem as problem:
            deal_id = self._json_id(record, cells)
            return self._reject(line, deal_id, key, _as_text(record[key]), str(problem))
        if missing:
            deal_id = deal.get(ID_FIELD)
            return self._reject(line, deal_id if isinstance(deal_id, str) else None, None, None,
                                f"missing required field '{missing[0]}'")
        deal_id = deal.get(ID_FIELD)
        if deal_id is not None:
            self._check_id(line, deal_id)
        counts.deals += 1
        return deal

    def _json_id(self, record: dict, cells) -> str | None:
        for key, name, cell in cells:
            if name == ID_FIELD:
                try:
                    value = cell(record[key])
                except ValueProblem:
                    return None
                return value if isinstance(value, str) else None
        return None

    def _jsonl_records(self) -> Iterator[tuple[int, dict | Reject]]:
        loads = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant).decode
        for line, text in enumerate(self._text, 1):
            if not text.strip():
                self.counts.blank += 1
                continue
            try:
                record = loads(text.rstrip("\r\n"))  # so an error's column is on this line
            except ValueError as exc:  # JSONDecodeError, NaN/Infinity, integers too long to convert
                self.counts.records += 1
                yield line, self._reject(line, None, None, text.rstrip("\r\n"), f"invalid JSON: {_json_message(exc)}")
                continue
            except RecursionError:  # nesting deeper than Python's stack: no deal record is that deep
                self.counts.records += 1
                yield line, self._reject(line, None, None, text[:80], "invalid JSON: nested too deeply")
                continue
            if _SURROGATE_ESCAPE.search(text) is not None:
                problem = _unpaired_surrogate(record)
                if problem:
                    self.counts.records += 1
                    yield line, self._reject(line, None, None, text.rstrip("\r\n")[:200], problem)
                    continue
            yield line, self._object(line, record)

    def _json_records(self) -> Iterator[tuple[int, dict | Reject]]:
        array = _JsonArray(self._text, self.source_name)
        for index, record in array:
            if array.escaped:
                problem = _unpaired_surrogate(record)
                if problem:
                    self.counts.records += 1
                    yield index, self._reject(index, None, None, None, problem)
                    continue
            yield index, self._object(index, record)


# JSON may escape half of a UTF-16 pair ("\udfff"): valid JSON, but not text any file can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unpaired_surrogate(value) -> str | None:
    """The reason a decoded JSON record cannot be kept as text, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "invalid JSON text: an unpaired surrogate escape (\\udXXX) is not a character"
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = _unpaired_surrogate(item)
        if problem:
            return problem
    return None


def _blank(row: list) -> bool:
    return all(not cell or cell.isspace() for cell in row)


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


def _json_message(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _as_text(value) -> str | None:
    """A raw JSON value as text for the rejects file: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


class _JsonArray:
    """The elements of a top-level JSON array, decoded one at a time from a sliding buffer.

    Yields (position from 1, value). A syntax error raises ExportError with the line
    and column in the file: after one, the rest of the document cannot be trusted.
    """

    def __init__(self, text: IO, source: str):
        self.text = text
        self.source = source
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.escaped = False  # whether the last element read holds a surrogate escape (\udXXX)
        self.lines_before = 0  # newlines in the text already dropped from the buffer
        self.column_before = 0  # characters of the current line already dropped from the buffer
        self.decode = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant).raw_decode

    def refill(self, at_least: int = JSON_CHUNK) -> None:
        dropped = self.buffer[:self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self.lines_before += newlines
            self.column_before = len(dropped) - dropped.rfind("\n") - 1
        else:
            self.column_before += len(dropped)
        chunk = self.text.read(at_least)
        self.buffer = self.buffer[self.pos:] + chunk
        self.pos = 0
        if not chunk:
            self.eof = True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end)."""
        while True:
            buffer, pos = self.buffer, self.pos
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(buffer) or self.eof:
                return buffer[pos] if pos < len(buffer) else ""
            self.refill()

    def error(self, message: str, pos: int | None = None) -> ExportError:
        pos = self.pos if pos is None else pos
        line = self.lines_before + self.buffer.count("\n", 0, pos) + 1
        last = self.buffer.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else pos + 1 + self.column_before
        return ExportError(f"malformed JSON (column {column}): {message}", source=self.source, line=line)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        first = self.peek()
        if first == "":
            raise ExportError("the export is empty; expected a JSON array of deal objects", source=self.source)
        if first != "[":
            found = "an object" if first == "{" else f"'{first}'"
            raise self.error(f"expected a JSON array of deal objects, found {found} "
                             f"(for one object per line use the jsonl format)")
        self.pos += 1
        index = 0
        while True:
            char = self.peek()
            if char == "]":
                self.pos += 1
                break
            if index:
                if char != ",":
                    raise self.error("expected ',' or ']' after an element" if char else "the array is not closed")
                self.pos += 1
                char = self.peek()
            if char == "" or (char == "]" and index):
                raise self.error("expected a value" if char else "the array is not closed")
            index += 1
            yield index, self.element()
        if self.peek() != "":
            raise self.error("unexpected text after the array")

    def element(self):
        while True:
            try:
                value, end = self.decode(self.buffer, self.pos)
            except RecursionError:
                raise self.error("a record is nested too deeply to be a deal", self.pos) from None
            except ValueError as exc:
                pos = getattr(exc, "pos", None)
                message = getattr(exc, "msg", str(exc))
                truncated = pos is None or pos >= len(self.buffer) - 16 or message.startswith("Unterminated")
                if self.eof or not truncated:
                    raise self.error(message, pos) from None
                if len(self.buffer) - self.pos > MAX_RECORD_CHARS:
                    raise self.error(f"a record is larger than {MAX_RECORD_CHARS} characters") from None
                self.refill(max(JSON_CHUNK, len(self.buffer) - self.pos))
                continue
            if end >= len(self.buffer) and not self.eof:
                # a number or literal at the very end of the buffer may go on: read more, decode again
                self.refill(max(JSON_CHUNK, len(self.buffer) - self.pos))
                continue
            # Remembered for the caller: the element may hold an unpaired surrogate escape.
            self.escaped = _SURROGATE_ESCAPE.search(self.buffer, self.pos, end) is not None
            self.pos = end
            return value


class _CountingReader(io.RawIOBase):
    """The bytes under the text decoder, counted, so a decoding error can name its line.

    A UnicodeDecodeError carries the bytes being decoded (the tail of what has been read
    so far) and the bad position in them; with the total read and the line breaks seen,
    that gives the byte offset and the line in the file.
    """

    def __init__(self, raw):
        super().__init__()
        self.raw = raw
        self.read_some = getattr(raw, "read1", raw.read)  # read1: no waiting for a full chunk on a pipe
        self.total = 0
        self.newlines = 0
        self.returns = 0
        self.head = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.read_some(len(buffer))
        if not data:
            return 0
        size = len(data)
        buffer[:size] = data
        if self.total == 0:
            self.head = bytes(data[:4])
        self.total += size
        self.newlines += data.count(b"\n")
        self.returns += data.count(b"\r")
        return size

    def locate(self, exc: UnicodeDecodeError) -> tuple[int, int]:
        """(byte offset, line) of the first byte the decoder refused."""
        tail = exc.object[exc.start:]
        offset = self.total - len(tail)
        if self.newlines:
            breaks = self.newlines - tail.count(b"\n")
        else:
            breaks = self.returns - tail.count(b"\r")
        return offset, breaks + 1


def _compile_row(plan: list, fields: dict, defaults: dict, stages, absent: list) -> tuple[Callable, str]:
    """One function turning a CSV row (a list of cells) into a deal dict, generated per file.

    Like the rule compiler, this writes straight-line Python once so the per-row work is
    only the conversions themselves: a string cell is ``row[i].strip() or <default>``, a
    boolean, date or stage cell is first looked up in a memo of texts already read, and
    only new texts call the converter from ``engine.values``. A cell that cannot be read
    raises ValueProblem; the caller then finds which one (rare, so it may be slow).
    Returns the function and its source (kept on the reader as ``row_source``).
    """
    namespace: dict = {}
    lines = ["def convert(row):"]
    items = []
    for k, (index, name) in enumerate(plan):
        field = fields[name]
        default = defaults.get(name)
        namespace[f"d{k}"] = default
        if field.required and default is None:
            namespace[f"r{k}"] = _raiser(_Required(f"missing required field '{name}'"))
            blank = f"r{k}()"
        else:
            blank = f"d{k}"
        convert = text_converter(field.type, formats=field.formats, separator=field.separator, stages=stages)
        if field.type == T.STRING:
            lines.append(f"    v{k} = row[{index}].strip() or {blank}")
        elif field.type in (T.BOOL, T.DATE, T.STAGE):
            memo: dict = {}
            namespace[f"m{k}"] = memo
            namespace[f"c{k}"] = _memoized(convert, memo)
            lines.append(f"    t = row[{index}]")
            lines.append(f"    v{k} = m{k}.get(t)")
            lines.append(f"    if v{k} is None:")
            lines.append(f"        v{k} = c{k}(t) if t and not t.isspace() else {blank}")
        else:
            namespace[f"c{k}"] = convert
            lines.append(f"    t = row[{index}]")
            lines.append(f"    v{k} = c{k}(t) if t and not t.isspace() else {blank}")
        items.append(f"{name!r}: v{k}")
    for j, name in enumerate(absent):
        namespace[f"a{j}"] = defaults.get(name)
        items.append(f"{name!r}: a{j}")
    lines.append("    return {" + ", ".join(items) + "}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<dealgate row reader>", "exec"), namespace)  # noqa: S102 - indices and repr'd names only
    return namespace["convert"], source


def _raiser(problem: ValueProblem) -> Callable[[], Any]:
    def blank():
        raise problem
    return blank


def _memoized(convert: Callable[[str], Any], memo: dict, limit: int = 65_536) -> Callable[[str], Any]:
    """``convert`` remembering its results in ``memo`` (bounded); failures are not remembered."""
    def remembered(text: str):
        value = convert(text)
        if len(memo) >= limit:
            memo.clear()
        memo[text] = value
        return value
    return remembered


@attrs.define
class StreamCounts:
    """Records in = deals + rejected, across every export of a stream."""

    read: int = 0
    deals: int = 0
    rejected: int = 0


@attrs.define
class ExportStream:
    """Several exports read as one stream of deal records, in order.

    Rejects are counted and handed to ``on_reject(source, reject)`` as they are met (a
    bad export may have millions: nothing holds them); warnings and fields without a
    column are kept per source. Scoring, payouts and diffs all read through this.
    """

    analysis: object
    sources: list
    on_reject: object = None
    fmt: str | None = None
    delimiter: str | None = None
    strict: bool = False
    counts: StreamCounts = attrs.field(factory=StreamCounts)
    warnings: list = attrs.field(factory=list)  # (source name, ReadWarning)
    missing_fields: dict = attrs.field(factory=dict)  # source name -> declared fields with no column

    def records(self) -> Iterator[tuple[int, str, int, dict]]:
        """(source position, source name, line, deal) for every record that could be read."""
        counts, on_reject = self.counts, self.on_reject
        for position, source in enumerate(self.sources):
            reader = ExportReader(self.analysis, source, fmt=self.fmt, delimiter=self.delimiter, strict=self.strict)
            name = reader.source_name
            try:
                for line, record in reader.records():
                    counts.read += 1
                    if type(record) is Reject:
                        counts.rejected += 1
                        if on_reject is not None:
                            on_reject(name, record)
                        continue
                    counts.deals += 1
                    yield position, name, line, record
            finally:
                reader.close()
                self.warnings.extend((name, w) for w in reader.warnings)
                self.missing_fields[name] = list(reader.missing_fields)


class RejectWriter:
    """Writes rejects as CSV as they are met: a bad export may have millions of them.

    Columns are REJECT_COLUMNS, with the export's name first (``with_source``) when a run
    reads several exports. Cells a spreadsheet would run as a formula are neutralised.
    """

    def __init__(self, handle: IO, with_source: bool = False):
        self.writer = csv.writer(handle, lineterminator="\n")
        self.with_source = with_source
        self.count = 0
        self.writer.writerow((("file",) if with_source else ()) + REJECT_COLUMNS)

    def __call__(self, source: str | None, reject: Reject) -> None:
        row = [reject.line, safe_cell(reject.id), safe_cell(reject.column), safe_cell(reject.value),
               safe_cell(reject.reason)]
        self.writer.writerow(([safe_cell(source)] if self.with_source else []) + row)
        self.count += 1


def write_rejects(rejects: Iterable[Reject], destination: str | os.PathLike | IO) -> int:
    """Write rejects as CSV (line, id, column, value, reason); return how many.

    ``destination`` is a path (written atomically) or an open text stream.
    """
    if isinstance(destination, (str, os.PathLike)):
        with atomic_write(destination, newline="") as handle:
            return write_rejects(rejects, handle)
    writer = RejectWriter(destination)
    for reject in rejects:
        writer(None, reject)
    return writer.count
