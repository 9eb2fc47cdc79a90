"""Generated code that can be traced back: readable file names, source in ``linecache``, and a line map.

dealgate compiles rules to Python source and ``exec``s it (engine.compile, engine.payout.credit, the
readers and writers). Python only shows source lines in a traceback or a profile when ``linecache``
has them, so each generated module is registered there under a name that says what it is (Jinja2
does the same for templates). Each module also keeps a map from its lines to the rule they evaluate,
so that an error raised inside generated code can name the YAML file and line of the rule, not only
``line 19``.

Registrations are bounded (the oldest are dropped): a test run compiles thousands of packs.
"""

from __future__ import annotations

import hashlib
import linecache
from collections import OrderedDict
from types import TracebackType

import attrs

from .diagnostics import Location

#: How many generated modules stay registered; older ones lose their source lines in tracebacks.
KEPT = 256

_registered: OrderedDict[str, dict[int, Origin]] = OrderedDict()


@attrs.frozen
class Origin:
    """The rule a generated line evaluates: what it is ("stage discovery, criterion budget") and where."""

    what: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.what}"

    @property
    def comment(self) -> str:
        """The comment the generated line carries: ``pipeline.yaml:59 stage discovery, criterion budget``."""
        where = f"{self.location.file}:{self.location.line}" if self.location.line else self.location.file
        return one_line(f"{where} {self.what}")


def one_line(text: str) -> str:
    """``text`` safe to put in a comment of generated code: a newline in a file name or an id must not
    end the comment and turn the rest into code."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def constants_comment(title: str, constants: dict) -> str:
    """Comment lines (ending in a newline) saying what a module's constants hold: they are bound as
    globals, not assigned in the source, but a reader of the source needs their values."""
    lines = [f"# {one_line(title)}. Constants (bound as globals):"]
    lines.extend(f"#   {name} = {value!r}" for name, value in constants.items())
    return "\n".join(lines) + "\n"


def load(source: str, namespace: dict, kind: str, origins: dict[int, Origin] | None = None) -> str:
    """Compile and execute ``source`` into ``namespace``; return the file name it was compiled under.

    ``kind`` says what the module is ("ruleset rules/pipeline.yaml"); ``origins`` maps 1-based line
    numbers of ``source`` to the rules they evaluate. Identical sources share one name.
    """
    digest = hashlib.blake2b(source.encode("utf-8"), digest_size=4).hexdigest()
    filename = f"<dealgate {kind} #{digest}>"
    _register(filename, source, origins or {})
    exec(compile(source, filename, "exec"), namespace)  # callers generate from checked input only
    return filename


def _register(filename: str, source: str, origins: dict[int, Origin]) -> None:
    # An mtime of None tells linecache.checkcache the entry has no file to go stale against.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    _registered[filename] = origins
    _registered.move_to_end(filename)
    while len(_registered) > KEPT:
        dropped, _ = _registered.popitem(last=False)
        linecache.cache.pop(dropped, None)


def origin_of(traceback: TracebackType | None) -> Origin | None:
    """The rule being evaluated where an exception was raised: the innermost generated frame that has one."""
    found = None
    while traceback is not None:
        code = traceback.tb_frame.f_code
        origins = _registered.get(code.co_filename)
        if origins is not None:
            found = origins.get(traceback.tb_lineno, found)
        traceback = traceback.tb_next
    return found
