"""Pipeline movement (engine.forecast.movement) as a table, CSV, JSON or Markdown.

The waterfall comes first (old weighted pipeline, each step, new weighted pipeline: the steps add
up to the difference to the cent), then the counts of each change, then the deals that changed.
CSV is the deals that changed, one row each; JSON carries everything. Money as in the other
renderers: plain digits with two decimals in CSV and JSON, thousands separators for people.
"""

from __future__ import annotations

from ..forecast.movement import CHANGES, STEPS, DealMovement, Movement
from ..money import money_text, shown_money
from .jsontext import dumps_indented
from .report import csv_text, md_table

CSV_COLUMNS = (
    "id",
    "name",
    "owner",
    "changes",
    "old_stage",
    "new_stage",
    "old_amount",
    "new_amount",
    "old_close_date",
    "new_close_date",
    "old_verdict",
    "new_verdict",
    "old_category",
    "new_category",
    "old_weighted",
    "new_weighted",
    "weighted_change",
)


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def deal_record(deal: DealMovement) -> dict:
    old, new = deal.old, deal.new
    latest = new or old
    assert latest is not None, "a deal is in one snapshot at least"
    return {
        "id": deal.id,
        "name": latest.name,
        "owner": latest.owner,
        "changes": list(deal.changes),
        "old_stage": old and old.stage,
        "new_stage": new and new.stage,
        "old_amount": money_text(old and old.amount),
        "new_amount": money_text(new and new.amount),
        "old_close_date": _date(old and old.close),
        "new_close_date": _date(new and new.close),
        "old_verdict": old and old.verdict,
        "new_verdict": new and new.verdict,
        "old_category": old and old.category,
        "new_category": new and new.category,
        "old_weighted": money_text(old.weighted if old else None),
        "new_weighted": money_text(new.weighted if new else None),
        "weighted_change": money_text(deal.delta),
    }


def movement_record(movement: Movement) -> dict:
    return {
        "old": {
            "deals": movement.old_deals,
            "weighted_pipeline": money_text(movement.old_weighted),
            "repeated_ids": movement.duplicates["old"],
        },
        "new": {
            "deals": movement.new_deals,
            "weighted_pipeline": money_text(movement.new_weighted),
            "repeated_ids": movement.duplicates["new"],
        },
        "period_kind": movement.period_kind,
        "waterfall": [
            {"step": step, "deals": movement.step_deals[step], "amount": money_text(movement.steps[step])}
            for step in STEPS
        ],
        "difference": money_text(movement.difference),
        "changes": {change: movement.counts[change] for change in CHANGES},
        "deals": [deal_record(d) for d in movement.deals],
    }


def render_json(movement: Movement) -> str:
    return dumps_indented(movement_record(movement)) + "\n"


def render_csv(movement: Movement) -> str:
    return csv_text(CSV_COLUMNS, map(deal_record, movement.deals))


# for people


def _waterfall_rows(movement: Movement) -> list[list[str]]:
    rows = [["old weighted pipeline", str(movement.old_deals), shown_money(movement.old_weighted)]]
    rows += [
        [step.replace("_", " "), str(movement.step_deals[step]), shown_money(movement.steps[step])]
        for step in STEPS
        if movement.step_deals[step]
    ]
    rows.append(["new weighted pipeline", str(movement.new_deals), shown_money(movement.new_weighted)])
    return rows


def _arrow(old, new) -> str:
    old, new = ("" if old is None else str(old)), ("" if new is None else str(new))
    return old if old == new else f"{old or '-'} → {new or '-'}"


def _deal_rows(movement: Movement) -> list[list[str]]:
    rows = []
    for deal in movement.deals:
        old, new = deal.old, deal.new
        rows.append(
            [
                deal.id,
                (new or old).owner or "",
                ", ".join(c.replace("_", " ") for c in deal.changes),
                _arrow(old and old.stage, new and new.stage),
                _arrow(shown_money(old.amount) if old else None, shown_money(new.amount) if new else None),
                _arrow(old and old.close, new and new.close),
                _arrow(old and old.category, new and new.category),
                shown_money(deal.delta),
            ]
        )
    return rows


WATERFALL_HEADERS = ["step", "deals", "weighted"]
DEAL_HEADERS = ["id", "owner", "changes", "stage", "amount", "close date", "category", "weighted Δ"]


def _counts_line(movement: Movement) -> str:
    counted = [f"{change.replace('_', ' ')} {movement.counts[change]}" for change in CHANGES if movement.counts[change]]
    return "changes: " + (", ".join(counted) or "none")


def render_table(movement: Movement, display=None) -> str:
    from .table import Column, Display, render

    display = display or Display()
    plain = Display(display.width, display.color)
    waterfall = [
        Column("step", "step", max_width=24),
        Column("deals", "deals", right=True, cut="never"),
        Column("weighted", "weighted", right=True, cut="never"),
    ]
    rows = _waterfall_rows(movement)
    styles = (
        [["total"] * 3]
        + [[None, None, "gain" if movement.steps[s] > 0 else "loss"] for s in STEPS if movement.step_deals[s]]
        + [["total"] * 3]
    )
    out = [
        f"Weighted pipeline from old to new: {shown_money(movement.difference)} "
        f"(slipped and pushed by {movement.period_kind})",
        *render(waterfall, rows, plain, styles, indent="  "),
        "",
        _counts_line(movement),
    ]
    if movement.deals:
        columns = [
            Column("id", "id", max_width=24, min_width=8, cut="middle"),
            Column("owner", "owner", max_width=16),
            Column("changes", "changes", max_width=48, min_width=10),
            Column("stage", "stage", max_width=32),
            Column("amount", "amount", max_width=32, cut="never"),
            Column("close", "close date", max_width=24, cut="never"),
            Column("category", "category", max_width=24),
            Column("delta", "weighted Δ", right=True, cut="never"),
        ]
        out += ["", *render(columns, _deal_rows(movement), plain)]
    return "\n".join(out) + "\n"


def render_markdown(movement: Movement) -> str:
    out = [f"## Pipeline movement: weighted pipeline {shown_money(movement.difference)}", ""]
    out += md_table(WATERFALL_HEADERS, _waterfall_rows(movement), {1, 2})
    out += ["", _counts_line(movement), ""]
    if movement.deals:
        out += md_table(DEAL_HEADERS, _deal_rows(movement), {7})
    return "\n".join(out) + "\n"


# Every format: (movement) -> text; the table also takes display=.
FORMATS = {"table": render_table, "csv": render_csv, "json": render_json, "markdown": render_markdown}
