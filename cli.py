"""The dealgate command line: parse arguments, call the library, render.

Exit codes: 0 ok; 1 rule problems, failed tests or a --fail-on condition met;
2 bad usage or unreadable input; 3 an internal error (a bug). Machine formats go to stdout, human
messages and progress to stderr.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import os
import signal
import stat
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click

import cli_display
import cli_ledger
from engine.diagnostics import DiagnosticError, has_errors
from engine.output import OutputError, atomic_write, remove_temporaries
from engine.pack import load_ruleset, read_pack
from engine.render import diagnostics as render_diag
from engine.render.common import visible
from engine.values import ValueProblem, parse_money

# The commands import the rest of the library when they run (not here): every `dealgate --help`
# would otherwise pay for compiling, reading, scoring, payouts and every renderer.

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Dealgate(click.Group):
    """The command group, with the last line of defence: no traceback ever reaches a user.

    Problems with rules and data are reported by the commands themselves; anything that
    escapes them is a bug in dealgate, and is said to be one (exit 3).
    """

    def invoke(self, ctx):
        _handle_signals()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted()
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except OutputError as problem:  # disk full, read-only: the machine's problem, not a bug
            click.echo(f"dealgate: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        except BrokenPipeError:  # `dealgate score ... | head`: the reader stopped reading, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except Exception as exc:  # the whole point
            if _INTERRUPTS:  # DuckDB and Spark turn Ctrl-C into their own errors ('Query interrupted')
                _interrupted()
            if os.environ.get("DEALGATE_DEBUG"):
                raise
            from engine.generated import origin_of

            origin = origin_of(exc.__traceback__)
            if origin is not None:  # raised inside generated code: the rule it was evaluating
                click.echo(f"{origin.location}: while evaluating {origin.what}", err=True)
            click.echo(
                f"dealgate: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in dealgate, not a problem with your rules or data. Please report it on the "
                "dealgate issue tracker with the command you ran (and the rule files and export, if you can "
                "share them); run it again with DEALGATE_DEBUG=1 to include the traceback.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


# Ctrl-C received during this run; engines that catch the KeyboardInterrupt raise errors of their own.
_INTERRUPTS: list[int] = []


def _handle_signals() -> None:
    """SIGTERM and SIGINT (Ctrl-C) end the run with half-written temporary output files removed.

    SIGTERM exits at once with status 143, the shell's convention for a process ended by it.
    SIGINT unwinds as KeyboardInterrupt (through atomic_write, which removes its file), noted
    first so that an error an engine makes of it is still read as an interruption. A SIGINT
    the shell ignores (a background job) stays ignored.
    """

    def terminated(signum, frame):
        remove_temporaries()
        raise SystemExit(128 + signum)

    def interrupted(signum, frame):
        _INTERRUPTS.append(signum)
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (an embedding): leave signals alone
        signal.signal(signal.SIGTERM, terminated)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupted)


def _interrupted() -> None:
    """The one line a Ctrl-C leaves, and exit 130 (128 + SIGINT, as a shell reports it)."""
    with contextlib.suppress(ValueError):  # a second Ctrl-C while cleaning up: no traceback either
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    remove_temporaries()
    click.echo("dealgate: interrupted", err=True)
    sys.exit(128 + signal.SIGINT)


@click.group(cls=_Dealgate, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealgate")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Read settings from this file instead of the dealgate.toml or pyproject.toml "
    "[tool.dealgate] found from the current directory upward.",
)
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@click.pass_context
def main(ctx, config_file, no_config) -> None:
    """Qualify deals and pay reps with declarative YAML rules.

    Exit codes: 0 ok; 1 rule problems, failed tests or a --fail-on condition met;
    2 bad usage or unreadable input; 3 an internal error (a bug: please report it).
    """
    from engine import config as project_config

    path = Path(config_file) if config_file else None if no_config else project_config.find(Path.cwd())
    if path is None:
        ctx.obj = project_config.Config()
        return
    try:
        ctx.obj = project_config.load(path, _command_options(ctx.command))
    except project_config.ConfigError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    ctx.default_map = _default_map(ctx.command, ctx.obj)


def _command_options(group: click.Group) -> dict[str, tuple]:
    """Command name -> the long names of its options (``format`` for ``--format``)."""
    return {
        name: tuple(opt[2:] for p in command.params for opt in p.opts if opt.startswith("--"))
        for name, command in group.commands.items()
    }


def _default_map(group: click.Group, config) -> dict:
    """click's defaults per command from the configuration: its settings, then each command's table."""
    defaults: dict = {}
    for name, command in group.commands.items():
        params = {p.name: p for p in command.params}
        values: dict = {}
        if config.rules is not None:
            if "rules_dir" in params:
                values["rules_dir"] = config.rules
            if "paths" in params:  # validate's packs
                values["paths"] = [config.rules]
        if config.as_of is not None and "as_of" in params:
            values["as_of"] = config.as_of
        if config.records is not None and "records" in params:
            values["records"] = config.records
        by_long_name = {opt[2:]: p.name for p in command.params for opt in p.opts if opt.startswith("--")}
        for key, value in config.commands.get(name, {}).items():
            values[by_long_name[key]] = value
        if values:
            defaults[name] = values
    return defaults


def _reports():
    """The configuration's warning policy (ignore/select), for reading packs."""
    config = click.get_current_context().find_root().obj
    return config.reports if config is not None else None


def _existing_paths(paths) -> list[Path]:
    resolved = [Path(p) for p in paths]
    missing = [p for p in resolved if not p.exists()]
    if missing:
        click.echo(f"dealgate: no such file or directory: {missing[0]}", err=True)
        sys.exit(EXIT_USAGE)
    return resolved


class FormatChoice(click.Choice):
    """The formats of a renderer module's FORMATS registry, looked up when click first needs them.

    Importing every renderer when the CLI starts would slow down every command and every --help.
    """

    def __init__(self, module: str, engine_formats: tuple = ()):
        self.module = module
        self.engine_formats = engine_formats  # written by an engine itself, not by the renderer
        self.case_sensitive = True

    # click reads choices as an attribute; this finds them on first use (importing no renderer before)
    @functools.cached_property
    def choices(self) -> tuple:  # type: ignore[override]
        return tuple(importlib.import_module(self.module).FORMATS) + tuple(self.engine_formats)


# display options and progress, shared by the commands (cli_display draws)


@contextlib.contextmanager
def progress_bar(description: str, sources=(), unit: str = "rows", total: int | None = None, passes: int = 1):
    """A progress bar on stderr (a terminal only) for the block, and the meter the library advances in it.

    ``total``: what the meter counts to (test cases); by default the bytes of ``sources`` times
    ``passes`` (a diff reads the export once per pack); None when unknown (stdin).
    """
    from engine.progress import Meter, metering

    if total is None and sources and "-" not in sources:
        total = passes * sum(os.path.getsize(s) for s in sources if Path(s).is_file()) or None
    meter = Meter(total)
    color = cli_display.use_color(_option("color", "auto"), sys.stderr)
    bar = cli_display.ProgressBar(meter, description, color=color, unit=unit)
    # Nothing watching (stderr is not a terminal): no meter, so the library counts nothing either.
    with metering(meter if bar.enabled else None), bar:
        yield bar


def _option(name: str, default=None):
    """A display option (--color, --width, --columns): kept in the context, not passed to each command."""
    context = click.get_current_context(silent=True)
    return context.meta.get(f"dealgate.{name}", default) if context is not None else default


def _color(stream) -> bool:
    return cli_display.use_color(_option("color", "auto"), stream)


def display_for(stream):
    """How tables for people written to ``stream`` are drawn: its width, colour and the chosen columns."""
    from engine.render.table import Display

    return Display(
        cli_display.table_width(_option("width"), stream),
        cli_display.use_color(_option("color", "auto"), stream),
        _option("columns"),
    )


def _remember(name: str):
    def store(ctx, param, value):
        ctx.meta[f"dealgate.{name}"] = value
        return value

    return store


def color_option(function):
    """--color for every command: one policy (cli_display.use_color)."""
    return click.option(
        "--color",
        type=click.Choice(cli_display.COLOR_CHOICES),
        default="auto",
        show_default=True,
        expose_value=False,
        callback=_remember("color"),
        help="Colour for people: auto (on a terminal, unless NO_COLOR is set), always or never. "
        "Machine formats are never coloured.",
    )(function)


def table_options(module: str):
    """--columns and --width for a command with a table for people; ``module`` names its COLUMNS."""

    def check_columns(ctx, param, value):
        if value is None:
            return _remember("columns")(ctx, param, None)
        keys = tuple(k.strip() for k in value.split(",") if k.strip())
        known = [c.key for c in importlib.import_module(module).COLUMNS]
        unknown = [k for k in keys if k not in known]
        if unknown or not keys:
            raise click.BadParameter(
                f"no column {', '.join(map(repr, unknown)) or 'named'}; choose from: {','.join(known)}"
            )
        return _remember("columns")(ctx, param, keys)

    def decorate(function):
        function = click.option(
            "--width",
            type=click.IntRange(min=20),
            expose_value=False,
            callback=_remember("width"),
            help="Fit tables to this many columns (default: $COLUMNS, else the terminal's "
            "width; no limit for a file or pipe).",
        )(function)
        function = click.option(
            "--columns",
            metavar="KEY,KEY…",
            expose_value=False,
            callback=check_columns,
            help="The table's columns, in order (e.g. id,name,owner,verdict,why); an unknown name lists them all.",
        )(function)
        return color_option(function)

    return decorate


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(render_diag.FORMATS)),
    default="text",
    help="text for people, json for tools, github for workflow annotations, sarif (SARIF 2.1.0) for "
    "code-scanning dashboards.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@color_option
def validate(paths, fmt, strict) -> None:
    """Check rule packs (default: rules/) and report every problem at once."""
    result = read_pack(_existing_paths(paths or ("rules",)), _reports())
    diagnostics = result.diagnostics
    color = cli_display.use_color(_option("color", "auto"), sys.stdout)
    click.echo(render_diag.FORMATS[fmt](diagnostics, color=color), nl=False)
    if fmt == "text":
        click.echo(render_diag.summary_line(diagnostics), err=True)
    if any(d.code == "DG001" for d in diagnostics):  # a path we could not read: not a rule problem
        sys.exit(EXIT_USAGE)
    failing = has_errors(diagnostics) or (strict and diagnostics)
    sys.exit(EXIT_PROBLEMS if failing else EXIT_OK)


# shared options and helpers for commands that read exports


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"'{value}' is not a date; write YYYY-MM-DD", param, ctx)


def quota_amount(text, ruleset) -> Decimal | None:
    """--quota, read as a cell of the pack's ``amount`` field is ('$100,000', '250000 USD', '100.000,00'
    with ``decimal_mark: ","``): another currency's amount is refused, never compared as this one's."""
    if text is None:
        return None
    fields = ruleset.analysis.pack.fields
    amount = fields.fields.get("amount") if fields is not None else None
    reading = (amount.currency, amount.decimal_mark) if amount is not None and amount.type == "money" else ()
    try:
        value = parse_money(str(text), *reading)
    except ValueProblem as problem:
        raise click.BadParameter(str(problem), param_hint="'--quota'") from None
    if value <= 0:
        raise click.BadParameter(f"'{text}' must be more than zero", param_hint="'--quota'")
    return value


class JobsType(click.ParamType):
    """--jobs: a number of processes, or auto (the CPUs this process may run on)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and value >= 1:  # from a configuration file
            return value
        if str(value).strip().lower() == "auto":
            return available_cpus()
        try:
            jobs = int(value)
        except ValueError:
            jobs = 0
        if jobs < 1:
            self.fail(f"{value!r} is not a number of processes (1 or more) or 'auto'", param, ctx)
        return jobs


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OutputFile(click.Path):
    """A file to write: not a directory, and in a directory that exists (checked before any work)."""

    def __init__(self):
        super().__init__(dir_okay=False)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        parent = Path(value).parent
        if value != "-" and not parent.is_dir():
            self.fail(f"cannot write '{value}': the directory '{parent}' does not exist", param, ctx)
        return value


def refuse_overwriting(inputs, **outputs) -> None:
    """Exit 2, before any work, when an output file is an input or another output.

    ``score deals.csv -o deals.csv`` would replace the export with its results, and
    ``-o X --rejects X`` keep only the rejects. Files are compared as files (through links and
    relative paths); devices such as /dev/null and stdout ('-') may be shared.
    """
    named = [(f"--{name.replace('_', '-')}", path) for name, path in outputs.items() if path and path != "-"]
    seen: dict = {}
    for path in inputs:
        key = _file_identity(path)
        if key is not None:
            seen.setdefault(key, f"the input '{path}'; writing it would destroy it")
    for option, path in named:
        key = _file_identity(path)
        if key is None:
            continue
        if key in seen:
            click.echo(f"dealgate: {option} '{path}' is {seen[key]}. Choose another output file", err=True)
            sys.exit(EXIT_USAGE)
        seen[key] = f"the file of {option} '{path}' too; one would overwrite the other"


def _rule_files(rules_dir) -> list:
    """The rule files of a pack directory (a git:REF source has none on disk)."""
    folder = Path(str(rules_dir))
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml")]


def _file_identity(path) -> tuple | None:
    """The same key for two names of one regular file; None for a device, a FIFO or stdin/stdout."""
    if path is None or str(path) == "-":
        return None
    try:
        status = os.stat(path)
    except OSError:
        return ("new", os.path.realpath(path))  # not written yet: its resolved name
    if not stat.S_ISREG(status.st_mode):
        return None
    return (status.st_dev, status.st_ino)


def rules_option(function):
    return click.option(
        "--rules", "rules_dir", default="rules", show_default=True, type=click.Path(), help="The rule pack directory."
    )(function)


def export_options(function):
    function = click.option(
        "--input-format",
        type=click.Choice(["csv", "tsv", "json", "jsonl"]),
        help="Format of the export(s); default from the file extension, csv for stdin.",
    )(function)
    function = click.option("--delimiter", help="CSV delimiter (default ',').")(function)
    function = click.option(
        "--as-of",
        type=DateType(),
        default=None,
        help="Date ages are counted to (default: today). Printed with the results.",
    )(function)
    return records_option(function)


def records_option(function):
    """--records PATH: where a JSON export's records are; kept in the context (see ``records_path``)."""
    return click.option(
        "--records",
        metavar="PATH",
        expose_value=False,
        callback=_remember_records,
        help="Where a JSON export's records are, when not a top-level list or an API answer's results, "
        "records, data or items: keys joined by dots (data.opportunities), with [].KEY when each "
        "record's fields are in an object (results[].properties). For JSONL, [].KEY only.",
    )(function)


def _remember_records(ctx, param, value):
    from engine.read import RecordsPath

    path = None
    if value:  # '' (in a command's table of dealgate.toml, or typed) keeps the shapes read by default
        try:
            path = RecordsPath.parse(value)
        except ValueError as problem:
            raise click.BadParameter(str(problem), ctx, param) from None
    typed = ctx.get_parameter_source(param.name) == click.core.ParameterSource.COMMANDLINE
    ctx.meta["dealgate.records"] = (path, typed)


def records_path(sources, input_format):
    """The --records path for these exports (a RecordsPath, or None).

    It names places in JSON; typed for a CSV, TSV or Parquet export it is a usage error. From the
    configuration it applies to the JSON and JSONL exports a command reads, and to no other.
    """
    from engine.read import EXTENSIONS, FORMAT_NAMES

    path, typed = _option("records", (None, False))
    if path is None or not typed:
        return path
    for source in sources:
        kind: str | None
        if input_format is not None:
            kind = FORMAT_NAMES[input_format]
        elif source == "-":
            kind = "csv"
        else:
            kind = "parquet" if _is_parquet(source) else EXTENSIONS.get(Path(source).suffix.lower())
        if kind not in ("json", "jsonl"):
            shown = "stdin" if source == "-" else f"'{source}'"
            raise click.UsageError(
                f"--records names where a JSON export's records are; {shown} is read as "
                f"{(kind or 'an unknown format').upper()}, which has no such places (give --input-format json?)"
            )
    return path


def engine_options(function):
    function = click.option("--verbose", "-v", is_flag=True, help="Say which engine ran, and why.")(function)
    function = click.option(
        "--spark-master",
        default=None,
        metavar="URL",
        help="With --engine spark: the Spark master (default local[*]); the SPARK_REMOTE "
        "environment variable selects Spark Connect instead.",
    )(function)
    function = click.option(
        "--engine",
        type=click.Choice(["auto", "python", "duckdb", "spark"]),
        default="auto",
        show_default=True,
        help="Where rules run: python row by row (score: in parts, one process per CPU), duckdb "
        "in-process SQL (Parquet), spark (local[*], a cluster or Spark Connect; CSV or Parquet), "
        "or auto (duckdb for Parquet, python otherwise).",
    )(function)
    return function


def compiled_rules(rules_dir: str):
    """The compiled pack, or exit 1 with its diagnostics (2 when the path does not exist)."""
    path = _existing_paths([rules_dir])[0]
    try:
        ruleset, _ = load_ruleset([path], reports=_reports())
    except DiagnosticError as problem:
        click.echo(render_diag.render_text(problem.diagnostics), err=True, nl=False)
        click.echo(f"dealgate: the rule pack in {rules_dir} has errors; run 'dealgate validate {rules_dir}'", err=True)
        sys.exit(EXIT_PROBLEMS)
    return ruleset


def _export_sources(exports) -> list:
    sources = []
    for export in exports:
        if export == "-":
            sources.append("-")
        elif not (Path(export).is_file() or _is_parquet(export)):
            click.echo(f"dealgate: no such export file: {export}", err=True)
            sys.exit(EXIT_USAGE)
        else:
            sources.append(export)
    return sources


def _is_parquet(path: str) -> bool:
    """A .parquet file or a directory of them: read by the SQL engines only."""
    candidate = Path(path)
    return candidate.suffix.lower() == ".parquet" or (candidate.is_dir() and any(candidate.glob("*.parquet")))


@contextlib.contextmanager
def output_stream(path: str | None, newline: str | None = None):
    """stdout, or a file that appears complete or not at all."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()  # all of it out before what the run says next on stderr (2>&1 keeps the order)
        return
    with atomic_write(path, newline=newline) as handle:
        yield handle


@contextlib.contextmanager
def reject_sink(path: str | None, with_source: bool, pack=None):
    """Where rejected rows go: the --rejects file, or the first few on stderr. With ``pack``, the run
    ends with one line naming each unknown stage label and what it probably meant."""
    from engine.read import RejectWriter
    from engine.read.rejects import UnknownStageLabels

    labels = UnknownStageLabels(pack) if pack is not None else None

    def tallied(sink):
        if labels is None:
            return sink

        def on_reject(source, reject):
            labels.add(reject)
            sink(source, reject)

        return on_reject

    if path is None:
        sink = _StderrRejects()
        yield tallied(sink)
        sink.flush()
    else:
        with output_stream(path, newline="") as handle:
            yield tallied(RejectWriter(handle, with_source))
    summary = labels.summary() if labels is not None else None
    if summary:
        click.echo(visible(summary), err=True)


class _StderrRejects:
    """Without --rejects, the first rejects are shown on stderr and the rest counted."""

    SHOWN = 10

    def __init__(self):
        self.count = 0

    def __call__(self, source, reject):
        self.count += 1
        if self.count <= self.SHOWN:
            column = f" column '{reject.column}'" if reject.column else ""
            with cli_display.paused():
                click.echo(visible(f"{source}:{reject.line}:{column} rejected: {reject.reason}"), err=True)

    def flush(self):
        if self.count > self.SHOWN:
            click.echo(
                f"... and {self.count - self.SHOWN} more rejected rows (use --rejects FILE to keep them all)", err=True
            )


def export_stopped(problem, stream) -> NoReturn:
    """An export that became unreadable: the reason, the counts so far marked (stopped), exit 2."""
    from engine.score import counts_line

    click.echo(f"dealgate: {problem}", err=True)
    if stream is not None:
        click.echo(counts_line(stream.counts) + " (stopped)", err=True)
    sys.exit(EXIT_USAGE)


SHOWN = 20  # warnings of one kind listed on stderr; the rest are counted


def _report_read(stream) -> None:
    for source, missing in stream.missing_fields.items():
        if missing:
            click.echo(f"{source}: no column for field(s) {', '.join(missing)} (left blank or default)", err=True)
    for source, warning in stream.warnings[:SHOWN]:
        click.echo(visible(f"{source}:{warning.line}: warning: {warning.message}"), err=True)
    if len(stream.warnings) > SHOWN:
        click.echo(f"... and {len(stream.warnings) - SHOWN} more warnings", err=True)


@main.command()
@click.argument("exports", nargs=-1, required=True)
@rules_option
@export_options
@click.option(
    "--format",
    "fmt",
    type=FormatChoice("engine.render.deals", ("parquet",)),
    default=None,
    help="Output format; by default the -o file's extension (.csv, .json, .jsonl) says it, else table on a "
    "terminal and json otherwise. parquet (a directory, with --engine "
    "spark) is written by Spark itself.",
)
@click.option("--output", "-o", type=OutputFile(), help="Write results here (atomically).")
@click.option("--rejects", type=OutputFile(), help="Write rows that cannot be read here, as CSV.")
@click.option("--strict", is_flag=True, help="Stop at the first row that cannot be read (exit 2).")
@click.option(
    "--quota",
    metavar="AMOUNT",
    help="Quota to measure pipeline coverage against, in the currency of the 'amount' field.",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(["disqualified", "blocked"]),
    help="Exit 1 when any deal has this verdict (repeatable), for CI gates.",
)
@engine_options
@click.option(
    "--jobs",
    "-j",
    type=JobsType(),
    default="auto",
    show_default=True,
    help="Processes the Python engine scores a large CSV or JSONL export with, each reading a part of it "
    "(auto: one per CPU; 1: one process). The output is the same either way.",
)
@table_options("engine.render.deal_table")
def score(
    exports,
    rules_dir,
    input_format,
    delimiter,
    as_of,
    fmt,
    output,
    rejects,
    strict,
    quota,
    fail_on,
    engine,
    verbose,
    spark_master,
    jobs,
):
    """Score deal exports: stage gates, qualify-out and the weighted forecast."""
    from engine.read import ExportError, ExportStream
    from engine.render.deals import FORMATS, render_summary
    from engine.score import ScoreRun, Summary, counts_line

    refuse_overwriting([*exports, *_rule_files(rules_dir)], output=output, rejects=rejects)
    if engine == "spark":
        _require_spark()
    if fmt == "parquet":
        if engine != "spark":
            raise click.UsageError("--format parquet is written by the Spark engine: add --engine spark")
        if output is None or output == "-" or Path(output).exists():
            raise click.UsageError("--format parquet needs -o DIR, a directory that does not exist yet")
    ruleset = compiled_rules(rules_dir)
    quota = quota_amount(quota, ruleset)
    sources = _export_sources(exports)
    as_of = as_of or dt.date.today()
    if fmt is None:
        fmt = cli_display.output_format(fmt, output)
    summary = Summary(ruleset, as_of, quota)
    click.echo(f"as of {as_of.isoformat()}", err=True)
    stream = None
    try:
        _preflight(ruleset, sources, input_format, delimiter)
        sql = _sql_engine(engine, ruleset, sources, input_format, delimiter, strict, as_of, verbose, spark_master)
        if fmt == "parquet" and sql is None:
            click.echo(
                "dealgate: --format parquet is written by the Spark engine, which cannot read these exports "
                "exactly; choose another --format",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        with (
            progress_bar("scoring", sources if sql is None or sql.follows_progress else ()) as bar,
            reject_sink(rejects, with_source=len(sources) > 1, pack=ruleset.pack) as on_reject,
        ):
            if sql is not None:
                from engine.sql.lines import line_expression

                sql.scorer.on_reject = on_reject
                refused = sql.run(
                    None
                    if fmt in ("table", "parquet")
                    else line_expression(fmt, ruleset, sql.scorer.query.missing_criteria())
                )
                if refused:  # DuckDB's parser refused a file while scoring it: nothing was kept or sent
                    if verbose or engine != "auto":
                        click.echo(f"dealgate: {refused}; scoring with the Python engine", err=True)
                    sql.scorer.close()
                    sql = None
            if sql is not None:
                stream = sql
                sql.scorer.fill_summary(summary)
                deals = sql.scorer.deals()
            else:
                stream = ExportStream(
                    ruleset.analysis,
                    sources,
                    on_reject,
                    input_format,
                    delimiter,
                    strict,
                    records_path=records_path(sources, input_format),
                )
                deals = ScoreRun(ruleset, stream, as_of, summary).deals()
            if fmt == "parquet":
                sql.scorer.write_parquet(output)
            else:
                with output_stream(output, newline="" if fmt == "csv" else None) as out:
                    out = bar.guard(out)
                    if sql is not None and fmt != "table":  # the SQL engine writes its own lines
                        from engine.sql.lines import write as write_sql_lines

                        write_sql_lines(fmt, out, sql.scorer, summary)
                    elif sql is None and (
                        parted := _score_in_parts(jobs, ruleset, sources, as_of, summary, fmt, out, stream)
                    ):
                        stream = parted
                        if verbose:
                            parts = f"{parted.parts} parts on {parted.processes} processes"
                            click.echo(f"engine: python, in {parts}", err=True)
                    else:
                        FORMATS[fmt](
                            out, ruleset, deals, summary, **({"display": display_for(out)} if fmt == "table" else {})
                        )
        if sql is not None:
            sql.scorer.close()
    except ExportError as problem:
        export_stopped(problem, stream)
    _report_read(stream)
    if fmt != "table":  # the table has the summary already; machine formats keep it in the data
        click.echo(render_summary(summary, display_for(sys.stderr)), err=True, nl=False)
    failing = [v for v in fail_on if summary.verdicts.get(v)]
    if failing:
        click.echo(f"dealgate: --fail-on: {', '.join(f'{summary.verdicts[v]} {v}' for v in failing)}", err=True)
    click.echo(counts_line(stream.counts), err=True)  # always the last line: read = scored + rejected
    sys.exit(EXIT_PROBLEMS if failing else EXIT_OK)


if __name__ != "__main__":  # dealgate segment: account tiers (cli_segments.py builds on the helpers above)
    main.add_command(importlib.import_module("cli_segments").segment)


def _score_in_parts(jobs, ruleset, sources, as_of, summary, fmt, out, stream):
    """Score a large CSV or JSONL export in parts on ``jobs`` processes (engine.parts), writing to ``out``: the run,
    or None (nothing written) when the export is read in one process instead, through ``stream``."""
    from engine.parts import PartsRun
    from engine.progress import current

    if jobs < 2 or stream.strict:
        return None
    run = PartsRun(
        ruleset,
        list(sources),
        as_of,
        summary,
        fmt,
        jobs,
        input_format=stream.fmt,
        delimiter=stream.delimiter,
        on_reject=stream.on_reject,
        records_path=stream.records_path,
        meter=current(),
    )
    return run.run(out)


def _require_spark() -> None:
    """--engine spark without pyspark (or without Java for a local Spark) is a usage error, not a traceback."""
    from engine.sql.spark_engine import spark_problem

    problem = spark_problem()
    if problem:
        click.echo(f"dealgate: --engine spark: {problem}", err=True)
        sys.exit(EXIT_USAGE)


def _spark_engine(ruleset, sources, input_format, delimiter, strict, as_of, verbose, master, use_python):
    """The Spark stream to score with, or None (use_python) for exports Spark cannot read exactly."""
    from engine.sql.spark_engine import Fallback, SparkScorer, SqlStream, is_parquet
    from engine.sql.support import sql_problems

    problems = sql_problems(ruleset)
    if problems:
        click.echo(render_diag.render_text(problems), err=True, nl=False)
        click.echo("dealgate: this pack cannot run on the Spark engine; use --engine python or auto", err=True)
        sys.exit(EXIT_PROBLEMS)
    parquet = [s for s in sources if s != "-" and is_parquet(s)]
    if strict:
        return use_python("--strict stops at the first bad row, which the Python engine finds")
    scorer = SparkScorer(ruleset, as_of, master=master)
    try:
        prepared = _prepare_all(scorer, sources, input_format, delimiter)
    except Fallback as why:
        if parquet:
            click.echo(f"dealgate: {why}; the Python engine cannot read Parquet", err=True)
            sys.exit(EXIT_USAGE)
        return use_python(str(why))
    if verbose:
        click.echo(f"engine: spark ({scorer.describe()})", err=True)
    return SqlStream(scorer, prepared)  # type: ignore[arg-type]  # SqlStream takes either engine's scorer


def _sql_engine(engine, ruleset, sources, input_format, delimiter, strict, as_of, verbose, spark_master=None):
    """The DuckDB or Spark stream to score with, or None for the Python engine (docs/engines.md says when)."""

    def use_python(why: str | None = None):
        return _use_python(engine, verbose, why, "scoring")

    if engine == "spark":
        _refuse_parquet(engine, sources, input_format, strict)
        return _spark_engine(
            ruleset, sources, input_format, delimiter, strict, as_of, verbose, spark_master, use_python
        )
    if not _wants_duckdb(engine, ruleset, sources, input_format, strict, verbose, "scoring"):
        return None
    from engine.sql.duckdb_engine import DuckDBScorer, Fallback, SqlStream

    scorer = DuckDBScorer(ruleset, as_of, check_while_scoring=True)
    try:
        prepared = _prepare_all(scorer, sources, input_format, delimiter)
    except Fallback as why:
        return _duckdb_fallback(engine, sources, input_format, verbose, why, "scoring")
    if verbose:
        click.echo("engine: duckdb", err=True)
    return SqlStream(scorer, prepared)


def _prepare_all(scorer, sources, input_format, delimiter) -> list:
    """Every export's header read and its rows checked by a SQL scorer; raises its Fallback."""
    prepared = [scorer.prepare(source, input_format, delimiter) for source in sources]
    for source in prepared:
        scorer.check_readable(source)
    return prepared


def _use_python(engine: str, verbose: bool, why: str | None, doing: str) -> None:
    """Say why the Python engine runs (always when another was asked for; with -v otherwise)."""
    if why and (verbose or engine in ("duckdb", "spark")):
        click.echo(f"dealgate: {why}; {doing} with the Python engine", err=True)
    elif verbose:
        click.echo("engine: python", err=True)
    return None


def _parquet_sources(sources, input_format) -> list:
    return [s for s in sources if s != "-" and input_format is None and _is_parquet(s)]


def _refuse_parquet(engine, sources, input_format, strict) -> None:
    """Parquet with the Python engine (asked for, or by --strict) is a usage error."""
    parquet = _parquet_sources(sources, input_format)
    if parquet and (engine == "python" or strict):
        click.echo(
            f"dealgate: {parquet[0]} is Parquet, which only the SQL engines read: use --engine duckdb "
            f"or auto{' (without --strict)' if strict else ''}",
            err=True,
        )
        sys.exit(EXIT_USAGE)


def _wants_duckdb(engine, ruleset, sources, input_format, strict, verbose, doing, plans=False) -> bool:
    """Whether --engine auto|duckdb|python runs on DuckDB (docs/engines.md); exits on what cannot run at all.

    ``plans``: the payout crediting must compile to SQL too.
    """
    _refuse_parquet(engine, sources, input_format, strict)
    if engine == "python":
        _use_python(engine, verbose, None, doing)
        return False
    parquet = _parquet_sources(sources, input_format)
    if strict:
        _use_python(engine, verbose, "--strict stops at the first bad row, which the Python engine finds", doing)
        return False
    if engine == "auto" and not parquet:
        # Measured (docs/engines.md): on CSV and JSONL the Python engine is as fast as DuckDB or faster
        # (score in parts, diff streamed, payout), in a tenth of the memory, and rejects bad rows one by one.
        _use_python(engine, verbose, None, doing)
        return False
    from engine.sql.support import sql_problems

    problems = sql_problems(ruleset, plans=plans)
    if problems:  # --engine duckdb, or Parquet, which only the SQL engines read
        click.echo(render_diag.render_text(problems), err=True, nl=False)
        if parquet:
            click.echo("dealgate: this pack cannot run on the DuckDB engine, the one that reads Parquet: "
                       "give the export as CSV or JSONL", err=True)  # fmt: skip
        else:
            click.echo("dealgate: this pack cannot run on the DuckDB engine; use --engine python or auto", err=True)
        sys.exit(EXIT_PROBLEMS)
    return True


def _duckdb_fallback(engine, sources, input_format, verbose, why, doing) -> None:
    """DuckDB cannot read these exports exactly: the Python engine reads them, unless they are Parquet."""
    if _parquet_sources(sources, input_format):
        click.echo(f"dealgate: {why}; the Python engine cannot read Parquet either", err=True)
        sys.exit(EXIT_USAGE)
    return _use_python(engine, verbose, str(why), doing)


def _preflight(ruleset, sources, input_format, delimiter) -> None:
    """Open every export file once before any output, so a bad header, delimiter or --records leaves no half output."""
    from engine.read import ExportReader

    path = records_path(sources, input_format)
    for source in sources:
        if source != "-" and not (input_format is None and _is_parquet(source)):
            ExportReader(ruleset.analysis, source, fmt=input_format, delimiter=delimiter, records_path=path).close()


@main.command()
@click.argument("export")
@rules_option
@export_options
@click.option("--deal", "deal_id", help="The id of the deal to explain.")
@click.option("--rep", "rep_id", help="Explain this rep's statement instead (with --period and --reps).")
@click.option("--period", help="With --rep: the pay period, e.g. 2026-Q3.")
@click.option("--reps", "reps_path", type=click.Path(dir_okay=False), help="With --rep: the reps file.")
@click.option("--format", "fmt", type=FormatChoice("engine.render.explain"), default="text")
@color_option
@click.pass_context
def explain(ctx, export, rules_dir, input_format, delimiter, as_of, deal_id, rep_id, period, reps_path, fmt):
    """Why a deal is blocked (--deal ID), or how a rep's statement adds up (--rep ID --period P --reps FILE)."""
    from engine.explain import explain_deal, find_deal
    from engine.read import ExportError
    from engine.render.explain import FORMATS

    if (deal_id is None) == (rep_id is None):
        raise click.UsageError("give --deal ID, or --rep ID with --period and --reps")
    if rep_id is not None:
        if not period or not reps_path:
            raise click.UsageError("--rep needs --period and --reps")
        # The walk-through is text; as JSON, the statement itself carries every step's numbers.
        ctx.invoke(
            payout,
            export=export,
            rules_dir=rules_dir,
            input_format=input_format,
            delimiter=delimiter,
            as_of=as_of,
            reps_path=reps_path,
            period=period,
            from_period=None,
            to_period=None,
            rep_id=rep_id,
            fmt="json" if fmt == "json" else None,
            explain_steps=fmt != "json",
            output=None,
            rejects=None,
        )
        return
    ruleset = compiled_rules(rules_dir)
    sources = _export_sources([export])
    as_of = as_of or dt.date.today()
    try:
        found = find_deal(
            ruleset,
            sources[0],
            deal_id,
            fmt=input_format,
            delimiter=delimiter,
            records_path=records_path(sources, input_format),
        )
    except ExportError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    if found is None:
        click.echo(visible(f"dealgate: no deal with id '{deal_id}' in {export}"), err=True)
        sys.exit(EXIT_USAGE)
    click.echo(FORMATS[fmt](explain_deal(ruleset, found, as_of)), nl=False)


@main.command("test")
@click.argument("rules_dir", default="rules", type=click.Path())
@click.option("--as-of", type=DateType(), default=None, help="As-of date for cases without their own (default: today).")
@click.option("--format", "fmt", type=FormatChoice("engine.render.testing"), default="text")
@click.option("--junit", type=OutputFile(), help="Also write JUnit XML here (atomically).")
@click.option(
    "--coverage",
    "show_coverage",
    is_flag=True,
    help="List every criterion, rule, tier, bonus and clawback with the cases that exercised it.",
)
@click.option("--min-coverage", type=click.FloatRange(0, 100), help="Fail (exit 1) below this coverage percent.")
@click.option("--verbose", "-v", is_flag=True, help="List passing cases too.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "python", "duckdb", "spark"]),
    default="auto",
    show_default=True,
    help="Where the cases run: python (auto: the cases are small), or duckdb or spark to check that "
    "the compiled SQL passes them too.",
)
@click.option("--spark-master", default=None, metavar="URL", help="With --engine spark: the Spark master.")
@color_option
def test_command(rules_dir, as_of, fmt, junit, show_coverage, min_coverage, verbose, engine, spark_master):
    """Run the pack's own test cases (kind: tests) and measure their coverage."""
    from engine.render import testing as render_tests
    from engine.testing import TestRunner

    refuse_overwriting(_rule_files(rules_dir), junit=junit)
    ruleset = compiled_rules(rules_dir)
    if not ruleset.pack.tests:
        click.echo(f"dealgate: no test cases in {rules_dir} (add a document with 'kind: tests')", err=True)
        sys.exit(EXIT_PROBLEMS)
    as_of = as_of or dt.date.today()
    click.echo(f"as of {as_of.isoformat()} (for cases without their own as_of)", err=True)
    if engine in ("duckdb", "spark"):
        from engine.sql.support import sql_problems

        if engine == "spark":
            _require_spark()
        problems = sql_problems(ruleset, plans=True)
        if problems:
            click.echo(render_diag.render_text(problems), err=True, nl=False)
            click.echo(
                f"dealgate: this pack cannot run on the {'DuckDB' if engine == 'duckdb' else 'Spark'} "
                f"engine; use --engine python or auto",
                err=True,
            )
            sys.exit(EXIT_PROBLEMS)
    with progress_bar("testing", unit="cases", total=len(ruleset.pack.tests)):
        run = TestRunner(ruleset, as_of, "python" if engine == "auto" else engine, spark_master).run_all()
    if junit:
        with output_stream(junit) as handle:
            handle.write(render_tests.render_junit(run).decode("utf-8"))
    percent = run.coverage_percent()
    click.echo(
        render_tests.FORMATS[fmt](run, verbose, **({"color": _color(sys.stdout)} if fmt == "text" else {})), nl=False
    )
    machine = fmt in ("github", "sarif")  # stdout is for the runner or the dashboard; people read the log
    if machine:
        click.echo(render_tests.render_text(run, verbose), err=True, nl=False)
    if show_coverage and fmt != "json":
        click.echo(render_tests.render_coverage(run), nl=False, err=machine)
    below = min_coverage is not None and percent < Decimal(str(min_coverage))
    if below:
        click.echo(f"dealgate: coverage {percent}% is below --min-coverage {min_coverage:g}%", err=True)
    sys.exit(EXIT_PROBLEMS if run.failed or below else EXIT_OK)


@main.command()
@click.argument("base")
@click.argument("new")
@click.option("--deals", "exports", multiple=True, required=True, help="The export to score with both packs.")
@export_options
@click.option("--reps", type=click.Path(dir_okay=False), help="Reps file: also compare payouts.")
@click.option("--period", help="Pay period for the payout comparison, e.g. 2026-Q3.")
@click.option("--format", "fmt", type=FormatChoice("engine.render.diff"), default="text")
@click.option("--output", "-o", type=OutputFile(), help="Write the report here (atomically).")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when anything changes.")
@engine_options
@table_options("engine.render.diff")
def diff(
    base,
    new,
    exports,
    input_format,
    delimiter,
    as_of,
    reps,
    period,
    fmt,
    output,
    fail_on_change,
    engine,
    verbose,
    spark_master,
):
    """What changing the rules does to real deals: BASE and NEW are pack directories or git:REF[:PATH]."""
    from engine.diff import PackSourceError, compare_packs, materialise, temporary_workdir
    from engine.read import ExportError
    from engine.render import diff as render_diff

    refuse_overwriting([*exports, reps, *_rule_files(base), *_rule_files(new)], output=output)
    if (reps is None) != (period is None):
        click.echo("dealgate: --reps and --period go together", err=True)
        sys.exit(EXIT_USAGE)
    sources = _export_sources(exports)
    if "-" in sources:
        raise click.UsageError("diff reads the export once per pack: give a file, not '-' (stdin)")
    as_of = as_of or dt.date.today()
    with temporary_workdir() as workdir:
        try:
            base_dir = materialise(base, Path(workdir) / "base")
            new_dir = materialise(new, Path(workdir) / "new")
        except PackSourceError as problem:
            click.echo(f"dealgate: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        base_rules, new_rules = compiled_rules(str(base_dir)), compiled_rules(str(new_dir))
        chosen = _diff_engine(engine, (base_rules, new_rules), sources, input_format, verbose)
        passes = 2 * (1 + (reps is not None))  # each pack reads the export once, and once more for payouts
        try:
            with progress_bar("comparing", sources if chosen == "python" else (), passes=passes):
                result = compare_packs(
                    base_rules,
                    new_rules,
                    sources,
                    as_of,
                    base_name=base,
                    new_name=new,
                    fmt=input_format,
                    delimiter=delimiter,
                    reps_path=reps,
                    period=period,
                    engine=chosen,
                    master=spark_master,
                    records_path=records_path(sources, input_format),
                )
        except (ExportError, PackSourceError, ValueError) as problem:
            click.echo(f"dealgate: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        for name, (ran, why) in zip((base, new), result.engines):
            if why:
                _use_python(engine, verbose, f"{name}: {why}", "scoring")
            elif verbose:
                click.echo(f"engine: {ran} ({name})", err=True)
    with output_stream(output) as out:
        out.write(render_diff.FORMATS[fmt](result, **({"display": display_for(out)} if fmt == "text" else {})))
    click.echo(render_diff.summary_line(result), err=True)
    sys.exit(EXIT_PROBLEMS if fail_on_change and result.changed else EXIT_OK)


@main.command("sql")
@rules_option
@click.option("--table", required=True, help="The table (or view) holding the export's rows, e.g. crm.opportunities.")
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "spark", "snowflake", "bigquery", "postgres"]),
    default="duckdb",
    show_default=True,
    help="The SQL dialect to print.",
)
@click.option("--view", help="Print CREATE OR REPLACE VIEW NAME AS the query.")
@click.option(
    "--like",
    "like",
    type=click.Path(dir_okay=False, exists=True),
    help="An export whose header names the table's columns (default: the pack's field names).",
)
@click.option(
    "--as-of",
    type=DateType(),
    default=None,
    help="Age deals to this date (default: the warehouse's CURRENT_DATE when the query runs).",
)
@click.option("--rejects", "rejects", is_flag=True, help="Print the query listing the rows that cannot be read.")
@click.option(
    "--credits",
    "credits",
    is_flag=True,
    help="Print the plans' crediting instead: per deal and plan, whether it earns credit, how much, "
    "when, for whom (splits as written), and the multipliers and bonuses that matched.",
)
@click.option("--output", "-o", type=OutputFile(), help="Write the SQL here (atomically).")
@color_option
def sql_command(rules_dir, table, dialect, view, like, as_of, rejects, credits, output):
    """Print the pack as one SQL query over a table: for a warehouse view or a dbt model."""
    from engine.read import ExportError, ExportReader
    from engine.sql.support import sql_problems
    from engine.sql.view import render, scoring_sql

    if rejects and credits:
        raise click.UsageError("give --rejects or --credits, not both")
    refuse_overwriting([like, *_rule_files(rules_dir)], output=output)
    ruleset = compiled_rules(rules_dir)
    if credits and not ruleset.analysis.pack.plans:
        click.echo(f"dealgate: the pack in {rules_dir} has no plans to credit deals for", err=True)
        sys.exit(EXIT_USAGE)
    problems = sql_problems(ruleset, plans=credits)
    if problems:
        click.echo(render_diag.render_text(problems), err=True, nl=False)
        click.echo(f"dealgate: the pack in {rules_dir} has parts with no exact SQL form", err=True)
        sys.exit(EXIT_PROBLEMS)
    header = None
    if like is not None:
        try:
            with ExportReader(ruleset.analysis, like) as reader:
                header = reader.header if reader.header is not None else list(reader.columns.values())
        except ExportError as problem:
            click.echo(f"dealgate: {problem}", err=True)
            sys.exit(EXIT_USAGE)
    if credits:
        from engine.payout import compile_payout
        from engine.sql.view import credit_sql

        query = credit_sql(ruleset, compile_payout(ruleset), table, header=header, as_of=as_of)
    else:
        query = scoring_sql(ruleset, table, header=header, as_of=as_of, rejects=rejects)
    with output_stream(output) as out:
        out.write(render(query, dialect, view))


@main.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init_command(directory, force):
    """Start a rule repository in DIRECTORY: the default pack, a sample export, CI and pre-commit checks."""
    from engine.scaffold import conflicts, scaffold

    target = Path(directory)
    existing = conflicts(target)
    if existing and not force:
        listed = ", ".join(str(p) for p in existing[:5]) + (" …" if len(existing) > 5 else "")
        click.echo(
            f"dealgate: {len(existing)} file{'s' * (len(existing) != 1)} would be overwritten: {listed}; "
            "choose another directory, or --force",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    try:
        written = scaffold(target)
    except OSError as problem:
        click.echo(f"dealgate: cannot write {problem.filename or directory}: {problem.strerror or problem}", err=True)
        sys.exit(EXIT_USAGE)
    for path in written:
        click.echo(f"created {path}")
    step = f"cd {directory} && " if directory != "." else ""
    click.echo(f"next: {step}dealgate validate --strict && dealgate test && dealgate score samples/deals.csv", err=True)


@main.command("rule")
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rule_command(code, fmt):
    """What a diagnostic code means and how to fix it (e.g. dealgate rule DG310); no CODE lists them all."""
    from engine.render.codes import render_code, render_index

    if code is None:
        click.echo(render_index(fmt), nl=False)
        return
    text = render_code(code, fmt)
    if text is None:
        from engine.render.codes import unknown_code

        raise click.UsageError(unknown_code(code))
    click.echo(text, nl=False)


@main.command("compile")
@rules_option
@click.option(
    "--credits",
    "credits",
    is_flag=True,
    help="Print the plans' crediting module instead (credit rules, amounts, multipliers, bonuses).",
)
@click.option("--output", "-o", type=OutputFile(), help="Write the module here (atomically).")
def compile_command(rules_dir, credits, output):
    """Print the Python module the pack compiles to, as the Python engine runs it.

    Each line that evaluates a rule ends with a comment naming its YAML file:line; the constants the
    module uses are listed at the top. A traceback from the generated code shows these lines.
    """
    ruleset = compiled_rules(rules_dir)
    source = ruleset.source
    if credits:
        if not ruleset.analysis.pack.plans:
            click.echo(f"dealgate: the pack in {rules_dir} has no plans to credit deals for", err=True)
            sys.exit(EXIT_USAGE)
        from engine.payout import compile_payout

        source = compile_payout(ruleset).credit.source
    with output_stream(output) as out:
        out.write(source)


# payout: statements per rep per period (engine/payout, docs/payouts.md)


@main.command()
@click.argument("export")
@rules_option
@export_options
@click.option(
    "--reps",
    "reps_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Reps file (CSV or YAML): id, name, plan, quota, target_incentive, start, end, currency.",
)
@click.option("--period", help="Pay period: 2026-05, 2026-Q3, 2026-H1 or 2026.")
@click.option("--from", "from_period", help="First period of a range (with --to).")
@click.option("--to", "to_period", help="Last period of a range (default: --from).")
@click.option("--rep", "rep_id", help="Only this rep's statements.")
@click.option(
    "--fx",
    "fx_path",
    type=click.Path(dir_okay=False),
    help="Dated FX table (CSV: date,from,to,rate) for plans with 'fx': deals in other currencies are converted.",
)
@click.option(
    "--format",
    "fmt",
    type=FormatChoice("engine.render.payout"),
    default=None,
    help="Output format; by default the -o file's extension (.csv, .json, .jsonl, .md) says it, else table "
    "on a terminal and json otherwise.",
)
@click.option(
    "--explain",
    "explain_steps",
    is_flag=True,
    help="Walk each statement step by step instead (text); use with --rep for one statement.",
)
@click.option("--output", "-o", type=OutputFile(), help="Write statements here (atomically).")
@click.option("--rejects", type=OutputFile(), help="Write rows that cannot be read here, as CSV.")
@engine_options
@table_options("engine.render.payout")
@cli_ledger.ledger_option
def payout(
    export,
    rules_dir,
    input_format,
    delimiter,
    as_of,
    reps_path,
    period,
    from_period,
    to_period,
    rep_id,
    fmt,
    explain_steps,
    output,
    rejects,
    engine,
    verbose,
    spark_master,
    ledger_path,
    fx_path,
):
    """What each rep is owed for a period, line by line, from a deal export."""
    from engine.payout import PayoutResult, PeriodError, compile_payout, read_reps, requested_periods
    from engine.read import ExportError, ExportStream
    from engine.render import payout as render_payout
    from engine.score import counts_line

    refuse_overwriting(
        [export, reps_path, *([fx_path] if fx_path else []), *_rule_files(rules_dir)], output=output, rejects=rejects
    )
    if period and (from_period or to_period):
        raise click.UsageError("give --period, or --from/--to, not both")
    if not period and not from_period:
        raise click.UsageError("give --period (e.g. 2026-Q3) or --from/--to")
    wanted = period or f"{from_period}..{to_period or from_period}"
    ruleset = compiled_rules(rules_dir)
    program = compile_payout(ruleset)
    try:
        for plan in program.plans.values():
            requested_periods(wanted, plan.period, plan.fiscal_year_start)
    except PeriodError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    sources = _export_sources([export])
    if not Path(reps_path).is_file():
        click.echo(f"dealgate: no such reps file: {reps_path}", err=True)
        sys.exit(EXIT_USAGE)
    reps = read_reps(reps_path, program.plans, ruleset.fields.date_formats, ruleset.pack.reps)
    if reps.diagnostics:
        click.echo(render_diag.render_text(reps.diagnostics), err=True, nl=False)
    if not reps.ok:
        click.echo(f"dealgate: the reps file {reps_path} has errors", err=True)
        sys.exit(EXIT_USAGE)
    if rep_id is not None and rep_id not in {r.id for r in reps.reps}:
        click.echo(f"dealgate: no rep '{rep_id}' in {reps_path}", err=True)
        sys.exit(EXIT_USAGE)
    fx = _payout_fx(fx_path, program, ruleset)
    as_of = as_of or dt.date.today()
    click.echo(f"as of {as_of.isoformat()}", err=True)
    shown = "<stdin>" if sources[0] == "-" else sources[0]
    booking = cli_ledger.book_payout(ledger_path, wanted, program, rules_dir, reps_path, sources, fx_path)
    wanted = booking.periods if booking else wanted  # with a ledger, its locked periods are recomputed too
    crediting = _payout_engine(engine, ruleset, program, sources, input_format, delimiter, as_of, verbose, spark_master)
    try:
        with (
            progress_bar("crediting", sources if crediting is None or crediting[0].follows_progress else ()),
            reject_sink(rejects, with_source=False, pack=ruleset.pack) as on_reject,
        ):
            if crediting is None:
                path = records_path(sources, input_format)
                stream = ExportStream(ruleset.analysis, sources, on_reject, input_format, delimiter, records_path=path)
                records = ((line, deal) for _, _, line, deal in stream.records())
                result = program.stream(records, reps.reps, wanted, as_of, rep=rep_id, source=shown, fx=fx)
            else:
                crediting, stream = crediting
                crediting.scorer.on_reject = on_reject
                result = crediting.program.stream(
                    crediting.records(stream), reps.reps, wanted, as_of, rep=rep_id, source=shown, fx=fx
                )
                crediting.close()
    except ExportError as problem:
        click.echo(f"dealgate: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    _report_read(stream)
    totals: dict = {}  # one total per currency: amounts in different currencies never add up
    tally = {"statements": 0, "unbalanced": 0}

    def counted(statements):  # the closing line's figures, taken as the statements are written
        for s in statements:
            tally["statements"] += 1
            tally["unbalanced"] += not s.reconciles
            totals[s.currency] = totals.get(s.currency, Decimal(0)) + s.total
            yield s

    with result:  # statements are computed as they are written; the ledger books them all at once
        every = tuple(result) if booking else None
        statements = counted(booking.shown(every) if booking else result)
        if fmt is None:
            fmt = cli_display.output_format(fmt, output)
        writer = None if explain_steps else render_payout.WRITERS.get(fmt)
        if writer is not None:  # CSV and JSON are written statement by statement, never whole in memory
            with output_stream(output, newline="" if fmt == "csv" else None) as out:
                writer(out, statements, as_of)
        else:
            statements = list(statements)
            if explain_steps:
                text = render_payout.render_explanations(statements)
            else:
                shown_on = sys.stdout if output in (None, "-") else None
                options = {"display": display_for(shown_on)} if fmt == "table" else {}
                text = render_payout.FORMATS[fmt](statements, as_of, **options)
            with output_stream(output) as out:
                out.write(text)
    if result.diagnostics:
        click.echo(render_diag.render_text(result.diagnostics), err=True, nl=False)
    count, unbalanced = tally["statements"], tally["unbalanced"]
    shown = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(totals.items())) or "0.00"
    click.echo(f"{count} statement{'s' * (count != 1)}, total {shown}; {counts_line(stream.counts)}", err=True)
    if unbalanced:  # cannot happen by construction; never hide it if it does
        click.echo(f"dealgate: {unbalanced} statements do not reconcile", err=True)
    if booking:
        assert every is not None  # kept whenever there is a booking
        booking.record(PayoutResult(every, result.diagnostics, result.counts))
    sys.exit(EXIT_PROBLEMS if unbalanced or not result.ok else EXIT_OK)


def _payout_fx(fx_path, program, ruleset):
    """The FX table of ``--fx`` (exit 2 when it has errors, or when a plan converts currencies without one)."""
    from engine.payout.fx import read_fx

    converting = [plan.id for plan in program.plans.values() if plan.fx is not None]
    if fx_path is None:
        if converting:
            click.echo(
                f"dealgate: plan '{converting[0]}' converts deals from other currencies: give the FX table "
                f"with --fx FILE (CSV: date,from,to,rate)",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        return None
    if not Path(fx_path).is_file():
        click.echo(f"dealgate: no such FX table: {fx_path}", err=True)
        sys.exit(EXIT_USAGE)
    found = read_fx(fx_path, ruleset.fields.date_formats)
    if found.diagnostics:
        click.echo(render_diag.render_text(found.diagnostics), err=True, nl=False)
    if not found.ok:
        click.echo(f"dealgate: the FX table {fx_path} has errors", err=True)
        sys.exit(EXIT_USAGE)
    return found.table


def _diff_engine(engine, rulesets, sources, input_format, verbose) -> str:
    """The engine both packs score on: python, duckdb or spark (each pack must compile to SQL for the others)."""
    if engine == "spark":
        _require_spark()
        from engine.sql.support import sql_problems

        problems = [p for ruleset in rulesets for p in sql_problems(ruleset)]
        if problems:
            click.echo(render_diag.render_text(problems), err=True, nl=False)
            click.echo("dealgate: this pack cannot run on the Spark engine; use --engine python or auto", err=True)
            sys.exit(EXIT_PROBLEMS)
        return "spark"
    quiet = False  # say which engine ran after the run, once per pack
    wanted = all(_wants_duckdb(engine, ruleset, sources, input_format, False, quiet, "scoring") for ruleset in rulesets)
    return "duckdb" if wanted else "python"


def _payout_engine(engine, ruleset, program, sources, input_format, delimiter, as_of, verbose, master):
    """(a DuckDB or Spark crediting, its stream) to credit the deals with, or None for the Python engine."""
    if engine == "spark":
        _require_spark()
        _refuse_parquet(engine, sources, input_format, False)
        from engine.sql.spark_credit import SparkCrediting
        from engine.sql.spark_engine import Fallback
        from engine.sql.support import sql_problems

        problems = sql_problems(ruleset, plans=True)
        if problems:
            click.echo(render_diag.render_text(problems), err=True, nl=False)
            click.echo("dealgate: this pack cannot run on the Spark engine; use --engine python or auto", err=True)
            sys.exit(EXIT_PROBLEMS)
        crediting: Any = SparkCrediting(ruleset, program, as_of, master=master)  # or DuckDBCrediting below
        described = f"spark ({crediting.scorer.describe()})"
    elif _wants_duckdb(engine, ruleset, sources, input_format, False, verbose, "crediting", plans=True):
        from engine.sql.duckdb_credit import DuckDBCrediting
        from engine.sql.duckdb_engine import Fallback

        crediting = DuckDBCrediting(ruleset, program, as_of)
        described = "duckdb"
    else:
        return None
    try:
        stream = crediting.prepare(sources[0], input_format, delimiter)
    except Fallback as why:
        crediting.close()
        return _duckdb_fallback(engine, sources, input_format, verbose, why, "crediting")
    if verbose:
        click.echo(f"engine: {described}", err=True)
    return crediting, stream


cli_ledger.register(main)

if __name__ == "__main__":  # python -m cli: run the module 'cli', the one other command modules import and extend
    importlib.import_module("cli").main()
else:
    from cli_forecast import COMMANDS as _FORECAST_COMMANDS  # forecast, movement, calibrate (docs/forecast.md)

    for _command in _FORECAST_COMMANDS + importlib.import_module("cli_report").COMMANDS:  # + dealgate report
        main.add_command(_command)
