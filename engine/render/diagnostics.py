"""Diagnostics for people (compiler-style, with the source line and a caret),
for machines (JSON) and for GitHub Actions (workflow annotations)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable

from ..diagnostics import Diagnostic
from .common import annotation, visible


def _source_lines(file: str, wanted: set, block_size: int = 1 << 20) -> dict:
    """Line number -> text of the ``wanted`` lines of ``file``, numbered as ``str.splitlines`` counts.

    Read a block at a time and only those lines kept: the file may be a deal export of a million
    rows, whose whole text (as a tuple of lines, several times its size) was most of the memory of a
    payout that had a few warnings to show. A file that is not UTF-8 gives no lines, as before.
    """
    found: dict = {}
    number = 0
    carry = ""  # the last line read, which the next block may continue (a CR then its LF)
    try:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            while block := handle.read(block_size):
                lines = (carry + block).splitlines(keepends=True)
                carry = lines.pop()
                for line in lines:
                    number += 1
                    if number in wanted:
                        found[number] = line.splitlines()[0]
    except (OSError, UnicodeDecodeError):
        return {}
    if carry:
        number += 1
        if number in wanted:
            found[number] = carry.splitlines()[0]
    return found


def _width(text: str) -> int:
    """Terminal columns of ``text``: CJK and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _excerpt(diagnostic: Diagnostic, sources: dict) -> list[str]:
    if not diagnostic.file or not diagnostic.line:
        return []
    text = sources.get(diagnostic.file, {}).get(diagnostic.line)
    if text is None:
        return []
    text = text.replace("\t", " ")  # YAML counts a tab as one column
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
    diagnostics = list(diagnostics)
    wanted: dict = {}  # file -> the line numbers shown from it
    for d in diagnostics:
        if d.file and d.line:
            wanted.setdefault(d.file, set()).add(d.line)
    sources = {file: _source_lines(file, lines) for file, lines in wanted.items()}
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
