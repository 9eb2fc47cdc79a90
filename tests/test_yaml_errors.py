"""YAML mistakes said in dealgate's words (engine/yaml_errors.py).

The broken files of tests/data/invalid/yaml-* pin each kind of mistake to its line; here, the
property that holds for any edit of a real rule file: loading never raises, and every
diagnostic points inside the file, at a line that exists.
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.load import load_text

RULES = Path(__file__).resolve().parent.parent / "rules"
FILES = {p.relative_to(RULES).as_posix(): p.read_text(encoding="utf-8") for p in sorted(RULES.rglob("*.yaml"))}


def indent_edit(text: str, line: int, delta: int) -> str:
    """Move one line left or right: the commonest way to break a YAML file by hand."""
    lines = text.splitlines(keepends=True)
    index = line % len(lines)
    body = lines[index]
    lines[index] = " " * delta + body if delta >= 0 else body[min(-delta, len(body) - len(body.lstrip(" "))) :]
    return "".join(lines)


def char_edit(text: str, position: int, insert: str) -> str:
    position %= len(text) + 1
    return text[:position] + insert + text[position + 1 :]


edits = st.one_of(
    st.tuples(st.just(indent_edit), st.integers(0, 200), st.integers(-6, 6)),
    st.tuples(
        st.just(char_edit),
        st.integers(0, 5000),
        st.sampled_from(["", "'", '"', "[", "]", "{", "}", ":", ": ", "\t", "- ", "#", "*", "&", "@", "\n"]),
    ),
)


def inside(diagnostic, text: str) -> bool:
    lines = text.splitlines() or [""]
    if not diagnostic.line:
        return True
    if diagnostic.line > len(lines) + 1:
        return False
    line = lines[diagnostic.line - 1] if diagnostic.line <= len(lines) else ""
    return 1 <= diagnostic.column <= len(line) + 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FILES)), st.lists(edits, min_size=1, max_size=3))
def test_edited_rule_files_load_without_raising_and_point_inside(name, changes):
    text = FILES[name]
    for edit, *args in changes:
        text = edit(text, *args)
    result = load_text(text, name)
    for d in result.diagnostics:
        assert d.code.startswith("DG0") and d.message
        assert inside(d, text), (d, text)
        assert "<block end>" not in d.message and "'?'" not in d.message, d.message


def test_a_dedented_when_is_inconsistent_indentation_at_its_line():
    text = FILES["pipeline.yaml"].replace("        when: budget_confirmed\n", "      when: budget_confirmed\n")
    line = text.splitlines().index("      when: budget_confirmed") + 1
    [d] = load_text(text, "pipeline.yaml").diagnostics
    assert (d.code, d.line, d.column) == ("DG009", line, 7)
    assert "inconsistent indentation" in d.message and "?" not in d.message


def test_an_over_indented_key_is_not_taken_for_a_colon_in_a_value():
    text = FILES["pipeline.yaml"].replace("    probability: 0.10\n", "      probability: 0.10\n")
    [d] = load_text(text, "pipeline.yaml").diagnostics
    assert "inconsistent indentation" in d.message and "quoted" not in d.hint


words = st.sampled_from(
    [
        "champion",
        "champpion",
        "proposal",
        "Proposal/Price Quote",
        "rate",
        "tiers",
        "0.5",
        "12",
        "today()",
        "as_of",
        "null",
        "true",
        "colour",
        "from",
        "when",
        "- ",
        "  ",
        "\n",
        ":",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(["pipeline.yaml", "plans/ae.yaml", "fields.yaml"]), st.integers(0, 5000), words)
def test_every_diagnostic_of_an_edited_pack_lies_inside_its_file(tmp_path_factory, name, position, word):
    """The whole chain (load, schema, salvage, semantics) on a default pack with one word put in."""
    from engine.pack import read_pack

    folder = tmp_path_factory.mktemp("pack")
    for file, text in FILES.items():
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(char_edit(text, position, word) if file == name else text, encoding="utf-8")
    for d in read_pack([folder]).diagnostics:
        if not d.file or not d.line:
            continue
        text = Path(d.file).read_text(encoding="utf-8")
        assert inside(d, text), d
        if d.location.end_column:
            line = text.splitlines()[d.line - 1]
            assert d.column < d.location.end_column <= len(line) + 1, d


def test_a_list_item_before_the_mapping_names_no_token():
    """Found by the property above: '- ' put before `kind:` made PyYAML say "but found '?'" (a key token)."""
    text = FILES["pipeline.yaml"].replace("\nkind: pipeline", "\n- \nkind: pipeline", 1)
    [d] = load_text(text, "pipeline.yaml").diagnostics
    assert d.code == "DG009" and "'?'" not in d.message and "a key" in d.message, d.message
