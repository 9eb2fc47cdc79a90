"""Suppressing warnings: ``# dealgate: ignore[DG310]`` on a line, and the configuration's ignore/select.

A rule file can silence a warning where it is reported, as ``# noqa`` does for ruff:

```yaml
  legacy_score: {type: number}  # dealgate: ignore[DG310]  kept for the finance export
```

Only warnings can be silenced: an error means the pack cannot run, so an ignore comment naming an
error leaves it reported and says why (DG020). A comment that silences nothing, or names something
that is not a code, is reported too (DG020), so stale suppressions do not pile up. ``# dealgate:
ignore`` with no codes silences every warning on its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from .diagnostics import Diagnostic, Location, warning

_COMMENT = re.compile(r"(?:^|\s)#\s*dealgate:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")
_CODE = re.compile(r"^DG\d{3}$")


@attrs.frozen
class Suppression:
    location: Location  # of the comment
    codes: tuple | None  # None: every warning on the line


def suppressions(file: str, text: str) -> list[Suppression]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        listed = None if codes is None else tuple(c.strip().upper() for c in codes.split(",") if c.strip())
        column = match.start() + (len(match.group(0)) - len(match.group(0).lstrip())) + 1
        found.append(Suppression(Location(file, number, column, column + len(match.group(0).strip())), listed))
    return found


def _read(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def apply(
    diagnostics: list[Diagnostic], files: Iterable[str], reports: Callable[[str], bool] = lambda code: True
) -> list[Diagnostic]:
    """The diagnostics left once the files' ignore comments and the ``reports`` policy are applied,
    plus a DG020 warning for each ignore comment that silences nothing (itself subject to the policy)."""
    by_line: dict[tuple, Suppression] = {}
    for file in sorted(set(files)):
        for comment in suppressions(file, _read(file)):
            by_line[(file, comment.location.line)] = comment
    used: dict[tuple, set] = {key: set() for key in by_line}
    errors_named: dict[tuple, set] = {key: set() for key in by_line}
    kept = []
    for diagnostic in diagnostics:
        key = (diagnostic.file, diagnostic.line)
        suppression = by_line.get(key)
        named = suppression is not None and (suppression.codes is None or diagnostic.code in suppression.codes)
        if named and diagnostic.is_error:
            errors_named[key].add(diagnostic.code)
        elif named:
            used[key].add(diagnostic.code)
            continue
        kept.append(diagnostic)
    kept.extend(_unused(by_line, used, errors_named))
    return [d for d in kept if d.is_error or reports(d.code)]


def _unused(by_line: dict, used: dict, errors_named: dict) -> list[Diagnostic]:
    found = []
    for key, suppression in by_line.items():
        where = suppression.location
        if suppression.codes is None:
            if not used[key]:
                found.append(
                    warning(
                        "DG020",
                        "this ignore comment silences nothing: no warning is reported on its line",
                        where,
                        hint="remove the comment",
                    )
                )
            continue
        for code in suppression.codes:
            if not _CODE.match(code):
                found.append(
                    warning(
                        "DG020",
                        f"'{code}' is not a diagnostic code",
                        where,
                        hint="codes look like DG310; 'dealgate rule' lists them",
                    )
                )
            elif code in errors_named[key]:
                found.append(
                    warning(
                        "DG020",
                        f"{code} is an error here, and errors cannot be ignored",
                        where,
                        hint="fix the problem: an error means the pack cannot run",
                    )
                )
            elif code not in used[key]:
                found.append(
                    warning(
                        "DG020",
                        f"this ignore comment silences nothing: no {code} on its line",
                        where,
                        hint=f"remove {code} from the comment",
                    )
                )
    return found
