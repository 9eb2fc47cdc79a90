"""Code generation: a checked expression becomes one Python expression string.

Null semantics (docs/expressions.md) are compiled in, not interpreted:
comparisons and arithmetic with a null give null, ``and``/``or``/``not``
follow three-valued (Kleene) logic, and a top-level null means "unknown".
Operands the type checker proved non-null get plain Python operators, so a
pack whose fields are required or defaulted pays nothing for null safety.
"""

from __future__ import annotations

import ast
from decimal import Decimal

from .. import types as T
from .functions import NEEDS_AS_OF
from .parse import BOOL_NAMES, NULL_NAMES, literal_value
from .typecheck import CheckedExpr

_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.In: "in", ast.NotIn: "not in"}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def variable_name(field: str) -> str:
    """The Python local that holds a field's value in generated code."""
    return f"v_{field}"


class Namespace:
    """Constants and temporaries shared by all expressions of one generated module."""

    def __init__(self, stages: tuple = ()):
        self.constants: dict[str, object] = {}
        self._by_value: dict = {}
        self._temps = 0
        self.stage_index = {stage: i for i, stage in enumerate(stages)}
        if stages:
            self.constants["STAGE_INDEX"] = self.stage_index

    def constant(self, value) -> str:
        key = (type(value), value)
        if key not in self._by_value:
            name = f"K{len(self._by_value)}"
            self._by_value[key] = name
            self.constants[name] = value
        return self._by_value[key]

    def temp(self) -> str:
        self._temps += 1
        return f"t{self._temps}"


def generate(expr: CheckedExpr, names: Namespace) -> str:
    return _Generator(expr, names).emit(expr.tree)


def generate_condition(expr: CheckedExpr, names: Namespace) -> str:
    """Code whose truthiness is "the expression is True" (null and False both falsy).

    Where only pass/fail matters (scoring), this drops the work of telling null
    from False: ``x > 90`` on a nullable x becomes ``(t := x) is not None and t > 90``.
    """
    return _Generator(expr, names).condition(expr.tree)


class _Generator:
    def __init__(self, expr: CheckedExpr, names: Namespace):
        self.annotations = expr.annotations
        self.names = names

    def info(self, node) -> tuple[str, bool]:
        return self.annotations[id(node)]

    def emit(self, node) -> str:
        return getattr(self, f"emit_{type(node).__name__}")(node)

    def condition(self, node) -> str:
        """Truthy exactly when ``node`` evaluates to True (see generate_condition)."""
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + word.join(self.condition(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            if not self.nullable(node.operand):
                return f"(not {self.condition(node.operand)})"
            return f"({self.emit(node.operand)} is False)"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            parts = [self.compare_condition(op, left, right)
                     for op, left, right in zip(node.ops, operands, operands[1:])]
            return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"
        if isinstance(node, ast.IfExp):
            if not self.nullable(node.test):
                return f"({self.condition(node.body)} if {self.emit(node.test)} else {self.condition(node.orelse)})"
            temp = self.names.temp()
            return (f"((({temp} := {self.emit(node.test)}) is True and {self.condition(node.body)}) or "
                    f"({temp} is False and {self.condition(node.orelse)}))")
        # Names, constants and calls give True, False or None: their truthiness is already right.
        return self.emit(node)

    def compare_condition(self, op, left, right) -> str:
        if _is_null(left) or _is_null(right) or not (self.nullable(left) or self.nullable(right)):
            return self.compare(op, left, right)
        symbol = _COMPARE[type(op)]
        left_type, right_type = self.info(left)[0], self.info(right)[0]
        codes, checks = self.bind_nullable([left, right], [self.emit(left), self.emit(right)], "is not None")
        if symbol in ("<", "<=", ">", ">=") and T.STAGE in (left_type, right_type):
            test = self.stage_order(codes, left, right, symbol)
        else:
            test = f"{codes[0]} {symbol} {codes[1]}"
        return f"({' and '.join(checks)} and {test})"

    def emit_Constant(self, node):
        value = node.value
        if isinstance(value, Decimal):
            return self.names.constant(value)
        return repr(value)

    def emit_Name(self, node):
        if node.id in NULL_NAMES:
            return "None"
        if node.id in BOOL_NAMES:
            return repr(BOOL_NAMES[node.id])
        if node.id == "as_of":  # a parameter of every generated function, not a field
            return "as_of"
        return variable_name(node.id)

    def emit_List(self, node):
        return self.names.constant(frozenset(literal_value(e) for e in node.elts))

    emit_Tuple = emit_List

    def nullable(self, node) -> bool:
        return self.info(node)[1]

    def bind_nullable(self, operands: list, codes: list, test: str = "is None") -> tuple[list, list]:
        """Codes with each nullable operand bound to a temporary, and a '(<temp> := code) <test>' per binding."""
        bound, checks = [], []
        for operand, code in zip(operands, codes):
            if self.nullable(operand):
                temp = self.names.temp()
                checks.append(f"({temp} := {code}) {test}")
                code = temp
            bound.append(code)
        return bound, checks

    def guarded(self, operands: list, build) -> str:
        """``build(codes)`` applied to operands, or null when any nullable operand is null."""
        return self.guarded_codes(operands, [self.emit(operand) for operand in operands], build)

    def emit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            return self.guarded([node.operand], lambda c: f"not {c[0]}")
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return self.guarded([node.operand], lambda c: f"{sign}{c[0]}")

    def emit_BinOp(self, node):
        left, right = self.emit(node.left), self.emit(node.right)
        if isinstance(node.op, ast.Div):
            return f"op_div({left}, {right})"
        if isinstance(node.op, ast.Mod):
            return f"op_mod({left}, {right})"
        symbol = _ARITH[type(node.op)]
        return self.guarded([node.left, node.right], lambda c: f"{c[0]} {symbol} {c[1]}")

    def emit_BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        if not any(self.nullable(v) for v in node.values):
            word = " and " if is_and else " or "
            return "(" + word.join(self.emit(v) for v in node.values) + ")"
        # Kleene logic: a decisive operand (False for and, True for or) wins even over null.
        decisive = "False" if is_and else "True"
        temps = []
        code = None
        for value in node.values:
            temp = self.names.temp()
            temps.append(temp)
            step = f"({temp} := {self.emit(value)}) is {decisive}"
            code = step if code is None else f"{code} or {step}"
        unknown = " or ".join(f"{t} is None" for t in temps)
        return f"({decisive} if ({code}) else (None if ({unknown}) else {'True' if is_and else 'False'}))"

    def emit_IfExp(self, node):
        """An unknown condition gives an unknown result, as in 'and'/'or': it does not pick 'else'."""
        body, test, orelse = self.emit(node.body), self.emit(node.test), self.emit(node.orelse)
        if not self.nullable(node.test):
            return f"({body} if {test} else {orelse})"
        temp = self.names.temp()
        return f"(None if ({temp} := {test}) is None else ({body} if {temp} else {orelse}))"

    def emit_Compare(self, node):
        operands = [node.left, *node.comparators]
        parts = [self.compare(op, left, right) for op, left, right in zip(node.ops, operands, operands[1:])]
        if len(parts) == 1:
            return parts[0]
        temps = [self.names.temp() for _ in parts]
        decided = " or ".join(f"({t} := {p}) is False" for t, p in zip(temps, parts))
        unknown = " or ".join(f"{t} is None" for t in temps)
        return f"(False if ({decided}) else (None if ({unknown}) else True))"

    def compare(self, op, left, right) -> str:
        if _is_null(left) or _is_null(right):
            value = right if _is_null(left) else left
            positive = isinstance(op, (ast.Eq, ast.Is))
            if not self.nullable(value):  # a literal or a never-null field: decided now ('"x" is None' warns)
                return repr(not positive)
            return f"({self.emit(value)} is {'' if positive else 'not '}None)"
        symbol = _COMPARE[type(op)]
        left_type, right_type = self.info(left)[0], self.info(right)[0]
        ordering = symbol in ("<", "<=", ">", ">=")
        if ordering and T.STAGE in (left_type, right_type):
            return self.guarded([left, right], lambda c: self.stage_order(c, left, right, symbol))
        return self.guarded([left, right], lambda c: f"{c[0]} {symbol} {c[1]}")

    def stage_order(self, codes, left, right, symbol) -> str:
        sides = []
        for code, node in zip(codes, (left, right)):
            if isinstance(node, ast.Constant):
                sides.append(str(self.names.stage_index[node.value]))
            else:
                sides.append(f"STAGE_INDEX.get({code}, -1)")
        return f"{sides[0]} {symbol} {sides[1]}"

    def emit_Call(self, node):
        name = node.func.id
        args = [self.emit(arg) for arg in node.args]
        if name == "date":  # checked literal: fold it into a constant
            import datetime as dt

            return self.names.constant(dt.date.fromisoformat(node.args[0].value))
        inline = self.inline_call(name, node.args, args)
        if inline is not None:
            return inline
        if name in NEEDS_AS_OF:
            args.append("as_of")
        return f"fn_{name}({', '.join(args)})"

    def inline_call(self, name: str, nodes, args) -> str | None:
        """The hot functions of real packs, inlined: a Python call per deal is most of their cost."""
        if name == "coalesce" and len(args) == 2:
            if not self.nullable(nodes[0]):
                return args[0]
            temp = self.names.temp()
            return f"({temp} if ({temp} := {args[0]}) is not None else {args[1]})"
        if name == "days_since":
            return self.guarded_codes(nodes, args, lambda c: f"(as_of - {c[0]}).days")
        if name == "days_between":
            return self.guarded_codes(nodes, args, lambda c: f"({c[1]} - {c[0]}).days")
        return None

    def guarded_codes(self, nodes, codes, build) -> str:
        """Like ``guarded``, for operands already emitted."""
        names, checks = self.bind_nullable(nodes, codes)
        if not checks:
            return f"({build(names)})"
        return f"(None if {' or '.join(checks)} else {build(names)})"


def _is_null(node) -> bool:
    return (isinstance(node, ast.Name) and node.id in NULL_NAMES) or (
        isinstance(node, ast.Constant) and node.value is None)
