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

from cli import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    DateType,
    FormatChoice,
    OutputFile,
    _export_sources,
    _preflight,
    _report_read,
    _rule_files,
    color_option,
    compiled_rules,
    display_for,
    export_options,
    export_stopped,
    output_stream,
    progress_bar,
    records_path,
    refuse_overwriting,
    reject_sink,
    rules_option,
)
from cli_display import output_format
from engine.pack import read_pack
from engine.render import diagnostics as render_diag


def stop_with(message: str) -> None:
    click.echo(f"dealgate: {message}", err=True)
    sys.exit(EXIT_USAGE)


@contextlib.contextmanager
def scored_deals(ruleset, sources, as_of, input_format, delimiter, rejects, description="scoring"):
    """(source position, ScoredDeal) of every deal of ``sources`` (the Python engine) as one stream, rows
    that cannot be read going to ``rejects`` (or stderr); after the block, the read warnings and the
    counts line. Exits 2 on an unreadable export. ``as_of``: one date, or a list of one per source
    (snapshots taken on different days)."""
    from engine.read import ExportError, ExportStream
    from engine.score import ScoredDeal, counts_line

    dates = as_of if isinstance(as_of, list) else [as_of] * len(sources)
    stream = None
    try:
        _preflight(ruleset, sources, input_format, delimiter)
        with (
            progress_bar(description, sources),
            reject_sink(rejects, with_source=len(sources) > 1, pack=ruleset.pack) as on_reject,
        ):
            path = records_path(sources, input_format)
            stream = ExportStream(ruleset.analysis, sources, on_reject, input_format, delimiter, records_path=path)
            score = ruleset.score_function
            yield (
                (position, ScoredDeal(line, record, score(record, dates[position]), name))
                for position, name, line, record in stream.records()
            )
    except ExportError as problem:
        export_stopped(problem, stream)
    _report_read(stream)
    click.echo(counts_line(stream.counts), err=True)


def pack_fiscal_year_start(ruleset) -> int:
    """The plans' fiscal calendar when they agree on one (periods are then the plans' periods), else January."""
    starts = {plan.fiscal_year_start for plan in ruleset.analysis.pack.plans}
    return starts.pop() if len(starts) == 1 else 1


def period_from_option(label: str | None, fy_start: int):
    from engine.payout import PeriodError, parse_period

    if label is None:
        return None
    try:
        return parse_period(label, fy_start)
    except PeriodError as problem:
        stop_with(str(problem))


def reps_from_option(path: str, ruleset):
    """The reps of a reps file (engine.payout reads it), or exit 2 with its diagnostics."""
    from engine.payout import read_reps

    if not Path(path).is_file():
        stop_with(f"no such reps file: {path}")
    plans = {plan.id: plan for plan in ruleset.analysis.pack.plans}
    reps = read_reps(path, plans, ruleset.fields.date_formats, ruleset.pack.reps)
    if reps.diagnostics:
        click.echo(render_diag.render_text(reps.diagnostics), err=True, nl=False)
    if not reps.ok:
        stop_with(f"the reps file {path} has errors")
    return reps.reps, plans


def report_options(module: str, what: str):
    """--format (the renderer module's FORMATS), --output, --rejects and --color, as every command here has them."""

    def decorate(function):
        function = color_option(function)
        function = click.option(
            "--rejects", type=OutputFile(), help="Write rows of the export(s) that cannot be read here, as CSV."
        )(function)
        function = click.option("--output", "-o", type=OutputFile(), help=f"Write the {what} here (atomically).")(
            function
        )
        return click.option(
            "--format",
            "fmt",
            type=FormatChoice(module),
            default=None,
            help="Output format; by default the -o file's extension (.csv, .json, .jsonl, .md) says it, else table "
            "on a terminal and json otherwise.",
        )(function)

    return decorate


def _format(fmt, output):
    return output_format(fmt, output)


def _write(formats: dict, fmt: str, result, output) -> None:
    """``result`` rendered in ``fmt`` to ``output`` (stdout, or a file written atomically)."""
    display = {"display": display_for(sys.stdout if output in (None, "-") else None)} if fmt == "table" else {}
    text = formats[fmt](result, **display)
    with output_stream(output, newline="" if fmt == "csv" else None) as out:
        out.write(text)


@click.command()
@click.argument("exports", nargs=-1, required=True)
@rules_option
@export_options
@click.option(
    "--by",
    "by",
    default="owner",
    show_default=True,
    metavar="KEY[,KEY…]",
    help="Group by owner, team, stage, period or category (comma-separated for several).",
)
@click.option("--period", help="Only deals closing in this period: 2026-05, 2026-Q4, 2026-H2 or 2026.")
@click.option(
    "--reps",
    "reps_path",
    type=click.Path(dir_okay=False),
    help="Reps file with quotas (as for payout): adds coverage per rep; needs --period.",
)
@click.option(
    "--crm-category",
    "crm_field",
    metavar="FIELD",
    help="A field holding the CRM's own forecast category: list the deals where it disagrees with the "
    "rules' category (matched by category id or labels).",
)
@report_options("engine.render.forecast", "forecast")
def forecast(
    exports, rules_dir, input_format, delimiter, as_of, by, period, reps_path, crm_field, fmt, output, rejects
):
    """The forecast by owner, team, stage, period or category, and coverage against quota."""
    from engine.forecast.forecast import ForecastError, add_coverage, build_forecast, check_crm_field, check_keys
    from engine.render.forecast import FORMATS

    refuse_overwriting([*exports, reps_path, *_rule_files(rules_dir)], output=output, rejects=rejects)
    ruleset = compiled_rules(rules_dir)
    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    try:
        check_keys(ruleset, keys)
        if crm_field is not None:
            check_crm_field(ruleset, crm_field)
    except ForecastError as problem:
        stop_with(str(problem))
    if reps_path is not None and period is None:
        stop_with("--reps gives quotas per period: add --period (e.g. 2026-Q4)")
    fy_start = pack_fiscal_year_start(ruleset)
    chosen = period_from_option(period, fy_start)
    reps = reps_from_option(reps_path, ruleset) if reps_path is not None else None
    sources = _export_sources(exports)
    as_of = as_of or dt.date.today()
    fmt = _format(fmt, output)
    click.echo(f"as of {as_of.isoformat()}", err=True)
    with scored_deals(ruleset, sources, as_of, input_format, delimiter, rejects) as deals:
        result = build_forecast(
            ruleset, (scored for _, scored in deals), as_of, keys, chosen, fy_start=fy_start, crm_field=crm_field
        )
    if reps is not None:
        add_coverage(result, *reps)
    _write(FORMATS, fmt, result, output)
    sys.exit(EXIT_OK)


@click.command()
@click.argument("old_export")
@click.argument("new_export")
@rules_option
@export_options
@click.option(
    "--old-as-of", type=DateType(), default=None, help="Date the old snapshot's ages are counted to (default: --as-of)."
)
@click.option(
    "--period-kind",
    type=click.Choice(["month", "quarter", "half", "year"]),
    default="quarter",
    show_default=True,
    help="A close date moved to a later one of these periods has slipped; within the same one, it was pushed.",
)
@report_options("engine.render.movement", "movement")
def movement(
    old_export, new_export, rules_dir, input_format, delimiter, as_of, old_as_of, period_kind, fmt, output, rejects
):
    """What moved between two snapshots of the pipeline (deals matched by id), and a waterfall of the
    weighted pipeline from OLD_EXPORT to NEW_EXPORT."""
    from engine.forecast.movement import compare_positions
    from engine.render.movement import FORMATS

    refuse_overwriting([old_export, new_export, *_rule_files(rules_dir)], output=output, rejects=rejects)
    ruleset = compiled_rules(rules_dir)
    sources = _export_sources([old_export, new_export])
    if "-" in sources:
        raise click.UsageError("movement reads two files: give files, not '-' (stdin)")
    as_of = as_of or dt.date.today()
    old_as_of = old_as_of or as_of
    fmt = _format(fmt, output)
    click.echo(f"as of {old_as_of.isoformat()} (old) and {as_of.isoformat()} (new)", err=True)
    if Path(old_export).resolve() == Path(new_export).resolve():
        raise click.UsageError("OLD_EXPORT and NEW_EXPORT are the same file")
    with scored_deals(ruleset, sources, [old_as_of, as_of], input_format, delimiter, rejects) as deals:
        result = compare_positions(ruleset, deals, period_kind, pack_fiscal_year_start(ruleset))
    if not result.reconciles:  # cannot happen by construction; never hide it if it does
        click.echo("dealgate: the waterfall does not add up to the difference; please report this bug", err=True)
        sys.exit(EXIT_INTERNAL)
    _write(FORMATS, fmt, result, output)
    sys.exit(EXIT_OK)


@click.command()
@click.argument("exports", nargs=-1, required=True)
@rules_option
@export_options
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False),
    help="A stage-history export (Salesforce OpportunityHistory: opportunity id, stage, date per change): "
    "which stages each deal really reached, and the days it spent in each.",
)
@click.option(
    "--write",
    "write_back",
    is_flag=True,
    help="Write the suggested probability into the pipeline file for each stage whose configured one lies "
    "outside its observed interval (only those numbers change: comments and layout stay).",
)
@report_options("engine.render.calibrate", "calibration")
def calibrate(exports, rules_dir, input_format, delimiter, as_of, history_path, write_back, fmt, output, rejects):
    """Are the stage probabilities honest? Observed win rates from each stage with Wilson intervals,
    the Brier score, a reliability table, suggested probabilities, conversion and days in stage."""
    from engine.forecast import calibrate as C
    from engine.render.calibrate import FORMATS

    refuse_overwriting([*exports, history_path, *_rule_files(rules_dir)], output=output, rejects=rejects)
    ruleset = compiled_rules(rules_dir)
    sources = _export_sources(exports)
    history = history_from_option(history_path, ruleset) if history_path is not None else None
    as_of = as_of or dt.date.today()
    fmt = _format(fmt, output)
    click.echo(f"as of {as_of.isoformat()}", err=True)
    with scored_deals(ruleset, sources, as_of, input_format, delimiter, rejects) as deals:
        if history is None:
            outcomes, open_deals = C.outcomes_from_export(ruleset, (scored for _, scored in deals))
            unmatched = 0
        else:
            results = {str(scored.result.id): scored.result for _, scored in deals}
            outcomes, open_deals, unmatched = C.outcomes_from_history(ruleset, history.rows, results)
    result = C.calibrate(ruleset, outcomes, open_deals, "export" if history is None else "history", unmatched)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    _write(FORMATS, fmt, result, output)
    if write_back:
        _write_probabilities(ruleset, result)
    sys.exit(EXIT_OK)


def _write_probabilities(ruleset, result) -> None:
    """The suggested probabilities into the pipeline file, in place (atomically), and say which changed."""
    from engine.forecast.calibrate import EditError, apply_edits, probability_edits
    from engine.output import atomic_write

    edits = probability_edits(ruleset, result)
    if not edits:
        click.echo(
            "calibrate --write: every configured probability lies within its interval; nothing written", err=True
        )
        return
    path = edits[0].location.file
    try:
        text = apply_edits(Path(path).read_text(encoding="utf-8"), edits)
    except (OSError, EditError) as problem:
        stop_with(f"calibrate --write: {problem}")
    with atomic_write(path) as handle:
        handle.write(text)
    changes = ", ".join(f"{e.stage} {e.old} -> {e.new}" for e in edits)
    click.echo(f"calibrate --write: {path}: {changes}", err=True)
    problems = read_pack([Path(path).parent]).diagnostics  # new numbers can contradict the pack's own tests
    if problems:
        click.echo(
            f"calibrate --write: the pack now has {render_diag.summary_line(problems).strip()}; run "
            f"'dealgate validate {Path(path).parent}' and 'dealgate test {Path(path).parent}'",
            err=True,
        )


def history_from_option(path: str, ruleset):
    """The rows of a stage-history file, its rejected rows reported on stderr with the counts; exit 2 if unusable."""
    from engine.forecast.calibrate import HistoryError, read_history

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        stop_with(f"no such history file: {path}")
    except (OSError, UnicodeDecodeError) as problem:
        stop_with(f"cannot read the history file {path}: {problem}")
    try:
        history = read_history(text, ruleset.analysis.stage_lookup)
    except HistoryError as problem:
        stop_with(f"{path}: {problem}")
    for line, reason in history.rejected[:10]:
        click.echo(f"{path}:{line}: rejected: {reason}", err=True)
    if len(history.rejected) > 10:
        click.echo(f"... and {len(history.rejected) - 10} more rejected history rows", err=True)
    click.echo(
        f"history {path}: read {history.read}, used {len(history.rows)}, rejected {len(history.rejected)}", err=True
    )
    return history


COMMANDS = (forecast, movement, calibrate)
