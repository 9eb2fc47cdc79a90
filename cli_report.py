"""`dealgate report`: one self-contained HTML page of an export — funnel, forecast and coverage, verdicts
and qualify-out with the deals behind each bar, calibration, movement and payouts.

Registered from cli.py like the forecast commands. The export is read and scored as ``score`` reads
and scores it (rows that cannot be read are rejected with their line and reason, and stderr ends with
``read N, scored S, rejected R``); each analysis is the library function its own command calls
(engine.report says which), and engine.render.report_html draws the page.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli import (
    EXIT_OK,
    EXIT_PROBLEMS,
    DateType,
    OutputFile,
    _export_sources,
    _preflight,
    _report_read,
    _rule_files,
    color_option,
    compiled_rules,
    export_options,
    export_stopped,
    output_stream,
    progress_bar,
    records_path,
    refuse_overwriting,
    reject_sink,
    rules_option,
)
from cli_forecast import history_from_option, pack_fiscal_year_start, period_from_option, reps_from_option, stop_with
from engine.render import diagnostics as render_diag

if TYPE_CHECKING:  # the library is imported when the command runs, not when the CLI starts
    from engine.report import Source
    from engine.score import ScoredDeal


@click.command()
@click.argument("export")
@rules_option
@export_options
@click.option("--period", help="Forecast, coverage and payouts of this period: 2026-05, 2026-Q4, 2026-H2 or 2026.")
@click.option(
    "--reps",
    "reps_path",
    type=click.Path(dir_okay=False),
    help="Reps file with quotas and plans (as for payout): adds coverage against quota and payouts; needs --period.",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    help="A stage-history export (Salesforce OpportunityHistory) for the calibration, as for calibrate.",
)
@click.option(
    "--previous",
    "previous_export",
    metavar="OLD_EXPORT",
    help="An older snapshot of the same pipeline: adds the movement from it to EXPORT.",
)
@click.option(
    "--previous-as-of",
    type=DateType(),
    default=None,
    help="Date the previous snapshot's ages are counted to (default: --as-of).",
)
@click.option("--title", help="The page's title (default: the export and the as-of date).")
@click.option(
    "--list-limit",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Deals listed behind each bar, the largest first; the rest are counted and summed.",
)
@click.option(
    "--output",
    "-o",
    type=OutputFile(),
    default="report.html",
    show_default=True,
    help="Write the page here (atomically); '-' for stdout.",
)
@click.option("--rejects", type=OutputFile(), help="Write rows of the export(s) that cannot be read here, as CSV.")
@color_option
def report(
    export,
    rules_dir,
    input_format,
    delimiter,
    as_of,
    period,
    reps_path,
    history_path,
    previous_export,
    previous_as_of,
    title,
    list_limit,
    output,
    rejects,
):
    """One self-contained HTML page of EXPORT: the funnel, the forecast by category and rep against
    quota, coverage, verdicts and qualify-out with the deals behind each bar, calibration, movement
    (with --previous) and payouts (with --reps). Opens offline: scripts and styles are inline."""
    import attrs

    from engine.payout import PeriodError, requested_periods
    from engine.read import ExportError
    from engine.render.report_html import render_html
    from engine.report import build_report

    inputs = [export, previous_export, reps_path, history_path, *_rule_files(rules_dir)]
    refuse_overwriting([p for p in inputs if p], output=output, rejects=rejects)
    ruleset = compiled_rules(rules_dir)
    if reps_path is not None and period is None:
        stop_with("--reps gives quotas and pay periods: add --period (e.g. 2026-Q4)")
    fy_start = pack_fiscal_year_start(ruleset)
    chosen = period_from_option(period, fy_start)
    reps = plans = None
    if reps_path is not None:
        reps, plans = reps_from_option(reps_path, ruleset)
        try:
            for plan in plans.values():
                requested_periods(period, plan.period, plan.fiscal_year_start)
        except PeriodError as problem:
            stop_with(str(problem))
    history = history_from_option(history_path, ruleset).rows if history_path is not None else None
    sources = _export_sources([export] + ([previous_export] if previous_export else []))
    if previous_export is not None:
        if "-" in sources[1:]:
            raise click.UsageError("--previous reads a file: give a file, not '-' (stdin)")
        if export != "-" and Path(export).resolve() == Path(previous_export).resolve():
            raise click.UsageError("EXPORT and --previous are the same file")
    as_of = as_of or dt.date.today()
    previous_as_of = previous_as_of or as_of
    click.echo(f"as of {as_of.isoformat()}", err=True)
    scorings: list[_Scoring] = []
    try:
        _preflight(ruleset, sources, input_format, delimiter)
        with (
            progress_bar("scoring", sources),
            reject_sink(rejects, with_source=len(sources) > 1, pack=ruleset.pack) as on_reject,
        ):
            for source, date in zip(sources, [as_of, previous_as_of]):
                scorings.append(_Scoring(ruleset, source, date, on_reject, input_format, delimiter))
            current, *older = scorings
            previous = older[0] if older else None
            result = build_report(  # reads and scores the exports as it walks them: none is held
                ruleset,
                current.deals(),
                current.summary,
                current.source(),
                title=title,
                rules=str(rules_dir),
                period=chosen,
                fy_start=fy_start,
                reps=reps,
                plans=plans,
                history=history,
                previous=previous.deals() if previous else None,
                list_limit=list_limit,
            )
    except ExportError as problem:
        export_stopped(problem, next((s.stream for s in reversed(scorings) if s.reading), None))
    for scoring in scorings:
        _report_read(scoring.stream)
    # The counts are known once the exports are read.
    result = attrs.evolve(result, source=current.source(), previous=previous.source() if previous else None)
    page = render_html(result)
    with output_stream(output) as out:
        out.write(page)
    problems = result.payouts.diagnostics if result.payouts is not None else []
    if problems:
        click.echo(render_diag.render_text(problems), err=True, nl=False)
    if output not in (None, "-"):
        click.echo(f"report: wrote {output} ({len(page.encode('utf-8')) / 1e6:.1f} MB)", err=True)
    if result.previous is not None:
        click.echo(f"previous {result.previous.name}: {_counts(result.previous)}", err=True)
    click.echo(_counts(result.source), err=True)  # always the last line, as score's: read = scored + rejected
    failing = result.payouts is not None and not result.payouts.ok
    sys.exit(EXIT_PROBLEMS if failing else EXIT_OK)


class _Scoring:
    """One export to be read and scored as ``score`` does (ScoreRun on an ExportStream), as the report walks it."""

    def __init__(self, ruleset, source: str, as_of: dt.date, on_reject, input_format, delimiter):
        from engine.read import ExportStream
        from engine.score import ScoreRun, Summary

        path = records_path([source], input_format)
        self.stream = ExportStream(ruleset.analysis, [source], on_reject, input_format, delimiter, records_path=path)
        self.summary = Summary(ruleset, as_of)
        self.run = ScoreRun(ruleset, self.stream, as_of, self.summary)
        self.name = "<stdin>" if source == "-" else source
        self.as_of = as_of
        self.reading = False  # between its first deal and its last: the export a read error is in

    def deals(self) -> Iterator[ScoredDeal]:
        self.reading = True
        yield from self.run.deals()
        self.reading = False

    def source(self) -> Source:
        """The export's name, date and counts so far (read = scored + rejected)."""
        from engine.report import Source

        counts = self.stream.counts
        return Source(self.name, self.as_of, counts.read, counts.deals, counts.rejected)


def _counts(source: Source) -> str:
    return f"read {source.read}, scored {source.scored}, rejected {source.rejected}"


COMMANDS = (report,)
