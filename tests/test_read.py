"""engine.read: CRM exports (CSV, JSON, JSONL, stdin) to typed deal records and rejects."""

import csv
import datetime as dt
import io
import json
import os
import re
import stat
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.read as read_module
import engine.read.json as read_json
from conftest import dataset_file  # the public datasets: DEALGATE_DATASETS, else ../shared/datasets
from engine.model import Field, FieldSet, RulePack, StageLabel
from engine.output import atomic_write
from engine.pack import read_pack
from engine.read import ExportError, ExportReader, ReadWarning, Reject, RejectedRow, write_rejects
from engine.semantics import analyse

pytestmark = pytest.mark.usefixtures("converter_loop")  # each test with the loop in C and in Python
ROOT = Path(__file__).resolve().parents[1]
EXPORTS = Path(__file__).resolve().parent / "data" / "exports"


@pytest.fixture(scope="module")
def analysis():
    result = read_pack([ROOT / "rules"])
    assert result.ok, result.diagnostics
    return result.analysis


def custom_analysis(fields, labels=(), date_formats=()):
    """An Analysis for a FieldSet built here, with the default pipeline (for exports the default
    fields document does not describe)."""
    pipeline = read_pack([ROOT / "rules"]).analysis.pack.pipeline
    # the stages and their labels, without rules that name fields this FieldSet does not have
    pipeline = attrs.evolve(pipeline, stages=tuple(attrs.evolve(s, exit=()) for s in pipeline.stages), qualify_out=())
    fieldset = FieldSet(
        {f.name: f for f in fields},
        tuple(StageLabel(label, stage, None) for label, stage in labels),
        tuple(date_formats),
    )
    result, diagnostics = analyse(RulePack(fieldset, pipeline))
    assert not [d for d in diagnostics if d.is_error], diagnostics
    return result


def read_all(analysis, source, **options):
    reader = ExportReader(analysis, source, **options)
    return reader, list(reader.records())


def deals_of(items):
    return {line: record for line, record in items if isinstance(record, dict)}


def rejects_of(items):
    return [record for _, record in items if isinstance(record, Reject)]


def write(tmp_path, name, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# the Salesforce report case


def test_salesforce_report_export(analysis):
    reader, items = read_all(analysis, EXPORTS / "salesforce.csv")
    assert rejects_of(items) == [
        Reject(5, None, "Opportunity ID", "", "missing required field 'id'"),
        Reject(6, "006A000005", "Amount", "TBD", "'TBD' is not an amount"),
        Reject(7, "006A000006", "Stage", "Verbal Commit", "unknown stage label 'Verbal Commit'"),
        Reject(8, "006A000007", "Close Date", "02/30/2026", "impossible date '02/30/2026'"),
    ]
    deals = deals_of(items)
    assert sorted(deals) == [2, 3, 4, 9]
    first = deals[2]
    assert first["id"] == "006A000001"
    assert first["name"] == "Acme - Platform"
    assert first["stage"] == "discovery"  # 'Qualification' through the pipeline's labels
    assert first["amount"] == Decimal("12500.00") and isinstance(first["amount"], Decimal)
    assert first["close_date"] == dt.date(2026, 3, 31)
    assert first["budget_confirmed"] is True
    assert first["contract_years"] == 2
    assert deals[3]["budget_confirmed"] is False
    assert deals[3]["contract_years"] == 1  # blank: the field's default
    assert deals[3]["amount"] == Decimal("1234.50")
    assert deals[4]["amount"] == Decimal(0)  # accounting '$-'
    assert deals[4]["budget_confirmed"] is False  # blank boolean: default false
    assert deals[9]["stage"] == "closed_lost"  # labels match without regard to case
    assert deals[9]["budget_confirmed"] is True
    # fields with no column: their default, or None; computed fields are not read at all
    assert first["account"] is None and first["discount_approved"] is False
    assert "days_in_stage" not in first
    assert "account" in reader.missing_fields and "days_in_stage" not in reader.missing_fields
    assert reader.columns["id"] == "Opportunity ID"
    assert reader.counts.records == 8 and reader.counts.deals == 4 and reader.counts.rejected == 4
    assert reader.counts.reconciles
    assert reader.warnings == []


def test_blank_money_is_unknown_and_dash_is_zero(analysis, tmp_path):
    path = write(tmp_path, "m.csv", b'id,stage,amount\nA,won,\nB,won,"  $-  "\nC,won,   \n')
    _, items = read_all(analysis, path)
    deals = deals_of(items)
    assert deals[2]["amount"] is None
    assert deals[3]["amount"] == Decimal(0)
    assert deals[4]["amount"] is None


def test_blank_and_absent_cells_take_defaults(analysis, tmp_path):
    path = write(tmp_path, "d.csv", b"id,stage,contract_years,budget_confirmed\nA,won,,\nB,won,4,yes\n")
    reader, items = read_all(analysis, path)
    deals = deals_of(items)
    assert deals[2]["contract_years"] == 1 and deals[2]["budget_confirmed"] is False
    assert deals[3]["contract_years"] == 4 and deals[3]["budget_confirmed"] is True
    assert deals[2]["discount_approved"] is False  # no column at all: default
    assert deals[2]["close_date"] is None  # no column, no default: unknown


# line endings, BOM, multi-line cells


MULTILINE = (EXPORTS / "multiline.csv").read_bytes()


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("bom", [False, True], ids=["plain", "BOM"])
def test_line_endings_and_bom(analysis, tmp_path, ending, bom):
    data = MULTILINE.replace(b"\n", ending.encode())
    assert data.count(b"\n") == (0 if ending == "\r" else 6)  # the file really is what the test says
    path = write(tmp_path, "e.csv", (b"\xef\xbb\xbf" if bom else b"") + data)
    reader, items = read_all(analysis, path)
    assert reader.columns["id"] == "Opportunity ID"  # the BOM is not part of the first header
    assert [line for line, _ in items] == [2, 5, 6]  # physical line where each record starts
    deals = deals_of(items)
    assert deals[2]["compelling_event"] == f"Board deadline:{ending}- must sign by Q3{ending}- budget released"
    assert deals[5]["compelling_event"] == 'She said "now", not later'
    assert deals[6]["compelling_event"] is None
    assert [d["amount"] for d in deals.values()] == [Decimal(100), Decimal(200), Decimal(300)]
    assert reader.counts.records == 3 and reader.counts.reconciles


def test_blank_lines_are_not_records(analysis, tmp_path):
    path = write(tmp_path, "b.csv", b"\n\nid,stage\n\nA,won\n,\n  \nB,lost\n")
    reader, items = read_all(analysis, path)
    assert [(line, d["id"]) for line, d in items] == [(5, "A"), (8, "B")]
    assert reader.counts.blank == 3  # after the header: the empty line, the ',' row and the spaces
    assert reader.counts.records == 2


# columns


def test_header_whitespace_case_and_aliases(analysis, tmp_path):
    path = write(
        tmp_path,
        "h.csv",
        b"  opportunity ID ,STAGENAME, amount (CONVERTED) ,Budget_Confirmed__c,Not A Field\n"
        b'X1,closedwon,"1,000",1,whatever\nX2,Closed Won,lots,0,\n',
    )
    reader, items = read_all(analysis, path)
    assert reader.header == ["opportunity ID", "STAGENAME", "amount (CONVERTED)", "Budget_Confirmed__c", "Not A Field"]
    assert reader.columns == {
        "id": "opportunity ID",
        "stage": "STAGENAME",
        "amount": "amount (CONVERTED)",
        "budget_confirmed": "Budget_Confirmed__c",
    }
    deal = deals_of(items)[2]
    assert deal == {**deal, "id": "X1", "stage": "closed_won", "amount": Decimal(1000), "budget_confirmed": True}
    assert "Not A Field" not in deal
    assert rejects_of(items) == [Reject(3, "X2", "amount (CONVERTED)", "lots", "'lots' is not an amount")]


def test_computed_fields_are_never_read(analysis, tmp_path):
    path = write(tmp_path, "c.csv", b"id,stage,days_in_stage\nA,won,999\n")
    reader, items = read_all(analysis, path)
    assert "days_in_stage" not in deals_of(items)[2]
    assert "days_in_stage" not in reader.columns


def test_duplicate_columns_first_wins_with_warnings(analysis, tmp_path):
    path = write(tmp_path, "dup.csv", b"Amount,id,stage,amount,Amount (converted),Foo,Foo\n1,A,won,2,3,x,y\n")
    reader, items = read_all(analysis, path)
    assert deals_of(items)[2]["amount"] == Decimal(1)
    assert reader.columns["amount"] == "Amount"
    assert reader.warnings == [
        ReadWarning(1, "column 'amount' appears more than once (columns 1 and 4); using the first"),
        ReadWarning(
            1, "columns 'Amount' and 'Amount (converted)' both map to field 'amount'; using 'Amount' (column 1)"
        ),
    ]


def test_missing_required_column_is_an_export_error(analysis, tmp_path):
    path = write(tmp_path, "r.csv", b"id,amount\nA,5\n")
    with pytest.raises(ExportError) as caught:
        ExportReader(analysis, path)
    assert "no column for required field 'stage' (looked for: stage, Stage, StageName, Deal Stage, dealstage)" in str(
        caught.value
    )
    assert caught.value.line == 1


def test_missing_fields_are_listed_once(analysis, tmp_path):
    path = write(tmp_path, "f.csv", b"id,stage,amount\nA,won,5\nB,won,6\n")
    reader, _ = read_all(analysis, path)
    readable = [n for n, f in analysis.pack.fields.fields.items() if f.compute is None]
    assert reader.missing_fields == [n for n in readable if n not in ("id", "stage", "amount")]


def test_wrong_cell_count_is_a_reject(analysis, tmp_path):
    path = write(tmp_path, "w.csv", b"id,stage,amount\nA,won\nB,won,5,extra,more\nC,won,7\n")
    reader, items = read_all(analysis, path)
    assert rejects_of(items) == [
        Reject(2, None, None, "A,won", "row has 2 cells, header has 3"),
        Reject(3, None, None, "B,won,5,extra,more", "row has 5 cells, header has 3"),
    ]
    assert list(deals_of(items)) == [4]
    assert reader.counts.records == 3 and reader.counts.reconciles


def test_delimiter_option_and_tsv(analysis, tmp_path):
    semicolons = write(tmp_path, "s.csv", b'id;stage;amount\nA;won;"1,234.50"\n')
    _, items = read_all(analysis, semicolons, delimiter=";")
    assert deals_of(items)[2]["amount"] == Decimal("1234.50")
    tabs = write(tmp_path, "t.tsv", b"id\tstage\tamount\nA\twon\t1,234.50\n")
    reader, items = read_all(analysis, tabs)
    assert reader.format == "tsv" and deals_of(items)[2]["amount"] == Decimal("1234.50")
    with pytest.raises(ExportError):
        ExportReader(analysis, semicolons, delimiter=";;")


def test_unclosed_quote(analysis):
    # a short unclosed quote swallows the rest of the file into one cell: a reject, not silence
    reader, items = read_all(analysis, io.BytesIO(b'id,stage,amount\nA,won,5\nB,won,"7\nC,won,8\n'))
    assert rejects_of(items)[0].line == 3 and reader.counts.reconciles
    # a long one is reported at the line where the record starts
    data = b'id,stage,amount\nA,won,5\nB,won,"' + b"9" * 200_000 + b"\n"
    reader = ExportReader(analysis, io.BytesIO(data))
    with pytest.raises(ExportError) as caught:
        list(reader.records())
    assert caught.value.line == 3 and "unclosed quote" in str(caught.value)


# strict mode and warnings


def test_strict_mode_stops_at_the_first_reject(analysis):
    reader = ExportReader(analysis, EXPORTS / "salesforce.csv", strict=True)
    seen = []
    with pytest.raises(RejectedRow) as caught:
        for line, _record in reader.records():
            seen.append(line)
    assert seen == [2, 3, 4]
    assert caught.value.reject == Reject(5, None, "Opportunity ID", "", "missing required field 'id'")
    assert isinstance(caught.value, ExportError)  # the CLI's exit 2
    assert str(caught.value).endswith("salesforce.csv:5: column 'Opportunity ID': missing required field 'id'")
    assert reader.counts.rejected == 1 and reader.counts.records == 4


def test_excel_mangled_ids_warn_but_rows_are_kept(analysis, tmp_path):
    path = write(tmp_path, "x.csv", b"id,stage\n7.22671E+19,won\n006A1,won\n72267051130851900000,won\n")
    reader, items = read_all(analysis, path)
    assert [d["id"] for d in deals_of(items).values()] == ["7.22671E+19", "006A1", "72267051130851900000"]
    assert [w.line for w in reader.warnings] == [2, 4]
    assert "7.22671E+19" in reader.warnings[0].message and "Excel" in reader.warnings[0].message


def test_row_warnings_are_capped(analysis, tmp_path):
    rows = b"".join(b"%d.5E+19,won\n" % n for n in range(read_module.MAX_ROW_WARNINGS + 7))
    reader, items = read_all(analysis, io.BytesIO(b"id,stage\n" + rows))
    assert len(items) == read_module.MAX_ROW_WARNINGS + 7
    assert len(reader.warnings) == read_module.MAX_ROW_WARNINGS + 1
    assert reader.warnings[-1] == ReadWarning(len(items) + 1, "7 more ids look mangled by Excel (not listed)")


# JSON and JSONL


def test_json_array(analysis):
    reader, items = read_all(analysis, EXPORTS / "deals.json")
    assert reader.format == "json"
    deals = deals_of(items)
    j1 = deals[1]
    assert j1["amount"] == Decimal("12500.10") and str(j1["amount"]) == "12500.10"  # exact, not 12500.1
    assert j1["stage"] == "closed_won" and j1["budget_confirmed"] is True and j1["contract_years"] == 3
    assert j1["close_date"] == dt.date(2026, 3, 31) and j1["split"] == "alice:60;bob:40"
    assert j1["discount_approved"] is False  # absent key: default
    j2 = deals[2]
    assert j2["amount"] == Decimal("1000.00") and j2["budget_confirmed"] is False  # null: default
    assert deals[5]["id"] == "12345" and deals[5]["contract_years"] == 2
    assert deals[5]["close_date"] == dt.date(2026, 4, 30)
    assert rejects_of(items) == [
        Reject(3, None, None, '["not", "an", "object"]', "record is not a JSON object (found an array)"),
        Reject(4, "J4", "stage", "Foo", "unknown stage label 'Foo'"),
    ]
    assert reader.counts.records == 5 and reader.counts.reconciles
    assert "owner" in reader.missing_fields and "amount" not in reader.missing_fields


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_json_array_is_streamed_in_chunks(analysis, monkeypatch, chunk):
    expected = read_all(analysis, EXPORTS / "deals.json")[1]
    monkeypatch.setattr(read_json, "JSON_CHUNK", chunk)
    assert read_all(analysis, EXPORTS / "deals.json")[1] == expected


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JSON_VALUES, max_size=6), st.sampled_from([None, 0, 2]), st.integers(1, 40))
def test_json_streaming_matches_json_loads(values, indent, chunk):
    text = json.dumps(values, indent=indent)
    expected = json.loads(text, parse_float=Decimal)
    old = read_json.JSON_CHUNK
    read_json.JSON_CHUNK = chunk
    try:
        got = [value for _, value in read_json.JsonArray(io.StringIO(text), "t")]
    finally:
        read_json.JSON_CHUNK = old
    assert got == expected


@pytest.mark.parametrize(
    "text, line, words",
    [
        ('[\n {"id": "a", "stage": "won"},\n {"id": "b" "stage": "won"}\n]', 3, "Expecting ',' delimiter"),
        ('{"id": "a", "stage": "won"}', 1, "expected a JSON array of deal objects, found an object"),
        ('[{"id": "a", "stage": "won"},]', 1, "expected a value"),
        ('[{"id": "a", "stage": "won"}', 1, "the array is not closed"),
        ('[{"id": "a", "stage": "won"}] x', 1, "unexpected text after the array"),
        ('[{"id": "a", "stage": "won", "amount": NaN}]', 1, "NaN is not allowed"),
    ],
)
def test_malformed_json_is_an_export_error(analysis, text, line, words):
    reader = ExportReader(analysis, io.BytesIO(text.encode()), fmt="json")
    with pytest.raises(ExportError) as caught:
        list(reader.records())
    assert caught.value.line == line and words in str(caught.value)


def test_records_before_a_json_syntax_error_are_yielded(analysis):
    reader = ExportReader(analysis, io.BytesIO(b'[{"id": "a", "stage": "won"}, {"id": }]'), fmt="json")
    records = reader.records()
    assert next(records)[1]["id"] == "a"
    with pytest.raises(ExportError):
        next(records)


def test_empty_json_is_an_export_error(analysis):
    with pytest.raises(ExportError, match="empty"):
        list(ExportReader(analysis, io.BytesIO(b"  \n"), fmt="json").records())
    assert list(ExportReader(analysis, io.BytesIO(b"[ ]"), fmt="json").records()) == []


def test_jsonl(analysis, tmp_path):
    reader, items = read_all(analysis, EXPORTS / "deals.jsonl")
    deals = deals_of(items)
    assert deals[1]["amount"] == Decimal("1999.99") and deals[1]["budget_confirmed"] is True
    assert deals[3]["amount"] is None
    assert deals[7]["discount"] == Decimal("0.25") and deals[7]["discount_approved"] is True
    rejects = rejects_of(items)
    assert [(r.line, r.reason) for r in rejects] == [
        (4, "invalid JSON: Expecting ',' delimiter (column 46)"),
        (5, "record is not a JSON object (found a string)"),
        (6, "missing required field 'id'"),
    ]
    assert rejects[0].value == '{"id": "L3", "stage": "meeting", "amount": 12'
    assert reader.counts.blank == 1 and reader.counts.records == 6 and reader.counts.reconciles
    ndjson = tmp_path / "deals.ndjson"
    ndjson.write_bytes((EXPORTS / "deals.jsonl").read_bytes().replace(b"\n", b"\r\n"))
    again_reader, again = read_all(analysis, ndjson)
    assert again_reader.format == "jsonl" and again == items


def test_json_keys_match_like_headers_and_duplicates_warn(analysis):
    data = b'{"Opportunity ID": "A", " STAGE ": "won", "amount": 1, "Amount": 2}\n'
    reader, items = read_all(analysis, io.BytesIO(data), fmt="jsonl")
    assert items[0][1]["amount"] == Decimal(1) and items[0][1]["stage"] == "closed_won"
    assert reader.warnings == [ReadWarning(1, "keys 'amount' and 'Amount' both map to field 'amount'; using 'amount'")]


def test_json_natives_that_do_not_fit_are_rejected(analysis):
    data = (
        b'{"id": "A", "stage": "won", "amount": true}\n'
        b'{"id": "B", "stage": 3}\n'
        b'{"id": "C", "stage": "won", "contract_years": 2.5}\n'
        b'{"id": ["x"], "stage": "won"}\n'
    )
    _, items = read_all(analysis, io.BytesIO(data), fmt="jsonl")
    assert [(r.line, r.id, r.column, r.value) for r in rejects_of(items)] == [
        (1, "A", "amount", "true"),
        (2, "B", "stage", "3"),
        (3, "C", "contract_years", "2.5"),
        (4, None, "id", '["x"]'),
    ]


# sources


def test_stdin_defaults_to_csv(analysis, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfid,stage,amount\r\nA,won,$5\r\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    reader, items = read_all(analysis, "-")
    assert reader.source_name == "<stdin>" and reader.format == "csv"
    assert items == [(2, {**items[0][1], "id": "A", "amount": Decimal(5)})]
    assert not stdin.buffer.closed  # stdin is not ours to close


def test_stdin_with_a_format(analysis, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "A", "stage": "won"}\n')))
    _, items = read_all(analysis, "-", fmt="jsonl")
    assert items[0][1]["stage"] == "closed_won"


def test_text_streams_are_accepted(analysis):
    _, items = read_all(analysis, io.StringIO("id,stage\nA,won\n"))
    assert items[0][1]["id"] == "A"


def test_unreadable_sources(analysis, tmp_path):
    with pytest.raises(ExportError, match="cannot read the export"):
        ExportReader(analysis, tmp_path / "absent.csv")
    with pytest.raises(ExportError, match="cannot read the export"):
        ExportReader(analysis, tmp_path, fmt="csv")
    with pytest.raises(ExportError, match="cannot tell the format"):
        ExportReader(analysis, write(tmp_path, "deals.txt", b"id,stage\n"))
    with pytest.raises(ExportError, match="unknown export format"):
        ExportReader(analysis, "-", fmt="xlsx")
    with pytest.raises(ExportError, match="no header row"):
        ExportReader(analysis, write(tmp_path, "empty.csv", b""))


def test_not_utf8_names_the_line_and_byte(analysis):
    with pytest.raises(ExportError) as caught:  # a small file is decoded at once, with its header
        list(ExportReader(analysis, EXPORTS / "latin1.csv").records())
    error = caught.value
    assert error.line == 3
    assert "not UTF-8: byte 0xFC at byte offset 103" in str(error) and "CSV UTF-8" in str(error)
    assert str(error).startswith(str(EXPORTS / "latin1.csv") + ":3: ")


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_not_utf8_line_is_exact_past_the_first_chunk(analysis, ending):
    rows = b"".join(b"D%d,won%s" % (n, ending) for n in range(20_000))  # well past one read
    data = b"id,stage" + ending + rows + b"D\xe9,won" + ending
    reader = ExportReader(analysis, io.BytesIO(data))
    with pytest.raises(ExportError) as caught:
        list(reader.records())
    assert caught.value.line == 20_002
    offset = data.index(b"\xe9")
    assert f"byte offset {offset} " in str(caught.value)


def test_utf16_gets_a_hint(analysis):
    with pytest.raises(ExportError, match="UTF-16"):
        ExportReader(analysis, io.BytesIO("id,stage\nA,won\n".encode("utf-16")))


def test_reader_is_single_use_and_closes_its_file(analysis):
    reader = ExportReader(analysis, EXPORTS / "salesforce.csv")
    owned = reader._owned
    list(reader.records())
    assert owned.closed
    with pytest.raises(RuntimeError):
        list(reader.records())
    with ExportReader(analysis, EXPORTS / "salesforce.csv") as early:
        pass
    assert early._owned.closed


# nothing lost: counts reconcile, and CSV round trips


AMOUNTS = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(lambda d: f"${d:,.2f}"),
    st.sampled_from(["TBD", "", "$-", "n/a", "1,23"]),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A1", "", " B2 ", "7.1E+19"]),
            st.sampled_from(["won", "Closed Lost", "Foo", "", "discovery"]),
            AMOUNTS,
            st.sampled_from(["", "03/31/2026", "02/30/2026", "2026-01-01", "soon"]),
        ),
        max_size=30,
    )
)
def test_every_row_is_a_deal_or_a_reject(analysis, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "stage", "amount", "close_date"])
    writer.writerows(rows)
    reader, items = read_all(analysis, io.BytesIO(out.getvalue().encode()))
    kept = [(line, row) for line, row in enumerate(rows, 2) if any(cell.strip() for cell in row)]
    assert [line for line, _ in items] == [line for line, _ in kept]  # all-blank rows are not records
    assert reader.counts.records == len(kept) == len(items)
    assert reader.counts.blank == len(rows) - len(kept)
    assert reader.counts.deals == len(deals_of(items)) and reader.counts.rejected == len(rejects_of(items))
    assert reader.counts.reconciles
    for (line, record), (_, row) in zip(items, kept):
        if isinstance(record, Reject):
            assert record.line == line and record.reason
        else:
            assert record["id"] == row[0].strip()


CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=15)
BREAKS = re.compile(r"\r\n|\r|\n")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_csv_round_trip(analysis, data):
    ending = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = data.draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    cell = CELL if quoting == csv.QUOTE_ALL else CELL.filter(lambda t: "\r" not in t and "\n" not in t)
    rows = data.draw(
        st.lists(
            st.tuples(cell.filter(lambda t: t.strip()), cell, cell, st.decimals(-(10**9), 10**9, places=2)), max_size=12
        )
    )
    bom = data.draw(st.booleans())
    text = io.StringIO()
    text.write("\ufeff" if bom else "")
    csv.writer(text, lineterminator=ending, quoting=quoting).writerow(["Id", "Name", "Champion", "Amount", "Stage"])
    starts = []
    for deal_id, name, champion, amount in rows:
        starts.append(len(BREAKS.findall(text.getvalue())) + 1)
        csv.writer(text, lineterminator=ending, quoting=quoting).writerow(
            [deal_id, name, champion, f"${amount:,.2f}", "Closed Won"]
        )
    reader, items = read_all(analysis, io.BytesIO(text.getvalue().encode("utf-8")))
    assert [line for line, _ in items] == starts
    assert [(d["id"], d["name"], d["champion"], d["amount"]) for _, d in items] == [
        (i.strip(), n.strip() or None, c.strip() or None, a) for i, n, c, a in rows
    ]


# writing rejects; atomic output


def test_write_rejects_neutralises_formulas(tmp_path):
    rejects = [
        Reject(2, '=HYPERLINK("http://x")', "Amount", "+1", "-bad"),
        Reject(3, None, None, "@SUM(A1)", "'TBD' is not an amount"),
        Reject(4, "A\tB", "\tTab", "plain", "fine"),
    ]
    target = tmp_path / "rejects.csv"
    assert write_rejects(rejects, target) == 3
    rows = list(csv.reader(target.open(newline="", encoding="utf-8")))
    assert rows == [
        ["line", "id", "column", "value", "reason"],
        ["2", '\'=HYPERLINK("http://x")', "Amount", "+1", "'-bad"],  # a number is no formula
        ["3", "", "", "'@SUM(A1)", "'TBD' is not an amount"],
        ["4", "A\tB", "'\tTab", "plain", "fine"],
    ]
    assert os.listdir(tmp_path) == ["rejects.csv"]  # no temporary file left behind
    stream = io.StringIO()
    write_rejects(rejects[:1], stream)
    assert stream.getvalue().splitlines()[1].startswith("2,")


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half")
            raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
    with atomic_write(target) as handle:
        handle.write("new")
        assert target.read_text() == "old"  # not visible until the block ends
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its permissions


def test_atomic_write_new_file_permissions_and_binary(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    target = tmp_path / "new.bin"
    with atomic_write(target, "wb") as handle:
        handle.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    with pytest.raises(ValueError):
        with atomic_write(target, "a"):
            pass


# the public exports in ../shared/datasets (read, never copied)


def dataset(folder, name) -> Path:
    return dataset_file(folder, name)


def count_rows(path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for row in csv.reader(handle) if any(row)) - 1


def test_sfdc_assets_opportunities_with_the_default_pack(analysis):
    path = dataset("sfdc-assets-data-cloud-workshop", "Opportunity.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    reader, items = read_all(analysis, path)
    assert reader.columns["id"] == "Id"  # BOM-prefixed first header still matches
    assert reader.columns["stage"] == "StageName" and reader.columns["amount"] == "Amount"
    rejects = rejects_of(items)
    # 'Proposal/Quote' is this org's label, not one the default pipeline declares
    assert {(r.column, r.value, r.reason) for r in rejects} == {
        ("StageName", "Proposal/Quote", "unknown stage label 'Proposal/Quote'")
    }
    assert len(rejects) == 8 and all(r.id.startswith("006") for r in rejects)
    first = items[0][1]
    assert first["id"] == "006Ec00000AieKFIAZ" and first["stage"] == "discovery"
    assert first["amount"] == Decimal("1124741.15") and first["close_date"] == dt.date(2024, 11, 10)
    assert reader.counts.records == count_rows(path) == 50 and reader.counts.reconciles
    assert reader.warnings == []


def test_sfdc_devorg_report_with_two_digit_years():
    path = dataset("sfdc-devorg-sample-opps", "Opportunity.csv")
    analysis = custom_analysis(
        [
            Field("id", "string", columns=("Id",), required=True),
            Field("name", "string", columns=("Name",)),
            Field("stage", "stage", columns=("StageName",), required=True),
            Field("amount", "money", columns=("Amount",)),
            Field("close_date", "date", columns=("CloseDate",), formats=("%m/%d/%y",)),
            Field("is_closed", "bool", columns=("IsClosed",), default=False),
            Field("probability", "integer", columns=("Probability",)),
        ]
    )
    reader, items = read_all(analysis, path)
    assert rejects_of(items) == []
    deals = [d for _, d in items]
    assert len(deals) == count_rows(path) == 36
    first = deals[0]
    assert first["id"] == "006bm00000LKJNNAA5" and first["stage"] == "discovery"  # Qualification
    assert first["amount"] == Decimal(15000) and first["close_date"] == dt.date(2024, 2, 3)
    assert first["is_closed"] is False and first["probability"] == 10
    by_stage = {d["stage"] for d in deals}
    assert {"closed_won", "closed_lost", "meeting", "proposal"} <= by_stage
    assert all(d["is_closed"] == (d["stage"] in ("closed_won", "closed_lost")) for d in deals)


def test_maven_pipeline_crlf_with_blank_amounts_on_open_deals():
    path = dataset("maven-crm-sales-opportunities", "sales_pipeline.csv")
    assert b"\r\n" in path.read_bytes()[:200]
    analysis = custom_analysis(
        [
            Field("id", "string", columns=("opportunity_id",), required=True),
            Field("owner", "string", columns=("sales_agent",)),
            Field("account", "string"),
            Field("stage", "stage", columns=("deal_stage",), required=True),
            Field("engage_date", "date"),
            Field("close_date", "date"),
            Field("amount", "money", columns=("close_value",)),
        ],
        labels=[("Engaging", "meeting")],
    )
    reader, items = read_all(analysis, path)
    assert rejects_of(items) == [] and reader.warnings == []  # no id here looks Excel-mangled
    deals = [d for _, d in items]
    assert len(deals) == count_rows(path) == 8800
    assert deals[0] == {
        "id": "1C1I7A6R",
        "owner": "Moses Frase",
        "account": "Cancity",
        "stage": "closed_won",
        "engage_date": dt.date(2016, 10, 20),
        "close_date": dt.date(2017, 3, 1),
        "amount": Decimal(1054),
    }
    open_deals = [d for d in deals if d["stage"] in ("initial_contact", "meeting")]
    assert len(open_deals) == 2089
    assert all(d["amount"] is None and d["close_date"] is None for d in open_deals)  # blank = unknown, not 0
    assert all(d["engage_date"] is None for d in deals if d["stage"] == "initial_contact")
    assert sum(d["amount"] is not None for d in deals) == 4238 + 2473


def test_atomic_write_follows_symlinks_and_leaves_devices_alone(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_write(link) as handle:
        handle.write("new")
    assert link.is_symlink() and real.read_text() == "new"
    if os.path.exists(os.devnull):
        with atomic_write(os.devnull) as handle:
            handle.write("discarded")
        assert not Path(os.devnull).is_file()  # still the device, not a file renamed over it


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789.eE+-x٣", max_size=24),
        st.text(max_size=12),
        st.from_regex(r"[1-9][0-9]{14}0{1,4}|[0-9]{1,3}(\.[0-9]{1,4})?[eE][+-][0-9]{1,2}|[0-9]+\.0+", fullmatch=True),
    )
)
def test_the_mangled_id_prefilter_lets_every_mangled_id_through(text):
    """The CSV reader only runs EXCEL_FLOAT_ID on ids that are all digits or hold a non-alphanumeric."""
    from engine.values import EXCEL_FLOAT_ID

    if EXCEL_FLOAT_ID.match(text):
        assert text.isdigit() or not text.isalnum()
