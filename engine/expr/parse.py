"""Parsing expressions: Python's own parser, then a whitelist of node kinds.

Expressions look like Python because ops people already read it
(``amount >= 10000 and stage in ["proposal", "negotiation"]``), but only the
nodes listed here are accepted. Anything else (attribute access, subscripts,
lambdas, comprehensions, ``**``...) is a problem reported with its column,
never executed.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import attrs

MAX_LENGTH = 2000  # characters; a rule expression longer than this is a mistake
MAX_DEPTH = 60  # nesting of nodes; keeps type checking and code generation bounded
MAX_DIGITS = 18
MAX_NUMBER = 10**MAX_DIGITS  # literals, like deal values, stay far from Decimal overflow
MAX_PLACES = 20

_LINE_BREAKS = re.compile(r"[\r\n]")

NULL_NAMES = {"null", "None"}
BOOL_NAMES = {"true": True, "false": False, "True": True, "False": False}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_COMPARE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)

_FORBIDDEN = {
    ast.Attribute: ("attribute access ('.') is not allowed", "call a function instead, e.g. lower(name)"),
    ast.Subscript: ("indexing with [...] is not allowed", None),
    ast.Lambda: ("lambda is not allowed", None),
    ast.ListComp: ("comprehensions are not allowed", None),
    ast.SetComp: ("comprehensions are not allowed", None),
    ast.DictComp: ("comprehensions are not allowed", None),
    ast.GeneratorExp: ("comprehensions are not allowed", None),
    ast.Dict: ("mappings are not allowed in expressions", None),
    ast.Set: ("sets are not allowed", 'use a list: x in ["a", "b"]'),
    ast.Starred: ("'*' unpacking is not allowed", None),
    ast.NamedExpr: ("':=' is not allowed", None),
    ast.Await: ("'await' is not allowed", None),
    ast.Yield: ("'yield' is not allowed", None),
    ast.YieldFrom: ("'yield' is not allowed", None),
    ast.JoinedStr: ("f-strings are not allowed", None),
}


@attrs.frozen
class Problem:
    """A problem inside one expression; ``offset`` is the 0-based column within the source,
    ``length`` the number of characters of the offending token (0: not known, show one)."""

    code: str
    message: str
    offset: int = 0
    hint: str | None = None
    length: int = 0


class _Reject(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def parse(source: str) -> tuple[ast.expr | None, list[Problem]]:
    """The checked syntax tree of ``source``, or None and the problems found."""
    if not isinstance(source, str) or not source.strip():
        return None, [Problem("DG201", "empty expression")]
    if len(source) > MAX_LENGTH:
        return None, [Problem("DG201", f"expression is longer than {MAX_LENGTH} characters")]
    if "\x00" in source:
        return None, [Problem("DG201", "expression contains a NUL character", source.index("\x00"))]
    # Lines of a multi-line YAML scalar become one logical line. Each break character becomes one
    # space (not splitlines + join, which would turn '\r\n' into one space and shift later offsets).
    text = _LINE_BREAKS.sub(" ", source)
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        return None, [_syntax_problem(exc, stripped, lead)]
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return None, [Problem("DG201", "expression is too deeply nested or malformed", lead)]
    _character_offsets(tree.body, stripped)
    try:
        _check(tree.body, depth=0, lead=lead)
        _exact_decimals(tree.body, stripped, lead)
    except _Reject as reject:
        return None, [reject.problem]
    except RecursionError:
        return None, [Problem("DG201", "expression is too deeply nested", lead)]
    _shift_offsets(tree.body, lead)
    return tree.body, []


def _syntax_problem(exc: SyntaxError, stripped: str, lead: int) -> Problem:
    """Python reports an expression that stops too early ('amount >') at offset 0 of a next line:
    point just past the end instead, where the missing part belongs."""
    offset = (exc.offset or 0) - 1
    message = f"syntax error: {_syntax_message(exc)}"
    if (exc.lineno or 1) > 1 or offset < 0 or offset >= len(stripped):
        offset = len(stripped)
        if exc.msg == "invalid syntax":
            message = "syntax error: the expression ends too early"
            return Problem("DG201", message, offset + lead, "something is missing at the end, e.g. after an operator")
    return Problem("DG201", message, offset + lead, _syntax_hint(stripped))


def literal_value(node: ast.AST):
    """The value of a literal list item: a string or number constant, or a negated number.

    Raises ValueError for anything else; lists hold plain values only.
    """
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal_value(node.operand)
        if isinstance(value, str):
            raise ValueError("a string cannot be negated")
        return -value if isinstance(node.op, ast.USub) else value
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (str, int, Decimal))
        and not isinstance(node.value, bool)
    ):
        return node.value
    raise ValueError("not a literal")


def _character_offsets(node: ast.AST, text: str) -> None:
    """ast counts columns in UTF-8 bytes; users count characters."""
    if text.isascii():
        return
    encoded = text.encode("utf-8")
    for child in ast.walk(node):
        if hasattr(child, "col_offset"):
            child.col_offset = len(encoded[: child.col_offset].decode("utf-8", "ignore"))
            child.end_col_offset = len(encoded[: child.end_col_offset].decode("utf-8", "ignore"))  # type: ignore[attr-defined]  # positioned nodes have both


def _exact_decimals(node: ast.AST, text: str, lead: int) -> None:
    """Replace float literals by the Decimal the user wrote: 0.1 must mean exactly 0.1.

    Numbers are bounded like deal values are, so arithmetic on them stays exact and
    can never overflow a Decimal context (an expression is at most MAX_LENGTH long).
    """
    for child in ast.walk(node):
        if not isinstance(child, ast.Constant) or isinstance(child.value, bool):
            continue
        if isinstance(child.value, float):
            written = text[child.col_offset : child.end_col_offset]
            try:
                decimal = Decimal(written.replace("_", ""))
            except InvalidOperation:
                decimal = Decimal(repr(child.value))
            child.value = decimal  # type: ignore[assignment]  # from here on the tree holds Decimals, not floats
        if isinstance(child.value, (int, Decimal)):
            _check_number(child, lead)


def _check_number(node: ast.Constant, lead: int) -> None:
    value: Any = node.value  # an int or a Decimal (_exact_decimals)
    # adjusted() needs no arithmetic context: abs() of '1e9999999' would raise decimal.Overflow.
    too_large = value.adjusted() >= MAX_DIGITS if isinstance(value, Decimal) and value else abs(value) >= MAX_NUMBER
    if too_large:
        _reject(node, lead, "this number is too large", "numbers in expressions are below 10^18", code="DG201")
    if isinstance(value, Decimal) and value and int(value.as_tuple().exponent) < -MAX_PLACES:
        _reject(node, lead, f"this number has more than {MAX_PLACES} decimal places", code="DG201")


def _syntax_message(exc: SyntaxError) -> str:
    message = exc.msg or "invalid syntax"
    return message[0].lower() + message[1:] if message else message


def _syntax_hint(text: str) -> str | None:
    if "&&" in text or "||" in text:
        return "write 'and' / 'or' instead of '&&' / '||'"
    if "=" in text and "==" not in text and "!=" not in text and "<=" not in text and ">=" not in text:
        return "compare with '==' (a single '=' assigns)"
    if "'" not in text and '"' not in text and " " in text.strip():
        return 'quote string values: stage == "proposal"'
    return None


def _shift_offsets(node: ast.AST, lead: int) -> None:
    if lead:
        for child in ast.walk(node):
            if hasattr(child, "col_offset"):
                child.col_offset += lead
                child.end_col_offset += lead  # type: ignore[attr-defined]  # positioned nodes have both


def _at(node: ast.AST, lead: int) -> int:
    return getattr(node, "col_offset", 0) + lead


def _reject(node: ast.AST, lead: int, message: str, hint: str | None = None, code: str = "DG202") -> NoReturn:
    raise _Reject(Problem(code, message, _at(node, lead), hint, node_length(node)))


def node_length(node: ast.AST) -> int:
    """Characters of ``node`` in the one logical line of an expression (0 when ast does not say)."""
    start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    return end - start if start is not None and end is not None and end > start else 0


def _check(node: ast.AST, depth: int, lead: int) -> None:
    if depth > MAX_DEPTH:
        _reject(node, lead, "expression is too deeply nested", code="DG201")
    if type(node) in _FORBIDDEN:
        message, hint = _FORBIDDEN[type(node)]
        _reject(node, lead, message, hint)
    children: list[ast.AST]
    if isinstance(node, ast.BoolOp):
        children = list(node.values)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            _reject(node, lead, "'~' is not allowed")
        children = [node.operand]
    elif isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            _reject(node, lead, "'**' (power) is not allowed", "it can make numbers of unbounded size")
        if type(node.op) not in _BINOPS:
            _reject(node, lead, "this operator is not allowed", "allowed: + - * / %")
        children = [node.left, node.right]
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _COMPARE_OPS):
                _reject(node, lead, "this comparison is not allowed")
        children = [node.left, *node.comparators]
    elif isinstance(node, ast.IfExp):
        children = [node.test, node.body, node.orelse]
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):  # name.lower(): say what is wrong, and what to write
            _check(node.func, depth + 1, lead)
        if not isinstance(node.func, ast.Name):
            _reject(node, lead, "only named functions can be called, e.g. lower(name)")
        if node.func.id.startswith("__"):
            _reject(node.func, lead, f"name '{node.func.id}' is not allowed")
        if node.keywords:
            _reject(node.keywords[0].value, lead, "keyword arguments are not allowed")
        children = list(node.args)
    elif isinstance(node, (ast.List, ast.Tuple)):
        children = list(node.elts)
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            _reject(node, lead, f"name '{node.id}' is not allowed")
        children = []
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (str, int, float, bool, type(None))) or isinstance(node.value, complex):
            _reject(node, lead, "this kind of constant is not allowed")
        children = []
    else:
        _reject(node, lead, f"{type(node).__name__} is not allowed in an expression")
        return
    for child in children:
        _check(child, depth + 1, lead)
