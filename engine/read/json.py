"""JSON exports: a top-level array streamed one element at a time, and JSONL (one object per line).

CRM APIs wrap their records: HubSpot's CRM API answers ``{"results": [{"id": …, "properties": {…}}],
"paging": …}`` and Salesforce's REST query ``{"totalSize": …, "records": [{"attributes": …, "Id": …}]}``.
Such a file is read as it is: the array under ``results``, ``records``, ``data`` or ``items`` holds the
records (streamed like a top-level array), and a record's ``properties`` object is read as if its keys
were the record's own (``id`` and the other top-level keys are kept beside them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from ..values import ValueProblem
from .errors import ID_FIELD, ExportError, Reject

MAX_RECORD_CHARS = 16 * 1024 * 1024
JSON_CHUNK = 1 << 16
# Whole numbers longer than this are read as Decimal, not int: int() refuses more than 4300
# digits, which stopped a whole JSON array; as a Decimal the value is rejected with its field.
MAX_INT_DIGITS = 100
# The members of a top-level object that hold an API's records, in the order they are looked for.
RECORDS_KEYS = ("results", "records", "data", "items")


class _RecordWithDuplicates(dict):
    """A JSON object that repeats a key: json keeps the last value silently; the reader rejects it."""

    duplicate: str = ""


def _object_pairs(pairs: list) -> dict:
    record = dict(pairs)
    if len(record) == len(pairs):
        return record
    seen = set()
    duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
    record = _RecordWithDuplicates(pairs[:0])
    for key, value in pairs:
        record.setdefault(key, value)  # the first value, as a duplicated CSV header keeps the first column
    record.duplicate = duplicate
    return record


def _flattened(record):
    """A HubSpot-shaped record (``{"id": …, "properties": {…}}``) as one flat object: the properties'
    keys, then the record's other keys that the properties do not have. A key repeated in either
    still rejects the record."""
    if not isinstance(record, dict) or not isinstance(record.get("properties"), dict):
        return record
    properties = record["properties"]
    flat = dict(properties)
    for key, value in record.items():
        # HubSpot repeats the record's id as the property hs_object_id: one is enough
        if key != "properties" and key not in flat and not (key == "id" and "hs_object_id" in flat):
            flat[key] = value
    duplicate = getattr(properties, "duplicate", "") or getattr(record, "duplicate", "")
    if duplicate:
        flat = _RecordWithDuplicates(flat)
        flat.duplicate = duplicate
    return flat


def _bounded_int(text: str):
    return int(text) if len(text) <= MAX_INT_DIGITS else Decimal(text)


def json_decoder() -> json.JSONDecoder:
    """Exact numbers, no NaN/Infinity, no unbounded ints, duplicate keys marked (not silently merged)."""
    return json.JSONDecoder(
        parse_float=Decimal, parse_int=_bounded_int, parse_constant=_no_constant, object_pairs_hook=_object_pairs
    )


class JsonRecords:
    """ExportReader's JSON and JSONL part: each object read through a plan made per set of keys.

    A mixin: its methods work on the reader's state (the text stream, field lookup, cell converters,
    counts) and report through the reader's ``_warn``, ``_check_id`` and ``_reject``.
    """

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
                self._warn(
                    line,
                    f"keys '{taken[field.name]}' and '{key}' both map to field '{field.name}'; "
                    f"using '{taken[field.name]}'",
                )
                continue
            taken[field.name] = key
            plan.append((key, field.name, self._cells[field.name]))
            if field.name not in self.columns:
                self.columns[field.name] = key
                self.missing_fields.remove(field.name)
        missing = tuple(
            f.name
            for f in self._readable.values()
            if f.name not in taken and f.required and self.defaults.get(f.name) is None
        )
        return tuple(plan), missing

    def _object(self, line: int, record) -> dict | Reject:
        counts = self.counts
        counts.records += 1
        record = _flattened(record)
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
        if isinstance(record, _RecordWithDuplicates):
            key = record.duplicate
            return self._reject(
                line,
                self._json_id(record, cells),
                key,
                _as_text(record[key]),
                f"key '{key}' appears twice in the record; which value is meant is unknown",
            )
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
            return self._reject(
                line,
                deal_id if isinstance(deal_id, str) else None,
                None,
                None,
                f"missing required field '{missing[0]}'",
            )
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
        loads = json_decoder().decode
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
        array = JsonArray(self._text, self.source_name)
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


class JsonArray:
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
        self.decode = json_decoder().raw_decode

    def refill(self, at_least: int = JSON_CHUNK) -> None:
        dropped = self.buffer[: self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self.lines_before += newlines
            self.column_before = len(dropped) - dropped.rfind("\n") - 1
        else:
            self.column_before += len(dropped)
        chunk = self.text.read(at_least)
        self.buffer = self.buffer[self.pos :] + chunk
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
        if first == "{":
            yield from self._wrapped()
            return
        if first != "[":
            raise self.error(
                f"expected a JSON array of deal objects, found '{first}' (for one object per line use the jsonl format)"
            )
        yield from self._elements()
        if self.peek() != "":
            raise self.error("unexpected text after the array")

    def _wrapped(self) -> Iterator[tuple[int, Any]]:
        """An API answer: a top-level object whose ``results`` (or ``records``, ``data``, ``items``) member is
        the array of records, streamed; the other members are read and left aside."""
        start_line = self.lines_before + self.buffer.count("\n", 0, self.pos) + 1
        self.pos += 1
        seen, found = [], False
        while True:
            char = self.peek()
            if char == "}":
                self.pos += 1
                break
            if seen:
                if char != ",":
                    raise self.error("expected ',' or '}' after a member" if char else "the object is not closed")
                self.pos += 1
                char = self.peek()
            if char != '"':
                raise self.error("expected a member name" if char else "the object is not closed")
            key = self.element()
            if self.peek() != ":":
                raise self.error("expected ':' after a member name")
            self.pos += 1
            seen.append(key)
            value_start = self.peek()
            if value_start == "":
                raise self.error("expected a value")
            if key in RECORDS_KEYS and not found and value_start == "[":
                found = True
                yield from self._elements()
            else:
                self.element()
        if self.peek() != "":
            raise self.error("unexpected text after the object")
        if not found:
            listed = ", ".join(f"'{k}'" for k in seen[:8]) or "none"
            raise ExportError(
                f"expected a JSON array of deal objects, found an object (keys: {listed}); an API "
                f"answer's records are read from an array under {', '.join(RECORDS_KEYS)}",
                source=self.source,
                line=start_line,
            )

    def _elements(self) -> Iterator[tuple[int, Any]]:
        """The elements of the array that starts at the current position, then past its ']'."""
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
