"""Which parts of a pack the SQL engines can run, as diagnostics.

Every expression and every read field is compiled on its own; what has no
exact SQL form (``Unsupported``) becomes a DG701 diagnostic at the rule's own
``file:line:col``, naming the construct. ``--engine duckdb`` refuses such a pack
with these diagnostics; ``--engine auto`` runs it on the Python engine.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from .. import types as T
from ..diagnostics import Diagnostic
from ..expr.sqlfunctions import Unsupported
from .cache import SqlCache
from .coerce import read_cell
from .credit import plan_expressions
from .dates import check_format
from .expr import ExpressionCompiler, literal


def sql_problems(ruleset, plans: bool = False) -> list[Diagnostic]:
    """DG701 for each expression or field the SQL engines cannot run exactly; [] when all can.

    With ``plans``, the crediting of every plan too (what ``payout`` runs in SQL). Compiling every
    cell reading to find out costs about a second (the case tables of stage labels and date
    formats), so a pack found to have none is remembered (``engine.sql.cache``).
    """
    cache = SqlCache(ruleset)
    key = cache.key("sql-problems", plans)
    if cache.load(key) == "none":
        return []
    problems = _find_problems(ruleset, plans)
    if not problems:
        cache.store(key, "none")
    return problems


def _find_problems(ruleset, plans: bool) -> list[Diagnostic]:
    positions = {stage: i for i, stage in enumerate(ruleset.pipeline.stage_ids)}
    compiler = ExpressionCompiler(lambda name: exp.column(name), literal(dt.date(2000, 1, 1)), positions)
    problems = []
    fields = ruleset.fields.fields.values()
    expressions = [(f"computed field '{f.name}'", f.compute) for f in fields if f.compute is not None]
    expressions += [(f"exit criterion '{c.id}' of stage '{s}'", c.when) for s, c in ruleset.criteria]
    expressions += [(f"qualify-out rule '{r.id}'", r.when) for r in ruleset.rules]
    expressions += [(f"forecast category '{c.id}'", c.when) for c in ruleset.pipeline.categories if c.when is not None]
    if plans:
        expressions += [item for plan in ruleset.analysis.pack.plans for item in plan_expressions(plan)]
        for plan in ruleset.analysis.pack.plans:
            if plan.fx is not None:  # its credit also reads the deal's currency, which the crediting query has not
                problems.append(
                    Diagnostic(
                        "DG701",
                        "warning",
                        f"plan '{plan.id}' currency conversion cannot run on the SQL engines: their crediting query "
                        f"does not read the deal's currency ('{plan.fx.currency}')",
                        plan.fx.location,
                        "it runs on the Python engine (--engine python, or auto)",
                    )
                )
            if plan.payment is not None:  # its credit also reads the payment date, which the crediting query has not
                problems.append(
                    Diagnostic(
                        "DG701",
                        "warning",
                        f"plan '{plan.id}' payment timing cannot run on the SQL engines: their crediting query "
                        f"does not read the payment date ('{plan.payment.rest_on}')",
                        plan.payment.location,
                        "it runs on the Python engine (--engine python, or auto)",
                    )
                )
    for what, expression in expressions:
        try:
            compiler.compile(ruleset.checked(expression).ir)
        except Unsupported as construct:
            problems.append(_diagnostic(what, construct, expression.location))
    for field in fields:
        if field.compute is not None:
            continue
        try:  # only dates (their formats) and stages (their labels' case) can have no exact SQL reading
            if field.type == T.DATE:
                for fmt in field.formats:
                    check_format(fmt)
            elif field.type == T.STAGE:
                read_cell(
                    field,
                    exp.column("cell"),
                    stages=ruleset.analysis.stage_lookup,
                    default=ruleset.analysis.defaults.get(field.name),
                )
        except Unsupported as construct:
            problems.append(_diagnostic(f"field '{field.name}'", construct, field.location))
    return problems


def _diagnostic(what: str, construct: Exception, location) -> Diagnostic:
    return Diagnostic(
        "DG701",
        "warning",
        f"{what} cannot run on the SQL engines: {construct} has no exact SQL form",
        location,
        "it runs on the Python engine (--engine python, or auto)",
    )
