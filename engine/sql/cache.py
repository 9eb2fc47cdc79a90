"""Compiled SQL text kept between runs, so an unchanged pack is not compiled again.

Building the DuckDB scoring query (sqlglot trees for every cell reading, rule and
output cell) and printing it as a few hundred KB of SQL takes one to two seconds:
most of a small export's run, and a fixed cost on a big one. The text depends only
on what went into it, so it is kept in a file named by a digest of all of that:

- the pack: every document's kind, file, position and parsed data (a changed rule
  file is a new key);
- the code that turns a pack into SQL (every ``engine/**/*.py``, by content), the
  Python, sqlglot and DuckDB versions, and the LC_TIME locale (date formats such as
  %x are spelled out per locale);
- the caller's parts: the export's header and column plan, the output format, the
  as-of date, and so on (``SqlCache.key``).

The export's path and name are not part of the key: the text holds placeholders
for them, replaced by their literals when it is used, so that each day's export of
the same shape reuses the same text.

Where: ``$DEALGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/dealgate``, else
``~/.cache/dealgate``. ``DEALGATE_CACHE_DIR=off`` turns it off. A cache that cannot
be read or written (read-only home) is silently skipped: it only ever saves time.
"""

from __future__ import annotations

import functools
import hashlib
import locale
import os
import sys
import tempfile
from pathlib import Path

ENGINE_ROOT = Path(__file__).resolve().parent.parent
VERSION = "1"  # bump when the layout of a cached entry changes


def cache_dir() -> Path | None:
    """The directory of cached SQL, or None when caching is off."""
    configured = os.environ.get("DEALGATE_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dealgate"


@functools.cache
def code_digest() -> str:
    """A digest of the engine's own source: any change to the compiler is a new key."""
    digest = hashlib.sha256()
    for path in sorted(ENGINE_ROOT.rglob("*.py")):
        digest.update(str(path.relative_to(ENGINE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pack_digest(ruleset) -> str:
    """A digest of the pack's documents as loaded (what every compiled form is made from)."""
    digest = hashlib.sha256()
    for document in ruleset.analysis.pack.documents:
        digest.update(repr((document.kind, document.file, document.index, document.data)).encode())
    return digest.hexdigest()


def _environment() -> tuple:
    import duckdb
    import sqlglot

    return (VERSION, sys.version, sqlglot.__version__, duckdb.__version__, locale.setlocale(locale.LC_TIME))


class SqlCache:
    """Cached SQL texts for one pack; ``key(...)`` then ``load``/``store``."""

    def __init__(self, ruleset, directory: Path | None = None):
        self.directory = cache_dir() if directory is None else directory
        self._base = repr((_environment(), code_digest(), pack_digest(ruleset))) if self.directory else ""

    def key(self, *parts) -> str | None:
        """The key of a text made from the pack and ``parts`` (plain values with a stable repr)."""
        if self.directory is None:
            return None
        return hashlib.sha256(repr((self._base, parts)).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None, "a key is made only when there is a directory"
        return self.directory / f"{key}.sql"

    def load(self, key: str | None) -> str | None:
        if key is None:
            return None
        try:
            return self._path(key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def store(self, key: str | None, text: str) -> None:
        """Keep ``text`` (written whole, then renamed: a concurrent run never reads half of it)."""
        if key is None:
            return
        assert self.directory is not None, "a key is made only when there is a directory"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(temporary, self._path(key))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache we cannot write only costs time
