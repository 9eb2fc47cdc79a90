"""The type vocabulary: the types fields are declared with, and expressions are checked against
(the field types plus null).

A foundation module, imported by values, read, semantics and the expression language alike, so that
reading an export does not depend on the expression compiler.
"""

from __future__ import annotations

BOOL = "bool"
INT = "integer"
DECIMAL = "decimal"
MONEY = "money"
STRING = "string"
DATE = "date"
STAGE = "stage"
LIST = "list"
NULL = "null"
ANY = frozenset({BOOL, INT, DECIMAL, MONEY, STRING, DATE, STAGE, LIST, NULL})

NUMERIC = frozenset({INT, DECIMAL, MONEY})
# A stage is a string with an order; it may be compared with string literals naming stages.
STRINGLIKE = frozenset({STRING, STAGE})

FIELD_TYPES = (STRING, INT, DECIMAL, MONEY, BOOL, DATE, STAGE, LIST)


def comparable(left: str, right: str) -> bool:
    if left in NUMERIC and right in NUMERIC:
        return True
    if left in STRINGLIKE and right in STRINGLIKE:
        return True
    return left == right


def arithmetic_result(op: str, left: str, right: str) -> str:
    if op == "/":
        return DECIMAL
    if left == INT and right == INT:
        return INT
    if MONEY in (left, right) and op in "+-*%":
        return MONEY
    return DECIMAL


def describe(type_: str) -> str:
    return {
        BOOL: "a true/false value",
        INT: "a whole number",
        DECIMAL: "a number",
        MONEY: "an amount of money",
        STRING: "a string",
        DATE: "a date",
        STAGE: "a stage",
        LIST: "a list of strings",
        NULL: "null",
    }.get(type_, type_)
