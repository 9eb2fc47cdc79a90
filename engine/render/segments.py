"""Account tiers rendered: each account's tier and why (the tier's reason and the values its condition
read), then the accounts per tier. Table for people; CSV, JSON and Markdown for tools and pages.

Every renderer takes ``(out, run)``, where ``run`` is an engine.segments.classify.SegmentRun whose
``accounts()`` is consumed here, and writes the summary once the accounts are done.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

from .. import types as T
from ..money import cents
from ..output import safe_cell
from ..segments.model import AGGREGATES
from .common import jsonable
from .table import Column, Display, choose
from .table import render as layout


def value_text(value) -> str:
    """A value a tier read, as text: money and numbers exact (money to the cent), dates ISO, null 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(map(str, value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def money_names(run) -> frozenset:
    """The account fields and deal totals that are money: shown to the cent, what people compare."""
    fields = run.classifier.segments.fields.fields.values()
    return frozenset([f.name for f in fields if f.type == T.MONEY] +
                     [name for name, (type_, _) in AGGREGATES.items() if type_ == T.MONEY])


def _typed(money: frozenset, name: str, value):
    return cents(value) if name in money and isinstance(value, Decimal) else value


def reads_text(money: frozenset, values: dict) -> str:
    """'revenue=1100.04, open_deals=3': what the matched tier's condition read."""
    return ", ".join(f"{name}={value_text(_typed(money, name, value))}" for name, value in values.items())


def _rows(run):
    """(line, account key, tier, why, read) per account, as text for the text formats."""
    money, key = money_names(run), run.classifier.segments.key
    for item in run.accounts():
        yield item.line, item.account.get(key), item.tier.id, item.tier.why or "", reads_text(money, item.values)


def _counts(run) -> list[str]:
    summary = run.summary()
    lines = [f"as of {summary['as_of']}: {summary['accounts']} accounts: "
             + ", ".join(f"{tier} {count}" for tier, count in summary["tiers"].items())]
    deals = summary.get("deals")
    if deals is not None:
        lines.append(f"deals: {deals['matched']} matched to an account, {deals['without_account']} without an "
                     f"account, {deals['unknown_account']} naming an account not in the export "
                     f"({_plural(deals['unknown_accounts'], 'account')})")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary_text(run) -> str:
    return "".join(line + "\n" for line in _counts(run))


ROW_KEYS = ("line", "account", "tier", "why", "read")  # the cells of _rows, in order
COLUMNS = [
    Column("line", "line", right=True, max_width=8),
    Column("account", "account", max_width=40),
    Column("tier", "tier", max_width=20),
    Column("why", "why", max_width=50),
    Column("read", "read", max_width=80, optional=True),
]


def render_table(out, run, display: Display | None = None) -> None:
    display = display or Display()
    columns = choose(COLUMNS, [c.key for c in COLUMNS], display.columns)
    keys = [c.key for c in columns]
    positions = [ROW_KEYS.index(k) for k in keys]
    rows = [[str(row[p] if row[p] is not None else "") for p in positions] for row in _rows(run)]
    for line in layout(columns, rows, display):
        out.write(line.rstrip() + "\n")
    out.write("\n" + summary_text(run))


def render_csv(out, run) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_KEYS)
    for row in _rows(run):
        writer.writerow([row[0]] + [safe_cell(cell) for cell in row[1:]])


def render_json(out, run) -> None:
    """One document, streamed: the accounts, then the summary (known only once they are read)."""
    out.write('{"accounts": [')
    first, money = True, money_names(run)
    for item in run.accounts():
        record = {"line": item.line, "account": item.account.get(run.classifier.segments.key),
                  "tier": item.tier.id, "tier_name": item.tier.name, "why": item.tier.why,
                  "read": {n: jsonable(_typed(money, n, v)) for n, v in item.values.items()}}
        out.write(("\n  " if first else ",\n  ") + json.dumps(record, ensure_ascii=False))
        first = False
    out.write(("\n" if not first else "") + '], "summary": ' + json.dumps(run.summary(), ensure_ascii=False) + "}\n")


def _md(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(out, run) -> None:
    out.write("| line | account | tier | why | read |\n|---:|---|---|---|---|\n")
    for row in _rows(run):
        out.write("| " + " | ".join(_md(cell) for cell in row) + " |\n")
    out.write("\n" + "".join(f"- {line}\n" for line in _counts(run)))


FORMATS = {"table": render_table, "csv": render_csv, "json": render_json, "markdown": render_markdown}
