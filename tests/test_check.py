"""Stage 2, check: schema problems in plain English, at the offending node."""

from pathlib import Path

import pytest

from engine.check import check_document, check_documents
from engine.load import load_paths, load_text

FIELDS = """\
kind: fields
fields:
  id: {type: string, required: true}
  stage: {type: stage}
"""

PIPELINE = """\
kind: pipeline
stages:
  - id: discovery
    probability: 0.1
    exit:
      - {id: budget, when: budget_confirmed}
qualify_out:
  - {id: stalled, when: days_in_stage > 90}
"""

PLAN = """\
kind: plan
id: ae
period: quarter
credit: {when: stage == "won", amount: amount, date: close_date, to: owner}
commission:
  rate: 0.1
"""

TESTS = """\
kind: tests
cases:
  - name: a deal
    deal: {id: T1, stage: discovery}
    expect: {verdict: blocked}
"""


def check(text):
    result = load_text(text, "x.yaml")
    assert result.diagnostics == []
    (document,) = result.documents
    return check_document(document)


def found(text):
    return sorted((d.code, d.line, d.column) for d in check(text))


@pytest.mark.parametrize("text", [FIELDS, PIPELINE, PLAN, TESTS])
def test_valid_documents_pass(text):
    assert check(text) == []


def test_default_pack_passes():
    loaded = load_paths([Path(__file__).resolve().parent.parent / "rules"])
    assert check_documents(loaded.documents) == []


# unknown keys, one per document kind, pointing at the key with a did-you-mean


@pytest.mark.parametrize(
    "text,line,column,key,suggestion",
    [
        (FIELDS.replace("required: true", "requried: true"), 3, 22, "requried", "required"),
        (FIELDS + "stage_label: {}\n", 5, 1, "stage_label", "stage_labels"),
        (PIPELINE.replace("probability: 0.1", "probabilty: 0.1"), 4, 5, "probabilty", "probability"),
        (PIPELINE.replace("{id: stalled, when", "{id: stalled, wen: x, when"), 8, 19, "wen", "when"),
        (PLAN.replace("period: quarter", "period: quarter\nquotas: 5"), 4, 1, "quotas", "quota"),
        (PLAN.replace("rate: 0.1", "rate: 0.1\n  methd: marginal"), 7, 3, "methd", "method"),
        (TESTS.replace("expect: {verdict: blocked}", "expect: {verdic: blocked}"), 5, 14, "verdic", "verdict"),
        (TESTS.replace("  - name: a deal", "  - nme: x\n    name: a deal"), 3, 5, "nme", "name"),
    ],
)
def test_unknown_key_did_you_mean(text, line, column, key, suggestion):
    problems = [d for d in check(text) if d.code == "DG101"]
    assert [(d.line, d.column) for d in problems] == [(line, column)]
    assert f"unknown key '{key}'" in problems[0].message
    assert problems[0].hint == f"did you mean '{suggestion}'?"
    assert text.splitlines()[line - 1][column - 1 :].startswith(key)


def test_unknown_key_without_a_close_match_lists_the_allowed_keys():
    (problem,) = check(PIPELINE + "zzz: 1\n")
    assert problem.hint == "allowed keys: categories, description, kind, qualify_out, stages"
    assert "in the document" in problem.message


def test_wrong_type_quoted_number():
    (problem,) = check(PIPELINE.replace("probability: 0.1", 'probability: "high"'))
    assert (problem.code, problem.line, problem.column) == ("DG103", 4, 18)
    assert problem.message == "stages[0].probability must be a number, not 'high'"
    assert "without quotes" in problem.hint


def test_wrong_type_lists_the_alternatives():
    (problem,) = check(FIELDS.replace("{type: stage}", "{type: stage, default: {a: 1}}"))
    assert problem.message == ("fields.stage.default must be a string, a number, true/false or a list, not a mapping")


def test_wrong_type_boolean():
    (problem,) = check(FIELDS.replace("required: true", 'required: "yes"'))
    assert problem.message == "fields.id.required must be true/false, not 'yes'"


def test_empty_value_points_at_its_key():
    assert found("kind: fields\nfields:\n  id:\n  stage: {type: stage}\n") == [("DG103", 3, 3)]


def test_missing_required_key_points_at_the_mapping():
    problems = check(PIPELINE.replace("    probability: 0.1\n", ""))
    assert [(d.code, d.line, d.column) for d in problems] == [("DG102", 3, 5)]
    assert problems[0].message == "stages[0] is missing the required key 'probability'"


def test_missing_required_top_level_key():
    problems = check("kind: pipeline\n")
    assert [(d.code, d.message) for d in problems] == [("DG102", "the document is missing the required key 'stages'")]


def test_enum_with_did_you_mean():
    (problem,) = check(FIELDS.replace("{type: stage}", "{type: stag}"))
    assert (problem.code, problem.line, problem.column) == ("DG104", 4, 17)
    assert problem.hint == "did you mean 'stage'?"
    assert "expected one of: string, integer" in problem.message


def test_bad_identifier():
    (problem,) = check(PIPELINE.replace("id: discovery", "id: Discovery"))
    assert (problem.code, problem.line, problem.column) == ("DG105", 3, 9)
    assert "lower_snake_case" in problem.hint


@pytest.mark.parametrize("name,line", [("Id", 3), ("Stage", 4)])
def test_bad_field_name_points_at_that_key(name, line):
    text = FIELDS.replace(f"  {name.lower()}:", f"  {name}:")
    (problem,) = check(text)
    assert (problem.code, problem.line, problem.column) == ("DG105", line, 3)
    assert problem.message == f"'{name}' is not a valid name in fields"


def test_other_patterns_are_not_called_identifiers():
    (problem,) = check(PLAN.replace("period: quarter", "period: quarter\ncurrency: usd"))
    assert problem.code == "DG105"
    assert "identifier" not in problem.message and "snake" not in (problem.hint or "")
    assert "ISO 4217" in problem.hint


def test_one_of_both():
    (problem,) = check(PLAN.replace("rate: 0.1", "rate: 0.1\n  tiers: [{rate: 0.1}]"))
    assert problem.code == "DG106"
    assert problem.message == "commission has both 'rate' and 'tiers'; give only one"


def test_one_of_neither():
    (problem,) = check(PLAN.replace("rate: 0.1", "method: marginal"))
    assert problem.message == "commission needs 'rate' or 'tiers'"


def test_one_of_with_a_group_of_keys():
    text = TESTS.replace("deal: {id: T1, stage: discovery}", "deals: []")
    (problem,) = check(text)
    assert problem.code == "DG106"
    assert problem.message == "cases[0] has 'deals' but is missing 'period'"
    neither = TESTS.replace("    deal: {id: T1, stage: discovery}\n", "")
    (problem,) = check(neither)
    assert problem.message == "cases[0] needs 'deal' or 'deals' with 'period'"


@pytest.mark.parametrize(
    "text,message",
    [
        (PLAN.replace("period: quarter", "period: quarter\nquota: 0"), "quota must be more than 0, not 0"),
        (
            PLAN.replace("period: quarter", "period: quarter\nfiscal_year_start: 13"),
            "fiscal_year_start must be at most 12, not 13",
        ),
        (
            PIPELINE.replace(
                "stages:\n  - id: discovery\n    probability: 0.1\n    exit:\n      - {id: budget, when: "
                "budget_confirmed}\n",
                "stages: []\n",
            ),
            "stages must not be empty",
        ),
        (PIPELINE.replace("when: budget_confirmed", 'when: ""'), "stages[0].exit[0].when must not be an empty string"),
    ],
)
def test_ranges_and_emptiness(text, message):
    problems = check(text)
    assert [(d.code, d.message) for d in problems] == [("DG107", message)]


def test_every_problem_of_a_document_is_reported():
    text = PIPELINE.replace("probability: 0.1", 'probability: "x"\n    colour: red').replace("id: stalled", "id: 9")
    assert [d.code for d in sorted(check(text), key=lambda d: d.line)] == ["DG103", "DG101", "DG103"]
