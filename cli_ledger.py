"""The ledger's commands: `payout --ledger`, `close`, `pay`, `ledger show|export|verify`.

Click code only: the ledger itself is engine.ledger (no click there). cli.py
registers these commands with ``register(main)`` and hands `payout` a booking
(``book_payout``) that widens the run to the ledger's locked periods, shows only
the periods asked for, and books the result. Exit codes as for every command:
0 ok, 1 a problem found (verify), 2 bad usage or an unusable ledger (busy, a
period in the wrong state, nothing booked for it).
"""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def ledger_option(function):
    """--ledger for `payout`: book the statements in a ledger file as well."""
    return click.option(
        "--ledger",
        "ledger_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Book the statements in this SQLite ledger (created if new): open periods are "
        "written, locked ones compared and their drift booked as adjustments.",
    )(function)


def _required_ledger(function):
    return click.option(
        "--ledger", "ledger_path", required=True, type=click.Path(dir_okay=False), help="The ledger file (SQLite)."
    )(function)


def _report(diagnostics) -> None:
    from engine.render import diagnostics as render_diag

    if diagnostics:
        click.echo(render_diag.render_text(list(diagnostics)), err=True, nl=False)


def _open(path: str, create: bool = False):
    """The ledger, or exit 2 with why not.

    A writer waits for another one up to DEALGATE_LEDGER_TIMEOUT seconds (default 10), then fails (DG802).
    """
    import os

    from engine.ledger import DEFAULT_TIMEOUT, open_ledger

    try:
        timeout = float(os.environ.get("DEALGATE_LEDGER_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        raise click.UsageError("DEALGATE_LEDGER_TIMEOUT must be a number of seconds") from None
    opened = open_ledger(path, create=create, timeout=timeout)
    if not opened.ok:
        _report(opened.diagnostics)
        sys.exit(EXIT_USAGE)
    return opened.value


def _done(outcome):
    """The outcome's value after its diagnostics are shown; exit 2 when it failed."""
    _report(outcome.diagnostics)
    if not outcome.ok:
        sys.exit(EXIT_USAGE)
    return outcome.value


class PayoutBooking:
    """What `payout --ledger` adds to a payout run: more periods computed, fewer shown, the result booked."""

    def __init__(self, ledger, wanted, program, rules_dir: str, reps_path: str, export: str, fx: str | None = None):
        from engine.payout import requested_periods

        self.ledger = ledger
        self.program = program
        self.paths = (rules_dir, reps_path, export, fx)  # the FX table is data, like the export
        self.requested = {
            (plan_id, p.start)
            for plan_id, plan in program.plans.items()
            for p in requested_periods(wanted, plan.period, plan.fiscal_year_start)
        }
        locked = ledger.locked_periods()
        # Locked periods are recomputed on every run, so that drift shows up whatever period is asked for.
        self.periods = [wanted, *locked] if locked else wanted

    def shown(self, statements) -> tuple:
        return tuple(s for s in statements if (s.plan, s.period.start) in self.requested)

    def record(self, result) -> None:
        """Book the run; say what was written and what drifted. Exit 2 when the ledger could not be written."""
        from engine.ledger import fingerprint
        from engine.money import shown_money

        path = self.ledger.path
        if not result.ok:
            click.echo(f"dealgate: ledger {path} not written: the payout has errors", err=True)
            return
        report = _done(
            self.ledger.record(result.statements, self.requested, fingerprint(*self.paths), self.program.plans)
        )
        click.echo(
            f"ledger {path}: {len(report.written)} open statement{'s' * (len(report.written) != 1)} "
            f"written, {len(report.unchanged)} locked unchanged, {len(report.drifts)} locked with drift"
            + (f", {report.not_recomputed} locked not in this run (not compared)" if report.not_recomputed else ""),
            err=True,
        )
        for drift in report.drifts:
            s = drift.statement
            total = sum(a.amount for a in drift.adjustments)
            click.echo(
                f"  drift: {s.rep} {s.plan} {s.period} ({s.state}) recomputes {shown_money(total)} "
                f"differently; adjustments in {drift.period}:",
                err=True,
            )
            for a in drift.adjustments:
                click.echo(f"    {shown_money(a.amount):>12}  {a.note}", err=True)


def book_payout(
    ledger_path, wanted, program, rules_dir: str, reps_path: str, sources, fx_path: str | None = None
) -> PayoutBooking | None:
    """A booking for `payout --ledger`, or None without --ledger (exit 2 when the ledger cannot be used)."""
    if ledger_path is None:
        return None
    if sources[0] == "-":
        click.echo("dealgate: --ledger needs the export as a file (its hash is booked), not stdin", err=True)
        sys.exit(EXIT_USAGE)
    return PayoutBooking(_open(ledger_path, create=True), wanted, program, rules_dir, reps_path, sources[0], fx_path)


def register(main) -> None:
    """Add the ledger's commands to the dealgate group."""
    import cli as base

    @main.command("close")
    @click.argument("period")
    @_required_ledger
    def close_command(period, ledger_path):
        """Lock PERIOD in the ledger: its statements never change again (content hashes stored)."""
        closed = _done(_open(ledger_path).close(period))
        click.echo(
            f"closed {period}: {len(closed)} statement{'s' * (len(closed) != 1)} locked in {ledger_path}", err=True
        )

    @main.command("pay")
    @click.argument("period")
    @_required_ledger
    @click.option(
        "--file",
        "payroll_path",
        type=click.Path(dir_okay=False, exists=True),
        help="CSV of what payroll paid (rep, amount); differences from the ledger are reported.",
    )
    def pay_command(period, ledger_path, payroll_path):
        """Mark the closed statements of PERIOD paid (with --file: what payroll actually paid)."""
        from engine.ledger import read_payroll
        from engine.money import shown_money

        payroll = None
        if payroll_path is not None:
            payroll, problems = read_payroll(payroll_path)
            _report(problems)
            if problems:
                sys.exit(EXIT_USAGE)
        outcome = _open(ledger_path).pay(period, payroll, payroll_path or "ledger")
        rows = _done(outcome)
        for row in rows:
            difference = "" if row.difference == 0 else f"  difference {shown_money(row.difference)}"
            click.echo(f"{row.rep}: ledger {shown_money(row.expected)}, paid {shown_money(row.paid)}{difference}")
        different = sum(1 for row in rows if row.difference)
        click.echo(f"paid {period}: {len(rows)} rep{'s' * (len(rows) != 1)}, {different} with a difference", err=True)

    @main.group("ledger")
    def ledger_group():
        """Read the ledger: statements, adjustments and balances; verify the locked statements."""

    def view_options(default_format: str):
        def decorate(function):
            function = _required_ledger(function)
            function = click.option("--rep", "rep_id", help="Only this rep.")(function)
            function = click.option("--period", help="Only statements within this period (e.g. 2026-Q3).")(function)
            function = click.option(
                "--format",
                "fmt",
                type=click.Choice(["table", "csv", "json"]),
                default=default_format,
                show_default=True,
            )(function)
            function = click.option("--output", "-o", type=base.OutputFile(), help="Write here (atomically).")(function)
            return base.color_option(function)

        return decorate

    def view(ledger_path, rep_id, period, fmt, output):
        from engine.ledger import report

        ledger = _open(ledger_path)
        statements = _done(ledger.statements(rep_id, period))
        everything = _done(ledger.statements(rep_id)) if period else statements  # balances span every period
        balances = ledger.balances(everything)
        if fmt == "table":
            text = report.render_table(
                statements,
                balances,
                base.display_for(sys.stdout if output in (None, "-") else None),
                history=everything,
            )
        else:
            text = report.render_csv(statements, balances) if fmt == "csv" else report.render_json(statements, balances)
        with base.output_stream(output, newline="" if fmt == "csv" else None) as out:
            out.write(text)

    @ledger_group.command("show")
    @view_options("table")
    def show_command(ledger_path, rep_id, period, fmt, output):
        """Statements (lines and the adjustments each pays) and each rep's balances."""
        view(ledger_path, rep_id, period, fmt, output)

    @ledger_group.command("export")
    @view_options("csv")
    def export_command(ledger_path, rep_id, period, fmt, output):
        """The same as `ledger show`, as CSV (or JSON) for other tools."""
        view(ledger_path, rep_id, period, fmt, output)

    @ledger_group.command("verify")
    @_required_ledger
    def verify_command(ledger_path):
        """Check every closed or paid statement against its stored content hash (exit 1 on a mismatch)."""
        outcome = _open(ledger_path).verify()
        _report(outcome.diagnostics)
        if not outcome.ok:
            click.echo(f"dealgate: the ledger {ledger_path} has locked statements that changed", err=True)
            sys.exit(EXIT_PROBLEMS)
        click.echo(
            f"ledger {ledger_path}: {outcome.value} locked statement{'s' * (outcome.value != 1)} match "
            f"their content hashes"
        )
