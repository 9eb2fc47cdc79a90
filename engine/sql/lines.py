"""Output lines of scored deals, made by the SQL engine: CSV rows and JSON records.

Each function takes the scored relation (the columns of ``engine.sql.score``,
plus ``source``, the export's name) and returns one VARCHAR expression: the
line exactly as ``engine.render.deals`` writes that deal (``deal_record``,
``_cell``, ``dumps``). Constants the query cannot change — probabilities per
stage, criterion and field ids — are rendered by Python once, at compile
time, with the very functions the Python renderer uses.
"""

from __future__ import annotations

import json

import attrs
from sqlglot import exp

from ..output import safe_cell as python_safe_cell
from ..render.deals import csv_columns, dumps, json_foot, json_head
from .text import csv_line, json_string, json_string_list, money_text, safe_cell, write_lines


def _text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def _concat(*parts: exp.Expr) -> exp.Expr:
    """CONCAT of parts that are never NULL (so DuckDB's skipping and Spark's propagating of NULLs agree)."""
    return exp.Anonymous(this="CONCAT", expressions=list(parts))


def _per_stage(pipeline, render) -> exp.Expr:
    """CASE stage WHEN ... THEN render(stage) END: a constant text per stage."""
    return exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=exp.column("stage"), expression=_text(s.id)), true=_text(render(s)))
            for s in pipeline.stages
        ]
    )


def _json_ids(column: str, separator: str = ";") -> exp.Expr:
    """A joined list of ids ('a;b', '' for none) as the JSON list json.dumps writes."""
    # exp.Split: DuckDB's STR_SPLIT, Spark's SPLIT with the separator quoted (Spark's takes a regex)
    items = exp.Split(this=exp.column(column), expression=_text(separator))
    return exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.column(column), expression=_text("")), true=_text("[]"))],
        default=json_string_list(items),
    )


def _flag(column: str) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=exp.column(column), true=_text("true"))], default=_text("false"))


def _missing_entries(criteria: list[str], render_entry) -> list[exp.Expr]:
    """One expression per criterion that may be missing fields (``missing_<n>``): its rendered entry, or NULL."""
    entries: list[exp.Expr] = []
    for index, criterion in enumerate(criteria):
        column = f"missing_{index}"
        entries.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Not(this=exp.Is(this=exp.column(column), expression=exp.Null())),
                        true=render_entry(criterion, column),
                    )
                ]
            )
        )
    return entries


def _concat_ws(separator: str, parts: list[exp.Expr]) -> exp.Expr:
    if not parts:
        return _text("")
    # CONCAT_WS skips NULL parts in DuckDB and Spark alike (sqlglot's ConcatWs would make any NULL fatal)
    return exp.Anonymous(this="CONCAT_WS", expressions=[_text(separator), *parts])


@attrs.frozen
class Line:
    """An output line: ``cells`` (aliased columns computed first, each once) and ``text`` made from them."""

    cells: tuple
    text: exp.Expr
    key: str | None = None  # names the line's form, for a cache of SQL made with it (None: not cached)


def csv_row(pipeline, criteria: list[str]) -> Line:
    """A CSV line of ``CSV_COLUMNS``, as ``write_csv`` writes it.

    The cells are computed in a layer of their own: the line refers to each cell several times
    (to tell whether any needs quoting, then to join them), and DuckDB does not share repeated
    expressions. Stage ids are the pack's identifiers: they need no formula guard.
    """
    missing = _concat_ws(";", _missing_entries(criteria, lambda c, column: _concat(_text(f"{c}:"), exp.column(column))))
    stage_ids_safe = all(python_safe_cell(s.id) == s.id for s in pipeline.stages)

    def stage_cell(column: str) -> exp.Expr:
        return exp.column(column) if stage_ids_safe else safe_cell(exp.column(column))

    cells = {
        "file": safe_cell(exp.column("source")),
        "line": exp.cast(exp.column("line"), exp.DataType.build("VARCHAR")),
        "id": safe_cell(exp.column("id")),
        "name": safe_cell(exp.column("display_name")),
        "owner": safe_cell(exp.column("display_owner")),
        "stage": stage_cell("stage"),
        "verdict": exp.column("verdict"),
        "failed": exp.column("failed"),
        "missing": missing,
        "qualify_out": exp.column("qualify_out"),
        "warnings": exp.column("warnings"),
        "probability": _per_stage(pipeline, lambda s: python_safe_cell(s.probability)),
        "amount": money_text(exp.column("amount")),
        "weighted_amount": money_text(exp.column("weighted_amount")),
        "evidence_stage": stage_cell("evidence_stage"),
        "over_staged": _flag("over_staged"),
        "category": exp.Coalesce(this=exp.column("category"), expressions=[_text("")]),
    }
    columns = csv_columns(pipeline)
    return Line(
        tuple(exp.alias_(cells[c], f"cell_{c}") for c in columns),
        csv_line(
            [exp.column(f"cell_{c}") for c in columns],
            frozenset(columns.index(c) for c in _never_quoted(pipeline, criteria)),
        ),
    )


def _never_quoted(pipeline, criteria: list[str]) -> set:
    """CSV columns whose every possible text is free of commas, quotes and newlines.

    Numbers and flags always are; cells made of the pack's ids and constants are when those are
    (ids are identifiers, but this is checked here rather than assumed).
    """

    def clean(texts) -> bool:
        return not any(c in text for text in texts for c in ',"\n')

    columns = {"line", "verdict", "amount", "weighted_amount", "over_staged"}
    if pipeline.categories and clean([c.id for c in pipeline.categories]):  # no categories: no such column
        columns.add("category")
    stages = [s.id for s in pipeline.stages]
    if clean(stages):
        columns |= {"stage", "evidence_stage"}
    if clean([python_safe_cell(s.probability) for s in pipeline.stages]):
        columns.add("probability")
    if clean(criteria):
        columns.add("failed")  # the failed criteria of the deal's open stage: ids joined by ';'
    return columns


def csv_header(pipeline) -> str:
    """The header line ``write_csv`` writes (no cell of it needs quoting)."""
    return ",".join(csv_columns(pipeline))


def json_record(pipeline, criteria: list[str]) -> exp.Expr:
    """A deal as ``dumps(deal_record(...))`` writes it: one JSON object on one line."""

    def pair(key: str, value: exp.Expr, first: bool = False) -> list[exp.Expr]:
        return [_text(("" if first else ", ") + json.dumps(key) + ": "), value]

    def money(column: str) -> exp.Expr:
        return exp.Coalesce(this=json_string(money_text(exp.column(column))), expressions=[_text("null")])

    missing_entries = _missing_entries(
        criteria, lambda c, column: _concat(_text(json.dumps(c) + ": "), _json_ids(column, ","))
    )
    missing = _concat(_text("{"), _concat_ws(", ", missing_entries), _text("}"))
    parts = [_text("{")]
    parts += pair("file", json_string(exp.column("source")), first=True)
    parts += pair("line", exp.cast(exp.column("line"), exp.DataType.build("VARCHAR")))
    parts += pair("id", json_string(exp.column("id")))
    parts += pair("name", json_string(exp.column("display_name")))
    parts += pair("owner", json_string(exp.column("display_owner")))
    parts += pair("stage", json_string(exp.column("stage")))
    parts += pair("verdict", json_string(exp.column("verdict")))
    parts += pair("failed", _json_ids("failed"))
    parts += pair("missing", missing)
    parts += pair("qualify_out", _json_ids("qualify_out"))
    parts += pair("warnings", _json_ids("warnings"))
    parts += pair("probability", _per_stage(pipeline, lambda s: dumps(s.probability)))
    parts += pair("amount", money("amount"))
    parts += pair("weighted_amount", money("weighted_amount"))
    parts += pair("evidence_stage", json_string(exp.column("evidence_stage")))
    parts += pair("over_staged", _flag("over_staged"))
    if pipeline.categories:  # ids, rendered once here; NULL (no category matched) is null
        parts += pair(
            "category",
            exp.Case(
                ifs=[
                    exp.If(this=exp.EQ(this=exp.column("category"), expression=_text(c.id)), true=_text(dumps(c.id)))
                    for c in pipeline.categories
                ],
                default=_text("null"),
            ),
        )
    parts.append(_text("}"))
    return _concat(*parts)


def line_expression(fmt: str, ruleset, criteria: list[str]) -> Line:
    """The output line of one scored deal in ``fmt`` (csv, jsonl or json), from the scored columns."""
    pipeline = ruleset.pipeline
    if fmt == "csv":
        return attrs.evolve(csv_row(pipeline, criteria), key=fmt)
    if fmt == "jsonl":
        return Line((), json_record(pipeline, criteria), key=fmt)
    if fmt == "json":
        return Line((), _concat(_text("\n  "), json_record(pipeline, criteria)), key=fmt)
    raise ValueError(f"the SQL engines write csv, jsonl and json, not {fmt}")


def write(fmt: str, out, scorer, summary) -> int:
    """Write the lines that ``scorer.run(sources, line_expression(fmt, ...))`` made to ``out``; return how many.

    ``summary`` must be complete (``scorer.fill_summary``): the JSON document ends with it.
    """
    options: dict = {}
    if fmt == "csv":
        options["header"] = csv_header(scorer.ruleset.pipeline) + "\n"
    elif fmt == "json":
        options.update(header=json_head(summary), footer=json_foot(summary), separator=",", end="")
    query = exp.select("text").from_("dealgate_scored").order_by("position", "line")
    own = getattr(scorer, "write_lines", None)  # an engine that streams lines its own way (Spark)
    if own is not None:
        return own(query, out, **options)
    return write_lines(scorer.connection, query.sql("duckdb"), out, **options)
