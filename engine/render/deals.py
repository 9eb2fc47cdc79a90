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

import csv
import json
from decimal import Decimal
from itertools import islice
from typing import IO, Iterable, Iterator

from ..score import ScoredDeal, Summary
from .record import deal_record, dumps  # noqa: F401 - dumps: the SQL engine writes its lines with it
from .rows import compile_csv_line, compile_json_object

BATCH = 2048  # lines joined per write: one call into the file per batch, not per deal

CSV_COLUMNS = ("file", "line", "id", "name", "owner", "stage", "verdict", "failed", "missing", "qualify_out", "warnings",
               "probability", "amount", "weighted_amount", "evidence_stage", "over_staged")


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
    return '{"as_of": %s, "deals": [' % json.dumps(summary.as_of.isoformat())


def json_foot(summary: Summary) -> str:
    """The JSON document after its last deal: the summary (written once every deal is counted)."""
    return "\n],\n\"summary\": " + json.dumps(_plain(summary.as_dict()), indent=2, ensure_ascii=False) + "}\n"


def batches(lines: Iterator[str], separator: str = "") -> Iterator[str]:
    """The lines joined with ``separator``, ``BATCH`` at a time."""
    while True:
        batch = separator.join(islice(lines, BATCH))
        if not batch:
            return
        yield batch


def write_json(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    json_object, _ = compile_json_object(ruleset, summary.as_of)
    out.write(json_head(summary))
    before = "\n  "
    for batch in batches(map(json_object, deals), ",\n  "):
        out.write(before + batch)
        before = ",\n  "
    out.write(json_foot(summary))


def write_jsonl(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    json_object, _ = compile_json_object(ruleset, summary.as_of)
    for batch in batches(map(json_object, deals), "\n"):
        out.write(batch + "\n")


def write_csv(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    csv_line, _ = compile_csv_line(ruleset, summary.as_of)
    csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
    for batch in batches(map(csv_line, deals)):
        out.write(batch)


_TABLE = (("id", 14), ("stage", 15), ("verdict", 12), ("amount", 12), ("weighted", 12), ("evidence", 15),
          ("why", 48))


def write_table(out: IO[str], ruleset, deals: Iterable[ScoredDeal], summary: Summary) -> None:
    out.write("  ".join(name.ljust(width) for name, width in _TABLE).rstrip() + "\n")
    out.write("  ".join("-" * width for _, width in _TABLE) + "\n")
    for scored in deals:
        record = deal_record(ruleset, scored, summary.as_of)
        why = ", ".join(
            [f"qualify out: {r}" for r in record["qualify_out"]]
            + [f"{c} (missing {', '.join(record['missing'][c])})" if c in record["missing"] else c
               for c in record["failed"]]
            + [f"warn: {w}" for w in record["warnings"]]
        )
        if record["over_staged"]:
            why = (why + ", " if why else "") + "over-staged"
        cells = [record["id"], record["stage"], record["verdict"], record["amount"] or "?",
                 record["weighted_amount"] or "?", record["evidence_stage"] or "-", why]
        out.write("  ".join(_fit(str(c or ""), w, right=i in (3, 4)) for i, (c, (_, w)) in
                            enumerate(zip(cells, _TABLE))).rstrip() + "\n")
    out.write("\n" + render_summary(summary))


def _fit(text: str, width: int, right: bool = False) -> str:
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def render_summary(summary: Summary) -> str:
    data = summary.as_dict()
    lines = [f"Forecast as of {data['as_of']} — {data['deals']} deals"]
    lines.append(f"  {'stage':<16}{'deals':>7}{'amount':>16}{'weighted':>16}")
    for stage in summary.ruleset.pipeline.stages:
        t = data["stages"][stage.id]
        unknown = f"  ({t['unknown_amount']} without amount)" if t["unknown_amount"] else ""
        lines.append(f"  {stage.id:<16}{t['count']:>7}{t['amount']:>16,}{t['weighted_amount']:>16,}{unknown}")
    lines.append(f"  weighted forecast (open deals): {data['weighted_forecast']:,}")
    lines.append(f"  open pipeline: {data['open_pipeline']:,}   won: {data['won_amount']:,}")
    if data["coverage"]:
        c = data["coverage"]
        ratio = f"{c['coverage']}x" if c["coverage"] is not None else "quota already met"
        lines.append(f"  coverage of remaining quota {c['remaining']:,}: {ratio} "
                     f"(weighted {c['weighted_coverage'] or '-'}x)")
    verdicts = ", ".join(f"{v} {n}" for v, n in data["verdicts"].items())
    lines.append(f"  verdicts: {verdicts}; over-staged {data['over_staged']}")
    if data["qualify_out"]:
        lines.append("  qualify-out: " + ", ".join(f"{k} {n}" for k, n in data["qualify_out"].items()))
    return "\n".join(lines) + "\n"


# Every format: (out, ruleset, deals, summary), writing as the deals stream in.
FORMATS = {"table": write_table, "csv": write_csv, "json": write_json, "jsonl": write_jsonl}

