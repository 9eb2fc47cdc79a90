"""How far a long run has got: counters the library advances and a display may read.

The library draws nothing (it never knows whether a terminal is watching); it advances a
``Meter``, and the CLI, when stderr is a terminal, reads it from another thread and draws a
bar. The meter in use is ambient (a context variable) rather than a parameter, because an
export is read through several layers (a diff reads it up to four times, through scoring and
payouts) and threading a display concern through each of them would couple them all to it.
Without a meter (the default) nothing is counted and nothing costs.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_CURRENT: contextvars.ContextVar = contextvars.ContextVar("dealgate_meter", default=None)


class Meter:
    """Rows (or test cases) done, and bytes read of ``total`` (None when unknown, e.g. stdin).

    Plain attributes, written by one thread and read by another: a reader may see a count
    one row old, which a progress bar does not mind.
    """

    def __init__(self, total: int | None = None):
        self.total = total
        self.rows = 0
        self._finished = 0  # bytes of the readers already closed
        self._reader = None  # the reader being read: its byte count grows as it goes
        self._query: tuple | None = None  # (probe, start, end): an engine's query in progress, its share of total

    @property
    def done(self) -> int:
        query = self._query
        if query is not None and self.total:
            probe, start, end = query
            percent = probe()
            share = start + (end - start) * min(max(percent, 0.0), 100.0) / 100.0
            return max(self._finished, int(share * self.total))
        reader = self._reader
        return self._finished + (reader.bytes_read if reader is not None else 0)

    @contextlib.contextmanager
    def following(self, probe, start: float, end: float) -> Iterator[None]:
        """While the block runs, an engine's own measure moves the meter from ``start`` to ``end``
        (fractions of ``total``): ``probe()`` is the percentage done of the query it is running,
        negative when it does not know yet (DuckDB's ``query_progress``, Spark's finished tasks).

        SQL engines read the export themselves, in queries Python waits on: they say how far they
        have got only this way.
        """
        self._query = (probe, start, end)
        try:
            yield
        finally:
            self._query = None
        if self.total:  # done (a query that failed leaves the count where it was: Python may read instead)
            self._finished = max(self._finished, int(end * self.total))

    def counted(self, items: Iterator) -> Iterator:
        """``items``, each one counted as it passes."""
        for item in items:
            self.rows += 1
            yield item

    def reading(self, reader) -> None:
        """``reader`` (with ``bytes_read``) is the one being read now."""
        self._reader = reader

    def finished(self, reader) -> None:
        self._finished += reader.bytes_read
        if self._reader is reader:
            self._reader = None

    def update(self, rows: int, done: int) -> None:
        """Set the rows and bytes done so far: for processes that read parts of the exports at once and
        report what they have done (engine.parts), where no reader of this process is being read."""
        self.rows = rows
        self._finished = done

    def advance(self, items: int = 1) -> None:
        """Count work that is not rows of an export (test cases), against ``total`` items."""
        self.rows += items
        self._finished += items


def current() -> Meter | None:
    """The meter of the run in progress, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def metering(meter: Meter | None):
    """Make ``meter`` the one every export stream and test run of this block advances."""
    token = _CURRENT.set(meter)
    try:
        yield meter
    finally:
        _CURRENT.reset(token)
