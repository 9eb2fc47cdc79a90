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
