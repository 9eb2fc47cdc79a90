"""The reference semantics: a plain tree-walking interpreter of the IR.

This is docs/expressions.md as code, written for clarity, not speed. Every
engine — the generated Python, the SQL compiled for DuckDB and Spark — is
held to it by differential tests: same deal, same as-of date, same result.
It uses the same function implementations as generated code
(``engine.expr.functions``), so a function is defined once.
"""

from __future__ import annotations

import datetime as dt
import operator

from . import ir
from .functions import FUNCTIONS, op_div, op_mod

_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def evaluate(node: ir.Node, deal: dict, as_of: dt.date, stages: tuple = ()):
    """The value of ``node`` for ``deal`` (field name -> typed value, computed fields included).

    True, False or None (unknown) for conditions; ``stages`` (pipeline order) ranks stage values.
    """
    return _Interpreter(deal, as_of, {s: i for i, s in enumerate(stages)}).value(node)


class _Interpreter:
    def __init__(self, deal: dict, as_of: dt.date, positions: dict):
        self.deal = deal
        self.as_of = as_of
        self.positions = positions

    def value(self, node: ir.Node):
        return getattr(self, type(node).__name__)(node)

    def Literal(self, node: ir.Literal):
        return node.value

    def ListLiteral(self, node: ir.ListLiteral):
        return node.items

    def Field(self, node: ir.Field):
        return self.as_of if node.is_as_of else self.deal[node.name]

    def IsNull(self, node: ir.IsNull):
        return (self.value(node.operand) is None) != node.negated

    def Compare(self, node: ir.Compare):
        left, right = self.value(node.left), self.value(node.right)
        if left is None or right is None:
            return None
        if node.stage_order:  # a stage the pipeline does not know ranks before all of them
            left, right = (self.positions.get(v, -1) if isinstance(v, str) else v for v in (left, right))
        return _COMPARE[node.op](left, right)

    def Member(self, node: ir.Member):
        item, container = self.value(node.item), self.value(node.container)
        if item is None or container is None:
            return None
        return (item in container) != node.negated

    def Arithmetic(self, node: ir.Arithmetic):
        left, right = self.value(node.left), self.value(node.right)
        if node.op == "/":
            return op_div(left, right)
        if node.op == "%":
            return op_mod(left, right)
        if left is None or right is None:
            return None
        return _ARITHMETIC[node.op](left, right)

    def Negate(self, node: ir.Negate):
        value = self.value(node.operand)
        return None if value is None else -value

    def Not(self, node: ir.Not):
        value = self.value(node.operand)
        return None if value is None else not value

    def BoolOp(self, node: ir.BoolOp):
        decisive = node.op == "or"  # True decides 'or', False decides 'and', even beside an unknown
        values = [self.value(operand) for operand in node.operands]
        if decisive in values:
            return decisive
        return None if None in values else not decisive

    def Conditional(self, node: ir.Conditional):
        test = self.value(node.test)
        if test is None:
            return None
        return self.value(node.body if test else node.orelse)

    def Call(self, node: ir.Call):
        function = FUNCTIONS[node.function]
        args = [self.value(arg) for arg in node.args]
        if function.needs_as_of:
            args.append(self.as_of)
        return function.python(*args)
