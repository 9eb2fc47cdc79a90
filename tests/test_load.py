"""Stage 1, load: values, locations, and every way a file can be unusable."""

from decimal import Decimal
from pathlib import Path

import pytest

from engine.load import MAX_DEPTH, load_file, load_paths, load_text, rule_files


def codes(result):
    return [(d.code, d.line, d.column) for d in result.diagnostics]


def only_document(text):
    result = load_text(text, "x.yaml")
    assert result.diagnostics == []
    (document,) = result.documents
    return document


# values


def test_scalars_are_yaml_1_2_like():
    doc = only_document(
        "kind: fields\n"
        "a: no\nb: on\nc: 2026-01-31\nd: true\ne: False\nf: 0.1\ng: 1_000\nh: 017\n"
        "i: 0o17\nj: 0x1F\nk: 0b11\nl: ~\nm: 1:20\nn: -3\no: 1e3\n"
    )
    data = doc.data
    assert data["a"] == "no" and data["b"] == "on"  # YAML 1.1 would say False / True
    assert data["c"] == "2026-01-31"  # no implicit timestamps
    assert data["d"] is True and data["e"] is False
    assert data["f"] == Decimal("0.1") and isinstance(data["f"], Decimal)
    assert data["g"] == 1000
    assert data["h"] == 17  # YAML 1.1 would read octal 15
    assert (data["i"], data["j"], data["k"]) == (15, 31, 3)
    assert data["l"] is None
    assert data["m"] == "1:20"  # no sexagesimal numbers
    assert data["n"] == -3
    assert data["o"] == Decimal("1E+3")


def test_decimal_is_exact():
    doc = only_document("kind: plan\nrate: 0.1\n")
    assert doc.data["rate"] * 3 == Decimal("0.3")


def test_keys_that_look_like_numbers_or_booleans_stay_text():
    doc = only_document("kind: fields\n1: a\n1.5: b\ntrue: c\n~: d\n")
    assert doc.data == {"kind": "fields", "1": "a", "1.5": "b", "true": "c", "~": "d"}


# locations


def test_value_and_key_locations():
    doc = only_document("kind: pipeline\nstages:\n  - id: discovery\n    probability: 0.1\n")
    assert str(doc.locate(("stages", 0, "probability"))) == "x.yaml:4:18"
    assert str(doc.locate_key(("stages", 0, "probability"))) == "x.yaml:4:5"
    assert str(doc.locate(("stages", 0))) == "x.yaml:3:5"
    # an unknown path falls back to the nearest ancestor
    assert str(doc.locate(("stages", 0, "nope", 3))) == "x.yaml:3:5"


LOCATED = """\
kind: pipeline
a: amount > 1 and ammount
b: "amount > 1 and \\"x\\" == ammount"
c: 'lower(s) == ''x'' or ammount'
d: amount > 1
  and ammount < 3
e: |
  amount > 1
  and ammount
f: >-
    amount > 1
    and ammount
g: "amount > 1 \\
   and ammount"
h: "\\x41\\u00e9 ammount"
i: {when: ammount}
"""


@pytest.mark.parametrize(
    "key,line,column",
    [
        ("a", 2, 19),
        ("b", 3, 29),
        ("c", 4, 26),
        ("d", 6, 7),
        ("e", 9, 7),
        ("f", 12, 9),
        ("g", 14, 8),
        ("h", 15, 16),
    ],
)
def test_offsets_inside_scalars_map_to_the_written_column(key, line, column):
    doc = only_document(LOCATED)
    value = doc.data[key]
    where = doc.locate_within((key,), value.index("ammount"))
    assert (where.line, where.column) == (line, column)
    assert LOCATED.splitlines()[line - 1][column - 1 :].startswith("ammount")


def test_offset_in_flow_mapping_and_at_the_end():
    doc = only_document(LOCATED)
    assert str(doc.locate_within(("i", "when"), 0)) == "x.yaml:16:11"
    assert str(doc.locate_within(("a",), len(doc.data["a"]))) == "x.yaml:2:26"  # just after the text


def test_locate_within_a_non_string_falls_back_to_the_value():
    doc = only_document("kind: plan\nquota: 1000\n")
    assert str(doc.locate_within(("quota",), 3)) == "x.yaml:2:8"


# documents


def test_multi_document_file_and_empty_documents():
    result = load_text("kind: fields\n---\n---\nkind: pipeline\n...\n", "x.yaml")
    assert result.diagnostics == []
    assert [(d.kind, d.index) for d in result.documents] == [("fields", 1), ("pipeline", 3)]


def test_missing_kind():
    assert codes(load_text("fields: {}\n", "x")) == [("DG010", 1, 1)]


def test_empty_kind_points_at_the_key():
    result = load_text("stages: []\nkind:\n", "x")
    assert codes(result) == [("DG010", 2, 1)]
    assert "empty" in result.diagnostics[0].message


def test_unknown_kind_did_you_mean():
    result = load_text("kind: pipline\n", "x")
    assert codes(result) == [("DG011", 1, 7)]
    assert result.diagnostics[0].hint == "did you mean 'pipeline'?"


def test_kind_that_is_a_list():
    result = load_text("kind: [fields]\n", "x")
    assert codes(result) == [("DG011", 1, 7)]


def test_document_that_is_not_a_mapping():
    assert codes(load_text("- kind: fields\n", "x")) == [("DG010", 1, 1)]
    assert codes(load_text("just text\n", "x")) == [("DG010", 1, 1)]


# problems inside YAML


def test_duplicate_key_points_at_the_second():
    result = load_text("kind: fields\nfields:\n  id: {type: string}\n  id: {type: integer}\n", "x")
    assert codes(result) == [("DG005", 4, 3)]
    assert "line 3" in result.diagnostics[0].message
    assert result.documents[0].data["fields"]["id"] == {"type": "string"}  # the first one is kept


def test_complex_key():
    assert codes(load_text("kind: fields\n? [a, b]\n: 1\n", "x")) == [("DG006", 2, 3)]


@pytest.mark.parametrize(
    "text,column",
    [
        ("kind: fields\nx: !!python/object:os.system ls\n", 4),
        ("kind: fields\nx: !!binary aGVsbG8=\n", 4),
        ("kind: fields\nx: !!set {a, b}\n", 4),
        ("kind: fields\nx: !!omap [a: 1]\n", 4),
        ("kind: fields\nx: !custom [1]\n", 4),
    ],
)
def test_tags_are_refused(text, column):
    assert codes(load_text(text, "x")) == [("DG007", 2, column)]


@pytest.mark.parametrize(
    "text",
    [
        "kind: fields\nx: .inf\n",
        "kind: fields\nx: -.inf\n",
        "kind: fields\nx: .nan\n",
        "kind: fields\nx: 0x_\n",
        "kind: fields\nx: 1" + "0" * 5000 + "\n",
    ],
)
def test_unusable_numbers(text):
    result = load_text(text, "x")
    assert codes(result) == [("DG007", 2, 4)]
    assert len(result.diagnostics[0].message) < 100  # a 5000-digit number is not echoed back


def test_syntax_error_location():
    result = load_text("kind: fields\nfields: [a\n", "x")
    assert [d.code for d in result.diagnostics] == ["DG009"]
    assert result.documents == []


def test_tab_indentation_has_a_hint():
    result = load_text("kind: fields\nfields:\n\tid: {type: string}\n", "x")
    assert codes(result) == [("DG009", 3, 1)]
    assert "tab" in result.diagnostics[0].hint


def test_unquoted_colon_has_a_hint():
    result = load_text("kind: pipeline\nwhy: note: this\n", "x")
    assert [d.code for d in result.diagnostics] == ["DG009"]
    assert "quoted" in result.diagnostics[0].hint


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\ud800", "\ufffe"])
def test_characters_yaml_refuses(char):
    result = load_text(f'kind: fields\nx: "ab{char}"\n', "x")
    assert codes(result) == [("DG009", 2, 7)]


def test_billion_laughs_is_refused_before_it_expands():
    """9**9 nodes once expanded: refused by counting (MAX_NODES), so this returns at all.

    No wall-clock limit here (speed is measured in bench/, never asserted): a loader that expanded
    the aliases would not finish, and CI's own time limit would catch it.
    """
    lines = ["kind: fields", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    result = load_text("\n".join(lines) + "\n", "x")
    assert [d.code for d in result.diagnostics] == ["DG008"]
    assert "expands to more than" in result.diagnostics[0].message
    assert result.documents == []


def test_cyclic_alias_is_refused():
    result = load_text("kind: fields\na: &x [1, *x]\n", "x")
    assert codes(result) == [("DG008", 2, 4)]


def test_aliases_that_stay_small_are_expanded():
    doc = only_document("kind: fields\na: &x {type: string}\nb: *x\n")
    assert doc.data["b"] == {"type": "string"}


def test_deep_nesting_is_refused_without_recursion_error():
    deep = "[" * (MAX_DEPTH * 30) + "]" * (MAX_DEPTH * 30)
    result = load_text(f"kind: fields\nx: {deep}\n", "x")
    assert [d.code for d in result.diagnostics] == ["DG008"]
    shallow = "[" * (MAX_DEPTH - 5) + "]" * (MAX_DEPTH - 5)
    assert load_text(f"kind: fields\nx: {shallow}\n", "x").diagnostics == []


# files


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize("content", ["", "\n\n  \n", "# only a comment\n", "---\n", "\ufeff"])
def test_empty_file(tmp_path, content):
    path = write(tmp_path, "e.yaml", content)
    result = load_file(path, "e.yaml")
    assert codes(result) == [("DG004", 1, 1)]


def test_binary_file(tmp_path):
    path = write(tmp_path, "b.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert [d.code for d in load_file(path, "b.yaml").diagnostics] == ["DG002"]


def test_utf16_file_is_binary(tmp_path):
    path = write(tmp_path, "u.yaml", "kind: fields\n".encode("utf-16"))
    assert [d.code for d in load_file(path, "u.yaml").diagnostics] == ["DG002"]


def test_non_utf8_file_points_at_the_byte_in_characters(tmp_path):
    path = write(tmp_path, "l.yaml", b'kind: fields\nx: "\xc3\xa9\xc3\xa9 \xe9t\xe9"\n')
    result = load_file(path, "l.yaml")
    assert codes(result) == [("DG003", 2, 8)]
    assert "0xe9" in result.diagnostics[0].message


def test_bom_is_accepted(tmp_path):
    path = write(tmp_path, "bom.yaml", "\ufeffkind: fields\nx: 1\n")
    result = load_file(path, "bom.yaml")
    assert result.diagnostics == []
    assert str(result.documents[0].locate(("x",))) == "bom.yaml:2:4"


def test_unreadable_path(tmp_path):
    result = load_file(tmp_path / "missing.yaml", "missing.yaml")
    assert [d.code for d in result.diagnostics] == ["DG001"]


def test_rule_files_skip_hidden_and_non_yaml(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".git/x.yaml", "kind: fields\n")
    write(tmp_path, ".hidden.yaml", "kind: fields\n")
    write(tmp_path, "notes.txt", "hi")
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/b.yml", "kind: plan\n")
    write(tmp_path, "a.yaml", "kind: fields\n")
    assert [p.relative_to(tmp_path).as_posix() for p in rule_files(tmp_path)] == ["a.yaml", "sub/b.yml"]


def test_empty_directory(tmp_path):
    result = load_paths([tmp_path])
    assert [d.code for d in result.diagnostics] == ["DG012"]


def test_load_paths_reports_every_file(tmp_path):
    write(tmp_path, "a.yaml", "kind: fields\na: 1\na: 2\n")
    write(tmp_path, "b.yaml", "kind: pipline\n")
    write(tmp_path, "c.yaml", "kind: pipeline\nstages: []\n")
    result = load_paths([tmp_path])
    assert sorted(d.code for d in result.diagnostics) == ["DG005", "DG011"]
    assert sorted(d.kind for d in result.documents) == ["fields", "pipeline"]


def test_default_pack_loads_cleanly():
    root = Path(__file__).resolve().parent.parent / "rules"
    result = load_paths([root])
    assert result.diagnostics == []
    assert {d.kind for d in result.documents} == {"fields", "pipeline", "plan"} | (
        {"tests"} if any((root / "tests").glob("*.y*ml")) else set()
    )
