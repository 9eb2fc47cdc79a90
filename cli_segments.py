"""`dealgate segment`: account tiers (the territory plan's Alpha, Beta and Delta) from an accounts export.

Click code only: the library (engine.segments) reads, classifies and renders. Registered by cli.py,
whose shared options and helpers it uses, so that it reads exports, writes outputs and rejects and
ends with its counts exactly as `dealgate score` does.
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from cli import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    DateType,
    OutputFile,
    _existing_paths,
    _export_sources,
    _report_read,
    _reports,
    _rule_files,
    compiled_rules,
    display_for,
    output_stream,
    records_option,
    records_path,
    refuse_overwriting,
    reject_sink,
    rules_option,
    table_options,
)
from cli_display import output_format

FORMATS = ("table", "csv", "json", "markdown")


@click.command()
@click.argument("accounts")
@rules_option
@click.option(
    "--segments",
    "segments_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A segments document to use with the pack (when the pack has none of its own), e.g. "
    "examples/segments.yaml with the default rules.",
)
@click.option(
    "--deals",
    "deal_exports",
    multiple=True,
    metavar="EXPORT",
    help="A deal export read with the pack (repeatable): each account gets the totals of its deals "
    "(open_pipeline, won_amount, open_deals, ...), matched by the deals' 'account' field. "
    "Without it those are unknown (null).",
)
@click.option(
    "--as-of",
    type=DateType(),
    default=None,
    help="Date ages are counted to (default: today). Printed with the results.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format; by default the -o file's extension (.csv, .json, .jsonl, .md) says it, else table "
    "on a terminal and json otherwise.",
)
@click.option("--output", "-o", type=OutputFile(), help="Write results here (atomically).")
@click.option("--rejects", type=OutputFile(), help="Write account rows that cannot be read here, as CSV.")
@click.option(
    "--input-format",
    type=click.Choice(["csv", "tsv", "json", "jsonl"]),
    help="Format of the accounts export; default from the file extension, csv for stdin.",
)
@click.option("--delimiter", help="CSV delimiter of the accounts export (default ',').")
@records_option
@table_options("engine.render.segments")
def segment(accounts, rules_dir, segments_file, deal_exports, as_of, fmt, output, rejects, input_format, delimiter):
    """Put each account of an accounts export in its tier (kind: segments), and say why."""
    from engine.read import ExportError, ExportStream
    from engine.render.segments import FORMATS as RENDERERS
    from engine.score import counts_line
    from engine.segments.classify import SegmentError, SegmentRun, segments_line, total_deals
    from engine.segments.compile import compile_segments

    refuse_overwriting(
        [accounts, *deal_exports, segments_file, *_rule_files(rules_dir)], output=output, rejects=rejects
    )
    ruleset = compiled_rules(rules_dir) if segments_file is None else _with_segments(rules_dir, segments_file)
    segments = ruleset.pack.segments
    if segments is None:
        click.echo(
            f"dealgate: the rule pack in {rules_dir} has no segments document (kind: segments); "
            f"see docs/forecast.md#account-tiers-segments",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)
    classifier = compile_segments(segments, ruleset.analysis.checked)
    sources = _export_sources([accounts])
    deal_sources = _export_sources(deal_exports)
    as_of = as_of or dt.date.today()
    fmt = output_format(fmt, output)
    click.echo(f"as of {as_of.isoformat()}", err=True)
    stream = deals = None
    try:
        totals = None
        if deal_sources:
            with reject_sink(None, with_source=len(deal_sources) > 1) as on_reject:
                deals = ExportStream(ruleset.analysis, deal_sources, on_reject)
                totals = total_deals(ruleset, deals, as_of)
            _report_read(deals)
            click.echo(f"deals: {counts_line(deals.counts)}", err=True)
        with reject_sink(rejects, with_source=False) as on_reject:
            path = records_path(sources, input_format)  # of the accounts export, as --input-format is
            stream = ExportStream(
                classifier.reader_fields, sources, on_reject, input_format, delimiter, records_path=path
            )
            run = SegmentRun(classifier, stream, as_of, totals)
            with output_stream(output, newline="" if fmt == "csv" else None) as out:
                if fmt == "table":
                    RENDERERS[fmt](out, run, display_for(out))
                else:
                    RENDERERS[fmt](out, run)
    except SegmentError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        sys.exit(EXIT_PROBLEMS)
    except ExportError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        if stream is not None:
            click.echo(segments_line(stream.counts) + " (stopped)", err=True)
        elif deals is not None:
            click.echo(f"deals: {counts_line(deals.counts)} (stopped)", err=True)
        sys.exit(EXIT_USAGE)
    _report_read(stream)
    if fmt != "table":
        from engine.render.segments import summary_text

        click.echo(summary_text(run), err=True, nl=False)
    click.echo(segments_line(stream.counts), err=True)  # always the last line: read = segmented + rejected
    sys.exit(EXIT_OK)


def _with_segments(rules_dir: str, segments_file: str):
    """The pack of ``rules_dir`` and the segments document, compiled as one pack (exit 1 on its problems)."""
    from engine.diagnostics import DiagnosticError
    from engine.pack import load_ruleset
    from engine.render import diagnostics as render_diag

    try:
        ruleset, _ = load_ruleset(_existing_paths([rules_dir, segments_file]), reports=_reports())
    except DiagnosticError as problem:
        click.echo(render_diag.render_text(problem.diagnostics), err=True, nl=False)
        click.echo(
            f"dealgate: the rule pack in {rules_dir} with {segments_file} has errors; run "
            f"'dealgate validate {rules_dir} {segments_file}'",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)
    return ruleset
