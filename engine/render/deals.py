"""Scored deals and the forecast summary as a table, CSV, JSON or JSONL.

Writers stream: they take an iterator of ScoredDeal and write as they go, so
the JSON document of a million deals is never built in memory. CSV, JSON and
JSONL lines come from row writers generated per pack (engine.render.rows) and
are written in batches; ``deal_record`` is the same deal as a dict, for the
table and for anyone who wants one. Money is
written as a string with two decimals ("7500.00") so no consumer turns it
into a float by accident; probabilities are plain JSON numbers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import IO

from ..output import csv_writer
from ..score import ScoredDeal, Summary
from .record import deal_record, dumps  # noqa: F401 - dumps: the SQL engine writes its lines with it
from .rows import compile_csv_line, compile_json_object

BATCH = 2048  # lines joined per write: one call into the file per batch, not per deal

CSV_COLUMNS = (
    "file",
    "line",
    "id",
    "name",
    "owner",
    "stage",
    "verdict",
    "failed",
    "missing",
    "qualify_out",
    "warnings",
    "probability",
    "amount",
    "weighted_amount",
    "evidence_stage",
    "over_staged",
)


def csv_columns(pipeline) -> tuple:
    """The CSV columns of a pack with ``pipeline``: ``category`` last when it declares forecast categories
    (only then, so the outputs of packs without categories stay as they were)."""
    return CSV_COLUMNS + ("category",) if pipeline.categories else CSV_COLUMNS


def _plain(value):
    """Summary values as JSON-ready data: money Decimals (already to the cent) as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def json_head(summary: Summary) -> str:
    """The JSON document up to its first deal."""
    return f'{{"as_of": {json.dumps(summary.as_of.isoformat())}, "deals": ['


def json_foot(summary: Summary) -> str:
    """The JSON document after its last deal: the summary (written once every deal is counted)."""
    return '\n],\n"summary": ' + json.dumps(_plain(summary.as_dict()), indent=2, ensure_ascii=False) + "}\n"


def batches(lines: Iterator[str], separator: str = "") -> Iterator[str]:
    """The lines joined with ``separator``, ``BATCH`` at a time."""
    while True:
        batch = separator.join(islice(lines, BATCH))
        if not batch:
            return
        yield batch


def csv_head(ruleset) -> str:
    """The CSV header line."""
    text = io.StringIO()
    csv_writer(text).writerow(csv_columns(ruleset.pipeline))
    return text.getvalue()


# Between two deals' lines, per format; a JSON document also puts JSON_FIRST before its first deal.
SEPARATORS = {"csv": "", "jsonl": "\n", "json": ",\n  "}
JSON_FIRST = "\n  "


def line_writer(fmt: str, ruleset, as_of) -> Callable[..., bool]:
    """``write(out, deals, first="")``: the deals' lines in ``fmt`` (csv, jsonl or json) without the
    document's head or foot, ``first`` written before the first line (only if there is one); returns
    whether it wrote a line.

    The formats below are this plus their head and foot; engine.parts writes the lines of each part of an
    export with it and joins them.
    """
    line, _ = compile_csv_line(ruleset, as_of) if fmt == "csv" else compile_json_object(ruleset, as_of)
    separator = SEPARATORS[fmt]
    end = "\n" if fmt == "jsonl" else ""
    between = separator if fmt == "json" else ""  # a JSON batch does not end with its separator

    def write(out: IO[str], deals: Iterable[ScoredDeal], first: str = "") -> bool:
        before = first
        wrote = False
        for batch in batches(map(line, deals), separator):
            out.write(before + batch + end)
            before, wrote = between, True
        return wrote

    return write


def write_json(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    out.write(json_head(summary))
    line_writer("json", ruleset, summary.as_of)(out, deals, JSON_FIRST)
    out.write(json_foot(summary))


def write_jsonl(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    line_writer("jsonl", ruleset, summary.as_of)(out, deals)


def write_csv(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    out.write(csv_head(ruleset))
    line_writer("csv", ruleset, summary.as_of)(out, deals)


def write_table(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary, display=None) -> None:
    """The table for people (engine.render.deal_table), imported only when asked for: it needs rich."""
    from .deal_table import Display
    from .deal_table import write_table as table

    table(out, ruleset, deals, summary, display or Display())


def render_summary(summary: Summary, display=None) -> str:
    """The forecast summary for people (on stderr beside the machine formats)."""
    from .deal_table import Display
    from .deal_table import render_summary as summary_table

    return summary_table(summary, display or Display())


# Every format: (out, ruleset, deals, summary), writing as the deals stream in.
FORMATS = {"table": write_table, "csv": write_csv, "json": write_json, "jsonl": write_jsonl}
