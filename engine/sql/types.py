"""The SQL type of each field type, as sqlglot DataType nodes (printed per dialect).

Numbers read from exports have at most 16 integer digits and at most 6 decimal places
(``engine.values``: MAX_ADJUSTED_EXPONENT, MIN_EXPONENT), so DECIMAL(22, 6) holds every
readable amount exactly; whole numbers are below 10**16 and fit BIGINT.
"""

from __future__ import annotations

from sqlglot import exp

from .. import types as T
from ..values import MAX_ADJUSTED_EXPONENT, MIN_EXPONENT

DECIMAL_SCALE = -MIN_EXPONENT
DECIMAL_PRECISION = MAX_ADJUSTED_EXPONENT + 1 + DECIMAL_SCALE


def decimal_type() -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({DECIMAL_PRECISION}, {DECIMAL_SCALE})")


def _build(type_: str) -> exp.DataType:
    if type_ in (T.STRING, T.STAGE):
        return exp.DataType.build("VARCHAR")
    if type_ == T.INT:
        return exp.DataType.build("BIGINT")
    if type_ in (T.MONEY, T.DECIMAL):
        return decimal_type()
    if type_ == T.BOOL:
        return exp.DataType.build("BOOLEAN")
    if type_ == T.DATE:
        return exp.DataType.build("DATE")
    if type_ == T.LIST:
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[exp.DataType.build("VARCHAR")], nested=True)
    raise ValueError(f"no SQL type for field type {type_!r}")


def sql_type(type_: str) -> exp.DataType:
    """A fresh DataType node for ``type_`` (a field type name from ``engine.types``)."""
    return _build(type_)
