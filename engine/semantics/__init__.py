"""Semantic checks across a whole pack: references, ids, tiers and expression types.

One module per document kind (fields, pipeline, plans, cases for the tests documents), sharing the
state and helpers of checks.py; PackChecker runs them in order, so the diagnostics come in the same
order every time.

The result is an Analysis: the pack plus everything later stages need that
checking had to work out anyway (typed expressions, the stage label table,
typed defaults), so compiling never repeats it.
"""

from __future__ import annotations

import attrs

from .. import expr as E
from ..diagnostics import Diagnostic, error
from ..model import FieldSet, Pipeline, RulePack
from .cases import CaseChecks
from .checks import BUILTINS, RESERVED, SPECIAL_FIELDS
from .fields import FieldChecks
from .pipeline import PipelineChecks
from .plans import PlanChecks
from .segments import SegmentChecks

__all__ = ["Analysis", "BUILTINS", "PackChecker", "RESERVED", "SPECIAL_FIELDS", "analyse"]


@attrs.frozen
class Analysis:
    pack: RulePack
    checked: dict  # Expr.key -> CheckedExpr
    environment: E.Environment
    stage_lookup: dict  # lower-cased label or id -> stage id
    defaults: dict  # field name -> typed default

    @property
    def fields(self) -> FieldSet:
        """The fields document. Only a pack that analysed clean is compiled, and such a pack has one."""
        if self.pack.fields is None:
            raise ValueError("the pack has no fields document")
        return self.pack.fields

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline document, which a pack that analysed clean has (as ``fields``)."""
        if self.pack.pipeline is None:
            raise ValueError("the pack has no pipeline document")
        return self.pack.pipeline


def analyse(
    pack: RulePack, broken_kinds: frozenset = frozenset(), cut_names: frozenset = frozenset()
) -> tuple[Analysis, list[Diagnostic]]:
    """Check ``pack``; ``broken_kinds`` are kinds whose documents failed their schema (not "missing");
    ``cut_names`` are the names in the parts of documents cut away for schema errors (engine/salvage.py)."""
    checker = PackChecker(pack, broken_kinds, cut_names)
    checker.run()
    analysis = Analysis(pack, checker.checked, checker.environment, checker.stage_lookup, checker.defaults)
    return analysis, checker.diagnostics


class PackChecker(FieldChecks, PipelineChecks, PlanChecks, CaseChecks, SegmentChecks):
    """Every semantic check of one pack, run in a fixed order (the order of the diagnostics)."""

    def run(self) -> None:
        pack = self.pack
        anchor = pack.documents[0].locate() if pack.documents else None
        if pack.fields is None and "fields" not in self.broken_kinds:
            self.add(
                error(
                    "DG301",
                    "the pack has no fields document",
                    anchor,
                    "add a file with 'kind: fields' declaring the deal fields",
                )
            )
        if pack.pipeline is None and "pipeline" not in self.broken_kinds:
            self.add(
                error(
                    "DG301",
                    "the pack has no pipeline document",
                    anchor,
                    "add a file with 'kind: pipeline' declaring the stages",
                )
            )
        if pack.fields:
            self.check_fields(pack.fields)
        if pack.pipeline:
            self.check_pipeline(pack.pipeline)
        if pack.fields and pack.pipeline:
            self.check_stage_labels(pack.fields, pack.pipeline)
        self.check_plans(pack.plans)
        self.check_reps_mapping(pack.reps, pack.plans)
        self.check_tests(pack.tests)
        self.check_segments(pack.segments)
        if pack.fields and pack.pipeline and not self.broken_kinds:
            # Without a pipeline, or with a document left out (schema errors), usage is unknown:
            # "unused" warnings would be noise around the real error.
            self.check_unused(pack.fields)
