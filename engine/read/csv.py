"""CSV and TSV exports: the header matched to fields, and rows read by a converter generated per file."""

from __future__ import annotations

import csv
import itertools
import keyword
from collections.abc import Callable, Iterator
from typing import Any

from .. import types as T
from ..values import EXCEL_FLOAT_ID, ValueProblem, text_converter
from . import cells
from .errors import ID_FIELD, ExportError, Reject, RequiredMissing
from .state import ReaderState


class CsvRecords(ReaderState):
    """ExportReader's CSV part: it reads the header when the reader opens, then the rows.

    A mixin: its methods work on the reader's state (the text stream, delimiter, field lookup,
    defaults, counts) and report through the reader's ``_warn`` and ``_reject``.
    """

    @property
    def header_line(self) -> int:
        """The physical line of the header row (blank lines before it are skipped)."""
        return self._header_line

    @property
    def column_plan(self) -> list[tuple[int, str]]:
        """(column position, field name) for every column read, in column order: what the SQL engines read."""
        return list(self._csv_plan)

    def _start_csv(self) -> None:
        self._open_csv_lines()
        try:
            header = None
            for row in self._csv:
                if not blank_row(row):
                    header = row
                    break
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self._unreadable(exc) from None
        if header is None:
            raise ExportError("the export is empty: no header row", source=self.source_name)
        self._header_line = self._csv.line_num
        self.header = [name.strip() for name in header]
        taken: dict[str, int] = {}  # field name -> column index
        seen: dict[str, int] = {}  # lower-case header -> first column index
        plan = []
        line = self._header_line
        for index, name in enumerate(self.header):
            key = name.lower()
            field = self._lookup.get(key)
            first = seen.setdefault(key, index)
            if field is None:
                continue
            if first != index:
                self._warn(
                    line,
                    f"column '{name}' appears more than once (columns {first + 1} and {index + 1}); using the first",
                )
                continue
            if field.name in taken:
                other = taken[field.name]
                self._warn(
                    line,
                    f"columns '{self.header[other]}' and '{name}' both map to field '{field.name}'; "
                    f"using '{self.header[other]}' (column {other + 1})",
                )
                continue
            taken[field.name] = index
            self.columns[field.name] = name
            plan.append((index, field.name))
        missing = [
            f
            for f in self._readable.values()
            if f.name not in taken and f.required and self.defaults.get(f.name) is None
        ]
        if missing:
            message = "; ".join(
                f"no column for required field '{f.name}' (looked for: {', '.join([f.name, *f.columns])})"
                for f in missing
            )
            if len(header) == 1:
                others = [d for d in ";\t|," if d != self.delimiter and d in header[0]]
                if others:
                    message += f" — the header is one column: is the delimiter {others[0]!r}?"
            raise ExportError(message, source=self.source_name, line=line)
        self._csv_plan = plan

    def _open_csv_lines(self) -> None:
        """The csv reader over the export's lines (``_lines``, a LineTape): what reads the header and then the rows."""
        self._lines = LineTape(self._text)
        self._csv = csv.reader(self._lines.feed, delimiter=self.delimiter)

    def _csv_records(self) -> Iterator[tuple[int, dict | Reject]]:
        """(first line, deal or Reject) of each record, as ``records()`` gives them.

        One generator from the csv module's rows to the deals: a generator between them (the
        records as cells, then the deals) cost a resumption per row. The csv module reads the
        lines of the LineTape, in runs: a run ends at a runaway quote (``_runaway``), and the
        next one starts on the line after the runaway's first line. A quote left open runs on
        through the lines after it, swallowing rows: a record that runs into the end of the
        input, or that ``swallowed_lines`` says is one, or that spans lines and grows past the
        csv module's cell limit, has its first line rejected, and the lines after it are read
        again as records of their own, so the rows a user sees are counted. The everyday record
        (one line) costs a comparison of line numbers.
        """
        assert self.header is not None, "read by _start_csv"
        width = len(self.header)
        convert, self.row_source = compile_row(
            self._csv_plan,
            self._readable,
            self.defaults,
            self.stages,
            [n for n in self._readable if n not in self.columns],
        )
        id_is_text = ID_FIELD in self.columns and self._readable[ID_FIELD].type == T.STRING
        check_id = self._check_id if id_is_text else None
        mangled = EXCEL_FLOAT_ID.match
        counts = self.counts
        records = deals = 0  # counted here, kept in ``counts`` as the rows run out: an attribute per row costs
        lines, reader = self._lines, self._csv
        lines.raise_at_end = True  # the header is read; from here a record left open at the end is a runaway
        base = self._header_line - reader.line_num  # physical line = base + the reader's line_num
        line = self._header_line + 1  # where the next record starts
        forget_at = line + KEEP_LINES
        try:
            while True:
                try:
                    for row in reader:
                        start, line = line, base + reader.line_num + 1
                        if line - start != 1 and swallowed_lines(row, line - start, width):
                            break  # a runaway quote
                        if start > forget_at:  # the kept lines: from a recent record on, not the whole file
                            lines.forget_before(start)
                            forget_at = start + KEEP_LINES
                        if not row or (not row[0] or row[0].isspace()) and blank_row(row):
                            counts.blank += 1
                            continue
                        records += 1
                        if len(row) != width:
                            yield start, self._width_reject(start, row, width)
                            continue
                        try:
                            deal = convert(row)
                        except ValueProblem:
                            yield start, self._csv_reject(start, row)
                            continue
                        if check_id is not None:
                            deal_id = deal[ID_FIELD]
                            # Every id the pattern takes is all digits or has a '.', '+' or '-': skip the plain ones.
                            if (
                                deal_id is not None
                                and (deal_id.isdigit() or not deal_id.isalnum())
                                and mangled(deal_id)
                            ):
                                check_id(start, deal_id)
                        deals += 1
                        yield start, deal
                    else:
                        return
                except EndOfInput:
                    if base + reader.line_num < line:  # no record open: the input ended between records
                        return
                    start = line  # a record open at the end of the input: a runaway quote (only one makes it)
                except csv.Error as exc:
                    if not ("field larger than field limit" in str(exc) and base + reader.line_num > line):
                        raise self._csv_error(exc, line) from None
                    start = line  # a record spanning lines grew past the cell limit: a runaway quote
                records += 1
                yield start, self._runaway(start)
                reader = self._csv = csv.reader(lines.feed, delimiter=self.delimiter)
                base, line = start, start + 1
        finally:
            counts.records += records
            counts.deals += deals

    def _runaway(self, start: int) -> Reject:
        """The reject of the runaway quote opened at line ``start``; the LineTape then feeds the lines after it."""
        self._lines.reread_after(start)
        first = self._lines.first_line()
        return self._reject(start, self._runaway_id(first), None, first, f"unclosed quote opened at line {start}")

    def _width_reject(self, line: int, row: list, width: int) -> Reject:
        cells = f"{len(row)} cell" + ("" if len(row) == 1 else "s")
        return self._reject(line, None, None, self.delimiter.join(row), f"row has {cells}, header has {width}")

    def _runaway_id(self, line: str) -> str | None:
        """The id of a runaway quote's row, when its cell comes before the quote."""
        if ID_FIELD not in self.columns:
            return None
        cells = next(csv.reader([line], delimiter=self.delimiter), [])
        id_index = next(index for index, name in self._csv_plan if name == ID_FIELD)
        if id_index >= len(cells) - 1:  # the last cell holds the open quote and what follows it
            return None
        try:
            deal_id = self._cells[ID_FIELD](cells[id_index])
        except ValueProblem:
            return None
        return deal_id if isinstance(deal_id, str) else None

    def _csv_reject(self, line: int, row: list) -> Reject:
        """The first cell, in column order, that cannot be read (the fast path only knows one failed)."""
        cells = self._cells
        deal_id = None
        if ID_FIELD in self.columns:
            id_index = next(index for index, name in self._csv_plan if name == ID_FIELD)
            try:
                deal_id = cells[ID_FIELD](row[id_index])
            except ValueProblem:
                deal_id = None
        for index, name in self._csv_plan:
            try:
                cells[name](row[index])
            except ValueProblem as problem:
                return self._reject(line, deal_id, self.header[index], row[index], str(problem))  # type: ignore[index]
        raise AssertionError("a cell failed once and then passed")  # converters are pure functions


MAX_RECORD_LINES = 1000  # a quoted cell spanning more lines is taken for a quote left open


def runaway_quote(lines: LineFeed, row: list, spanned: int, width: int) -> bool:
    """Whether a record just read is a quote left open rather than a quoted cell with line breaks.

    The heuristic (docs/scoring.md), shared by every engine's reading of CSV: the csv module
    read past the end of the file inside the record (only an open quote makes it), or the
    record spans several lines and has a number of cells other than the header's ``width``
    or spans more than MAX_RECORD_LINES lines (``swallowed_lines``).
    """
    return lines.ended or swallowed_lines(row, spanned, width)


def swallowed_lines(row: list, spanned: int, width: int) -> bool:
    """Whether a record read whole looks like a quote left open: several lines, and wrong cells or too many lines."""
    return spanned > 1 and (len(row) != width or spanned > MAX_RECORD_LINES)


KEEP_LINES = 1024  # LineTape keeps the lines from a record at most this many lines back (and the current record's)


class EndOfInput(Exception):
    """Raised through the csv module at the end of the export's lines, once rows are read (LineTape)."""


class LineTape:
    """The export's lines as the csv module reads them: straight from the text stream, recent lines kept.

    The csv module pulls each line through C-level iterators only (``itertools.chain`` and
    ``tee``): nothing runs in Python per line. The second branch of the tee lags behind,
    keeping the lines from a recent record on (``forget_before`` moves it up), which is what
    lets a runaway quote's swallowed lines be read again (``reread_after``). At the end of the
    lines, once ``raise_at_end`` is set, EndOfInput is raised through the csv module instead of
    the iteration ending: a record still open there (a quote never closed, which the csv module
    would hand over as if complete) is then known by the lines it took.
    """

    def __init__(self, text):
        self.raise_at_end = False
        self.feed, self._kept = itertools.tee(itertools.chain(text, iter(self._end, None)))
        self._kept_from = 1  # the physical line the kept branch gives next
        self._first = ""

    def _end(self) -> None:
        if self.raise_at_end:
            raise EndOfInput
        return None  # iter(self._end, None) stops

    def forget_before(self, line: int) -> None:
        """Let go of the kept lines before physical line ``line`` (lines the csv module has read)."""
        skip = line - self._kept_from
        if skip > 0:
            next(itertools.islice(self._kept, skip, skip), None)
            self._kept_from = line

    def reread_after(self, line: int) -> None:
        """Keep the first line of the record starting at ``line``; ``feed`` then gives the lines after it again."""
        self.forget_before(line)
        self._first = next(self._kept, "")
        self.feed, self._kept = itertools.tee(self._kept)
        self._kept_from = line + 1

    def first_line(self) -> str:
        """The first line of the runaway quote's record (``reread_after``), without its line break."""
        return self._first.rstrip("\r\n")


class LineFeed:
    """The export's lines as the csv module reads them, keeping the current record's lines.

    A generator and a list append per line; the kept lines are what lets a runaway quote's
    swallowed lines be read again as the records they are. The SQL engines find runaway
    quotes' lines with it; ExportReader reads through the cheaper LineTape.
    """

    def __init__(self, text):
        self.source = iter(text)
        self.record: list[str] = []
        self.ended = False

    def lines(self) -> Iterator[str]:
        keep = self.record.append
        for line in self.source:
            keep(line)
            yield line
        self.ended = True

    def record_done(self) -> None:
        self.record.clear()

    def spans_lines(self) -> bool:
        return len(self.record) > 1

    def first_line(self) -> str:
        return self.record[0].rstrip("\r\n") if self.record else ""

    def reread_after_first(self) -> Iterator[str]:
        """The lines of the current record but its first, then the rest of the file: a new csv reader's input."""
        again = self.record[1:]
        self.record.clear()
        self.source = itertools.chain(again, self.source)
        self.ended = False
        return self.lines()


def blank_row(row: list) -> bool:
    return all(not cell or cell.isspace() for cell in row)


def compile_row(plan: list, fields: dict, defaults: dict, stages, absent: list) -> tuple[Callable, str]:
    """One function turning a CSV row (a list of cells) into a deal dict, generated per file.

    Like the rule compiler, this writes straight-line Python once so the per-row work is
    only the conversions themselves: a string cell is ``row[i].strip() or <default>``, any
    other cell but a list is one subscript of a memo of texts already read, seeded with the
    blank ('' -> the default; not for a required field without one), and only a text the
    memo lacks (KeyError) calls ``x<k>``: the converter from ``engine.values``, remembered, or
    the blank's default. (Exports repeat their dates, flags, stages and amounts; the values
    are immutable, so deals may share them. Lists are not.) The deal, the values in column
    order and then the defaults of the fields without a column, is made as ``deal_lines``
    says (cheaper than a dict literal of twenty fields). A cell that cannot be
    read raises ValueProblem; the caller then finds which one (rare, so it may be slow).
    Returns the function and its source (kept on the reader as ``row_source``): the same steps
    run in C (engine.read.cells) when the extension is there, the Python being their reference.
    """
    namespace: dict = {}
    lines = ["def convert(row):"]
    items: list = []
    slots: list[cells.Slot] = []
    for k, (index, name) in enumerate(plan):
        field = fields[name]
        default = defaults.get(name)
        required = field.required and default is None
        namespace[f"d{k}"] = default
        if required:
            namespace[f"r{k}"] = _raiser(RequiredMissing(f"missing required field '{name}'"))
            blank = f"r{k}()"
        else:
            blank = f"d{k}"
        convert = text_converter(field.type, stages=stages, **field.reading())
        if field.type == T.STRING:
            lines.append(f"    v{k} = row[{index}].strip() or {blank}")
            slots.append((name, index, cells.STRIP, None, None, default, namespace.get(f"r{k}")))
        elif field.type != T.LIST:
            memo, remembered = memo_of_texts(convert, default, required)
            namespace[f"m{k}"] = memo
            namespace[f"x{k}"] = _text_or_blank(remembered, namespace.get(f"r{k}"), default)
            slots.append((name, index, cells.MEMO, memo, namespace[f"x{k}"], default, None))
            lines += [
                "    try:",
                f"        v{k} = m{k}[row[{index}]]",
                "    except KeyError:",
                f"        v{k} = x{k}(row[{index}])",
            ]
        else:
            namespace[f"c{k}"] = convert
            lines.append(f"    t = row[{index}]")
            lines.append(f"    v{k} = c{k}(t) if t and not t.isspace() else {blank}")
            slots.append(
                (name, index, cells.CALL, None, _text_or_blank(convert, namespace.get(f"r{k}"), default), default, None)
            )
        items.append((name, f"v{k}"))
    for j, name in enumerate(absent):
        namespace[f"a{j}"] = defaults.get(name)
        items.append((name, f"a{j}"))
    lines += deal_lines(items, namespace)
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<dealgate row reader>", "exec"), namespace)  # indices and repr'd names only
    template = [(name, None) for name, _ in items[: len(plan)]] + [(name, defaults.get(name)) for name in absent]
    return cells.converter(template, slots, by_key=False) or namespace["convert"], source


def deal_lines(items: list[tuple[str, str]], namespace: dict) -> list[str]:
    """The generated lines making and returning the deal ``{name: variable, ...}`` of ``items``, in order.

    The deal is the ``__dict__`` of a fresh instance of an empty class, its fields stored as
    attributes: in CPython that costs about half of storing them in a copy of a template
    dict, and a dict literal of twenty fields costs more still. The result is a plain
    ``dict`` all the same (a "split" one, sharing its keys with the other deals: smaller too).
    Names that cannot be attributes (keywords, names starting with '__') fall back to the
    template copy. Adds what the lines need to ``namespace``.
    """
    names = [name for name, _ in items]
    if all(name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__") for name in names):
        namespace["Deal"] = type("Deal", (), {})  # one class per converter: its deals share their keys
        stores = [f"    deal.{name} = {variable}" for name, variable in items]
        return ["    deal = Deal()", *stores, "    return deal.__dict__"]
    namespace["TEMPLATE"] = dict.fromkeys(names)
    stores = [f"    deal[{name!r}] = {variable}" for name, variable in items]
    return ["    deal = TEMPLATE.copy()", *stores, "    return deal"]


def _text_or_blank(convert: Callable[[str], Any], blank: Callable[[], Any] | None, default) -> Callable[[str], Any]:
    """A cell's value when its memo lacks the text: converted if not blank, else the default (or ``blank()`` raises)."""

    def cell(text: str):
        if text and not text.isspace():
            return convert(text)
        if blank is not None:
            return blank()
        return default

    return cell


def _raiser(problem: ValueProblem) -> Callable[[], Any]:
    def blank():
        raise problem

    return blank


MEMO_LIMIT = 65_536  # texts remembered per field; then the memo starts again (ids and names never repeat)


def memo_of_texts(convert: Callable[[str], Any], default, required: bool) -> tuple[dict, Callable[[str], Any]]:
    """A new memo of one field's texts, seeded with the blank ('' -> ``default``; nothing for a required
    field, whose blank must raise), and ``convert`` remembering in it. The seed holds no None: a memo
    of str keys only is looked up on CPython's faster path."""
    seed = {} if required else {"": default}
    memo = dict(seed)
    return memo, remembering(convert, memo, seed)


def remembering(convert: Callable[[str], Any], memo: dict, seed: dict) -> Callable[[str], Any]:
    """``convert`` remembering its results in ``memo``, at most MEMO_LIMIT of them.

    When full, the memo starts again from ``seed`` (the blanks the generated code expects to
    find there), so a field whose texts never repeat costs memory only up to the limit.
    Failures are not remembered, nor what ``convert`` makes of a value that is not a str.
    """

    def remembered(text):
        value = convert(text)
        if type(text) is str:  # not a JSON native: the memos hold texts only (and 1 == True)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
                memo.update(seed)
            memo[text] = value
        return value

    return remembered
