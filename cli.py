"""The dealgate command line: parse arguments, call the library, render.

Exit codes: 0 ok; 1 rule problems, failed tests or a --fail-on condition met;
2 bad usage or unreadable input. Machine formats go to stdout, human
messages and progress to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.diagnostics import has_errors
from engine.pack import read_pack
from engine.render import diagnostics as render_diag

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealgate")
def main() -> None:
    """Qualify deals and pay reps with declarative YAML rules."""


def _existing_paths(paths) -> list[Path]:
    resolved = [Path(p) for p in paths]
    missing = [p for p in resolved if not p.exists()]
    if missing:
        click.echo(f"dealgate: no such file or directory: {missing[0]}", err=True)
        sys.exit(EXIT_USAGE)
    return resolved


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="text for people, json for tools, github for workflow annotations.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths, fmt, strict) -> None:
    """Check rule packs (default: rules/) and report every problem at once."""
    result = read_pack(_existing_paths(paths or ("rules",)))
    diagnostics = result.diagnostics
    if fmt == "json":
        click.echo(render_diag.render_json(diagnostics), nl=False)
    elif fmt == "github":
        click.echo(render_diag.render_github(diagnostics), nl=False)
    else:
        click.echo(render_diag.render_text(diagnostics, color=sys.stdout.isatty()), nl=False)
        click.echo(render_diag.summary_line(diagnostics), err=True)
    failing = has_errors(diagnostics) or (strict and diagnostics)
    sys.exit(EXIT_PROBLEMS if failing else EXIT_OK)


if __name__ == "__main__":
    main()
