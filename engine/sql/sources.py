"""Exports the SQL engines read themselves: what kind a path is, and a Parquet file's header.

A Parquet export has no header row, only column names; they are matched to the
pack's fields by the Python reader itself (given as a one-line CSV), so that
aliases, duplicates, warnings and a missing required column behave exactly as
for a CSV export. Its rows have no lines either: a row's ``line`` is its
1-based position in the file.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..output import csv_writer
from ..read import ExportReader


class ParquetHeader:
    """Stands in for ``ExportReader`` where the SQL engines use it: header, plan, warnings, missing fields."""

    header_line = 0
    delimiter = ","

    def __init__(self, analysis, path: str, columns: list[str]):
        text = io.StringIO()
        csv_writer(text).writerow(columns)
        text.seek(0)
        text.name = path
        with ExportReader(analysis, text, fmt="csv") as reader:
            self.source_name = path
            self.header = reader.header
            self.column_plan = reader.column_plan
            self.warnings = reader.warnings
            self.missing_fields = reader.missing_fields
        self.readable = len(self.header or ()) == len(columns)  # a name with a line break would split in CSV


def is_parquet(path: str) -> bool:
    """A ``.parquet`` file, or a directory of them (as Spark and most tools write one)."""
    candidate = Path(path)
    return candidate.suffix.lower() == ".parquet" or (candidate.is_dir() and any(candidate.glob("*.parquet")))
