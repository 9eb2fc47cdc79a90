"""Edge cases from a newcomer's bad-input probe: each once crashed, lost money or misled."""

import json

from click.testing import CliRunner

from cli import main
from conftest import ROOT

EXPORT = ROOT / "examples" / "deals.csv"
REPS = ROOT / "examples" / "reps.csv"
AS_OF = ["--as-of", "2026-09-30"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_output_into_a_missing_directory_is_a_usage_error_before_any_work(tmp_path):
    for args in (
        ["score", EXPORT, "-o", tmp_path / "no" / "x.json"],
        ["score", EXPORT, "--rejects", tmp_path / "no" / "r.csv"],
        ["payout", EXPORT, "--reps", REPS, "--period", "2026-Q3", "-o", tmp_path / "no" / "p.json"],
        ["test", ROOT / "rules", "--junit", tmp_path / "no" / "j.xml"],
        ["diff", ROOT / "rules", ROOT / "rules", "--deals", EXPORT, "-o", tmp_path / "no" / "d.md"],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "does not exist" in result.output and "Traceback" not in result.output


def test_deeply_nested_json_is_a_reject_in_jsonl_and_an_error_in_a_json_array(tmp_path):
    deep = "[" * 5000 + "]" * 5000
    good = json.dumps({"Id": "A", "Stage": "Closed Won", "Amount": 5})
    jsonl = tmp_path / "deep.jsonl"
    jsonl.write_text(f'{good}\n{{"Id": "B", "Notes": {deep}}}\n{good.replace("A", "C")}\n')
    result = run("score", jsonl, "--format", "jsonl", *AS_OF)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert "nested too deeply" in result.stderr and result.stderr.strip().endswith("read 3, scored 2, rejected 1")
    array = tmp_path / "deep.json"
    array.write_text(f'[{good}, {{"Id": "B", "Notes": {deep}}}]')
    result = run("score", array, "--format", "jsonl", *AS_OF)
    assert result.exit_code == 2 and "nested too deeply" in result.stderr


def test_periods_outside_the_calendar_are_usage_errors():
    for period in ("0000-Q1", "9999-Q4", "9999-12", "9999"):
        result = run("payout", EXPORT, "--reps", REPS, "--period", period, *AS_OF)
        assert result.exit_code == 2 and "out of range" in result.stderr, (period, result.output)


def test_a_duplicated_row_is_paid_once_and_flagged(tmp_path):
    lines = EXPORT.read_text().splitlines()
    row = next(line for line in lines if line.startswith("006X00000078,"))
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("\n".join(lines + [row]) + "\n")
    once = run("payout", EXPORT, "--reps", REPS, "--period", "2026-Q3", "--rep", "alice", "--format", "json", *AS_OF)
    twice = run(
        "payout", duplicated, "--reps", REPS, "--period", "2026-Q3", "--rep", "alice", "--format", "json", *AS_OF
    )
    assert twice.exit_code == 1 and "DG618" in twice.stderr and "credited to 'alice' twice" in twice.stderr
    total = lambda r: json.loads(r.stdout)["statements"][0]["total"]  # noqa: E731
    assert total(twice) == total(once)


def test_deal_rows_add_up_to_the_summary_to_the_cent(tmp_path):
    export = tmp_path / "round.csv"
    export.write_text(
        "Id,Stage,Amount\nA,Value Proposition,33.35\nB,Value Proposition,0.05\n"
        "C,Qualification,0.05\nD,Qualification,0.15\n"
    )
    data = json.loads(run("score", export, "--format", "json", *AS_OF).stdout)
    from decimal import Decimal

    rows = sum(Decimal(d["weighted_amount"]) for d in data["deals"])
    assert rows == Decimal(data["summary"]["weighted_forecast"]) == Decimal("10.06")


def test_a_wrong_delimiter_leaves_no_half_output_and_says_why(tmp_path):
    export = tmp_path / "semicolon.csv"
    export.write_text("Id;Stage;Amount\nA;Closed Won;5\n")
    result = run("score", export, "--format", "json", *AS_OF)
    assert result.exit_code == 2 and result.stdout == ""
    assert "is the delimiter ';'?" in result.stderr


def test_quota_must_be_positive():
    assert run("score", EXPORT, "--quota", "-5", *AS_OF).exit_code == 2
    assert run("score", EXPORT, "--quota", "0", *AS_OF).exit_code == 2


def test_fail_on_keeps_the_counts_as_the_last_line():
    result = run("score", EXPORT, "--format", "json", "--fail-on", "disqualified", *AS_OF)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "read 400, scored 396, rejected 4"


def test_an_internal_error_says_it_is_a_bug_and_how_to_report_it(monkeypatch):
    import engine.pack

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(engine.pack, "read_pack", broken)
    monkeypatch.setattr("cli.read_pack", broken)
    monkeypatch.delenv("DEALGATE_DEBUG", raising=False)
    result = run("validate", ROOT / "rules")
    assert result.exit_code == 3
    assert "internal error: ZeroDivisionError: simulated bug" in result.stderr
    assert "report it" in result.stderr and "Traceback" not in result.output


def test_a_closed_pipe_is_not_an_error():
    import subprocess
    import sys

    out = subprocess.run(
        f"{sys.executable} -m cli score {EXPORT} --format jsonl --as-of 2026-09-30 | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.stdout.count("\n") == 1 and "Traceback" not in out.stderr and "internal error" not in out.stderr


def test_string_literals_that_look_like_generated_names_are_just_strings(tmp_path):
    """A criterion comparing with "K9 launch" or "fn_x" once crashed the compiled scorer."""
    import shutil

    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    pipeline = pack / "pipeline.yaml"
    pipeline.write_text(
        pipeline.read_text().replace(
            "when: compelling_event != null",
            'when: compelling_event != "K9 launch" and compelling_event != "fn_x STAGE_INDEX"',
        )
    )
    assert run("validate", pack).exit_code == 0
    result = run("score", "--rules", pack, EXPORT, "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output


def test_a_required_field_with_a_default_is_filled_in_test_cases_as_in_exports(tmp_path):
    import shutil

    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    fields = pack / "fields.yaml"
    fields.write_text(
        fields.read_text().replace(
            "  name:\n    type: string\n", "  name:\n    type: string\n    required: true\n    default: unnamed\n"
        )
    )
    assert run("validate", pack).exit_code == 0
    assert run("test", pack).exit_code == 0


def test_a_deeply_nested_reps_file_is_bad_input_not_a_bug(tmp_path):
    reps = tmp_path / "reps.yaml"
    reps.write_text("[" * 300 + "\n")
    result = run("payout", EXPORT, "--reps", reps, "--period", "2026-Q3", *AS_OF)
    assert result.exit_code == 2 and "internal error" not in result.stderr


def test_diff_refuses_stdin():
    result = CliRunner().invoke(main, ["diff", str(ROOT / "rules"), str(ROOT / "rules"), "--deals", "-"], input="")
    assert result.exit_code == 2 and "not '-'" in result.output


def test_a_rep_employed_until_the_end_of_time_is_paid_not_a_crash(tmp_path):
    """Found by fuzzing: an end date of 9999-12-31 overflowed the proration arithmetic."""
    reps = tmp_path / "reps.csv"
    reps.write_text("id,plan,end\nalice,ae-2026,9999-12-31\n")
    result = run("payout", EXPORT, "--reps", reps, "--period", "2026-Q3", "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["statements"][0]["rep"] == "alice"


def test_a_non_numeric_expected_line_amount_is_a_failed_case_not_a_crash(tmp_path):
    """Found by fuzzing: expected line values are free-form; 'abc' for an amount crashed the comparison."""
    import shutil

    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    plans = pack / "tests" / "plans.yaml"
    plans.write_text(
        plans.read_text().replace("tier: decelerator, amount: 2000}", "tier: decelerator, amount: abc}", 1)
    )
    result = run("test", pack)
    assert result.exit_code == 1 and "expected abc, got 2000.00" in result.stdout


def test_an_unpaired_surrogate_escape_in_json_is_a_reject(tmp_path):
    """Found by fuzzing: '\\udfff' is valid JSON but no file can hold it; it once crashed the rejects writer."""
    good = '{"Id": "A", "Stage": "Closed Won", "Amount": 5}'
    bad = '{"Id": "B\\udfff", "Stage": "Closed Won", "Amount": 5}'
    for name, text in (("deals.jsonl", f"{good}\n{bad}\n"), ("deals.json", f"[{good}, {bad}]")):
        export = tmp_path / name
        export.write_text(text)
        rejects = tmp_path / "rejects.csv"
        result = run("score", export, "--format", "csv", "--rejects", rejects, *AS_OF)
        assert result.exit_code == 0, result.output
        assert result.stderr.strip().endswith("read 2, scored 1, rejected 1")
        assert "unpaired surrogate" in rejects.read_text()


def test_amounts_beyond_exact_decimal_precision_are_a_diagnostic(tmp_path):
    import shutil

    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    plan = pack / "plans" / "ae.yaml"
    plan.write_text(
        plan.read_text().replace("  amount: amount\n", "  amount: amount * 999999999999999999 * 999999999999999999\n")
    )
    result = run("payout", "--rules", pack, EXPORT, "--reps", REPS, "--period", "2026-Q3", "--format", "json", *AS_OF)
    assert result.exit_code == 1 and "DG619" in result.stderr and "internal error" not in result.stderr


def test_an_unpaired_surrogate_escape_in_yaml_is_a_diagnostic(tmp_path):
    """Found by fuzzing: "\\ud800" in a double-quoted YAML string crashed printing the diagnostics."""
    import shutil

    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    fields = pack / "fields.yaml"
    fields.write_text(
        fields.read_text().replace("description: Opportunity or deal name", 'description: "Opportunity \\ud800 name"')
    )
    for fmt in ("text", "json", "github"):
        result = run("validate", pack, "--format", fmt)
        assert result.exit_code == 1 and "unpaired surrogate" in result.stdout, result.output
    reps = tmp_path / "reps.yaml"
    reps.write_text('- {id: "al\\ud800ice", plan: ae-2026}\n')
    result = run("payout", EXPORT, "--reps", reps, "--period", "2026-Q3", *AS_OF)
    assert result.exit_code == 2 and "unpaired surrogate" in result.stderr


def test_a_rep_starting_before_1900_is_a_reps_file_error(tmp_path):
    """Found by fuzzing: a start in year 1 with a fiscal year starting in February reached year 0."""
    reps = tmp_path / "reps.csv"
    reps.write_text("id,plan,start\nalice,ae-2026,0001-01-01\n")
    result = run("payout", EXPORT, "--reps", reps, "--period", "2026-Q3", *AS_OF)
    assert result.exit_code == 2 and "before 1900" in result.stderr and "internal error" not in result.stderr


def test_a_surrogate_pair_in_yaml_is_one_character():
    from engine.load import load_text

    result = load_text('kind: fields\nx: "smile \\ud83d\\ude00"\n', "f.yaml")
    assert result.diagnostics == [] and result.documents[0].data["x"] == "smile \U0001f600"
