"""Ids Excel mangled, found by the SQL engines: the Python reader's warnings, from the scored rows.

The Python reader warns of a text id that looks like a number Excel rewrote ('7.22671E+19',
'722670511308519000', '12345.0': engine.values.EXCEL_FLOAT_ID). The SQL engines carry such an id in an
``excel_id`` column of their scored rows and make the same warnings from it, in line order: the
first MAX_ROW_WARNINGS of an export listed, the rest counted in one warning at the last such line.
"""

from __future__ import annotations

from sqlglot import exp

from .. import types as T
from ..read import ID_FIELD, MAX_ROW_WARNINGS, ReadWarning
from ..read.reader import MANGLED_ID, MANGLED_IDS_NOT_LISTED

# EXCEL_FLOAT_ID for RE2 (DuckDB) and java.util.regex (Spark): Python's \d is any Unicode digit, \p{Nd};
# its '$' also matches before a final newline, which a stripped id never has.
PATTERN = r"^(?:\p{Nd}+(\.\p{Nd}+)?[eE][+-]\p{Nd}+|[1-9]\p{Nd}{14}0+|\p{Nd}+\.0+)$"


def excel_id(ruleset, column_plan) -> exp.Expr:
    """The ``excel_id`` column: the deal's id when it looks mangled, else null.

    Only a text id read from a column is checked, as the Python reader does.
    """
    mapped = any(name == ID_FIELD for _, name in column_plan)
    if not mapped or ruleset.analysis.pack.fields.fields[ID_FIELD].type != T.STRING:
        return exp.cast(exp.Null(), exp.DataType.build("VARCHAR"))
    matched = exp.RegexpLike(this=exp.column("id"), expression=exp.Literal.string(PATTERN))
    return exp.Case(ifs=[exp.If(this=matched, true=exp.column("id"))])


def queries(position: int) -> tuple[exp.Select, exp.Select]:
    """The listed mangled ids of export ``position`` (line, id), and (how many, last line) of them all."""
    where = exp.and_(
        exp.EQ(this=exp.column("position"), expression=exp.Literal.number(position)),
        exp.Not(this=exp.Is(this=exp.column("excel_id"), expression=exp.Null())),
    )
    listed = (
        exp.select("line", "excel_id", copy=False)
        .from_("dealgate_scored", copy=False)
        .where(where, copy=False)
        .order_by("line", copy=False)
        .limit(MAX_ROW_WARNINGS, copy=False)
    )
    total = (
        exp.select(exp.Count(this=exp.Star()), exp.Max(this=exp.column("line")), copy=False)
        .from_("dealgate_scored", copy=False)
        .where(where.copy(), copy=False)
    )
    return listed, total


def warnings(listed: list, total) -> list[ReadWarning]:
    """The reader's warnings from the rows of ``queries``; ``total()`` runs the count only when needed."""
    found = [ReadWarning(line, MANGLED_ID.format(value=value)) for line, value in listed]
    if len(listed) == MAX_ROW_WARNINGS:
        count, last = total()
        if count > MAX_ROW_WARNINGS:
            found.append(ReadWarning(last, MANGLED_IDS_NOT_LISTED.format(count=count - MAX_ROW_WARNINGS)))
    return found
