"""Typed deal records (a test case's, a notebook's) scored and credited by the compiled SQL.

The export runners read text cells; here the records are typed already (``RuleSet.record``), so
they go to the engine as an Arrow table of the SQL types the reading would have produced
(``engine.sql.types``), and the same scoring and crediting queries run over it, on DuckDB
(``DuckDBRecords``) or Spark (``SparkRecords``). ``dealgate test --engine duckdb|spark`` uses this
to hold the SQL compiler to a pack's own test cases.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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


class SqlRecords:
    """Scores and credits lists of typed deal records on one SQL engine (a subclass says which)."""

    dialect = ""

    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.stored = [f for f in ruleset.fields.fields.values() if f.compute is None]

    def close(self) -> None:
        """Let go of the engine's resources."""

    def load(self, table) -> None:
        """Make the Arrow ``table`` the engine's table ``dealgate_records``."""
        raise NotImplementedError

    def execute(self, query: exp.Select) -> tuple[list, list]:
        """(column names, rows) of ``query``."""
        raise NotImplementedError

    def register(self, records: list[dict]) -> exp.Expr:
        """The records as the table ``dealgate_records``: ``line`` (position from 1) and one column per field."""
        import pyarrow as pa

        columns = {"line": pa.array(range(1, len(records) + 1), pa.int64())}
        for field in self.stored:
            values = [record.get(field.name) for record in records]
            try:
                columns[f"f_{field.name}"] = pa.array([_arrow_value(v) for v in values], _arrow_type(field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as problem:
                raise RecordsError(f"field '{field.name}': {problem}") from None
        self.load(pa.table(columns))
        names = ["line"] + [field_column(f.name) for f in self.stored]
        return (
            exp.select(*[exp.column(n) for n in names], copy=False)
            .from_("dealgate_records", copy=False)
            .subquery("records", copy=False)
        )

    def score(self, records: list[dict], as_of: dt.date) -> list:
        """The DealResult of each record, in order."""
        if not records:
            return []
        names, rows = self.execute(ScoringQuery(self.ruleset, literal(as_of)).build(self.register(records)))
        return [deal_result(dict(zip(names, row))) for row in rows]

    def compute_payout(self, program, records: list[dict], reps, periods, as_of: dt.date):
        """``program.compute`` with the crediting of ``records`` done by the SQL crediting query."""
        over = program_over_records(program)
        if not records:
            return over.compute([], reps, periods, as_of)
        built = CreditQuery(self.ruleset, program, literal(as_of)).build(self.register(records))
        numbered = (
            exp.select("*", exp.alias_(exp.column("line"), "number", copy=False), copy=False)
            .from_(built.subquery("credited", copy=False), copy=False)
            .order_by("line", copy=False)
        )
        names, rows = self.execute(numbered)
        deals = (record for _, record in credit_records(rows, names, over, len(records)))
        return over.compute(deals, reps, periods, as_of)


class DuckDBRecords(SqlRecords):
    """On an in-memory DuckDB connection of its own."""

    def __init__(self, ruleset):
        import duckdb

        super().__init__(ruleset)
        self.connection = duckdb.connect()

    def close(self) -> None:
        self.connection.close()

    def load(self, table) -> None:
        self.connection.register("dealgate_records", table)

    def execute(self, query):
        result = self.connection.execute(query.sql("duckdb"))
        return [d[0] for d in result.description], result.fetchall()


class SparkRecords(SqlRecords):
    """On a SparkSession (``engine.sql.spark_engine.spark_session``: local[*] unless told otherwise)."""

    def __init__(self, ruleset, master: str | None = None):
        from .spark_engine import spark_session

        super().__init__(ruleset)
        self.spark = spark_session(master, None)

    def close(self) -> None:
        self.spark.catalog.dropTempView("dealgate_records")

    def load(self, table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView("dealgate_records")

    def execute(self, query):
        frame = self.spark.sql(query.sql("spark"))
        return frame.columns, [tuple(row) for row in frame.collect()]


def _arrow_type(type_: str):
    import pyarrow as pa

    return {
        T.STRING: pa.string(),
        T.STAGE: pa.string(),
        T.INT: pa.int64(),
        T.BOOL: pa.bool_(),
        T.MONEY: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        T.DECIMAL: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        T.DATE: pa.date32(),
        T.LIST: pa.list_(pa.string()),
    }[type_]


def _arrow_value(value):
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int):  # 'n', 'N', 'F': NaN and infinities have no DECIMAL
            raise TypeError(f"{value} is not a finite decimal")
        if exponent < -DECIMAL_SCALE:
            raise TypeError(f"{value} has more than {DECIMAL_SCALE} decimal places")
    if isinstance(value, tuple):
        return list(value)
    return value
