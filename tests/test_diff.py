"""engine.diff: the two packs read in step (nothing held per deal) compare exactly as outcomes held whole do."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from engine import diff as diff_module
from engine.diff import compare_packs
from engine.pack import load_ruleset

AS_OF = dt.date(2026, 9, 30)
LINES = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()
HEADER, ROWS = LINES[0], LINES[1:]
# rows whose amount is blanked: the stricter pack rejects them, the base scores them
NO_AMOUNT = {re.sub(r'"\$[0-9,.]+"', "", row, count=1) for row in ROWS if re.search(r'"\$[0-9,.]+"', row)}


def stricter(tmp_path):
    """The default pack with a stricter qualify-out rule, and an amount it requires: it rejects what the base
    scores (deals without an amount), so the two packs' records differ by line."""
    pack = tmp_path / "new"
    shutil.copytree(ROOT / "rules", pack)
    shutil.rmtree(pack / "tests")  # its cases have deals without an amount
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text(encoding="utf-8").replace("days_in_stage > 90", "days_in_stage > 45"))
    fields = pack / "fields.yaml"
    text = fields.read_text(encoding="utf-8")
    fields.write_text(text.replace("  amount:\n    type: money\n", "  amount:\n    type: money\n    required: true\n"))
    ruleset, _ = load_ruleset([pack])
    return ruleset


rows = st.lists(
    st.one_of(
        st.sampled_from(ROWS),
        st.sampled_from(ROWS).map(lambda row: row.replace("$", "$x", 1)),  # rejected by both
        st.sampled_from(sorted(NO_AMOUNT)),
        st.sampled_from(["", ",,,"]),
    ),
    min_size=0,
    max_size=40,
)


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    base, _ = load_ruleset([ROOT / "rules"])
    return base, stricter(tmp_path_factory.mktemp("packs"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows)
def test_reading_in_step_reports_what_holding_every_outcome_reports(tmp_path_factory, monkeypatch, packs, lines):
    export = tmp_path_factory.mktemp("diff") / "deals.csv"
    export.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    base, new = packs

    def compared():
        return compare_packs(base, new, [str(export)], AS_OF, base_name="base", new_name="new")

    streamed = compared()
    with monkeypatch.context() as patch:
        patch.setattr(diff_module, "_in_order", lambda sources: False)
        held = compared()
    assert streamed == held


def test_a_deal_only_the_new_pack_rejects_is_a_change(tmp_path, packs):
    export = tmp_path / "deals.csv"
    blanked = re.sub(r'"\$[0-9,.]+"', "", ROWS[0], count=1)  # the first deal, its amount blank
    export.write_text("\n".join([HEADER, ROWS[0], blanked]) + "\n", encoding="utf-8")
    for engine in ("python", "duckdb"):
        result = compare_packs(*packs, [str(export)], AS_OF, base_name="b", new_name="n", engine=engine)
        assert result.engines == ((engine, None), (engine, None))
        [change] = [c for c in result.changes if c.line == 3]
        assert change.changes["verdict"][1].startswith("rejected (missing required field 'amount'")


def test_only_exports_named_in_order_are_read_in_step():
    assert diff_module._in_order(["a.csv", "b.csv"]) and diff_module._in_order(["only.csv"])
    assert not diff_module._in_order(["z.csv", "a.csv"])  # the comparison lists a's deals first
    assert not diff_module._in_order(["a.csv", "a.csv"])  # one name, two exports: one key for two records


def test_joined_pairs_what_each_side_has():
    before = iter([(1, "x"), (2, "y"), (4, "z")])
    after = iter([(2, "Y"), (3, "w"), (4, "z")])
    assert list(diff_module._joined(before, after)) == [
        (1, "x", None),
        (2, "y", "Y"),
        (3, None, "w"),
        (4, "z", "z"),
    ]
