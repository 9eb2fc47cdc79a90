"""The ledger for people and programs: statements, adjustments and balances as a table, CSV or JSON.

A renderer (the layer above the ledger, like engine.render): it formats what
``Ledger.statements`` and ``Ledger.balances`` return and decides nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from ..money import money_text, shown_money
from ..output import csv_writer, safe_cell
from ..render.jsontext import dumps_indented
from ..render.payout import rate_text, shown_credit
from ..render.table import Column, Display, printable, render
from .records import BookedStatement

CSV_COLUMNS = (
    "record",
    "rep",
    "name",
    "plan",
    "period",
    "state",
    "kind",
    "rule",
    "deal",
    "amount",
    "source_period",
    "reason",
    "note",
)

LINE_COLUMNS = [
    Column("line", "line", max_width=16),
    Column("deal", "deal", max_width=24, min_width=8, cut="middle"),
    Column("amount", "amount", right=True, cut="never"),
    Column("rule", "rule", max_width=24),
    Column("detail", "detail", max_width=140, min_width=10, comfort=20),
]
ADJUSTMENT_COLUMNS = [
    Column("from", "from", max_width=12),
    Column("line", "line", max_width=16),
    Column("deal", "deal", max_width=24, min_width=8, cut="middle"),
    Column("amount", "amount", right=True, cut="never"),
    Column("reason", "reason", max_width=30),
    Column("detail", "detail", max_width=140, min_width=10),
]
BALANCE_COLUMNS = [
    Column("rep", "rep", max_width=24),
    Column("payable", "payable", right=True, cut="never"),
    Column("paid", "paid", right=True, cut="never"),
    Column("draw", "draw balance", right=True, cut="never"),
    Column("clawbacks", "clawbacks outstanding", right=True, cut="never"),
]


PAID_KINDS = frozenset({"commission", "cap", "bonus"})


def paid_in(statements: list[BookedStatement]) -> dict:
    """(rep, plan, deal) -> the locked periods that paid on the deal: what a later clawback takes back."""
    found: dict = {}
    for s in statements:
        if s.state == "open":
            continue
        for line in s.lines:
            if line.kind in PAID_KINDS and line.deal:
                periods = found.setdefault((s.rep, s.plan, line.deal), [])
                if f"{s.period} ({s.state})" not in periods:
                    periods.append(f"{s.period} ({s.state})")
    return found


def describe(line, s: BookedStatement, paid: dict) -> str:
    """A line's detail: the slice's arithmetic for commission, the note, and for a clawback where it was paid."""
    text = line.note
    if line.kind == "commission" and line.credit is not None and line.rate is not None:
        sliced = (
            f"{line.tier + ': ' if line.tier else ''}{shown_credit(Decimal(line.credit))} x "
            f"{rate_text(Decimal(line.rate))}"
        )
        text = f"{sliced}; {text}" if text else sliced
    if line.kind == "clawback" and (s.rep, s.plan, line.deal) in paid:
        text = f"paid in {', '.join(paid[(s.rep, s.plan, line.deal)])}; {text}"
    return text


def heading(s: BookedStatement) -> str:
    who = f"{s.name} ({s.rep})" if s.name else s.rep
    adjusted = ""
    if s.adjustments:
        adjusted = (
            f" · adjustments {shown_money(sum(a.amount for a in s.adjustments))} · payable {shown_money(s.payable)}"
        )
    last = s.end - dt.timedelta(days=1)
    return (
        f"{who} · plan {s.plan} · {s.period} ({s.start} to {last}) · {s.state} · total "
        f"{shown_money(s.total)} {s.currency}{adjusted}"
    )


def render_table(
    statements: list[BookedStatement],
    balances: list,
    display: Display | None = None,
    history: list[BookedStatement] | None = None,
) -> str:
    """Each statement: heading, lines, the adjustments it pays; then each rep's balances.

    ``history``: the statements to look up where a clawed-back deal was paid (default ``statements``).
    """
    display = display or Display()
    paid = paid_in(statements if history is None else history)
    out = []
    for s in statements:
        out.append(printable(heading(s)))
        if s.lines:
            rows = [
                [line.kind, line.deal or "", shown_money(line.amount), line.rule, describe(line, s, paid)]
                for line in s.lines
            ]
            out.extend(render(LINE_COLUMNS, rows, display, indent="  "))
        else:
            out.append("  (no lines)")
        if s.adjustments:
            out.append("  adjustments (differences found by re-running locked periods):")
            rows = [
                [a.source_period, a.kind, a.deal or "", shown_money(a.amount), a.reason, a.note] for a in s.adjustments
            ]
            out.extend(render(ADJUSTMENT_COLUMNS, rows, display, indent="  "))
        out.append("")
    if balances:
        out.append("balances")
        rows = [
            [
                b.rep,
                shown_money(b.payable),
                shown_money(b.paid),
                "" if b.draw_balance is None else shown_money(b.draw_balance),
                shown_money(b.clawbacks_outstanding),
            ]
            for b in balances
        ]
        out.extend(render(BALANCE_COLUMNS, rows, display))
    return "\n".join(out).rstrip("\n") + "\n" if out else "no statements in the ledger\n"


def render_csv(statements: list[BookedStatement], balances: list) -> str:
    """One row per line, per adjustment, a 'total' row per statement, then a 'balance' row per rep."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in statements:
        head = ["", s.rep, s.name or "", s.plan, s.period, s.state]
        for line in s.lines:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in [
                        "line",
                        *head[1:],
                        line.kind,
                        line.rule,
                        line.deal or "",
                        money_text(line.amount),
                        "",
                        "",
                        line.note,
                    ]
                ]
            )
        for a in s.adjustments:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in [
                        "adjustment",
                        *head[1:],
                        a.kind,
                        a.rule,
                        a.deal or "",
                        money_text(a.amount),
                        a.source_period,
                        a.reason,
                        a.note,
                    ]
                ]
            )
        writer.writerow(
            [
                safe_cell(v)
                for v in ["total", *head[1:], "", "", "", money_text(s.payable), "", "", f"lines {money_text(s.total)}"]
            ]
        )
    for b in balances:
        note = f"paid {money_text(b.paid)}; clawbacks outstanding {money_text(b.clawbacks_outstanding)}" + (
            "" if b.draw_balance is None else f"; draw balance {money_text(b.draw_balance)}"
        )
        writer.writerow(
            [safe_cell(v) for v in ["balance", b.rep, "", "", "", "", "", "", "", money_text(b.payable), "", "", note]]
        )
    return out.getvalue()


def render_json(statements: list[BookedStatement], balances: list) -> str:
    document = {
        "statements": [
            {**s.content(), "state": s.state, "content_hash": s.content_hash, "payable": money_text(s.payable)}
            for s in statements
        ],
        "balances": [
            {
                "rep": b.rep,
                "payable": money_text(b.payable),
                "paid": money_text(b.paid),
                "draw_balance": money_text(b.draw_balance),
                "clawbacks_outstanding": money_text(b.clawbacks_outstanding),
            }
            for b in balances
        ],
    }
    return dumps_indented(document) + "\n"


FORMATS = ("table", "csv", "json")
