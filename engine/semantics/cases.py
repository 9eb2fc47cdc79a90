"""Checks of the tests documents (ops' own expectations): every name they use must exist, every
expectation must be possible."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .. import types as T
from ..diagnostics import Location, did_you_mean, error
from ..model import Pipeline
from ..values import ValueProblem, coerce
from .checks import BUILTINS, Checks


class CaseChecks(Checks):
    def check_tests(self, cases: tuple) -> None:
        checked_as_of: set = set()
        for case in cases:
            self.check_test_as_of(case, checked_as_of)
            stage = self.check_test_deal(case.deal, case, ("deal",)) if case.deal is not None else None
            for i, deal in enumerate(case.deals):
                self.check_test_deal(deal, case, ("deals", i))
            if self.pack.pipeline is not None:
                self.check_expectations(case, self.pack.pipeline, stage)

    def check_test_as_of(self, case, seen: set) -> None:
        document, spec = case.document, case.document.data["cases"][case.path[-1]]
        path = case.path + ("as_of",) if "as_of" in spec else ("as_of",)
        if case.as_of is None or (document.file, document.index, path) in seen:
            return
        seen.add((document.file, document.index, path))
        try:
            dt.date.fromisoformat(case.as_of)
        except ValueError:
            self.add(
                error(
                    "DG320",
                    f"as_of '{case.as_of}' is not a date",
                    document.locate(path),
                    "write it as YYYY-MM-DD, e.g. 2026-06-30",
                )
            )

    def check_test_deal(self, deal: dict, case, where: tuple) -> str | None:
        """Problems with one test deal's keys and values; returns the deal's stage id when known."""
        fields = self.pack.fields
        if fields is None:
            return None
        document, path = case.document, case.path + where
        stage = None
        for key, value in deal.items():
            if key not in fields:
                if self.was_cut(key):
                    continue  # its declaration has a schema error, already reported
                self.add(
                    error(
                        "DG315",
                        f"test deal sets '{key}', which is not a declared field",
                        document.locate_key(path + (key,)),
                        did_you_mean(key, list(fields.fields)) or "declare it in the fields document",
                    )
                )
                continue
            field = fields[key]
            if field.compute is not None:
                sources = (
                    sorted(self.checked[field.compute.key].fields - set(BUILTINS))
                    if field.compute.key in self.checked
                    else []
                )
                self.add(
                    error(
                        "DG316",
                        f"'{key}' is computed, so a test deal cannot set it",
                        document.locate_key(path + (key,)),
                        f"set what it is computed from: {', '.join(sources)}" if sources else None,
                    )
                )
                continue
            typed = self.test_value(field, value, document.locate(path + (key,)))
            if field.type == T.STAGE and field.name == "stage":
                stage = typed
        for field in fields.fields.values():
            if field.required and field.default is None and field.compute is None and deal.get(field.name) is None:
                self.add(
                    error(
                        "DG317",
                        f"test deal has no '{field.name}', a required field",
                        document.locate(path),
                        "a deal without it would be rejected, not scored",
                    )
                )
        return stage

    def test_value(self, field, value, location: Location):
        """The typed value a test deal gives ``field``, read as an export cell would be."""
        stages = self.stage_lookup or None
        try:
            return coerce(field.type, value, stages=stages, **field.reading())
        except ValueProblem as problem:
            hint = None
            if field.type == T.STAGE and isinstance(value, str) and self.pack.pipeline is not None:
                hint = did_you_mean(value, list(self.pack.pipeline.stage_ids))
            self.add(error("DG317", f"'{field.name}' in test deal: {problem}", location, hint))
            return None

    def check_expectations(self, case, pipeline: Pipeline, stage_id: str | None) -> None:
        expect, document = case.expect, case.document
        path = case.path + ("expect",)
        stage = pipeline.stage(stage_id) if stage_id else None
        criteria = {c.id: s for s in pipeline.stages for c in s.exit}
        rules = {r.id: r for r in pipeline.qualify_out}
        for i, criterion_id in enumerate(expect.get("failed") or ()):
            at = document.locate(path + ("failed", i))
            if criterion_id not in criteria:
                if self.was_cut(criterion_id):
                    continue  # cut for a schema error, already reported
                self.add(
                    error(
                        "DG318",
                        f"expected failure of unknown exit criterion '{criterion_id}'",
                        at,
                        did_you_mean(criterion_id, list(criteria)) or f"criteria are: {', '.join(criteria)}",
                    )
                )
            elif stage is not None and criteria[criterion_id].id != stage.id:
                own = [c.id for c in stage.exit] if stage.is_open else []
                self.add(
                    error(
                        "DG319",
                        f"criterion '{criterion_id}' belongs to stage '{criteria[criterion_id].id}', "
                        f"but the deal is at '{stage.id}': it can never be reported as failed",
                        at,
                        f"criteria of '{stage.id}': {', '.join(own)}"
                        if own
                        else f"'{stage.id}' has no exit criteria to fail",
                    )
                )
        for i, rule_id in enumerate(expect.get("qualify_out") or ()):
            at = document.locate(path + ("qualify_out", i))
            if rule_id not in rules:
                if self.was_cut(rule_id):
                    continue
                self.add(
                    error(
                        "DG318",
                        f"expected unknown qualify-out rule '{rule_id}' to fire",
                        at,
                        did_you_mean(rule_id, list(rules)) or f"rules are: {', '.join(rules)}",
                    )
                )
            elif stage is not None and not pipeline.rule_applies(rules[rule_id], stage.id):
                self.add(
                    error(
                        "DG319",
                        f"rule '{rule_id}' cannot fire for a deal at '{stage.id}'",
                        at,
                        "closed deals are never qualified out"
                        if not stage.is_open
                        else f"it applies from '{rules[rule_id].from_stage}' on",
                    )
                )
        self.check_expected_stage(expect, document, path, pipeline)
        self.check_expected_category(expect, document, path, pipeline)
        if stage is not None:
            self.check_expected_outcome(expect, document, path, stage)

    def check_expected_category(self, expect: dict, document, path: tuple, pipeline: Pipeline) -> None:
        category = expect.get("category")
        known = [c.id for c in pipeline.categories]
        if category is None or category in known:
            return
        self.add(
            error(
                "DG318",
                f"expected forecast category '{category}' is not declared",
                document.locate(path + ("category",)),
                did_you_mean(category, known)
                or (f"categories are: {', '.join(known)}" if known else "the pipeline declares no forecast categories"),
            )
        )

    def check_expected_stage(self, expect: dict, document, path: tuple, pipeline: Pipeline) -> None:
        evidence = expect.get("evidence_stage")
        if evidence is None:
            return
        at = document.locate(path + ("evidence_stage",))
        found = pipeline.stage(evidence)
        if found is None:
            if not self.was_cut(evidence):  # a stage cut for a schema error is reported already
                self.add(
                    error(
                        "DG318",
                        f"expected evidence stage '{evidence}' is not a stage",
                        at,
                        did_you_mean(evidence, list(pipeline.stage_ids))
                        or f"stages are: {', '.join(pipeline.stage_ids)}",
                    )
                )
        elif not found.is_open:
            self.add(error("DG319", f"evidence stage '{evidence}' is closed; evidence is only ever an open stage", at))

    def check_expected_outcome(self, expect: dict, document, path: tuple, stage) -> None:
        """What the deal's stage alone decides: closed stages have their verdict; the probability is the stage's."""
        verdict = expect.get("verdict")
        decided = "won" if stage.won else "lost" if stage.lost else None
        if verdict is not None and verdict != decided and (decided or verdict in ("won", "lost")):
            reason = (
                f"'{stage.id}' is closed, so the verdict is '{decided}'"
                if decided
                else f"'{stage.id}' is an open stage, so the verdict cannot be '{verdict}'"
            )
            self.add(
                error(
                    "DG319",
                    f"expected verdict '{verdict}' cannot happen: {reason}",
                    document.locate(path + ("verdict",)),
                )
            )
        probability = expect.get("probability")
        if probability is not None and Decimal(probability) != stage.probability:
            self.add(
                error(
                    "DG319",
                    f"expected probability {probability} cannot happen: stage '{stage.id}' has "
                    f"probability {stage.probability}",
                    document.locate(path + ("probability",)),
                )
            )
