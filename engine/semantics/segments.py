"""Checks of the segments document (account tiers): its account fields, the key deals are matched
on, tier ids, and each tier's condition, type-checked against the account fields and the deal
aggregates exactly as criteria are checked against deal fields."""

from __future__ import annotations

from .. import expr as E
from .. import types as T
from ..diagnostics import did_you_mean, error
from ..model import coerce_default
from ..segments.model import AGGREGATES, Segments
from .checks import BUILTINS, Checks, _spanning
from .fields import _date_format_problem


def segment_environment(segments: Segments) -> E.Environment:
    """What a tier's condition may read: as_of, the account fields, then the deal aggregates (which are
    null when no deals are given, so every one is nullable)."""
    variables = dict(BUILTINS)
    for field in segments.fields.fields.values():
        variables[field.name] = E.Variable(field.type, field.nullable)
    for name, (type_, _) in AGGREGATES.items():
        variables.setdefault(name, E.Variable(type_, True))
    return E.Environment(variables)


class SegmentChecks(Checks):
    def check_segments(self, segments: Segments | None) -> None:
        if segments is None:
            return
        self.check_account_fields(segments)
        self.check_key(segments)
        environment = segment_environment(segments)
        seen: dict = {}
        for i, tier in enumerate(segments.all_tiers):
            path = ("tiers", i, "id") if tier.when is not None else ("default", "id")
            at = segments.document.locate(path)
            if tier.id in seen:
                self.add(
                    error(
                        "DG402",
                        f"duplicate tier id '{tier.id}'",
                        at,
                        f"first declared at line {seen[tier.id].line}; an account's tier is named by its id",
                    )
                )
            seen.setdefault(tier.id, at)
            if tier.when is not None:
                self.tier_condition(tier.when, environment)

    def tier_condition(self, when, environment: E.Environment) -> None:
        """Like ``Checks.expression``, but over accounts: deal fields are neither offered nor marked used."""
        checked, problems = E.check(when.source, environment, T.BOOL)
        for problem in problems[:1]:
            self.add(error(problem.code, problem.message, _spanning(when, problem), problem.hint))
        if checked is not None:
            self.checked[when.key] = checked

    def check_account_fields(self, segments: Segments) -> None:
        document = segments.document
        claimed: dict[str, str] = {}
        for field in segments.fields.fields.values():
            self.check_field_name(field.name, field.location)
            if field.name in AGGREGATES:
                self.add(
                    error(
                        "DG403",
                        f"account field '{field.name}' has the name of a deal aggregate",
                        field.location,
                        f"rename it: '{field.name}' is {AGGREGATES[field.name][1]}, computed from the deals export",
                    )
                )
            _, problem = coerce_default(field)
            if problem:
                self.add(
                    error(
                        "DG205",
                        f"default of '{field.name}': {problem}",
                        document.locate(("fields", field.name, "default")),
                    )
                )
            for index, column in enumerate((field.name, *field.columns)):
                owner = claimed.setdefault(column.strip().lower(), field.name)
                if owner != field.name:
                    where = document.locate(("fields", field.name, "columns", index - 1)) if index else field.location
                    self.add(
                        error(
                            "DG321",
                            f"column '{column}' of field '{field.name}' is already read by field '{owner}'",
                            where,
                            "a column can feed one field only; remove it from one of them",
                        )
                    )
            if field.type == T.DATE:
                for index, fmt in enumerate(field.formats):
                    problem = _date_format_problem(fmt)
                    if problem:
                        self.add(
                            error(
                                "DG322",
                                f"date format '{fmt}' {problem}",
                                document.locate(("fields", field.name, "formats", index)),
                                "use strptime codes with a year, month and day, e.g. %m/%d/%Y",
                            )
                        )

    def check_key(self, segments: Segments) -> None:
        """Deals find their account through its key: it must be a declared text field."""
        fields = segments.fields.fields
        field = fields.get(segments.key)
        if field is None:
            self.add(
                error(
                    "DG401",
                    f"the key '{segments.key}' is not a declared account field",
                    segments.key_location,
                    did_you_mean(segments.key, list(fields))
                    or "declare the field that deals' 'account' column holds (the account name or id)",
                )
            )
        elif field.type != T.STRING:
            self.add(
                error(
                    "DG401", f"the key '{segments.key}' must be a string field, not {field.type}", segments.key_location
                )
            )
