"""The payroll file: what payroll actually paid each rep for a period, to compare with the ledger.

CSV with a header: a rep column (``rep``, ``rep_id``, ``id``) and an amount
column (``amount``, ``paid``, ``net``). Amounts are read like export amounts
(``$1,234.50``, ``(20.00)``). Problems are diagnostics (DG807) with file:line.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from ..diagnostics import Location, error
from ..values import ValueProblem, parse_money

REP_COLUMNS = ("rep", "rep_id", "rep id", "id")
AMOUNT_COLUMNS = ("amount", "paid", "net", "net pay")


def read_payroll(path: str | Path) -> tuple[dict, list]:
    """(rep -> amount paid, diagnostics). A rep listed twice is paid the sum of its rows."""
    where = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as problem:
        return {}, [error("DG807", f"cannot read the payroll file: {problem}", Location(where))]
    if not rows:
        return {}, [error("DG807", "the payroll file is empty", Location(where))]
    header = [cell.strip().lower() for cell in rows[0]]
    rep_at = next((header.index(c) for c in REP_COLUMNS if c in header), None)
    amount_at = next((header.index(c) for c in AMOUNT_COLUMNS if c in header), None)
    if rep_at is None or amount_at is None:
        return {}, [
            error(
                "DG807",
                "the payroll file needs a rep column and an amount column",
                Location(where, 1, 1),
                f"columns: {', '.join(REP_COLUMNS[:1] + AMOUNT_COLUMNS[:1])}",
            )
        ]
    paid: dict = {}
    problems = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        rep = row[rep_at].strip() if rep_at < len(row) else ""
        text = row[amount_at] if amount_at < len(row) else ""
        try:
            amount = parse_money(text)
        except ValueProblem as problem:
            problems.append(error("DG807", f"payroll amount: {problem}", Location(where, number, amount_at + 1)))
            continue
        if not rep:
            problems.append(error("DG807", "a payroll row without a rep", Location(where, number, rep_at + 1)))
            continue
        paid[rep] = paid.get(rep, Decimal(0)) + amount
    return paid, problems
