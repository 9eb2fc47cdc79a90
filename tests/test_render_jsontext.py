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
