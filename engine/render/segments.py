"""Account tiers rendered: each account's tier and why (the tier's reason and the values its condition
read), then the accounts per tier. Table for people; CSV, JSON and Markdown for tools and pages.

Every renderer takes ``(out, run)``, where ``run`` is an engine.segments.classify.SegmentRun whose
``accounts()`` is consumed here, and writes the summary once the accounts are done.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

from .. import types as T
from ..money import cents
from ..output import csv_writer, safe_cell
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
    return frozenset(
        [f.name for f in fields if f.type == T.MONEY]
        + [name for name, (type_, _) in AGGREGATES.items() if type_ == T.MONEY]
    )


def _typed(money: frozenset, name: str, value):
    return cents(value) if name in money and isinstance(value, Decimal) else value


def reads_text(money: frozenset, values: dict) -> str:
    """'revenue=1100.04, open_deals=3': what the matched tier's condition read."""
    return ", ".join(f"{name}={value_text(_typed(money, name, value))}" for name, value in values.items())


NAME = "name"  # an account field shown beside the key when the key is something else (a CRM id)


def _keys(run) -> tuple:
    """The cells of a row: the account's name too when it is declared and is not the key."""
    segments = run.classifier.segments
    shows_name = NAME in segments.fields and segments.key != NAME
    return ROW_KEYS if shows_name else tuple(k for k in ROW_KEYS if k != NAME)


def _rows(run):
    """(line, account key, [name,] tier, why, read) per account, as text for the text formats."""
    money, key, with_name = money_names(run), run.classifier.segments.key, NAME in _keys(run)
    for item in run.accounts():
        account = item.account
        yield (
            (item.line, account.get(key))
            + ((account.get(NAME),) if with_name else ())
            + (item.tier.id, item.tier.why or "", reads_text(money, item.values))
        )


def _counts(run) -> list[str]:
    summary = run.summary()
    lines = [
        f"as of {summary['as_of']}: {_plural(summary['accounts'], 'account')}: "
        + ", ".join(f"{tier} {count}" for tier, count in summary["tiers"].items())
    ]
    deals = summary.get("deals")
    if deals is not None:
        lines.append(
            f"deals: {deals['matched']} matched to an account, {deals['without_account']} without an "
            f"account, {deals['unknown_account']} naming an account not in the export "
            f"({_plural(deals['unknown_accounts'], 'account')})"
        )
        sharing = deals["accounts_sharing_a_key"]
        if sharing:
            lines.append(
                f"warning: {_plural(sharing, 'account')} {'shares its' if sharing == 1 else 'share their'} "
                f"key with an earlier row, and each gets all of the key's deals"
            )
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary_text(run) -> str:
    return "".join(line + "\n" for line in _counts(run))


ROW_KEYS = ("line", "account", NAME, "tier", "why", "read")  # the cells of _rows, in order (see _keys)
COLUMNS = [
    Column("line", "line", right=True, max_width=8),
    Column("account", "account", max_width=40, cut="middle"),
    Column(NAME, NAME, max_width=40, optional=True),
    Column("tier", "tier", max_width=20),
    Column("why", "why", max_width=50),
    Column("read", "read", max_width=80, optional=True),
]


def render_table(out, run, display: Display | None = None) -> None:
    display, cells = display or Display(), _keys(run)
    columns = choose(COLUMNS, list(cells), display.columns)
    positions = [cells.index(c.key) if c.key in cells else None for c in columns]
    rows = [["" if p is None or row[p] is None else str(row[p]) for p in positions] for row in _rows(run)]
    for line in layout(columns, rows, display):
        out.write(line.rstrip() + "\n")
    out.write("\n" + summary_text(run))


def render_csv(out, run) -> None:
    writer = csv_writer(out)
    writer.writerow(_keys(run))
    for row in _rows(run):
        writer.writerow([row[0]] + [safe_cell(cell) for cell in row[1:]])


def render_json(out, run) -> None:
    """One document, streamed: the accounts, then the summary (known only once they are read)."""
    out.write('{"accounts": [')
    first, money, with_name = True, money_names(run), NAME in _keys(run)
    for item in run.accounts():
        record = {
            "line": item.line,
            "account": item.account.get(run.classifier.segments.key),
            **({NAME: item.account.get(NAME)} if with_name else {}),
            "tier": item.tier.id,
            "tier_name": item.tier.name,
            "why": item.tier.why,
            "read": {n: jsonable(_typed(money, n, v)) for n, v in item.values.items()},
        }
        out.write(("\n  " if first else ",\n  ") + json.dumps(record, ensure_ascii=False))
        first = False
    out.write(("\n" if not first else "") + '], "summary": ' + json.dumps(run.summary(), ensure_ascii=False) + "}\n")


def _md(text) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(out, run) -> None:
    keys = _keys(run)
    out.write("| " + " | ".join(keys) + " |\n|---:|" + "---|" * (len(keys) - 1) + "\n")
    for row in _rows(run):
        out.write("| " + " | ".join(_md(cell) for cell in row) + " |\n")
    out.write("\n" + "".join(f"- {line}\n" for line in _counts(run)))


# (out, run), and the table also the Display it is drawn with
FORMATS: dict[str, Callable[..., None]] = {
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
    "markdown": render_markdown,
}
