"""Payouts computed a bucket of reps at a time (``PayoutProgram.stream``, ``engine.payout.spill``).

What is checked is the mechanism, not timings or RSS (the machine is shared): the credits held in
memory and taken back at once stay bounded as the export grows, the statements come bucket by
bucket, and bucketing changes nothing -- statements, their order, diagnostics, and every output
format byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_payout_support import deal, program_for, rep

from cli import main
from engine import synthetic
from engine.pack import read_pack
from engine.payout import PayoutProgram, compile_payout, read_reps
from engine.payout.credit import ONE
from engine.read import ExportStream
from engine.render import diagnostics as render_diag
from engine.render import payout as render_payout

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 9, 30)
PERIODS = "2026-Q1..2026-Q4"
PLAN = """
id: p
period: quarter
quota: 10000
credit: {when: stage == "closed_won", amount: amount, date: close_date, to: owner}
commission:
  tiers: [{to: 1.0, rate: 0.05}, {rate: 0.1}]
"""


@pytest.fixture(scope="module")
def default_program():
    pack = read_pack([ROOT / "rules"])
    assert pack.ok
    return compile_payout(pack.analysis)


def synthetic_inputs(folder: Path, rows: int, aes: int, sdrs: int, duplicates: int) -> tuple[Path, Path]:
    """A synthetic export whose owners, split partners and SDRs are ``aes`` + ``sdrs`` reps, with
    ``duplicates`` rows repeated (DG618 on both plans), and the reps file for it."""
    rng = random.Random(rows)
    ae_ids = [f"ae{n:03d}" for n in range(aes)]
    sdr_ids = [f"sdr{n:02d}" for n in range(sdrs)]
    reps = folder / "reps.csv"
    with open(reps, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "plan", "quota", "target_incentive", "start", "end", "currency"])
        for n, rep_id in enumerate(ae_ids):
            writer.writerow([rep_id, f"AE {n}", "ae-2026", rng.choice(["", "90000", "150000"]), 25000, "", "", "USD"])
        for n, rep_id in enumerate(sdr_ids):
            writer.writerow([rep_id, f"SDR {n}", "sdr-2026", "", "", "", "", "USD"])
    lines = []
    for n, row in enumerate(synthetic.rows(rows)):
        row[2] = ae_ids[n % aes]
        if row[18]:
            share = int(row[18].split(";")[0].split(":")[1])
            partner = ae_ids[(n + 1 + rng.randrange(aes - 1)) % aes]
            row[18] = f"{row[2]}:{share};{partner}:{100 - share}"
        if row[19]:
            row[19] = rng.choice(sdr_ids)
        lines.append(row)
    lines += [lines[rng.randrange(len(lines))] for _ in range(duplicates)]
    export = folder / "deals.csv"
    with open(export, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(synthetic.HEADER)
        writer.writerows(lines)
    return export, reps


def read_inputs(program: PayoutProgram, export: Path, reps_file: Path):
    analysis = program.analysis
    reps = read_reps(reps_file, program.plans, analysis.fields.date_formats, analysis.pack.reps)
    assert reps.ok, reps.diagnostics
    stream = ExportStream(analysis, [str(export)], lambda *_: None, None, ",")
    return [(line, record) for _, _, line, record in stream.records()], reps.reps


@pytest.fixture(scope="module")
def synthetic_run(default_program, tmp_path_factory):
    export, reps_file = synthetic_inputs(tmp_path_factory.mktemp("stream"), 600, 14, 3, 25)
    records, reps = read_inputs(default_program, export, reps_file)
    return default_program, records, reps, str(export)


def streamed(program, records, reps, held, **options):
    with program.stream(records, reps, PERIODS, AS_OF, held=held, **options) as run:
        statements = tuple(run)
        return statements, run.diagnostics, run.counts, run.run.store


@pytest.mark.parametrize("held", [1, 5, 97, 1000, None])
def test_bucketing_changes_no_statement_and_no_diagnostic(synthetic_run, held):
    program, records, reps, source = synthetic_run
    whole = program.compute(records, reps, PERIODS, AS_OF, source=source)
    statements, diagnostics, counts, store = streamed(program, records, reps, held, source=source)
    assert statements == whole.statements  # every field of every statement, in the same order
    assert [s.total for s in statements] == [s.total for s in whole.statements]
    assert diagnostics == whole.diagnostics  # same problems, listed in the same order
    assert counts == whole.counts
    assert any(d.code == "DG618" for d in diagnostics)  # duplicates on both plans: ordered by plan, then rep
    assert (store.written > 0) == (held is not None and held < 1000)


@pytest.mark.parametrize("reps_file", ["reps.csv", "reps-assignments.csv"])
@pytest.mark.parametrize("held", [1, 3, None])
def test_the_examples_bucketed_equal_the_whole_run(default_program, reps_file, held):
    records, reps = read_inputs(default_program, ROOT / "examples" / "deals.csv", ROOT / "examples" / reps_file)
    whole = default_program.compute(records, reps, PERIODS, AS_OF, source="deals.csv")
    statements, diagnostics, _, _ = streamed(default_program, records, reps, held, source="deals.csv")
    assert statements == whole.statements
    assert diagnostics == whole.diagnostics
    for render in (render_payout.render_json, lambda s, as_of: render_payout.render_csv(s)):
        assert render(statements, AS_OF) == render(whole.statements, AS_OF)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_property_bucketing_does_not_change_any_statement(synthetic_run, data):
    program, records, reps, source = synthetic_run
    picked = data.draw(st.lists(st.integers(0, len(records) - 1), max_size=120), label="rows")
    chosen = [records[i] for i in picked]  # any rows, in any order, repeated or not
    held = data.draw(st.integers(1, 60), label="held")
    only = data.draw(st.sampled_from([None, reps[0].id, reps[-1].id]), label="rep")
    whole = program.compute(chosen, reps, PERIODS, AS_OF, rep=only, source=source)
    statements, diagnostics, counts, _ = streamed(program, chosen, reps, held, rep=only, source=source)
    assert statements == whole.statements
    assert diagnostics == whole.diagnostics
    assert counts == whole.counts


def run_sizes(tmp_path, deals_per_rep: int, reps: int, held: int):
    program = program_for(tmp_path, PLAN)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(360)]
    deals = (
        deal(f"D{n:07d}", 1000 + n % 900, days[n % len(days)].isoformat(), owner=f"r{n % reps:05d}")
        for n in range(deals_per_rep * reps)
    )
    team = [rep(f"r{n:05d}") for n in range(reps)]
    stream = program.stream(deals, team, PERIODS, AS_OF, held=held)
    return stream, stream.run.store


def test_memory_is_flat_in_rows_credits_held_and_taken_back_stay_bounded(tmp_path):
    """Ten times the deals (and the reps they go to): the credits in memory while crediting, and
    those taken back for one bucket of statements, stay the same size; only the disk grows."""
    sizes = {}
    for reps in (60, 600):
        stream, store = run_sizes(tmp_path, 20, reps, held=400)
        with stream:
            count = sum(1 for _ in stream)
        assert count == 4 * reps  # a statement per rep and quarter
        sizes[reps] = (store.most_held, store.largest, store.written)
    (held_small, largest_small, written_small), (held_big, largest_big, written_big) = sizes[60], sizes[600]
    assert held_small <= 401 and held_big <= 401  # one credit past the limit at most: then it spills
    assert written_big >= 10 * written_small * 0.9  # what grows is on disk
    assert largest_small <= 2 * 20 and largest_big <= 3 * 20  # one or two reps' credits per bucket, at any size


def test_statements_are_computed_as_they_are_read(tmp_path):
    stream, store = run_sizes(tmp_path, 5, 1000, held=50)
    with stream:
        first = next(stream)
        assert first.rep == "r00000"
        waiting = sum(1 for entries in store.index if entries)
        assert waiting >= store.count - 1  # every later bucket is still on disk
        assert store.largest <= 5 * -(-1000 // store.count)  # the deals of one bucket of reps
        rest = list(stream)
    assert len(rest) == 4 * 1000 - 1
    assert not any(store.index)
    assert store.file is None  # read to the end: the temporary file is gone


def test_the_whole_run_holds_every_credit_in_memory(tmp_path):
    stream, store = run_sizes(tmp_path, 5, 100, held=None)
    with stream:
        list(stream)
    assert not store.spilled and store.written == 0


def test_a_credit_comes_back_from_disk_as_it_was(synthetic_run):
    """Every field, with its type and its digits (a Decimal's exponent too), and ONE as ONE."""
    program, records, reps, _ = synthetic_run
    held = program.stream(records, reps, PERIODS, AS_OF, held=None).run.store.memory
    kept = {(plan_id, rep_id): sorted(c) for plan_id, by_rep in held.items() for rep_id, c in by_rep.items() if c}
    store = program.stream(records, reps, PERIODS, AS_OF, held=1).run.store
    assert store.spilled
    found: dict = {}
    for bucket in range(store.count):
        found.update(store.take(bucket, []))
    store.close()
    assert found.keys() == kept.keys()
    for key, credits in kept.items():
        back = sorted(found[key])
        assert back == credits
        for again, before in zip(back, credits, strict=True):
            assert [type(v) for v in again] == [type(v) for v in before]
            assert [str(v) for v in again] == [str(v) for v in before]
            assert (again.factor is ONE) == (before.factor is ONE)


@pytest.mark.parametrize("fmt", ["json", "csv", "table", "markdown"])
@pytest.mark.parametrize("reps_file", ["reps.csv", "reps-assignments.csv"])
def test_the_cli_writes_the_same_bytes_bucketed(monkeypatch, fmt, reps_file):
    args = [
        "payout",
        str(ROOT / "examples" / "deals.csv"),
        "--reps",
        str(ROOT / "examples" / reps_file),
        "--rules",
        str(ROOT / "rules"),
        "--as-of",
        "2026-09-30",
        "--from",
        "2026-Q1",
        "--to",
        "2026-Q4",
        "--format",
        fmt,
        "--engine",
        "python",
    ]
    plain = CliRunner().invoke(main, args)
    original = PayoutProgram.stream
    monkeypatch.setattr(PayoutProgram, "stream", lambda self, *a, **k: original(self, *a, **{**k, "held": 2}))
    bucketed = CliRunner().invoke(main, args)
    assert plain.exit_code == bucketed.exit_code
    assert plain.stdout == bucketed.stdout
    assert plain.stderr == bucketed.stderr


def test_json_from_an_iterator_is_the_text_of_the_list(default_program):
    records, reps = read_inputs(
        default_program, ROOT / "examples" / "deals.csv", ROOT / "examples" / "reps-assignments.csv"
    )
    statements = default_program.compute(records, reps, PERIODS, AS_OF).statements
    from_list, from_iterator = io.StringIO(), io.StringIO()
    render_payout.write_json(from_list, list(statements), AS_OF)
    render_payout.write_json(from_iterator, iter(statements), AS_OF)
    assert from_iterator.getvalue() == from_list.getvalue() == render_payout.render_json(statements, AS_OF)
    assert '"combined"' in from_list.getvalue()  # a rep who changed plans: the parts added up at the end


@settings(max_examples=80, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab\r\n\x0b\x1c\x85\u2028é\t"), max_size=60),
    bom=st.booleans(),
    block=st.integers(1, 8),
)
def test_source_lines_are_numbered_as_splitlines_numbers_them(tmp_path_factory, text, bom, block):
    path = tmp_path_factory.mktemp("lines") / "file.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    whole = path.read_text(encoding="utf-8-sig").splitlines()  # what the renderer used to read
    wanted = set(range(1, len(whole) + 3))
    assert render_diag._source_lines(str(path), wanted, block) == dict(enumerate(whole, 1))


def test_source_lines_of_a_file_that_is_not_utf8_are_none(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,name\n1,Caf\xe9\n")
    assert render_diag._source_lines(str(path), {1, 2}) == {}
    assert render_diag._source_lines(str(tmp_path / "missing.csv"), {1}) == {}
