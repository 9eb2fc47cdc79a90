"""Export rows in SQL: raw text cells in, typed deal fields and reject reasons out.

Shared by every SQL engine and by ``dealgate sql``. ``typed_rows`` reads each
field's cell as the Python reader does (``engine.sql.coerce``); a field with no
column gets its default. A row is *blank* when every cell is empty or white
space (the Python reader skips such rows without counting them as records),
and *rejected* when some cell cannot be read: ``problem`` holds the reason of the
first such cell in column order and ``problem_column`` its position.
"""

from __future__ import annotations

from sqlglot import exp

from .. import types as T
from ..expr.sqlfunctions import WHITESPACE_CLASS
from .coerce import read_cell
from .expr import literal
from .fastpath import fast_cell
from .score import field_column
from .types import sql_type


def is_blank(cell: exp.Expr) -> exp.Expr:
    """Empty, null or only white space (Python's ``str.isspace``); the regex only for the rare odd first character."""
    exact = exp.RegexpLike(this=cell.copy(), expression=exp.Literal.string(f"^{WHITESPACE_CLASS}*$"))
    first = exp.Left(this=cell.copy(), expression=exp.Literal.number(1))
    return exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=cell.copy(), expression=exp.Null()), true=exp.true()),
            exp.If(
                this=exp.Between(this=first, low=exp.Literal.string("!"), high=exp.Literal.string("~")),
                true=exp.false(),
            ),
        ],
        default=exact,
    )


def typed_rows(
    ruleset,
    cells: dict,
    all_cells: list,
    relation: exp.Expr,
    keep: list,
    reject_cells: bool = False,
    used: set | None = None,
    native: bool = False,
) -> exp.Select:
    """SELECT ``keep``, the typed fields, ``problem``, ``problem_column`` and ``blank_row`` FROM ``relation``.

    ``cells`` maps a field name to (column position, its cell expression) for the fields the
    export has; ``all_cells`` are every cell of the row, in column order (for ``blank_row``).
    With ``reject_cells``, ``cells`` holds the row's raw cells (a list) on rejected rows only.
    Fields not in ``used`` (when given) are only checked: no rule reads their value, but a
    cell that cannot be read still rejects its row, as in the Python reader. ``native``: the fast
    paths in DuckDB's own, cheaper forms (``engine.sql.fastpath``); DuckDB only.

    Built in three layers, so that each cell's fast-path test, and each problem, is computed
    once per row: (1) the fast tests, (2) values and problems, (3) the row's first problem.
    """
    analysis = ruleset.analysis
    tests, layer2, problems = [], [], []
    for field in ruleset.fields.fields.values():
        if field.compute is not None:
            continue
        default = analysis.defaults.get(field.name)
        column = field_column(field.name)
        if field.name not in cells:
            layer2.append(exp.alias_(exp.cast(literal(default), sql_type(field.type)), column, copy=False))
            continue
        position, cell = cells[field.name]
        # A string cell never fails to read, unless it is required and has no default: such a field
        # has no problem column, and if no rule reads it either, nothing is computed for it at all.
        never_fails = field.type == T.STRING and not (field.required and default is None)
        unused = used is not None and field.name not in used
        if never_fails and unused:
            layer2.append(exp.alias_(exp.cast(exp.Null(), sql_type(field.type)), column, copy=False))
            continue
        exact = read_cell(field, cell, stages=analysis.stage_lookup, default=default)
        fast = fast_cell(field, cell, analysis.stage_lookup, native)
        problem_name = f"p{position}"
        # An empty cell (NULL) is the commonest odd one: its default, or 'missing', without the exact reading.
        empty = exp.Is(this=cell.copy(), expression=exp.Null())
        typed_default = exp.cast(literal(default), sql_type(field.type))
        missing = (
            exp.Literal.string(f"missing required field '{field.name}'")
            if field.required and default is None
            else exp.Null()
        )
        value: exp.Expr
        if fast is None:
            value = exp.Case(ifs=[exp.If(this=empty, true=typed_default)], default=exact.value)
            problem = exp.Case(ifs=[exp.If(this=empty.copy(), true=missing)], default=exact.problem)
        else:
            test_name = f"t{position}"
            tests.append(exp.alias_(fast[0], test_name, copy=False))
            test = exp.column(test_name)
            value = exp.Case(
                ifs=[exp.If(this=test, true=fast[1]), exp.If(this=empty, true=typed_default)], default=exact.value
            )
            problem = exp.Case(
                ifs=[exp.If(this=test.copy(), true=exp.Null()), exp.If(this=empty.copy(), true=missing)],
                default=exact.problem,
            )
        if unused:
            value = exp.cast(exp.Null(), sql_type(field.type))
        layer2.append(exp.alias_(value, column, copy=False))
        if never_fails:
            continue
        layer2.append(exp.alias_(problem, problem_name, copy=False))
        problems.append((position, exp.column(problem_name)))
    problems.sort(key=lambda item: item[0])
    blank = exp.and_(*[is_blank(c) for c in all_cells], copy=False) if all_cells else exp.false()
    first_layer = exp.select("*", *tests, exp.alias_(blank, "blank_row", copy=False)).from_(relation, copy=False)
    second_layer = exp.select("*", *layer2, copy=False).from_(first_layer.subquery("tested", copy=False))
    first: exp.Expr
    reason: exp.Expr
    if problems:
        first = exp.Case(
            ifs=[
                exp.If(this=exp.Not(this=exp.Is(this=p.copy(), expression=exp.Null())), true=exp.Literal.number(i))
                for i, p in problems
            ]
        )
        reason = exp.Coalesce(this=problems[0][1].copy(), expressions=[p.copy() for _, p in problems[1:]])
    else:
        first, reason = exp.Null(), exp.Null()
    fields = [exp.column(field_column(f.name)) for f in ruleset.fields.fields.values() if f.compute is None]
    extra = []
    if reject_cells:
        extra.append(
            exp.alias_(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Not(this=exp.Is(this=reason.copy(), expression=exp.Null())),
                            true=exp.Array(expressions=[c.copy() for c in all_cells]),
                        )
                    ]
                ),
                "cells",
                copy=False,
            )
        )
    return exp.select(
        *keep,
        *fields,
        exp.alias_(first, "problem_column", copy=False),
        exp.alias_(reason, "problem", copy=False),
        exp.column("blank_row"),
        *extra,
        copy=False,
    ).from_(second_layer.subquery("read", copy=False))
