"""What the semantic checks of a pack share: the names expressions reserve, the state the checks
fill in (diagnostics, checked expressions, used fields, the stage label table, typed defaults) and
the helpers they report through."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable

import attrs

from .. import expr as E
from .. import types as T
from ..diagnostics import Diagnostic, Location, did_you_mean, error
from ..expr.parse import BOOL_NAMES, NULL_NAMES
from ..model import Expr, RulePack

SPECIAL_FIELDS = ("id", "stage", "amount", "name", "owner", "account")  # read or shown by the engine itself
BUILTINS = {"as_of": E.Variable(T.DATE, nullable=False)}
# Names an expression reads as something else: a field called one of these could never be used.
RESERVED = frozenset(BUILTINS) | NULL_NAMES | frozenset(BOOL_NAMES)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Checks:
    """The state of one pack's check and the helpers every kind of check uses.

    The checks of each document kind (fields, pipeline, plans, tests) are subclasses; PackChecker
    combines them, so they all add to one list of diagnostics, in the order they run.
    """

    def __init__(self, pack: RulePack, broken_kinds: frozenset = frozenset(), cut_names: frozenset = frozenset()):
        self.pack = pack
        self.broken_kinds = broken_kinds
        # Names in parts cut away for schema errors: a reference to one is a cascade, not a new mistake.
        self.cut_names = frozenset(name.lower() for name in cut_names)
        self.diagnostics: list[Diagnostic] = []
        self.checked: dict = {}
        self.used_fields: set[str] = set()
        self.stage_lookup: dict = {}
        self.defaults: dict = {}
        stages = pack.pipeline.stage_ids if pack.pipeline else ()
        variables = dict(BUILTINS)
        if pack.fields:
            for field in pack.fields.fields.values():
                # A computed field is null when its inputs are, whatever 'required'/'default' say.
                nullable = field.nullable or field.compute is not None
                variables[field.name] = E.Variable(field.type, nullable)
        self.environment = E.Environment(variables, stages)

    def was_cut(self, name: str) -> bool:
        return name.lower() in self.cut_names

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def document(self, kind: str):
        """The document the model of ``kind`` was built from (the first valid one, as in build_pack)."""
        return next((d for d in self.pack.documents if d.kind == kind), None)

    def at(self, kind: str, path: tuple, fallback: Location | None = None) -> Location | None:
        """The location of the value at ``path`` in the ``kind`` document: the offending token itself."""
        document = self.document(kind)
        return document.locate(path) if document is not None else fallback

    def key_at(self, kind: str, path: tuple, fallback: Location | None = None) -> Location | None:
        """The location of the key introducing ``path`` in the ``kind`` document."""
        document = self.document(kind)
        return document.locate_key(path) if document is not None else fallback

    def expression(self, expr: Expr, expect, environment: E.Environment | None = None):
        if self.pack.fields is None:
            return None  # without fields every name would be "unknown": noise, not help
        checked, problems = E.check(expr.source, environment or self.environment, expect)
        for problem in problems:
            if not self.is_cascade(problem, expr.source):
                self.add(
                    error(
                        problem.code,
                        problem.message,
                        _spanning(expr, problem),
                        self.label_hint(problem, expr.source) or self.cut_hint(problem, expr.source) or problem.hint,
                    )
                )
        if checked is not None:
            self.checked[expr.key] = checked
            self.used_fields.update(checked.fields)
        else:  # the rule is wrong, not its fields unused: don't add "unused" warnings to the error
            self.mark_meant(_IDENTIFIER.findall(expr.source))
        return checked

    def is_cascade(self, problem, source: str) -> bool:
        """An unknown field or stage that was only cut away with a schema error (already reported)."""
        if problem.code not in ("DG203", "DG207"):
            return False
        word = _IDENTIFIER.match(source, problem.offset) or _IDENTIFIER.search(source, problem.offset)
        return word is not None and self.was_cut(word.group())

    def stage_of_label(self, name: str) -> str | None:
        """The stage id a CRM label stands for, for hints: a label written where an id is expected."""
        key = name.strip().lower()
        pipeline, fields = self.pack.pipeline, self.pack.fields
        labels = [label for stage in pipeline.stages for label in stage.labels] if pipeline else []
        labels += list(fields.stage_labels) if fields else []
        return next((label.stage for label in labels if label.label.strip().lower() == key), None)

    def label_hint(self, problem, source: str) -> str | None:
        """For an unknown stage that is the label of a stage: name the id to write instead."""
        if problem.code != "DG207" or not problem.length:
            return None
        try:
            written = ast.literal_eval(source[problem.offset : problem.offset + problem.length].strip())
        except (ValueError, SyntaxError):
            return None
        stage = self.stage_of_label(written) if isinstance(written, str) else None
        return f"'{written}' is a CRM label of stage '{stage}'; rules name stages by id: \"{stage}\"" if stage else None

    def cut_hint(self, problem, source: str) -> str | None:
        """An unknown field close to one whose declaration was cut for a schema error: name that one."""
        word = _IDENTIFIER.match(source, problem.offset)
        if problem.code != "DG203" or word is None or not self.cut_names:
            return None
        # The closest of the declared and the cut names: a cut one only wins when it is the better match.
        declared = [name.lower() for name in self.pack.fields.fields] if self.pack.fields else []
        close = difflib.get_close_matches(word.group().lower(), sorted(self.cut_names | set(declared)), n=1, cutoff=0.6)
        if not close or close[0] in declared:
            return None
        return f"did you mean '{close[0]}'? (its declaration has an error, reported above)"

    def mark_meant(self, names: Iterable[str]) -> None:
        """Count as used the fields a failed reference names or, misspelt, was meant to name: one mistake,
        one diagnostic (not also "field 'champion' is unused" beside "unknown field 'champpion'")."""
        fields = list(self.pack.fields.fields) if self.pack.fields else []
        for name in names:
            self.used_fields.add(name)
            if name not in fields:
                self.used_fields.update(difflib.get_close_matches(name, fields, n=1, cutoff=0.6))

    def field_reference(self, name: str, types: Iterable[str], what: str, location: Location | None) -> None:
        fields = self.pack.fields
        if fields is None:
            return
        if name not in fields:
            if self.was_cut(name):
                return
            self.mark_meant([name])
            self.add(
                error(
                    "DG203",
                    f"unknown field '{name}' ({what})",
                    location,
                    did_you_mean(name, list(fields.fields)) or "declare it in the fields document",
                )
            )
            return
        self.used_fields.add(name)
        field = fields[name]
        types = tuple(types)
        if field.type not in types:
            self.add(
                error(
                    "DG205",
                    f"{what} must be a field of type {' or '.join(types)}, but '{name}' is {field.type}",
                    location,
                )
            )

    def unique_rule(self, rule_id: str, location, seen: dict) -> None:
        if rule_id in seen:
            self.add(
                error(
                    "DG303",
                    f"duplicate rule id '{rule_id}'",
                    location,
                    f"first declared at line {seen[rule_id].line}; ids must be unique in the pipeline",
                )
            )
        else:
            seen[rule_id] = location

    def check_field_name(self, name: str, location: Location | None) -> None:
        """A field (of deals or of accounts) must not take a name expressions give another meaning."""
        if name in RESERVED or name.startswith("__"):
            what = "a built-in name" if name in BUILTINS else "a word expressions reserve"
            self.add(
                error(
                    "DG314",
                    f"'{name}' cannot be a field name: it is {what}",
                    location,
                    "rename the field (its CRM columns can keep their names)",
                )
            )


def _spanning(expr: Expr, problem) -> Location:
    """The problem's location inside the YAML line, spanning its token when it stays on one line."""
    start = expr.location_at(problem.offset)
    if problem.length > 1:
        end = expr.location_at(problem.offset + problem.length - 1)
        if end.line == start.line and end.column >= start.column:
            return attrs.evolve(start, end_column=end.column + 1)
    return start
