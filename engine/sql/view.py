"""``dealgate sql``: the scoring query as text for a warehouse, a dbt model or a view.

The query reads a table whose columns are an export's columns (by default
named like the pack's fields, ``id``, ``stage``, ``amount``…; or the header of
a sample export, given with ``like``) and returns one row per readable deal:
its verdict and why, as the other engines compute it. Cells are read from
text exactly as the Python reader reads an export (each column is cast to
text first, so typed warehouse columns work too); the rows that cannot be
read are what the companion query (``rejects=True``) lists, with the column
and the reason.

The as-of date is the warehouse's ``CURRENT_DATE`` unless one is given: a view
ages deals as the days go by; a pinned date makes the query deterministic.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from .expr import literal
from .rows import typed_rows
from .score import ScoringQuery

DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
VIEW_COLUMNS = ("id", "name", "owner", "stage", "verdict", "failed", "qualify_out", "warnings", "probability",
                "amount", "weighted_amount", "evidence_stage", "over_staged")


def table_columns(ruleset, header: list[str] | None) -> list[tuple[str, str]]:
    """(field name, table column) for every field read from the table, in column order."""
    readable = [f for f in ruleset.fields.fields.values() if f.compute is None]
    if header is None:
        return [(f.name, f.name) for f in readable]
    lookup: dict = {}
    for field in readable:
        for name in (field.name, *field.columns):
            lookup.setdefault(name.strip().lower(), field.name)
    plan, taken = [], set()
    for column in header:
        name = lookup.get(column.strip().lower())
        if name is not None and name not in taken:
            taken.add(name)
            plan.append((name, column))
    return plan


def scoring_sql(ruleset, table: str, *, header: list[str] | None = None, as_of: dt.date | None = None,
                rejects: bool = False) -> exp.Expression:
    """The query over ``table`` (possibly schema-qualified): scored deals, or with ``rejects`` the unreadable rows."""
    plan = table_columns(ruleset, header)
    source = exp.to_table(table)
    cells = {}
    keep = []
    for position, (field, column) in enumerate(plan):
        raw = exp.cast(exp.column(exp.to_identifier(column, quoted=True)), exp.DataType.build("VARCHAR"))
        cells[field] = (position, exp.column(f"c{position}"))
        keep.append(exp.alias_(raw, f"c{position}"))
    raw_rows = exp.select(exp.alias_(exp.Null(), "line"), *keep).from_(source).subquery("raw")
    all_cells = [exp.column(f"c{i}") for i in range(len(plan))]
    typed = typed_rows(ruleset, cells, all_cells, raw_rows, [exp.column("line"), *all_cells])
    not_blank = exp.Not(this=exp.column("blank_row"))
    if rejects:
        columns = [exp.alias_(exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("problem_column"),
                                                                 expression=exp.Literal.number(i)),
                                                     true=exp.Literal.string(column))
                                            for i, (_, column) in enumerate(plan)]), "column"),
                   exp.alias_(exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("problem_column"),
                                                                 expression=exp.Literal.number(i)),
                                                     true=exp.Coalesce(this=exp.column(f"c{i}"),
                                                                       expressions=[exp.Literal.string("")]))
                                            for i in range(len(plan))]), "value"),
                   exp.alias_(exp.column("problem"), "reason")]
        return exp.select(*columns).from_(typed.subquery("typed")).where(
            exp.and_(not_blank, exp.Not(this=exp.Is(this=exp.column("problem"), expression=exp.Null()))))
    readable = exp.select("*").from_(typed.subquery("typed")).where(
        exp.and_(not_blank, exp.Is(this=exp.column("problem"), expression=exp.Null())))
    as_of_sql = literal(as_of) if as_of is not None else exp.CurrentDate()
    scored = ScoringQuery(ruleset, as_of_sql).build(readable.subquery("typed"), ordered=False)
    names = {"name": "display_name", "owner": "display_owner"}
    return exp.select(*[exp.alias_(exp.column(names.get(c, c)), c) if c in names else exp.column(c)
                        for c in VIEW_COLUMNS]).from_(scored.subquery("scored"))


def render(query: exp.Expression, dialect: str, view: str | None = None) -> str:
    """The query's text in ``dialect``, or a ``CREATE OR REPLACE VIEW`` of it."""
    if view is not None:
        query = exp.Create(this=exp.to_table(view), kind="VIEW", replace=True, expression=query)
    return query.sql(dialect=dialect, pretty=True) + ";\n"
