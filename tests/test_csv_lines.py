"""ExportReader's CSV lines (engine.read.csv.LineTape) read exactly as the LineFeed reading did.

The reader used to feed the csv module through LineFeed, a generator keeping each record's
lines, with a generator of cells between it and the deals; it now reads through LineTape
(C-level iterators, EndOfInput at the end) in one generator. Hypothesis
writes CSV with quoted line breaks, quotes left open (also on the last line, with and without
a final line break), blank lines and rows of the wrong width, and both readers must give the
same records, rejects (lines, values, reasons), counts, warnings and errors. ``LineFeedReader``
below is the previous reading (``_csv_records`` and ``_csv_rows`` as they were), kept here as
the reference.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import types as T
from engine.pack import read_pack
from engine.read import ExportError, ExportReader
from engine.read import csv as read_csv
from engine.read.errors import ID_FIELD
from engine.values import EXCEL_FLOAT_ID, ValueProblem

pytestmark = pytest.mark.usefixtures("converter_loop")  # each test with the loop in C and in Python
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def analysis():
    result = read_pack([ROOT / "rules"])
    assert result.ok, result.diagnostics
    return result.analysis


class LineFeedReader(ExportReader):
    """The reading before LineTape: every line through LineFeed (the reference)."""

    def _open_csv_lines(self) -> None:
        self._lines = read_csv.LineFeed(self._text)  # type: ignore[assignment]
        self._csv = csv.reader(self._lines.lines(), delimiter=self.delimiter)  # type: ignore[attr-defined]

    def _csv_records(self):
        assert self.header is not None
        width = len(self.header)
        convert, self.row_source = read_csv.compile_row(
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
        records = deals = 0
        delimiter = self.delimiter
        try:
            for start, row in self._line_feed_rows(width):
                if row is RUNAWAY_QUOTE:
                    records += 1
                    first = self._lines.first_line()
                    yield (
                        start,
                        self._reject(
                            start, self._runaway_id(first), None, first, f"unclosed quote opened at line {start}"
                        ),
                    )
                    continue
                if not row or (not row[0] or row[0].isspace()) and read_csv.blank_row(row):
                    counts.blank += 1
                    continue
                records += 1
                if len(row) != width:
                    cells = f"{len(row)} cell" + ("" if len(row) == 1 else "s")
                    yield (
                        start,
                        self._reject(start, None, None, delimiter.join(row), f"row has {cells}, header has {width}"),
                    )
                    continue
                try:
                    deal = convert(row)
                except ValueProblem:
                    yield start, self._csv_reject(start, row)
                    continue
                if check_id is not None:
                    deal_id = deal[ID_FIELD]
                    if deal_id is not None and (deal_id.isdigit() or not deal_id.isalnum()) and mangled(deal_id):
                        check_id(start, deal_id)
                deals += 1
                yield start, deal
        finally:
            counts.records += records
            counts.deals += deals

    def _line_feed_rows(self, width):
        lines, reader = self._lines, self._csv
        done = lines.record_done
        done()  # the header's lines
        base = self._header_line - reader.line_num
        line = self._header_line + 1
        while True:
            done()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if not ("field larger than field limit" in str(exc) and lines.spans_lines()):
                    raise self._csv_error(exc, line) from None
                row = None
            start, line = line, base + reader.line_num + 1
            if row is not None and (
                line - start == 1 and not lines.ended or not read_csv.runaway_quote(lines, row, line - start, width)
            ):
                yield start, row
                continue
            yield start, RUNAWAY_QUOTE
            reader = self._csv = csv.reader(lines.reread_after_first(), delimiter=self.delimiter)
            base, line = start, start + 1


RUNAWAY_QUOTE = object()


def _read(cls, analysis, data: bytes):
    try:
        reader = cls(analysis, io.BytesIO(data))
        items = list(reader.records())
    except ExportError as error:
        return "error", str(error), error.line
    return "ok", items, reader.counts, reader.warnings


cells = st.one_of(
    st.sampled_from(["006A", "won", "Discovery", "closed won", "$1,500.00", "100", "", " ", "x", "01/25/2027"]),
    st.text(st.sampled_from(list('ab ,"\n\r$')), max_size=6),
)


@st.composite
def exports(draw) -> bytes:
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [draw(st.sampled_from(["", ending])) + "Opportunity ID,Stage,Amount,Close Date"]
    for k in range(draw(st.integers(0, 8))):
        row = [f"d{k}", draw(cells), draw(cells), draw(cells)][: draw(st.integers(1, 5))]
        style = draw(st.sampled_from(["plain", "plain", "quoted", "open", "blank"]))
        if style == "blank":
            lines.append(draw(st.sampled_from(["", " ", ","])))
            continue
        if style == "plain":
            row = [c.replace('"', "").replace("\n", "").replace("\r", "").replace(",", "") for c in row]
            lines.append(",".join(row))
        elif style == "quoted":
            lines.append(",".join('"' + c.replace('"', '""') + '"' for c in row))
        else:  # a quote left open in one cell
            at = draw(st.integers(0, len(row) - 1))
            lines.append(",".join(('"' if i == at else "") + c.replace('"', "") for i, c in enumerate(row)))
    return (ending.join(lines) + draw(st.sampled_from(["", ending]))).encode("utf-8")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_line_tape_reads_as_line_feed_did(analysis, data):
    assert _read(ExportReader, analysis, data) == _read(LineFeedReader, analysis, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_line_tape_reads_as_line_feed_did_past_the_cell_limit(analysis, data):
    limit = csv.field_size_limit(12)  # cells spanning lines grow past it: the csv.Error path
    try:
        assert _read(ExportReader, analysis, data) == _read(LineFeedReader, analysis, data)
    finally:
        csv.field_size_limit(limit)


def test_a_quote_left_open_on_the_last_line_is_a_runaway(analysis):
    for ending in ("", "\n", "\r\n"):
        data = f'id,stage,amount\nA,won,5\nB,won,"7{ending}'.encode()
        kind, items, counts, _ = _read(ExportReader, analysis, data)
        assert [line for line, _ in items] == [2, 3]
        assert items[1][1].reason == "unclosed quote opened at line 3" and items[1][1].value == 'B,won,"7'
        assert _read(LineFeedReader, analysis, data) == (kind, items, counts, _)


def test_runaway_lines_far_apart_keep_their_lines(analysis, monkeypatch):
    monkeypatch.setattr(read_csv, "KEEP_LINES", 3)  # the kept lines are let go of every few records
    body = "".join(f"d{k},won,{k}\n" for k in range(40))
    # X's quote closes at Y's (four cells: a runaway); Y's stays open to the end (a runaway too)
    data = f'id,stage,amount\n{body}X,won,"9\n{body}Y,"1,won\nZ,won,2\n'.encode()
    new, old = _read(ExportReader, analysis, data), _read(LineFeedReader, analysis, data)
    assert new == old
    assert [(line, item.value) for line, item in new[1] if not isinstance(item, dict)] == [
        (42, 'X,won,"9'),
        (83, 'Y,"1,won'),
    ]


# The deal dicts the generated converters make (read.csv.deal_lines)


@pytest.mark.parametrize("names", [["id", "amount", "flag"], ["id", "class", "flag"], ["id", "__amount__", "flag"]])
def test_converted_rows_are_plain_dicts_in_column_order(names):
    from decimal import Decimal

    from engine.model import Field

    types = [T.STRING, T.MONEY, T.BOOL]
    fields = {n: Field(n, t, required=n == "id") for n, t in zip(names, types)}
    fields["absent"] = Field("absent", T.INT)
    plan = [(2, names[2]), (0, names[0]), (1, names[1])]
    convert, source = read_csv.compile_row(plan, fields, {"absent": 7}, None, ["absent"])
    attributes = "deal = Deal()" in source
    assert attributes == (names[1] == "amount")  # a keyword or a dunder name: a template dict instead
    for _ in range(2):  # then from the memos
        deal = convert([" A ", "$1,000.00", "yes"])
        assert type(deal) is dict and list(deal) == [names[2], names[0], names[1], "absent"]
        assert deal == {names[2]: True, names[0]: "A", names[1]: Decimal("1000.00"), "absent": 7}
        other = convert(["B", "", ""])
        assert other == {names[2]: None, names[0]: "B", names[1]: None, "absent": 7}
        other["extra"] = 1  # each deal is its own dict
        assert "extra" not in convert(["C", "", ""]) and "extra" not in deal
