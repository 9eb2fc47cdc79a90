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


def _typed(run, name: str, value):
    """Money to the cent (what people compare), everything else as read."""
    if isinstance(value, Decimal) and _type_of(run, name) == T.MONEY:
        return cents(value)
    return value


def _type_of(run, name: str) -> str | None:
    from ..segments.model import AGGREGATES

    field = run.classifier.segments.fields.fields.get(name)
    return field.type if field is not None else AGGREGATES.get(name, (None,))[0]


def reads_text(run, values: dict) -> str:
    """'revenue=1100.04, open_deals=3': what the matched tier's condition read."""
    return ", ".join(f"{name}={value_text(_typed(run, name, value))}" for name, value in values.items())


def _row(run, item) -> tuple:
    key = item.account.get(run.classifier.segments.key)
    return item.line, key, item.tier.id, item.tier.why or "", reads_text(run, item.values)


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


ROW_KEYS = ("line", "account", "tier", "why", "read")  # the cells of _row, in order
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
    rows = [[dict(zip(ROW_KEYS, map(str, _row(run, item))))[k] for k in keys] for item in run.accounts()]
    for line in layout(columns, rows, display):
        out.write(line.rstrip() + "\n")
    out.write("\n" + summary_text(run))


def render_csv(out, run) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_KEYS)
    for row in (_row(run, item) for item in run.accounts()):
        writer.writerow([row[0]] + [safe_cell(cell) for cell in row[1:]])


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def render_json(out, run) -> None:
    """One document, streamed: the accounts, then the summary (known only once they are read)."""
    out.write('{"accounts": [')
    first = True
    for item in run.accounts():
        record = {"line": item.line, "account": item.account.get(run.classifier.segments.key),
                  "tier": item.tier.id, "tier_name": item.tier.name, "why": item.tier.why,
                  "read": {n: _jsonable(_typed(run, n, v)) for n, v in item.values.items()}}
        out.write(("\n  " if first else ",\n  ") + json.dumps(record, ensure_ascii=False))
        first = False
    out.write(("\n" if not first else "") + '], "summary": ' + json.dumps(run.summary(), ensure_ascii=False) + "}\n")


def _md(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(out, run) -> None:
    out.write("| line | account | tier | why | read |\n|---:|---|---|---|---|\n")
    for row in (_row(run, item) for item in run.accounts()):
        out.write("| " + " | ".join(_md(cell) for cell in row) + " |\n")
    out.write("\n" + "".join(f"- {line}\n" for line in _counts(run)))


FORMATS = {"table": render_table, "csv": render_csv, "json": render_json, "markdown": render_markdown}
