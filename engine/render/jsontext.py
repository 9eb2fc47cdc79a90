"""Indented JSON text, the bytes ``json.dumps(value, indent=2, ensure_ascii=False)`` writes, made faster.

With ``indent``, the standard library leaves its C encoder for a pure-Python one built of nested
generators; on a payout of a million deals that encoder was most of the run (78 of 125 s in one
profile). This writer walks the same structure once with plain loops and uses the C string
escaping, for the values renderers make: dicts with string keys, lists and tuples, strings,
ints, booleans, None. Anything else (a float, a non-string key) is handed to ``json.dumps``, so
the text is always the standard library's; tests/test_render_jsontext.py holds the two equal.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C escaping when available, ensure_ascii=False


class _Other(Exception):
    """A value this writer leaves to json.dumps."""


def dumps_indented(value, indent: int = 2) -> str:
    """``json.dumps(value, indent=indent, ensure_ascii=False)``."""
    out: list[str] = []
    try:
        _write(value, out, "\n", " " * indent)
    except _Other:
        return json.dumps(value, indent=indent, ensure_ascii=False)
    return "".join(out)


def dumps_nested(value, depth: int, indent: int = 2) -> str:
    """``value`` as ``dumps_indented`` writes it inside a document, ``depth`` levels down: what a
    streaming writer puts between the brackets it writes itself (JSON strings hold no raw newline,
    so indenting the text of the standard library's fallback is exact)."""
    out: list[str] = []
    try:
        _write(value, out, "\n" + " " * (indent * depth), " " * indent)
    except _Other:
        return json.dumps(value, indent=indent, ensure_ascii=False).replace("\n", "\n" + " " * (indent * depth))
    return "".join(out)


def _write(value, out: list, newline: str, step: str) -> None:
    kind = value.__class__
    if kind is str:
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        _write_dict(value, out, newline, step)
    elif kind is list or kind is tuple:
        _write_list(value, out, newline, step)
    else:
        raise _Other


def _write_dict(value: dict, out: list, newline: str, step: str) -> None:
    if not value:
        out.append("{}")
        return
    inner = newline + step
    separator = "{" + inner
    for key, item in value.items():
        if key.__class__ is not str:
            raise _Other
        kind = item.__class__
        if kind is str:  # the commonest values, written here rather than by a call each
            out.append(f"{separator}{encode_basestring(key)}: {encode_basestring(item)}")
        elif item is None:
            out.append(f"{separator}{encode_basestring(key)}: null")
        else:
            out.append(f"{separator}{encode_basestring(key)}: ")
            _write(item, out, inner, step)
        separator = "," + inner
    out.append(newline + "}")


def _write_list(value, out: list, newline: str, step: str) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + step
    separator = "[" + inner
    for item in value:
        out.append(separator)
        _write(item, out, inner, step)
        separator = "," + inner
    out.append(newline + "]")
