"""A PackDiff as text, as Markdown for a pull-request comment, or as JSON."""

from __future__ import annotations

import json
from decimal import Decimal

from ..diff import PackDiff
from ..money import cents, shown_money
from .common import jsonable

MAX_ROWS = 100  # deals listed in Markdown; a PR comment with 50,000 rows helps nobody


def _value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]" if value else "[]"
    return str(value)


def _signed(value: Decimal) -> str:
    shown = shown_money(value)  # a change that rounds to zero is '+0.00', never '-0.00'
    return shown if shown.startswith("-") else f"+{shown}"


def _change_text(change, people: bool = False) -> str:
    """What changes in one deal; for ``people`` (the text table) amounts with thousands separators."""

    def shown(key, value):
        if people and key == "weighted_amount" and value is not None:
            return shown_money(Decimal(value))
        return _value(value)

    return "; ".join(
        f"{key} {shown(key, before)} → {shown(key, after)}" for key, (before, after) in change.changes.items()
    )


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, no line breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def summary_line(diff: PackDiff) -> str:
    counts = diff.counts_by_key()
    parts = [f"{len(diff.changes)} deal{'s' * (len(diff.changes) != 1)} of {diff.deals} change"]
    detail = ", ".join(f"{key.replace('_', ' ')} {n}" for key, n in counts.items() if n)
    if detail:
        parts[0] += f" ({detail})"
    before, after = diff.forecast
    parts.append(f"weighted forecast {shown_money(before)} → {shown_money(after)} ({_signed(after - before)})")
    if diff.payout_totals is not None:
        b, a = diff.payout_totals
        parts.append(
            f"payouts {diff.period}: {len(diff.payouts)} rep{'s' * (len(diff.payouts) != 1)} change, "
            f"total {shown_money(b)} → {shown_money(a)} ({_signed(a - b)})"
        )
    return "; ".join(parts)


def _table_columns():
    """The columns of the deals that change, for people (``--columns`` picks among them by key)."""
    from .table import Column

    return [
        Column("line", "line", right=True, cut="never"),
        Column("deal", "deal", max_width=24, min_width=12, cut="middle"),
        Column("stage", "stage", max_width=20, min_width=6),
        Column("changes", "what changes", max_width=120, min_width=20),
    ]


COLUMNS = _table_columns()


def _delta_style(value: Decimal) -> str | None:
    return "gain" if value > 0 else "loss" if value < 0 else None


def render_text(diff: PackDiff, display=None) -> str:
    """The report for people: the deals that change, the forecast by stage and the payouts, as tables."""
    from .table import Column, Display, choose, render

    display = display or Display()
    plain = Display(display.width, display.color)
    out = [f"dealgate diff {diff.base} → {diff.new} (as of {diff.as_of.isoformat()})"]
    if diff.changes:
        rows = [[str(c.line), c.id or "?", c.stage or "?", _change_text(c, people=True)] for c in diff.changes]
        out += render(choose(COLUMNS, [c.key for c in COLUMNS], display.columns), rows, display, indent="  ")
    changed_stages = [
        s
        for s in diff.stages
        if s.count[0] != s.count[1] or s.weighted[0] != s.weighted[1] or s.amount[0] != s.amount[1]
    ]
    if changed_stages:
        out.append("  forecast by stage:")
        columns = [
            Column("stage", "stage", max_width=30),
            Column("deals", "deals", cut="never"),
            Column("before", "weighted before", right=True, cut="never"),
            Column("after", "weighted after", right=True, cut="never"),
            Column("delta", "delta", right=True, cut="never"),
        ]
        rows = [
            [
                s.stage,
                f"{s.count[0]:,} → {s.count[1]:,}",
                shown_money(s.weighted[0]),
                shown_money(s.weighted[1]),
                _signed(s.weighted[1] - s.weighted[0]),
            ]
            for s in changed_stages
        ]
        styles = [[*[None] * 4, _delta_style(s.weighted[1] - s.weighted[0])] for s in changed_stages]
        out += render(columns, rows, plain, styles, indent="    ")
    if diff.payouts:
        out.append(f"  payouts {diff.period}:")
        columns = [
            Column("rep", "rep", max_width=30),
            Column("before", "before", right=True, cut="never"),
            Column("after", "after", right=True, cut="never"),
            Column("delta", "delta", right=True, cut="never"),
        ]
        rows = [[rep.rep, shown_money(rep.before), shown_money(rep.after), _signed(rep.delta)] for rep in diff.payouts]
        styles = [[*[None] * 3, _delta_style(rep.delta)] for rep in diff.payouts]
        out += render(columns, rows, plain, styles, indent="    ")
    out.append(summary_line(diff))
    return "\n".join(out) + "\n"


def render_markdown(diff: PackDiff) -> str:
    out = [
        f"### dealgate diff: `{diff.base}` → `{diff.new}`",
        "",
        f"**{summary_line(diff)}** (as of {diff.as_of.isoformat()})",
        "",
    ]
    if diff.changes:
        out += ["| line | deal | stage | what changes |", "|---:|---|---|---|"]
        for change in diff.changes[:MAX_ROWS]:
            out.append(
                f"| {change.line} | {_cell(change.id or '?')} | {change.stage or '?'} | {_cell(_change_text(change))} |"
            )
        if len(diff.changes) > MAX_ROWS:
            out.append(f"\n…and {len(diff.changes) - MAX_ROWS} more deals (run `dealgate diff --format json` for all).")
        out.append("")
    else:
        out += ["No deal changes verdict, failed criteria, qualify-out rules, evidence stage or weighted amount.", ""]
    out += [
        "<details><summary>Forecast by stage</summary>",
        "",
        "| stage | deals before | deals after | weighted before | weighted after | delta |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in diff.stages:
        out.append(
            f"| {s.stage} | {s.count[0]} | {s.count[1]} | {shown_money(s.weighted[0])} | "
            f"{shown_money(s.weighted[1])} | {_signed(s.weighted[1] - s.weighted[0])} |"
        )
    out += ["", "</details>", ""]
    if diff.payout_totals is not None:
        out += [f"**Payouts {diff.period}**", ""]
        if diff.payouts:
            out += ["| rep | before | after | delta |", "|---|---:|---:|---:|"]
            out += [
                f"| {r.rep} | {shown_money(r.before)} | {shown_money(r.after)} | {_signed(r.delta)} |"
                for r in diff.payouts
            ]
        else:
            out.append("No rep's payout changes.")
        out.append("")
    return "\n".join(out)


def render_json(diff: PackDiff) -> str:
    data = {
        "base": diff.base,
        "new": diff.new,
        "as_of": diff.as_of.isoformat(),
        "deals": diff.deals,
        "changed": diff.changed,
        "summary": summary_line(diff),
        "changes": [
            {
                "line": c.line,
                "id": c.id,
                "stage": c.stage,
                "changes": {k: {"before": jsonable(b), "after": jsonable(a)} for k, (b, a) in c.changes.items()},
            }
            for c in diff.changes
        ],
        "forecast": {"before": str(cents(diff.forecast[0])), "after": str(cents(diff.forecast[1]))},
        "stages": [
            {"stage": s.stage, "count": list(s.count), "amount": jsonable(s.amount), "weighted": jsonable(s.weighted)}
            for s in diff.stages
        ],
        "payouts": None
        if diff.payout_totals is None
        else {
            "period": diff.period,
            "total": {"before": str(diff.payout_totals[0]), "after": str(diff.payout_totals[1])},
            "reps": [
                {"rep": r.rep, "before": str(r.before), "after": str(r.after), "delta": str(r.delta)}
                for r in diff.payouts
            ],
        },
    }
    return json.dumps(data, indent=2) + "\n"


# Every format: (diff) -> text.
FORMATS = {"text": render_text, "markdown": render_markdown, "json": render_json}  # text takes display=
