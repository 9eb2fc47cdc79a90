"""Stage 5, evaluate: score a stream of deal records and keep the forecast summary.

Scoring streams: each record is scored as it is read and handed on, so an
export of millions of rows never sits in memory. The summary is an
accumulator updated per deal; totals are exact Decimals, rounded only when
rendered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Iterable, Iterator, NamedTuple

import attrs

from .compile import VERDICTS, DealResult, RuleSet
from .money import cents



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

    def add(self, result: DealResult) -> None:
        totals = self.stages[result.stage]
        totals.count += 1
        if result.amount is None:
            totals.unknown_amount += 1
        else:
            # Sum what each deal shows (to the cent), so a column of deals adds up to the summary.
            totals.amount += cents(result.amount)
            totals.weighted += cents(result.weighted_amount)
        self.verdicts[result.verdict] += 1
        self.qualify_out.update(result.qualify_out)
        self.warnings.update(result.warnings)
        self.failed.update(result.failed)
        if is_over_staged(self.ruleset, result):
            self.over_staged += 1

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
        weighted_ratio = (None if remaining <= 0 else
                          cents(self.weighted_forecast / remaining))
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
        return sum(self.verdicts.values())

    def as_dict(self) -> dict:
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
    positions = ruleset.open_positions
    position = positions.get(result.stage)
    if position is None:  # a closed stage
        return False
    return positions.get(result.evidence_stage, -1) < position - 1


class ScoredDeal(NamedTuple):
    """A scored deal with the record it came from (for display fields and explain)."""

    line: int
    deal: dict
    result: DealResult
    source: str | None = None  # the export it was read from


def missing_by_criterion(ruleset: RuleSet, scored: ScoredDeal, as_of: dt.date) -> dict:
    """For failed criteria whose result was unknown: the null fields each one needed."""
    if not scored.result.failed:
        return {}
    return {
        o.id: list(o.missing)
        for o in ruleset.outcomes(scored.deal, scored.result, as_of)
        if o.status == "missing"
    }


@attrs.define
class RunCounts:
    """Rows in = scored + rejected, across every export of a run."""

    read: int = 0
    scored: int = 0
    rejected: int = 0

    def line(self) -> str:
        return f"read {self.read}, scored {self.scored}, rejected {self.rejected}"


@attrs.define
class ScoreRun:
    """Read one or more exports and score every deal, streaming.

    Rejects are handed to ``on_reject(source, reject)`` as they are met, so the
    caller can write them out without holding them; warnings of the readers
    are kept per source.
    """

    ruleset: RuleSet
    sources: list
    as_of: dt.date
    summary: Summary
    on_reject: object = None
    fmt: str | None = None
    delimiter: str | None = None
    strict: bool = False
    counts: RunCounts = attrs.field(factory=RunCounts)
    warnings: list = attrs.field(factory=list)  # (source name, ReadWarning)
    missing_fields: dict = attrs.field(factory=dict)  # source name -> fields with no column
    current_source: str | None = None  # the export being read now
    duplicates: int = 0  # deals whose id was seen before in this run

    def duplicate(self, name: str, line: int, deal_id: str, first: tuple) -> None:
        from .read import ReadWarning

        self.duplicates += 1
        if self.duplicates <= 20:
            _, first_name, first_line = first
            where = f"line {first_line}" if first_name == name else f"{first_name}:{first_line}"
            self.warnings.append((name, ReadWarning(line, f"deal id '{deal_id}' again (first at {where}): it is "
                                                          f"counted twice in the forecast")))

    def deals(self) -> Iterator[ScoredDeal]:
        from .read import ExportReader, Reject

        score, add, counts = self.ruleset.score, self.summary.add, self.counts
        seen: dict = {}  # deal id -> (source position, name, line) first seen: a duplicated row counts twice in the forecast
        for position, source in enumerate(self.sources):
            reader = ExportReader(self.ruleset.analysis, source, fmt=self.fmt, delimiter=self.delimiter,
                                  strict=self.strict)
            name = self.current_source = reader.source_name
            try:
                for line, record in reader.records():
                    counts.read += 1
                    if type(record) is Reject:
                        counts.rejected += 1
                        if self.on_reject is not None:
                            self.on_reject(name, record)
                        continue
                    result = score(record, self.as_of)
                    add(result)
                    counts.scored += 1
                    deal_id = result.id
                    if deal_id is not None:
                        first = seen.setdefault(deal_id, (position, name, line))
                        if first[0] != position or first[2] != line:
                            self.duplicate(name, line, deal_id, first)
                    yield ScoredDeal(line, record, result, name)
            finally:
                reader.close()
                self.warnings.extend((name, w) for w in reader.warnings)
                self.missing_fields[name] = list(reader.missing_fields)
