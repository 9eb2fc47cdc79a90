"""SARIF 2.1.0 logs, for code-scanning dashboards (GitHub code scanning, Azure DevOps, SonarQube).

One run per invocation: the tool is dealgate, each diagnostic code that occurs is a rule (described
from docs/diagnostics.md through engine.codes), each diagnostic or failed rule test is a result at its
file, line and column. Columns count characters, as dealgate's positions do, which SARIF calls
``unicodeCodePoints``. Paths are written as given (relative to where dealgate ran, with ``/``), so a
dashboard resolves them against the checkout; an absolute path becomes a ``file://`` URI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import PurePath, PurePosixPath
from urllib.parse import quote

from ..codes import lookup, plain
from ..diagnostics import Diagnostic, Location

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_TEST = "rule-test"  # the rule id of a failed case of a pack's own tests (kind: tests)


def render_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    diagnostics = list(diagnostics)
    codes = sorted({d.code for d in diagnostics})
    rules = [_rule(code) for code in codes]
    results = [_result(d.code, codes.index(d.code), _level(d.severity), _message(d), d.location) for d in diagnostics]
    return _log(rules, results)


def render_test_run(run) -> str:
    """A pack's test run: one result per failed case, at the case in its tests file."""
    from .testing import failure_lines

    rule = {
        "id": RULE_TEST,
        "name": "RuleTestFailed",
        "shortDescription": {"text": "A test case of the pack (kind: tests) does not get what it expects"},
        "defaultConfiguration": {"level": "error"},
    }
    results = [
        _result(RULE_TEST, 0, "error", f"{r.case.name}: " + "; ".join(failure_lines(r)), r.location) for r in run.failed
    ]
    return _log([rule], results)


def _log(rules: list, results: list) -> str:
    driver = {"name": "dealgate", "rules": rules}
    version = _version()
    if version:
        driver["semanticVersion"] = version
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _version() -> str | None:
    try:
        return metadata.version("dealgate")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return None


def _rule(code: str) -> dict:
    rule: dict = {"id": code}
    doc = lookup(code)
    if doc is None:
        return rule
    rule["shortDescription"] = {"text": doc.summary}
    rule["fullDescription"] = {"text": plain(doc.meaning)}
    example = f"\n\nExample: {plain(doc.example)}" if doc.example else ""
    where = f"\n\nSee docs/{doc.document}, {plain(doc.section)}."
    rule["help"] = {
        "text": plain(doc.meaning) + example + where,
        "markdown": doc.meaning + (f"\n\nExample: {doc.example}" if doc.example else "") + where,
    }
    level = _level(doc.severity.split("/")[0].strip())
    rule["defaultConfiguration"] = {"level": level}
    return rule


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def _message(diagnostic: Diagnostic) -> str:
    return diagnostic.message + (f" (hint: {diagnostic.hint})" if diagnostic.hint else "")


def _result(rule_id: str, index: int, level: str, text: str, location: Location | None) -> dict:
    result: dict = {"ruleId": rule_id, "ruleIndex": index, "level": level, "message": {"text": text}}
    if location is not None and location.file:
        physical: dict = {"artifactLocation": {"uri": _uri(location.file)}}
        if location.line:
            region = {"startLine": location.line}
            if location.column:
                region["startColumn"] = location.column
                if location.end_column > location.column:
                    region["endColumn"] = location.end_column
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    return result


def _uri(file: str) -> str:
    path = PurePath(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(PurePosixPath(*path.parts).as_posix())
