"""The ledger on SQLite: statements of open periods refreshed, locked ones only ever compared.

One file, WAL mode (readers never wait for a writer), every write one
``BEGIN IMMEDIATE`` transaction: a second writer waits up to the busy timeout
and then fails with DG802, and a run killed mid-write leaves the file as the
last committed transaction left it. Nothing here prints or exits: every
operation returns an Outcome (the CLI renders its diagnostics).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
from decimal import Decimal
from pathlib import Path

import attrs

from ..diagnostics import Location, error, warning
from ..money import money_text, shown_money
from ..payout import periods as P
from ..payout.statement import CLAWBACK, DRAW, RECOVERY, Statement
from .adjustments import adjustments_for
from .records import (
    CLOSED,
    LOCKED,
    OPEN,
    PAID,
    ZERO,
    Adjustment,
    BookedLine,
    BookedStatement,
    Fingerprint,
    LedgerProblem,
    Outcome,
)
from .schema import APPLICATION_ID, MIGRATIONS, VERSION

DEFAULT_TIMEOUT = 10.0  # seconds a writer waits for another one before DG802
PAID_KINDS = frozenset({"commission", "cap", "bonus"})  # the lines that pay a deal (a clawback takes them back)


@attrs.frozen
class Drift:
    """A locked statement that recomputes differently, and where its adjustments are paid."""

    statement: BookedStatement
    adjustments: tuple  # Adjustment, with ``period`` set
    period: str  # the open period that pays them


@attrs.frozen
class RecordReport:
    written: tuple  # (rep, plan, period) of the open statements written or refreshed
    unchanged: tuple  # (rep, plan, period) of locked statements that recompute to what is booked
    drifts: tuple  # Drift
    not_recomputed: int = 0  # locked statements the run did not produce (another --rep; a rep no longer listed)


@attrs.frozen
class PayRow:
    rep: str
    expected: Decimal
    paid: Decimal

    @property
    def difference(self) -> Decimal:
        return self.paid - self.expected


@attrs.frozen
class Balance:
    """Where a rep stands according to the ledger."""

    rep: str
    payable: Decimal  # statements plus adjustments, every period in the ledger
    paid: Decimal  # what `dealgate pay` recorded
    draw_balance: Decimal | None  # recoverable draw outstanding (None: no recoverable draw)
    clawbacks_outstanding: Decimal  # clawbacks the periods' earnings did not cover and payroll has not recovered


def _outcome(method):
    """Ledger problems raised inside an operation become its Outcome's diagnostics (errors are values)."""

    @functools.wraps(method)
    def run(first, *args, **kwargs) -> Outcome:
        try:
            return method(first, *args, **kwargs)
        except LedgerProblem as problem:
            found = problem.diagnostic
            if found.location is None:  # every ledger problem is about the ledger file
                found = attrs.evolve(found, location=Location(str(getattr(first, "path", first))))
            return Outcome(None, (found,))

    return run


@_outcome
def open_ledger(path: str | Path, create: bool = True, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    """Outcome(Ledger): the ledger at ``path``, created (when ``create``) and migrated to this version."""
    path = Path(path)
    if not create and not path.is_file():
        raise LedgerProblem(
            error("DG801", f"no ledger at {path}", hint="write one with 'dealgate payout ... --ledger FILE' first")
        )
    try:
        db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    except sqlite3.Error as problem:
        raise LedgerProblem(error("DG801", f"cannot open the ledger {path}: {problem}")) from None
    ledger = Ledger(db, str(path))
    try:
        ledger.prepare()
    except sqlite3.DatabaseError as problem:
        db.close()
        raise LedgerProblem(error("DG801", f"{path} is not a dealgate ledger ({problem})")) from None
    except LedgerProblem:
        db.close()
        raise
    return Outcome(ledger)


class Ledger:
    def __init__(self, db: sqlite3.Connection, path: str):
        self.db = db
        self.path = path

    def close_connection(self) -> None:
        self.db.close()

    # opening

    def prepare(self) -> None:
        """WAL mode, foreign keys, and the schema migrated forward (one transaction for all migrations)."""
        if self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise LedgerProblem(
                error("DG801", f"the ledger {self.path} cannot use WAL mode (a read-only or network file system?)")
            )
        self.db.execute("PRAGMA foreign_keys=ON")
        if self._version() == VERSION:
            self._check_identity()
            return
        with self.transaction():
            version = self._version()  # again: another run may have migrated it while this one waited
            if version == 0 and self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise LedgerProblem(error("DG801", f"{self.path} is an SQLite database but not a dealgate ledger"))
            if version:
                self._check_identity()
            if version > VERSION:
                raise LedgerProblem(
                    error(
                        "DG801",
                        f"the ledger {self.path} has schema version {version}; this dealgate knows up to {VERSION}",
                        hint="upgrade dealgate",
                    )
                )
            for number in range(version, VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute(f"PRAGMA user_version = {VERSION}")

    def _version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _check_identity(self) -> None:
        if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise LedgerProblem(error("DG801", f"{self.path} is an SQLite database but not a dealgate ledger"))

    @contextlib.contextmanager
    def transaction(self, write: bool = True):
        """One transaction; a writer takes the write lock up front, so two runs never interleave."""
        try:
            self.db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as problem:
            if "locked" in str(problem) or "busy" in str(problem):
                raise LedgerProblem(
                    error(
                        "DG802",
                        f"the ledger {self.path} is busy: another dealgate run is writing it",
                        hint="wait for it to finish and run again",
                    )
                ) from None
            raise
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # reading

    def locked_periods(self) -> list[str]:
        """Labels of the periods holding a locked statement, in date order: a payout run recomputes them."""
        rows = self.db.execute(
            "SELECT DISTINCT period, period_start FROM statements WHERE state != 'open' ORDER BY period_start, period"
        ).fetchall()
        return [period for period, _ in rows]

    @_outcome
    def statements(self, rep: str | None = None, period: str | None = None) -> Outcome:
        """Outcome(the booked statements, lines and adjustments included, by rep, plan, then period)."""
        with self.transaction(write=False):
            rows = self._rows("1=1" if rep is None else "rep = ?", () if rep is None else (rep,))
            if period is not None:
                rows = self._in_span(rows, period)
            return Outcome([self._load(row) for row in rows])

    def balances(self, statements: list[BookedStatement]) -> list[Balance]:
        """Per rep, from its statements (all periods): payable, paid, draw balance, clawbacks outstanding."""
        paid: dict = {}
        for rep, amount in self.db.execute("SELECT rep, paid FROM payments ORDER BY id"):
            paid.setdefault(rep, []).append(Decimal(amount))
        result = []
        for rep in dict.fromkeys(s.rep for s in statements):
            own = [s for s in statements if s.rep == rep]
            payments = paid.get(rep, [])
            recovered = sum((-v for v in payments if v < 0), ZERO)
            owed = sum((-s.payable for s in own if s.payable < 0), ZERO)
            result.append(
                Balance(
                    rep,
                    sum((s.payable for s in own), ZERO),
                    sum(payments, ZERO),
                    _draw_balance(own),
                    max(owed - recovered, ZERO),
                )
            )
        return result

    # writing

    @_outcome
    def record(self, statements, requested: set, now: Fingerprint, plans: dict) -> Outcome:
        """Write the open statements of requested periods; compare locked ones and book their drift.

        ``requested``: (plan id, period start) of the periods asked for; ``plans``: plan id -> Plan
        (its period kind and fiscal year place the next open period).
        """
        written, unchanged, drifts, problems = [], [], [], []
        with self.transaction():
            for s in statements:
                row = self._row(s.rep, s.plan, s.period.label)
                lines = [booked_line(line) for line in s.lines]
                if row is None and lines and self._closed_for_plan(s.plan, s.period.label):
                    row = self._locked_empty(s, plans[s.plan])  # new in a closed period: all of it is drift
                if row is not None and row[_STATE] in LOCKED:
                    drift = self._settle(self._load(row), _checked(row), lines, now, plans[s.plan])
                    (drifts.append(drift) if drift else unchanged.append((s.rep, s.plan, s.period.label)))
                elif (s.plan, s.period.start) in requested:
                    statement_id = self._write_open(row, s, lines, now, plans[s.plan].fiscal_year_start)
                    problems.extend(self._clawback_checks(statement_id, s))
                    written.append((s.rep, s.plan, s.period.label))
            locked = self.db.execute("SELECT count(*) FROM statements WHERE state != 'open'").fetchone()[0]
        report = RecordReport(tuple(written), tuple(unchanged), tuple(drifts), locked - len(unchanged) - len(drifts))
        return Outcome(report, tuple(problems))

    @_outcome
    def close(self, period: str) -> Outcome:
        """Lock every open statement of ``period``, storing its content hash. Outcome(the statements closed)."""
        with self.transaction():
            rows = self._in_span(self._rows("1=1", ()), period)
            if not rows:
                raise LedgerProblem(
                    error(
                        "DG804",
                        f"the ledger has no statements for {period}",
                        hint="run 'dealgate payout ... --ledger' for it first",
                    )
                )
            opened = [row for row in rows if row[_STATE] == OPEN]
            if not opened:
                raise LedgerProblem(error("DG803", f"{period} is already closed in the ledger"))
            closed = []
            for row in opened:
                booked = self._load(row)
                digest = booked.computed_hash()
                self.db.execute(
                    "UPDATE statements SET state = ?, content_hash = ? WHERE id = ?", (CLOSED, digest, booked.id)
                )
                # the adjustments it pays are now locked: their sources are booked as of the inputs that made them
                self.db.execute(
                    "UPDATE statements SET (checked_rules_hash, checked_reps_hash, checked_export_hash) = "
                    "(SELECT a.rules_hash, a.reps_hash, a.export_hash FROM adjustments a WHERE a.source_id = "
                    "statements.id AND a.statement_id = ? ORDER BY a.id DESC LIMIT 1) WHERE id IN "
                    "(SELECT source_id FROM adjustments WHERE statement_id = ?)",
                    (booked.id, booked.id),
                )
                closed.append(attrs.evolve(booked, state=CLOSED, content_hash=digest))
        return Outcome(tuple(closed))

    @_outcome
    def pay(self, period: str, payroll: dict | None = None, source: str = "ledger") -> Outcome:
        """Mark the closed statements of ``period`` paid. Outcome(PayRow per rep); differences are warnings.

        ``payroll``: rep -> what payroll actually paid for the period (all the rep's statements in it).
        """
        with self.transaction():
            rows = self._in_span(self._rows("1=1", ()), period)
            if not rows:
                raise LedgerProblem(error("DG804", f"the ledger has no statements for {period}"))
            still_open = sorted({row[_REP] for row in rows if row[_STATE] == OPEN})
            if still_open:
                raise LedgerProblem(
                    error(
                        "DG803",
                        f"{period} is still open in the ledger (reps: "
                        f"{', '.join(still_open[:5])}{', ...' * (len(still_open) > 5)})",
                        hint=f"close it first: dealgate close {period} --ledger {self.path}",
                    )
                )
            due = [self._load(row) for row in rows if row[_STATE] == CLOSED]
            if not due:
                raise LedgerProblem(error("DG803", f"{period} is already paid in the ledger"))
            expected: dict = {}
            for s in due:
                expected[s.rep] = expected.get(s.rep, ZERO) + s.payable
            reps = list(expected) + [rep for rep in (payroll or {}) if rep not in expected]
            pay_rows, problems = [], []
            for rep in reps:
                owed = expected.get(rep, ZERO)
                paid = owed if payroll is None else Decimal(payroll.get(rep, ZERO))
                pay_rows.append(PayRow(rep, owed, paid))
                self.db.execute(
                    "INSERT INTO payments (rep, period, expected, paid, source) VALUES (?, ?, ?, ?, ?)",
                    (rep, period, money_text(owed), money_text(paid), source),
                )
                if paid != owed:
                    problems.append(
                        warning(
                            "DG806",
                            f"payroll paid {rep} {shown_money(paid)} for {period}; the "
                            f"ledger says {shown_money(owed)} (difference "
                            f"{shown_money(paid - owed)})",
                            Location(source),
                        )
                    )
            self.db.executemany("UPDATE statements SET state = ? WHERE id = ?", [(PAID, s.id) for s in due])
        return Outcome(tuple(pay_rows), tuple(problems))

    @_outcome
    def verify(self) -> Outcome:
        """Check every locked statement against its content hash. Outcome(number checked); mismatches are errors."""
        problems = []
        with self.transaction(write=False):
            rows = self._rows("state != 'open'", ())
            for row in rows:
                booked = self._load(row)
                where = f"{booked.rep} {booked.plan} {booked.period}"
                if booked.total != sum((line.amount for line in booked.lines), ZERO):
                    problems.append(
                        error(
                            "DG805",
                            f"{where}: the total {booked.total} is not the sum of its lines",
                            Location(self.path),
                        )
                    )
                if booked.content_hash is None or booked.computed_hash() != booked.content_hash:
                    problems.append(
                        error(
                            "DG805",
                            f"{where} ({booked.state}) does not match its content hash: it changed after it was locked",
                            Location(self.path),
                        )
                    )
        return Outcome(len(rows), tuple(problems))

    def payments(self) -> list[tuple]:
        return self.db.execute("SELECT rep, period, expected, paid, source FROM payments ORDER BY id").fetchall()

    # internals

    def _rows(self, where: str, params: tuple) -> list[tuple]:
        return self.db.execute(
            f"SELECT {_COLUMNS} FROM statements WHERE {where} ORDER BY rep, plan, period_start",
            params,
        ).fetchall()

    def _row(self, rep: str, plan: str, period: str):
        return self.db.execute(
            f"SELECT {_COLUMNS} FROM statements WHERE rep = ? AND plan = ? AND period = ?", (rep, plan, period)
        ).fetchone()

    def _in_span(self, rows: list, period: str) -> list:
        """The rows whose period lies within ``period``, in each plan's own fiscal calendar."""
        found = []
        for row in rows:
            try:
                start, end = P.span(period, None, row[_FY])
            except P.PeriodError as problem:
                raise LedgerProblem(error("DG804", str(problem))) from None
            if start <= dt.date.fromisoformat(row[_START]) and dt.date.fromisoformat(row[_END]) <= end:
                found.append(row)
        if not rows:
            try:
                P.parse_period(period)
            except P.PeriodError as problem:
                raise LedgerProblem(error("DG804", str(problem))) from None
        return found

    def _load(self, row) -> BookedStatement:
        statement_id = row[_ID]
        lines = tuple(
            BookedLine(kind, Decimal(amount), rule, deal, credit, rate, tier, factor, note)
            for kind, amount, rule, deal, credit, rate, tier, factor, note in self.db.execute(
                "SELECT kind, amount, rule, deal, credit, rate, tier, factor, note FROM lines "
                "WHERE statement_id = ? ORDER BY position",
                (statement_id,),
            )
        )
        adjustments = tuple(self._adjustments("a.statement_id = ?", (statement_id,)))
        return BookedStatement(
            id=statement_id,
            rep=row[_REP],
            plan=row[_PLAN],
            period=row[_PERIOD],
            start=dt.date.fromisoformat(row[_START]),
            end=dt.date.fromisoformat(row[_END]),
            fiscal_year_start=row[_FY],
            name=row[_NAME],
            currency=row[_CURRENCY],
            rounding=row[_ROUNDING],
            state=row[_STATE],
            total=Decimal(row[_TOTAL]),
            draw_balance=None if row[_DRAW] is None else Decimal(row[_DRAW]),
            fingerprint=Fingerprint(row[_RULES], row[_REPS], row[_EXPORT]),
            content_hash=row[_HASH],
            lines=lines,
            adjustments=adjustments,
        )

    def _adjustments(self, where: str, params: tuple) -> list[Adjustment]:
        query = (
            "SELECT a.kind, a.rule, a.deal, a.amount, a.reason, source.period, a.note, target.period "
            "FROM adjustments a JOIN statements source ON source.id = a.source_id "
            f"JOIN statements target ON target.id = a.statement_id WHERE {where} ORDER BY a.id"
        )
        return [
            Adjustment(kind, rule, deal, Decimal(amount), reason, source, note, target)
            for kind, rule, deal, amount, reason, source, note, target in self.db.execute(query, params)
        ]

    def _write_open(self, row, s: Statement, lines: list[BookedLine], now: Fingerprint, fiscal_start: int) -> int:
        values = (
            s.name,
            s.currency,
            s.rounding,
            money_text(s.total),
            money_text(s.draw_balance),
            now.rules_hash,
            now.reps_hash,
            now.export_hash,
        )
        if row is None:
            statement_id = self.db.execute(
                "INSERT INTO statements (rep, plan, period, period_start, period_end, fiscal_year_start, name, "
                "currency, rounding, total, draw_balance, rules_hash, reps_hash, export_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    s.rep,
                    s.plan,
                    s.period.label,
                    s.period.start.isoformat(),
                    s.period.end.isoformat(),
                    fiscal_start,
                    *values,
                ),
            ).lastrowid
        else:
            statement_id = row[_ID]
            self.db.execute(
                "UPDATE statements SET name = ?, currency = ?, rounding = ?, total = ?, draw_balance = ?, "
                "rules_hash = ?, reps_hash = ?, export_hash = ? WHERE id = ?",
                (*values, statement_id),
            )
            self.db.execute("DELETE FROM lines WHERE statement_id = ?", (statement_id,))
        self.db.executemany(
            "INSERT INTO lines (statement_id, position, kind, amount, rule, deal, credit, rate, tier, factor, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    statement_id,
                    position,
                    line.kind,
                    money_text(line.amount),
                    line.rule,
                    line.deal,
                    line.credit,
                    line.rate,
                    line.tier,
                    line.factor,
                    line.note,
                )
                for position, line in enumerate(lines)
            ],
        )
        assert statement_id is not None, "an INSERT's row id"
        return statement_id

    def _settle(
        self, booked: BookedStatement, checked: Fingerprint | None, recomputed: list[BookedLine], now: Fingerprint, plan
    ) -> Drift | None:
        """Replace the pending adjustments of a locked statement with what it drifts by now.

        ``checked``: the inputs the booked amounts were last found right under (None: those that computed it).
        """
        locked = self._adjustments("a.source_id = ? AND target.state != 'open'", (booked.id,))
        self.db.execute(
            "DELETE FROM adjustments WHERE source_id = ? AND statement_id IN "
            "(SELECT id FROM statements WHERE state = 'open')",
            (booked.id,),
        )
        found = adjustments_for(
            booked.period, list(booked.lines) + locked, recomputed, checked or booked.fingerprint, now
        )
        if not found:
            self.db.execute(
                "UPDATE statements SET checked_rules_hash = ?, checked_reps_hash = ?, "
                "checked_export_hash = ? WHERE id = ?",
                (now.rules_hash, now.reps_hash, now.export_hash, booked.id),
            )
            return None
        target_id, target = self._next_open(booked, plan)
        self.db.executemany(
            "INSERT INTO adjustments (statement_id, source_id, kind, rule, deal, amount, reason, note, rules_hash, "
            "reps_hash, export_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    target_id,
                    booked.id,
                    a.kind,
                    a.rule,
                    a.deal,
                    money_text(a.amount),
                    a.reason,
                    a.note,
                    now.rules_hash,
                    now.reps_hash,
                    now.export_hash,
                )
                for a in found
            ],
        )
        return Drift(booked, tuple(attrs.evolve(a, period=target) for a in found), target)

    def _closed_for_plan(self, plan: str, period: str) -> bool:
        """Whether some rep's statement of ``plan`` for ``period`` is locked: the period was closed."""
        return (
            self.db.execute(
                "SELECT 1 FROM statements WHERE plan = ? AND period = ? AND state != 'open' LIMIT 1", (plan, period)
            ).fetchone()
            is not None
        )

    def _insert_empty(self, rep: str, plan, period: P.Period, name, currency: str, rounding: str) -> int:
        """An open statement with no lines (no inputs yet): it holds adjustments, or stands for a locked nothing."""
        return self.db.execute(
            "INSERT INTO statements (rep, plan, period, period_start, period_end, fiscal_year_start, name, currency, "
            "rounding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rep,
                plan.id,
                period.label,
                period.start.isoformat(),
                period.end.isoformat(),
                plan.fiscal_year_start,
                name,
                currency,
                rounding,
            ),
        ).lastrowid  # type: ignore[return-value]  # an INSERT's row id: never None

    def _locked_empty(self, s: Statement, plan):
        """A rep new to a closed period: booked as an empty closed statement, so what it earns there is drift
        (paid in the next open period), and the closed period keeps what it paid."""
        statement_id = self._insert_empty(s.rep, plan, s.period, s.name, s.currency, s.rounding)
        empty = self._load(
            self.db.execute(f"SELECT {_COLUMNS} FROM statements WHERE id = ?", (statement_id,)).fetchone()
        )
        self.db.execute(
            "UPDATE statements SET state = ?, content_hash = ? WHERE id = ?",
            (CLOSED, empty.computed_hash(), statement_id),
        )
        return self._row(s.rep, s.plan, s.period.label)

    def _next_open(self, booked: BookedStatement, plan) -> tuple[int, str]:
        """(id, label) of the rep's first open statement after ``booked``; an empty one is made when none is."""
        period = P.period_of(booked.end, plan.period, plan.fiscal_year_start)
        while True:
            row = self._row(booked.rep, booked.plan, period.label)
            if row is None:
                return self._insert_empty(
                    booked.rep, plan, period, booked.name, booked.currency, booked.rounding
                ), period.label
            if row[_STATE] == OPEN:
                return row[_ID], period.label
            period = P.period_of(period.end, plan.period, plan.fiscal_year_start)

    def _clawback_checks(self, statement_id: int, s: Statement) -> list:
        """A clawback must not take back more than the ledger says was paid on its deal (when it holds the deal)."""
        problems = []
        for line in s.lines:
            if line.kind != CLAWBACK or line.deal is None:
                continue
            paid = self._paid_on(s.rep, s.plan, line.deal, statement_id)
            if paid is not None and -line.amount > paid:
                problems.append(
                    warning(
                        "DG808",
                        f"{s.rep} {s.period.label}: the clawback of deal {line.deal} takes back "
                        f"{shown_money(-line.amount)}, more than the ledger says was paid on it "
                        f"({shown_money(paid)})",
                        Location(self.path),
                        hint="check the deal's earlier statements in the ledger",
                    )
                )
        return problems

    def _paid_on(self, rep: str, plan: str, deal: str, other_than: int) -> Decimal | None:
        """What the ledger's other statements and their adjustments paid ``rep`` on ``deal``; None if it never did."""
        kinds = tuple(sorted(PAID_KINDS))
        marks = ", ".join("?" * len(kinds))
        lines = self.db.execute(
            f"SELECT l.amount FROM lines l JOIN statements s ON s.id = l.statement_id WHERE s.rep = ? AND s.plan = ? "
            f"AND l.deal = ? AND l.kind IN ({marks}) AND s.id != ?",
            (rep, plan, deal, *kinds, other_than),
        ).fetchall()
        if not lines:
            return None
        adjusted = self.db.execute(
            f"SELECT a.amount FROM adjustments a JOIN statements s ON s.id = a.source_id WHERE s.rep = ? AND "
            f"s.plan = ? AND a.deal = ? AND a.kind IN ({marks})",
            (rep, plan, deal, *kinds),
        ).fetchall()
        return sum((Decimal(v) for (v,) in lines + adjusted), ZERO)


_FIELDS = (
    "id",
    "rep",
    "plan",
    "period",
    "period_start",
    "period_end",
    "fiscal_year_start",
    "name",
    "currency",
    "rounding",
    "state",
    "total",
    "draw_balance",
    "rules_hash",
    "reps_hash",
    "export_hash",
    "content_hash",
    "checked_rules_hash",
    "checked_reps_hash",
    "checked_export_hash",
)
_COLUMNS = ", ".join(_FIELDS)
(
    _ID,
    _REP,
    _PLAN,
    _PERIOD,
    _START,
    _END,
    _FY,
    _NAME,
    _CURRENCY,
    _ROUNDING,
    _STATE,
    _TOTAL,
    _DRAW,
    _RULES,
    _REPS,
    _EXPORT,
    _HASH,
    _CHECKED_RULES,
    _CHECKED_REPS,
    _CHECKED_EXPORT,
) = range(len(_FIELDS))


def _checked(row) -> Fingerprint | None:
    if row[_CHECKED_RULES] is None:
        return None
    return Fingerprint(row[_CHECKED_RULES], row[_CHECKED_REPS], row[_CHECKED_EXPORT])


def booked_line(line) -> BookedLine:
    """A statement Line as the ledger keeps it (exact quantities as plain decimal text)."""
    return BookedLine(
        line.kind,
        line.amount,
        line.rule,
        line.deal,
        _text(line.credit),
        _text(line.rate),
        line.tier,
        _text(line.factor),
        line.note,
    )


def _text(value: Decimal | None) -> str | None:
    """Plain digits without trailing zeros: the engines give 15000 and 15000.00 for one credit, and the
    ledger (and its content hashes) must not depend on which engine computed a statement."""
    return None if value is None else f"{value.normalize():f}"


def _draw_balance(statements: list[BookedStatement]) -> Decimal | None:
    """The recoverable draw outstanding: the first statement's opening balance plus every draw line and adjustment.

    Summed from the ledger, not taken from the last statement, so an adjustment to a locked period's
    draw (paid in a later one) moves the balance too.
    """
    drawn = [s for s in statements if s.draw_balance is not None]
    if not drawn:
        return None
    first = drawn[0]
    assert first.draw_balance is not None  # drawn holds only such
    opening = first.draw_balance - sum((line.amount for line in first.lines if line.kind in (DRAW, RECOVERY)), ZERO)
    moved = sum((line.amount for s in statements for line in s.lines if line.kind in (DRAW, RECOVERY)), ZERO)
    adjusted = sum((a.amount for s in statements for a in s.adjustments if a.kind in (DRAW, RECOVERY)), ZERO)
    return opening + moved + adjusted


def _statements(script: str) -> list[str]:
    """A migration's statements, to run one by one inside the open transaction (executescript would commit)."""
    return [part.strip() for part in script.split(";") if part.strip() and not _only_comments(part)]


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
