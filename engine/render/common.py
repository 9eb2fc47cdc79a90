"""What several renderers share: JSON-ready values and GitHub workflow annotations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def jsonable(value):
    """A value as JSON can carry it exactly: Decimals and dates as strings, tuples as lists."""
    if isinstance(value, (Decimal, dt.date)):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    return value


def probability_text(probability: Decimal | None) -> str:
    """A probability for people, the one way every table shows it: a percentage ("60%", "12.5%")."""
    if probability is None:
        return "-"
    return f"{(probability * 100).normalize():f}%"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str, keep: str = "") -> str:
    """``text`` safe for a terminal: control and format characters (an escape sequence that clears
    the screen, a newline that fakes a row, a bidi override) written as escapes (\\x1b, \\n);
    characters in ``keep`` (say, the newlines of a multi-line text) stay as they are."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, properties: list[tuple[str, object]], message: str) -> str:
    """One GitHub Actions workflow command, e.g. ``::error file=a.yaml,line=3,col=5,title=DG101::message``.

    Text properties and the message are escaped as the runner expects (a ':' or ',' would end a property).
    """
    props = ",".join(
        f"{key}={_escape_property(value) if isinstance(value, str) else value}" for key, value in properties
    )
    return f"::{level} {props}::{_escape_data(message)}"
