"""Scored deals and the forecast summary as tables for people (``dealgate score --format table``).

The deals table streams: it is fitted to its first rows (engine.render.table.SAMPLE) and
the rest are written as they are scored. Most cells depend only on the parts of a result
many deals share (stage, verdict, failed criteria, qualify-out rules, warnings, evidence
stage, probability), so their text is made once per combination and looked up per deal, as
the CSV and JSON row writers do (engine.render.rows); per deal remain id, name, owner, the
amounts and, for a deal failed on a blank field, which fields it missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import IO, Any

from ..money import cents
from ..score import ScoredDeal, Summary, is_over_staged, missing_by_criterion
from .common import probability_text
from .table import SAMPLE, Column, Display, Layout, Paint, choose, render

BATCH = 2048  # table lines joined per write

COLUMNS = [
    Column("id", "id", max_width=24, min_width=12, comfort=18, cut="middle"),
    Column("name", "name", max_width=48, min_width=8, comfort=24),
    Column("owner", "owner", max_width=24, min_width=6, comfort=12),
    Column("stage", "stage", max_width=20, min_width=6, comfort=12),
    Column("verdict", "verdict", cut="never"),
    Column("probability", "prob", right=True, cut="never"),
    Column("amount", "amount", right=True, cut="never"),
    Column("weighted_amount", "weighted", right=True, cut="never", optional=True),
    Column("evidence_stage", "evidence", max_width=20, min_width=6, comfort=10, optional=True),
    Column("why", "why", max_width=96, min_width=12, comfort=30),  # 12: "over-staged…" survives any cut
    Column("failed", "failed", max_width=60, min_width=8),
    Column("missing", "missing", max_width=60, min_width=8),
    Column("qualify_out", "qualify out", max_width=60, min_width=8),
    Column("warnings", "warnings", max_width=60, min_width=8),
    Column("over_staged", "over-staged", cut="never"),
    Column("file", "file", max_width=40, min_width=8, cut="middle"),
    Column("line", "line", right=True, cut="never"),
]
DEFAULT = ["id", "name", "owner", "stage", "verdict", "amount", "weighted_amount", "evidence_stage", "why"]
KEYS = [c.key for c in COLUMNS]


def money(value) -> str:
    """An amount for people: to the cent, with thousands separators; '?' when the export left it blank."""
    return "?" if value is None else f"{cents(value):,}"


def why_text(over_staged: bool, qualify_out, failed, missing: dict, warnings) -> str:
    """Everything that holds a deal back, each kind labelled once; over-staged first, so that cutting
    the cell to the column never loses it."""
    parts = ["over-staged"] if over_staged else []
    if qualify_out:
        parts.append("qualify out: " + ", ".join(qualify_out))
    if failed:
        parts.append(
            "failed: " + ", ".join(f"{c} (missing {', '.join(missing[c])})" if c in missing else c for c in failed)
        )
    if warnings:
        parts.append("warn: " + ", ".join(warnings))
    return " · ".join(parts)


class _Cells:
    """Scored deal -> the texts (and styles) of the chosen columns."""

    def __init__(self, ruleset, as_of, keys: list[str]):
        self.ruleset, self.as_of, self.keys = ruleset, as_of, keys
        self.shapes: dict = {}
        self.needs_missing = bool(ruleset.nullable_criteria)

    def _shared(self, result) -> dict:
        key = (result[1], result[2], result[3], result[4], result[5], result[9], result[6])
        shared = self.shapes.get(key)
        if shared is None:
            if len(self.shapes) > 65_536:  # far more than a pack's combinations; bounded anyway
                self.shapes.clear()
            over = is_over_staged(self.ruleset, result)
            shared = self.shapes[key] = {
                "stage": result[1],
                "verdict": result[2],
                "probability": probability_text(result[6]),
                "evidence_stage": result[9] or "-",
                "failed": ", ".join(result[3]),
                "qualify_out": ", ".join(result[4]),
                "warnings": ", ".join(result[5]),
                "over_staged": "yes" if over else "",
                "missing": "",
                "_over": over,
                "why": why_text(over, result[4], result[3], {}, result[5]),
            }
            shared["_styles"] = [_style(key, shared) for key in self.keys]
        return shared

    def __call__(self, scored: ScoredDeal) -> tuple[list[str], list]:
        line, deal, result, source, _ = scored
        shared = self._shared(result)
        values = dict(shared) if result[3] else shared
        if result[3] and (self.needs_missing or scored.missing):
            missing = missing_by_criterion(self.ruleset, scored, self.as_of)
            if missing:
                values["why"] = why_text(shared["_over"], result[4], result[3], missing, result[5])
                values["missing"] = "; ".join(f"{c}: {', '.join(f)}" for c, f in missing.items())
        own = {"id": result[0], "name": deal.get("name"), "owner": deal.get("owner"), "file": source, "line": line}
        texts = []
        text: Any
        for key in self.keys:
            if key == "amount":
                text = money(result[7])
            elif key == "weighted_amount":
                text = money(result[8])
            else:
                text = own[key] if key in own else values[key]
            texts.append(text if type(text) is str else "" if text is None else str(text))
        return texts, shared["_styles"]


def _style(key: str, shared: dict) -> str | None:
    if key == "verdict":
        return shared["verdict"]
    if key in ("over_staged", "why") and shared["_over"]:
        return "over" if key == "over_staged" else None
    return None


def write_table(
    out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary, display: Display = Display()
) -> None:
    """The deals, one row each, then the forecast summary."""
    columns = choose(COLUMNS, DEFAULT, display.columns)
    cells = _Cells(ruleset, summary.as_of, [c.key for c in columns])
    paint = Paint(True) if display.color else None
    deals = iter(deals)
    sample = [cells(scored) for scored in islice(deals, SAMPLE)]
    layout = Layout.fit(columns, [texts for texts, _ in sample], display.width)
    positions = layout.pick(columns)

    def row(texts_styles) -> str:
        texts, styles = texts_styles
        return layout.line([texts[p] for p in positions], [styles[p] for p in positions], paint)

    out.write(layout.header(paint) + "\n" + layout.rule(paint) + "\n")
    for start in range(0, len(sample), BATCH):
        out.write("".join(row(item) + "\n" for item in sample[start : start + BATCH]))
    while True:
        batch = "".join(row(cells(scored)) + "\n" for scored in islice(deals, BATCH))
        if not batch:
            break
        out.write(batch)
    out.write("\n" + render_summary(summary, display))


SUMMARY_COLUMNS = [
    Column("stage", "stage", max_width=30),
    Column("probability", "prob", right=True, cut="never"),
    Column("deals", "deals", right=True, cut="never"),
    Column("amount", "amount", right=True, cut="never"),
    Column("weighted", "weighted", right=True, cut="never"),
    Column("note", "", max_width=40, min_width=0),
]


def render_summary(summary: Summary, display: Display = Display()) -> str:
    """The forecast: a table by stage (sized from its numbers, so big ones never run together), then totals."""
    data = summary.as_dict()
    rows = []
    for stage in summary.ruleset.pipeline.stages:
        t = data["stages"][stage.id]
        note = f"({t['unknown_amount']:,} without amount)" if t["unknown_amount"] else ""
        rows.append(
            [
                stage.id,
                probability_text(stage.probability),
                f"{t['count']:,}",
                f"{t['amount']:,}",
                f"{t['weighted_amount']:,}",
                note,
            ]
        )
    lines = [f"Forecast as of {data['as_of']} — {data['deals']:,} deals"]
    columns = SUMMARY_COLUMNS if any(row[-1] for row in rows) else SUMMARY_COLUMNS[:-1]
    lines += render(columns, rows, Display(display.width, display.color), indent="  ")
    lines.append(f"  weighted forecast (open deals): {data['weighted_forecast']:,}")
    lines.append(f"  open pipeline: {data['open_pipeline']:,}   won: {data['won_amount']:,}")
    if data["coverage"]:
        c = data["coverage"]
        ratio = f"{c['coverage']}x" if c["coverage"] is not None else "quota already met"
        lines.append(
            f"  coverage of remaining quota {c['remaining']:,}: {ratio} (weighted {c['weighted_coverage'] or '-'}x)"
        )
    verdicts = ", ".join(f"{v} {n:,}" for v, n in data["verdicts"].items())
    lines.append(f"  verdicts: {verdicts}; over-staged {data['over_staged']:,}")
    if data["qualify_out"]:
        lines.append("  qualify-out: " + ", ".join(f"{k} {n:,}" for k, n in data["qualify_out"].items()))
    return "\n".join(lines) + "\n"
