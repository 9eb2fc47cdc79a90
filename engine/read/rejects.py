"""Rejected records written as CSV, for people to find and fix them."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from typing import IO

from ..output import atomic_write, csv_writer, safe_cell
from .errors import Reject

REJECT_COLUMNS = ("line", "id", "column", "value", "reason")


class RejectWriter:
    """Writes rejects as CSV as they are met: a bad export may have millions of them.

    Columns are REJECT_COLUMNS, with the export's name first (``with_source``) when a run
    reads several exports. Cells a spreadsheet would run as a formula are neutralised.
    """

    def __init__(self, handle: IO, with_source: bool = False):
        self.writer = csv_writer(handle)
        self.with_source = with_source
        self.count = 0
        self.writer.writerow((("file",) if with_source else ()) + REJECT_COLUMNS)

    def __call__(self, source: str | None, reject: Reject) -> None:
        row = [
            reject.line,
            safe_cell(reject.id),
            safe_cell(reject.column),
            safe_cell(reject.value),
            safe_cell(reject.reason),
        ]
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


class UnknownStageLabels:
    """Counts the rows rejected for an unknown stage label, by label, to say at the end of a run which
    labels the pack lacks and what each probably meant ("Closd Won" -> "Closed Won").

    A CRM's stage picklist grows a new value and every deal in it is rejected: one line per label
    tells the author what to add to a stage's ``labels``, where a thousand reject lines would not.
    """

    PREFIX = "unknown stage label "

    def __init__(self, pack):
        self.counts: dict[str, int] = {}
        self.known: list[str] = []
        if pack.pipeline is not None:
            for stage in pack.pipeline.stages:
                self.known += [stage.id, *(label.label for label in stage.labels)]
        if pack.fields is not None:
            self.known += [label.label for label in pack.fields.stage_labels]

    def add(self, reject: Reject) -> None:
        if reject.reason.startswith(self.PREFIX) and reject.value is not None:
            label = reject.value.strip()
            self.counts[label] = self.counts.get(label, 0) + 1

    def summary(self) -> str | None:
        """One line: each unknown label with its row count and nearest known label, most rows first."""
        if not self.counts:
            return None
        by_lower = {name.lower(): name for name in self.known}
        parts = []
        for label, count in sorted(self.counts.items(), key=lambda item: (-item[1], item[0])):
            close = difflib.get_close_matches(label.lower(), list(by_lower), n=1, cutoff=0.75)
            hint = f"; did you mean '{by_lower[close[0]]}'?" if close else ""
            parts.append(f"'{label}' ({count} row{'s' * (count != 1)}{hint})")
        return (
            "unknown stage labels: "
            + ", ".join(parts)
            + "; add each to the labels of its stage in the pipeline, or correct the export"
        )
