"""engine/salvage.py: what is left of a document after its schema errors is valid, and still points
at the right lines of the original file."""

from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.check import check_document, validator_for
from engine.load import load_text
from engine.salvage import salvage

RULES = Path(__file__).resolve().parent.parent / "rules"
DOCUMENTS = {
    name: load_text((RULES / name).read_text(encoding="utf-8"), name).documents[0]
    for name in ("fields.yaml", "pipeline.yaml", "plans/ae.yaml", "plans/sdr.yaml")
}


def paths(data, path=()):
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths(value, path + (index,))


def replaced(data, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (replaced(v, rest, value) if k == head else v) for k, v in data.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(data)]


junk = st.one_of(
    st.just("junk"),
    st.integers(-3, 300),
    st.just([]),
    st.just({}),
    st.just({"colour": "red"}),
    st.none(),
    st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(DOCUMENTS)), st.data())
def test_what_is_left_is_valid_and_keys_still_point_at_their_lines(name, data):
    document = DOCUMENTS[name]
    path = data.draw(st.sampled_from(sorted(p for p in paths(document.data) if p and p != ("kind",))))
    broken = attrs.evolve(document, data=replaced(document.data, path, data.draw(junk)))
    saved = salvage(broken)
    if saved is None:
        return
    assert not list(validator_for(broken.kind).iter_errors(saved.document.data))
    lines = (RULES / name).read_text(encoding="utf-8").splitlines()
    for key_path in paths(saved.document.data):
        if key_path and isinstance(key_path[-1], str) and key_path in saved.document.key_locations:
            where = saved.document.locate_key(key_path)
            assert lines[where.line - 1][where.column - 1 :].startswith(key_path[-1]), (key_path, where)


def test_a_valid_document_is_kept_whole():
    for document in DOCUMENTS.values():
        assert not check_document(document)
        assert salvage(document).document.data == document.data
