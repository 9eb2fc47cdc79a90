"""The ledger: pay runs people can trust over time (docs/payouts.md, "The ledger").

Statements of open periods are written and refreshed by each payout run; a
closed period is locked (its content hash stored) and never rewritten: what a
re-run would change becomes adjustment lines in the next open period.

- ``open_ledger(path)`` -> Outcome(Ledger), created and migrated on first use
- ``Ledger.record(statements, requested, fingerprint, plans)``, ``close(period)``,
  ``pay(period, payroll)``, ``verify()``, ``statements(rep, period)``, ``balances(...)``
- ``fingerprint(rules, reps, export)``: the rules version and export hashes a statement is booked with
"""

from .adjustments import adjustments_for, differences
from .payroll import read_payroll
from .records import CLOSED, OPEN, PAID, Adjustment, BookedLine, BookedStatement, Fingerprint, Outcome, fingerprint
from .store import DEFAULT_TIMEOUT, Balance, Drift, Ledger, PayRow, RecordReport, booked_line, open_ledger

__all__ = [
    "CLOSED",
    "DEFAULT_TIMEOUT",
    "OPEN",
    "PAID",
    "Adjustment",
    "Balance",
    "BookedLine",
    "BookedStatement",
    "Drift",
    "Fingerprint",
    "Ledger",
    "Outcome",
    "PayRow",
    "RecordReport",
    "adjustments_for",
    "booked_line",
    "differences",
    "fingerprint",
    "open_ledger",
    "read_payroll",
]
