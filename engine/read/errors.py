"""What reading an export can report: the export unreadable (ExportError), a record unreadable
(Reject, or RejectedRow in strict mode), a warning, and the counts that reconcile records with
deals and rejects."""

from __future__ import annotations

import attrs

from ..values import ValueProblem

ID_FIELD = "id"  # the field that names a record in rejects and warnings


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


class RequiredMissing(ValueProblem):
    """A required field is blank (raised by the converters of CSV rows and JSON values)."""
