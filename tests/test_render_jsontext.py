"""engine.render.jsontext: the very text json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.render.jsontext import dumps_indented

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=True))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=25,
)


@settings(max_examples=300)
@given(values, st.integers(0, 4))
def test_the_same_text_as_json_dumps(value, indent):
    assert dumps_indented(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_unicode_control_characters_and_empty_containers():
    value = {"a": [], "b": {}, "c": 'é\u2028\x00"\\', "d": [None, True, False, -1, {"e": ()}]}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=200)
@given(values, st.integers(0, 3))
def test_a_nested_value_is_the_text_it_has_inside_a_document(value, depth):
    """dumps_nested is what a streaming writer puts inside its own brackets: the document's text."""
    from engine.render.jsontext import dumps_nested

    document = value
    for _ in range(depth):
        document = {"k": document}
    expected = dumps_indented(document)
    written = dumps_nested(value, depth)
    assert expected == "{\n  " * 0 + _wrap(written, depth)


def _wrap(text: str, depth: int) -> str:
    for level in range(depth, 0, -1):
        pad = "  " * (level - 1)
        text = "{\n" + pad + '  "k": ' + text + "\n" + pad + "}"
    return text
