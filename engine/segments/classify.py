"""Classify an accounts export into tiers, with the deals behind each account (optional).

Reading accounts goes through the export reader (``engine.read``) with the account fields, so the
guarantees of ``score`` hold: every row is classified or rejected with its line, column, value and
reason, and the counts reconcile (read = segmented + rejected).

Deals are matched to accounts by the deal pack's ``account`` field against the account's key field
(``key:``, default ``id``), compared without regard to case or surrounding spaces: a Maven deal's
``account`` "Cancity" is the accounts.csv row whose ``account`` is "Cancity". The deals are scored
with the pack first (streamed; only one running total per account is kept), so "open", "won" and
"lost" and the weighted amount mean what they mean to ``dealgate score``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

import attrs

from ..read import ExportStream
from ..score import ScoreRun, Summary
from .compile import Classifier
from .model import AGGREGATES, Tier

ACCOUNT_FIELD = "account"  # the deal field naming a deal's account
_ZERO = Decimal(0)


class SegmentError(ValueError):
    """The rules cannot segment these inputs (a deal pack without an 'account' field, no segments)."""


def match_key(value) -> str | None:
    """How an account key and a deal's account are compared: stripped, case-folded text."""
    if value is None:
        return None
    text = str(value).strip().casefold()
    return text or None


@attrs.define
class AccountTotals:
    """The running totals of one account's deals; ``values`` are the aggregates tiers read."""

    deals: int = 0
    open_deals: int = 0
    won_deals: int = 0
    lost_deals: int = 0
    open_pipeline: Decimal = _ZERO
    weighted_pipeline: Decimal = _ZERO
    won_amount: Decimal = _ZERO
    lost_amount: Decimal = _ZERO

    def add(self, state: str, amount: Decimal | None, weighted: Decimal | None) -> None:
        self.deals += 1
        amount = amount or _ZERO
        if state == "open":
            self.open_deals += 1
            self.open_pipeline += amount
            self.weighted_pipeline += weighted or _ZERO
        elif state == "won":
            self.won_deals += 1
            self.won_amount += amount
        else:
            self.lost_deals += 1
            self.lost_amount += amount

    def values(self) -> dict:
        return {name: getattr(self, name) for name in AGGREGATES}


@attrs.define
class DealTotals:
    """Every account's deal totals, keyed by ``match_key`` of the deal's account."""

    by_account: dict = attrs.field(factory=dict)
    without_account: int = 0  # deals whose account is blank: they belong to no account

    def values_for(self, key) -> dict:
        totals = self.by_account.get(match_key(key))
        return (totals or AccountTotals()).values()


def _stage_states(ruleset) -> dict:
    return {s.id: "won" if s.won else "lost" if s.lost else "open" for s in ruleset.pipeline.stages}


def total_deals(ruleset, stream, as_of: dt.date) -> DealTotals:
    """Score the deals of ``stream`` (an ExportStream over the deal pack) and total them per account."""
    if ACCOUNT_FIELD not in ruleset.fields:
        raise SegmentError(
            f"the deal pack has no '{ACCOUNT_FIELD}' field, so deals cannot be matched to accounts; "
            f"declare it in the fields document (the column that names each deal's account)"
        )
    states = _stage_states(ruleset)
    totals = DealTotals()
    by_account = totals.by_account
    for scored in ScoreRun(ruleset, stream, as_of, Summary(ruleset, as_of)).deals():
        key = match_key(scored.deal.get(ACCOUNT_FIELD))
        if key is None:
            totals.without_account += 1
            continue
        account = by_account.get(key)
        if account is None:
            account = by_account[key] = AccountTotals()
        result = scored.result
        account.add(states[result.stage], result.amount, result.weighted_amount)
    return totals


class Segmented(NamedTuple):
    """One account with its tier: ``values`` are what the matched tier's condition read."""

    line: int
    account: dict  # the account fields and, with deals, the aggregates
    tier: Tier
    values: dict
    source: str | None = None


@attrs.define
class SegmentRun:
    """Classify every account of a stream (engine.read.ExportStream read with the account fields)."""

    classifier: Classifier
    stream: ExportStream
    as_of: dt.date
    deals: DealTotals | None = None
    tiers: Counter = attrs.field(factory=Counter)
    matched: set = attrs.field(factory=set)  # match keys of the accounts read
    repeated: int = 0  # accounts whose key an earlier row has: both get all the key's deals

    def accounts(self) -> Iterator[Segmented]:
        classifier, as_of, deals = self.classifier, self.as_of, self.deals
        key_field = classifier.segments.key
        blank = dict.fromkeys(AGGREGATES)  # no deals export: every aggregate unknown
        for _, name, line, record in self.stream.records():
            key = record.get(key_field)
            record.update(blank if deals is None else deals.values_for(key))
            position = classifier.position(record, as_of)
            tier = classifier.tiers[position]
            self.tiers[tier.id] += 1
            matched = match_key(key) if deals is not None else None
            if matched is not None:
                self.note_key(matched)
            yield Segmented(line, record, tier, {n: record.get(n) for n in classifier.reads[position]}, name)

    def note_key(self, key: str) -> None:
        if key in self.matched:
            self.repeated += 1
        self.matched.add(key)

    def summary(self) -> dict:
        """Accounts per tier (every tier, in order) and, with deals, how many found their account."""
        result = {
            "as_of": self.as_of.isoformat(),
            "accounts": sum(self.tiers.values()),
            "tiers": {t.id: self.tiers.get(t.id, 0) for t in self.classifier.tiers},
        }
        if self.deals is not None:
            unmatched = [t for key, t in self.deals.by_account.items() if key not in self.matched]
            result["deals"] = {
                "matched": sum(t.deals for key, t in self.deals.by_account.items() if key in self.matched),
                "unknown_account": sum(t.deals for t in unmatched),
                "unknown_accounts": len(unmatched),
                "without_account": self.deals.without_account,
                "accounts_sharing_a_key": self.repeated,
            }
        return result


def segments_line(counts) -> str:
    """The line a segment run ends with: records read = segmented + rejected."""
    return f"read {counts.read}, segmented {counts.deals}, rejected {counts.rejected}"
