"""Stage 5, evaluate: score a stream of deal records and keep the forecast summary.

Scoring streams: each record is scored as it is read and handed on, so an
export of millions of rows never sits in memory. The summary is an
accumulator updated per deal; totals are exact Decimals, rounded only when
rendered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import NamedTuple

import attrs

from .compile import RuleSet
from .money import CENT, cents
from .read import ExportStream
from .results import VERDICTS, DealResult

# What a deal's counts depend on: stage, verdict, failed, qualify_out, warnings, evidence stage.
_COUNTED = itemgetter(1, 2, 3, 4, 5, 9)


@attrs.define
class StageTotals:
    count: int = 0
    amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    unknown_amount: int = 0  # deals whose amount is blank: counted, not summed


@attrs.define
class Summary:
    """Per-stage counts and amounts, counts per verdict, and the weighted forecast."""

    ruleset: RuleSet = attrs.field(repr=False)
    as_of: dt.date
    quota: Decimal | None = None
    stages: dict = attrs.field(factory=dict)
    verdicts: Counter = attrs.field(factory=Counter)
    over_staged: int = 0
    qualify_out: Counter = attrs.field(factory=Counter)
    warnings: Counter = attrs.field(factory=Counter)
    failed: Counter = attrs.field(factory=Counter)

    def __attrs_post_init__(self):
        for stage in self.ruleset.pipeline.stages:
            self.stages[stage.id] = StageTotals()

    _tally: dict = attrs.field(factory=dict, repr=False)  # counted parts of a result -> deals (see add)

    def add(self, result: DealResult) -> None:
        """Count one deal.

        Per deal only the money is summed; the counts go to a tally keyed by the parts of the
        result they depend on (a pack gives a few hundred distinct keys), which ``fold`` turns
        into the fields. ScoreRun folds when its deals run out, ``as_dict`` before it reads.
        """
        key = _COUNTED(result)
        tally = self._tally
        tally[key] = tally.get(key, 0) + 1
        amount = result[7]
        totals = self.stages[result[1]]
        if amount is None:
            totals.unknown_amount += 1
        else:
            # Sum what each deal shows (to the cent), so a column of deals adds up to the summary.
            # (engine.money.cents, inlined: its "never -0.00" cannot change a sum that starts at 0.)
            totals.amount += amount.quantize(CENT, ROUND_HALF_UP)
            totals.weighted += result[8].quantize(CENT, ROUND_HALF_UP)  # type: ignore[union-attr]  # set with amount

    def absorb(self, tally: dict, stage_money: dict) -> None:
        """Count deals scored elsewhere (a process scoring part of the export, engine.parts): their tally
        (as ``add`` keeps it) and per-stage money, stage -> (amount, weighted, unknown amounts).

        The sums are exact, so adding the parts in any order gives the summary of the whole.
        """
        own = self._tally
        for key, count in tally.items():
            own[key] = own.get(key, 0) + count
        for stage, (amount, weighted, unknown) in stage_money.items():
            totals = self.stages[stage]
            totals.amount += amount
            totals.weighted += weighted
            totals.unknown_amount += unknown

    def fold(self) -> None:
        """Move the tallied counts into the fields (``add`` keeps them apart to stay cheap)."""
        for (stage, verdict, failed, qualify_out, warnings, evidence), count in self._tally.items():
            self.stages[stage].count += count
            self.verdicts[verdict] += count
            for counter, ids in ((self.failed, failed), (self.qualify_out, qualify_out), (self.warnings, warnings)):
                for rule_id in ids:
                    counter[rule_id] += count
            if stage_outruns_evidence(self.ruleset, stage, evidence):
                self.over_staged += count
        self._tally.clear()

    @property
    def open_stages(self) -> list:
        return [s for s in self.ruleset.pipeline.stages if s.is_open]

    @property
    def open_amount(self) -> Decimal:
        return sum((self.stages[s.id].amount for s in self.open_stages), Decimal(0))

    @property
    def weighted_forecast(self) -> Decimal:
        """Sum of amount x probability over open deals: the forecast of DOMAIN.md."""
        return sum((self.stages[s.id].weighted for s in self.open_stages), Decimal(0))

    @property
    def won_amount(self) -> Decimal:
        return sum((self.stages[s.id].amount for s in self.ruleset.pipeline.stages if s.won), Decimal(0))

    def coverage(self) -> dict | None:
        """Open pipeline against the quota still to close (10:1 is DOMAIN.md's rule of thumb)."""
        if self.quota is None:
            return None
        remaining = self.quota - self.won_amount
        ratio = None if remaining <= 0 else cents(self.open_amount / remaining)
        weighted_ratio = None if remaining <= 0 else cents(self.weighted_forecast / remaining)
        return {
            "quota": cents(self.quota),
            "won": cents(self.won_amount),
            "remaining": cents(max(remaining, Decimal(0))),
            "open_pipeline": cents(self.open_amount),
            "coverage": ratio,
            "weighted_coverage": weighted_ratio,
        }

    @property
    def total(self) -> int:
        self.fold()
        return sum(self.verdicts.values())

    def as_dict(self) -> dict:
        self.fold()
        return {
            "as_of": self.as_of.isoformat(),
            "deals": self.total,
            "verdicts": {v: self.verdicts.get(v, 0) for v in VERDICTS},
            "over_staged": self.over_staged,
            "stages": {
                stage_id: {
                    "count": t.count,
                    "amount": cents(t.amount),
                    "weighted_amount": cents(t.weighted),
                    "unknown_amount": t.unknown_amount,
                }
                for stage_id, t in self.stages.items()
            },
            "weighted_forecast": cents(self.weighted_forecast),
            "open_pipeline": cents(self.open_amount),
            "won_amount": cents(self.won_amount),
            "coverage": self.coverage(),
            "qualify_out": dict(sorted(self.qualify_out.items())),
            "warnings": dict(sorted(self.warnings.items())),
            "failed_criteria": dict(sorted(self.failed.items())),
        }


def is_over_staged(ruleset: RuleSet, result: DealResult) -> bool:
    """An open deal sits past what its evidence supports.

    To be at stage k legitimately, the exit criteria of every open stage before k
    must hold, i.e. the evidence stage must be at least the stage before k.
    """
    return stage_outruns_evidence(ruleset, result.stage, result.evidence_stage)


def stage_outruns_evidence(ruleset: RuleSet, stage: str, evidence_stage: str | None) -> bool:
    """``is_over_staged`` for a stage and evidence stage (the summary tallies those, not results)."""
    positions = ruleset.open_positions
    position = positions.get(stage)
    if position is None:  # a closed stage
        return False
    return positions.get(evidence_stage, -1) < position - 1


class ScoredDeal(NamedTuple):
    """A scored deal with the record it came from (for display fields and explain)."""

    line: int
    deal: dict
    result: DealResult
    source: str | None = None  # the export it was read from
    missing: dict | None = None  # criterion -> null fields it needed, when an engine computed it already


def missing_by_criterion(ruleset: RuleSet, scored: ScoredDeal, as_of: dt.date) -> dict:
    """For failed criteria whose result was unknown: the null fields each one needed."""
    if not scored.result.failed:
        return {}
    if scored.missing is not None:
        return scored.missing
    if ruleset.nullable_criteria.isdisjoint(scored.result.failed):
        return {}  # none of them can be unknown: each failed on a value, not a null
    return {o.id: list(o.missing) for o in ruleset.outcomes(scored.deal, scored.result, as_of) if o.status == "missing"}


def counts_line(counts) -> str:
    """The line every run ends with: records read = scored + rejected."""
    return f"read {counts.read}, scored {counts.deals}, rejected {counts.rejected}"


@attrs.define
class ScoreRun:
    """Score every deal of one or more exports, streaming: nothing per deal is kept.

    (So duplicate deal ids are not looked for here: that would hold every id of a
    million-row export. Payouts, where a duplicate would pay twice, refuse them: DG618.)
    """

    ruleset: RuleSet
    stream: ExportStream
    as_of: dt.date
    summary: Summary

    def deals(self) -> Iterator[ScoredDeal]:
        score, add, as_of = self.ruleset.score_function, self.summary.add, self.as_of
        new = tuple.__new__  # a NamedTuple's own __new__ is a Python-level call per deal
        try:
            for _, name, line, record in self.stream.records():
                result = score(record, as_of)
                add(result)
                yield new(ScoredDeal, (line, record, result, name, None))
        finally:
            self.summary.fold()
