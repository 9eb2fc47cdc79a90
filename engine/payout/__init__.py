"""Incentive plans and payouts: crediting, periods, rate tables, statements.

See docs/payouts.md for the plan semantics. The entry points:

- ``read_reps(path, plans, date_formats, mapping)`` -> RepsResult (reps + diagnostics); a rep may
  have several rows (assignments), read through the pack's ``kind: reps`` mapping when there is one
- ``read_fx(path)`` -> FxResult: the dated FX table for plans with ``fx``
- ``compile_payout(analysis_or_ruleset)`` -> PayoutProgram, compiled once
- ``PayoutProgram.compute(deals, reps, periods, as_of, rep=None, fx=None)`` -> PayoutResult
- ``PayoutProgram.stream(...)`` -> PayoutStream: the same statements as an iterator, computed a
  bucket of reps at a time with the credits past ``held`` on disk (bounded memory; the CLI's way)
- ``combine(statements)``: the one statement per period of a rep who changed plans
- ``compute_statements(ruleset_or_analysis, deals, reps, periods, as_of)``: both in one call
"""

from .assignments import Combined, combine
from .compute import (
    PayoutProgram,
    PayoutResult,
    PayoutStream,
    compile_payout,
    compute_statements,
    requested_periods,
)
from .credit import Credited, CreditResult, compile_credit, parse_recipients
from .fx import FxResult, FxTable, read_fx
from .periods import Period, PeriodError, parse_period, period_of, periods_in
from .reps import Rep, RepsResult, read_reps, reps_from_records
from .statement import LINE_KINDS, Line, Statement

__all__ = [
    "Combined",
    "Credited",
    "CreditResult",
    "FxResult",
    "FxTable",
    "LINE_KINDS",
    "Line",
    "PayoutProgram",
    "PayoutResult",
    "PayoutStream",
    "Period",
    "PeriodError",
    "Rep",
    "RepsResult",
    "Statement",
    "combine",
    "compile_credit",
    "compile_payout",
    "compute_statements",
    "parse_period",
    "parse_recipients",
    "period_of",
    "periods_in",
    "read_fx",
    "read_reps",
    "reps_from_records",
    "requested_periods",
]
