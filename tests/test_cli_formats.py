"""Each command's --format choices come from its renderer's FORMATS registry, read only when needed."""

import subprocess
import sys

from cli import main
from conftest import ROOT
from engine.render import deals, diagnostics, diff, explain, payout, testing

RENDERERS = {
    "validate": diagnostics,
    "score": deals,
    "explain": explain,
    "test": testing,
    "diff": diff,
    "payout": payout,
}


def test_every_format_option_offers_exactly_its_renderers_formats():
    for command, renderer in RENDERERS.items():
        option = next(p for p in main.commands[command].params if p.name == "fmt")
        engine_formats = ("parquet",) if command == "score" else ()  # written by Spark itself (--engine spark)
        assert getattr(option.type, "engine_formats", ()) == engine_formats, command
        assert tuple(option.type.choices) == tuple(renderer.FORMATS) + engine_formats, command


def test_the_cli_starts_without_importing_the_renderers_of_exports():
    """`dealgate --help` stays fast: the commands' renderers load when a command runs or shows its help."""
    code = (
        "import sys, cli\nfrom click.testing import CliRunner\n"
        "assert CliRunner().invoke(cli.main, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('engine.render.', 'engine.read', 'engine.score'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "['engine.render.common', 'engine.render.diagnostics']"


def _run(tmp_path, *args):
    from click.testing import CliRunner

    rules = ["--rules", str(ROOT / "rules"), "--as-of", "2026-09-30"]
    return CliRunner().invoke(main, [*args, *rules], catch_exceptions=False)


def test_the_output_files_extension_names_its_format_when_format_is_not_given(tmp_path):
    export = str(ROOT / "examples" / "deals.csv")
    for name, first in [
        ("out.csv", "file,line,id,"),
        ("out.jsonl", '{"file": '),
        ("out.ndjson", '{"file": '),
        ("out.JSON", '{"as_of": '),
        ("out.results", '{"as_of": '),  # an extension that names no format: JSON, as to a pipe
    ]:
        result = _run(tmp_path, "score", export, "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(first), name
    # --format wins over the extension
    result = _run(tmp_path, "score", export, "--format", "jsonl", "-o", str(tmp_path / "forced.csv"))
    assert (tmp_path / "forced.csv").read_text(encoding="utf-8").startswith('{"file": ')


def test_payout_and_forecast_follow_the_extension_too(tmp_path):
    export = str(ROOT / "examples" / "deals.csv")
    reps = str(ROOT / "examples" / "reps.csv")
    result = _run(tmp_path, "payout", export, "--reps", reps, "--period", "2026-Q3", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.csv").read_text(encoding="utf-8").startswith("rep,name,plan,period,")
    result = _run(tmp_path, "forecast", export, "-o", str(tmp_path / "f.md"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "f.md").read_text(encoding="utf-8").startswith("## Forecast by owner")
    # a format the command does not write (payout has no jsonl) falls back to JSON
    result = _run(tmp_path, "payout", export, "--reps", reps, "--period", "2026-Q3", "-o", str(tmp_path / "p.jsonl"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.jsonl").read_text(encoding="utf-8").lstrip().startswith("{")
