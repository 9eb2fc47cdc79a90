"""Code generation: a checked expression's IR becomes one Python expression string.

Null semantics (docs/expressions.md) are compiled in, not interpreted:
comparisons and arithmetic with a null give null, ``and``/``or``/``not``
follow three-valued (Kleene) logic, and a top-level null means "unknown".
Operands the type checker proved non-null get plain Python operators, so a
pack whose fields are required or defaulted pays nothing for null safety.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from . import ir
from .functions import FUNCTIONS
from .typecheck import CheckedExpr

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def variable_name(field: str) -> str:
    """The Python local that holds a field's value in generated code.

    A checked pack only has lower_snake_case names, but generated code must not depend on
    that: any other name is mapped to its hex spelling (a different prefix, so no clash).
    """
    if _PLAIN_NAME.fullmatch(field):
        return f"v_{field}"
    return "w_" + field.encode("utf-8").hex()


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
    return _Generator(names).emit(expr.ir)


def generate_condition(expr: CheckedExpr, names: Namespace) -> str:
    """Code whose truthiness is "the expression is True" (null and False both falsy).

    Where only pass/fail matters (scoring), this drops the work of telling null
    from False: ``x > 90`` on a nullable x becomes ``(t := x) is not None and t > 90``.
    """
    return _Generator(names).condition(expr.ir)


class _Generator:
    def __init__(self, names: Namespace):
        self.names = names

    def emit(self, node: ir.Node) -> str:
        return getattr(self, f"emit_{type(node).__name__}")(node)

    def condition(self, node: ir.Node) -> str:
        """Truthy exactly when ``node`` evaluates to True (see generate_condition)."""
        if isinstance(node, ir.BoolOp):
            word = f" {node.op} "
            return "(" + word.join(self.condition(v) for v in node.operands) + ")"
        if isinstance(node, ir.Not):
            if not node.operand.nullable:
                return f"(not {self.condition(node.operand)})"
            return f"({self.emit(node.operand)} is False)"
        if isinstance(node, (ir.Compare, ir.Member)) and node.nullable:
            return self.compare_condition(node)
        if isinstance(node, ir.Conditional):
            if not node.test.nullable:
                return f"({self.condition(node.body)} if {self.emit(node.test)} else {self.condition(node.orelse)})"
            temp = self.names.temp()
            return (
                f"((({temp} := {self.emit(node.test)}) is True and {self.condition(node.body)}) or "
                f"({temp} is False and {self.condition(node.orelse)}))"
            )
        # Names, constants, calls and null tests give True, False or None: their truthiness is already right.
        return self.emit(node)

    def compare_condition(self, node) -> str:
        """A comparison with a nullable side, as a test that is simply false when a side is null."""
        left, right = self.operands(node)
        codes, checks = self.bind_nullable([left, right], [self.emit(left), self.emit(right)], "is not None")
        return f"({' and '.join(checks)} and {self.comparison(node, codes)})"

    @staticmethod
    def operands(node) -> tuple:
        return (node.item, node.container) if isinstance(node, ir.Member) else (node.left, node.right)

    def comparison(self, node, codes) -> str:
        """The comparison of two operand codes known not to be null."""
        if isinstance(node, ir.Member):
            return f"{codes[0]} {'not in' if node.negated else 'in'} {codes[1]}"
        if node.stage_order:
            return self.stage_order(codes, node.left, node.right, node.op)
        return f"{codes[0]} {node.op} {codes[1]}"

    def emit_Literal(self, node: ir.Literal):
        value = node.value
        if isinstance(value, (Decimal, dt.date)):
            return self.names.constant(value)
        return repr(value)

    def emit_Field(self, node: ir.Field):
        if node.is_as_of:  # a parameter of every generated function, not a field
            return "as_of"
        return variable_name(node.name)

    def emit_ListLiteral(self, node: ir.ListLiteral):
        return self.names.constant(node.items)

    def nullable(self, node: ir.Node) -> bool:
        return node.nullable

    def bind_nullable(self, operands: list, codes: list, test: str = "is None") -> tuple[list, list]:
        """Codes with each nullable operand bound to a temporary, and a '(<temp> := code) <test>' per binding."""
        bound, checks = [], []
        for operand, code in zip(operands, codes):
            if operand.nullable:
                temp = self.names.temp()
                checks.append(f"({temp} := {code}) {test}")
                code = temp
            bound.append(code)
        return bound, checks

    def guarded(self, operands: list, build) -> str:
        """``build(codes)`` applied to operands, or null when any nullable operand is null."""
        return self.guarded_codes(operands, [self.emit(operand) for operand in operands], build)

    def emit_Not(self, node: ir.Not):
        return self.guarded([node.operand], lambda c: f"not {c[0]}")

    def emit_Negate(self, node: ir.Negate):
        return self.guarded([node.operand], lambda c: f"-{c[0]}")

    def emit_Arithmetic(self, node: ir.Arithmetic):
        left, right = self.emit(node.left), self.emit(node.right)
        if node.op == "/":
            return f"op_div({left}, {right})"
        if node.op == "%":
            return f"op_mod({left}, {right})"
        return self.guarded([node.left, node.right], lambda c: f"{c[0]} {node.op} {c[1]}")

    def emit_BoolOp(self, node: ir.BoolOp):
        is_and = node.op == "and"
        if not any(v.nullable for v in node.operands):
            return "(" + f" {node.op} ".join(self.emit(v) for v in node.operands) + ")"
        # Kleene logic: a decisive operand (False for and, True for or) wins even over null.
        decisive = "False" if is_and else "True"
        temps = []
        code = None
        for value in node.operands:
            temp = self.names.temp()
            temps.append(temp)
            step = f"({temp} := {self.emit(value)}) is {decisive}"
            code = step if code is None else f"{code} or {step}"
        unknown = " or ".join(f"{t} is None" for t in temps)
        return f"({decisive} if ({code}) else (None if ({unknown}) else {'True' if is_and else 'False'}))"

    def emit_Conditional(self, node: ir.Conditional):
        """An unknown condition gives an unknown result, as in 'and'/'or': it does not pick 'else'."""
        body, test, orelse = self.emit(node.body), self.emit(node.test), self.emit(node.orelse)
        if not node.test.nullable:
            return f"({body} if {test} else {orelse})"
        temp = self.names.temp()
        return f"(None if ({temp} := {test}) is None else ({body} if {temp} else {orelse}))"

    def emit_IsNull(self, node: ir.IsNull):
        if not node.operand.nullable:  # a literal or a never-null field: decided now ('"x" is None' warns)
            return repr(node.negated)
        return f"({self.emit(node.operand)} is {'not ' if node.negated else ''}None)"

    def emit_Compare(self, node: ir.Compare):
        return self.guarded(list(self.operands(node)), lambda c: self.comparison(node, c))

    emit_Member = emit_Compare

    def stage_order(self, codes, left, right, symbol) -> str:
        sides = []
        for code, node in zip(codes, (left, right)):
            if isinstance(node, ir.Literal):
                sides.append(str(self.names.stage_index[node.value]))
            else:
                sides.append(f"STAGE_INDEX.get({code}, -1)")
        return f"{sides[0]} {symbol} {sides[1]}"

    def emit_Call(self, node: ir.Call):
        args = [self.emit(arg) for arg in node.args]
        inline = self.inline_call(node.function, node.args, args)
        if inline is not None:
            return inline
        if FUNCTIONS[node.function].needs_as_of:
            args.append("as_of")
        return f"fn_{node.function}({', '.join(args)})"

    def inline_call(self, name: str, nodes, args) -> str | None:
        """The hot functions of real packs, inlined: a Python call per deal is most of their cost."""
        if name == "coalesce" and len(args) == 2:
            if not nodes[0].nullable:
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
