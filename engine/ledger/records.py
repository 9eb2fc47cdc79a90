"""What the ledger holds, as values: booked lines, adjustments, statements, fingerprints.

Amounts are Decimal; exact quantities (credit, rate, factor) stay the text the
statement gave them, since the ledger only shows them and hashes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import attrs

from ..diagnostics import Diagnostic
from ..money import money_text

OPEN, CLOSED, PAID = "open", "closed", "paid"
LOCKED = frozenset({CLOSED, PAID})
ZERO = Decimal(0)


@attrs.frozen
class Fingerprint:
    """What produced a statement: content hashes of the rule pack, the reps file and the export."""

    rules_hash: str | None
    reps_hash: str | None
    export_hash: str | None

    def differences(self, now: Fingerprint) -> list[str]:
        """Why a statement computed with ``self`` may differ now: 'rule change', 'data change'.

        A statement the ledger made only to carry adjustments has no inputs: it was closed before
        any run computed it.
        """
        if self.rules_hash is None:
            return ["first computed after it was closed"]
        found = []
        if (self.rules_hash, self.reps_hash) != (now.rules_hash, now.reps_hash):
            found.append("rule change")
        if self.export_hash != now.export_hash:
            found.append("data change")
        return found


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, read in blocks (an export may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack_hash(rules: str | Path) -> str:
    """sha256 over a rule pack's YAML files: their paths (relative to the pack) and bytes, in path order.

    Paths count, not only contents: moving a plan into another pack directory is a new rules version.
    """
    root = Path(rules)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
    digest = hashlib.sha256()
    for path in files:
        name = path.name if root.is_file() else path.relative_to(root).as_posix()
        digest.update(name.encode("utf-8") + b"\0" + file_hash(path).encode("ascii") + b"\0")
    return digest.hexdigest()


def fingerprint(rules: str | Path, reps: str | Path, export: str | Path, fx: str | Path | None = None) -> Fingerprint:
    """The hashes a run is booked with. An FX table is data, like the export: its hash joins the export's."""
    data = file_hash(export)
    if fx is not None:
        data = hashlib.sha256(f"{data}\n{file_hash(fx)}".encode()).hexdigest()
    return Fingerprint(pack_hash(rules), file_hash(reps), data)


class BookedLine(NamedTuple):
    """A statement line as the ledger keeps it. A tuple, like the statement's Line: runs book many."""

    kind: str
    amount: Decimal
    rule: str
    deal: str | None = None
    credit: str | None = None
    rate: str | None = None
    tier: str | None = None
    factor: str | None = None
    note: str = ""

    @property
    def key(self) -> tuple:
        """Lines are compared per kind, rule and deal: a deal's slices in two tiers are one difference."""
        return (self.kind, self.rule, self.deal)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "amount": money_text(self.amount),
            "rule": self.rule,
            "deal": self.deal,
            "credit": self.credit,
            "rate": self.rate,
            "tier": self.tier,
            "factor": self.factor,
            "note": self.note,
        }


@attrs.frozen
class Adjustment:
    """A difference found by re-running a locked statement, paid in a later open one."""

    kind: str  # the kind of the lines it corrects (commission, clawback, ...)
    rule: str
    deal: str | None
    amount: Decimal
    reason: str  # late cancellation, rule change, data change (joined with ' and ')
    source_period: str  # the locked period it corrects
    note: str = ""
    period: str | None = None  # the period that pays it

    @property
    def key(self) -> tuple:
        return (self.kind, self.rule, self.deal)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rule": self.rule,
            "deal": self.deal,
            "amount": money_text(self.amount),
            "reason": self.reason,
            "source_period": self.source_period,
            "period": self.period,
            "note": self.note,
        }


@attrs.frozen
class BookedStatement:
    """One rep's statement for one plan period, as the ledger holds it, with the adjustments it pays."""

    id: int
    rep: str
    plan: str
    period: str
    start: dt.date
    end: dt.date  # exclusive
    fiscal_year_start: int
    name: str | None
    currency: str
    rounding: str
    state: str
    total: Decimal
    draw_balance: Decimal | None
    fingerprint: Fingerprint
    content_hash: str | None
    lines: tuple = ()  # BookedLine
    adjustments: tuple = ()  # Adjustment paid by this statement

    @property
    def payable(self) -> Decimal:
        """The statement's total plus the adjustments it pays: what payroll owes the rep for it."""
        return self.total + sum((a.amount for a in self.adjustments), ZERO)

    def content(self) -> dict:
        """What the content hash covers: everything that must not change once the statement is locked."""
        return {
            "rep": self.rep,
            "plan": self.plan,
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "name": self.name,
            "currency": self.currency,
            "rounding": self.rounding,
            "total": money_text(self.total),
            "draw_balance": money_text(self.draw_balance),
            "rules_hash": self.fingerprint.rules_hash,
            "reps_hash": self.fingerprint.reps_hash,
            "export_hash": self.fingerprint.export_hash,
            "lines": [line.as_dict() for line in self.lines],
            "adjustments": [a.as_dict() for a in self.adjustments],
        }

    def computed_hash(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen
class Outcome:
    """What a ledger operation did (``value``), or why it could not (error diagnostics)."""

    value: object = None
    diagnostics: tuple = ()

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class LedgerProblem(Exception):
    """Raised inside the ledger package and turned into an Outcome at its API: never seen by callers."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic
