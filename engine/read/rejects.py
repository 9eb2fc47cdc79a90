"""Rejected records written as CSV, for people to find and fix them."""

from __future__ import annotations

import csv
import os
from typing import IO, Iterable

from ..output import atomic_write, safe_cell
from .errors import Reject

REJECT_COLUMNS = ("line", "id", "column", "value", "reason")


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
