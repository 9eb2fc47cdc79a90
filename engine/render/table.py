"""Tables for people: column widths from the content and the width available, never from constants.

A table is a list of ``Column``s and rows of text cells. ``Layout.fit`` measures the cells (in
terminal cells, so a Japanese deal name or an emoji counts double), caps each column at its
sane maximum, and when the whole is wider than the terminal shrinks the widest shrinkable
columns first, down to their minimums; only then does it drop optional columns. Text past a
column's width is cut with an ellipsis ("…"): at the end, or in the middle for ids (their
tails tell CRM ids apart: 006Ec00000AieKFIAZ and 006Ec00000AieKGIAZ), and never for
numbers, which are right-aligned and shown whole.

A streamed table (a million scored deals) is fitted to its first rows (``SAMPLE``), the only
ones held in memory; a later cell wider than its column is cut like any other (a number is
shown whole and pushes its row one or two characters right). The library decides nothing
about terminals: the caller says the width and whether to colour (``Display``).
"""

from __future__ import annotations

import attrs
from rich.cells import cell_len, get_character_cell_size
from rich.color import ColorSystem
from rich.style import Style

GAP = "  "  # between columns
ELLIPSIS = "…"
RULE = "─"  # under the header
SAMPLE = 1000  # rows a streamed table is fitted to


@attrs.frozen
class Display:
    """How a table for people is drawn: the caller (the CLI) decides, from the terminal and its options.

    ``width`` None means no limit beyond each column's maximum (a file, a pipe).
    ``columns``: the column keys to show, in order (``--columns``); None for the default set.
    """

    width: int | None = None
    color: bool = False
    columns: tuple | None = None


@attrs.frozen
class Column:
    key: str  # the name --columns knows it by
    header: str
    right: bool = False  # numbers: right-aligned and never cut
    max_width: int = 40  # a sane maximum: longer text is cut even when the terminal is wide
    min_width: int = 6  # shrinking to fit the terminal stops here
    comfort: int = 0  # narrower than this, optional columns are dropped first to make room (0: min_width)
    cut: str = "end"  # where long text loses characters: "end", "middle", or "never"
    optional: bool = False  # may be dropped (last first) when even the minimums do not fit


class UnknownColumns(ValueError):
    """--columns named columns the table does not have."""


def choose(columns: list[Column], default: list[str], wanted: tuple | None) -> list[Column]:
    """The columns to show: ``wanted`` keys in their order (all optional-free), or the ``default`` ones."""
    by_key = {c.key: c for c in columns}
    if wanted is None:
        return [by_key[k] for k in default]
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        raise UnknownColumns(f"no column {', '.join(map(repr, unknown))}; choose from: {', '.join(by_key)}")
    # Columns asked for by name are never dropped to fit: they are cut instead.
    return [attrs.evolve(by_key[k], optional=False) for k in wanted]


# measuring and cutting text


def printable(text: str) -> str:
    """``text`` without control characters: a tab or newline in a deal name would break the row,
    and an escape sequence in CRM data must not reach the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else (" " if ch in "\t\n\r" else "?") for ch in text)


def width_of(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _head(text: str, cells: int) -> str:
    """The longest start of ``text`` at most ``cells`` wide."""
    if text.isascii():
        return text[:cells]
    used = 0
    for index, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > cells:
            return text[:index]
    return text


def _tail(text: str, cells: int) -> str:
    return _head(text[::-1], cells)[::-1]


def cut(text: str, width: int, where: str = "end") -> str:
    """``text`` in at most ``width`` cells, with an ellipsis where characters were left out."""
    if width_of(text) <= width or where == "never":
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if where == "middle":
        head = (width - 1) // 3  # ids differ at their tails: keep more of the end
        return _head(text, head) + ELLIPSIS + _tail(text, width - 1 - head)
    return _head(text, width - 1) + ELLIPSIS


# colour

STYLES = {
    "header": "bold",
    "rule": "dim",
    "note": "dim",
    "ready": "green",
    "won": "bold green",
    "blocked": "yellow",
    "disqualified": "red",
    "lost": "dim",
    "over": "magenta",
    "pass": "green",
    "fail": "bold red",
    "gain": "green",
    "loss": "red",
    "total": "bold",
}


def _codes(spec: str) -> tuple[str, str]:
    """The escape codes that turn a style on and off, in the 8 standard colours every terminal has."""
    on_off = Style.parse(spec).render("\0", color_system=ColorSystem.STANDARD)
    on, _, off = on_off.partition("\0")
    return on, off


class Paint:
    """Styles by name (``STYLES``) as escape codes, or no codes at all when colour is off."""

    def __init__(self, color: bool):
        self.color = color
        self.codes = {name: _codes(spec) for name, spec in STYLES.items()} if color else {}

    def __call__(self, style: str | None, text: str) -> str:
        codes = self.codes.get(style) if style else None
        return f"{codes[0]}{text}{codes[1]}" if codes and text else text


# layout


@attrs.frozen
class Layout:
    columns: tuple
    widths: tuple

    @classmethod
    def fit(cls, columns: list[Column], rows: list[list[str]], width: int | None) -> Layout:
        """Widths from the headers and ``rows`` (a sample of them, for a streamed table), within ``width``."""
        columns = list(columns)
        while True:
            widths = _natural(columns, rows)
            if width is None or _shrink(columns, widths, width, [max(c.comfort, c.min_width) for c in columns]):
                return cls(tuple(columns), tuple(widths))
            droppable = [i for i, c in enumerate(columns) if c.optional]
            if not droppable:
                # Every column at its comfortable width and still too wide: cut further, to the minimums
                # (and past the terminal's edge when even those do not fit).
                _shrink(columns, widths, width, [c.min_width for c in columns])
                return cls(tuple(columns), tuple(widths))
            index = droppable[-1]
            columns.pop(index)
            rows = [row[:index] + row[index + 1 :] for row in rows]

    def pick(self, all_columns: list[Column]):
        """The positions of this layout's columns among ``all_columns``: to pick them out of full rows."""
        keys = [c.key for c in all_columns]
        return [keys.index(c.key) for c in self.columns]

    def line(self, cells, styles=None, paint: Paint | None = None) -> str:
        """One row: each cell cut to its column and padded, styled (not its padding) when painting."""
        last = len(self.columns) - 1
        parts = []
        for i, (column, width, text) in enumerate(zip(self.columns, self.widths, cells)):
            if len(text) <= width and text.isascii() and text.isprintable():
                pad = " " * (width - len(text))  # the common case, measured without rich (a million rows)
            else:
                text = cut(printable(text), width, column.cut)
                pad = " " * (width - width_of(text))
            if paint is not None and styles is not None and styles[i]:
                text = paint(styles[i], text)
            parts.append(pad + text if column.right else (text if i == last else text + pad))
        return GAP.join(parts).rstrip()

    def header(self, paint: Paint | None = None) -> str:
        style = ["header"] * len(self.columns)
        return self.line([c.header for c in self.columns], style, paint)

    def rule(self, paint: Paint | None = None) -> str:
        text = GAP.join(RULE * w for w in self.widths).rstrip()
        return paint("rule", text) if paint is not None else text


def _natural(columns: list[Column], rows: list[list[str]]) -> list[int]:
    """Each column as wide as its widest cell (or header), up to its maximum; numbers always whole."""
    widths = []
    for i, column in enumerate(columns):
        widest = max([width_of(column.header), *(width_of(printable(row[i])) for row in rows)])
        widths.append(widest if column.cut == "never" else min(widest, max(column.max_width, column.min_width)))
    return widths


def _shrink(columns: list[Column], widths: list[int], width: int, floors: list[int]) -> bool:
    """Narrow the shrinkable column with the most room above its floor, one cell at a time, until the
    row fits ``width``.

    Changes ``widths`` in place; False when every column is at its floor and it still does not fit.
    """
    over = sum(widths) + len(GAP) * (len(widths) - 1) - width
    while over > 0:
        candidates = [i for i, c in enumerate(columns) if c.cut != "never" and widths[i] > floors[i]]
        if not candidates:
            return False
        widest = max(candidates, key=lambda i: (widths[i] - floors[i], widths[i]))
        widths[widest] -= 1
        over -= 1
    return True


def render(columns: list[Column], rows: list[list[str]], display: Display, styles=None, indent: str = "") -> list[str]:
    """A small table, all in memory: its lines (header, rule, rows), fitted to ``display.width``."""
    width = None if display.width is None else max(display.width - len(indent), 1)
    layout = Layout.fit(columns, rows, width)
    positions = layout.pick(columns)
    paint = Paint(display.color) if display.color else None
    lines = [indent + layout.header(paint), indent + layout.rule(paint)]
    for n, row in enumerate(rows):
        row_styles = None if styles is None else [styles[n][p] for p in positions]
        lines.append(indent + layout.line([row[p] for p in positions], row_styles, paint))
    return lines
