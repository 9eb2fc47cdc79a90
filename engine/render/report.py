"""Small report tables: Markdown for a pull request or a wiki page, CSV for a spreadsheet.

Shared by the forecast, movement and calibration renderers, which make their rows; the deal and
payout renderers, which stream millions of rows, have writers of their own.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from ..output import csv_writer, safe_cell


def md_cell(text: str | None) -> str:
    """A table cell: pipes escaped, line breaks flattened (either would end the cell or the row)."""
    return (text or "").replace("|", "\\|").replace("\n", " ")


def md_table(headers: list, rows: list, right: set) -> list[str]:
    """The lines of a table; columns at the positions in ``right`` (numbers) are right-aligned."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|",
    ]
    return lines + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]


def csv_text(columns: tuple, records: Iterable[dict]) -> str:
    """CSV of ``records`` (dicts with at least ``columns``): a header row, then one spreadsheet-safe row each;
    lists are joined with ';' and booleans written true/false, as the deal CSV writes them."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow([safe_cell(_cell(record[c])) for c in columns])
    return out.getvalue()


def _cell(value):
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
