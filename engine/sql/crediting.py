"""Credited rows from a SQL engine, handed to ``engine.payout`` as if its credit functions had run.

The crediting query (``engine.sql.credit``) gives, per deal and plan, what the
plan's generated credit function returns, spread over columns. ``credit_records``
turns each row back into a record holding those results, and
``program_over_records`` gives a PayoutProgram whose credit functions read them
instead of computing them. Everything after crediting -- recipients and
splits, duplicates, periods, statements, every diagnostic -- is the Python
engine's own code, so statements agree to the cent by construction, and the
problems reported about deals carry the same words and lines.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..model import Expr
from ..payout.credit import ONE, CreditProgram, PlanCredit
from .credit import CreditQuery, plan_key
from .duckdb_engine import SqlStream
from .expr import literal


class SqlCrediting:
    """What the DuckDB and Spark creditings share: a scorer that reads exports, the crediting query,
    and the PayoutProgram that takes its rows (``records``, a subclass's: how its engine runs the query)."""

    follows_progress = False  # whether its queries advance the run's progress meter (DuckDB's do)

    def __init__(self, scorer, ruleset, program, as_of):
        self.scorer = scorer
        self.query = CreditQuery(ruleset, program, literal(as_of))
        self.program = program_over_records(program)

    def prepare(self, path: str, fmt: str | None = None, delimiter: str | None = None) -> SqlStream:
        """The export's header read and its rows checked (``Fallback`` when the engine cannot read it exactly)."""
        source = self.scorer.prepare(path, fmt, delimiter)
        self.scorer.check_readable(source)
        return SqlStream(self.scorer, [source])

    def close(self) -> None:
        self.scorer.close()


def program_over_records(program):
    """``program`` (a PayoutProgram) with credit functions that read each plan's result from the record."""
    plans = {
        plan_id: PlanCredit(credit.plan, _reader(plan_key(k)), credit.when_fields)
        for k, (plan_id, credit) in enumerate(program.credit.plans.items())
    }
    return attrs.evolve(program, credit=CreditProgram("# credited by the SQL engine (engine.sql.credit)\n", plans))


def _reader(key: str):
    def credit(deal, as_of):
        return deal[key]

    return credit


class PlanColumns:
    """Where one plan's columns sit in a fetched row, and how to make its credit result of them."""

    def __init__(self, k: int, plan, when_fields: tuple, names: list):
        at = {name: i for i, name in enumerate(names)}
        self.key = plan_key(k)
        self.columns = tuple(at[f"{c}{k}"] for c in ("w", "a", "d", "to", "sp", "ov", "x", "m", "n"))
        deal_bonuses = [b for b in plan.bonuses if b.when is not None]
        self.bonuses = tuple(
            (at[f"b{k}_{j}"], b.id, None if isinstance(b.amount, Expr) else Decimal(b.amount))
            for j, b in enumerate(deal_bonuses)
        )
        self.factors = {m.id: m.factor for m in plan.commission.multipliers}
        self.when_fields = when_fields
        self._products: dict = {}

    def result(self, row, deal_id, record: dict):
        """False, None or the credit tuple of ``engine.payout.credit`` (fields as CreditResult) for this row."""
        w, a, d, to, sp, ov, x, m, n = (row[i] for i in self.columns)
        if w is False:
            return False
        if w is None:
            missing = set(n.split(",")) if n else set()
            for name in self.when_fields:  # what the "missing <field>" warning looks up in the record
                record[name] = None if name in missing else True
            return None
        factor, mults = self.multipliers(m)
        bonuses: tuple = ()
        for index, bonus_id, constant in self.bonuses:
            value = row[index]
            if value is not None:
                bonuses += ((bonus_id, constant if constant is not None else _decimal(value)),)
        return (deal_id, _decimal(a), d, to, sp, ov, factor, mults, bonuses, x)

    def multipliers(self, joined: str):
        """(factor, ids) of the multipliers that matched: the product taken in declaration order, as in Python."""
        found = self._products.get(joined)
        if found is None:
            ids = tuple(joined.split(";")) if joined else ()
            factor = ONE
            for multiplier in ids:
                factor = factor * self.factors[multiplier]
            found = self._products[joined] = (factor, ids)
        return found


def credit_records(rows, names: list, program, total: int):
    """(line, record) for each of ``total`` deals, in export order, from fetched crediting rows.

    ``rows`` holds only deals some plan may credit (its rule not FALSE), each with ``number``, its
    position among the deals; every deal between them is credited by no plan, and shares one record.
    Without a ``number`` column, ``rows`` holds every deal.
    """
    at = {name: i for i, name in enumerate(names)}
    line_at, id_at, number_at = at["line"], at["id"], at.get("number")
    plans = [
        PlanColumns(k, credit.plan, credit.when_fields, names) for k, credit in enumerate(program.credit.plans.values())
    ]
    nobody = {"id": None, **{p.key: False for p in plans}}
    done = 0
    for row in rows:
        number = row[number_at] if number_at is not None else done + 1
        for _ in range(number - done - 1):
            yield None, nobody
        record = {"id": row[id_at]}
        for plan in plans:
            record[plan.key] = plan.result(row, row[id_at], record)
        yield row[line_at], record
        done = number
    for _ in range(total - done):
        yield None, nobody


def _decimal(value):
    """SQL integers come back as int; the credit functions give Decimal."""
    return Decimal(value) if value.__class__ is int else value
