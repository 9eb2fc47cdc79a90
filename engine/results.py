"""What the rules say about a deal: the verdicts, a deal's result, one rule's outcome.

A foundation module: the compiler builds these, and scoring, explaining, diffing, rule tests and
the renderers read them, so none of those needs the compiler to know what a result is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal, NamedTuple, get_args

import attrs

Verdict = Literal["ready", "blocked", "disqualified", "won", "lost"]
READY: Final = "ready"
BLOCKED: Final = "blocked"
DISQUALIFIED: Final = "disqualified"
WON: Final = "won"
LOST: Final = "lost"
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
# An exit criterion passes, fails or is missing (a value it needs is null); a qualify-out rule fires
# or stays quiet (or is unknown, which does not fire).
Status = Literal["pass", "fail", "missing", "fired", "quiet", "unknown"]


class DealResult(NamedTuple):
    """What the rules say about one deal. A tuple: millions are made per run."""

    id: str | None
    stage: str
    verdict: Verdict
    failed: tuple  # ids of the current stage's exit criteria that did not pass
    qualify_out: tuple  # ids of error-severity qualify-out rules that fired
    warnings: tuple  # ids of warn-severity rules that fired
    probability: Decimal
    amount: Decimal | None
    weighted_amount: Decimal | None
    evidence_stage: str | None
    category: str | None = None  # the forecast category (None when the pack declares none, or none matches)


@attrs.frozen
class CriterionOutcome:
    id: str
    stage: str | None  # None for qualify-out rules
    status: Status
    missing: tuple = ()
    why: str | None = None
