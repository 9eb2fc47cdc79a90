"""The ledger's file: schema and migrations, locks between runs, transactions that leave nothing half-written,
verification, and the states a period goes through (docs/payouts.md, "The ledger")."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from test_payout_support import ROOT, deal, program_for, rep

from cli import main
from engine.ledger import Fingerprint, open_ledger
from engine.ledger import store as ledger_store
from engine.ledger.schema import APPLICATION_ID, MIGRATIONS, VERSION

PLAN = """
    id: p
    currency: USD
    period: month
    quota: 10000
    credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
    commission:
      basis: attainment
      tiers: [{to: 1.0, rate: 0.05}, {rate: 0.1}]
    clawback: {id: cancel_60, date: cancelled_on, within_days: 60}
"""
NOW = Fingerprint("rules", "reps", "export")


def book(tmp_path, deals, months, ledger_path=None, **kwargs):
    """Compute ``months`` for rep 'rep' and book them in the ledger; the Outcome of ``record``."""
    program = program_for(tmp_path, PLAN)
    ledger = open_ledger(ledger_path or tmp_path / "comp.db", **kwargs).value
    locked = ledger.locked_periods()
    result = program.compute(deals, [rep(quota=10000)], [*months, *locked], dt.date(2026, 12, 31))
    requested = {("p", s.period.start) for s in result.statements if s.period.label in months}
    return ledger.record(result.statements, requested, NOW, program.plans)


DEALS = [deal("A", 6000, "2026-01-10"), deal("B", 8000, "2026-01-20"), deal("C", 5000, "2026-02-03")]


def dump(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def test_a_new_ledger_is_wal_versioned_and_marked(tmp_path):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    db = sqlite3.connect(tmp_path / "comp.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION == len(MIGRATIONS)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_an_older_ledger_is_migrated_with_its_statements_kept(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute(
        "INSERT INTO statements (rep, plan, period, period_start, period_end, fiscal_year_start, currency, "
        "rounding, state, total) VALUES ('rep', 'p', '2026-01', '2026-01-01', '2026-02-01', 1, 'USD', "
        "'half_up', 'open', '1.00')"
    )
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    ledger = open_ledger(path).value
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    [statement] = ledger.statements().value
    assert (statement.period, str(statement.total)) == ("2026-01", "1.00")


@pytest.mark.parametrize(
    "content, words",
    [
        (b"not a database at all, just text" * 100, "not a dealgate ledger"),
        ("sqlite-other", "not a dealgate ledger"),
        ("newer", "schema version 99"),
    ],
)
def test_what_is_not_a_ledger_is_refused(tmp_path, content, words):
    path = tmp_path / "x.db"
    if content == "sqlite-other":
        sqlite3.connect(path).executescript("CREATE TABLE crm (id TEXT);")
    elif content == "newer":
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()
    else:
        path.write_bytes(content)
    opened = open_ledger(path)
    assert not opened.ok and opened.diagnostics[0].code == "DG801" and words in opened.diagnostics[0].message


def test_a_second_writer_fails_clearly_when_the_first_holds_the_ledger(tmp_path):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    holder = sqlite3.connect(tmp_path / "comp.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        outcome = book(tmp_path, DEALS, ["2026-02"], timeout=0.2)
        assert not outcome.ok and outcome.diagnostics[0].code == "DG802"
        assert "busy: another dealgate run is writing it" in outcome.diagnostics[0].message
        closing = open_ledger(tmp_path / "comp.db", timeout=0.2).value.close("2026-01")
        assert closing.diagnostics[0].code == "DG802"
    finally:
        holder.execute("ROLLBACK")
    assert book(tmp_path, DEALS, ["2026-02"]).ok  # the lock released, the next run goes through


def test_the_cli_says_the_ledger_is_busy_and_exits_2(tmp_path, monkeypatch):
    ledger = tmp_path / "comp.db"
    export = ROOT / "examples" / "deals.csv"
    args = [
        "payout",
        str(export),
        "--reps",
        str(ROOT / "examples" / "reps.csv"),
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-09-30",
        "--format",
        "json",
        "--ledger",
        str(ledger),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    holder = sqlite3.connect(ledger, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setenv("DEALGATE_LEDGER_TIMEOUT", "0.2")
    try:
        busy = CliRunner().invoke(main, args)
        closing = CliRunner().invoke(main, ["close", "2026-Q3", "--ledger", str(ledger)])
    finally:
        holder.execute("ROLLBACK")
    assert busy.exit_code == 2 and "error[DG802]" in busy.stderr
    assert closing.exit_code == 2 and "error[DG802]" in closing.stderr


def test_a_failure_inside_the_transaction_leaves_the_ledger_as_it_was(tmp_path, monkeypatch):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    before = dump(tmp_path / "comp.db")
    written = []
    original = ledger_store.Ledger._write_open

    def fail_after_one(self, *args):
        if written:
            raise RuntimeError("disk full, say")
        written.append(original(self, *args))
        return written[-1]

    monkeypatch.setattr(ledger_store.Ledger, "_write_open", fail_after_one)
    with pytest.raises(RuntimeError):
        book(tmp_path, DEALS, ["2026-02", "2026-03"])
    assert written and dump(tmp_path / "comp.db") == before


KILLER = textwrap.dedent("""
    import datetime as dt, os, signal, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from engine.ledger import store
    from test_ledger_store import book
    from test_payout_support import deal

    original = store.Ledger._write_open
    count = []

    def write_then_die(self, *args):
        count.append(original(self, *args))
        if len(count) == 2:  # two statements written inside the transaction, not committed
            os.kill(os.getpid(), signal.SIGKILL)
        return count[-1]

    store.Ledger._write_open = write_then_die
    deals = [deal("A", 6000, "2026-01-10"), deal("B", 8000, "2026-01-20"), deal("C", 5000, "2026-02-03"),
             deal("D", 9000, "2026-03-03")]
    book(Path({work!r}), deals, ["2026-02", "2026-03"], Path({ledger!r}))
""")


def test_killing_a_run_mid_write_leaves_the_ledger_as_it_was(tmp_path):
    ledger = tmp_path / "comp.db"
    assert book(tmp_path, DEALS, ["2026-01"], ledger).ok
    assert open_ledger(ledger).value.close("2026-01").ok
    before = dump(ledger)
    script = KILLER.format(tests=str(ROOT / "tests"), work=str(tmp_path / "killed"), ledger=str(ledger))
    (tmp_path / "killed").mkdir()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert dump(ledger) == before
    db = sqlite3.connect(ledger)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert open_ledger(ledger).value.verify().ok


def test_verify_finds_a_locked_statement_changed_behind_the_ledgers_back(tmp_path):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    ledger = open_ledger(tmp_path / "comp.db").value
    assert ledger.close("2026-01").ok
    assert ledger.verify().value == 1 and ledger.verify().ok
    ledger.db.execute("UPDATE lines SET amount = '999.00' WHERE position = 0")
    found = ledger.verify()
    assert not found.ok and {d.code for d in found.diagnostics} == {"DG805"}
    assert "does not match its content hash" in found.diagnostics[-1].message
    shown = CliRunner().invoke(main, ["ledger", "verify", "--ledger", str(tmp_path / "comp.db")])
    assert shown.exit_code == 1 and "error[DG805]" in shown.stderr


def test_a_period_goes_open_closed_paid_and_refuses_steps_out_of_order(tmp_path):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    ledger = open_ledger(tmp_path / "comp.db").value
    assert ledger.pay("2026-01").diagnostics[0].code == "DG803"  # still open
    assert ledger.close("2026-05").diagnostics[0].code == "DG804"  # nothing booked
    assert ledger.close("2026-13").diagnostics[0].code == "DG804"  # not a period
    assert ledger.close("2026-01").ok
    assert ledger.close("2026-01").diagnostics[0].code == "DG803"  # already closed
    paid = ledger.pay("2026-01", {"rep": 700})
    [row] = paid.value
    assert (row.expected, row.paid, row.difference) == (900, 700, -200)
    assert [d.code for d in paid.diagnostics] == ["DG806"]
    assert ledger.pay("2026-01").diagnostics[0].code == "DG803"  # already paid
    assert book(tmp_path, DEALS, ["2026-01"]).ok  # re-running a paid period rewrites nothing
    [statement] = ledger.statements(period="2026-01").value
    assert statement.state == "paid" and str(statement.total) == "900.00"


def test_a_locked_period_is_recomputed_and_only_its_drift_is_booked(tmp_path):
    assert book(tmp_path, DEALS, ["2026-01"]).ok
    ledger = open_ledger(tmp_path / "comp.db").value
    assert ledger.close("2026-01").ok
    late = [deal("A", 6000, "2026-01-10", cancelled_on="2026-01-30"), *DEALS[1:]]
    for _ in range(2):  # twice: the second run replaces the pending adjustments, it does not add to them
        report = book(tmp_path, late, ["2026-02"]).value
        [drift] = report.drifts
        assert drift.period == "2026-02"
        assert [(a.kind, a.deal, str(a.amount), a.reason) for a in drift.adjustments] == [
            ("clawback", "A", "-300.00", "late cancellation")
        ]
    [february] = ledger.statements(period="2026-02").value
    assert [a.deal for a in february.adjustments] == ["A"] and str(february.payable) == str(february.total - 300)
    assert book(tmp_path, DEALS, ["2026-02"]).value.drifts == ()  # the cancellation withdrawn: no drift left
    assert ledger.statements(period="2026-02").value[0].adjustments == ()


def test_a_rep_new_to_a_closed_period_is_paid_in_the_next_open_one(tmp_path):
    program = program_for(tmp_path, PLAN)
    ledger = open_ledger(tmp_path / "comp.db").value
    january = program.compute(DEALS, [rep(quota=10000)], ["2026-01"], dt.date(2026, 12, 31))
    assert ledger.record(january.statements, {("p", dt.date(2026, 1, 1))}, NOW, program.plans).ok
    assert ledger.close("2026-01").ok
    newcomer = [*DEALS, deal("N", 4000, "2026-01-25", owner="new")]
    reps = [rep(quota=10000), rep("new", quota=10000)]
    both = program.compute(newcomer, reps, ["2026-02", "2026-01"], dt.date(2026, 12, 31))
    report = ledger.record(both.statements, {("p", dt.date(2026, 2, 1))}, NOW, program.plans).value
    [drift] = report.drifts
    assert (drift.statement.rep, drift.statement.state, drift.statement.lines, drift.period) == (
        "new",
        "closed",
        (),
        "2026-02",
    )
    assert [(a.deal, str(a.amount), a.reason) for a in drift.adjustments] == [
        ("N", "200.00", "first computed after it was closed")
    ]
    assert ledger.verify().ok and ledger.verify().value == 2
