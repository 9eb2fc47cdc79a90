"""Exchange rates: a dated FX table, for plans that pay deals in several currencies in one.

The table is CSV with a header: ``date,from,to,rate``; one row says that on ``date`` one
unit of ``from`` was worth ``rate`` units of ``to`` (``2026-07-01,EUR,USD,1.0850``). The
rate for a day is the one of the latest row on or before it, so a monthly or a daily table
both work. Rates stay exact (Decimal); a pair is never inverted (1 / rate is not exact):
the table gives each direction a plan needs.

Every problem is a Diagnostic with file:line:column; reading never raises for bad content.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from bisect import bisect_right
from decimal import Decimal
from pathlib import Path

import attrs

from ..diagnostics import Diagnostic, Location, did_you_mean, error
from ..values import ValueProblem, is_blank, parse_date, parse_decimal

COLUMNS = ("date", "from", "to", "rate")
ALIASES = {"date": "date", "day": "date", "from": "from", "base": "from", "to": "to", "quote": "to", "rate": "rate"}


@attrs.frozen
class FxTable:
    """Rates by currency pair, each a date-sorted list: ``rate(from, to, day)`` finds the one in force."""

    rates: dict  # (from, to) -> ([dates], [rates]) sorted by date
    source: str = "<fx>"

    def rate(self, base: str, quote: str, day: dt.date) -> tuple[Decimal, dt.date] | None:
        """(rate, the row's date) in force on ``day``: the latest row on or before it; None without one."""
        found = self.rates.get((base, quote))
        if found is None:
            return None
        dates, rates = found
        index = bisect_right(dates, day)
        return (rates[index - 1], dates[index - 1]) if index else None


@attrs.frozen
class FxResult:
    table: FxTable
    diagnostics: list

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def read_fx(path: Path | str, date_formats: tuple = ()) -> FxResult:
    """Read an FX table file."""
    shown = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return FxResult(
            FxTable({}, shown), [error("DG620", f"cannot read FX table: {exc.strerror or exc}", Location(shown))]
        )
    except UnicodeDecodeError:
        return FxResult(FxTable({}, shown), [error("DG620", "FX table is not valid UTF-8 text", Location(shown))])
    return parse_fx(text, shown, date_formats)


def parse_fx(text: str, file: str, date_formats: tuple = ()) -> FxResult:
    diagnostics: list[Diagnostic] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return FxResult(
            FxTable({}, file), [error("DG620", "FX table is empty", Location(file, 1, 1), "date,from,to,rate")]
        )
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = ALIASES.get(name.strip().lower())
        if key is None:
            diagnostics.append(
                error(
                    "DG620",
                    f"unknown column '{name.strip()}' in the FX table",
                    Location(file, 1, _column(header, index)),
                    did_you_mean(name.strip(), list(COLUMNS)) or "the columns are date,from,to,rate",
                )
            )
        elif key not in columns:
            columns[key] = index
    missing = [key for key in COLUMNS if key not in columns]
    if missing:
        diagnostics.append(
            error("DG620", f"the FX table has no '{missing[0]}' column", Location(file, 1, 1), "date,from,to,rate")
        )
        return FxResult(FxTable({}, file), diagnostics)
    found: dict = {}  # (from, to, date) -> (rate, line)
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            values = {key: (row[index].strip() if index < len(row) else "") for key, index in columns.items()}
            entry = _row(values, row, columns, file, line, date_formats, diagnostics)
            if entry is None:
                continue
            key, rate = entry
            if key in found and found[key][0] != rate:
                base, quote, day = key
                diagnostics.append(
                    error(
                        "DG620",
                        f"{base}->{quote} on {day} is {found[key][0]} on line {found[key][1]} and {rate} here",
                        Location(file, line, 1),
                        "one rate per pair and date",
                    )
                )
                continue
            found[key] = (rate, line)
    except csv.Error as exc:
        diagnostics.append(error("DG620", f"FX table is not valid CSV: {exc}", Location(file, reader.line_num, 1)))
    rates: dict = {}
    for (base, quote, day), (rate, _) in sorted(found.items()):
        dates, values = rates.setdefault((base, quote), ([], []))
        dates.append(day)
        values.append(rate)
    return FxResult(FxTable(rates, file), diagnostics)


def _row(values: dict, row: list, columns: dict, file: str, line: int, date_formats: tuple, diagnostics: list):
    def fail(key: str, message: str, hint: str | None = None) -> None:
        diagnostics.append(error("DG620", message, Location(file, line, _column(row, columns[key])), hint))

    if is_blank(values["date"]):
        fail("date", "blank date in the FX table")
        return None
    try:
        day = parse_date(values["date"], date_formats)
    except ValueProblem as problem:
        fail("date", f"FX table date: {problem}")
        return None
    codes = []
    for key in ("from", "to"):
        code = values[key].upper()
        if len(code) != 3 or not code.isalpha():
            fail(key, f"'{values[key]}' is not a currency code", "use ISO 4217 codes such as EUR, USD, GBP")
            return None
        codes.append(code)
    try:
        rate = parse_decimal(values["rate"])
    except ValueProblem as problem:
        fail("rate", f"FX rate: {problem}")
        return None
    if rate <= 0:
        fail("rate", f"FX rate must be more than 0, not {rate}")
        return None
    return (codes[0], codes[1], day), rate


def _column(cells: list, index: int) -> int:
    """1-based column of cell ``index`` (exact when no cell is quoted)."""
    return 1 + sum(len(cell) + 1 for cell in cells[:index])
