"""The expression language: parse -> type check -> IR -> generate Python (or SQL, in engine.sql).

See docs/expressions.md for the language as users see it.
"""

from .codegen import Namespace, generate, generate_condition, variable_name
from .functions import FUNCTIONS, RUNTIME
from .parse import Problem, parse
from .typecheck import CheckedExpr, Environment, Variable, check

__all__ = [
    "CheckedExpr",
    "Environment",
    "Namespace",
    "Problem",
    "RUNTIME",
    "FUNCTIONS",
    "Variable",
    "check",
    "generate",
    "generate_condition",
    "parse",
    "variable_name",
]
