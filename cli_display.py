"""What the CLI draws for people on a terminal: the colour policy, the table width, progress bars.

The library (engine/) decides nothing about terminals: it takes a width and a colour flag
(engine.render.table.Display) and advances a progress meter (engine.progress). This module
looks at the terminal and draws. Machine formats never pass through here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from engine.progress import Meter

COLOR_CHOICES = ("auto", "always", "never")

_active = None  # the progress bar on screen, if any: stderr messages pause it (say)


def use_color(choice: str, stream) -> bool:
    """--color: always, never, or auto: on a terminal, unless NO_COLOR is set (https://no-color.org) or TERM
    is dumb. An explicit --color always beats NO_COLOR, as the convention says command-line flags should."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def table_width(width: int | None, stream) -> int | None:
    """The width tables fit: --width, else COLUMNS, else the terminal's; None (no limit) for a file or pipe."""
    if width:
        return width
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if _isatty(stream):
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            return None
        return size or None  # a pseudo-terminal with no size (script, CI) says 0
    return None


# An output file's extension says its format when --format does not, as pandas, polars and duckdb
# read a file name: `-o deals.csv` writes CSV.
FORMAT_OF_SUFFIX = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "table",
}


def output_format(fmt: str | None, output) -> str:
    """``--format`` when given; else what the ``-o`` file's extension names, when the command writes
    that format; else a table on a terminal and JSON anywhere else (a pipe, ``-o -``, a file named
    otherwise)."""
    if fmt:
        return fmt
    if output not in (None, "-"):
        named = FORMAT_OF_SUFFIX.get(Path(str(output)).suffix.lower())
        if named is not None and named in _format_choices():
            return named
    return "table" if output is None and sys.stdout.isatty() else "json"


def _format_choices() -> tuple:
    """The formats the running command's --format accepts."""
    context = click.get_current_context(silent=True)
    for param in context.command.params if context is not None else ():
        if param.name == "fmt":
            return tuple(getattr(param.type, "choices", ()))
    return ()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A progress bar on stderr, drawn by a thread from a ``Meter`` while a long run goes on.

    Only on a terminal (``enabled``), and only once the run has lasted ``DELAY`` seconds: a quick
    run shows nothing. The bar is transient: it is erased when the run ends, leaving stderr's
    lines (the counts line last) as they would be without it. Anything written to the same
    terminal while it is up goes through ``pause`` (``guard`` wraps stdout for that).

    ``unit`` names what rows are ("rows", "cases"); with the meter's ``total`` in bytes the bar
    shows the percentage of the file read, rows per second and the time left; without a total
    (stdin, or an SQL engine that reports nothing until it is done) a pulsing bar and the time
    so far.
    """

    DELAY = 0.5
    EVERY = 0.1  # seconds between redraws

    def __init__(
        self,
        meter: Meter,
        description: str,
        *,
        stream=None,
        color: bool = False,
        unit: str = "rows",
        enabled: bool | None = None,
    ):
        self.meter, self.description, self.unit = meter, description, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.color = color
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress: Any = None  # a rich Progress, made when drawing starts (rich is imported then)
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        global _active
        if self.enabled:
            _active = self
            self._thread = threading.Thread(target=self._run, name="dealgate-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def _run(self) -> None:
        if self._stop.wait(self.DELAY):
            return
        with self.lock:
            self._start()
        while not self._stop.wait(self.EVERY):
            with self.lock:
                self._draw()

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(
            file=self.stream,
            force_terminal=True,
            no_color=not self.color,
            color_system="standard" if self.color else None,
            highlight=False,
        )
        known = self.meter.total is not None
        columns = [TextColumn("{task.description}"), BarColumn()]
        if known:
            columns += [
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            ]
        else:
            columns += [TextColumn("{task.fields[rate]}"), TimeElapsedColumn()]
        # auto_refresh off: this thread redraws, under the lock that writes to the terminal share.
        self._progress = Progress(
            *columns, console=console, transient=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False
        )
        self._task = self._progress.add_task(self.description, total=self.meter.total, rate="")
        self._started = time.monotonic()
        self._progress.start()
        self._draw()

    def _draw(self) -> None:
        if self._progress is None:
            return
        rows = self.meter.rows
        elapsed = max(time.monotonic() - self._started + self.DELAY, 1e-6)
        rate = f"{rows:,} {self.unit}, {rows / elapsed:,.0f}/s" if rows else ""
        total = self.meter.total
        done = min(self.meter.done, total) if total is not None else None
        self._progress.update(self._task, completed=done, rate=rate)
        self._progress.refresh()

    def pause(self):
        """A block in which the caller writes to the terminal: the bar is erased first and redrawn later."""
        return _Paused(self)

    def guard(self, out):
        """``out``, made safe to write while the bar is up when it is the bar's terminal too."""
        if self._thread is None or not _isatty(out):
            return out
        return _Guarded(out, self)


def paused():
    """A block that writes to stderr, with the progress bar (if one is up) out of its way."""
    return _active.pause() if _active is not None else contextlib.nullcontext()


class _Paused:
    def __init__(self, bar: ProgressBar):
        self.bar = bar

    def __enter__(self):
        self.bar.lock.acquire()
        if self.bar._progress is not None:
            self.bar.stream.write("\r\x1b[2K")  # erase the bar's line; the next redraw puts it back below
            self.bar.stream.flush()

    def __exit__(self, *exc):
        self.bar.lock.release()


class _Guarded:
    """A text stream whose writes pause the progress bar (the table streaming to the bar's terminal)."""

    def __init__(self, out, bar: ProgressBar):
        self.out, self.bar = out, bar

    def write(self, text: str) -> int:
        with self.bar.pause():
            written = self.out.write(text)
            self.out.flush()
            return written

    def __getattr__(self, name):
        return getattr(self.out, name)
