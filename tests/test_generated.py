"""Generated code points back to the YAML: linecache, the line map, `dealgate compile`, internal errors."""

import datetime as dt
import linecache
import traceback
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli import main
from engine import expr as E
from engine import generated
from engine.pack import load_ruleset

AS_OF = dt.date(2026, 6, 30)

FIELDS = """\
kind: fields
fields:
  id: {type: string, required: true}
  stage: {type: stage, required: true}
  amount: {type: money}
  region: {type: string}
  loud_region: {type: string, compute: upper(region)}
"""

PIPELINE = """\
kind: pipeline
stages:
  - id: open
    probability: 0.5
    exit:
      - {id: sized, when: amount >= 1000}
      - {id: placed, when: loud_region == "EMEA"}
  - id: won
    probability: 1
    won: true
qualify_out:
  - {id: tiny, when: amount < 10}
"""


@pytest.fixture
def pack(tmp_path):
    (tmp_path / "fields.yaml").write_text(FIELDS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    return tmp_path


@pytest.fixture
def small(pack):
    compiled, _ = load_ruleset([pack])
    return compiled


def raised_by(small, record) -> BaseException:
    with pytest.raises(Exception) as caught:
        small.score(record, AS_OF)
    return caught.value


def test_an_error_inside_the_generated_scorer_shows_the_line_and_names_the_rule(small, pack):
    # Scoring trusts its input: text where the reader would have put a Decimal fails inside the rule.
    error = raised_by(small, {"id": "T", "stage": "open", "amount": "lots", "region": None})
    text = "".join(traceback.format_exception(error))
    assert f'File "{small.filename}"' in text
    assert "r0 = " in text and "pipeline.yaml:6 stage open, criterion sized" in text  # the source line itself
    origin = generated.origin_of(error.__traceback__)
    assert origin.what == "stage open, criterion sized"
    assert (origin.location.file, origin.location.line) == (str(pack / "pipeline.yaml"), 6)


def test_an_error_in_a_computed_field_names_the_field(small, pack, monkeypatch):
    def broken(_):
        raise TypeError("upper broke")

    monkeypatch.setitem(E.RUNTIME, "fn_upper", broken)
    compiled, _ = load_ruleset([pack])
    error = raised_by(compiled, {"id": "T", "stage": "open", "amount": Decimal(5), "region": "emea"})
    origin = generated.origin_of(error.__traceback__)
    assert (origin.what, origin.location.file, origin.location.line) == (
        "computed field loud_region",
        str(pack / "fields.yaml"),
        7,
    )
    error = raised_by(small, {"id": "T", "stage": "open", "amount": None, "region": 5})
    assert generated.origin_of(error.__traceback__).what == "computed field loud_region"


def test_every_rule_line_of_the_source_carries_its_origin(small):
    lines = small.source.splitlines()
    for number, origin in small.origins.items():
        assert lines[number - 1].endswith(f"# {origin.comment}")
    described = {o.what for o in small.origins.values()}
    assert described == {
        "stage open, criterion sized",
        "stage open, criterion placed",
        "qualify-out rule tiny",
        "computed field loud_region",
    }


def test_the_source_lists_its_constants_and_is_in_linecache(small):
    assert "#   K1 = {'open': Decimal('0.5'), 'won': Decimal('1')}\n" in small.source  # the probabilities
    assert "".join(linecache.getlines(small.filename)) == small.source


def test_a_newline_in_a_name_cannot_end_the_comment():
    assert generated.one_line("pipeline.yaml:3 stage x\nimport os") == "pipeline.yaml:3 stage x?import os"


def test_registrations_are_bounded(monkeypatch):
    monkeypatch.setattr(generated, "KEPT", 2)
    names = [generated.load(f"x = {i}\n", {}, "test") for i in range(4)]
    assert [linecache.getlines(n) != [] for n in names] == [False, False, True, True]


# the CLI


def test_compile_prints_the_module_that_runs(pack):
    result = CliRunner().invoke(main, ["compile", "--rules", str(pack)])
    assert result.exit_code == 0, result.output
    compiled, _ = load_ruleset([pack])
    assert result.output == compiled.source
    assert "def score(d, as_of" in result.output and "qualify-out rule tiny" in result.output


def test_compile_credits_without_plans_is_a_usage_error(pack):
    result = CliRunner().invoke(main, ["compile", "--rules", str(pack), "--credits"])
    assert result.exit_code == 2
    assert "has no plans" in result.output


def test_compile_credits_prints_the_crediting_module():
    result = CliRunner().invoke(main, ["compile", "--credits"])
    assert result.exit_code == 0, result.output
    assert "def credit_0(d, as_of):  # plan ae-2026" in result.output
    assert "Constants (bound as globals)" in result.output


def test_an_internal_error_while_scoring_names_the_rule(pack, tmp_path, monkeypatch):
    def broken(_):
        raise RuntimeError("a bug in upper")

    monkeypatch.setitem(E.RUNTIME, "fn_upper", broken)
    export = tmp_path / "deals.csv"
    export.write_text("id,stage,amount,region\nD1,open,5000,emea\n")
    result = CliRunner().invoke(main, ["score", str(export), "--rules", str(pack), "--engine", "python"])
    assert result.exit_code == 3, result.output
    assert f"{pack / 'fields.yaml'}:7:" in result.output
    assert "while evaluating computed field loud_region" in result.output
    assert "internal error: RuntimeError: a bug in upper" in result.output
