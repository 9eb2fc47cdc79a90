"""`dealgate validate`: exit codes, formats, --strict, and what people see."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent

FIELDS = """\
kind: fields
fields:
  id: {type: string, required: true}
  stage: {type: stage, required: true}
  amount: {type: money}
"""

PIPELINE = """\
kind: pipeline
stages:
  - id: discovery
    probability: 0.1
    exit:
      - {id: sized, when: amount > 0}
  - id: won
    probability: 1
    won: true
"""


def invoke(*args):
    return CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)


@pytest.fixture
def make_pack(tmp_path, monkeypatch):
    """A pack in ./pack (relative paths, as users type them), from fields and pipeline texts."""
    monkeypatch.chdir(tmp_path)

    def make(fields=FIELDS, pipeline=PIPELINE, name="pack"):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        (folder / "fields.yaml").write_text(fields, encoding="utf-8")
        (folder / "pipeline.yaml").write_text(pipeline, encoding="utf-8")
        return name

    return make


def test_default_pack_is_clean():
    result = invoke(str(ROOT / "rules"))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no problems found" in result.stderr


def test_rules_is_the_default_path(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("--strict")
    assert result.exit_code == 0


def test_errors_exit_1(make_pack):
    result = invoke(make_pack(pipeline=PIPELINE.replace("amount > 0", "ammount > 0")))
    assert result.exit_code == 1
    assert "error[DG203]" in result.stdout
    assert "1 error, 0 warnings" in result.stderr


def test_warnings_exit_0_unless_strict(make_pack):
    path = make_pack(pipeline=PIPELINE + "  - id: late\n    probability: 0.05\n")  # falls after 0.1: DG305
    result = invoke(path)
    assert result.exit_code == 0
    assert "warning[" in result.stdout
    assert invoke(path, "--strict").exit_code == 1
    assert invoke(make_pack(name="clean"), "--strict").exit_code == 0


@pytest.mark.parametrize("args", [["nowhere"], ["nowhere.yaml"], ["--format", "xml"], ["--bogus"]])
def test_bad_usage_or_unreadable_path_exits_2(make_pack, args):
    make_pack()
    result = invoke(*args)
    assert result.exit_code == 2


def test_a_broken_symlink_is_an_unreadable_path(make_pack, tmp_path):
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    result = invoke("dangling.yaml")
    assert result.exit_code == 2
    assert "dangling.yaml" in result.stderr


def test_every_file_of_several_paths_is_reported(make_pack, tmp_path):
    pack = make_pack()
    (tmp_path / "extra.yaml").write_text("kind: pipline\n")
    result = invoke(pack, "extra.yaml", "--format", "json")
    assert result.exit_code == 1
    assert [d["code"] for d in json.loads(result.stdout)] == ["DG011"]


# --format json


def test_json_fields(make_pack):
    path = make_pack(pipeline=PIPELINE.replace("amount > 0", "ammount > 0"))
    result = invoke(path, "--format", "json")
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)
    assert set(item) == {"code", "severity", "file", "line", "column", "message", "hint"}
    assert item == {
        "code": "DG203",
        "severity": "error",
        "file": "pack/pipeline.yaml",
        "line": 6,
        "column": 27,
        "message": "unknown field 'ammount'",
        "hint": "did you mean 'amount'?",
    }
    assert "summary" not in result.stdout and result.stderr == ""  # machine output only on stdout


def test_json_empty_list_when_clean(make_pack):
    result = invoke(make_pack(), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_json_hint_is_null_when_there_is_none(make_pack):
    result = invoke(make_pack(pipeline=PIPELINE.replace("amount > 0", "amount")), "--format", "json")
    (item,) = json.loads(result.stdout)
    assert item["code"] == "DG206" and item["hint"] is None


# --format github


ANNOTATION = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+)(?:,title=(DG\d{3}))?::(.+)$")


def test_github_annotations(make_pack):
    pipeline = PIPELINE.replace("amount > 0", "ammount > 0").replace("probability: 0.1", "probability: 2")
    result = invoke(make_pack(pipeline=pipeline), "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    parsed = [ANNOTATION.match(line) for line in lines]
    assert all(parsed), lines
    assert {(m[1], m[2], m[3], m[4], m[5]) for m in parsed} == {
        ("error", "pack/pipeline.yaml", "4", "18", "DG304"),
        ("error", "pack/pipeline.yaml", "6", "27", "DG203"),
    }
    assert any("did you mean 'amount'?" in m[6] for m in parsed)


def test_github_escapes_properties_and_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "a,b:c"
    folder.mkdir()
    (folder / "x.yaml").write_text("kind: fields\nfields: {id: {type: string}}\n")
    result = invoke("a,b:c", "--format", "github")
    assert "file=a%2Cb%3Ac/x.yaml" in result.stdout


def test_github_warning_level(make_pack):
    path = make_pack(fields=FIELDS + "  champion: {type: string}\n")
    result = invoke(path, "--format", "github")
    assert result.exit_code == 0
    assert result.stdout.startswith("::warning file=pack/fields.yaml,line=6,col=3")


# --format text


def test_text_shows_the_source_line_and_a_caret_under_the_column(make_pack):
    path = make_pack(pipeline=PIPELINE.replace("amount > 0", "ammount > 0"))
    lines = invoke(path).stdout.splitlines()
    assert lines[0] == "pack/pipeline.yaml:6:27: error[DG203]: unknown field 'ammount'"
    assert lines[1] == "   6 |       - {id: sized, when: ammount > 0}"
    gutter = lines[1].index("|")
    assert lines[2][gutter] == "|"
    assert lines[2].index("^") == lines[1].index("ammount")
    assert lines[3] == "     = hint: did you mean 'amount'?"


def test_caret_stays_under_the_token_after_wide_characters(make_pack):
    pipeline = PIPELINE.replace("{id: sized, when: amount > 0}", "{id: sized, why: 見込み, when: ammount > 0}")
    lines = invoke(make_pack(pipeline=pipeline)).stdout.splitlines()
    source, caret = lines[1], lines[2]
    prefix = source[: source.index("ammount")]
    assert caret.index("^") == len(prefix) + sum(1 for ch in prefix if ch in "見込み")


def test_text_after_files_change_in_one_process(make_pack):
    """The excerpt is read from the file as it is now, not from an earlier run."""
    path = make_pack(pipeline=PIPELINE.replace("amount > 0", "ammount > 0"))
    assert "ammount > 0" in invoke(path).stdout
    make_pack(pipeline=PIPELINE.replace("amount > 0", "amount > 0 and amont > 1"))
    out = invoke(path).stdout
    assert "amount > 0 and amont > 1" in out
    assert "ammount" not in out


def test_diagnostics_are_sorted_by_file_and_position(make_pack):
    pipeline = PIPELINE.replace("amount > 0", "ammount > 0").replace("probability: 0.1", "probability: 2")
    fields = FIELDS.replace("{type: money}", "{type: mony}")
    result = invoke(make_pack(fields=fields, pipeline=pipeline), "--format", "json")
    items = [(d["file"], d["line"], d["column"]) for d in json.loads(result.stdout)]
    assert items == sorted(items)
    # A broken field document does not hide the misspelt field of the pipeline: every problem in one run.
    assert [d["code"] for d in json.loads(result.stdout)] == ["DG104", "DG304", "DG203"]


def test_a_problem_without_a_line_is_still_rendered(make_pack, tmp_path):
    make_pack()
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01binary")
    result = invoke("blob.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "blob.yaml: error[DG002]: this is a binary file, not YAML"


# docs/diagnostics.md


def test_every_code_the_engine_emits_is_documented_and_no_other():
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "engine").rglob("*.py"))
    emitted = set(re.findall(r'"(DG\d{3})"', source))
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (DG\d{3}) \|", doc, re.MULTILINE))
    payout = {code for code in emitted if code.startswith("DG6")}  # tabled in docs/payouts.md
    assert emitted - payout == documented
    payouts_doc = (ROOT / "docs" / "payouts.md").read_text(encoding="utf-8")
    assert payout <= set(re.findall(r"^\| (DG\d{3}) \|", payouts_doc, re.MULTILINE))


def test_an_unreadable_file_exits_2(tmp_path, monkeypatch):
    """Exit 2 is for input that cannot be read at all, as for a missing path."""
    from pathlib import Path

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "fields.yaml").write_text("kind: fields\n")
    real_read_bytes = Path.read_bytes

    def refuse(self):
        if self.name == "fields.yaml":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = CliRunner().invoke(main, ["validate", str(pack)])
    assert result.exit_code == 2
    assert "DG001" in result.stdout and "Permission denied" in result.stdout
