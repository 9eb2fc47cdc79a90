"""Incentive plans and payouts: crediting, periods, rate tables, statements.

See docs/payouts.md for the plan semantics. The entry points:

- ``read_reps(path, plans)`` -> RepsResult (reps + diagnostics)
- ``compile_payout(analysis_or_ruleset)`` -> PayoutProgram, compiled once
- ``PayoutProgram.compute(deals, reps, periods, as_of, rep=None)`` -> PayoutResult
- ``compute_statements(ruleset_or_analysis, deals, reps, periods, as_of)``: both in one call
"""

from .compute import PayoutProgram, PayoutResult, compile_payout, compute_statements, requested_periods
from .credit import Credited, CreditResult, compile_credit, parse_recipients
from .periods import Period, PeriodError, parse_period, period_of, periods_in
from .reps import Rep, RepsResult, read_reps, reps_from_records
from .statement import LINE_KINDS, Line, Statement

__all__ = [
    "Credited",
    "CreditResult",
    "LINE_KINDS",
    "Line",
    "PayoutProgram",
    "PayoutResult",
    "Period",
    "PeriodError",
    "Rep",
    "RepsResult",
    "Statement",
    "compile_credit",
    "compile_payout",
    "compute_statements",
    "parse_period",
    "parse_recipients",
    "period_of",
    "periods_in",
    "read_reps",
    "reps_from_records",
    "requested_periods",
]
