"""Checks of the pipeline document: stage and rule ids, probabilities, exit criteria, qualify-out
rules, and the stage labels of both the pipeline and the fields document."""

from __future__ import annotations

from decimal import Decimal

from .. import types as T
from ..diagnostics import Location, did_you_mean, error, warning
from ..model import FieldSet, Pipeline
from .checks import Checks


class PipelineChecks(Checks):
    def check_pipeline(self, pipeline: Pipeline) -> None:
        seen_stages: dict[str, Location] = {}
        rule_ids: dict[str, Location] = {}
        for i, stage in enumerate(pipeline.stages):
            path = ("stages", i)
            id_at = self.at("pipeline", path + ("id",), stage.location)
            if stage.id in seen_stages:
                self.add(error("DG303", f"duplicate stage id '{stage.id}'", id_at,
                               f"first declared at line {seen_stages[stage.id].line}"))
            seen_stages.setdefault(stage.id, id_at)
            if not Decimal(0) <= stage.probability <= Decimal(1):
                hint = "write probabilities as fractions: 0.6 means 60%" if stage.probability > 1 else None
                self.add(error("DG304", f"probability of '{stage.id}' is {stage.probability}; "
                                        f"it must be between 0 and 1",
                               self.at("pipeline", path + ("probability",), stage.location), hint))
            if stage.won and stage.lost:
                self.add(error("DG308", f"stage '{stage.id}' cannot be both won and lost",
                               self.at("pipeline", path + ("lost",), stage.location)))
            if not stage.is_open and stage.exit:
                self.add(warning("DG312", f"closed stage '{stage.id}' has exit criteria; they are never checked",
                                 self.key_at("pipeline", path + ("exit",), stage.location)))
            for j, criterion in enumerate(stage.exit):
                self.unique_rule(criterion.id, self.at("pipeline", path + ("exit", j, "id"), criterion.location),
                                 rule_ids)
                self.expression(criterion.when, T.BOOL)
        for i, rule in enumerate(pipeline.qualify_out):
            self.unique_rule(rule.id, self.at("pipeline", ("qualify_out", i, "id"), rule.location), rule_ids)
            if rule.from_stage is not None and rule.from_stage not in seen_stages \
                    and not self.was_cut(rule.from_stage):
                stage = self.stage_of_label(rule.from_stage)
                label_hint = f"'{rule.from_stage}' is a CRM label of stage '{stage}'; write its id: from: {stage}"
                self.add(error("DG307", f"unknown stage '{rule.from_stage}' in 'from'", rule.from_location,
                               (label_hint if stage else None) or did_you_mean(rule.from_stage, list(seen_stages))
                               or f"stages are: {', '.join(seen_stages)}"))
            self.expression(rule.when, T.BOOL)
        self.check_probability_order(pipeline)
        if not any(s.won for s in pipeline.stages):
            self.add(warning("DG308", "no stage is marked 'won: true'", pipeline.location,
                             "mark the closed-won stage so won deals are reported and credited"))

    def check_probability_order(self, pipeline: Pipeline) -> None:
        open_stages = [(i, s) for i, s in enumerate(pipeline.stages) if s.is_open]
        for (_, before), (i, after) in zip(open_stages, open_stages[1:]):
            if after.probability < before.probability:
                self.add(warning("DG305", f"probability falls from '{before.id}' ({before.probability}) to "
                                          f"'{after.id}' ({after.probability})",
                                 self.at("pipeline", ("stages", i, "probability"), after.location),
                                 "probabilities usually rise along the pipeline; check the stage order"))

    def check_stage_labels(self, fields: FieldSet, pipeline: Pipeline) -> None:
        stage_ids = pipeline.stage_ids
        for stage_id in stage_ids:
            self.stage_lookup[stage_id.lower()] = stage_id
        first: dict[str, object] = {}
        labels = [label for stage in pipeline.stages for label in stage.labels] + list(fields.stage_labels)
        for label in labels:
            key = label.label.strip().lower()
            if self.was_cut(label.stage) and label.stage not in stage_ids:
                continue
            if label.stage not in stage_ids:  # only 'stage_labels' in the fields document can say this
                self.add(error("DG307", f"stage label '{label.label}' maps to unknown stage '{label.stage}'",
                               self.at("fields", ("stage_labels", label.label), label.location),
                               did_you_mean(label.stage, list(stage_ids)) or f"stages are: {', '.join(stage_ids)}"))
                continue
            if key in first:
                previous = first[key]
                self.add(error("DG306", f"stage label '{label.label}' is mapped twice ('{previous.stage}' at "
                                        f"{previous.location}, and '{label.stage}')", label.location,
                               "a CRM label must mean one stage; remove one mapping"))
                continue
            first[key] = label
            existing = self.stage_lookup.get(key)
            if existing is not None and existing != label.stage:
                self.add(error("DG306", f"stage label '{label.label}' is the id of stage '{existing}' but maps to "
                                        f"'{label.stage}'", label.location))
                continue
            self.stage_lookup[key] = label.stage
