"""The generated row writers (engine.render.rows) write what the dict-based renderers wrote.

The reference here is the renderer as it was before the writers were generated: each deal made
into ``deal_record``'s dict, then each CSV cell through a generic cell function and csv.writer,
each JSON object through ``dumps``. Hypothesis makes deals with awkward text (delimiters, quotes,
line breaks, spreadsheet formula starts, non-ASCII), blank and negative amounts, probabilities
that are equal but print differently, and missing-field maps, on the default pack and on a pack
whose exit criteria can be unknown.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.output import csv_writer, safe_cell
from engine.pack import load_ruleset
from engine.render.deals import deal_record, dumps, json_foot, json_head, write_csv, write_json, write_jsonl
from engine.render.rows import QUOTED, compile_csv_line, compile_json_object
from engine.results import DealResult
from engine.score import ScoredDeal, Summary, missing_by_criterion

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 9, 30)
SETTINGS = settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])

# A pack whose criteria can be unknown (a null amount, a division by zero) and whose owner is a number.
NULLABLE_FIELDS = """kind: fields
fields:
  id: {type: string, required: true}
  name: {type: string}
  owner: {type: integer}
  stage: {type: stage, required: true}
  amount: {type: money}
  x: {type: decimal}
  flag: {type: bool}
  d: {type: date}
"""
NULLABLE_PIPELINE = """kind: pipeline
stages:
  - id: a
    probability: 0.10
    labels: [A]
    exit:
      - {id: big, when: amount > 100}
      - {id: ratio, when: 10 / x > 1}
      - {id: flagged, when: flag}
  - id: b
    probability: 0.1
    labels: [B]
    exit:
      - {id: dated, when: d != null}
  - {id: won, probability: 1.0, won: true, labels: [Won]}
  - {id: lost, probability: 0.0, lost: true, labels: [Lost]}
qualify_out:
  - {id: late, when: d < as_of, severity: warn}
  - {id: tiny, from: b, when: amount < 10}
"""


@pytest.fixture(scope="module")
def default_pack():
    return load_ruleset([ROOT / "rules"])[0]


@pytest.fixture(scope="module")
def nullable_pack(tmp_path_factory):
    pack = tmp_path_factory.mktemp("nullable")
    (pack / "fields.yaml").write_text(NULLABLE_FIELDS)
    (pack / "pipeline.yaml").write_text(NULLABLE_PIPELINE)
    return load_ruleset([pack])[0]


# --- the reference: the renderers as they were --------------------------------------------------


def reference_missing(ruleset, scored: ScoredDeal) -> dict:
    """missing_by_criterion before it trusted the type checker: every failed deal's rules re-run."""
    if not scored.result.failed:
        return {}
    if scored.missing is not None:
        return scored.missing
    return {o.id: list(o.missing) for o in ruleset.outcomes(scored.deal, scored.result, AS_OF) if o.status == "missing"}


def reference_cell(value) -> str:
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return ";".join(f"{k}:{','.join(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


def reference_csv(ruleset, deals) -> str:
    out = io.StringIO()
    writer = csv_writer(out)  # csv.writer, but that a cell with a CR is quoted (engine.output)
    writer.writerow(list(deal_record(ruleset, deals[0], AS_OF)) if deals else [])
    for scored in deals:
        writer.writerow([reference_cell(v) for v in deal_record(ruleset, scored, AS_OF).values()])
    return out.getvalue()


def reference_jsonl(ruleset, deals) -> str:
    return "".join(dumps(deal_record(ruleset, scored, AS_OF)) + "\n" for scored in deals)


# --- deals ----------------------------------------------------------------------------------------

awkward_text = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab ,;\"\n\r\t=+-@'é€\u2028x0.1")), max_size=8),
    st.sampled_from(["-1200.00", "+3", "=SUM(A1)", "@x", "", " ", "a,b", 'say "hi"', "line\nbreak", "-", "1e5"]),
    st.text(max_size=6),
)
amounts = st.one_of(
    st.none(),
    st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False),
    st.sampled_from([Decimal("0"), Decimal("-0.004"), Decimal("0.005"), Decimal("-0.005")]),
)
probabilities = st.sampled_from(
    [Decimal("0.1"), Decimal("0.10"), Decimal("0"), Decimal("-0"), Decimal("1.0"), Decimal("0.333"), None]
)


@st.composite
def scored_deals(draw, ruleset):
    """A deal scored by ``ruleset``, sometimes with an engine's missing map or an odd probability."""
    stages = [s.id for s in ruleset.pipeline.stages]
    fields = ruleset.fields.fields
    record = {}
    for name, field in fields.items():
        if field.compute is not None:
            continue
        kind = field.type
        if name == "stage":
            record[name] = draw(st.sampled_from(stages))
        elif kind == "string":
            record[name] = draw(st.one_of(st.none(), awkward_text)) if name != "id" else draw(awkward_text)
        elif kind in ("money", "decimal"):
            record[name] = draw(amounts)
        elif kind == "integer":
            record[name] = draw(st.one_of(st.none(), st.integers(-(10**6), 10**6)))
        elif kind == "bool":
            record[name] = draw(st.one_of(st.none(), st.booleans())) if field.default is None else draw(st.booleans())
        elif kind == "date":
            record[name] = draw(st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))))
        else:
            record[name] = None
    result = ruleset.score(record, AS_OF)
    if draw(st.integers(0, 4)) == 0:  # results not from this pack's scoring: any probability
        result = result._replace(probability=draw(probabilities))
    known = None
    if draw(st.integers(0, 5)) == 0:  # as the SQL engines hand it over
        known = draw(
            st.dictionaries(
                st.sampled_from(["big", "ratio", "x_y"]),
                st.lists(st.sampled_from(["amount", "x", "d"]), max_size=2),
                max_size=2,
            )
        )
    source = draw(st.one_of(st.none(), st.sampled_from(["deals.csv", "=evil.csv", "a,b.csv", "<stdin>"])))
    return ScoredDeal(draw(st.integers(1, 10**7)), record, result, source, known)


def _check_writers(ruleset, deals) -> None:
    summary = Summary(ruleset, AS_OF)
    for scored in deals:
        summary.add(scored.result)
    out = io.StringIO()
    write_csv(out, ruleset, iter(deals), summary)
    assert out.getvalue().splitlines(keepends=True)[1:] == reference_csv(ruleset, deals).splitlines(keepends=True)[1:]
    out = io.StringIO()
    write_jsonl(out, ruleset, iter(deals), summary)
    assert out.getvalue() == reference_jsonl(ruleset, deals)
    out = io.StringIO()
    write_json(out, ruleset, iter(deals), summary)
    objects = [dumps(deal_record(ruleset, scored, AS_OF)) for scored in deals]
    body = "".join(("\n  " if i == 0 else ",\n  ") + text for i, text in enumerate(objects))
    assert out.getvalue() == json_head(summary) + body + json_foot(summary)


@SETTINGS
@given(st.data())
def test_default_pack_writers_match_the_dict_renderers(default_pack, data):
    deals = data.draw(st.lists(scored_deals(default_pack), max_size=6))
    _check_writers(default_pack, deals)


@SETTINGS
@given(st.data())
def test_nullable_pack_writers_match_the_dict_renderers(nullable_pack, data):
    deals = data.draw(st.lists(scored_deals(nullable_pack), max_size=6))
    _check_writers(nullable_pack, deals)


@SETTINGS
@given(st.data())
def test_missing_fields_need_no_rerun_only_where_no_criterion_can_be_unknown(nullable_pack, default_pack, data):
    for ruleset in (nullable_pack, default_pack):
        scored = data.draw(scored_deals(ruleset))
        assert missing_by_criterion(ruleset, scored, AS_OF) == reference_missing(ruleset, scored)


def test_which_criteria_can_be_unknown(default_pack, nullable_pack):
    assert default_pack.nullable_criteria == frozenset()
    assert nullable_pack.nullable_criteria == {"big", "ratio", "flagged"}  # null amount; null x or x = 0; null flag


def test_the_writers_header_is_the_csv_columns(default_pack):
    summary = Summary(default_pack, AS_OF)
    out = io.StringIO()
    write_csv(out, default_pack, iter([]), summary)
    deal = ScoredDeal(
        1,
        {"id": "x", "stage": "discovery"},
        DealResult("x", "discovery", "ready", (), (), (), Decimal("0.1"), None, None, None),
    )
    assert out.getvalue() == reference_csv(default_pack, [deal]).splitlines(keepends=True)[0]


def test_quoted_characters_are_what_dealgates_csv_writer_quotes():
    assert '"' in QUOTED and "\n" in QUOTED and "\r" in QUOTED and "," not in QUOTED


def test_generated_source_is_kept_and_readable(default_pack):
    _, csv_source = compile_csv_line(default_pack, AS_OF)
    _, json_source = compile_json_object(default_pack, AS_OF)
    assert csv_source.startswith("def csv_line(scored") and "deal_record" not in csv_source
    assert json_source.startswith("def json_object(scored") and '\'"amount": ' not in json_source
