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
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator


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


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """Open ``path`` for writing; the file appears, complete, only when the block succeeds.

    ``mode`` is "w" (text; ``encoding`` and ``newline`` as for ``open``) or "wb".
    A replaced file keeps its permission bits; a new one gets 0666 minus the umask.
    A symlink is followed; a device or FIFO (``/dev/null``, ``/dev/stdout``) is written in place.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    target = Path(os.path.realpath(path))  # through a symlink: replace the file it points to, not the link
    if target.exists() and not target.is_file():
        # /dev/null, /dev/stdout, a FIFO: there is nothing to replace atomically, and renaming a
        # temporary file over a device node would destroy it. Write to it as it is.
        with open(target, mode, **({} if mode == "wb" else {"encoding": encoding, "newline": newline})) as handle:
            yield handle
        return
    directory = target.parent if str(target.parent) else Path(".")
    try:
        permissions = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        permissions = 0o666 & ~_UMASK
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        handle = os.fdopen(fd, "wb") if mode == "wb" else os.fdopen(fd, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, permissions)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


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
