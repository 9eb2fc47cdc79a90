"""Compile the tiers of a segments document once: one generated ``classify(a, as_of)`` that returns the
position of the first tier whose condition holds (the default tier's when none does).

The conditions go through the same code generator as exit criteria (``engine.expr``), so an account
tier means exactly what the same expression means on a deal: null-aware, a null condition is not a
match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from .. import expr as E
from ..generated import Origin, constants_comment, load
from ..model import FieldSet, coerce_default
from .model import AGGREGATES, Segments, Tier


@attrs.frozen
class AccountFields:
    """What the export reader needs to read accounts: the shape it reads deals through (``analysis``)."""

    fields: FieldSet  # the account fields

    @property
    def pack(self):
        return self

    @property
    def stage_lookup(self) -> dict:
        return {}  # accounts have no stage

    @property
    def defaults(self) -> dict:
        typed = {}
        for field in self.fields.fields.values():
            value, problem = coerce_default(field)
            if value is not None and problem is None:
                typed[field.name] = value
        return typed


@attrs.frozen
class Classifier:
    """A compiled segments document. ``classify`` is one call into generated code per account."""

    segments: Segments
    source: str = attrs.field(repr=False)
    reads: tuple  # per tier: the names its condition reads, in declaration order; the default: every tier's
    _classify: Callable[[dict, dt.date], int] = attrs.field(repr=False)

    @property
    def tiers(self) -> tuple:
        return self.segments.all_tiers

    @property
    def reader_fields(self) -> AccountFields:
        return AccountFields(self.segments.fields)

    def classify(self, account: dict, as_of: dt.date) -> Tier:
        """The tier of one account record (account fields and deal aggregates by name)."""
        return self.tiers[self._classify(account, as_of)]

    def position(self, account: dict, as_of: dt.date) -> int:
        return self._classify(account, as_of)


def compile_segments(segments: Segments, checked: dict) -> Classifier:
    """``checked``: Expr.key -> CheckedExpr, as the semantic check left them (Analysis.checked)."""
    names = E.Namespace()
    conditions = [checked[tier.when.key] for tier in segments.tiers]
    order = list(segments.fields.fields) + list(AGGREGATES)
    used = set().union(*(c.fields for c in conditions)) - {"as_of"}
    lines = ["def classify(a, as_of):", "    get = a.get"]
    lines += [f"    {E.variable_name(name)} = get({name!r})" for name in order if name in used]
    origins: dict = {}
    for position, (tier, condition) in enumerate(zip(segments.tiers, conditions)):
        origin = Origin(f"tier {tier.id}", tier.when.location)
        lines.append(f"    if {E.generate_condition(condition, names)}:  # {origin.comment}")
        origins[len(lines)] = origin
        lines.append(f"        return {position}")
    lines.append(f"    return {len(segments.tiers)}  # the default tier, {segments.default.id}")
    header = constants_comment(f"The tiers of {segments.document.file}, compiled by dealgate", names.constants)
    offset = header.count("\n")
    source = header + "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(E.RUNTIME)
    namespace.update(names.constants)
    load(
        source,
        namespace,
        f"segments {segments.document.file}",
        {line + offset: origin for line, origin in origins.items()},
    )
    reads = tuple(tuple(name for name in order if name in condition.fields) for condition in conditions)
    # The default tier is why no tier matched: what they all read, so the values that failed them show.
    everything = set().union(*(c.fields for c in conditions))
    reads += (tuple(name for name in order if name in everything),)
    return Classifier(segments, source, reads, namespace["classify"])
