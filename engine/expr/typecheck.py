"""Type checking expressions against the declared fields.

Every node gets a type and a flag saying whether it may be null at run time.
Fields that are required or have a default are never null, so the code
generator can skip null checks for them. The checker also records which
fields an expression *needs*: those read outside a null test or a coalesce,
so that a criterion failing on a null can say "missing <field>".
"""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import NoReturn

import attrs

from .. import types as T
from ..diagnostics import did_you_mean
from . import ir
from .functions import FUNCTIONS
from .parse import BOOL_NAMES, NULL_NAMES, Problem, literal_value, node_length, parse


@attrs.frozen
class Variable:
    type: str
    nullable: bool = True


@attrs.frozen
class Environment:
    """What names an expression may use: the fields, plus built-ins such as as_of."""

    variables: dict  # name -> Variable
    stages: tuple = ()  # stage ids in pipeline order


@attrs.frozen
class CheckedExpr:
    source: str
    tree: ast.expr = attrs.field(repr=False)
    type: str
    nullable: bool
    fields: frozenset  # every name read
    needed: frozenset  # names read where null makes the result unknown
    annotations: dict = attrs.field(repr=False, eq=False)  # id(node) -> (type, nullable)
    ir: ir.Node = attrs.field(repr=False, eq=False)  # the typed tree every engine compiles


# What people write for "today" in other languages: dealgate's today is the name as_of.
_TODAY_NAMES = frozenset({"today", "now", "current_date", "getdate", "sysdate", "curdate", "date_today"})
_TODAY_HINT = "write as_of: the date the deals are judged at (today, unless --as-of says otherwise)"


class _Failed(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def check(source: str, env: Environment, expect: str | set | None = None) -> tuple[CheckedExpr | None, list[Problem]]:
    """Parse and type check; ``expect`` is the type (or set of types) the result must have."""
    tree, problems = parse(source)
    if tree is None:
        return None, problems
    checker = _Checker(env)
    try:
        type_, nullable = checker.visit(tree, tolerant=False)
    except _Failed as failed:
        return None, [failed.problem]
    except RecursionError:
        return None, [Problem("DG201", "expression is too deeply nested")]
    if expect is not None:
        wanted = {expect} if isinstance(expect, str) else set(expect)
        if type_ not in wanted and not (type_ in T.NUMERIC and wanted & T.NUMERIC) and type_ != T.NULL:
            code = "DG206" if wanted == {T.BOOL} else "DG205"
            what = " or ".join(T.describe(w) for w in sorted(wanted))
            hint = None
            if wanted == {T.BOOL} and type_ in (T.STRING, T.STAGE):
                hint = 'compare it, e.g. field == "value" or field != null'
            return None, [
                Problem(code, f"expression must give {what}, but gives {T.describe(type_)}", tree.col_offset, hint)
            ]
    return CheckedExpr(
        source,
        tree,
        type_,
        nullable,
        frozenset(checker.fields),
        frozenset(checker.needed),
        checker.annotations,
        ir.lower(tree, checker.annotations),
    ), []


class _Checker:
    def __init__(self, env: Environment):
        self.env = env
        self.fields: set[str] = set()
        self.needed: set[str] = set()
        self.annotations: dict = {}

    def fail(self, node: ast.AST, code: str, message: str, hint: str | None = None) -> NoReturn:
        raise _Failed(Problem(code, message, getattr(node, "col_offset", 0), hint, node_length(node)))

    def visit(self, node: ast.expr, tolerant: bool) -> tuple[str, bool]:
        method = getattr(self, f"visit_{type(node).__name__}")
        result = method(node, tolerant)
        self.annotations[id(node)] = result
        return result

    # leaves

    def visit_Constant(self, node: ast.Constant, tolerant: bool):
        value = node.value
        if value is None:
            return T.NULL, True
        if isinstance(value, bool):
            return T.BOOL, False
        if isinstance(value, int):
            return T.INT, False
        if isinstance(value, Decimal):
            return T.DECIMAL, False
        return T.STRING, False

    def visit_Name(self, node: ast.Name, tolerant: bool):
        name = node.id
        if name in NULL_NAMES:
            return T.NULL, True
        if name in BOOL_NAMES:
            return T.BOOL, False
        variable = self.env.variables.get(name)
        if variable is None:
            if name in FUNCTIONS:
                self.fail(node, "DG203", f"'{name}' is a function; call it with arguments, e.g. {name}(...)")
            hint = did_you_mean(name, list(self.env.variables))
            self.fail(node, "DG203", f"unknown field '{name}'", hint or "declare it in the fields document")
        self.fields.add(name)
        if not tolerant and variable.nullable:
            self.needed.add(name)
        return variable.type, variable.nullable

    def visit_List(self, node: ast.List, tolerant: bool):
        kinds = set()
        for element in node.elts:
            try:
                kinds.add(isinstance(literal_value(element), str))
            except ValueError:
                self.fail(element, "DG205", "list items must be plain strings or numbers")
        if len(kinds) > 1:
            self.fail(node, "DG205", "a list must hold only strings or only numbers")
        for element in node.elts:
            self.visit(element, tolerant)
        return T.LIST, False

    visit_Tuple = visit_List

    # operators

    def visit_UnaryOp(self, node: ast.UnaryOp, tolerant: bool):
        type_, nullable = self.visit(node.operand, tolerant)
        if isinstance(node.op, ast.Not):
            self.expect_bool(node.operand, type_, "'not'")
            return T.BOOL, nullable
        if type_ not in T.NUMERIC:
            self.fail(node, "DG205", f"'-' needs a number, not {T.describe(type_)}")
        return type_, nullable

    def visit_BoolOp(self, node: ast.BoolOp, tolerant: bool):
        nullable = False
        word = "'and'" if isinstance(node.op, ast.And) else "'or'"
        for value in node.values:
            type_, value_nullable = self.visit(value, tolerant)
            self.expect_bool(value, type_, word)
            nullable = nullable or value_nullable
        return T.BOOL, nullable

    def expect_bool(self, node: ast.AST, type_: str, context: str):
        if type_ not in (T.BOOL, T.NULL):
            self.fail(
                node,
                "DG205",
                f"{context} needs true/false values, but this is {T.describe(type_)}",
                'compare it, e.g. field == "value" or field != null',
            )

    def visit_BinOp(self, node: ast.BinOp, tolerant: bool):
        left, left_null = self.visit(node.left, tolerant)
        right, right_null = self.visit(node.right, tolerant)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}[type(node.op)]
        if symbol == "+" and left == T.STRING and right == T.STRING:
            return T.STRING, left_null or right_null
        if left not in T.NUMERIC or right not in T.NUMERIC:
            hint = None
            if symbol == "*" and T.STRING in (left, right):
                hint = "repeating strings is not allowed"
            elif T.DATE in (left, right):
                hint = "use days_between(start, end) for the days between two dates"
            self.fail(node, "DG205", f"'{symbol}' needs numbers, not {T.describe(left)} and {T.describe(right)}", hint)
        nullable = left_null or right_null or symbol in "/%"
        return T.arithmetic_result(symbol, left, right), nullable

    def visit_IfExp(self, node: ast.IfExp, tolerant: bool):
        test, test_null = self.visit(node.test, tolerant)
        self.expect_bool(node.test, test, "the condition of 'if'")
        body, body_null = self.visit(node.body, tolerant)
        other, other_null = self.visit(node.orelse, tolerant)
        if T.NULL not in (body, other) and not T.comparable(body, other):
            self.fail(
                node,
                "DG205",
                f"both branches of 'if' must have one type, not {T.describe(body)} and {T.describe(other)}",
            )
        type_ = other if body == T.NULL else body
        if type_ in T.NUMERIC and other in T.NUMERIC and other != type_:
            type_ = T.DECIMAL
        return type_, body_null or other_null or test_null  # an unknown condition gives an unknown result

    def visit_Compare(self, node: ast.Compare, tolerant: bool):
        nullable = False
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            nullable = self.compare(node, op, left, right, tolerant) or nullable
        return T.BOOL, nullable

    def compare(self, node, op, left: ast.expr, right: ast.expr, tolerant: bool) -> bool:
        null_test = _is_null(left) or _is_null(right)
        if isinstance(op, (ast.Is, ast.IsNot)) and not null_test:
            self.fail(node, "DG205", "'is' only tests for null: write 'x is null' or 'x == y'")
        if null_test:
            if not isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                self.fail(node, "DG205", "null can only be tested with == or !=")
            self.visit(left, True)
            self.visit(right, True)
            return False
        left_type, left_null = self.visit(left, tolerant)
        right_type, right_null = self.visit(right, tolerant)
        if isinstance(op, (ast.In, ast.NotIn)):
            self.check_membership(node, left, left_type, right, right_type)
        else:
            if not T.comparable(left_type, right_type):
                hint = None
                types = {left_type, right_type}
                if T.STRING in types and types & T.NUMERIC:
                    hint = "write the number without quotes or units, e.g. 10000"
                elif types == {T.STRING, T.DATE}:
                    hint = 'write a date as date("2026-07-01")'
                self.fail(
                    _culprit(left, right),
                    "DG205",
                    f"cannot compare {T.describe(left_type)} with {T.describe(right_type)}",
                    hint,
                )
            ordering = not isinstance(op, (ast.Eq, ast.NotEq))
            if T.LIST in (left_type, right_type):
                self.fail(
                    node,
                    "DG205",
                    "lists cannot be compared",
                    'test what they hold instead: "x" in tags, contains(tags, "x") or len(tags) == 0',
                )
            if ordering and left_type == T.BOOL:
                self.fail(node, "DG205", f"{T.describe(left_type)} has no order; use == or !=")
            if ordering and T.STRING in (left_type, right_type) and T.STAGE not in (left_type, right_type):
                self.fail(
                    left if left_type == T.STRING else right, "DG205", "strings have no order here; use ==, != or in"
                )
            for side, side_type, other_type in ((left, left_type, right_type), (right, right_type, left_type)):
                if other_type == T.STAGE and side_type == T.STRING:
                    self.check_stage_literal(side)
        return left_null or right_null

    def check_membership(self, node, left, left_type, right, right_type):
        if right_type == T.LIST:
            if isinstance(right, (ast.List, ast.Tuple)):
                item = self.annotations[id(right.elts[0])][0] if right.elts else None
                if item is not None and not T.comparable(left_type, item):
                    self.fail(
                        right,
                        "DG205",
                        f"cannot look for {T.describe(left_type)} in a list of "
                        f"{'strings' if item == T.STRING else 'numbers'}",
                    )
                if left_type == T.STAGE:
                    for element in right.elts:
                        self.check_stage_literal(element)
            elif left_type not in T.STRINGLIKE:
                self.fail(left, "DG205", f"a list of strings cannot hold {T.describe(left_type)}")
        elif right_type == T.STRING:
            if left_type != T.STRING:
                self.fail(left, "DG205", f"only a string can be found in a string, not {T.describe(left_type)}")
        else:
            self.fail(right, "DG205", f"'in' needs a list or a string on the right, not {T.describe(right_type)}")

    def check_stage_literal(self, node: ast.expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and self.env.stages:
            if node.value not in self.env.stages:
                self.fail(
                    node,
                    "DG207",
                    f"unknown stage '{node.value}'",
                    did_you_mean(node.value, list(self.env.stages)) or f"stages are: {', '.join(self.env.stages)}",
                )

    def visit_Call(self, node: ast.Call, tolerant: bool):
        name = node.func.id  # type: ignore[attr-defined]  # the parser admits only plain names as callees
        signature = FUNCTIONS.get(name)
        if signature is None:
            hint = (
                _TODAY_HINT
                if name.lower() in _TODAY_NAMES
                else did_you_mean(name, list(FUNCTIONS)) or f"functions are: {', '.join(sorted(FUNCTIONS))}"
            )
            self.fail(node, "DG204", f"unknown function '{name}'", hint)
        count = len(node.args)
        least = signature.min_args if signature.min_args is not None else len(signature.params)
        most = None if signature.variadic else len(signature.params)
        if count < least or (most is not None and count > most):
            wanted = f"{least}" if least == most else (f"{least} or more" if most is None else f"{least} to {most}")
            self.fail(node, "DG208", f"{name}() takes {wanted} argument(s), not {count}")
        types: list[tuple[str, bool]] = []
        for index, arg in enumerate(node.args):
            accepted = signature.params[min(index, len(signature.params) - 1)]
            type_, nullable = self.visit(arg, tolerant or signature.null_tolerant)
            if type_ != T.NULL and type_ not in accepted:
                self.fail(
                    arg,
                    "DG205",
                    f"argument {index + 1} of {name}() must be "
                    f"{' or '.join(sorted(T.describe(t) for t in accepted))}, "
                    f"not {T.describe(type_)}",
                )
            types.append((type_, nullable))
        if name == "date":
            self.check_date_literal(node.args[0])
        result = self.result_type(signature, node, types)
        if signature.null_tolerant and result[1] and not tolerant:
            # coalesce(a, b) is null only when every argument is: then all of them explain the
            # unknown result ("missing a, b"), so they are needed after all.
            for arg in node.args:
                self.visit(arg, False)
        return result

    def check_date_literal(self, arg: ast.expr):
        import datetime as dt

        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            self.fail(arg, "DG205", "date() takes a literal 'YYYY-MM-DD' string")
        try:
            dt.date.fromisoformat(arg.value)
        except ValueError:
            self.fail(arg, "DG205", f"'{arg.value}' is not a valid date", "write dates as YYYY-MM-DD")

    def result_type(self, signature, node, types):
        real = [t for t, _ in types if t != T.NULL] or [T.NULL]
        if signature.null_tolerant:
            nullable = all(n for _, n in types)
        else:
            nullable = any(n for _, n in types)
        if signature.returns == "same":
            type_ = real[0]
            if signature.name == "coalesce":
                for arg, (other, _) in zip(node.args[1:], types[1:]):
                    if other != T.NULL and not T.comparable(type_, other):
                        self.fail(
                            arg,
                            "DG205",
                            f"coalesce() arguments must share a type, not {T.describe(type_)} and {T.describe(other)}",
                        )
                if len(set(real)) > 1 and set(real) <= T.NUMERIC:  # coalesce(count, 0.5) may be 0.5
                    type_ = T.MONEY if T.MONEY in real else T.DECIMAL
            return type_, nullable
        if signature.returns == "numeric":
            kinds = set(real)
            if T.DATE in kinds and len(kinds) > 1:
                self.fail(node, "DG205", f"{signature.name}() cannot mix dates and numbers")
            if len(kinds) == 1:
                return real[0], nullable
            return (T.MONEY if T.MONEY in kinds else T.DECIMAL), nullable
        return signature.returns, nullable


def _culprit(left: ast.expr, right: ast.expr) -> ast.expr:
    """The operand to blame for a mismatch: a literal when only one side is one (in
    amount > "10k" it is the "10k"), else the right side, which was compared to the left."""
    left_literal, right_literal = (isinstance(n, ast.Constant) for n in (left, right))
    return left if left_literal and not right_literal else right


def _is_null(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in NULL_NAMES) or (
        isinstance(node, ast.Constant) and node.value is None
    )
