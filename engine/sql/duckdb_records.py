"""Typed deal records (a test case's, a notebook's) scored and credited by the compiled SQL on DuckDB.

The export runners read text cells; here the records are typed already (``RuleSet.record``), so
they go to DuckDB as an Arrow table of the SQL types the reading would have produced
(``engine.sql.types``), and the same scoring and crediting queries run over it. ``dealgate test
--engine duckdb`` uses this to hold the SQL compiler to a pack's own test cases.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from sqlglot import exp

from .. import types as T
from .credit import CreditQuery
from .crediting import credit_records, program_over_records
from .duckdb_engine import deal_result
from .expr import literal
from .score import ScoringQuery, field_column
from .types import DECIMAL_PRECISION, DECIMAL_SCALE


class RecordsError(ValueError):
    """A record with a value DuckDB's column type cannot hold exactly (say, 7 decimal places)."""


class DuckDBRecords:
    """Scores and credits lists of typed deal records with one in-memory DuckDB connection."""

    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.stored = [f for f in ruleset.fields.fields.values() if f.compute is None]
        self.connection = duckdb.connect()

    def close(self) -> None:
        self.connection.close()

    def register(self, records: list[dict]) -> exp.Expression:
        """The records as the table ``dealgate_records``: ``line`` (position from 1) and one column per field."""
        import pyarrow as pa

        columns = {"line": pa.array(range(1, len(records) + 1), pa.int64())}
        for field in self.stored:
            values = [record.get(field.name) for record in records]
            try:
                columns[f"f_{field.name}"] = pa.array([_arrow_value(v) for v in values], _arrow_type(field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as problem:
                raise RecordsError(f"field '{field.name}': {problem}") from None
        self.connection.register("dealgate_records", pa.table(columns))
        names = ["line"] + [field_column(f.name) for f in self.stored]
        return exp.select(*[exp.column(n) for n in names], copy=False).from_("dealgate_records", copy=False) \
            .subquery("records", copy=False)

    def score(self, records: list[dict], as_of: dt.date) -> list:
        """The DealResult of each record, in order."""
        if not records:
            return []
        query = ScoringQuery(self.ruleset, literal(as_of)).build(self.register(records))
        result = self.connection.execute(query.sql("duckdb"))
        names = [d[0] for d in result.description]
        return [deal_result(dict(zip(names, row))) for row in result.fetchall()]

    def compute_payout(self, program, records: list[dict], reps, periods, as_of: dt.date):
        """``program.compute`` with the crediting of ``records`` done by the SQL crediting query."""
        over = program_over_records(program)
        if not records:
            return over.compute([], reps, periods, as_of)
        built = CreditQuery(self.ruleset, program, literal(as_of)).build(self.register(records))
        numbered = exp.select("*", exp.alias_(exp.column("line"), "number", copy=False), copy=False).from_(
            built.subquery("credited", copy=False), copy=False).order_by("line", copy=False)
        result = self.connection.execute(numbered.sql("duckdb"))
        names = [d[0] for d in result.description]
        deals = (record for _, record in credit_records(result.fetchall(), names, over, len(records)))
        return over.compute(deals, reps, periods, as_of)


def _arrow_type(type_: str):
    import pyarrow as pa

    return {T.STRING: pa.string(), T.STAGE: pa.string(), T.INT: pa.int64(), T.BOOL: pa.bool_(),
            T.MONEY: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            T.DECIMAL: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            T.DATE: pa.date32(), T.LIST: pa.list_(pa.string())}[type_]


def _arrow_value(value):
    if isinstance(value, Decimal) and value.as_tuple().exponent < -DECIMAL_SCALE:
        raise TypeError(f"{value} has more than {DECIMAL_SCALE} decimal places")
    if isinstance(value, tuple):
        return list(value)
    return value
