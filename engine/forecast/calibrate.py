"""Are the configured stage probabilities honest? The observed chance of winning from each stage, from
closed deals, with a Wilson interval, against the pipeline's ``probability``.

*From a stage* means: of the closed deals that reached the stage, the share that was won. Which
stages a deal reached comes from a stage history when one is given (Salesforce's
``OpportunityHistory``: one row per stage change, the stage label and when); without one, a won
deal is taken to have passed through every open stage, and a lost deal to have reached the
furthest stage its evidence supports (the scoring's evidence stage; the first stage when none),
since an export keeps only the stage a deal was lost *at* ("Closed Lost"), not the one it was lost
*from*. Open deals have no outcome yet and do not count.

The configured probability of a stage is a forecast of exactly that share, so its Brier score
(the mean squared difference between the forecast and the outcome, over every deal and stage it
reached) measures it; the observed shares give the suggested probabilities. Velocity (days in
each stage, and conversion to the next one) needs the history's dates.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import attrs

from ..diagnostics import Location
from ..score import ScoredDeal

Z95 = 1.959963984540054  # the normal quantile of a 95% two-sided interval
SHARE = Decimal("0.0001")
SUGGESTED = Decimal("0.01")  # probabilities are written with two decimals, as packs write them


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion: honest for small counts and for 0 or 1,
    where the normal approximation collapses to a point."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@attrs.frozen
class Outcome:
    """One closed deal: the open stages it reached (pipeline order), whether it was won, and the days it
    spent in each stage when a history says (stage -> days).

    ``count``: how many closed deals it stands for. Without a history, deals that reached the same stages
    with the same result count alike, so an export's are tallied (``id`` is then the first one's): memory
    stays flat however many deals the export has.
    """

    id: str
    reached: tuple
    won: bool
    days: dict = attrs.field(factory=dict)
    count: int = 1


@attrs.frozen
class StageCalibration:
    stage: str
    configured: Decimal
    reached: int  # closed deals that reached the stage
    won: int
    low: Decimal | None  # Wilson 95% interval of the observed share (None without deals)
    high: Decimal | None
    converted: int  # of those, the deals that reached the next open stage (or were won, from the last)
    days: Decimal | None  # average days in the stage (with a history)
    days_observed: int

    @property
    def observed(self) -> Decimal | None:
        return None if not self.reached else (Decimal(self.won) / self.reached).quantize(SHARE, ROUND_HALF_UP)

    @property
    def conversion(self) -> Decimal | None:
        return None if not self.reached else (Decimal(self.converted) / self.reached).quantize(SHARE, ROUND_HALF_UP)

    @property
    def suggested(self) -> Decimal:
        """The observed share to two decimals; the configured value where no deal says otherwise."""
        return self.configured if self.observed is None else self.observed.quantize(SUGGESTED, ROUND_HALF_UP)

    @property
    def outside(self) -> bool:
        """The configured probability lies outside the observed interval: it is probably not honest."""
        if self.low is None or self.high is None:  # no deal reached the stage
            return False
        return self.reached > 0 and not (self.low <= self.configured <= self.high)


@attrs.frozen
class ReliabilityBin:
    """Deals forecast at one configured probability: the forecast against what happened."""

    probability: Decimal
    stages: tuple
    forecasts: int  # (deal, stage) pairs
    observed: Decimal | None


@attrs.frozen
class Calibration:
    stages: tuple  # StageCalibration of every open stage, pipeline order
    deals: int  # closed deals counted
    open_deals: int  # not counted: no outcome yet
    brier: Decimal | None  # of the configured probabilities
    brier_suggested: Decimal | None  # of the observed ones, for comparison (in-sample: a floor, not a promise)
    reliability: tuple
    source: str  # "history" or "export"
    unmatched: int = 0  # history rows of opportunities the export does not have, or of unknown stages

    @property
    def warnings(self) -> list[str]:
        return [
            f"stage '{s.stage}': configured probability {s.configured} is outside the observed interval "
            f"{s.low}-{s.high} ({s.won} won of {s.reached}); suggested {s.suggested}"
            for s in self.stages
            if s.outside
        ]


def outcomes_from_export(ruleset, deals: Iterable[ScoredDeal]) -> tuple[list, int]:
    """(Outcomes of the closed deals, tallied by what they reached and whether they were won; open deals
    seen), reached stages inferred as the module says."""
    tally = OutcomeTally(ruleset)
    for scored in deals:
        tally.add(scored)
    return tally.outcomes()


_UNSEEN = object()


class OutcomeTally:
    """``outcomes_from_export`` one scored deal at a time (``add``): ``dealgate report`` walks its deals once."""

    def __init__(self, ruleset):
        self.ruleset = ruleset
        self.tally: dict[tuple, list] = {}  # (reached, won) -> [first deal's id, deals]
        self.shapes: dict = {}  # (stage, evidence stage) -> (reached, won), or None for an open deal
        self.open_deals = 0

    def add(self, scored: ScoredDeal) -> None:
        result = scored.result
        shape = (result.stage, result.evidence_stage)  # all an inferred outcome depends on but the id
        known = self.shapes.get(shape, _UNSEEN)
        if known is _UNSEEN:
            outcome = inferred_outcome(self.ruleset, result)
            known = self.shapes[shape] = None if outcome is None else (outcome.reached, outcome.won)
        if known is None:
            self.open_deals += 1
            return
        entry = self.tally.get(known)
        if entry is None:
            entry = self.tally[known] = [str(result.id), 0]  # the id as inferred_outcome gives it
        entry[1] += 1

    def outcomes(self) -> tuple[list, int]:
        found = [Outcome(first, reached, won, count=count) for (reached, won), (first, count) in self.tally.items()]
        return found, self.open_deals


def inferred_outcome(ruleset, result, stage: str | None = None) -> Outcome | None:
    """The Outcome of a closed deal from its scoring alone (None for an open deal): a won deal passed
    through every open stage, a lost one reached its evidence stage (the first stage when none).
    ``stage``: the final stage when a history says it, instead of the export's."""
    pipeline = ruleset.pipeline
    final = pipeline.stage(stage or result.stage)
    if final.is_open:
        return None
    open_ids = [s.id for s in pipeline.stages if s.is_open]
    if final.won:
        reached = open_ids
    else:
        furthest = open_ids.index(result.evidence_stage) if result.evidence_stage in open_ids else 0
        reached = open_ids[: furthest + 1]
    return Outcome(str(result.id), tuple(reached), final.won)


def calibrate(ruleset, outcomes: list, open_deals: int = 0, source: str = "export", unmatched: int = 0) -> Calibration:
    """Observed shares, intervals, conversion, velocity, Brier score and reliability from ``outcomes``."""
    open_stages = [s for s in ruleset.pipeline.stages if s.is_open]
    order = {s.id: i for i, s in enumerate(open_stages)}
    stages = []
    squared = squared_suggested = Decimal(0)
    pairs = 0
    for i, stage in enumerate(open_stages):
        here = [o for o in outcomes if stage.id in o.reached]
        reached = sum(o.count for o in here)
        won = sum(o.count for o in here if o.won)
        converted = sum(o.count for o in here if _moved_on(o, i, order))
        low, high = wilson(won, reached)
        days = [(o.days[stage.id], o.count) for o in here if stage.id in o.days]
        spent = sum((d * n for d, n in days), Decimal(0))
        observed = sum(n for _, n in days)
        stages.append(
            StageCalibration(
                stage.id,
                stage.probability,
                reached,
                won,
                _share(low) if here else None,
                _share(high) if here else None,
                converted,
                (spent / observed).quantize(Decimal("0.1"), ROUND_HALF_UP) if days else None,
                observed,
            )
        )
    for calibration in stages:
        for outcome in (o for o in outcomes if calibration.stage in o.reached):
            result = Decimal(int(outcome.won))
            squared += outcome.count * (calibration.configured - result) ** 2
            squared_suggested += outcome.count * (calibration.suggested - result) ** 2
            pairs += outcome.count
    brier = None if not pairs else (squared / pairs).quantize(SHARE, ROUND_HALF_UP)
    brier_suggested = None if not pairs else (squared_suggested / pairs).quantize(SHARE, ROUND_HALF_UP)
    deals = sum(o.count for o in outcomes)
    return Calibration(
        tuple(stages), deals, open_deals, brier, brier_suggested, _reliability(stages), source, unmatched
    )


def _moved_on(outcome: Outcome, index: int, order: dict) -> bool:
    """The deal went past the stage at ``index``: it reached a later open stage, or was won."""
    return outcome.won or any(order.get(s, -1) > index for s in outcome.reached)


def _share(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(SHARE, ROUND_HALF_UP)


def _reliability(stages: list) -> tuple:
    """Stages grouped by configured probability: each group's forecast against its observed share."""
    bins: dict = {}
    for s in stages:
        bins.setdefault(s.configured, []).append(s)
    rows = []
    for probability, group in sorted(bins.items()):
        reached = sum(s.reached for s in group)
        won = sum(s.won for s in group)
        rows.append(
            ReliabilityBin(
                probability,
                tuple(s.stage for s in group),
                reached,
                None if not reached else (Decimal(won) / reached).quantize(SHARE, ROUND_HALF_UP),
            )
        )
    return tuple(rows)


# --- a stage history (Salesforce OpportunityHistory) -------------------------------------------------

HISTORY_ID = ("opportunityid", "opportunity id", "opportunity_id", "deal id", "deal_id")
HISTORY_STAGE = ("stagename", "stage name", "stage", "to stage", "deal stage")
HISTORY_DATE = ("createddate", "created date", "date", "changed date", "changed_at")


@attrs.frozen
class HistoryRow:
    id: str
    stage: str  # stage id
    at: dt.datetime | None


class HistoryError(ValueError):
    """A history file that cannot be used (no column for the opportunity or the stage)."""


def history_columns(header: list) -> tuple[int, int, int | None]:
    """Positions of the opportunity id, stage and date columns of a history export."""
    names = [h.strip().lower() for h in header]

    def find(candidates, required=True):
        for candidate in candidates:
            if candidate in names:
                return names.index(candidate)
        if required:
            raise HistoryError(f"no column for {candidates[0]} (looked for: {', '.join(candidates)})")
        return None

    return find(HISTORY_ID), find(HISTORY_STAGE), find(HISTORY_DATE, required=False)


DATETIME_FORMATS = (
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
)


def parse_timestamp(text: str) -> dt.datetime | None:
    """A history timestamp in the formats CRMs export (Salesforce reports and API, ISO); None if unreadable."""
    text = (text or "").strip()
    for fmt in DATETIME_FORMATS:
        try:
            moment = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (
            moment.replace(tzinfo=None)
            if moment.tzinfo is None
            else moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
        )
    return None


def outcomes_from_history(ruleset, rows: Iterable[HistoryRow], results: dict) -> tuple[list, int, int]:
    """(Outcomes, open deals, unmatched rows) from a stage history and each deal's scoring in the export
    (``results``: id -> DealResult).

    The outcome is the export's stage (a history may go Closed Won -> Closed Lost); where the export
    lacks the deal, the last row of its history (its rows are then counted as unmatched). The stages
    reached are the open stages the history shows; a deal whose history shows none (a deal entered
    closed, as sample data often is) falls back to what the export alone says.
    """
    pipeline = ruleset.pipeline
    by_deal: dict = {}
    for row in rows:
        by_deal.setdefault(row.id, []).append(row)
    outcomes, open_deals, unmatched = [], 0, 0
    for deal_id in sorted(by_deal):
        history = sorted(by_deal[deal_id], key=lambda r: (r.at is None, r.at or dt.datetime.min))
        result = results.get(deal_id)
        if result is None:
            unmatched += len(history)
        final = pipeline.stage(result.stage if result is not None else history[-1].stage)
        if final.is_open:
            open_deals += 1
            continue
        reached = tuple(s.id for s in pipeline.stages if s.is_open and any(r.stage == s.id for r in history))
        if not reached:
            if result is None:
                continue  # nothing says which stages it went through
            inferred = inferred_outcome(ruleset, result, final.id)
            if inferred is None:
                continue  # still open by its scoring: nothing to learn from it
            reached = inferred.reached
        outcomes.append(Outcome(deal_id, reached, final.won, _days(history)))
    for deal_id, result in results.items():  # closed deals the history never mentions: the export alone
        if deal_id not in by_deal:
            outcome = inferred_outcome(ruleset, result)
            if outcome is None:
                open_deals += 1
            else:
                outcomes.append(outcome)
    return outcomes, open_deals, unmatched


def _days(history: list) -> dict:
    """Stage -> days from entering it to the next change of stage (summed when a deal comes back to it);
    the stage a deal is still in, or closed in, has no end and is not counted."""
    days: dict = {}
    current = history[0]
    for row in history[1:]:
        if row.stage == current.stage:
            continue
        if row.at is not None and current.at is not None:
            days[current.stage] = days.get(current.stage, 0) + (row.at - current.at).total_seconds() / 86400
        current = row
    return {stage: Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP) for stage, value in days.items()}


@attrs.frozen
class HistoryRead:
    rows: tuple  # HistoryRow
    read: int
    rejected: tuple  # (line, reason)


def read_history(text: str, stage_lookup: dict) -> HistoryRead:
    """The rows of a stage-history CSV export (its text), stage labels read as the pack reads them.

    A row with no opportunity id or a stage the pack does not know is rejected with its line and
    reason, never dropped silently: the counts reconcile (read = used + rejected).
    """
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise HistoryError("the history file is empty") from None
    id_at, stage_at, date_at = history_columns(header)
    rows, rejected, read = [], [], 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        read += 1
        line = reader.line_num
        if max(id_at, stage_at, date_at or 0) >= len(cells):
            rejected.append((line, f"row has {len(cells)} cells, the header {len(header)}"))
            continue
        deal_id, label = cells[id_at].strip(), cells[stage_at].strip()
        stage = stage_lookup.get(label.lower())
        if not deal_id:
            rejected.append((line, "no opportunity id"))
        elif stage is None:
            rejected.append((line, f"unknown stage label '{label}'"))
        else:
            rows.append(HistoryRow(deal_id, stage, parse_timestamp(cells[date_at]) if date_at is not None else None))
    return HistoryRead(tuple(rows), read, tuple(rejected))


# --- writing the suggested probabilities back ----------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


class EditError(ValueError):
    """A probability that cannot be replaced where the loader found it; the message says where and why."""


@attrs.frozen
class ProbabilityEdit:
    """A stage's probability to replace: where its number is written, what it is, what it becomes."""

    stage: str
    old: Decimal
    new: Decimal
    location: Location


def probability_edits(ruleset, calibration: Calibration) -> list[ProbabilityEdit]:
    """The suggested probability of every stage whose configured one lies outside its observed interval
    (the others agree with the deals closely enough to be left as their authors wrote them)."""
    document = next((d for d in ruleset.analysis.pack.documents if d.kind == "pipeline"), None)
    if document is None:
        return []
    positions = {s.id: i for i, s in enumerate(ruleset.pipeline.stages)}
    return [
        ProbabilityEdit(
            s.stage, s.configured, s.suggested, document.locate(("stages", positions[s.stage], "probability"))
        )
        for s in calibration.stages
        if s.outside and s.suggested != s.configured
    ]


def apply_edits(text: str, edits: list[ProbabilityEdit]) -> str:
    """``text`` with each edit's number replaced where the loader found it, and nothing else touched:
    comments, layout, quoting and flow style stay byte for byte (a YAML dump would re-lay them).

    The location is the number's own line and column, kept by the loader (engine.load); a token there
    that is not the number read (the file changed since) raises EditError.
    """
    lines = text.splitlines(keepends=True)
    for edit in edits:
        where = edit.location
        line = lines[where.line - 1]
        start = where.column - 1
        match = _NUMBER.match(line, start)
        if match is None or Decimal(match.group()) != edit.old:
            raise EditError(
                f"{where}: expected the probability {edit.old} of stage '{edit.stage}' here; "
                f"the file changed since it was read"
            )
        lines[where.line - 1] = line[:start] + str(edit.new) + line[match.end() :]
    return "".join(lines)
