"""Calibration (engine.forecast.calibrate) as a table, CSV, JSON or Markdown.

Shares, intervals and Brier scores are decimal strings in JSON and CSV ("0.6250"), percentages for
people; CSV is the per-stage table.
"""

from __future__ import annotations

from ..forecast.calibrate import Calibration, StageCalibration
from .jsontext import dumps_indented
from .report import csv_text, md_cell, md_table

CSV_COLUMNS = (
    "stage",
    "configured",
    "reached",
    "won",
    "observed",
    "low",
    "high",
    "suggested",
    "outside",
    "converted",
    "conversion",
    "average_days",
    "days_observed",
)


def _exact(value) -> str | None:
    return None if value is None else str(value)


def stage_record(s: StageCalibration) -> dict:
    return {
        "stage": s.stage,
        "configured": _exact(s.configured),
        "reached": s.reached,
        "won": s.won,
        "observed": _exact(s.observed),
        "low": _exact(s.low),
        "high": _exact(s.high),
        "suggested": _exact(s.suggested),
        "outside": s.outside,
        "converted": s.converted,
        "conversion": _exact(s.conversion),
        "average_days": _exact(s.days),
        "days_observed": s.days_observed,
    }


def calibration_record(c: Calibration) -> dict:
    return {
        "source": c.source,
        "deals": c.deals,
        "open_deals": c.open_deals,
        "unmatched_history_rows": c.unmatched,
        "brier": _exact(c.brier),
        "brier_suggested": _exact(c.brier_suggested),
        "stages": [stage_record(s) for s in c.stages],
        "reliability": [
            {
                "probability": _exact(b.probability),
                "stages": list(b.stages),
                "forecasts": b.forecasts,
                "observed": _exact(b.observed),
            }
            for b in c.reliability
        ],
        "warnings": c.warnings,
    }


def render_json(c: Calibration) -> str:
    return dumps_indented(calibration_record(c)) + "\n"


def render_csv(c: Calibration) -> str:
    return csv_text(CSV_COLUMNS, map(stage_record, c.stages))


def _percent(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _stage_rows(c: Calibration) -> list[list[str]]:
    return [
        [
            s.stage,
            _percent(s.configured),
            str(s.reached),
            str(s.won),
            _percent(s.observed),
            "" if s.low is None else f"{_percent(s.low)}–{_percent(s.high)}",
            _percent(s.suggested),
            "outside" if s.outside else "",
            _percent(s.conversion),
            "" if s.days is None else str(s.days),
        ]
        for s in c.stages
    ]


STAGE_HEADERS = [
    "stage",
    "configured",
    "reached",
    "won",
    "observed",
    "95% interval",
    "suggested",
    "",
    "converted",
    "avg days",
]


def _reliability_rows(c: Calibration) -> list[list[str]]:
    return [
        [_percent(b.probability), ", ".join(b.stages), str(b.forecasts), _percent(b.observed)] for b in c.reliability
    ]


RELIABILITY_HEADERS = ["forecast", "stages", "forecasts", "observed"]


def _heading(c: Calibration) -> str:
    where = (
        "the stage history"
        if c.source == "history"
        else "the export (no history: lost deals reached their evidence stage)"
    )
    return f"Win rate from each stage: {c.deals} closed deals from {where}; {c.open_deals} open deals not counted"


def _brier(c: Calibration) -> str:
    if c.brier is None:
        return "Brier score: no closed deals"
    return f"Brier score of the configured probabilities: {c.brier} (with the suggested ones: {c.brier_suggested})"


def render_table(c: Calibration, display=None) -> str:
    from .table import Column, Display, render

    display = display or Display()
    plain = Display(display.width, display.color)
    columns = (
        [Column("stage", "stage", max_width=24)]
        + [Column(f"c{i}", h, right=True, cut="never") for i, h in enumerate(STAGE_HEADERS[1:7], 1)]
        + [
            Column("outside", "", max_width=8),
            Column("converted", "converted", right=True, cut="never"),
            Column("days", "avg days", right=True, cut="never"),
        ]
    )
    styles = [[*[None] * 7, "loss" if s.outside else None, None, None] for s in c.stages]
    out = [
        _heading(c),
        *render(columns, _stage_rows(c), plain, styles, indent="  "),
        "",
        _brier(c),
        "",
        "Reliability (deals forecast at each probability, and how many were won)",
        *render(
            [
                Column("forecast", "forecast", right=True, cut="never"),
                Column("stages", "stages", max_width=60),
                Column("forecasts", "forecasts", right=True, cut="never"),
                Column("observed", "observed", right=True, cut="never"),
            ],
            _reliability_rows(c),
            plain,
            indent="  ",
        ),
    ]
    return "\n".join(out) + "\n"


def render_markdown(c: Calibration) -> str:
    out = [f"## {md_cell(_heading(c))}", ""]
    out += md_table(STAGE_HEADERS, _stage_rows(c), set(range(1, 7)) | {8, 9})
    out += ["", _brier(c), "", "### Reliability", ""]
    out += md_table(RELIABILITY_HEADERS, _reliability_rows(c), {0, 2, 3})
    if c.warnings:
        out += [""] + [f"> {md_cell(w)}" for w in c.warnings]
    return "\n".join(out) + "\n"


# Every format: (calibration) -> text; the table also takes display=.
FORMATS = {"table": render_table, "csv": render_csv, "json": render_json, "markdown": render_markdown}
