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
from decimal import Decimal

from sqlglot import exp

from .credit import CreditQuery
from .expr import decimal_literal, literal
from .rows import typed_rows
from .score import ScoringQuery, joined

DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
VIEW_COLUMNS = (
    "id",
    "name",
    "owner",
    "stage",
    "verdict",
    "failed",
    "qualify_out",
    "warnings",
    "probability",
    "amount",
    "weighted_amount",
    "evidence_stage",
    "over_staged",
)


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


def scoring_sql(
    ruleset, table: str, *, header: list[str] | None = None, as_of: dt.date | None = None, rejects: bool = False
) -> exp.Expr:
    """The query over ``table`` (possibly schema-qualified): scored deals, or with ``rejects`` the unreadable rows."""
    plan = table_columns(ruleset, header)
    typed = _typed(ruleset, table, plan)
    not_blank = exp.Not(this=exp.column("blank_row"))
    if rejects:
        columns = [
            exp.alias_(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(this=exp.column("problem_column"), expression=exp.Literal.number(i)),
                            true=exp.Literal.string(column),
                        )
                        for i, (_, column) in enumerate(plan)
                    ]
                ),
                "column",
            ),
            exp.alias_(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(this=exp.column("problem_column"), expression=exp.Literal.number(i)),
                            true=exp.Coalesce(this=exp.column(f"c{i}"), expressions=[exp.Literal.string("")]),
                        )
                        for i in range(len(plan))
                    ]
                ),
                "value",
            ),
            exp.alias_(exp.column("problem"), "reason"),
        ]
        return (
            exp.select(*columns)
            .from_(typed.subquery("typed"))
            .where(exp.and_(not_blank, exp.Not(this=exp.Is(this=exp.column("problem"), expression=exp.Null()))))
        )
    readable = (
        exp.select("*")
        .from_(typed.subquery("typed"))
        .where(exp.and_(not_blank, exp.Is(this=exp.column("problem"), expression=exp.Null())))
    )
    scored = ScoringQuery(ruleset, _as_of(as_of)).build(readable.subquery("typed"), ordered=False)
    names = {"name": "display_name", "owner": "display_owner"}
    shown = VIEW_COLUMNS + (("category",) if ruleset.pipeline.categories else ())
    return exp.select(
        *[exp.alias_(exp.column(names.get(c, c)), c) if c in names else exp.column(c) for c in shown]
    ).from_(scored.subquery("scored"))


def credit_sql(
    ruleset, program, table: str, *, header: list[str] | None = None, as_of: dt.date | None = None
) -> exp.Expr:
    """The crediting of every plan over ``table``: one row per readable deal and plan (``CREDIT_COLUMNS``).

    ``credited`` is the plan's credit rule (NULL: unknown, a value it needs is missing);
    ``amount``, ``credit_date``, ``rep``, ``splits``, ``overlay`` and ``cancelled_on`` are the deal's
    as the plan reads them; ``multipliers`` and ``bonuses`` the ids of those that matched
    (';'-joined), and ``factor`` the product of the multipliers' factors. Splits are left as
    written: dividing credit between reps, and everything after (tiers, caps, periods), is the
    statements' work (``dealgate payout``).
    """
    typed = _typed(ruleset, table, table_columns(ruleset, header))
    readable = (
        exp.select("*")
        .from_(typed.subquery("typed"))
        .where(
            exp.and_(exp.Not(this=exp.column("blank_row")), exp.Is(this=exp.column("problem"), expression=exp.Null()))
        )
    )
    query = CreditQuery(ruleset, program, _as_of(as_of))
    credited = query.build(readable.subquery("typed"))
    parts = []
    for k, plan in enumerate(query.plans):
        bonuses = [b for b in plan.bonuses if b.when is not None]
        matched = joined(
            [
                (exp.Not(this=exp.Is(this=exp.column(f"b{k}_{j}"), expression=exp.Null())), b.id)
                for j, b in enumerate(bonuses)
            ],
            ";",
        )
        factor = decimal_literal(Decimal(1))
        for m in plan.commission.multipliers:
            applies = exp.GT(
                this=exp.StrPosition(
                    this=exp.Concat(
                        expressions=[exp.Literal.string(";"), exp.column(f"m{k}"), exp.Literal.string(";")]
                    ),
                    substr=exp.Literal.string(f";{m.id};"),
                ),
                expression=exp.Literal.number(0),
            )
            factor = exp.Mul(
                this=factor,
                expression=exp.Case(
                    ifs=[exp.If(this=applies, true=decimal_literal(m.factor))], default=decimal_literal(Decimal(1))
                ),
            )
        values = {
            "plan": exp.Literal.string(plan.id),
            "id": exp.column("id"),
            "credited": exp.column(f"w{k}"),
            "amount": exp.column(f"a{k}"),
            "credit_date": exp.column(f"d{k}"),
            "rep": exp.column(f"to{k}"),
            "splits": exp.column(f"sp{k}"),
            "overlay": exp.column(f"ov{k}"),
            "multipliers": exp.column(f"m{k}"),
            "factor": factor,
            "bonuses": matched,
            "cancelled_on": exp.column(f"x{k}"),
        }
        parts.append(exp.select(*[exp.alias_(values[c], c) for c in CREDIT_COLUMNS]).from_("credited"))
    if not parts:
        raise ValueError("the pack has no plans")
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return union.with_("credited", as_=credited)


CREDIT_COLUMNS = (
    "plan",
    "id",
    "credited",
    "amount",
    "credit_date",
    "rep",
    "splits",
    "overlay",
    "multipliers",
    "factor",
    "bonuses",
    "cancelled_on",
)


def _typed(ruleset, table: str, plan: list) -> exp.Select:
    """typed_rows over ``table``'s columns (``plan``: field, column), each cast to text first."""
    cells, keep = {}, []
    for position, (field, column) in enumerate(plan):
        raw = exp.cast(exp.column(exp.to_identifier(column, quoted=True)), exp.DataType.build("VARCHAR"))
        cells[field] = (position, exp.column(f"c{position}"))
        keep.append(exp.alias_(raw, f"c{position}"))
    raw_rows = exp.select(exp.alias_(exp.Null(), "line"), *keep).from_(exp.to_table(table)).subquery("raw")
    all_cells = [exp.column(f"c{i}") for i in range(len(plan))]
    return typed_rows(ruleset, cells, all_cells, raw_rows, [exp.column("line"), *all_cells])


def _as_of(as_of: dt.date | None) -> exp.Expr:
    return literal(as_of) if as_of is not None else exp.CurrentDate()


def render(query: exp.Expr, dialect: str, view: str | None = None) -> str:
    """The query's text in ``dialect``, or a ``CREATE OR REPLACE VIEW`` of it."""
    if view is not None:
        query = exp.Create(this=exp.to_table(view), kind="VIEW", replace=True, expression=query)
    return query.sql(dialect=dialect, pretty=True) + ";\n"
