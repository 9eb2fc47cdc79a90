"""The documentation of every diagnostic code, read from the tables of docs/diagnostics.md and docs/payouts.md.

The docs are the one place a code is explained (tests keep every emitted code documented there), so
``dealgate rule DG310`` and the SARIF output's rule descriptions read them instead of keeping a second
copy. They ship inside the package as ``engine.docs``; a source checkout reads ``docs/`` directly.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

import attrs

# The documents whose tables describe codes, and the anchor of each on the project's documentation.
DOCUMENTS = ("diagnostics.md", "payouts.md")
_ROW = re.compile(r"^\| (DG\d{3}) \|(.*)\|\s*$")
_CODE = re.compile(r"^DG\d{3}$")


@attrs.frozen
class CodeDoc:
    """What one code means: its severity, the explanation and fix, an example, and where it is documented."""

    code: str
    severity: str
    meaning: str
    example: str
    section: str  # the heading the code is tabled under ("DG3xx — meaning across the pack")
    document: str  # "diagnostics.md"

    @property
    def summary(self) -> str:
        """The first sentence of the meaning: a one-line description (SARIF's shortDescription)."""
        first = re.split(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.;:])\s", plain(self.meaning), maxsplit=1)[0]
        return first.rstrip(".;:")


def plain(markdown: str) -> str:
    """Table-cell Markdown as plain text: no backticks or emphasis, escaped pipes restored."""
    text = markdown.replace("\\|", "|")
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("`", "").strip()


def _read(name: str) -> str:
    try:
        return (resources.files("engine.docs") / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):  # a source checkout run in place
        return (Path(__file__).resolve().parent.parent / "docs" / name).read_text(encoding="utf-8")


def _cells(row: str) -> list[str]:
    """The cells of a Markdown table row; ``\\|`` inside a cell is not a separator."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def parse(document: str, text: str) -> dict[str, CodeDoc]:
    """Every code tabled in one Markdown document (the first row of a code wins)."""
    found: dict[str, CodeDoc] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not _ROW.match(line):
            continue
        cells = _cells(line)
        code, severity, meaning = cells[0], cells[1], cells[2]
        example = cells[3] if len(cells) > 3 else ""
        found.setdefault(code, CodeDoc(code, severity, meaning, example, section, document))
    return found


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, CodeDoc]:
    """Code -> its documentation, in code order."""
    codes: dict[str, CodeDoc] = {}
    for document in DOCUMENTS:
        for code, doc in parse(document, _read(document)).items():
            codes.setdefault(code, doc)
    return dict(sorted(codes.items()))


def lookup(code: str) -> CodeDoc | None:
    return catalogue().get(code.strip().upper())


def is_code(text: str) -> bool:
    return bool(_CODE.match(text.strip().upper()))
