"""The forecast (engine.forecast.forecast) as a table, CSV, JSON or Markdown.

The conventions of the other renderers: money in JSON and CSV as plain digits with two decimals
("7500.00"), ratios and rates as decimal strings ("3.25", "0.4125"), never floats; tables for
people with thousands separators, coverage as "3.25x" and rates as percentages. With reps, CSV
is the coverage table (one row per rep and the total); JSON carries both tables.
"""

from __future__ import annotations

from ..forecast.forecast import Coverage, CrmComparison, Forecast, Totals
from ..money import money_text, shown_money
from .jsontext import dumps_indented
from .report import csv_text, md_cell, md_table

GROUP_NUMBERS = (
    "deals",
    "open_deals",
    "open_pipeline",
    "weighted",
    "won_deals",
    "won",
    "lost_deals",
    "lost",
    "win_rate",
)
COVERAGE_COLUMNS = (
    "rep",
    "name",
    "quota",
    "won",
    "remaining",
    "open_pipeline",
    "weighted",
    "coverage",
    "weighted_coverage",
    "win_rate",
    "needed_coverage",
)


def _exact(value) -> str | None:
    return None if value is None else str(value)


def totals_record(totals: Totals) -> dict:
    return {
        "deals": totals.deals,
        "open_deals": totals.open_deals,
        "open_pipeline": money_text(totals.open_amount),
        "weighted": money_text(totals.weighted),
        "won_deals": totals.won_deals,
        "won": money_text(totals.won_amount),
        "lost_deals": totals.lost_deals,
        "lost": money_text(totals.lost_amount),
        "win_rate": _exact(totals.win_rate),
        "unknown_amount": totals.unknown_amount,
    }


def coverage_record(row: Coverage) -> dict:
    return {
        "rep": row.rep,
        "name": row.name,
        "quota": money_text(row.quota),
        "won": money_text(row.won),
        "remaining": money_text(row.remaining),
        "open_pipeline": money_text(row.open_amount),
        "weighted": money_text(row.weighted),
        "coverage": _exact(row.coverage),
        "weighted_coverage": _exact(row.weighted_coverage),
        "win_rate": _exact(row.win_rate),
        "needed_coverage": _exact(row.needed),
    }


def forecast_record(forecast: Forecast) -> dict:
    record = {
        "as_of": forecast.as_of.isoformat(),
        "period": None
        if forecast.period is None
        else {
            "label": forecast.period.label,
            "start": forecast.period.start.isoformat(),
            "end": forecast.period.last.isoformat(),
        },
        "by": list(forecast.keys),
        "groups": [dict(zip(forecast.keys, values), **totals_record(t)) for values, t in forecast.sorted_groups()],
        "total": totals_record(forecast.total),
        "outside_period": forecast.outside_period,
        "no_close_date": forecast.no_close_date,
    }
    if forecast.coverage:
        record["coverage"] = [coverage_record(row) for row in forecast.coverage]
    if forecast.crm is not None:
        crm = forecast.crm
        record["crm_categories"] = {
            "field": crm.field,
            "compared": crm.compared,
            "agree": crm.agree,
            "blank": crm.blank,
            "disagreements": [
                {
                    "id": d.id,
                    "owner": d.owner,
                    "stage": d.stage,
                    "rules": d.rules,
                    "crm": d.crm,
                    "crm_category": d.crm_category,
                }
                for d in crm.disagreements
            ],
        }
    return record


def render_json(forecast: Forecast) -> str:
    return dumps_indented(forecast_record(forecast)) + "\n"


def render_csv(forecast: Forecast) -> str:
    if forecast.coverage:
        return csv_text(COVERAGE_COLUMNS, map(coverage_record, forecast.coverage))
    total = ("total",) + ("",) * (len(forecast.keys) - 1)
    rows = forecast.sorted_groups() + [(total, forecast.total)]
    return csv_text(
        forecast.keys + GROUP_NUMBERS,
        (dict(zip(forecast.keys, values), **totals_record(totals)) for values, totals in rows),
    )


# for people: the table and Markdown share their rows


def _percent(rate) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


def _times(ratio) -> str:
    return "" if ratio is None else f"{ratio}x"


def _group_rows(forecast: Forecast) -> list[list[str]]:
    rows = []
    for values, t in forecast.sorted_groups() + [(("total",) + ("",) * (len(forecast.keys) - 1), forecast.total)]:
        rows.append(
            list(values)
            + [
                str(t.deals),
                str(t.open_deals),
                shown_money(t.open_amount),
                shown_money(t.weighted),
                str(t.won_deals),
                shown_money(t.won_amount),
                _percent(t.win_rate),
            ]
        )
    return rows


GROUP_HEADERS = ["deals", "open", "open pipeline", "weighted", "won deals", "won", "win rate"]
COVERAGE_HEADERS = [
    "rep",
    "quota",
    "won",
    "remaining",
    "open pipeline",
    "weighted",
    "coverage",
    "weighted cov.",
    "win rate",
    "needed",
]


def _coverage_rows(forecast: Forecast) -> list[list[str]]:
    return [
        [
            row.rep,
            shown_money(row.quota),
            shown_money(row.won),
            shown_money(row.remaining),
            shown_money(row.open_amount),
            shown_money(row.weighted),
            _times(row.coverage),
            _times(row.weighted_coverage),
            _percent(row.win_rate),
            _times(row.needed),
        ]
        for row in forecast.coverage
    ]


def _crm_heading(forecast: Forecast) -> str:
    crm = forecast.crm
    assert crm is not None, "shown only when the run compared the CRM's categories"
    return (
        f"CRM forecast category ('{crm.field}') against the rules: {crm.compared} deals compared, {crm.agree} "
        f"agree, {len(crm.disagreements)} disagree ({crm.blank} with no CRM category)"
    )


def _period_label(forecast: Forecast) -> str:
    assert forecast.period is not None, "coverage is computed only for a period"
    return forecast.period.label


CRM_HEADERS = ["id", "owner", "stage", "rules", "crm"]


def _crm(forecast: Forecast) -> CrmComparison:
    assert forecast.crm is not None, "shown only when the run compared the CRM's categories"
    return forecast.crm


def _crm_rows(forecast: Forecast) -> list[list[str]]:
    return [
        [
            d.id,
            d.owner,
            d.stage,
            d.rules or "(none)",
            d.crm if d.crm_category in (None, d.crm) else f"{d.crm} ({d.crm_category})",
        ]
        for d in _crm(forecast).disagreements
    ]


def _heading(forecast: Forecast) -> str:
    where = (
        f"closing in {forecast.period.label} ({forecast.period.start} to {forecast.period.last})"
        if forecast.period is not None
        else "every close date"
    )
    left_out = f"; {forecast.outside_period} deals close outside it" if forecast.period is not None else ""
    if forecast.no_close_date:
        left_out += f" ({forecast.no_close_date} with no close date)"
    return f"Forecast by {', '.join(forecast.keys)} as of {forecast.as_of}, deals {where}{left_out}"


def _table_columns(keys) -> list:
    from .table import Column

    return [Column(k, k, max_width=32, min_width=6) for k in keys] + [
        Column(h, h, right=True, cut="never") for h in GROUP_HEADERS
    ]


def _coverage_columns() -> list:
    from .table import Column

    return [Column("rep", "rep", max_width=32, min_width=6)] + [
        Column(h, h, right=True, cut="never") for h in COVERAGE_HEADERS[1:]
    ]


def render_table(forecast: Forecast, display=None) -> str:
    from .table import Column, Display, render

    display = display or Display()
    rows = _group_rows(forecast)
    styles: list[list[str | None]] = [[None] * len(rows[0]) for _ in rows[:-1]]
    styles.append(["total"] * len(rows[0]))
    out = [
        _heading(forecast),
        *render(_table_columns(forecast.keys), rows, Display(display.width, display.color), styles, indent="  "),
    ]
    if forecast.coverage:
        rows = _coverage_rows(forecast)
        styles = [[*[None] * 6, "loss" if row.short else None, *[None] * 3] for row in forecast.coverage[:-1]]
        styles.append(["total"] * len(COVERAGE_HEADERS))
        out += [
            "",
            f"Coverage against quota in {_period_label(forecast)} (needed = 1 / win rate of closed deals)",
            *render(_coverage_columns(), rows, Display(display.width, display.color), styles, indent="  "),
        ]
    if forecast.crm is not None:
        out += ["", _crm_heading(forecast)]
        if forecast.crm.disagreements:
            columns = [
                Column(h, h, max_width=32, min_width=6, cut="middle" if h == "id" else "end") for h in CRM_HEADERS
            ]
            out += render(columns, _crm_rows(forecast), Display(display.width, display.color), indent="  ")
    return "\n".join(out) + "\n"


def render_markdown(forecast: Forecast) -> str:
    out = [f"## {md_cell(_heading(forecast))}", ""]
    out += md_table(
        list(forecast.keys) + GROUP_HEADERS,
        _group_rows(forecast),
        set(range(len(forecast.keys), len(forecast.keys) + len(GROUP_HEADERS))),
    )
    if forecast.coverage:
        out += ["", f"### Coverage against quota in {_period_label(forecast)}", ""]
        out += md_table(COVERAGE_HEADERS, _coverage_rows(forecast), set(range(1, len(COVERAGE_HEADERS))))
    if forecast.crm is not None:
        out += ["", f"### {md_cell(_crm_heading(forecast))}", ""]
        if forecast.crm.disagreements:
            out += md_table(CRM_HEADERS, _crm_rows(forecast), set())
    return "\n".join(out) + "\n"


# Every format: (forecast) -> text; the table also takes display=.
FORMATS = {"table": render_table, "csv": render_csv, "json": render_json, "markdown": render_markdown}
