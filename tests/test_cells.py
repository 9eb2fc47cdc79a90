"""The converters' C loop (engine/read/_cells.c, through engine.read.cells) against a model in Python.

tests/test_record_converter.py, test_csv_lines.py and test_read.py run every test with the loop
in C and in the generated Python (the ``converter_loop`` fixture): this module tests the loop
itself. ``model`` below says in Python what a Converter does with its slots; hypothesis makes
slots and rows (blanks, whitespace of every kind, str subclasses, texts the memo lacks, required
blanks, converters that raise) and the two must give the same deal or raise the same error.
Then: the fallback takes only what it is given to catch, dicts in another key order or with
other key objects, more fields than the stack holds, threads, and no reference leaks.
"""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.pack import read_pack
from engine.read import ExportReader, cells
from engine.values import ValueProblem

pytestmark = pytest.mark.skipif(
    cells._cells is None, reason="the C loop (engine/read/_cells.c) is not built: no C compiler at install"
)


def make(items, slots, *, by_key=False, fallback=None, catch=(), exact=True):
    converter = cells.converter(items, slots, by_key=by_key, fallback=fallback, catch=catch, exact=exact)
    assert converter is not None
    return converter


def model(items, slots, source, by_key):
    """What a Converter returns for ``source``, step by step in Python (the C loop's specification)."""
    deal = dict(items)
    for key, where, kind, memo, call, default, blank in slots:
        text = source[where]
        if kind == cells.STRIP and call is not None and not isinstance(text, str):
            value = call(text)  # a JSON number in a text field
        elif kind == cells.STRIP:
            value = str.strip(text)
            if not value:
                value = blank() if blank is not None else default
        elif kind == cells.MEMO:
            value = memo[text] if isinstance(text, str) and text in memo else call(text)
        else:
            value = call(text)
        deal[key] = value
    return deal


def outcome(function, *args):
    try:
        return "ok", function(*args)
    except Exception as error:  # noqa: BLE001 - the two must fail alike, whatever the error
        return type(error).__name__, str(error)


class Str(str):
    """A str subclass: str.strip makes a plain str of it."""


def required(name):
    def blank():
        raise ValueProblem(f"missing required field '{name}'")

    return blank


def parse_int(value):
    try:
        return int(value)
    except (ValueError, TypeError):
        raise ValueProblem(f"not a number: {value!r}") from None


texts = st.one_of(
    st.sampled_from(["", " ", "\t", "\u3000", "\u00a0x\u00a0", "12", " 7 ", "x", "TRUE", "1e3", "é"]),
    st.text(max_size=5),
    st.builds(Str, st.sampled_from(["", " a ", "b"])),
)
natives = st.one_of(st.none(), st.integers(-3, 3), st.booleans(), st.lists(st.integers(), max_size=1))


@st.composite
def rows_and_slots(draw, values=texts):
    width = draw(st.integers(1, 8))
    row = [draw(values) for _ in range(width)]
    slots, items = [], []
    for k in range(draw(st.integers(0, 8))):
        name = f"f{k}"
        where = draw(st.integers(0, width - 1))
        kind = draw(st.sampled_from([cells.STRIP, cells.MEMO, cells.CALL]))
        default = draw(st.sampled_from([None, 0, "n/a"]))
        blank = required(name) if kind == cells.STRIP and draw(st.booleans()) else None
        memo = {"": default, "12": 12, " 7 ": 7} if kind == cells.MEMO else None
        call = parse_int if kind != cells.STRIP or draw(st.booleans()) else None
        slots.append((name, where, kind, memo, call, default, blank))
        items.append((name, None))
    items += [("absent", draw(st.sampled_from([None, 3])))]
    return row, items, slots


@settings(max_examples=300, deadline=None)
@given(rows_and_slots())
def test_a_row_converts_as_the_model_says(case):
    row, items, slots = case
    expected = outcome(model, items, slots, row, False)
    got = outcome(make(items, slots), row)
    assert got == expected
    if got[0] == "ok":
        assert list(got[1]) == [name for name, _ in items]
        assert all(type(v) is str for v in got[1].values() if isinstance(v, str))


@settings(max_examples=200, deadline=None)
@given(rows_and_slots(st.one_of(texts, natives)), st.randoms(use_true_random=False), st.booleans())
def test_a_dict_converts_as_the_model_says_in_any_key_order(case, rnd, exact):
    row, items, slots = case
    slots = [(name, name, *rest) for name, _, *rest in slots]
    source = {name: row[k % len(row)] for k, (name, *_) in enumerate(slots)}
    if rnd.random() < 0.5:  # another order, and key objects equal to the slots' but not the same
        names = list(source)
        rnd.shuffle(names)
        source = {"".join(list(name)): source[name] for name in names}
    if not exact and rnd.random() < 0.7:  # keys no slot reads, anywhere
        for extra in range(rnd.randint(1, 3)):
            keys = list(source)
            at = rnd.randint(0, len(keys))
            source = {**dict(zip(keys[:at], [source[k] for k in keys[:at]])), f"extra{extra}": " ",
                      **{k: source[k] for k in keys[at:]}}  # fmt: skip
    expected = outcome(model, items, slots, source, True)

    def fallback(values):
        return "fallback"

    catch = (((ValueProblem, TypeError), fallback),)
    convert = make(items, slots, by_key=True, fallback=fallback, catch=catch, exact=exact)
    got = outcome(convert, source)
    caught = expected[0] in ("ValueProblem", "TypeError")
    assert got == (("ok", "fallback") if caught else expected)


def test_a_dict_of_another_shape_goes_to_the_fallback():
    slots = [("a", "a", cells.STRIP, None, None, None, None), ("b", "b", cells.STRIP, None, None, None, None)]
    seen = []

    def fallback(values):
        seen.append(values)
        return {"fell": True}

    convert = make(
        [("a", None), ("b", None)], slots, by_key=True, fallback=fallback, catch=(((KeyError, TypeError), fallback),)
    )
    assert convert({"a": " x ", "b": ""}) == {"a": "x", "b": None}
    for odd in ({"a": "x"}, {"a": "x", "c": "y"}, {"a": "x", "b": 3}, {"a": "x", "b": "", "c": ""}, [("a", "x")]):
        assert convert(odd) == {"fell": True}
    assert len(seen) == 5
    assert convert(OrderedSubclass(a="1", b="2")) == {"fell": True}  # not a plain dict


class OrderedSubclass(dict):
    pass


def test_only_the_caught_exceptions_reach_the_fallback():
    def interrupt(text):
        raise KeyboardInterrupt

    def unexpected(text):
        raise ZeroDivisionError("boom")

    def fallback(values):
        return "fallback"

    for call, error in ((interrupt, KeyboardInterrupt), (unexpected, ZeroDivisionError)):
        convert = make([("a", None)], [("a", "a", cells.CALL, None, call, None, None)], by_key=True,
                       fallback=fallback, catch=(((KeyError, TypeError, ValueProblem), fallback),))  # fmt: skip
        with pytest.raises(error):
            convert({"a": "x"})
    row_convert = make([("a", None)], [("a", 0, cells.STRIP, None, None, None, required("a"))])
    with pytest.raises(ValueProblem, match="missing required field 'a'"):
        row_convert([" "])  # a row converter has no fallback: the caller rejects the row


def test_each_caught_exception_goes_to_its_own_handler():
    # As the generated record's except clauses: KeyError/TypeError to the per-field tier, ValueProblem
    # to the reference. The per-field tier is no stand-in for the reference: it reads a blank str
    # subclass in a required text field as no value (regression: such an id came out None).
    seen = []

    def per_field(values):
        seen.append("per_field")
        return {"a": "per_field"}

    def reference(values):
        seen.append("reference")
        raise ValueProblem("missing required field 'a'")

    slots = [
        ("a", "a", cells.STRIP, None, None, None, required("a")),
        ("b", "b", cells.CALL, None, parse_int, None, None),
    ]
    convert = make([("a", None), ("b", None)], slots, by_key=True, fallback=per_field,
                   catch=(((KeyError, TypeError), per_field), (ValueProblem, reference)))  # fmt: skip
    with pytest.raises(ValueProblem, match="missing required field 'a'"):
        convert({"a": Str("  "), "b": "1"})
    assert convert({"a": 1, "b": "1"}) == {"a": "per_field"}  # TypeError: str.strip of an int
    assert convert({"a": "x", "c": "1"}) == {"a": "per_field"}  # KeyError
    with pytest.raises(ValueProblem):
        convert({"a": "x", "b": "x"})
    assert seen == ["reference", "per_field", "per_field", "reference"]
    with pytest.raises(TypeError, match="pairs"):
        make([("a", None)], [], by_key=True, fallback=per_field, catch=(KeyError, TypeError))


def test_bad_slots_and_sources_are_errors_not_crashes():
    with pytest.raises(ValueError, match="kind"):
        make([("a", None)], [("a", 0, 9, None, None, None, None)])
    with pytest.raises(TypeError, match="MEMO"):
        make([("a", None)], [("a", 0, cells.MEMO, None, len, None, None)])
    with pytest.raises(TypeError, match="CALL"):
        make([("a", None)], [("a", 0, cells.CALL, None, None, None, None)])
    with pytest.raises(ValueError, match="index"):
        make([("a", None)], [("a", -1, cells.STRIP, None, None, None, None)])
    with pytest.raises(TypeError, match="slot"):
        make([("a", None)], [("a", 0)])
    convert = make([("a", None)], [("a", 2, cells.STRIP, None, None, None, None)])
    with pytest.raises(IndexError):
        convert(["x"])
    with pytest.raises(TypeError, match="list"):
        convert(("x", "y", "z"))
    with pytest.raises(TypeError):
        convert()  # type: ignore[call-arg]
    assert cells.converter([("a", 1), ("a", 2)], [], by_key=False) is None  # a key twice: the Python does it


def test_no_memory_while_making_a_converter_is_an_error_not_a_crash():
    testcapi = pytest.importorskip("_testcapi")  # CPython's test helpers: set_nomemory fails allocations
    slots = tuple((f"f{k}", k, cells.STRIP, None, None, None, None) for k in range(3))
    for start in range(40):  # each allocation in turn (regression: a failed slot table was walked)
        testcapi.set_nomemory(start, start + 1)
        try:
            cells._cells.Converter(dict.fromkeys(["f0", "f1", "f2"]), slots, False, None, ())
        except MemoryError:
            pass
        finally:
            testcapi.remove_mem_hooks()


def test_more_fields_than_the_stack_holds():
    names = [f"f{k}" for k in range(150)]
    slots = [(name, name, cells.STRIP, None, None, None, None) for name in names]
    convert = make([(name, None) for name in names], slots, by_key=True, fallback=None, catch=())
    source = {name: f" {k} " for k, name in enumerate(names)}
    assert convert(source) == {name: str(k) for k, name in enumerate(names)}
    reordered = dict(reversed(source.items()))
    assert convert(reordered) == convert(source)


def test_no_references_leak():
    shared_text, default = "".join(["1", "0"]), object()  # not "1": CPython shares that one str everywhere
    memo = {shared_text: 10}

    def miss(text):
        value = int(text)
        return value

    slots = [
        ("s", 0, cells.STRIP, None, None, default, None),
        ("m", 1, cells.MEMO, memo, miss, None, None),
        ("c", 2, cells.CALL, None, miss, None, None),
    ]
    convert = make([("s", None), ("m", None), ("c", None), ("const", default)], slots)
    row = ["  ", shared_text, "22"]
    convert(row)
    gc.collect()  # what earlier tests left is freed now, not inside the window measured
    before = (sys.getrefcount(shared_text), sys.getrefcount(default), sys.getrefcount(row))
    tracemalloc.start()
    try:
        for _ in range(3):
            for _ in range(20_000):
                convert(row)
            gc.collect()
            snapshot = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            convert(row)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - snapshot
    finally:
        tracemalloc.stop()
    assert (sys.getrefcount(shared_text), sys.getrefcount(default), sys.getrefcount(row)) == before
    assert grown < 10_000  # 20,000 deals made and dropped: nothing of them stays


def test_threads_convert_at_once():
    def slow(text):
        threading.Event().wait(0)  # lets another thread run in the middle of a conversion
        return int(text)

    names = [f"f{k}" for k in range(10)]
    slots = [(name, name, cells.CALL, None, slow, None, None) for name in names]
    convert = make([(name, None) for name in names], slots, by_key=True, fallback=None, catch=())
    failures = []

    def work(offset):
        for n in range(300):
            source = {name: str(offset + n + k) for k, name in enumerate(names)}
            if convert(source) != {name: offset + n + k for k, name in enumerate(names)}:
                failures.append(offset)

    threads = [threading.Thread(target=work, args=(offset * 10_000,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_the_switch_turns_the_loop_off(monkeypatch):
    monkeypatch.setenv("DEALGATE_PURE_PYTHON", "1")
    assert not cells.available()
    assert cells.converter([("a", None)], [], by_key=False) is None
    monkeypatch.setenv("DEALGATE_PURE_PYTHON", "0")
    assert cells.available()


# The JSON reader's plans (engine.read.json._plan_in_c) against its own loop in Python

JSON_KEYS = ["id", "Opportunity ID", "stage", "Amount", "close_date", "Budget Confirmed", "discount", "split",
             "contract_years", "name", " Owner ", "not_a_field"]  # fmt: skip
JSON_LEAVES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "x",
            " 006A ",
            "Qualification",
            "closed won",
            "$1,200.50",
            "(3)",
            "0.25",
            "TBD",
            "2026-06-16",
            "01/25/2027",
            "13/45/2026",
            "TRUE",
            "no",
            "a;b",
            "3",
            "1e3",
        ]
    ),  # fmt: skip
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
    st.lists(st.sampled_from(["a", "b", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["k"]), st.integers(), max_size=1),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(JSON_KEYS), JSON_LEAVES, max_size=8), min_size=1, max_size=12))
def test_json_records_read_alike_with_the_loop_in_c_and_in_python(records):
    analysis = read_pack([Path(__file__).resolve().parents[1] / "rules"]).analysis
    text = "\n".join(json.dumps(record, default=str) for record in records) + "\n"

    def read(pure: str):
        previous = os.environ.get("DEALGATE_PURE_PYTHON")
        os.environ["DEALGATE_PURE_PYTHON"] = pure
        try:
            reader = ExportReader(analysis, io.StringIO(text), fmt="jsonl")
            items = list(reader.records())
            in_c = [plan[2] is not None for plan in reader._plans.values()]
            assert in_c == [pure == "0"] * len(in_c)  # each plan read by the loop asked for
            return items, reader.counts, reader.warnings
        finally:
            if previous is None:
                del os.environ["DEALGATE_PURE_PYTHON"]
            else:
                os.environ["DEALGATE_PURE_PYTHON"] = previous

    in_c, in_python = read("0"), read("1")
    assert in_c == in_python
    for (_, a), (_, b) in zip(in_c[0], in_python[0]):
        if isinstance(a, dict):
            assert list(a) == list(b)  # the fields in the same order


EXPORTS = Path(__file__).resolve().parent / "data" / "exports"


@pytest.mark.parametrize(
    "export",
    [
        "salesforce.csv",
        "hubspot.csv",
        "multiline.csv",
        "deals.jsonl",
        "deals.json",
        "hubspot-api.json",
        "salesforce-api.json",
    ],  # fmt: skip
)
def test_the_cli_writes_the_same_bytes_with_the_loop_in_c_and_in_python(export, tmp_path):
    from click.testing import CliRunner

    from cli import main

    outputs = []
    for pure in ("0", "1"):
        out, rejects = tmp_path / f"out-{pure}.csv", tmp_path / f"rejects-{pure}.csv"
        result = CliRunner(env={"DEALGATE_PURE_PYTHON": pure}).invoke(
            main,
            [
                "score",
                str(EXPORTS / export),
                "--as-of",
                "2026-06-30",
                "--format",
                "csv",
                "-o",
                str(out),
                "--rejects",
                str(rejects),
                "--engine",
                "python",
            ],  # fmt: skip
        )
        outputs.append((result.exit_code, result.stderr, out.read_bytes(), rejects.read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][2].count(b"\n") > 1  # deals were read and written
