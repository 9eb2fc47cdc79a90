"""Broken rule packs and the exact diagnostics each must produce (in the style of black's test data).

Each directory of tests/data/invalid/ is a pack: YAML files plus an ``expected.txt`` with one
line per diagnostic, in any order::

    # free comment
    # xfail: why this case still fails (a bug in code owned elsewhere; strict, so a fix shows up)
    DG203 pipeline.yaml:13:21 | did you mean 'amount'?
    DG002 pipeline.yaml | binary

``CODE file:LINE:COLUMN`` must match exactly (``CODE file`` for a problem with no position);
the text after ``|`` must appear in the diagnostic's message or hint. The set of diagnostics
must be exactly the expected one: a missing one and an extra one both fail. Columns point at
the offending token: for an expression, the offending sub-expression inside the YAML line.
"""

import re
from pathlib import Path

import pytest

from engine.pack import read_pack

CASES = Path(__file__).resolve().parent / "data" / "invalid"
LINE = re.compile(r"^(DG\d{3}) ([^:|]+?)(?::(\d+):(\d+))?(?: \| (.+))?$")


def read_expected(folder: Path):
    expected, fragments, xfail = [], {}, None
    for raw in (folder / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("# xfail:"):
            xfail = line.split(":", 1)[1].strip()
            continue
        if line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"{folder.name}/expected.txt: cannot read {raw!r}"
        code, file, number, column, fragment = match.groups()
        key = (code, file, int(number or 0), int(column or 0))
        expected.append(key)
        if fragment:
            fragments.setdefault(key, []).append(fragment)
    return expected, fragments, xfail


def case_params():
    params = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        _, _, xfail = read_expected(folder)
        marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
        params.append(pytest.param(folder, id=folder.name, marks=marks))
    return params


def actual(folder: Path):
    result = read_pack([folder])
    found = []
    for d in result.diagnostics:
        file = Path(d.file).resolve().relative_to(folder.resolve()).as_posix() if d.file else None
        found.append(((d.code, file, d.line, d.column), d))
    return found


@pytest.mark.parametrize("folder", case_params())
def test_case(folder):
    expected, fragments, _ = read_expected(folder)
    found = actual(folder)
    assert sorted(key for key, _ in found) == sorted(expected), "\n".join(
        f"{d.code} {d.location}: {d.message} (hint: {d.hint})" for _, d in found
    )
    by_key = {}
    for key, d in found:
        by_key.setdefault(key, []).append(f"{d.message} {d.hint or ''}")
    for key, wanted in fragments.items():
        for fragment in wanted:
            assert any(fragment in text for text in by_key[key]), (key, fragment, by_key[key])


def test_every_case_has_files_and_expectations():
    folders = [p for p in CASES.iterdir() if p.is_dir()]
    assert len(folders) >= 40
    for folder in folders:
        expected, _, _ = read_expected(folder)
        assert expected, f"{folder.name} expects nothing: it belongs in a valid pack, not here"
        assert any(p.suffix in (".yaml", ".yml") for p in folder.iterdir()), folder.name


def test_columns_in_expectations_are_inside_their_line():
    """A guard on the data itself: each expected position exists in its file."""
    for folder in (p for p in CASES.iterdir() if p.is_dir()):
        expected, _, _ = read_expected(folder)
        for code, file, line, column in expected:
            if not line:
                continue
            text = (folder / file).read_bytes().decode("utf-8", "replace").splitlines()
            assert 1 <= line <= len(text), (folder.name, code, line)
            assert 1 <= column <= len(text[line - 1]) + 1, (folder.name, code, line, column)
