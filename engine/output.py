"""Writing output files so that a reader never sees half of one.

Every file dealgate writes (scored results, rejects, statements) goes
through ``atomic_write``: the content is written to a temporary file in the
same directory, flushed to disk, then renamed over the target with
``os.replace``, which is atomic on POSIX and Windows. If writing fails half
way, the previous file (if any) is untouched and the temporary file is
removed. Being in the same directory matters: a rename across file systems
is a copy, not atomic.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    """The process umask, so new files get the permissions ``open()`` would give them.

    mkstemp creates files readable by the owner only (0600); a report written that way
    would surprise whoever shares it. Linux exposes the umask in /proc; elsewhere it can
    only be read by setting it, which is done once, at import time.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


class OutputError(OSError):
    """Writing an output file failed (disk full, read-only, no permission): the path and the cause.

    Not a bug in dealgate: the CLI reports it as unreadable/unwritable input is reported (exit 2).
    """

    def __init__(self, path, cause: OSError):
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = str(path)
        self.cause = cause

    def __str__(self) -> str:
        return f"cannot write '{self.path}': {self.cause.strerror or self.cause}"


# Errors only a write can raise: met inside the block, they are the output's, not an input's.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})

# Temporary files being written, removed on SIGTERM before the process ends (see remove_temporaries).
_TEMPORARIES: set[str] = set()


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO]:
    """Open ``path`` for writing; the file appears, complete, only when the block succeeds.

    ``mode`` is "w" (text; ``encoding`` and ``newline`` as for ``open``) or "wb".
    A replaced file keeps its permission bits; a new one gets 0666 minus the umask.
    A symlink is followed; a device or FIFO (``/dev/null``, ``/dev/stdout``) is written in place.
    An OS error writing (disk full, permissions) raises OutputError naming ``path``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    options: dict[str, Any] = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
    if _is_special(path):
        # /dev/null, /dev/stdout, a FIFO: there is nothing to replace atomically, and renaming a
        # temporary file over a device node would destroy it. Write to it as it is.
        with _as_output_error(path):
            with open(path, mode, **options) as handle:
                yield handle
        return
    target = Path(os.path.realpath(path))  # through a symlink: replace the file it points to, not the link
    with _as_output_error(path):
        yield from _write_replacing(target, mode, options)


def _is_special(path) -> bool:
    """An existing path that is not a regular file once symlinks are followed (a device, a FIFO).

    Checked on the path as given: /dev/stderr resolves to /proc/self/fd/2, whose realpath
    ('pipe:[1234]') names nothing.
    """
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def _write_replacing(target: Path, mode: str, options: dict):
    directory = target.parent if str(target.parent) else Path(".")
    try:
        permissions = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        permissions = 0o666 & ~_UMASK
    with _signals_held():  # a signal between creating the file and noting its name would leave it behind
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        _TEMPORARIES.add(temporary)
    try:
        try:
            handle = os.fdopen(fd, mode, **options)
        except BaseException:
            os.close(fd)
            raise
        with handle:
            yield handle
            with _as_output_error(target, everything=True):
                handle.flush()
                os.fsync(handle.fileno())
        with _as_output_error(target, everything=True):
            os.chmod(temporary, permissions)
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    finally:
        _TEMPORARIES.discard(temporary)
    _sync_directory(directory)


_HELD_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)}


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait (POSIX) until the block is done; elsewhere nothing is held."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _as_output_error(path, everything: bool = False):
    """OS errors of writing ``path`` as OutputError; an input's errors (no write errno) pass through.

    ``everything``: around steps that only touch the output (flush, fsync, rename).
    """
    try:
        yield
    except OutputError:
        raise
    except OSError as problem:
        if everything or problem.errno in _WRITE_ERRNOS or _about(problem, path):
            raise OutputError(path, problem) from problem
        raise


def _about(problem: OSError, path) -> bool:
    """Whether ``problem`` names the output (or its temporary file), not some input."""
    if problem.filename is None:
        return False
    named = os.path.realpath(str(problem.filename))
    target = os.path.realpath(str(path))
    return (
        named == target
        or os.path.dirname(named) == os.path.dirname(target)
        and os.path.basename(named).startswith("." + os.path.basename(target) + ".")
    )


def remove_temporaries() -> None:
    """Remove every temporary file still being written: for a signal that ends the process."""
    for temporary in list(_TEMPORARIES):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        _TEMPORARIES.discard(temporary)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula.

    Text starting with = + - @ (or a tab or carriage return, which some spreadsheets skip) gets
    a leading apostrophe; plain numbers such as -1200.00 are left alone. None is an empty cell.
    """
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_writer(handle: IO[str], **options: Any) -> CsvWriter:
    """``csv.writer(handle, lineterminator="\\n", **options)`` for every CSV dealgate writes, but that it also
    quotes a cell holding a carriage return.

    Python 3.11's writer leaves a lone CR bare when the line terminator is LF, and a CSV reader (Python's
    own included) ends the row there: a name with a stray CR would split its row in two on the way back.
    Later Pythons quote it themselves; with this, every version writes the same bytes.
    """
    return CsvWriter(handle, options)


class CsvWriter:
    """See ``csv_writer``: a row with a CR in a cell is written with a CRLF terminator, which quotes it, and
    the CR of that terminator taken off again."""

    def __init__(self, handle: IO[str], options: dict):
        self.handle, self.options = handle, options
        self.plain = csv.writer(handle, lineterminator="\n", **options)

    def writerow(self, row) -> Any:
        cells = list(row)
        if not any(type(c) is str and "\r" in c for c in cells):
            return self.plain.writerow(cells)
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n", **self.options).writerow(cells)
        return self.handle.write(text.getvalue()[:-2] + "\n")

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)
