"""Expressions to SQL: the typed IR (``engine.expr.ir``) as sqlglot trees.

Null logic needs no translation: SQL's three-valued logic *is* Kleene's, so
``and``, ``or``, ``not``, comparisons and arithmetic with a null behave as the
language documents. What does need care:

- ``body if test else orelse`` with an unknown test is unknown (SQL's CASE
  would take the ELSE branch), so the test is checked for null first;
- ``/`` and ``%`` by zero are null (SQL raises or varies by dialect);
- stages order by pipeline position, not as text;
- numbers are exact DECIMALs; a product whose scale would pass 38 digits has no
  exact SQL form and is refused (``Unsupported``) rather than rounded;
- ``/`` is refused too: Python divides to 28 significant digits, SQL engines to
  a scale of their own, so a comparison with a quotient could differ.

A refused construct raises ``Unsupported`` naming it; the caller turns that
into a diagnostic, and ``--engine auto`` runs the pack on Python instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

from .. import types as T
from ..expr import ir
from ..expr.functions import FUNCTIONS
from ..expr.sqlfunctions import Unsupported

MAX_SCALE = 38
DECIMAL_SCALE = 6  # money and decimal fields are DECIMAL(22, 6): see engine.sql.types


def literal(value, type_: str | None = None) -> exp.Expr:
    """A constant as SQL: exact decimals, typed dates, plain strings and numbers."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, tuple):  # a list field's default
        return exp.Array(expressions=[exp.Literal.string(v) for v in value])
    raise Unsupported(f"a constant of type {type(value).__name__}")


def decimal_literal(value: Decimal) -> exp.Expr:
    """``value`` as an exact DECIMAL of just the precision it needs (a bare 0.1 would be a double somewhere)."""
    sign, digits, places = value.as_tuple()
    exponent = int(places)  # a finite number (checked literals are)
    scale = max(-exponent, 0)
    text = f"{value:f}"
    precision = max(len(digits) + max(exponent, 0), scale + 1, 1)
    if precision > MAX_SCALE:
        raise Unsupported(f"the number {text}, which has more than {MAX_SCALE} digits")
    return exp.cast(exp.Literal.string(text), exp.DataType.build(f"DECIMAL({precision}, {scale})"))


def scale_of(node: ir.Node) -> int:
    """Decimal places of a numeric node's SQL value (0 for integers): what a product's scale adds up from."""
    if node.type == T.INT:
        return 0
    if isinstance(node, ir.Literal) and isinstance(node.value, Decimal):
        return max(-int(node.value.as_tuple().exponent), 0)
    if isinstance(node, ir.Arithmetic):
        left, right = scale_of(node.left), scale_of(node.right)
        return left + right if node.op == "*" else max(left, right)
    if isinstance(node, ir.Conditional):
        return max(scale_of(node.body), scale_of(node.orelse))
    if isinstance(node, ir.Call):
        if node.function == "round":
            places = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ir.Literal) else 0
            return int(places)  # type: ignore[call-overload]  # round()'s places: a checked integer literal
        return max((scale_of(a) for a in node.args if a.type in T.NUMERIC), default=0)
    if isinstance(node, ir.Negate):
        return scale_of(node.operand)
    return DECIMAL_SCALE


class ExpressionCompiler:
    """Compiles IR nodes, reading fields through ``column(name)`` and ``as_of`` as given.

    ``stage_positions`` maps stage ids to their pipeline position, for ordering stages.
    """

    def __init__(self, column: Callable[[str], exp.Expr], as_of: exp.Expr, stage_positions: dict):
        self.column = column
        self.as_of = as_of
        self.positions = stage_positions

    def compile(self, node: ir.Node) -> exp.Expr:
        return getattr(self, f"compile_{type(node).__name__}")(node)

    def condition(self, node: ir.Node) -> exp.Expr:
        """True exactly when the expression is True (unknown counts as not true)."""
        value = self.compile(node)
        if not node.nullable:
            return value
        return exp.Coalesce(this=exp.Paren(this=value), expressions=[exp.false()])

    def compile_Literal(self, node: ir.Literal):
        return literal(node.value, node.type)

    def compile_ListLiteral(self, node: ir.ListLiteral):
        raise Unsupported("a list outside 'in'")  # the checker only lets lists be the right side of 'in'

    def compile_Field(self, node: ir.Field):
        return self.as_of.copy() if node.is_as_of else self.column(node.name)

    def compile_IsNull(self, node: ir.IsNull):
        if not node.operand.nullable:
            return exp.Boolean(this=node.negated)
        test = exp.Is(this=exp.Paren(this=self.compile(node.operand)), expression=exp.Null())
        return exp.Not(this=exp.Paren(this=test)) if node.negated else test

    def compile_Compare(self, node: ir.Compare):
        left, right = self.compile(node.left), self.compile(node.right)
        if node.stage_order:
            left, right = self.stage_position(node.left, left), self.stage_position(node.right, right)
        kind = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[node.op]
        return kind(this=_paren(left), expression=_paren(right))

    def stage_position(self, node: ir.Node, code: exp.Expr) -> exp.Expr:
        """A stage's position in the pipeline; a stage the pipeline does not know is -1 (before all)."""
        if isinstance(node, ir.Literal):
            return exp.Literal.number(self.positions[node.value])
        ifs = [
            exp.If(
                this=exp.EQ(this=code.copy(), expression=exp.Literal.string(stage)), true=exp.Literal.number(position)
            )
            for stage, position in self.positions.items()
        ]
        unknown = exp.Case(ifs=ifs, default=exp.Literal.number(-1))
        return exp.Case(ifs=[exp.If(this=exp.Is(this=code, expression=exp.Null()), true=exp.Null())], default=unknown)

    def compile_Member(self, node: ir.Member):
        item = self.compile(node.item)
        container = node.container
        test: exp.Expr
        if isinstance(container, ir.ListLiteral):
            values = sorted(container.items, key=lambda v: (str(type(v)), v))
            test = exp.In(this=_paren(item), expressions=[literal(v) for v in values])
        elif container.type == T.LIST:
            lists = self.compile(container)
            found = exp.ArrayContains(this=lists, expression=item)
            nulls = exp.Or(
                this=exp.Is(this=lists.copy(), expression=exp.Null()),
                expression=exp.Is(this=item.copy(), expression=exp.Null()),
            )
            test = exp.Case(ifs=[exp.If(this=nulls, true=exp.Null())], default=found)
        else:  # a substring of a string: case-sensitive, as Python's 'in'
            text = self.compile(container)
            test = exp.GT(this=exp.StrPosition(this=text, substr=item), expression=exp.Literal.number(0))
        return exp.Not(this=exp.Paren(this=test)) if node.negated else test

    def compile_Arithmetic(self, node: ir.Arithmetic):
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "+" and node.type == T.STRING:
            return exp.DPipe(this=_paren(left), expression=_paren(right), safe=True)
        if node.op == "/":
            raise Unsupported("division ('/'): Python divides to 28 significant digits, SQL engines differently")
        if node.op == "*" and scale_of(node) > MAX_SCALE:
            raise Unsupported(f"a product with more than {MAX_SCALE} decimal places")
        if node.op == "%":
            remainder = exp.Mod(this=_paren(left), expression=_paren(right.copy()))
            by_zero = exp.EQ(this=_paren(right), expression=exp.Literal.number(0))
            return exp.Case(ifs=[exp.If(this=by_zero, true=exp.Null())], default=remainder)
        kind = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[node.op]
        return exp.Paren(this=kind(this=_paren(left), expression=_paren(right)))

    def compile_Negate(self, node: ir.Negate):
        return exp.Neg(this=_paren(self.compile(node.operand)))

    def compile_Not(self, node: ir.Not):
        return exp.Not(this=_paren(self.compile(node.operand)))

    def compile_BoolOp(self, node: ir.BoolOp):
        kind = exp.And if node.op == "and" else exp.Or
        operands = [_paren(self.compile(o)) for o in node.operands]
        result = operands[0]
        for operand in operands[1:]:
            result = kind(this=result, expression=operand)
        return exp.Paren(this=result)

    def compile_Conditional(self, node: ir.Conditional):
        test, body, orelse = self.compile(node.test), self.compile(node.body), self.compile(node.orelse)
        ifs = []
        if node.test.nullable:  # unknown test, unknown result: CASE alone would take the ELSE branch
            ifs.append(exp.If(this=exp.Is(this=_paren(test.copy()), expression=exp.Null()), true=exp.Null()))
        ifs.append(exp.If(this=test, true=body))
        return exp.Case(ifs=ifs, default=orelse)

    def compile_Call(self, node: ir.Call):
        function = FUNCTIONS[node.function]
        if function.sql is None:
            raise Unsupported(f"the function {node.function}()")
        args = [self.compile(a) for a in node.args]
        return function.sql(args, node.args, self.as_of.copy())


def _paren(expression: exp.Expr) -> exp.Expr:
    """Parenthesise compound operands, so the printed SQL groups as the tree does in every dialect."""
    if isinstance(expression, (exp.Column, exp.Literal, exp.Paren, exp.Null, exp.Boolean, exp.Cast, exp.Func)):
        return expression
    return exp.Paren(this=expression)
