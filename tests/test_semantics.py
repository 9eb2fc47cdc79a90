"""Stage 4, semantics: references, ids, probabilities, labels, expression types, usage, tests documents."""

from pathlib import Path

import pytest

from engine.pack import read_pack

ROOT = Path(__file__).resolve().parent.parent

FIELDS = """\
kind: fields
fields:
  id: {type: string, required: true}
  stage: {type: stage, required: true}
  amount: {type: money}
  budget_confirmed: {type: bool, default: false}
  stage_entered: {type: date}
  days_in_stage: {type: integer, compute: days_since(stage_entered)}
"""

PIPELINE = """\
kind: pipeline
stages:
  - id: discovery
    probability: 0.1
    labels: [Qualification]
    exit:
      - {id: budget, when: budget_confirmed}
  - id: meeting
    probability: 0.3
    exit:
      - {id: sized, when: amount > 0}
  - id: won
    probability: 1.0
    won: true
  - id: lost
    probability: 0
    lost: true
qualify_out:
  - {id: stalled, when: days_in_stage > 90}
  - {id: no_funds, from: meeting, when: not budget_confirmed}
"""


def pack(tmp_path, **documents):
    """Write a pack (fields and pipeline unless replaced; None leaves one out) and read it."""
    documents = {"fields": FIELDS, "pipeline": PIPELINE, **documents}
    for name, text in documents.items():
        if text is not None:
            (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return read_pack([tmp_path])


def found(result):
    """(code, file name, line, column) of every diagnostic."""
    return sorted((d.code, Path(d.file).name, d.line, d.column) for d in result.diagnostics)


def only(result, code):
    matching = [d for d in result.diagnostics if d.code == code]
    assert len(matching) == 1, result.diagnostics
    return matching[0]


def points_at(diagnostic, line, text):
    """The diagnostic is on ``line`` and its column is where ``text`` starts in the file."""
    source = Path(diagnostic.file).read_text(encoding="utf-8").splitlines()
    assert diagnostic.line == line, diagnostic
    assert source[line - 1][diagnostic.column - 1 :].startswith(text), (source[line - 1], diagnostic.column)
    return True


def test_a_clean_pack_has_no_diagnostics(tmp_path):
    result = pack(tmp_path)
    assert result.diagnostics == []
    assert result.ok


def test_default_pack_is_clean():
    result = read_pack([ROOT / "rules"])
    assert result.diagnostics == []


def test_missing_documents(tmp_path):
    result = pack(tmp_path, pipeline=None)
    assert [d.code for d in result.diagnostics] == ["DG301"]  # and no "unused field" noise
    assert "pipeline" in result.diagnostics[0].message


def test_a_broken_document_is_not_reported_missing_and_does_not_make_fields_unused(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("probability: 0.3", 'probability: "high"'))
    assert points_at(only(result, "DG103"), 9, '"high"')
    assert len(result.diagnostics) == 1


# expressions inside the pack


def test_expression_errors_point_inside_the_yaml_line(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("when: amount > 0", "when: ammount > 0"))
    d = only(result, "DG203")
    assert points_at(d, 11, "ammount > 0}")
    assert d.hint == "did you mean 'amount'?"


def test_a_failed_expression_does_not_make_its_fields_unused(tmp_path):
    text = PIPELINE.replace("when: amount > 0", 'when: amount > "10k"')
    result = pack(tmp_path, pipeline=text)
    assert points_at(only(result, "DG205"), 11, '"10k"}')
    assert len(result.diagnostics) == 1


def test_non_boolean_condition(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("when: amount > 0", "when: amount"))
    assert points_at(only(result, "DG206"), 11, "amount}")
    assert len(result.diagnostics) == 1


def test_computed_field_expressions_are_checked(tmp_path):
    result = pack(tmp_path, fields=FIELDS.replace("days_since(stage_entered)", "days_since(stage_entred)"))
    assert points_at(only(result, "DG203"), 8, "stage_entred)")
    # The misspelt reference was meant for stage_entered: one mistake, so no "unused" warning beside it.
    assert not [d for d in result.diagnostics if d.code == "DG310"]


def test_bad_default(tmp_path):
    result = pack(tmp_path, fields=FIELDS.replace("default: false", "default: maybe"))
    assert points_at(only(result, "DG205"), 6, "maybe}")
    assert len(result.diagnostics) == 1


# pipeline


@pytest.mark.parametrize("value,hint", [("30", "fractions"), ("-0.1", None), ("1.01", "fractions")])
def test_probability_outside_0_1(tmp_path, value, hint):
    result = pack(tmp_path, pipeline=PIPELINE.replace("probability: 0.3", f"probability: {value}"))
    d = only(result, "DG304")
    assert points_at(d, 9, value)
    assert (hint in d.hint) if hint else d.hint is None


def test_falling_probability_is_a_warning_at_the_later_stage(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("probability: 0.3", "probability: 0.05"))
    d = only(result, "DG305")
    assert d.severity == "warning" and points_at(d, 9, "0.05")
    assert "'discovery' (0.1) to 'meeting' (0.05)" in d.message
    assert result.ok  # a warning does not make the pack unusable


def test_closed_stages_are_not_in_the_probability_order(tmp_path):
    assert pack(tmp_path).diagnostics == []  # lost (0) comes after won (1.0)


def test_duplicate_ids_point_at_the_second_id(tmp_path):
    text = PIPELINE.replace("{id: sized,", "{id: budget,").replace("- id: won", "- id: discovery")
    result = pack(tmp_path, pipeline=text)
    rule, stage = sorted(result.diagnostics, key=lambda d: d.line)
    assert rule.code == stage.code == "DG303"
    assert points_at(rule, 11, "budget, when: amount")
    assert points_at(stage, 12, "discovery")
    assert rule.hint.startswith("first declared at line 7")
    assert stage.hint == "first declared at line 3"


def test_qualify_out_id_may_not_repeat_a_criterion_id(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("{id: stalled,", "{id: budget,"))
    assert points_at(only(result, "DG303"), 19, "budget, when: days")
    assert len(result.diagnostics) == 1


def test_unknown_from_stage(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("from: meeting", "from: meting"))
    d = only(result, "DG307")
    assert points_at(d, 20, "meting,")
    assert d.hint == "did you mean 'meeting'?"


def test_unknown_stage_literal(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("when: amount > 0", 'when: stage >= "meting"'))
    d = only(result, "DG207")
    assert points_at(d, 11, '"meting"}')


def test_won_and_lost(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("won: true", "won: true\n    lost: true"))
    d = only(result, "DG308")
    assert points_at(d, 15, "true")
    assert "lost: true" in Path(d.file).read_text().splitlines()[14]


def test_no_won_stage_is_a_warning(tmp_path):
    result = pack(tmp_path, pipeline=PIPELINE.replace("won: true", "won: false"))
    assert only(result, "DG308").severity == "warning"


def test_closed_stage_with_exit_criteria(tmp_path):
    text = PIPELINE.replace("    won: true\n", "    won: true\n    exit: [{id: paid, when: budget_confirmed}]\n")
    d = only(pack(tmp_path, pipeline=text), "DG312")
    assert d.severity == "warning" and points_at(d, 15, "exit:")


# stage labels


def test_label_mapped_twice(tmp_path):
    result = pack(
        tmp_path, pipeline=PIPELINE.replace("probability: 0.3", "probability: 0.3\n    labels: [qualification]")
    )
    d = only(result, "DG306")
    assert points_at(d, 10, "qualification]")
    assert "'discovery'" in d.message and "'meeting'" in d.message


def test_label_in_fields_document_mapped_twice_and_to_an_unknown_stage(tmp_path):
    fields = FIELDS + "stage_labels: {Qualification: meeting, Demo: meting, Won: won}\n"
    result = pack(tmp_path, fields=fields)
    assert points_at(only(result, "DG306"), 9, "Qualification: meeting")  # the label, mapped a second time
    assert points_at(only(result, "DG307"), 9, "meting,")  # the stage it maps to
    assert only(result, "DG307").hint == "did you mean 'meeting'?"
    assert len(result.diagnostics) == 2


def test_label_that_is_another_stage_id(tmp_path):
    result = pack(tmp_path, fields=FIELDS + "stage_labels: {Meeting: won}\n")
    assert points_at(only(result, "DG306"), 9, "Meeting")
    assert len(result.diagnostics) == 1


# fields


def test_unused_field_is_a_warning(tmp_path):
    result = pack(tmp_path, fields=FIELDS + "  champion: {type: string}\n")
    d = only(result, "DG310")
    assert d.severity == "warning" and points_at(d, 9, "champion:")


def test_unused_field_hint_offers_check_only(tmp_path):
    result = pack(tmp_path, fields=FIELDS + "  champion: {type: string}\n")
    assert "check_only: true" in only(result, "DG310").hint


def test_a_check_only_field_is_not_unused(tmp_path):
    """A column kept so that bad values are rejected (a close date that must be a date) is not noise."""
    result = pack(tmp_path, fields=FIELDS + "  signed_on: {type: date, check_only: true}\n")
    assert result.diagnostics == []


def test_fields_the_engine_reads_are_never_unused(tmp_path):
    result = pack(tmp_path, fields=FIELDS + "  owner: {type: string}\n  name: {type: string}\n")
    assert result.diagnostics == []


@pytest.mark.parametrize("name", ["as_of", "null", "true", "false", "__dunder"])
def test_reserved_field_names(tmp_path, name):
    result = pack(tmp_path, fields=FIELDS + f"  {name}: {{type: string}}\n")
    d = only(result, "DG314")
    assert points_at(d, 9, f"{name}:")


def test_no_stage_field(tmp_path):
    result = pack(tmp_path, fields=FIELDS.replace("{type: stage, required: true}", "{type: string}"))
    assert only(result, "DG309").severity == "error"


# plans: references (the plan checks themselves are another module's concern)


PLAN = """\
kind: plan
id: ae
period: quarter
quota: 1000
credit: {when: stage == "won", amount: amount, date: stage_entered, to: id}
commission:
  rate: 0.1
"""


def test_plan_referencing_an_undeclared_field(tmp_path):
    result = pack(tmp_path, plan=PLAN.replace("to: id", "to: ownr").replace("amount: amount", "amount: amout"))
    amount, rep = sorted(result.diagnostics, key=lambda d: d.column)
    assert amount.code == rep.code == "DG203"
    assert points_at(amount, 5, "amout,") and amount.hint == "did you mean 'amount'?"
    assert points_at(rep, 5, "ownr}") and "credited rep" in rep.message


def test_duplicate_plan_ids(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "b.yaml").write_text(PLAN)
    result = pack(tmp_path, plan=PLAN)
    assert [d.code for d in result.diagnostics] == ["DG303"]


# tests documents


TESTS = """\
kind: tests
as_of: 2026-06-30
cases:
  - name: blocked at discovery
    deal: {id: T1, stage: discovery, budget_confirmed: false}
    expect: {verdict: blocked, failed: [budget], evidence_stage: null}
  - name: stalled meeting
    deal: {id: T2, stage: Qualification, amount: 10, stage_entered: 2026-01-01}
    expect: {verdict: disqualified, qualify_out: [stalled], probability: 0.1}
"""


def test_valid_tests_document(tmp_path):
    assert pack(tmp_path, tests=TESTS).diagnostics == []


def test_test_deal_with_an_undeclared_field(tmp_path):
    result = pack(tmp_path, tests=TESTS.replace("budget_confirmed: false", "budget_confimed: false"))
    d = only(result, "DG315")
    assert points_at(d, 5, "budget_confimed:")
    assert d.hint == "did you mean 'budget_confirmed'?"


def test_test_deal_setting_a_computed_field(tmp_path):
    result = pack(tmp_path, tests=TESTS.replace("amount: 10,", "days_in_stage: 100,"))
    d = only(result, "DG316")
    assert points_at(d, 8, "days_in_stage: 100")
    assert d.hint == "set what it is computed from: stage_entered"


@pytest.mark.parametrize(
    "old,new,fragment",
    [
        ("amount: 10", "amount: lots", "not an amount"),
        ("stage: Qualification", "stage: Qualifcation", "unknown stage"),
        ("stage_entered: 2026-01-01", "stage_entered: 2026-02-30", "'2026-02-30'"),
    ],
)
def test_test_deal_values_are_read_like_export_cells(tmp_path, old, new, fragment):
    d = only(pack(tmp_path, tests=TESTS.replace(old, new)), "DG317")
    assert points_at(d, 8, new.split(": ")[1])
    assert fragment in d.message


def test_test_deal_without_a_required_field(tmp_path):
    d = only(pack(tmp_path, tests=TESTS.replace("stage: discovery, ", "")), "DG317")
    assert points_at(d, 5, "{id: T1")
    assert "'stage'" in d.message


@pytest.mark.parametrize(
    "old,new,line,token,hint",
    [
        ("failed: [budget]", "failed: [budgt]", 6, "budgt]", "did you mean 'budget'?"),
        ("qualify_out: [stalled]", "qualify_out: [staled]", 9, "staled]", "did you mean 'stalled'?"),
        ("evidence_stage: null", "evidence_stage: discovry", 6, "discovry}", "did you mean 'discovery'?"),
    ],
)
def test_expectations_name_existing_criteria_rules_and_stages(tmp_path, old, new, line, token, hint):
    d = only(pack(tmp_path, tests=TESTS.replace(old, new)), "DG318")
    assert points_at(d, line, token) and d.hint == hint


@pytest.mark.parametrize(
    "old,new,line,token,fragment",
    [
        ("failed: [budget]", "failed: [sized]", 6, "sized]", "belongs to stage 'meeting'"),
        ("qualify_out: [stalled]", "qualify_out: [no_funds]", 9, "no_funds]", "cannot fire"),
        ("evidence_stage: null", "evidence_stage: won", 6, "won}", "closed"),
        ("verdict: blocked", "verdict: won", 6, "won,", "open stage"),
        ("probability: 0.1", "probability: 0.3", 9, "0.3}", "probability 0.1"),
        ("stage: discovery", "stage: won", 6, "blocked,", "verdict is 'won'"),
    ],
)
def test_expectations_that_can_never_hold(tmp_path, old, new, line, token, fragment):
    result = pack(tmp_path, tests=TESTS.replace(old, new))
    first = sorted((d for d in result.diagnostics if d.code == "DG319"), key=lambda d: (d.line, d.column))[0]
    assert points_at(first, line, token)
    assert fragment in first.message


def test_bad_as_of(tmp_path):
    result = pack(tmp_path, tests=TESTS.replace("as_of: 2026-06-30", "as_of: 30/06/2026"))
    assert points_at(only(result, "DG320"), 2, "30/06/2026")
    assert len(result.diagnostics) == 1


def test_every_problem_of_a_pack_is_reported_in_one_run(tmp_path):
    result = pack(
        tmp_path,
        fields=FIELDS + "  champion: {type: string}\n",
        pipeline=PIPELINE.replace("from: meeting", "from: meting").replace("amount > 0", "ammount > 0"),
        tests=TESTS.replace("failed: [budget]", "failed: [budgt]"),
    )
    assert sorted(d.code for d in result.diagnostics) == ["DG203", "DG307", "DG310", "DG318"]
