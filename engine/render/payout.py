"""Payout statements as a terminal table, CSV, JSON or Markdown, and a step-by-step explanation.

Money is written exactly. In JSON every amount is a string with two decimals
("1234.50") and other exact quantities (credit, quota, rates, attainment)
are decimal strings too, so no consumer turns them into floats by accident;
CSV and Markdown use the same digits (no thousands separators in CSV). Each
statement's ``total`` equals the sum of its lines' ``amount`` to the cent.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import IO

import attrs

from ..money import CENT, money_text, shown_money
from ..output import csv_writer, safe_cell
from ..payout.assignments import Combined, combine
from ..payout.statement import Line, Statement
from .jsontext import dumps_indented, dumps_nested

CSV_COLUMNS = (
    "rep",
    "name",
    "plan",
    "period",
    "start",
    "end",
    "currency",
    "kind",
    "rule",
    "deal",
    "credit",
    "tier",
    "rate",
    "factor",
    "amount",
    "note",
)


# values


def exact(value: Decimal | None) -> str | None:
    """A Decimal as plain digits, without exponent or trailing zeros beyond cents for whole values."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return text


def percent(value: Decimal | None, places: str = "0.01") -> str:
    if value is None:
        return "-"
    return f"{(value * 100).quantize(Decimal(places)).normalize():f}%"


SHOWN_PLACES = Decimal("0.000001")  # a credit that is not whole cents shows up to six places, then '…'


def shown_credit(value: Decimal | None) -> str:
    """Credit: money-like with two decimals when it is whole cents; else up to six places (a split of
    1/3), and '…' where more digits were cut (a tier slice of a prorated quota has 28). JSON and CSV
    keep every digit."""
    if value is None:
        return ""
    if value == value.quantize(CENT):
        return f"{value.quantize(CENT):,}"
    shown = value.quantize(SHOWN_PLACES, ROUND_HALF_EVEN)
    cut = "…" if shown != value else ""
    return f"{shown.normalize():,f}{cut}"


def rate_text(rate: Decimal) -> str:
    # A rate of 1 or more is money per unit of credit (an SDR's 150 per opportunity), not 15000%.
    return percent(rate, "0.0001") if abs(rate) < 1 else f"{exact(rate)} per unit"


def shown_rate(line: Line) -> str:
    if line.rate is None:
        return ""
    text = rate_text(line.rate)
    if line.factor is not None:
        text += f" x{exact(line.factor)}"
    return text


# records


def statement_record(s: Statement) -> dict:
    """One statement as the plain mapping JSON is made from."""
    return {
        "rep": s.rep,
        "name": s.name,
        "plan": s.plan,
        "period": s.period.label,
        "start": s.period.start.isoformat(),
        "end": s.period.last.isoformat(),
        "currency": s.currency,
        "rounding": s.rounding,
        "quota": exact(s.quota),
        "quota_source": s.quota_source,
        "quota_period": s.quota_period.label if s.quota_period else None,
        "credit": exact(s.credit),
        "credit_to_date": exact(s.credit_to_date),
        "attainment": exact(s.attainment),
        "total": money_text(s.total, s.rounding),
        "draw_balance": money_text(s.draw_balance, s.rounding),
        "credits": [
            {
                "deal": c.deal,
                "date": c.date.isoformat(),
                "credit": exact(c.amount),
                "share": exact(c.share),
                "role": c.role,
                "deal_credit": exact(c.deal_credit),
                "multipliers": list(c.multipliers),
                "cancelled": c.cancelled.isoformat() if c.cancelled else None,
            }
            for c in s.credits
        ],
        "lines": [line_record(line, s.rounding) for line in s.lines],
        "notes": list(s.notes),
        **({"assignment": part_record(s.part)} if s.part is not None else {}),
    }


def part_record(part) -> dict:
    """The days of the period a statement pays under its plan, and the rep's other plans in the period."""
    return {
        "from": part.start.isoformat(),
        "to": part.last.isoformat(),
        "role": part.role,
        "territory": part.territory,
        "other_plans": [{"plan": plan, "from": a.isoformat(), "to": b.isoformat()} for plan, a, b in part.others],
    }


def combined_record(c: Combined) -> dict:
    """A rep's statement for a period in which it changed plans: its parts and their total."""
    return {
        "rep": c.rep,
        "name": c.name,
        "period": c.period.label,
        "start": c.period.start.isoformat(),
        "end": c.period.last.isoformat(),
        "currency": c.currency,
        "total": money_text(c.total) if c.total is not None else None,
        "parts": [
            {
                "plan": s.plan,
                "period": s.period.label,
                "from": (s.part.start if s.part else s.period.start).isoformat(),
                "to": (s.part.last if s.part else s.period.last).isoformat(),
                "total": money_text(s.total, s.rounding),
            }
            for s in c.parts
        ],
    }


def combined_lines(c: Combined) -> list[str]:
    """A rep's parts of one period for people: one line each, then the total."""
    who = f"{c.name} ({c.rep})" if c.name else c.rep
    out = [
        f"{who} · {c.period.label} ({c.period.start} to {c.period.last}): one statement in {len(c.parts)} parts, "
        f"each paid under its own plan"
    ]
    for s in c.parts:
        start, last = (s.part.start, s.part.last) if s.part else (s.period.start, s.period.last)
        out.append(f"  {s.plan} {s.period.label}: {start} to {last}: {shown_money(s.total, s.rounding)} {s.currency}")
    total = f"{shown_money(c.total)} {c.currency}" if c.total is not None else "in several currencies"
    out.append(f"  total {total}")
    return out


def line_record(line: Line, rounding: str = "half_up") -> dict:
    """One line as a plain mapping; ``rounding`` is its statement's (the amount is already rounded by it)."""
    return {
        "kind": line.kind,
        "amount": money_text(line.amount, rounding),
        "rule": line.rule,
        "deal": line.deal,
        "credit": exact(line.credit),
        "tier": line.tier,
        "rate": exact(line.rate),
        "factor": exact(line.factor),
        "note": line.note or None,
    }


def write_json(out: IO[str], statements: Iterable[Statement], as_of=None) -> None:
    """``render_json``'s text, written one statement at a time: a payout of a million deals never
    holds its whole document (its records and its text were most of the run's memory), nor, when
    ``statements`` is an iterator (``PayoutProgram.stream``), its statements: the combined
    statements at the end need only each statement's heading and total, which are kept."""
    out.write('{\n  "statements": ')
    kept: list[Statement] = []  # each statement without its lines and credits: what ``combine`` reads, at the end
    for s in statements:
        out.write(("[" if not kept else ",") + "\n    ")
        out.write(dumps_nested(statement_record(s), 2))
        kept.append(attrs.evolve(s, lines=(), credits=(), tiers=None))
    out.write("\n  ]" if kept else "[]")
    combined = combine(kept)
    if combined:
        out.write(',\n  "combined": ' + dumps_nested([combined_record(c) for c in combined], 1))
    if as_of is not None:
        out.write(',\n  "as_of": ' + dumps_nested(as_of.isoformat(), 1))
    out.write("\n}\n")


def render_json(statements: Iterable[Statement], as_of=None) -> str:
    statements = list(statements)
    document = {"statements": [statement_record(s) for s in statements]}
    combined = combine(statements)
    if combined:
        document["combined"] = [combined_record(c) for c in combined]
    if as_of is not None:
        document["as_of"] = as_of.isoformat()
    return dumps_indented(document) + "\n"


def render_csv(statements: Iterable[Statement]) -> str:
    """One row per line, then one 'total' row per statement (a statement with no lines has only that)."""
    out = io.StringIO()
    write_csv(out, statements)
    return out.getvalue()


def write_csv(out: IO[str], statements: Iterable[Statement]) -> None:
    """``render_csv``'s rows, written as each statement comes."""
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in statements:
        head = [
            s.rep,
            s.name or "",
            s.plan,
            s.period.label,
            s.period.start.isoformat(),
            s.period.last.isoformat(),
            s.currency,
        ]
        for line in s.lines:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in head
                    + [
                        line.kind,
                        line.rule,
                        line.deal or "",
                        exact(line.credit) or "",
                        line.tier or "",
                        exact(line.rate) or "",
                        exact(line.factor) or "",
                        money_text(line.amount, s.rounding),
                        line.note,
                    ]
                ]
            )
        writer.writerow(
            [
                safe_cell(v)
                for v in head
                + [
                    "total",
                    "",
                    "",
                    exact(s.credit),
                    "",
                    "",
                    "",
                    money_text(s.total, s.rounding),
                    f"attainment {percent(s.attainment)}",
                ]
            ]
        )


# table and markdown


def _describe(line: Line) -> str:
    if line.kind == "commission":
        text = line.tier or ""
        return f"{text}: {line.note}" if line.note else text
    return line.note


def _rows(s: Statement) -> list[list[str]]:
    return [
        [
            line.kind,
            line.deal or "",
            shown_credit(line.credit),
            shown_rate(line),
            shown_money(line.amount, s.rounding),
            line.rule,
            _describe(line),
        ]
        for line in s.lines
    ]


HEADERS = ["line", "deal", "credit", "rate", "amount", "rule", "detail"]
RIGHT = {2, 3, 4}


def _table_columns():
    """The columns of a statement's lines for people (``--columns`` picks among them by key)."""
    from .table import Column

    return [
        Column("line", "line", max_width=16),
        Column("deal", "deal", max_width=24, min_width=8, cut="middle"),
        Column("credit", "credit", right=True, cut="never"),
        Column("rate", "rate", right=True, cut="never"),
        Column("amount", "amount", right=True, cut="never"),
        Column("rule", "rule", max_width=24, min_width=6),
        Column("detail", "detail", max_width=80, min_width=10, comfort=20),
    ]


COLUMNS = _table_columns()


def _heading(s: Statement) -> list[str]:
    who = f"{s.name} ({s.rep})" if s.name else s.rep
    quota = "no quota" if s.quota is None else f"quota {shown_money(s.quota, s.rounding)}"
    if s.quota_period is not None:
        measure = (
            f"credited {shown_credit(s.credit)} this period, {shown_credit(s.credit_to_date)} in "
            f"{s.quota_period.label} to date"
        )
    else:
        measure = f"credited {shown_credit(s.credit)}"
    lines = [
        f"{who} · plan {s.plan} · {s.period.label} ({s.period.start} to {s.period.last}) · {s.currency}",
        f"{quota} · {measure} · attainment {percent(s.attainment)} · {len(s.credits)} credited deal"
        f"{'s' * (len(s.credits) != 1)}",
    ]
    return lines


def render_table(statements: Iterable[Statement], display=None) -> str:
    """Each statement: its heading, its lines as a table sized from their content, its total; then a summary."""
    from .table import Display, Paint, choose, printable, render

    display = display or Display()
    paint = Paint(display.color)
    columns = choose(COLUMNS, HEADERS, display.columns)
    out: list[str] = []
    statements = list(statements)
    for s in statements:
        out.extend(printable(line) for line in _heading(s))
        rows = _rows(s)
        if rows:
            styles = [[None, None, None, None, "loss" if line.amount < 0 else None, None, None] for line in s.lines]
            out.extend(render(columns, rows, display, styles, indent="  "))
        else:
            out.append("  (no lines)")
        for note in s.notes:
            out.append(f"  note: {printable(note)}")
        balance = f" · draw balance {shown_money(s.draw_balance, s.rounding)}" if s.draw_balance else ""
        out.append(
            "  "
            + paint("total", f"total {shown_money(s.total, s.rounding)} {s.currency}")
            + f" ({len(s.lines)} line{'s' * (len(s.lines) != 1)}){balance}"
        )
        out.append("")
    for c in combine(statements):
        out.extend(printable(line) for line in combined_lines(c))
        out.append("")
    if len(statements) > 1:
        out.append(summary_table(statements, display))
    return "\n".join(out).rstrip("\n") + "\n" if out else "no statements\n"


def summary_table(statements: list, display=None) -> str:
    from .table import Column, Display, render

    display = display or Display()
    rows = [
        [s.rep, s.plan, s.period.label, percent(s.attainment), shown_money(s.total, s.rounding), s.currency]
        for s in statements
    ]
    columns = [
        Column("rep", "rep", max_width=24),
        Column("plan", "plan", max_width=24),
        Column("period", "period", max_width=20),
        Column("attainment", "attainment", right=True, cut="never"),
        Column("total", "total", right=True, cut="never"),
        Column("currency", "", cut="never"),
    ]
    return "\n".join(render(columns, rows, Display(display.width, display.color)))


def _md(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(statements: Iterable[Statement]) -> str:
    out = []
    statements = list(statements)
    for s in statements:
        who = f"{s.name} ({s.rep})" if s.name else s.rep
        out.append(f"## {_md(who)} · {s.plan} · {s.period.label}")
        out.append("")
        out.append(
            f"{s.period.start} to {s.period.last} · {s.currency} · " + " · ".join(_md(x) for x in _heading(s)[1:])
        )
        out.append("")
        out.append("| " + " | ".join(HEADERS) + " |")
        out.append("|" + "|".join("---:" if i in RIGHT else "---" for i in range(len(HEADERS))) + "|")
        for row in _rows(s):
            out.append("| " + " | ".join(_md(c) for c in row) + " |")
        out.append(f"| **total** | | | | **{shown_money(s.total, s.rounding)}** | | {len(s.lines)} lines |")
        for note in s.notes:
            out.append(f"\n> {_md(note)}")
        out.append("")
    for c in combine(statements):
        head, *rest = combined_lines(c)
        out.append(f"## {_md(head)}")
        out.append("")
        out.extend(f"- {_md(line.strip())}" for line in rest)
        out.append("")
    if len(statements) > 1:
        out.append("## Summary")
        out.append("")
        out.append("| rep | plan | period | attainment | total |")
        out.append("|---|---|---|---:|---:|")
        for s in statements:
            out.append(
                f"| {_md(s.rep)} | {s.plan} | {s.period.label} | {percent(s.attainment)} | "
                f"{shown_money(s.total, s.rounding)} {s.currency} |"
            )
        out.append("")
    return "\n".join(out) if out else "_no statements_\n"


# explanation


def render_explanations(statements: Iterable[Statement]) -> str:
    """Each statement walked step by step; then, for a rep who changed plans, how its parts add up."""
    statements = list(statements)
    text = "\n".join(render_explain(s) for s in statements)
    for c in combine(statements):
        text += "\n" + "\n".join(combined_lines(c)) + "\n"
    return text or "no statements\n"


def render_explain(s: Statement) -> str:
    """One statement walked step by step: quota, credits in order, the rate table, every line, the total."""
    out = []
    who = f"{s.name} ({s.rep})" if s.name else s.rep
    out.append(
        f"Statement of {who}, plan {s.plan}, period {s.period.label} ({s.period.start} to {s.period.last}), "
        f"in {s.currency}, lines rounded {s.rounding.replace('_', ' ')} to cents."
    )
    out.extend(f"  {note}." for note in s.notes if note.startswith("assignment:"))
    step = 0

    def heading(text):
        nonlocal step
        step += 1
        out.append("")
        out.append(f"Step {step}. {text}")

    span = s.quota_period.label if s.quota_period else s.period.label
    heading("Quota")
    if s.quota is None:
        out.append("  No quota: attainment is not measured.")
    else:
        source = "the rep's own quota" if s.quota_source == "rep" else "the plan's default quota"
        out.append(f"  {shown_money(s.quota, s.rounding)} for {span} ({source}).")
    for note in s.notes:
        if note.startswith(("quota", "split statement", "part ")):
            out.append(f"  {note}.")
    if s.quota_period is not None:
        out.append(
            f"  The quota covers {span}, longer than the pay period: attainment is measured to date, "
            f"and this period pays the earnings to date less what earlier periods of {span} paid."
        )

    heading("Credited deals, in credit-date order (ties by deal id)")
    if not s.credits:
        out.append("  None.")
    running = Decimal(0)
    for number, c in enumerate(s.credits, 1):
        running += c.amount
        share = (
            ""
            if c.share == 1 and c.role == "owner"
            else f" ({percent(c.share)} {c.role} of {shown_credit(c.deal_credit)})"
        )
        attainment = f", attainment {percent(running / s.quota)}" if s.quota and s.attainment is not None else ""
        extra = f", multipliers {', '.join(c.multipliers)}" if c.multipliers else ""
        out.append(
            f"  {number:>3}. {c.date}  {c.deal}: credit {shown_credit(c.amount)}{share}; running total "
            f"{shown_credit(running)}{attainment}{extra}"
        )
    if s.quota_period is not None:
        out.append(
            f"  Credited in {s.period.label}: {shown_credit(s.credit)}; in {span} to date: "
            f"{shown_credit(s.credit_to_date)}."
        )
    else:
        out.append(f"  Credited in {s.period.label}: {shown_credit(s.credit)}.")
    if s.attainment is not None:
        out.append(
            f"  Attainment: {shown_credit(s.credit_to_date if s.quota_period else s.credit)} / "
            f"{shown_money(s.quota, s.rounding)} = {percent(s.attainment)}."
        )

    if s.tiers is not None:
        heading("Rate table as applied (bounds in credit; a tier includes its lower bound, not its upper)")
        t = s.tiers
        for i in range(len(t.rates)):
            upper = "and above" if t.uppers[i] is None else f"to {shown_credit(t.uppers[i])}"
            extra = f"  [{t.notes[i]}]" if t.notes[i] else ""
            out.append(
                f"  {t.labels[i]}: from {shown_credit(t.lowers[i])} {upper}: rate {rate_text(t.rates[i])}{extra}"
            )

    heading("Lines")
    if not s.lines:
        out.append("  None: nothing is owed for this period.")
    running = Decimal(0)
    for number, line in enumerate(s.lines, 1):
        running += line.amount
        out.append(
            f"  {number:>3}. {_explain_line(line, s.rounding)}  (running total {shown_money(running, s.rounding)})"
        )

    heading("Total")
    out.append(
        f"  Sum of {len(s.lines)} line{'s' * (len(s.lines) != 1)} = "
        f"{shown_money(s.total, s.rounding)} {s.currency}"
        f"{' (reconciles to the cent)' if s.reconciles else ' (DOES NOT RECONCILE)'}."
    )
    if s.draw_balance is not None:
        out.append(f"  Recoverable draw balance carried forward: {shown_money(s.draw_balance, s.rounding)}.")
    return "\n".join(out) + "\n"


def _explain_line(line: Line, rounding: str) -> str:
    amount = shown_money(line.amount, rounding)
    if line.kind == "commission" and line.credit is not None and line.rate is not None:
        factor = f" x {exact(line.factor)} (multipliers)" if line.factor is not None else ""
        exact_value = line.credit * line.rate * (line.factor if line.factor is not None else 1)
        rounding = "" if exact_value == line.amount else f" (exactly {exact(exact_value)}, rounded)"
        note = f"; {line.note}" if line.note else ""
        return (
            f"deal {line.deal}: {shown_credit(line.credit)} in tier '{line.tier}' x "
            f"{rate_text(line.rate)}{factor} = {amount}{rounding}{note}"
        )
    what = {
        "true_up": "retroactive true-up",
        "gate": "gate",
        "prior_periods": "paid before",
        "cap": "cap",
        "bonus": "bonus",
        "clawback": "clawback",
        "draw": "draw",
        "draw_recovery": "draw recovery",
        "carry_forward": "carried forward",
        "holdback": "held back",
        "holdback_release": "holdback paid",
    }.get(line.kind, line.kind)
    if line.kind == "true_up" and line.rule == "overage":
        what = "overage true-up"
    deal = f" on deal {line.deal}" if line.deal else ""
    return (
        f"{what} [{line.rule}]{deal}: {amount} — {line.note}" if line.note else f"{what} [{line.rule}]{deal}: {amount}"
    )


# Every format: (statements, as_of) -> text; only JSON records the as-of date.
# The formats written as the statements come, not made whole first: (out, statements, as_of) -> None.
WRITERS: dict[str, Callable[..., None]] = {
    "csv": lambda out, statements, as_of: write_csv(out, statements),
    "json": write_json,
}

FORMATS: dict[str, Callable[..., str]] = {
    "table": lambda statements, as_of, display=None: render_table(statements, display),
    "csv": lambda statements, as_of: render_csv(statements),
    "json": render_json,
    "markdown": lambda statements, as_of: render_markdown(statements),
}
