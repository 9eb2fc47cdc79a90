"""The report (engine.report) as one self-contained HTML page, charts drawn by plotly.js.

One file that opens anywhere, with no network: the styles, plotly.js (from the plotly package, which
ships it) and each chart's data are inline. Every number on the page comes from the record functions
the commands' JSON is written with (``summary.as_dict``, ``forecast_record``, ``calibration_record``,
``movement_record``, ``statement_record``), so the page and ``dealgate … --format json`` agree by
construction. A table cell holding a number carries that JSON text in ``data-value``; the text shown
is the same number for people (thousands separators, percentages).

Everything from the data (deal names, owners, rule ids, the title) is escaped: HTML-escaped in the
page, and in the charts' JSON ``<`` ``>`` ``&`` are written as ``\\u003c``-style escapes, so a deal
named ``</script><script>…`` stays text. Chart labels are HTML-escaped too, because plotly.js reads a
few tags (``<b>``, ``<a>``) in its labels.

The page is the same bytes for the same inputs: no clock, no random element ids.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal

from ..money import money_text, shown_money
from ..report.model import Report
from .calibrate import calibration_record
from .forecast import COVERAGE_HEADERS, forecast_record
from .movement import deal_record as movement_deal_record
from .movement import movement_record
from .payout import statement_record
from .report_assets import FONT, SCRIPT, STYLE

VERDICT_COLORS = {
    "ready": "#2e7d32",
    "blocked": "#f9a825",
    "disqualified": "#c62828",
    "won": "#1565c0",
    "lost": "#757575",
}
KIND_COLORS = {"qualify_out": "#c62828", "failed": "#f9a825", "warning": "#8e24aa"}
KIND_TITLES = {
    "verdict": "verdict",
    "qualify_out": "qualify-out rule",
    "failed": "exit criterion failed",
    "warning": "warning",
}
SERIES_COLORS = {"open": "#90caf9", "weighted": "#1565c0", "won": "#2e7d32", "quota": "#212121"}
# Names on an axis are names: an owner '1001' or a period '2026-10' is not put on a number or date scale.
CATEGORIES = {"type": "category"}


def render_html(report: Report, plotly_js: str | None = None) -> str:
    """The page. ``plotly_js``: the plotly.js source to inline (default: the plotly package's own copy)."""
    if plotly_js is None:
        from plotly.offline import get_plotlyjs  # imported here: only the report command pays for plotly

        plotly_js = get_plotlyjs()
    page = _Page()
    sections = [
        _overview(report, page),
        _funnel(report, page),
        _forecast(report, page),
        _verdicts(report, page),
        _calibration(report, page),
        _movement(report, page),
        _payouts(report, page),
    ]
    sections = [s for s in sections if s]
    return _document(report, page, sections, plotly_js)


class _Page:
    """The charts of the page, in order: element id -> figure (plain JSON-ready dicts)."""

    def __init__(self):
        self.charts: dict = {}

    def chart(self, name: str, data: list, layout: dict, caption: str = "") -> str:
        """A chart's container (its figure kept for the page's data); checked by plotly's own figure
        validation, so a misspelt property fails here and not silently in a browser."""
        from plotly.graph_objects import Figure  # only the report command pays for plotly

        element = f"chart-{name}"
        figure = Figure(data=data, layout=_layout(layout)).to_plotly_json()
        self.charts[element] = {"data": figure["data"], "layout": figure["layout"]}
        note = f'<p class="caption">{_e(caption)}</p>' if caption else ""
        return (
            f'<figure class="chart-box"><div class="chart" id="{element}" data-chart="{_e(name)}"></div>{note}</figure>'
        )


# values and cells


def _e(text) -> str:
    """Text from anywhere (the data, the pack) as HTML text or an attribute value."""
    return html.escape("" if text is None else str(text), quote=True)


def _label(text) -> str:
    """Text for a chart label: plotly.js reads a few HTML tags in labels, so the data's are escaped
    (plotly.js turns the entities back into the characters it draws)."""
    return html.escape("" if text is None else str(text), quote=False)


def _number(value) -> float:
    """A chart coordinate: the exact value as the nearest float (the tables carry the exact text)."""
    return 0.0 if value is None else float(Decimal(value))


def _money_cell(text: str | None) -> str:
    """A money cell: ``text`` is the JSON's ("7500.00"); shown with thousands separators."""
    if text is None:
        return '<td class="num" data-value=""></td>'
    return f'<td class="num" data-value="{_e(text)}">{_e(shown_money(Decimal(text)))}</td>'


def _decimal_cell(text: str | None) -> str:
    """An exact quantity that need not be money (a quota or credit of 12 opportunities), every digit kept."""
    if text is None:
        return '<td class="num" data-value=""></td>'
    return f'<td class="num" data-value="{_e(text)}">{Decimal(text):,}</td>'


def _count_cell(value: int) -> str:
    return f'<td class="num" data-value="{value}">{value:,}</td>'


def _rate_cell(text: str | None, places: int = 1) -> str:
    """A share ("0.7040") shown as a percentage ("70.4%")."""
    if text is None:
        return '<td class="num" data-value=""></td>'
    return f'<td class="num" data-value="{_e(text)}">{Decimal(text) * 100:.{places}f}%</td>'


def _times_cell(text: str | None) -> str:
    """A coverage ratio ("3.81") shown as "3.81x"."""
    if text is None:
        return '<td class="num" data-value=""></td>'
    return f'<td class="num" data-value="{_e(text)}">{_e(text)}x</td>'


def _text_cell(text, cls: str = "") -> str:
    attribute = f' class="{cls}"' if cls else ""
    return f"<td{attribute}>{_e(text)}</td>"


def _table(name: str, headers: list, rows: list, numeric: set, total: list | None = None) -> str:
    """A table; ``rows`` are lists of cells (``<td>`` text), ``numeric`` the header positions to right-align."""
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    foot = f'<tfoot><tr class="total">{"".join(total)}</tr></tfoot>' if total else ""
    return (
        f'<div class="table-box"><table data-table="{_e(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody>{foot}</table></div>"
    )


def _period_label(report: Report) -> str:
    """The period's label ('2026-Q3'); coverage and payouts, which need one, have one."""
    return report.period.label if report.period is not None else ""


def _stage_name(report: Report, stage_id: str) -> str:
    stage = report.pipeline.stage(stage_id)
    return stage.name or stage_id if stage is not None else stage_id


def _layout(layout: dict) -> dict:
    base = {
        "height": 340,
        "margin": {"l": 70, "r": 20, "t": 40, "b": 60},
        "font": {"family": FONT, "size": 12, "color": "#212121"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"font": {"family": FONT}},
    }
    base.update(layout)
    return base


def _section(anchor: str, title: str, body: str, intro: str = "") -> str:
    lead = f'<p class="intro">{intro}</p>' if intro else ""
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{lead}{body}</section>'


# the sections


def _overview(report: Report, page: _Page) -> str:
    summary = report.summary.as_dict()
    tiles = [
        ("deals scored", f"{summary['deals']:,}", str(summary["deals"]), "deals"),
        ("open pipeline", shown_money(summary["open_pipeline"]), str(summary["open_pipeline"]), "open_pipeline"),
        (
            "weighted forecast",
            shown_money(summary["weighted_forecast"]),
            str(summary["weighted_forecast"]),
            "weighted_forecast",
        ),
        ("won", shown_money(summary["won_amount"]), str(summary["won_amount"]), "won_amount"),
        ("over-staged", f"{summary['over_staged']:,}", str(summary["over_staged"]), "over_staged"),
    ]
    coverage = _total_coverage(report)
    if coverage is not None and coverage["coverage"] is not None:
        tiles.append(
            (f"coverage {_period_label(report)}", f"{coverage['coverage']}x", coverage["coverage"], "coverage")
        )
    elif coverage is not None and coverage["remaining"] is not None:  # won the whole quota: nothing to cover
        tiles.append((f"quota {_period_label(report)}", "reached", "", "coverage"))
    cells = "".join(
        f'<div class="tile" data-tile="{key}"><div class="tile-value" data-value="{_e(value)}">{_e(shown)}</div>'
        f'<div class="tile-label">{_e(label)}</div></div>'
        for label, shown, value, key in tiles
    )
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    body = f'<div class="tiles">{cells}</div>' + (f'<ul class="notes">{notes}</ul>' if notes else "")
    intro = (
        "Every deal of the export, as <code>dealgate score</code> counts it (its summary, to the cent). "
        "A deal is open, won or lost by its stage, whatever its verdict."
    )
    return _section("overview", "Overview", body, intro)


def _total_coverage(report: Report) -> dict | None:
    forecast = report.by_owner
    if forecast is None or not forecast.coverage:
        return None
    return forecast_record(forecast)["coverage"][-1]


def _funnel(report: Report, page: _Page) -> str:
    summary = report.summary.as_dict()
    stages = [s for s in report.pipeline.stages if not s.lost]
    chart = page.chart(
        "funnel",
        [
            {
                "type": "funnel",
                "y": [_label(_stage_name(report, s.id)) for s in stages],
                "x": [summary["stages"][s.id]["count"] for s in stages],
                "customdata": [[str(summary["stages"][s.id]["amount"])] for s in stages],
                "textinfo": "value+percent total",
                "hovertemplate": "%{y}: %{x} deals, amount %{customdata[0]}<extra></extra>",
                "marker": {"color": "#1565c0"},
                "name": "deals",
            }
        ],
        {
            "title": {"text": "Deals by stage (open stages, then won)"},
            "margin": {"l": 140, "r": 20, "t": 40, "b": 30},
            "yaxis": CATEGORIES,
        },
    )
    rows = []
    for stage in report.pipeline.stages:
        totals = summary["stages"][stage.id]
        rows.append(
            [
                _text_cell(_stage_name(report, stage.id)),
                _text_cell(stage.id, "mono"),
                _rate_cell(str(stage.probability), 0),
                _count_cell(totals["count"]),
                _money_cell(str(totals["amount"])),
                _money_cell(str(totals["weighted_amount"])),
                _count_cell(totals["unknown_amount"]),
            ]
        )
    table = _table(
        "stages",
        ["stage", "id", "probability", "deals", "amount", "weighted", "no amount"],
        rows,
        {2, 3, 4, 5, 6},
    )
    intro = "The deals at each stage, their amounts, and the amounts weighted by the stage's probability."
    return _section("funnel", "Funnel by stage", chart + table, intro)


def _forecast(report: Report, page: _Page) -> str:
    parts = []
    where = (
        f"deals closing in {report.period.label} ({report.period.start} to {report.period.last})"
        if report.period is not None
        else "every close date (give --period for one quarter, month or year)"
    )
    for key, forecast in (("category", report.by_category), ("owner", report.by_owner)):
        if forecast is None:
            continue
        record = forecast_record(forecast)
        parts.append(_forecast_part(key, record, page))
        if key == "owner" and forecast.coverage:
            parts.append(_coverage_part(report, record, page))
    if not parts:
        return ""
    first = report.by_category or report.by_owner
    left = f" {first.outside_period:,} deals close outside the period." if first and report.period else ""
    intro = (
        f"Open pipeline, weighted and won amounts of the {_e(where)}, as <code>dealgate forecast</code> "
        f"groups them.{_e(left)}"
    )
    return _section("forecast", "Forecast", "".join(parts), intro)


def _forecast_part(key: str, record: dict, page: _Page) -> str:
    groups = record["groups"]
    names = [_label(g[key]) for g in groups]
    series = [("open pipeline", "open_pipeline", "open"), ("weighted", "weighted", "weighted"), ("won", "won", "won")]
    data = [
        {
            "type": "bar",
            "name": title,
            "x": names,
            "y": [_number(g[field]) for g in groups],
            "customdata": [g[field] for g in groups],
            "hovertemplate": f"%{{x}}: {title} %{{y:,.2f}}<extra></extra>",
            "marker": {"color": SERIES_COLORS[color]},
        }
        for title, field, color in series
    ]
    if key == "owner" and "coverage" in record:
        quotas = {row["rep"]: row["quota"] for row in record["coverage"]}
        shown = [(g["owner"], quotas.get(g["owner"])) for g in groups]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "quota",
                "x": [_label(owner) for owner, quota in shown if quota is not None],
                "y": [_number(quota) for _, quota in shown if quota is not None],
                "customdata": [quota for _, quota in shown if quota is not None],
                "marker": {"symbol": "line-ew-open", "size": 36, "color": SERIES_COLORS["quota"], "line": {"width": 3}},
                "hovertemplate": "%{x}: quota %{y:,.2f}<extra></extra>",
            }
        )
    chart = page.chart(
        f"forecast-{key}",
        data,
        {
            "barmode": "group",
            "title": {"text": f"Forecast by {key}"},
            "xaxis": CATEGORIES,
            "yaxis": {"tickformat": ",.0f"},
        },
    )
    headers = [key, "deals", "open", "open pipeline", "weighted", "won deals", "won", "lost deals", "lost", "win rate"]
    rows = [_forecast_row(g[key], g) for g in groups]
    total = _forecast_row("total", record["total"])
    table = _table(f"forecast-{key}", headers, rows, set(range(1, len(headers))), total)
    return f'<h3>By {_e(key)}</h3><div class="part" data-part="forecast-{_e(key)}">{chart}{table}</div>'


def _forecast_row(name, totals: dict) -> list:
    return [
        _text_cell(name),
        _count_cell(totals["deals"]),
        _count_cell(totals["open_deals"]),
        _money_cell(totals["open_pipeline"]),
        _money_cell(totals["weighted"]),
        _count_cell(totals["won_deals"]),
        _money_cell(totals["won"]),
        _count_cell(totals["lost_deals"]),
        _money_cell(totals["lost"]),
        _rate_cell(totals["win_rate"]),
    ]


def _coverage_part(report: Report, record: dict, page: _Page) -> str:
    rows = record["coverage"]
    reps = [r for r in rows[:-1] if r["coverage"] is not None]
    short = [r["needed_coverage"] is not None and Decimal(r["coverage"]) < Decimal(r["needed_coverage"]) for r in reps]
    data = [
        {
            "type": "bar",
            "name": "coverage",
            "x": [_label(r["rep"]) for r in reps],
            "y": [_number(r["coverage"]) for r in reps],
            "customdata": [r["coverage"] for r in reps],
            "marker": {"color": ["#c62828" if s else "#1565c0" for s in short]},
            "hovertemplate": "%{x}: coverage %{y:.2f}x<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "needed (1 / win rate)",
            "x": [_label(r["rep"]) for r in reps if r["needed_coverage"] is not None],
            "y": [_number(r["needed_coverage"]) for r in reps if r["needed_coverage"] is not None],
            "customdata": [r["needed_coverage"] for r in reps if r["needed_coverage"] is not None],
            "marker": {"symbol": "line-ew-open", "size": 36, "color": SERIES_COLORS["quota"], "line": {"width": 3}},
            "hovertemplate": "%{x}: needed %{y:.2f}x<extra></extra>",
        },
    ]
    chart = page.chart(
        "coverage",
        data,
        {
            "title": {"text": f"Coverage against quota in {_period_label(report)}"},
            "xaxis": CATEGORIES,
            "yaxis": {"ticksuffix": "x"},
        },
        "Open pipeline / remaining quota per rep; red where it is below the coverage the rep's win rate needs.",
    )
    headers = [COVERAGE_HEADERS[0], "name", *COVERAGE_HEADERS[1:]]  # forecast's table, with the rep's name
    body = [_coverage_row(r) for r in rows[:-1]]
    table = _table("coverage", headers, body, set(range(2, len(headers))), _coverage_row(rows[-1]))
    return f'<h3>Coverage against quota</h3><div class="part" data-part="coverage">{chart}{table}</div>'


def _coverage_row(r: dict) -> list:
    return [
        _text_cell(r["rep"]),
        _text_cell(r["name"]),
        _money_cell(r["quota"]),
        _money_cell(r["won"]),
        _money_cell(r["remaining"]),
        _money_cell(r["open_pipeline"]),
        _money_cell(r["weighted"]),
        _times_cell(r["coverage"]),
        _times_cell(r["weighted_coverage"]),
        _rate_cell(r["win_rate"]),
        _times_cell(r["needed_coverage"]),
    ]


def _group_anchor(index: int) -> str:
    return f"deals-{index}"  # never from the data: a rule id is not an element id


def _verdicts(report: Report, page: _Page) -> str:
    anchors = {id(g): _group_anchor(i) for i, g in enumerate(report.groups)}
    verdicts = report.groups_of("verdict")
    verdict_chart = page.chart(
        "verdicts",
        [
            {
                "type": "bar",
                "name": "deals",
                "x": [g.key for g in verdicts],
                "y": [g.count for g in verdicts],
                "customdata": [anchors[id(g)] for g in verdicts],
                "marker": {"color": [VERDICT_COLORS.get(g.key, "#1565c0") for g in verdicts]},
                "text": [f"{g.count:,}" for g in verdicts],
                "textposition": "auto",
                "hovertemplate": "%{x}: %{y} deals (click to list them)<extra></extra>",
            }
        ],
        {"title": {"text": "Deals by verdict"}, "showlegend": False, "xaxis": CATEGORIES},
        "Click a bar to list its deals.",
    )
    rules = [g for g in report.groups if g.kind != "verdict"]
    rule_chart = ""
    if rules:
        data = []
        for kind in ("qualify_out", "failed", "warning"):
            mine = [g for g in rules if g.kind == kind]
            if not mine:
                continue
            data.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": KIND_TITLES[kind],
                    "y": [_label(f"{g.key}") for g in mine],
                    "x": [g.count for g in mine],
                    "customdata": [anchors[id(g)] for g in mine],
                    "marker": {"color": KIND_COLORS[kind]},
                    "hovertemplate": "%{y}: %{x} deals (click to list them)<extra></extra>",
                }
            )
        rule_chart = page.chart(
            "rules",
            data,
            {
                "title": {"text": "Qualify-out rules fired, exit criteria failed, warnings"},
                "height": max(260, 60 + 26 * len(rules)),
                "margin": {"l": 170, "r": 20, "t": 40, "b": 40},
                "yaxis": dict(CATEGORIES, autorange="reversed", automargin=True),
                "barmode": "group",
            },
            "Click a bar to list its deals.",
        )
    lists = "".join(_deal_list(report, g, anchors[id(g)]) for g in report.groups)
    intro = (
        "Each deal's verdict, and the rules behind it: the qualify-out rules that fired (they disqualify), "
        "the exit criteria of its stage it fails (they block), and the warnings it drew. The deals behind each "
        f"bar are listed below it, the largest first (at most {report.list_limit:,} a bar)."
    )
    charts = f'<div class="pair">{verdict_chart}{rule_chart}</div>'
    return _section("verdicts", "Verdicts and qualify-out", charts + f'<div class="lists">{lists}</div>', intro)


def _deal_list(report: Report, group, anchor: str) -> str:
    what = KIND_TITLES[group.kind]
    why = f" — {_e(group.why)}" if group.why else ""
    stage = f" (at {_e(group.stage)})" if group.stage else ""
    heading = (
        f'<summary><span class="badge {_e(group.kind)}">{_e(what)}</span> <b class="mono">{_e(group.key)}</b>'
        f"{stage}{why}: <span data-count>{group.count:,}</span> deals, "
        f'<span data-amount="{_e(money_text(group.amount))}">{_e(shown_money(group.amount))}</span></summary>'
    )
    rows = [
        [
            _text_cell(d.id, "mono nowrap"),
            _text_cell(d.name),
            _text_cell(d.owner),
            _text_cell(_stage_name(report, d.stage)),
            _money_cell(money_text(d.amount)),
            _text_cell(d.close_date.isoformat() if d.close_date else "", "nowrap"),
            _text_cell(d.category),
            _text_cell(d.verdict),
            _text_cell(_reasons(d)),
        ]
        for d in group.deals
    ]
    table = (
        _table(
            f"deals-{group.kind}",
            ["id", "name", "owner", "stage", "amount", "close date", "category", "verdict", "why"],
            rows,
            {4},
        )
        if rows
        else ("" if group.count else '<p class="empty">No deals.</p>')
    )
    more = (
        f'<p class="more">and {group.unlisted:,} smaller deals, not listed (<code>dealgate score --format csv</code> '
        f"lists every deal).</p>"
        if group.unlisted
        else ""
    )
    return (
        f'<details class="deals" id="{anchor}" data-kind="{_e(group.kind)}" data-key="{_e(group.key)}">'
        f"{heading}{table}{more}</details>"
    )


def _reasons(deal) -> str:
    parts = []
    if deal.qualify_out:
        parts.append("qualify out: " + ", ".join(deal.qualify_out))
    if deal.failed:
        parts.append("failed: " + ", ".join(deal.failed))
    if deal.warnings:
        parts.append("warn: " + ", ".join(deal.warnings))
    return " · ".join(parts)


def _calibration(report: Report, page: _Page) -> str:
    record = calibration_record(report.calibration)
    stages = [s for s in record["stages"] if s["observed"] is not None]
    names = [_label(_stage_name(report, s["stage"])) for s in stages]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "observed (95% interval)",
            "x": names,
            "y": [_number(s["observed"]) for s in stages],
            "customdata": [[s["observed"], s["low"], s["high"], s["won"], s["reached"]] for s in stages],
            "error_y": {
                "type": "data",
                "symmetric": False,
                "array": [_number(s["high"]) - _number(s["observed"]) for s in stages],
                "arrayminus": [_number(s["observed"]) - _number(s["low"]) for s in stages],
                "color": "#1565c0",
                "thickness": 2,
                "width": 8,
            },
            "marker": {"size": 11, "color": "#1565c0"},
            "hovertemplate": "%{x}: observed %{y:.1%} (%{customdata[1]}–%{customdata[2]}), "
            "%{customdata[3]} won of %{customdata[4]}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "configured",
            "x": names,
            "y": [_number(s["configured"]) for s in stages],
            "customdata": [s["configured"] for s in stages],
            "marker": {"size": 12, "symbol": "diamond", "color": "#ef6c00"},
            "hovertemplate": "%{x}: configured %{y:.1%}<extra></extra>",
        },
    ]
    chart = page.chart(
        "calibration",
        data,
        {
            "title": {"text": "Configured against observed win rate from each stage"},
            "xaxis": CATEGORIES,
            "yaxis": {"tickformat": ".0%", "range": [0, 1.05]},
        },
        "Observed: the share of closed deals that reached the stage and were won, with its Wilson 95% interval.",
    )
    headers = ["stage", "configured", "reached", "won", "observed", "95% interval", "suggested", "", "converted"]
    rows = []
    for s in record["stages"]:
        interval = "" if s["low"] is None else f"{Decimal(s['low']) * 100:.1f}%–{Decimal(s['high']) * 100:.1f}%"
        rows.append(
            [
                _text_cell(_stage_name(report, s["stage"])),
                _rate_cell(s["configured"]),
                _count_cell(s["reached"]),
                _count_cell(s["won"]),
                _rate_cell(s["observed"]),
                f'<td class="num" data-low="{_e(s["low"] or "")}" data-high="{_e(s["high"] or "")}">{interval}</td>',
                _rate_cell(s["suggested"]),
                _text_cell("outside" if s["outside"] else "", "warn" if s["outside"] else ""),
                _rate_cell(s["conversion"]),
            ]
        )
    table = _table("calibration", headers, rows, {1, 2, 3, 4, 5, 6, 8})
    source = (
        "a stage history" if record["source"] == "history" else "the export alone (give --history for a stage history)"
    )
    brier = record["brier"]
    facts = (
        f'<p class="facts">{record["deals"]:,} closed deals counted, from {_e(source)}; '
        f"{record['open_deals']:,} open deals not counted. Brier score of the configured probabilities: "
        f'<b data-value="{_e(brier or "")}">{_e(brier or "none")}</b> (with the suggested ones: '
        f'<span data-value="{_e(record["brier_suggested"] or "")}">{_e(record["brier_suggested"] or "none")}</span>; '
        "0 is perfect, 0.25 a coin toss).</p>"
    )
    intro = "Are the configured stage probabilities honest? As <code>dealgate calibrate</code> measures them."
    return _section("calibration", "Calibration", chart + facts + table, intro)


def _movement(report: Report, page: _Page) -> str:
    if report.movement is None:
        return ""
    record = movement_record(report.movement)
    steps = [s for s in record["waterfall"] if s["deals"]]
    x = ["old weighted pipeline"] + [s["step"].replace("_", " ") for s in steps] + ["new weighted pipeline"]
    values = [record["old"]["weighted_pipeline"]] + [s["amount"] for s in steps] + [record["new"]["weighted_pipeline"]]
    chart = page.chart(
        "movement",
        [
            {
                "type": "waterfall",
                "name": "weighted pipeline",
                "x": x,
                "y": [_number(v) for v in values[:-1]] + [0.0],
                "measure": ["absolute"] + ["relative"] * len(steps) + ["total"],
                "customdata": values,
                "hovertemplate": "%{x}: %{customdata}<extra></extra>",
                "increasing": {"marker": {"color": "#2e7d32"}},
                "decreasing": {"marker": {"color": "#c62828"}},
                "totals": {"marker": {"color": "#1565c0"}},
                "connector": {"line": {"color": "#9e9e9e"}},
            }
        ],
        {
            "title": {"text": "Weighted pipeline from the previous snapshot to this one"},
            "showlegend": False,
            "xaxis": CATEGORIES,
            "yaxis": {"tickformat": ",.0f"},
        },
        "Each step adds up exactly: the old total and the steps make the new total, to the cent.",
    )
    rows = [[_text_cell("old weighted pipeline"), _count_cell(record["old"]["deals"]), _money_cell(values[0])]]
    rows += [[_text_cell(s["step"]), _count_cell(s["deals"]), _money_cell(s["amount"])] for s in record["waterfall"]]
    total = [_text_cell("new weighted pipeline"), _count_cell(record["new"]["deals"]), _money_cell(values[-1])]
    table = _table("waterfall", ["step", "deals", "weighted"], rows, {1, 2}, total)
    changes = ", ".join(f"{name} {count:,}" for name, count in record["changes"].items() if count) or "none"
    moved = sorted(report.movement.deals, key=lambda d: (-abs(d.delta), str(d.id)))[: report.list_limit]
    deal_rows = []
    for deal in moved:
        r = movement_deal_record(deal)
        deal_rows.append(
            [
                _text_cell(r["id"], "mono"),
                _text_cell(r["name"]),
                _text_cell(r["owner"]),
                _text_cell(", ".join(r["changes"])),
                _text_cell(_arrow(r["old_stage"], r["new_stage"])),
                _text_cell(_arrow(_shown(r["old_amount"]), _shown(r["new_amount"]))),
                _text_cell(_arrow(r["old_close_date"], r["new_close_date"])),
                _money_cell(r["weighted_change"]),
            ]
        )
    deals = _table(
        "movement-deals",
        ["id", "name", "owner", "changes", "stage", "amount", "close date", "weighted change"],
        deal_rows,
        {7},
    )
    more = len(report.movement.deals) - len(moved)
    more_text = f'<p class="more">and {more:,} smaller changes, not listed.</p>' if more else ""
    previous = report.previous
    since = f"<b>{_e(previous.name)}</b> (as of {previous.as_of})" if previous else "the previous snapshot"
    intro = f"From {since} to this export, deals matched by id, as <code>dealgate movement</code> compares them."
    body = (
        chart
        + table
        + f'<p class="facts">Changes: {_e(changes)}.</p>'
        + f'<details class="deals" id="moved-deals"><summary>The deals that changed: '
        f"{len(report.movement.deals):,} (largest weighted change first)</summary>{deals}{more_text}</details>"
    )
    return _section("movement", "Movement", body, intro)


PROBLEMS_SHOWN = 20  # payout problems listed on the page; the rest are counted (stderr has them all)


def _payout_problems(problems: list) -> str:
    """The problems ``dealgate payout`` reports for the same inputs (a deal credited twice, a blank amount)."""
    if not problems:
        return ""
    errors = sum(1 for d in problems if d.is_error)
    items = "".join(
        f'<li class="{"warn" if d.is_error else ""}"><span class="mono">{_e(d.severity)}[{_e(d.code)}]</span> '
        f"{_e(d.location.line if d.location else '')}{':' if d.location else ''} {_e(d.message)}</li>"
        for d in problems[:PROBLEMS_SHOWN]
    )
    more = f"<li>and {len(problems) - PROBLEMS_SHOWN:,} more</li>" if len(problems) > PROBLEMS_SHOWN else ""
    return (
        f'<details class="deals problems" id="payout-problems"{" open" if errors else ""}><summary>'
        f"<span data-count>{len(problems):,}</span> payout problems ({errors:,} errors), as "
        f"<code>dealgate payout</code> reports them for these inputs</summary><ul>{items}{more}</ul></details>"
    )


def _shown(text: str | None) -> str | None:
    return None if text is None else shown_money(Decimal(text))


def _arrow(old, new) -> str:
    if old == new:
        return "" if old is None else str(old)
    return f"{old or '—'} → {new or '—'}"


def _payouts(report: Report, page: _Page) -> str:
    if report.payouts is None:
        return ""
    records = [statement_record(s) for s in report.payouts.statements]
    periods = list(dict.fromkeys(r["period"] for r in records))
    reps = list(dict.fromkeys(r["rep"] for r in records))
    data = []
    for period in periods:
        mine = {r["rep"]: r for r in records if r["period"] == period}
        data.append(
            {
                "type": "bar",
                "name": period,
                "x": [_label(rep) for rep in reps if rep in mine],
                "y": [_number(mine[rep]["total"]) for rep in reps if rep in mine],
                "customdata": [[mine[rep]["total"], mine[rep]["currency"]] for rep in reps if rep in mine],
                "hovertemplate": f"%{{x}}, {_label(period)}: %{{customdata[0]}} %{{customdata[1]}}<extra></extra>",
            }
        )
    chart = page.chart(
        "payouts",
        data,
        {
            "barmode": "stack",
            "title": {"text": f"Payouts per rep, {_period_label(report)}"},
            "xaxis": CATEGORIES,
            "yaxis": {"tickformat": ",.0f"},
        },
        "One bar per rep; a plan paid by month shows one segment per month.",
    )
    headers = ["rep", "name", "plan", "period", "quota", "credit", "attainment", "lines", "total", "currency"]
    rows = [
        [
            _text_cell(r["rep"]),
            _text_cell(r["name"]),
            _text_cell(r["plan"]),
            _text_cell(r["period"]),
            _decimal_cell(r["quota"]),
            _decimal_cell(r["credit"]),
            _rate_cell(r["attainment"]),
            _count_cell(len(r["lines"])),
            _money_cell(r["total"]),
            _text_cell(r["currency"]),
        ]
        for r in records
    ]
    table = _table("payouts", headers, rows, {4, 5, 6, 7, 8})
    facts = _payout_problems(report.payouts.diagnostics)
    intro = (
        f"What each rep is owed for {_period_label(report)}, as <code>dealgate payout</code> computes it "
        "(<code>dealgate payout … --format table</code> shows each statement line by line)."
    )
    return _section("payouts", "Payouts", chart + facts + table, intro)


# the document


def _charts_json(page: _Page) -> str:
    """The charts' data for a <script type="application/json">: nothing in it can end the element."""
    text = json.dumps(page.charts, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def _inline_script(source: str) -> str:
    """A script's source inlined: the one sequence that would end the element early is broken up."""
    return source.replace("</script", "<\\/script")


def _document(report: Report, page: _Page, sections: list, plotly_js: str) -> str:
    source = report.source
    meta = [
        f"as of <b>{source.as_of}</b>",
        f"export <b>{_e(source.name)}</b>: read <b data-count=read>{source.read:,}</b>, scored "
        f"<b data-count=scored>{source.scored:,}</b>, rejected <b data-count=rejected>{source.rejected:,}</b>",
        f"rules <b>{_e(report.rules)}</b>",
    ]
    if report.period is not None:
        meta.append(f"period <b>{_e(report.period.label)}</b>")
    if report.previous is not None:
        previous = report.previous
        meta.append(
            f"previous <b>{_e(previous.name)}</b> as of {previous.as_of} (read {previous.read:,}, scored "
            f"{previous.scored:,}, rejected {previous.rejected:,})"
        )
    titles = {
        "overview": "Overview",
        "funnel": "Funnel",
        "forecast": "Forecast",
        "verdicts": "Verdicts",
        "calibration": "Calibration",
        "movement": "Movement",
        "payouts": "Payouts",
    }
    links = "".join(
        f'<a href="#{anchor}">{title}</a>'
        for anchor, title in titles.items()
        if f'<section id="{anchor}"' in "".join(sections)
    )
    from importlib.metadata import version

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="dealgate report">\n'
        f"<title>{_e(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><h1>{_e(report.title)}</h1><p class="meta">{" · ".join(meta)}</p><nav>{links}</nav></header>\n'
        f"<main>\n{chr(10).join(sections)}\n</main>\n"
        f"<footer>Made by dealgate {_e(version('dealgate'))} with plotly.js, inline: this file needs no network. "
        "The numbers are those of <code>dealgate score</code>, <code>forecast</code>, <code>calibrate</code>, "
        "<code>movement</code> and <code>payout</code> with <code>--format json</code>.</footer>\n"
        f'<script type="application/json" id="dealgate-charts">{_charts_json(page)}</script>\n'
        f"<script>{_inline_script(plotly_js)}</script>\n"
        f"<script>{SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )
