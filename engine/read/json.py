"""JSON exports: a top-level array streamed one element at a time, and JSONL (one object per line).

CRM APIs wrap their records: HubSpot's CRM API answers ``{"results": [{"id": …, "properties": {…}}],
"paging": …}`` and Salesforce's REST query ``{"totalSize": …, "records": [{"attributes": …, "Id": …}]}``.
Such a file is read as it is: the array under ``results``, ``records``, ``data`` or ``items`` holds the
records (streamed like a top-level array), and a record's ``properties`` object is read as if its keys
were the record's own (``id`` and the other top-level keys are kept beside them).

Any other shape is named, not guessed: a ``RecordsPath`` (``--records``) such as
``data.opportunities`` says where the list of records is, and ``results[].properties`` that each
record's fields are in its ``properties`` object. A named shape is read exactly: the path must lead
to a list, and a record without the object its fields are in is rejected.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import attrs

from .. import types as T
from ..values import ValueProblem
from . import cells
from .csv import memo_of_texts
from .errors import ID_FIELD, ExportError, Reject
from .state import ReaderState

MAX_RECORD_CHARS = 16 * 1024 * 1024
JSON_CHUNK = 1 << 16
# Whole numbers longer than this are read as Decimal, not int: int() refuses more than 4300
# digits, which stopped a whole JSON array; as a Decimal the value is rejected with its field.
MAX_INT_DIGITS = 100
# The members of a top-level object that hold an API's records, in the order they are looked for.
RECORDS_KEYS = ("results", "records", "data", "items")


@attrs.frozen
class RecordsPath:
    """Where a JSON export's records are: the keys down to the list (``array``; none: the document is
    the list), and the keys within each record down to the object holding its fields (``fields``;
    None: the record itself). Written ``data.deals``, ``results[].properties`` or ``[].fields``."""

    array: tuple = ()
    fields: tuple | None = None

    @classmethod
    def parse(cls, text: str) -> RecordsPath:
        """The path ``text`` names; ValueError saying how to write one."""
        head, brackets, tail = text.strip().partition("[]")
        if brackets and tail and not tail.startswith("."):
            raise ValueError(f"'{text}': after '[]' comes '.' and the key of each record's fields, e.g. [].properties")
        array = _keys(head, text) if head else ()
        fields = _keys(tail[1:], text) if tail else None
        if not array and not brackets:
            raise ValueError("no path: name the list of records, e.g. results, data.deals or results[].properties")
        return cls(array, fields)

    def __str__(self) -> str:
        if self.fields is None:
            return ".".join(self.array) or "[]"
        return ".".join(self.array) + "[]." + ".".join(self.fields)


def _keys(dotted: str, text: str) -> tuple:
    keys = tuple(dotted.split("."))
    if any(not key or "[" in key or "]" in key for key in keys):
        raise ValueError(f"'{text}' is not a path: keys joined by dots, e.g. data.deals or results[].properties")
    return keys


class _RecordWithDuplicates(dict):
    """A JSON object that repeats a key: json keeps the last value silently; the reader rejects it."""

    duplicate: str = ""


def _object_pairs(pairs: list) -> dict:
    record = dict(pairs)
    if len(record) == len(pairs):
        return record
    seen: set = set()
    duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
    record = _RecordWithDuplicates(pairs[:0])
    for key, value in pairs:
        record.setdefault(key, value)  # the first value, as a duplicated CSV header keeps the first column
    record.duplicate = duplicate
    return record


def _flattened(record, properties=None):
    """A HubSpot-shaped record (``{"id": …, "properties": {…}}``) as one flat object: the properties'
    keys, then the record's other keys that the properties do not have. A key repeated in either
    still rejects the record. ``properties``: the object the fields are in, when a RecordsPath
    names it (else the record's ``properties``, if it has that object)."""
    if properties is None:
        if not isinstance(record, dict) or not isinstance(record.get("properties"), dict):
            return record
        properties, under = record["properties"], "properties"
    else:
        properties, under = properties
    flat = dict(properties)
    for key, value in record.items():
        # HubSpot repeats the record's id as the property hs_object_id: one is enough
        if key != under and key not in flat and not (key == "id" and "hs_object_id" in flat):
            flat[key] = value
    duplicate = getattr(properties, "duplicate", "") or getattr(record, "duplicate", "")
    if duplicate:
        flat = _RecordWithDuplicates(flat)
        flat.duplicate = duplicate
    return flat


class _NoFields(str):
    """Why a record has no fields where a RecordsPath says they are (a reject reason)."""


def _fields_at(record, keys: tuple):
    """The record flattened from the object at ``keys`` within it, or _NoFields saying what is there instead."""
    if not isinstance(record, dict):
        return record  # rejected as not an object
    inner = record
    for depth, key in enumerate(keys):
        value = inner.get(key) if isinstance(inner, dict) else None
        if not isinstance(value, dict):
            where = ".".join(keys[: depth + 1])
            found = "nothing" if value is None and key not in inner else _json_kind(value)
            return _NoFields(f"the record's fields are to be in an object at '{where}' (--records); found {found}")
        inner = value
    return _flattened(record, (inner, keys[0]))


def _bounded_int(text: str):
    return int(text) if len(text) <= MAX_INT_DIGITS else Decimal(text)


def json_decoder() -> json.JSONDecoder:
    """Exact numbers, no NaN/Infinity, no unbounded ints, duplicate keys marked (not silently merged)."""
    return json.JSONDecoder(
        parse_float=Decimal, parse_int=_bounded_int, parse_constant=_no_constant, object_pairs_hook=_object_pairs
    )


class JsonRecords(ReaderState):
    """ExportReader's JSON and JSONL part: each object read through a plan made per set of keys.

    A mixin: its methods work on the reader's state (the text stream, field lookup, cell converters,
    counts) and report through the reader's ``_warn``, ``_check_id`` and ``_reject``.
    """

    def _object_plan(self, keys: tuple, line: int) -> tuple:
        """For one set of JSON keys: ((key, field name, converter), ...), the required fields absent, and
        the C loop reading those keys (engine.read.cells) or None."""
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
        return tuple(plan), missing, self._plan_in_c(plan)

    def _plan_in_c(self, plan: list) -> Any:
        """The C loop doing what ``_object``'s loop does for ``plan`` (engine.read.cells), or None.

        Each field's converter (``_cells``) is the loop's callable; a field that is neither text
        nor a list also gets a memo of the texts it has read (shared by every plan), as CSV
        columns have: JSON exports repeat their dates, stages and amounts as much as CSV ones.
        """
        if not cells.available():
            return None
        slots: list[cells.Slot] = []
        for key, name, cell in plan:
            field, default = self._readable[name], self.defaults.get(name)
            required = field.required and default is None
            if field.type == T.STRING:
                blank = functools.partial(cell, "") if required else None  # raises what cell raises
                slots.append((name, key, cells.STRIP, None, cell, default, blank))
            elif field.type == T.LIST:  # a list is mutable: each record gets its own
                slots.append((name, key, cells.CALL, None, cell, default, None))
            else:
                memo, miss = self._memo(name, cell, default, required)
                slots.append((name, key, cells.MEMO, memo, miss, default, None))
        return cells.converter(list(self._template.items()), slots, by_key=True, exact=False)

    def _memo(self, name: str, cell, default, required: bool) -> tuple[dict, Any]:
        """The memo of one field's texts, and the function converting what it lacks (remembering texts only)."""
        if name not in self._memos:
            self._memos[name] = memo_of_texts(cell, default, required)
        return self._memos[name]

    def _object(self, line: int, record) -> dict | Reject:
        counts = self.counts
        counts.records += 1
        fields = self.records_path.fields if self.records_path is not None else None
        record = _fields_at(record, fields) if fields else record if self.records_path else _flattened(record)
        if isinstance(record, _NoFields):
            return self._reject(line, None, None, None, str(record))
        if not isinstance(record, dict):
            kind = _json_kind(record)
            return self._reject(line, None, None, _as_text(record), f"record is not a JSON object (found {kind})")
        keys = tuple(record)
        plan = self._plans.get(keys)
        if plan is None:
            if len(self._plans) > 1024:
                self._plans.clear()
            plan = self._plans[keys] = self._object_plan(keys, line)
        converters, missing, in_c = plan
        if isinstance(record, _RecordWithDuplicates):
            key = record.duplicate
            return self._reject(
                line,
                self._json_id(record, converters),
                key,
                _as_text(record[key]),
                f"key '{key}' appears twice in the record; which value is meant is unknown",
            )
        try:
            if in_c is not None:
                deal = in_c(record)
            else:
                deal = self._template.copy()
                for key, name, cell in converters:
                    deal[name] = cell(record[key])
        except ValueProblem:
            return self._cell_reject(line, record, converters)
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

    def _cell_reject(self, line: int, record: dict, converters) -> Reject:
        """The reject of a record with a value its field cannot read: the first such, in the plan's order."""
        for key, _, cell in converters:
            try:
                cell(record[key])
            except ValueProblem as problem:  # converters are pure: the value that failed fails again
                return self._reject(line, self._json_id(record, converters), key, _as_text(record[key]), str(problem))
        raise AssertionError("a value failed to read, then read")

    def _json_id(self, record: dict, converters) -> str | None:
        for key, name, cell in converters:
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
        array = JsonArray(self._text, self.source_name, self.records_path)
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


def _described(value) -> str:
    """A JSON value in a few words, for messages: an object with its keys, or its kind."""
    if isinstance(value, dict):
        keys = ", ".join(f"'{k}'" for k in list(value)[:12])
        return f"an object (keys: {keys or 'none'})"
    return _json_kind(value)


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

    def __init__(self, text: IO, source: str, records: RecordsPath | None = None):
        self.text = text
        self.source = source
        self.records = records  # None: a top-level array, or the records under one of RECORDS_KEYS
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

    def line(self) -> int:
        """The line of the current position."""
        return self.lines_before + self.buffer.count("\n", 0, self.pos) + 1

    def misshapen(self, message: str, line: int | None = None) -> ExportError:
        """Well-formed JSON, but not of the shape a RecordsPath names: at ``line`` (default: here)."""
        return ExportError(message, source=self.source, line=self.line() if line is None else line)

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
        if self.records is not None and self.records.array:
            if first != "{":
                raise self.misshapen(f"--records '{self.records}' names a member of an object; the export is not one")
            yield from self._at_path(self.records.array, ())
            if self.peek() != "":
                raise self.error("unexpected text after the object")
            return
        if first == "{" and self.records is not None:
            raise self.misshapen(f"--records '{self.records}' says the export is a list of records; it is an object")
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
        start_line = self.line()
        seen, found = [], False
        for key, value_start in self._members():
            seen.append(key)
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
                f"answer's records are read from an array under {', '.join(RECORDS_KEYS)}; or name where "
                f"they are: --records KEY.KEY (see 'dealgate score --help')",
                source=self.source,
                line=start_line,
            )

    def _at_path(self, path: tuple, above: tuple) -> Iterator[tuple[int, Any]]:
        """The records of the list at ``path`` within the object at the current position (itself at
        ``above``), streamed; every other member is read and left aside. Then past its '}'."""
        start_line = self.line()
        seen, found = [], False
        for key, value_start in self._members():
            seen.append(key)
            if key != path[0] or found:
                self.element()
                continue
            found = True
            here = ".".join((*above, key))
            if len(path) == 1 and value_start == "[":
                yield from self._elements()
            elif len(path) > 1 and value_start == "{":
                yield from self._at_path(path[1:], (*above, key))
            else:
                wanted = "a list of records" if len(path) == 1 else "an object"
                line = self.line()
                raise self.misshapen(
                    f"--records '{self.records}': '{here}' is {_described(self.element())}, not {wanted}", line
                )
        if not found:
            inside = f"'{'.'.join(above)}'" if above else "the export's top-level object"
            listed = ", ".join(f"'{k}'" for k in seen[:12]) + (", …" if len(seen) > 12 else "") or "none"
            raise ExportError(
                f"--records '{self.records}': no '{path[0]}' in {inside} (its keys: {listed})",
                source=self.source,
                line=start_line,
            )

    def _members(self) -> Iterator[tuple[str, str]]:
        """(name, first character of the value) of each member of the object at the current position,
        with the position at the value; the caller reads the value. Then past the object's '}'."""
        self.pos += 1
        count = 0
        while True:
            char = self.peek()
            if char == "}":
                self.pos += 1
                return
            if count:
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
            value_start = self.peek()
            if value_start == "":
                raise self.error("expected a value")
            count += 1
            yield key, value_start

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
