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

from ..expr.sqlfunctions import WHITESPACE_CLASS
from .coerce import read_cell
from .expr import literal
from .fastpath import fast_cell
from .score import field_column
from .types import sql_type


def is_blank(cell: exp.Expression) -> exp.Expression:
    """Empty, null or only white space (Python's ``str.isspace``)."""
    return exp.or_(exp.Is(this=cell.copy(), expression=exp.Null()),
                   exp.RegexpLike(this=cell.copy(), expression=exp.Literal.string(f"^{WHITESPACE_CLASS}*$")))


def read_fast(field, cell: exp.Expression, stages, default) -> tuple[exp.Expression, exp.Expression]:
    """(value, problem) of one cell: the fast path where the cell has an everyday shape, else the exact reading."""
    exact = read_cell(field, cell, stages=stages, default=default)
    fast = fast_cell(field, cell, stages)
    if fast is None:
        return exact.value, exact.problem
    test, value = fast
    return (exp.Case(ifs=[exp.If(this=test, true=value)], default=exact.value),
            exp.Case(ifs=[exp.If(this=test.copy(), true=exp.Null())], default=exact.problem))


def typed_rows(ruleset, cells: dict, all_cells: list, relation: exp.Expression, keep: list) -> exp.Select:
    """SELECT ``keep``, the typed fields, ``problem``, ``problem_column`` and ``blank_row`` FROM ``relation``.

    ``cells`` maps a field name to (column position, its cell expression) for the fields the
    export has; ``all_cells`` are every cell of the row, in column order (for ``blank_row``).
    """
    analysis = ruleset.analysis
    values, problems = [], []
    for field in ruleset.fields.fields.values():
        if field.compute is not None:
            continue
        default = analysis.defaults.get(field.name)
        if field.name in cells:
            position, cell = cells[field.name]
            value, problem = read_fast(field, cell, analysis.stage_lookup, default)
            values.append(exp.alias_(value, field_column(field.name)))
            problems.append((position, problem))
        else:
            values.append(exp.alias_(exp.cast(literal(default), sql_type(field.type)), field_column(field.name)))
    problems.sort(key=lambda item: item[0])
    if problems:
        first = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=p.copy(), expression=exp.Null())),
                                     true=exp.Literal.number(i)) for i, p in problems])
        reason = exp.Coalesce(this=problems[0][1].copy(), expressions=[p.copy() for _, p in problems[1:]])
    else:
        first, reason = exp.Null(), exp.Null()
    blank = exp.and_(*[is_blank(c) for c in all_cells]) if all_cells else exp.false()
    return exp.select(*keep, *values, exp.alias_(first, "problem_column"), exp.alias_(reason, "problem"),
                      exp.alias_(blank, "blank_row")).from_(relation)
