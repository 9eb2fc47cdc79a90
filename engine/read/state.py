"""What the record readers (CSV, JSON) share with the ExportReader that mixes them in.

The readers of each format are mixins of ``ExportReader``: they read the state it sets up (the
fields to read, how to read each cell, the counts) and report through its methods. Declared here,
once, so that each mixin says what it relies on and a type checker can hold both sides to it.
"""

from __future__ import annotations

import csv
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ExportError, ReadCounts, Reject
    from .json import RecordsPath


class ReaderState:
    source_name: str
    format: str
    delimiter: str
    strict: bool
    header: list[str] | None
    columns: dict[str, str]  # field name -> column (header or JSON key) it is read from
    stages: dict  # lower-cased stage label or id -> stage id
    defaults: dict  # field name -> typed default
    counts: ReadCounts
    missing_fields: list[str]
    records_path: RecordsPath | None
    _readable: dict  # field name -> its engine.model.Field, for the stored (not computed) fields
    _lookup: Any  # column lookup (ExportReader._column_lookup)
    _template: dict  # a record with every readable field at its default
    _cells: dict  # field name -> the function that reads its cell
    _plans: dict  # JSON: the key set of a record -> how to read it
    _memos: dict  # JSON: field name -> (memo of its texts, converter remembering in it)
    _text: IO[str]

    def _warn(self, line: int, message: str) -> None:
        raise NotImplementedError

    def _check_id(self, line: int, value) -> None:
        raise NotImplementedError

    def _reject(self, line: int, deal_id, column, value, reason: str) -> Reject:
        raise NotImplementedError

    def _unreadable(self, exc: Exception) -> ExportError:
        raise NotImplementedError

    def _csv_error(self, exc: csv.Error, line: int | None) -> ExportError:
        raise NotImplementedError
