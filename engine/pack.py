"""Load -> check -> model -> semantics (-> compile), for a whole rule pack, in one call.

Every stage runs as far as it can so that one `dealgate validate` reports all
problems at once: of a document that fails its schema, the parts the schema
refuses are cut away (engine/salvage.py) and the rest goes on to the later
checks; a document with nothing usable left is left out of the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from .check import check_document
from .compile import compile_ruleset
from .diagnostics import Diagnostic, DiagnosticError, has_errors, sorted_diagnostics
from .load import load_paths
from .model import build_pack
from .salvage import salvage
from .semantics import Analysis, analyse
from .suppress import apply as apply_suppressions


@attrs.frozen
class PackResult:
    analysis: Analysis | None
    diagnostics: list  # sorted

    @property
    def ok(self) -> bool:
        return self.analysis is not None and not has_errors(self.diagnostics)


def read_pack(paths: Iterable[Path | str], reports: Callable[[str], bool] | None = None) -> PackResult:
    """Every problem of the pack, once; warnings silenced by ``# dealgate: ignore[...]`` comments in
    the files, or not ``reports``-ed by the project's configuration, are left out."""
    loaded = load_paths([Path(p) for p in paths])
    files = {d.file for d in loaded.documents}

    def result(analysis, diagnostics) -> PackResult:
        files.update(d.file for d in diagnostics if d.file)
        kept = apply_suppressions(diagnostics, files, reports or (lambda code: True))
        return PackResult(analysis, sorted_diagnostics(kept))

    diagnostics: list[Diagnostic] = list(loaded.diagnostics)
    valid: list = []
    broken_kinds: set[str] = set()
    cut_names: set[str] = set()
    for document in loaded.documents:
        problems = check_document(document)
        diagnostics.extend(problems)
        if not has_errors(problems):
            valid.append(document)
            continue
        salvaged = salvage(document)
        if salvaged is None:
            broken_kinds.add(document.kind)
        else:
            valid.append(salvaged.document)
            cut_names.update(salvaged.names)
    if not loaded.documents:
        return result(None, diagnostics)
    if has_errors(loaded.diagnostics):
        # A file that failed to load may have been the fields or pipeline document: don't also
        # claim they are missing. Its own error says what is wrong.
        broken_kinds.update(("fields", "pipeline"))
    pack, problems = build_pack(valid)
    diagnostics.extend(problems)
    analysis, problems = analyse(pack, frozenset(broken_kinds), frozenset(cut_names))
    diagnostics.extend(problems)
    return result(analysis, diagnostics)


def load_ruleset(paths: Iterable[Path | str], *, strict: bool = False, reports: Callable[[str], bool] | None = None):
    """A compiled RuleSet, or DiagnosticError carrying every problem of the pack."""
    result = read_pack(paths, reports)
    blocking = [d for d in result.diagnostics if d.is_error or strict]
    if result.analysis is None or blocking:
        raise DiagnosticError(blocking or result.diagnostics)
    return compile_ruleset(result.analysis), result.diagnostics
