"""Diagnostics for people (compiler-style, with the source line and a caret),
for machines (JSON) and for GitHub Actions (workflow annotations)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ..diagnostics import Diagnostic
from .common import annotation, visible


def _source_lines(file: str) -> tuple:
    try:
        return tuple(Path(file).read_text(encoding="utf-8-sig").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def _width(text: str) -> int:
    """Terminal columns of ``text``: CJK and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _excerpt(diagnostic: Diagnostic, sources: dict) -> list[str]:
    if not diagnostic.file or not diagnostic.line:
        return []
    if diagnostic.file not in sources:
        sources[diagnostic.file] = _source_lines(diagnostic.file)
    lines = sources[diagnostic.file]
    if diagnostic.line > len(lines):
        return []
    text = lines[diagnostic.line - 1].replace("\t", " ")  # YAML counts a tab as one column
    gutter = f"{diagnostic.line:>4} | "
    before = text[: max(diagnostic.column - 1, 0)]
    caret = " " * (len(gutter) - 2) + "| " + " " * _width(before) + "^" * _span_width(diagnostic, text)
    return [gutter + text, caret]


def _span_width(diagnostic: Diagnostic, text: str) -> int:
    """Columns the caret covers: the whole offending token when its end is known, else one."""
    end = diagnostic.location.end_column if diagnostic.location else 0
    if end <= diagnostic.column:
        return 1
    return max(1, _width(text[diagnostic.column - 1 : min(end, len(text) + 1) - 1]))


def render_text(diagnostics: Iterable[Diagnostic], color: bool = False) -> str:
    """Compiler-style text. Source lines are read afresh on each call (not cached across calls:
    a file may change between two validations in one process, or a relative path may name
    another file after a change of directory)."""
    out = []
    sources: dict = {}
    for d in diagnostics:
        where = str(d.location) if d.location else "<pack>"
        severity = d.severity
        if color:
            severity = f"\x1b[1;{31 if d.is_error else 33}m{severity}\x1b[0m"
        out.append(f"{where}: {severity}[{d.code}]: {visible(d.message)}")
        out.extend(_excerpt(d, sources))
        if d.hint:
            out.append(f"     = hint: {visible(d.hint)}")
    return "\n".join(out) + ("\n" if out else "")


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diagnostics], indent=2) + "\n"


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    out = []
    for d in diagnostics:
        level = "error" if d.is_error else "warning"
        props: list = [("file", d.file)] if d.file else []
        if d.line:
            props += [("line", d.line), ("col", d.column)]
        props.append(("title", d.code))
        out.append(annotation(level, props, d.message + (f" (hint: {d.hint})" if d.hint else "")))
    return "\n".join(out) + ("\n" if out else "")


def summary_line(diagnostics: list) -> str:
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return "no problems found"
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def render_sarif(diagnostics: Iterable[Diagnostic]) -> str:
    from .sarif import render_diagnostics

    return render_diagnostics(diagnostics)


# Every format: (diagnostics, color) -> text; only the text for people is ever coloured.
FORMATS = {
    "text": render_text,
    "json": lambda diagnostics, color=False: render_json(diagnostics),
    "github": lambda diagnostics, color=False: render_github(diagnostics),
    "sarif": lambda diagnostics, color=False: render_sarif(diagnostics),  # loads the code docs: on demand
}
