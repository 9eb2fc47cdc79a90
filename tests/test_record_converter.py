"""RuleSet.record's generated converter (engine.read.record) agrees with the plain reference.

Hypothesis makes dicts of export text, JSON natives, blanks, unknown keys and unreadable
values; the generated converter must return the same record, or raise the same message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.pack import load_ruleset
from engine.read.record import compile_record, record_values
from engine.values import ValueProblem

pytestmark = pytest.mark.usefixtures("converter_loop")  # each test with the loop in C and in Python
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset([ROOT / "rules"])[0]


@pytest.fixture(autouse=True)
def _record_made_afresh(ruleset):
    """``ruleset.record`` is made on first use and kept: without this, every test after the first
    would use the loop (C or Python) of whichever test made it, not its own."""
    with contextlib.suppress(AttributeError):  # not made yet
        object.__delattr__(ruleset, "record")  # a frozen attrs class: its own __delattr__ refuses


def _outcome(function, values):
    try:
        return "ok", function(values)
    except ValueProblem as problem:
        return "error", str(problem)


texts = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\t",
            "TRUE",
            "no",
            "$6,000.00",
            "(1,200)",
            "0.15",
            "3",
            "1e3",
            "01/25/2027",
            "2026-06-16",
            "Qualification",
            "closed won",
            "Closed Won ",
            "nope",
            "a;b",
            "-",
            "x",
        ]
    ),
    st.text(max_size=6),
)
natives = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=False, places=2),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_record_matches_the_reference(ruleset, data):
    fields = ruleset.fields.fields
    names = st.sampled_from([*fields, "unknown_field"])
    values = data.draw(st.dictionaries(names, st.one_of(texts, natives), max_size=8))
    if data.draw(st.booleans()):  # mostly valid: the required fields present
        values.setdefault("id", data.draw(st.text(min_size=1, max_size=4).filter(str.strip)))
        values.setdefault("stage", data.draw(st.sampled_from(["Qualification", "won", "discovery"])))
    analysis = ruleset.analysis
    generated, _ = compile_record(fields, analysis.defaults, analysis.stage_lookup)
    assert _outcome(generated, values) == _outcome(
        lambda v: record_values(fields, analysis.defaults, analysis.stage_lookup, v), values
    )
    assert _outcome(ruleset.record, values) == _outcome(generated, values)


def test_record_then_score(ruleset, converter_loop):
    print("PROBE", converter_loop, type(ruleset.record).__name__)
    deal = ruleset.record({"id": "006A", "stage": "Negotiation/Review", "amount": "$1,000.00", "discount": 0.3})
    assert deal["amount"] == Decimal("1000.00") and deal["discount"] == Decimal("0.3")
    assert ruleset.score(deal, dt.date(2026, 9, 30)).failed == ("discount_approval",)
    again = ruleset.record({"id": "006A", "stage": "Negotiation/Review", "amount": "$1,000.00"})
    assert again["amount"] is deal["amount"]  # remembered text, shared immutable value


def test_record_errors_name_the_field(ruleset):
    with pytest.raises(ValueProblem, match="unknown field 'bogus'"):
        ruleset.record({"id": "1", "stage": "Lead", "bogus": 1})
    with pytest.raises(ValueProblem, match="missing required field 'id'"):
        ruleset.record({"id": "  ", "stage": "Lead"})
    with pytest.raises(ValueProblem, match="^amount: "):
        ruleset.record({"id": "1", "stage": "Lead", "amount": "TBD"})


# The fast tier: a plain dict holding every field. Hypothesis starts from a full dict of export
# text and swaps in blanks, whitespace, natives, unreadable values, absent and unknown keys.

odd_values = st.one_of(
    texts,
    natives,
    st.sampled_from(["", " ", "\t", " \r\n", "  padded  ", " Closed Won", "$1,000.00 "]),
    st.just(b"bytes"),
    st.just(Decimal("sNaN")),  # unhashable: the per-field tier reads it
    st.just({"nested": 1}),
    st.sampled_from(["", " ", "x", " Closed Won", "$1,000.00 ", "TRUE", "01/25/2027"]).map(lambda t: Text(t)),
)


def _full_text_dict(ruleset) -> dict:
    from engine.synthetic import rows

    names = [n for n, f in ruleset.fields.fields.items() if f.compute is None]
    row = next(iter(rows(1, 7, dt.date(2026, 9, 30))))
    return dict(zip(names, row))


class Text(str):
    """A str subclass, as some libraries give text (numpy.str_, a StrEnum)."""


def test_a_blank_required_text_of_a_str_subclass_is_missing(ruleset):
    # In the fast tier's shape: the C loop handed the failure to the per-field tier, which read
    # the blank id as no value where the generated Python asks the reference (regression).
    analysis = ruleset.analysis
    generated, _ = compile_record(ruleset.fields.fields, analysis.defaults, analysis.stage_lookup)
    with pytest.raises(ValueProblem, match="missing required field 'id'"):
        generated({**_full_text_dict(ruleset), "id": Text("  ")})
    # Either loop, either tier: the generated Python read a blank str subclass in a required field
    # of another type as no value (regression: stage None).
    for values in (_full_text_dict(ruleset), {"id": "1"}):
        with pytest.raises(ValueProblem, match="missing required field 'stage'"):
            generated({**values, "stage": Text(" ")})
        assert generated({**values, "stage": "Lead", "amount": Text(" ")})["amount"] is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fast_tier_matches_the_reference(ruleset, data):
    fields, analysis = ruleset.fields.fields, ruleset.analysis
    values = _full_text_dict(ruleset)
    names = list(values)
    for name in data.draw(st.lists(st.sampled_from(names), max_size=6)):
        values[name] = data.draw(odd_values)
    for name in data.draw(st.lists(st.sampled_from(names), max_size=2)):
        values.pop(name, None)
    if data.draw(st.booleans()) and len(values) < len(names):
        values["unknown_field"] = "x"  # as many keys as fields, one of them unknown
    generated, _ = compile_record(fields, analysis.defaults, analysis.stage_lookup)
    expected = _outcome(lambda v: record_values(fields, analysis.defaults, analysis.stage_lookup, v), values)
    for _ in range(2):  # the second time, the memos know the texts
        outcome = _outcome(generated, values)
        assert outcome == expected
        if outcome[0] == "ok":
            assert list(outcome[1]) == list(expected[1])  # the fields in the pack's order


def test_the_everyday_dict_takes_the_fast_tier(ruleset, monkeypatch):
    monkeypatch.setenv("DEALGATE_PURE_PYTHON", "1")  # the generated Python's tiers (tests/test_cells.py: the C loop's)
    analysis = ruleset.analysis
    generated, source = compile_record(ruleset.fields.fields, analysis.defaults, analysis.stage_lookup)
    values = _full_text_dict(ruleset)
    expected = generated(values)

    def not_here(values):
        raise AssertionError("the per-field tier was used")

    generated.__globals__["per_field"] = not_here
    assert generated(values) == expected
    assert generated({**values, "amount": "", "discount": " ", "id": " 006A "})["id"] == "006A"
    assert "def per_field(values):" in source


def test_memos_are_bounded_and_keep_their_blanks(ruleset, monkeypatch):
    import engine.read.csv as csv_module

    monkeypatch.setattr(csv_module, "MEMO_LIMIT", 5)
    monkeypatch.setenv("DEALGATE_PURE_PYTHON", "1")  # to reach the memos; the C loop uses the same ones
    fields, analysis = ruleset.fields.fields, ruleset.analysis
    generated, _ = compile_record(fields, analysis.defaults, analysis.stage_lookup)
    memos = [v for k, v in generated.__globals__.items() if k.startswith("m") and k[1:].isdigit()]
    values = _full_text_dict(ruleset)
    for cents in range(40):
        amount = f"${cents},000.00"
        assert generated({**values, "amount": amount})["amount"] == Decimal(cents * 1000)
        assert generated({**values, "amount": ""})["amount"] is None
        assert generated({**values, "budget_confirmed": ""})["budget_confirmed"] is False
    assert all(len(memo) <= 5 for memo in memos)
