"""The typed expression tree every engine compiles from.

Parsing and type checking work on CPython's ``ast`` (it gives exact columns
and a familiar grammar); right after checking, the tree is *lowered* to this
one, which is dealgate's own: every node carries its type, whether it may be
null, and its column in the source. Nothing downstream sees ``ast``. The
Python code generator, the SQL compiler and the reference interpreter
(``interpret``) all walk these nodes, so they cannot disagree about what an
expression *is*, only about how to run it — and the differential tests check
that they do not.

Lowering also settles what the surface syntax leaves implicit:

- ``a < b < c`` becomes ``a < b and b < c`` (Kleene ``and``: the same result);
- ``x == null`` / ``x is not null`` become ``IsNull``; ``null == null`` is True;
- ``date("2026-07-01")`` is folded into a date literal;
- ordering comparisons of stages are marked ``stage_order``: stages compare
  by their position in the pipeline (an unknown stage is before every stage).
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from typing import cast

import attrs

from .. import types as T
from .parse import BOOL_NAMES, NULL_NAMES, literal_value

COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
ORDERINGS = frozenset({"<", "<=", ">", ">="})
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}


@attrs.frozen
class Literal:
    """A constant: bool, int, Decimal, str, date, or None (the null literal)."""

    value: object
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class ListLiteral:
    """``["a", "b"]``: a set of plain strings or numbers, only ever the right side of ``in``."""

    items: frozenset
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Field:
    """A deal field (stored or computed), or ``as_of``, the date ages are counted to."""

    name: str
    type: str
    nullable: bool
    offset: int

    @property
    def is_as_of(self) -> bool:
        return self.name == "as_of"


@attrs.frozen
class IsNull:
    """``operand == null`` (or ``!= null`` when ``negated``): never null itself."""

    operand: Node
    negated: bool
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Compare:
    """``left <op> right`` for == != < <= > >=; null when either side is null."""

    op: str
    left: Node
    right: Node
    stage_order: bool  # an ordering of stages: compare pipeline positions, not text
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Member:
    """``item in container`` (``not in`` when ``negated``): a list literal, a list field, or a substring."""

    item: Node
    container: Node
    negated: bool
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Arithmetic:
    """``+ - * / %`` on numbers, ``+`` on strings. Division and remainder by zero are null."""

    op: str
    left: Node
    right: Node
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Negate:
    """Unary ``-`` (``+`` is dropped when lowering)."""

    operand: Node
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Not:
    operand: Node
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class BoolOp:
    """``and`` / ``or`` over two or more operands, in Kleene logic."""

    op: str
    operands: tuple
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Conditional:
    """``body if test else orelse``; an unknown test gives an unknown result."""

    test: Node
    body: Node
    orelse: Node
    type: str
    nullable: bool
    offset: int


@attrs.frozen
class Call:
    """A call of one of the fixed functions (``engine.expr.functions.FUNCTIONS``)."""

    function: str
    args: tuple
    type: str
    nullable: bool
    offset: int


Node = (
    Literal | ListLiteral | Field | IsNull | Compare | Member | Arithmetic | Negate | Not | BoolOp | Conditional | Call
)


def lower(tree: ast.expr, annotations: dict) -> Node:
    """The IR of a type-checked syntax tree (``annotations``: id(node) -> (type, nullable))."""
    return _Lowering(annotations).lower(tree)


def is_null_literal(node: Node) -> bool:
    return isinstance(node, Literal) and node.value is None


def children(node: Node) -> tuple:
    """The direct sub-expressions of ``node``, in evaluation order."""
    if isinstance(node, (IsNull, Negate, Not)):
        return (node.operand,)
    if isinstance(node, (Compare, Arithmetic)):
        return (node.left, node.right)
    if isinstance(node, Member):
        return (node.item, node.container)
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Conditional):
        return (node.test, node.body, node.orelse)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node):
    """``node`` and every node below it, parents first."""
    yield node
    for child in children(node):
        yield from walk(child)


class _Lowering:
    def __init__(self, annotations: dict):
        self.annotations = annotations

    def info(self, node: ast.AST) -> tuple[str, bool]:
        return self.annotations[id(node)]

    def lower(self, node: ast.expr) -> Node:
        return getattr(self, f"lower_{type(node).__name__}")(node)

    def lower_Constant(self, node: ast.Constant) -> Node:
        type_, nullable = self.info(node)
        return Literal(node.value, type_, nullable, node.col_offset)

    def lower_Name(self, node: ast.Name) -> Node:
        type_, nullable = self.info(node)
        if node.id in NULL_NAMES:
            return Literal(None, T.NULL, True, node.col_offset)
        if node.id in BOOL_NAMES:
            return Literal(BOOL_NAMES[node.id], T.BOOL, False, node.col_offset)
        return Field(node.id, type_, nullable, node.col_offset)

    def lower_List(self, node: ast.List) -> Node:
        return ListLiteral(frozenset(literal_value(e) for e in node.elts), T.LIST, False, node.col_offset)

    lower_Tuple = lower_List

    def lower_UnaryOp(self, node: ast.UnaryOp) -> Node:
        type_, nullable = self.info(node)
        operand = self.lower(node.operand)
        if isinstance(node.op, ast.Not):
            return Not(operand, type_, nullable, node.col_offset)
        if isinstance(node.op, ast.UAdd):
            return operand
        if (
            isinstance(operand, Literal)
            and isinstance(operand.value, (int, Decimal))
            and not isinstance(operand.value, bool)
        ):
            return Literal(-operand.value, type_, nullable, node.col_offset)
        return Negate(operand, type_, nullable, node.col_offset)

    def lower_BoolOp(self, node: ast.BoolOp) -> Node:
        type_, nullable = self.info(node)
        op = "and" if isinstance(node.op, ast.And) else "or"
        return BoolOp(op, tuple(self.lower(v) for v in node.values), type_, nullable, node.col_offset)

    def lower_BinOp(self, node: ast.BinOp) -> Node:
        type_, nullable = self.info(node)
        return Arithmetic(
            ARITHMETIC[type(node.op)], self.lower(node.left), self.lower(node.right), type_, nullable, node.col_offset
        )

    def lower_IfExp(self, node: ast.IfExp) -> Node:
        type_, nullable = self.info(node)
        return Conditional(
            self.lower(node.test), self.lower(node.body), self.lower(node.orelse), type_, nullable, node.col_offset
        )

    def lower_Compare(self, node: ast.Compare) -> Node:
        operands = [node.left, *node.comparators]
        parts = [self.comparison(node, op, left, right) for op, left, right in zip(node.ops, operands, operands[1:])]
        if len(parts) == 1:
            return parts[0]
        type_, nullable = self.info(node)
        return BoolOp("and", tuple(parts), type_, nullable, node.col_offset)

    def comparison(self, node: ast.Compare, op, left: ast.expr, right: ast.expr) -> Node:
        lowered_left, lowered_right = self.lower(left), self.lower(right)
        offset = left.col_offset
        if is_null_literal(lowered_left) or is_null_literal(lowered_right):
            operand = lowered_right if is_null_literal(lowered_left) else lowered_left
            negated = isinstance(op, (ast.NotEq, ast.IsNot))
            return IsNull(operand, negated, T.BOOL, False, offset)
        nullable = lowered_left.nullable or lowered_right.nullable
        if isinstance(op, (ast.In, ast.NotIn)):
            return Member(lowered_left, lowered_right, isinstance(op, ast.NotIn), T.BOOL, nullable, offset)
        symbol = COMPARISONS[type(op)]
        stage_order = symbol in ORDERINGS and T.STAGE in (lowered_left.type, lowered_right.type)
        return Compare(symbol, lowered_left, lowered_right, stage_order, T.BOOL, nullable, offset)

    def lower_Call(self, node: ast.Call) -> Node:
        type_, nullable = self.info(node)
        name = cast(ast.Name, node.func).id  # the parser admits only named functions
        if name == "date":  # checked to be a literal 'YYYY-MM-DD'
            text = cast(str, cast(ast.Constant, node.args[0]).value)
            return Literal(dt.date.fromisoformat(text), T.DATE, False, node.col_offset)
        return Call(name, tuple(self.lower(a) for a in node.args), type_, nullable, node.col_offset)
