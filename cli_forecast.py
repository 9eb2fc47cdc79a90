"""The commands a sales leader asks for after scoring: forecast, movement, calibrate.

Kept apart from cli.py (which registers ``COMMANDS`` in two lines) so that the scoring and payout
commands and these grow without touching each other. The same edge rules as cli.py: parse
arguments, call the library (engine.forecast), render; rows that cannot be read are counted and
reported as ``score`` reports them, and stderr ends with ``read N, scored S, rejected R``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import click

from cli import (EXIT_OK, EXIT_USAGE, FormatChoice, OutputFile, _export_sources, _preflight, _report_read,
                 color_option, compiled_rules, display_for, export_options, output_stream, progress_bar,
                 reject_sink, rules_option)
from engine.render import diagnostics as render_diag


def _fail(message: str) -> None:
    click.echo(f"dealgate: {message}", err=True)
    sys.exit(EXIT_USAGE)


@contextlib.contextmanager
def scored_deals(ruleset, sources, as_of, input_format, delimiter, rejects, description="scoring", passes=1):
    """The scored deals of ``sources`` (the Python engine), rows that cannot be read going to ``rejects``
    (or stderr); after the block, the read warnings and the counts line. Exits 2 on an unreadable export."""
    from engine.read import ExportError, ExportStream
    from engine.score import ScoreRun, Summary, counts_line

    stream = None
    try:
        _preflight(ruleset, sources, input_format, delimiter)
        with progress_bar(description, sources, passes=passes), \
                reject_sink(rejects, with_source=len(sources) > 1) as on_reject:
            stream = ExportStream(ruleset.analysis, sources, on_reject, input_format, delimiter)
            yield ScoreRun(ruleset, stream, as_of, Summary(ruleset, as_of)).deals()
    except ExportError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        if stream is not None:
            click.echo(counts_line(stream.counts) + " (stopped)", err=True)
        sys.exit(EXIT_USAGE)
    _report_read(stream)
    click.echo(counts_line(stream.counts), err=True)


def _fiscal_year_start(ruleset) -> int:
    """The plans' fiscal calendar when they agree on one (periods are then the plans' periods), else January."""
    starts = {plan.fiscal_year_start for plan in ruleset.analysis.pack.plans}
    return starts.pop() if len(starts) == 1 else 1


def _period(label: str | None, fy_start: int):
    from engine.payout import PeriodError, parse_period

    if label is None:
        return None
    try:
        return parse_period(label, fy_start)
    except PeriodError as problem:
        _fail(str(problem))


def _reps(path: str, ruleset):
    """The reps of a reps file (engine.payout reads it), or exit 2 with its diagnostics."""
    from engine.payout import read_reps

    if not Path(path).is_file():
        _fail(f"no such reps file: {path}")
    plans = {plan.id: plan for plan in ruleset.analysis.pack.plans}
    reps = read_reps(path, plans, ruleset.fields.date_formats)
    if reps.diagnostics:
        click.echo(render_diag.render_text(reps.diagnostics), err=True, nl=False)
    if not reps.ok:
        _fail(f"the reps file {path} has errors")
    return reps.reps, plans


def _format(fmt, output):
    return fmt or ("table" if (output is None and sys.stdout.isatty()) else "json")


def _write(text: str, output, fmt) -> None:
    with output_stream(output, newline="" if fmt == "csv" else None) as out:
        out.write(text)


@click.command()
@click.argument("exports", nargs=-1, required=True)
@rules_option
@export_options
@click.option("--by", "by", default="owner", show_default=True, metavar="KEY[,KEY…]",
              help="Group by owner, team, stage, period or category (comma-separated for several).")
@click.option("--period", help="Only deals closing in this period: 2026-05, 2026-Q4, 2026-H2 or 2026.")
@click.option("--reps", "reps_path", type=click.Path(dir_okay=False),
              help="Reps file with quotas (as for payout): adds coverage per rep; needs --period.")
@click.option("--format", "fmt", type=FormatChoice("engine.render.forecast"), default=None,
              help="Output format; table on a terminal, json otherwise.")
@click.option("--output", "-o", type=OutputFile(), help="Write the forecast here (atomically).")
@click.option("--rejects", type=OutputFile(), help="Write rows that cannot be read here, as CSV.")
@color_option
def forecast(exports, rules_dir, input_format, delimiter, as_of, by, period, reps_path, fmt, output, rejects):
    """The forecast by owner, team, stage, period or category, and coverage against quota."""
    from engine.forecast.forecast import ForecastError, add_coverage, build_forecast, check_keys
    from engine.render.forecast import FORMATS

    ruleset = compiled_rules(rules_dir)
    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    try:
        check_keys(ruleset, keys)
    except ForecastError as problem:
        _fail(str(problem))
    if reps_path is not None and period is None:
        _fail("--reps gives quotas per period: add --period (e.g. 2026-Q4)")
    fy_start = _fiscal_year_start(ruleset)
    chosen = _period(period, fy_start)
    reps = _reps(reps_path, ruleset) if reps_path is not None else None
    sources = _export_sources(exports)
    as_of = as_of or dt.date.today()
    fmt = _format(fmt, output)
    click.echo(f"as of {as_of.isoformat()}", err=True)
    with scored_deals(ruleset, sources, as_of, input_format, delimiter, rejects) as deals:
        result = build_forecast(ruleset, deals, as_of, keys, chosen, fy_start=fy_start)
    if reps is not None:
        add_coverage(result, *reps)
    display = {"display": display_for(sys.stdout if output in (None, "-") else None)} if fmt == "table" else {}
    _write(FORMATS[fmt](result, **display), output, fmt)
    sys.exit(EXIT_OK)


COMMANDS = (forecast,)
