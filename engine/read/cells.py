"""The generated converters' per-record loop, run in C when the ``_cells`` extension is built.

``compile_row`` (CSV rows) and ``compile_record`` (``RuleSet.record``) write straight-line
Python per export or pack, and that Python is the reference. Each also describes its fields as
*slots* — where a field's text is, and how it becomes a value: stripped (``STRIP``), looked up
in a memo of texts already read and converted on a miss (``MEMO``), or converted every time
(``CALL``) — with the very memos and converter functions the Python uses. ``converter`` hands
the slots to ``engine.read._cells.Converter``, a loop in C that does those steps without the
interpreter's cost per step (a CSV row or a record in about half the time). It knows nothing of
dates, money or stages: every conversion is one of the Python callables it is given, so the two
can differ only in the loop, and tests/test_cells.py holds them to each other on random rows.

The extension is optional (``setup.py`` builds it when a C compiler is at hand): without it, or
with ``DEALGATE_PURE_PYTHON=1`` in the environment, ``converter`` returns None and the generated
Python runs alone.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Callable, Sequence
from typing import Any

try:
    from . import _cells
except ImportError:  # no C compiler when dealgate was installed: the generated Python does the work
    _cells = None  # type: ignore[assignment]

STRIP, MEMO, CALL = 0, 1, 2  # the slot kinds, as _cells numbers them
# (key, source, kind, memo, call, default, blank): see engine/read/_cells.c
Slot = tuple[str, Any, int, "dict | None", "Callable | None", Any, "Callable[[], Any] | None"]
# (exceptions, handler): the handler is given the source when one of the exceptions is raised
Catch = tuple["type[BaseException] | tuple[type[BaseException], ...]", Callable[[Any], dict]]


def available() -> bool:
    """True when the C loop is built and not switched off (``DEALGATE_PURE_PYTHON=1``)."""
    return _cells is not None and os.environ.get("DEALGATE_PURE_PYTHON", "") in ("", "0")


def converter(
    items: Sequence[tuple[str, Any]],
    slots: Sequence[Slot],
    *,
    by_key: bool,
    fallback: Callable[[Any], dict] | None = None,
    catch: tuple[Catch, ...] = (),
    exact: bool = True,
) -> Callable[[Any], dict] | None:
    """The C converter filling ``slots`` into a copy of the deal ``items`` (key, value), or None.

    ``items`` are the deal's keys in order, valued with what the slots leave alone (the
    defaults of fields without a column). ``by_key``: the source is a dict (else a list), holding
    the slots' keys and, if ``exact``, no other; ``fallback`` takes a dict of another shape;
    ``catch`` pairs exceptions with the function given the source when one of them is raised,
    as the generated Python's ``except`` clauses do. None when the extension is not there or is off.
    """
    if not available():
        return None
    template = _template(items)
    if len(template) != len(items):
        return None  # a key twice: the Python handles what that means
    assert _cells is not None
    return _cells.Converter(template, tuple(slots), by_key, fallback, catch, exact)


def _template(items: Sequence[tuple[str, Any]]) -> dict:
    """The deal each call copies: like ``deal_lines``'s deals, an instance's ``__dict__`` when every
    key can be an attribute (CPython copies such a "split" dict fastest), else a plain dict."""
    names = [name for name, _ in items]
    if not all(name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__") for name in names):
        return dict(items)
    deal = type("Deal", (), {})()
    for name, value in items:
        setattr(deal, name, value)
    return deal.__dict__
