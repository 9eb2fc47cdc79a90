"""Diagnostics: every problem found in user input, as a value.

The library never prints and never raises for a problem the user can fix.
Each stage returns diagnostics; the CLI decides how to render them. Codes are
stable (documented in docs/diagnostics.md) so CI scripts can match on them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import attrs

ERROR = "error"
WARNING = "warning"


@attrs.frozen(order=False)
class Location:
    """Where a node came from: 1-based line and column in a file."""

    file: str
    line: int = 0
    column: int = 0
    # One past the last column of the offending token on the same line (0: unknown), so that the
    # caret can span the token. Not part of equality: the same problem at the same place is one.
    end_column: int = attrs.field(default=0, eq=False)

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class Diagnostic:
    """One problem, with where it is and, when we can guess, how to fix it."""

    code: str
    severity: str
    message: str
    location: Location | None = None
    hint: str | None = None

    @property
    def file(self) -> str | None:
        return self.location.file if self.location else None

    @property
    def line(self) -> int:
        return self.location.line if self.location else 0

    @property
    def column(self) -> int:
        return self.location.column if self.location else 0

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self) -> tuple:
        return (self.file or "", self.line, self.column, self.code, self.message, self.severity, self.hint or "")

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


def error(code: str, message: str, location: Location | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, ERROR, message, location, hint)


def warning(code: str, message: str, location: Location | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, WARNING, message, location, hint)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file and position, duplicates dropped (two checks may see one fault)."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def did_you_mean(word: str, candidates: Sequence[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    lowered = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if matches:
        return f"did you mean '{lowered[matches[0]]}'?"
    return None


class DiagnosticError(Exception):
    """Raised only at stage boundaries when a stage cannot go on (e.g. compile of an invalid pack)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.location}: {first.message}" if first else "invalid input")
