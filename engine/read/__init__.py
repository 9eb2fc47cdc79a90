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

from .errors import ID_FIELD, ExportError, ReadCounts, ReadWarning, Reject, RejectedRow
from .json import JSON_CHUNK, MAX_RECORD_CHARS, RecordsPath
from .reader import EXTENSIONS, FORMAT_NAMES, FORMATS, MAX_ROW_WARNINGS, STDIN, TEXT_CHUNK, ExportReader
from .rejects import REJECT_COLUMNS, RejectWriter, write_rejects
from .stream import ExportStream, StreamCounts

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "FORMAT_NAMES",
    "ID_FIELD",
    "JSON_CHUNK",
    "MAX_RECORD_CHARS",
    "MAX_ROW_WARNINGS",
    "REJECT_COLUMNS",
    "STDIN",
    "TEXT_CHUNK",
    "ExportError",
    "ExportReader",
    "ExportStream",
    "ReadCounts",
    "ReadWarning",
    "Reject",
    "RejectWriter",
    "RecordsPath",
    "RejectedRow",
    "StreamCounts",
    "write_rejects",
]
