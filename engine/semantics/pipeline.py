"""Checks of the pipeline document: stage and rule ids, probabilities, exit criteria, qualify-out
rules, and the stage labels of both the pipeline and the fields document."""

from __future__ import annotations

from decimal import Decimal

from .. import types as T
from ..diagnostics import Location, did_you_mean, error, warning
from ..model import FieldSet, Pipeline, StageLabel
from .checks import Checks


class PipelineChecks(Checks):
    def check_pipeline(self, pipeline: Pipeline) -> None:
        seen_stages: dict[str, Location] = {}
        rule_ids: dict[str, Location] = {}
        for i, stage in enumerate(pipeline.stages):
            path = ("stages", i)
            self.once(
                "DG303",
                f"duplicate stage id '{stage.id}'",
                stage.id,
                self.at("pipeline", path + ("id",), stage.location),
                seen_stages,
            )
            if not Decimal(0) <= stage.probability <= Decimal(1):
                hint = "write probabilities as fractions: 0.6 means 60%" if stage.probability > 1 else None
                self.add(
                    error(
                        "DG304",
                        f"probability of '{stage.id}' is {stage.probability}; it must be between 0 and 1",
                        self.at("pipeline", path + ("probability",), stage.location),
                        hint,
                    )
                )
            if stage.won and stage.lost:
                self.add(
                    error(
                        "DG308",
                        f"stage '{stage.id}' cannot be both won and lost",
                        self.at("pipeline", path + ("lost",), stage.location),
                    )
                )
            if not stage.is_open and stage.exit:
                self.add(
                    warning(
                        "DG312",
                        f"closed stage '{stage.id}' has exit criteria; they are never checked",
                        self.key_at("pipeline", path + ("exit",), stage.location),
                    )
                )
            for j, criterion in enumerate(stage.exit):
                self.unique_rule(
                    criterion.id, self.at("pipeline", path + ("exit", j, "id"), criterion.location), rule_ids
                )
                self.expression(criterion.when, T.BOOL)
        for i, rule in enumerate(pipeline.qualify_out):
            self.unique_rule(rule.id, self.at("pipeline", ("qualify_out", i, "id"), rule.location), rule_ids)
            if rule.from_stage is not None and rule.from_stage not in seen_stages and not self.was_cut(rule.from_stage):
                self.add(
                    error(
                        "DG307",
                        f"unknown stage '{rule.from_stage}' in 'from'",
                        rule.from_location,
                        self.stage_hint(rule.from_stage, seen_stages, "from: "),
                    )
                )
            self.expression(rule.when, T.BOOL)
        self.check_probability_order(pipeline)
        self.check_categories(pipeline, seen_stages)
        if not any(s.won for s in pipeline.stages):
            self.add(
                warning(
                    "DG308",
                    "no stage is marked 'won: true'",
                    pipeline.location,
                    "mark the closed-won stage so won deals are reported and credited",
                )
            )

    def check_categories(self, pipeline: Pipeline, stages: dict) -> None:
        """Forecast categories: unique ids, known stages, boolean conditions, and none hidden behind a
        category that takes every deal (or by an earlier one with the same conditions)."""
        seen: dict[str, Location] = {}
        shadowing = None  # the first catch-all category: every later one is unreachable
        for i, category in enumerate(pipeline.categories):
            path = ("categories", i)
            id_at = self.at("pipeline", path + ("id",), category.location)
            self.once("DG330", f"duplicate forecast category '{category.id}'", category.id, id_at, seen)
            for j, stage_id in enumerate(category.stages):
                if stage_id not in stages and not self.was_cut(stage_id):
                    self.add(
                        error(
                            "DG331",
                            f"forecast category '{category.id}' names unknown stage '{stage_id}'",
                            self.at("pipeline", path + ("stages", j), category.location),
                            self.stage_hint(stage_id, stages),
                        )
                    )
            if category.when is not None:
                self.expression(category.when, T.BOOL)
            if shadowing is not None:
                self.add(
                    warning(
                        "DG332",
                        f"forecast category '{category.id}' is never reached: '{shadowing.id}' "
                        f"before it takes every deal",
                        id_at,
                        f"move '{shadowing.id}' last, or give it a condition (stages, verdicts or when)",
                    )
                )
            elif category.catch_all:
                shadowing = category

    def once(self, code: str, message: str, item_id: str, at: Location | None, seen: dict) -> None:
        """Report ``code`` when ``item_id`` was declared before (pointing at the first); remember it."""
        if item_id in seen:
            self.add(error(code, message, at, f"first declared at line {seen[item_id].line}"))
        seen.setdefault(item_id, at)

    def stage_hint(self, name: str, stages: dict, key: str = "") -> str:
        """What was probably meant by an unknown stage: the id of a CRM label, a close id, or the list."""
        stage = self.stage_of_label(name)
        if stage:
            return f"'{name}' is a CRM label of stage '{stage}'; write its id: {key}{stage}"
        return did_you_mean(name, list(stages)) or f"stages are: {', '.join(stages)}"

    def check_probability_order(self, pipeline: Pipeline) -> None:
        open_stages = [(i, s) for i, s in enumerate(pipeline.stages) if s.is_open]
        for (_, before), (i, after) in zip(open_stages, open_stages[1:]):
            if after.probability < before.probability:
                self.add(
                    warning(
                        "DG305",
                        f"probability falls from '{before.id}' ({before.probability}) to "
                        f"'{after.id}' ({after.probability})",
                        self.at("pipeline", ("stages", i, "probability"), after.location),
                        "probabilities usually rise along the pipeline; check the stage order",
                    )
                )

    def check_stage_labels(self, fields: FieldSet, pipeline: Pipeline) -> None:
        stage_ids = pipeline.stage_ids
        for stage_id in stage_ids:
            self.stage_lookup[stage_id.lower()] = stage_id
        first: dict[str, StageLabel] = {}
        labels = [label for stage in pipeline.stages for label in stage.labels] + list(fields.stage_labels)
        for label in labels:
            key = label.label.strip().lower()
            if self.was_cut(label.stage) and label.stage not in stage_ids:
                continue
            if label.stage not in stage_ids:  # only 'stage_labels' in the fields document can say this
                self.add(
                    error(
                        "DG307",
                        f"stage label '{label.label}' maps to unknown stage '{label.stage}'",
                        self.at("fields", ("stage_labels", label.label), label.location),
                        did_you_mean(label.stage, list(stage_ids)) or f"stages are: {', '.join(stage_ids)}",
                    )
                )
                continue
            if key in first:
                previous = first[key]
                self.add(
                    error(
                        "DG306",
                        f"stage label '{label.label}' is mapped twice ('{previous.stage}' at "
                        f"{previous.location}, and '{label.stage}')",
                        label.location,
                        "a CRM label must mean one stage; remove one mapping",
                    )
                )
                continue
            first[key] = label
            existing = self.stage_lookup.get(key)
            if existing is not None and existing != label.stage:
                self.add(
                    error(
                        "DG306",
                        f"stage label '{label.label}' is the id of stage '{existing}' but maps to '{label.stage}'",
                        label.location,
                    )
                )
                continue
            self.stage_lookup[key] = label.stage
