"""engine.read.split and engine.parts: an export read in parts on several processes gives, byte for byte,
what one process gives (output, rejects, summary, counts, warnings), or declines and writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.pack import load_ruleset
from engine.parts import RUNAWAY_REASON, PartsRun
from engine.read import ExportReader, ExportStream, RecordsPath
from engine.read.split import ByteRange, split_csv, split_lines
from engine.render.deals import FORMATS
from engine.score import ScoreRun, Summary

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 9, 30)
RULESET, _ = load_ruleset([ROOT / "rules"])
HEADER = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()[0]
EXAMPLE_ROWS = (ROOT / "examples" / "deals.csv").read_text(encoding="utf-8").splitlines()[1:]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="parts run on forked processes (POSIX only)")


# --- where exports are cut ---------------------------------------------------------------------------


def record_starts(text: bytes) -> list[tuple[int, int]]:
    """(byte offset, physical line) where each record starts, as csv.reader sees them (well-formed CSV)."""
    starts = []
    offset, line = 0, 1
    lines = io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline="")  # split as the reader splits
    in_quotes = False
    for physical in lines:
        if not in_quotes:
            starts.append((offset, line))
        in_quotes ^= physical.count('"') % 2 == 1
        offset += len(physical.encode("utf-8"))
        line += 1
    return starts


cells = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    st.sampled_from(['a"b', "line\nbreak", "crlf\r\nin cell", 'x,"y"', "", "é\u2028"]),
)
csv_rows = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=40)
endings = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=200, deadline=None)
@given(csv_rows, endings, st.integers(2, 6), st.integers(1, 64))
def test_cuts_fall_between_records_with_their_lines(tmp_path_factory, rows, ending, parts, chunk):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path = tmp_path_factory.mktemp("split") / "export.csv"
    path.write_bytes(data)
    found = split_csv(path, parts, 1, chunk=chunk)  # small chunks: \r\n and quotes fall across them
    assert found[0].start == 0 and found[0].line == 1 and found[-1].end == len(data)
    assert all(a.end == b.start for a, b in zip(found, found[1:]))
    starts = dict(record_starts(data))
    for part in found[1:]:
        assert part.start in starts, "a cut inside a record"
        assert part.line == starts[part.start]
        assert data[part.start - 1 : part.start] == b"\n"


def test_a_lone_carriage_return_ends_a_line_as_the_reader_counts(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"a,b\r1,2\r3,4\n5,6\n7,8\n")
    cuts = split_csv(path, 3, 1)
    assert [(p.start, p.line) for p in cuts] == [(0, 1), (12, 4), (16, 5)]


def test_a_file_too_small_to_cut_is_one_part(tmp_path):
    path = tmp_path / "small.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert len(split_csv(path, 4, 1 << 20)) == 1


def test_a_byte_range_reads_its_prefix_then_its_bytes(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"0123456789")
    with ByteRange(str(path), 3, 7, b"head\n") as source:
        assert source.read() == b"head\n3456"


# --- parts against one process -------------------------------------------------------------------------


def one_process(path: Path, fmt: str, records_path=None):
    summary = Summary(RULESET, AS_OF)
    rejects: list = []
    out = io.StringIO()
    stream = ExportStream(
        RULESET.analysis, [str(path)], lambda name, reject: rejects.append((name, reject)), records_path=records_path
    )
    FORMATS[fmt](out, RULESET, ScoreRun(RULESET, stream, AS_OF, summary).deals(), summary)
    return out.getvalue(), rejects, summary.as_dict(), stream.counts, stream.warnings, stream.missing_fields


def in_parts(path: Path, fmt: str, jobs: int = 3, records_path=None):
    summary = Summary(RULESET, AS_OF)
    rejects: list = []
    out = io.StringIO()
    run = PartsRun(
        RULESET,
        [str(path)],
        AS_OF,
        summary,
        fmt,
        jobs,
        on_reject=lambda n, r: rejects.append((n, r)),
        records_path=records_path,
        min_bytes=1,
    )
    if run.run(out) is None:
        assert out.getvalue() == "" and not rejects and run.counts.read == 0, "declined, yet wrote or counted"
        return None
    return out.getvalue(), rejects, summary.as_dict(), run.counts, run.warnings, run.missing_fields


def assert_same(path: Path, fmt: str, jobs: int = 3, must_run: bool = True, records_path=None) -> None:
    parted = in_parts(path, fmt, jobs, records_path)
    if parted is None:
        assert not must_run, "the parts declined a clean export"
        return
    expected = one_process(path, fmt, records_path)
    for name, got, want in zip(("output", "rejects", "summary", "counts", "warnings", "missing"), parted, expected):
        assert got == want, name


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_the_example_export_in_parts_is_the_same(tmp_path, fmt):
    assert_same(ROOT / "examples" / "deals.csv", fmt, jobs=4)


def test_an_export_with_multiline_cells_and_warnings_is_the_same(tmp_path):
    rows = [*EXAMPLE_ROWS]
    rows[3] = rows[3].replace("Hooli", '"Hoo\nli"', 1) if "Hooli" in rows[3] else rows[3]
    mangled = [f"6.{k:02d}E+11" + row[row.index(",") :] for k, row in enumerate(EXAMPLE_ROWS[:30])]
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER, *rows, *mangled * 5, *rows]) + "\n", encoding="utf-8")
    assert_same(path, "csv", jobs=4)


def test_more_than_a_hundred_mangled_ids_are_summarised_once(tmp_path):
    mangled = [f"6.{k % 100:02d}E+11" + row[row.index(",") :] for k, row in enumerate(EXAMPLE_ROWS * 6)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER, *mangled]) + "\n", encoding="utf-8")
    parted = in_parts(path, "csv", 4)
    assert parted is not None
    assert sum("more ids look mangled" in w.message for _, w in parted[4]) == 1
    assert_same(path, "csv", jobs=4)


def open_quote(row: str) -> str:
    """The row with a quote opened at its last cell and never closed on its line."""
    head, last = row.rsplit(",", 1)
    return f'{head},"{last}'


def test_a_quote_left_open_is_read_in_one_process(tmp_path):
    rows = [*EXAMPLE_ROWS, *EXAMPLE_ROWS]
    rows[5] = open_quote(rows[5])
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    assert_same(path, "csv", jobs=4, must_run=False)


def test_the_reader_words_a_quote_left_open_as_the_parts_expect(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "\n" + open_quote(EXAMPLE_ROWS[0]) + "\n", encoding="utf-8")
    with ExportReader(RULESET.analysis, path) as reader:
        reasons = [record.reason for _, record in reader.records() if not isinstance(record, dict)]
    assert reasons and reasons[0].startswith(RUNAWAY_REASON)


def test_bytes_that_are_not_utf8_in_a_later_part_leave_it_to_one_process(tmp_path):
    path = tmp_path / "export.csv"
    body = "\n".join([HEADER, *EXAMPLE_ROWS]).encode("utf-8")
    path.write_bytes(body + b"\n" + EXAMPLE_ROWS[0].encode("utf-8").replace(b"Platform", b"Plat\xffform") + b"\n")
    assert in_parts(path, "csv", 2) is None


export_rows = st.lists(
    st.one_of(
        st.sampled_from(EXAMPLE_ROWS),
        st.sampled_from(EXAMPLE_ROWS).map(lambda row: row.replace("$", "$x", 1)),  # an amount that is not one
        st.sampled_from(EXAMPLE_ROWS).map(lambda row: "6.1E+11" + row[row.index(",") :]),
        st.sampled_from(EXAMPLE_ROWS).map(lambda row: row.rsplit(",", 1)[0]),  # a cell short
        st.sampled_from(["", " , ,", ",,,,,,,,,,,,,,,,,,,,"]),
        st.sampled_from(EXAMPLE_ROWS).map(lambda row: row.replace(" - ", ' - "multi\nline" ', 1)),
        st.sampled_from(EXAMPLE_ROWS).map(open_quote),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export_rows, st.sampled_from(["\n", "\r\n"]), st.integers(2, 5), st.sampled_from(["csv", "jsonl", "json"]))
def test_random_exports_in_parts_are_the_same(tmp_path_factory, rows, ending, jobs, fmt):
    path = tmp_path_factory.mktemp("parts") / "export.csv"
    path.write_bytes(ending.join([HEADER, *rows]).encode("utf-8") + ending.encode())
    assert_same(path, fmt, jobs=jobs, must_run=False)


# --- JSONL ---------------------------------------------------------------------------------------------

COLUMNS = next(csv.reader([HEADER]))
EXAMPLE_OBJECTS = [dict(zip(COLUMNS, row)) for row in csv.reader(EXAMPLE_ROWS)]
json_lines = st.lists(
    st.one_of(
        st.sampled_from(EXAMPLE_OBJECTS).map(json.dumps),
        st.sampled_from(EXAMPLE_OBJECTS).map(lambda o: json.dumps({**o, "Amount": "$x"})),  # a reject
        st.sampled_from(EXAMPLE_OBJECTS).map(lambda o: json.dumps({**o, "Opportunity ID": "6.1E+11"})),
        st.sampled_from(EXAMPLE_OBJECTS).map(lambda o: json.dumps({**o, "id": "X1"})),  # two keys for 'id'
        st.sampled_from(EXAMPLE_OBJECTS).map(lambda o: json.dumps({k: v for k, v in o.items() if k != "Stage"})),
        st.sampled_from(["", "   ", "not json", "[1, 2]", '{"Opportunity ID": "006X1", "Amount": 5']),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_lines, st.sampled_from(["\n", "\r\n"]), st.integers(2, 5), st.sampled_from(["csv", "jsonl", "json"]))
def test_random_jsonl_exports_in_parts_are_the_same(tmp_path_factory, lines, ending, jobs, fmt):
    path = tmp_path_factory.mktemp("parts") / "export.jsonl"
    path.write_bytes(ending.join(lines).encode("utf-8") + ending.encode())
    assert_same(
        path, fmt, jobs=jobs, must_run=False
    )  # a one-line file is one part; a later part's key warning declines


def test_a_jsonl_export_with_its_records_path_in_parts_is_the_same(tmp_path):
    nested = (ROOT / "tests" / "data" / "exports" / "nested-api.jsonl").read_text(encoding="utf-8")
    path = tmp_path / "export.jsonl"
    path.write_text(nested * 20, encoding="utf-8")
    assert_same(path, "jsonl", jobs=4, records_path=RecordsPath.parse("[].fields"))


# --- the CLI --------------------------------------------------------------------------------------------


def test_the_cli_scores_large_exports_in_parts_to_the_same_bytes(tmp_path):
    export = tmp_path / "deals.csv"
    subprocess.run(
        [sys.executable, "-m", "engine.synthetic", "--rows", "60000", "--out", str(export)], check=True, cwd=ROOT
    )
    with export.open("a", encoding="utf-8") as file:  # a reject near the end, in the last part
        file.write(EXAMPLE_ROWS[0].replace("$", "$x", 1) + "\n")
    small = ROOT / "examples" / "deals.csv"  # read whole, between the parts of the large ones
    runs = {}
    for jobs in ("1", "2"):
        out, rejects = tmp_path / f"out{jobs}.csv", tmp_path / f"rejects{jobs}.csv"
        done = subprocess.run(
            [sys.executable, "-m", "cli", "score", str(export), str(small), str(export), "--rules", str(ROOT / "rules")]
            + ["--as-of", "2026-09-30", "--engine", "python", "-o", str(out), "--rejects", str(rejects)]
            + ["--jobs", jobs, "-v", "--fail-on", "blocked"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 1, done.stderr  # --fail-on: some deals are blocked
        runs[jobs] = (out.read_bytes(), rejects.read_bytes(), done.stderr)
    assert "in 5 parts on 2 processes" in runs["2"][2]
    assert runs["1"][:2] == runs["2"][:2]
    assert [line for line in runs["2"][2].splitlines() if "parts" not in line] == runs["1"][2].splitlines()
    read = 2 * 60001 + len(EXAMPLE_ROWS)
    assert runs["2"][2].splitlines()[-1] == f"read {read}, scored {read - 6}, rejected 6"  # 4 in the example


def test_jobs_must_be_a_number_or_auto():
    done = subprocess.run(
        [sys.executable, "-m", "cli", "score", "x.csv", "--jobs", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "is not a number of processes" in done.stderr


# --- what the review found: starts of later parts read as in one process, and failures that fall back ----


def test_a_jsonl_part_that_starts_with_a_byte_order_mark_keeps_it(tmp_path):
    """`cat a.jsonl b.jsonl` of two files saved with a BOM: one process rejects the line after the join."""
    lines = [json.dumps(o) + "\n" for o in EXAMPLE_OBJECTS]
    first = ("\ufeff" + "".join(lines)).encode()
    path = tmp_path / "cat.jsonl"
    for extra in range(len(lines)):  # lengthen the second file until a cut falls where it starts
        path.write_bytes(first + ("\ufeff" + "".join(lines + lines[:extra])).encode())
        jobs = next((j for j in range(2, 9) if len(first) in [p.start for p in split_lines(path, j, 1)]), None)
        if jobs is not None:
            break
    assert jobs is not None
    assert_same(path, "csv", jobs=jobs)
    parted = in_parts(path, "csv", jobs)
    assert parted is not None and any("invalid JSON" in r.reason for _, r in parted[1])


@pytest.mark.parametrize(
    "before, columns, cells",
    [
        (b"", 'Notes,"Carriage\rReturn",', "note,cr,"),  # a lone \r in a header cell: csv.writer leaves it bare
        (b"\xef\xbb\xbf\xef\xbb\xbf", "Opportunity Name,", "First name,"),  # a doubled mark: U+FEFF starts a name
        (b"\n\n  ,  \n", "", ""),  # blank lines and a blank row before the header
    ],
)
def test_later_parts_read_the_header_as_the_file_has_it(tmp_path, before, columns, cells):
    path = tmp_path / "export.csv"
    rows = [cells + row for row in EXAMPLE_ROWS * 3]
    path.write_bytes(before + ("\n".join([columns + HEADER, *rows]) + "\n").encode())
    for jobs in (2, 4):
        assert_same(path, "csv", jobs=jobs)


def test_no_room_for_the_parts_files_falls_back(tmp_path, monkeypatch):
    import tempfile

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    assert in_parts(ROOT / "examples" / "deals.csv", "csv", 3) is None


def test_a_fork_the_system_refuses_falls_back_and_stops_the_others(tmp_path, monkeypatch):
    real, forks = os.fork, []

    def fork():
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real()
        forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    assert in_parts(ROOT / "examples" / "deals.csv", "csv", 3) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # reaped: nothing left behind
