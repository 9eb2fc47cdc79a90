"""Tables for people (issue 14): widths from content and terminal, --columns, colour policy, progress.

Machine formats are held byte for byte elsewhere (tests/test_render_rows.py, tests/test_sql_engine.py);
these tests are about what people see.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli_display
from cli import main
from conftest import ROOT
from engine.progress import Meter, metering
from engine.render.table import Column, Display, Layout, cut, render, width_of

EXPORT = str(ROOT / "examples" / "deals.csv")
REPS = str(ROOT / "examples" / "reps.csv")
AS_OF = ["--as-of", "2026-09-30"]
ESCAPE = "\x1b["


def score(*args, env=None):
    return CliRunner().invoke(main, ["score", EXPORT, *AS_OF, "--format", "table", *args], env=env or {})


def deal_rows(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("Forecast as of "))
    return lines[: end - 1]  # a blank line comes before the summary


def test_columns_chooses_what_the_table_shows_and_in_what_order():
    result = score("--columns", "verdict,id,probability,over_staged", "--width", "200")
    assert result.exit_code == 0, result.output
    header, rule, first = deal_rows(result.stdout)[:3]
    assert header.split() == ["verdict", "id", "prob", "over-staged"]
    assert re.match(r"disqualified\s+006X00000000\s+30%", first)


def test_an_unknown_column_is_a_usage_error_that_lists_them_all():
    result = score("--columns", "id,nmae")
    assert result.exit_code == 2
    assert "no column 'nmae'" in result.output and "name" in result.output and "why" in result.output


@pytest.mark.parametrize("how", ["COLUMNS", "--width"])
@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_every_line_fits_the_width(how, width):
    result = score("--width", str(width)) if how == "--width" else score(env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    rows = deal_rows(result.stdout)
    assert max(width_of(line) for line in rows) <= width
    assert rows[0].split()[:3] == ["id", "name", "owner"]
    ids = [line.split()[0] for line in rows[2:]]
    assert len(set(ids)) == len(ids) == 396, "the ids tell every deal apart"


def test_narrow_terminals_drop_optional_columns_before_cutting_ids():
    wide = deal_rows(score("--width", "250").stdout)[0].split()
    narrow = deal_rows(score("--width", "80").stdout)[0].split()
    assert "evidence" in wide and "weighted" in wide
    assert "evidence" not in narrow and "weighted" not in narrow and narrow[:3] == ["id", "name", "owner"]


def test_without_a_terminal_or_width_columns_are_only_capped():
    result = CliRunner().invoke(main, ["score", EXPORT, *AS_OF, "--format", "table"], env={"COLUMNS": None})
    rows = deal_rows(result.stdout)
    assert "evidence" in rows[0] and "weighted" in rows[0]


def test_the_why_column_labels_each_kind_once_and_keeps_over_staged_first():
    why = [line.strip() for line in deal_rows(score("--columns", "why", "--width", "400").stdout)[2:]]
    assert any(w.startswith("over-staged · ") for w in why)
    assert any(w.startswith("qualify out: ") and " · failed: " in w for w in why)
    assert all(w.count("failed:") <= 1 and w.count("qualify out:") <= 1 for w in why)
    narrow = deal_rows(score("--width", "80").stdout)
    assert sum("over-staged" in line for line in narrow) == sum("over-staged" in w for w in why)


def test_amounts_have_thousands_separators_and_are_never_cut():
    rows = deal_rows(score("--width", "60").stdout)
    assert any(re.search(r"\b\d{1,3},\d{3}\.\d\d\b", line) for line in rows)
    assert not any(re.search(r"\d{4}\.\d\d", line) for line in rows)


def test_the_summary_columns_never_run_together():
    from engine.pack import load_ruleset
    from engine.render.deal_table import render_summary
    from engine.results import DealResult
    from engine.score import Summary

    ruleset, _ = load_ruleset([ROOT / "rules"])
    summary = Summary(ruleset, dt.date(2026, 9, 30))
    huge = Decimal("987654321098.76")
    for stage in ruleset.pipeline.stages:
        for _ in range(3):
            summary.add(
                DealResult(
                    "x", stage.id, "ready", (), (), (), stage.probability, huge, huge * stage.probability, stage.id
                )
            )
    lines = render_summary(summary, Display(width=100)).splitlines()
    table = lines[1 : 3 + len(ruleset.pipeline.stages)]
    header = table[0].split()
    assert header == ["stage", "prob", "deals", "amount", "weighted"]
    for line in table[2:]:
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == 5 and cells[3] == "2,962,962,963,296.28", line


@pytest.mark.parametrize(
    "choice, env, coloured",
    [
        ("always", {}, True),
        ("never", {}, False),
        ("auto", {}, False),  # CliRunner's stdout is no terminal
        ("always", {"NO_COLOR": "1"}, True),  # a flag on the command line beats the environment
    ],
)
def test_color_option(choice, env, coloured):
    result = score("--color", choice, env=env)
    assert result.exit_code == 0
    assert (ESCAPE in result.stdout) is coloured
    assert ESCAPE not in result.stderr.splitlines()[-1]


def test_machine_formats_are_never_coloured():
    result = CliRunner().invoke(main, ["score", EXPORT, *AS_OF, "--format", "csv", "--color", "always"])
    assert ESCAPE not in result.stdout


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True

    def fileno(self):
        raise io.UnsupportedOperation("no file descriptor")


@pytest.mark.parametrize(
    "choice, env, expected",
    [
        ("auto", {}, True),
        ("auto", {"NO_COLOR": "1"}, False),
        ("auto", {"NO_COLOR": ""}, True),
        ("auto", {"TERM": "dumb"}, False),
        ("never", {}, False),
        ("always", {"NO_COLOR": "1"}, True),
    ],
)
def test_the_colour_policy_on_a_terminal(monkeypatch, choice, env, expected):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cli_display.use_color(choice, FakeTerminal()) is expected
    assert cli_display.use_color(choice, io.StringIO()) is (choice == "always")


def test_every_command_takes_the_colour_option():
    for command in ("validate", "score", "explain", "payout", "test", "diff", "sql"):
        assert "--color" in CliRunner().invoke(main, [command, "--help"]).stdout, command


def test_payout_and_diff_tables_take_columns_and_width():
    payout = CliRunner().invoke(
        main,
        [
            "payout",
            EXPORT,
            "--reps",
            REPS,
            "--period",
            "2026-Q3",
            *AS_OF,
            "--format",
            "table",
            "--rep",
            "alice",
            "--columns",
            "deal,amount,rule",
            "--width",
            "70",
        ],
    )
    assert payout.exit_code == 0, payout.output
    lines = payout.stdout.splitlines()
    assert lines[2].split() == ["deal", "amount", "rule"]
    assert all(width_of(line) <= 70 for line in lines[2:-1])
    diff = CliRunner().invoke(
        main, ["diff", str(ROOT / "rules"), str(ROOT / "rules"), "--deals", EXPORT, *AS_OF, "--columns", "nope"]
    )
    assert diff.exit_code == 2 and "changes" in diff.output


# progress


def test_no_progress_when_stderr_is_not_a_terminal():
    result = CliRunner().invoke(main, ["score", EXPORT, *AS_OF, "--format", "json"])
    assert "\r" not in result.stderr and "ETA" not in result.stderr
    assert result.stderr.splitlines()[-1] == "read 400, scored 396, rejected 4"


def test_the_progress_bar_draws_percent_rate_and_eta_on_a_terminal(monkeypatch):
    monkeypatch.setattr(cli_display.ProgressBar, "DELAY", 0.0)
    monkeypatch.setattr(cli_display.ProgressBar, "EVERY", 0.01)
    terminal = FakeTerminal()
    meter = Meter(total=1000)
    with metering(meter), cli_display.ProgressBar(meter, "scoring", stream=terminal) as bar:
        for _ in range(50):
            meter.rows += 10
            meter.advance(0)
            meter._finished += 10
            time.sleep(0.005)
        time.sleep(0.05)
        with bar.pause():
            terminal.write("a line of the table\n")
        time.sleep(0.05)
    drawn = terminal.getvalue()
    assert "scoring" in drawn and "%" in drawn and "ETA" in drawn and "rows" in drawn and "/s" in drawn
    assert "\r\x1b[2Ka line of the table\n" in drawn  # the bar is erased before anything else is written
    assert ESCAPE + "32m" not in drawn  # no colour unless asked for


def test_the_meter_counts_rows_and_bytes_of_an_export():
    from engine.pack import load_ruleset
    from engine.read import ExportStream

    ruleset, _ = load_ruleset([ROOT / "rules"])
    meter = Meter(total=os.path.getsize(EXPORT))
    with metering(meter):
        stream = ExportStream(ruleset.analysis, [EXPORT])
    assert stream.meter is meter
    assert sum(1 for _ in stream.records()) == 396
    assert meter.rows == 400 and meter.done == meter.total  # rejects are rows read too
    assert ExportStream(ruleset.analysis, [EXPORT]).meter is None  # outside a metered run: nothing counted


@pytest.fixture(scope="module")
def long_export(tmp_path_factory):
    """Long enough that the bar is up (after ProgressBar.DELAY) even when two processes score it in parts."""
    export = tmp_path_factory.mktemp("long") / "big.csv"
    subprocess.run(
        [sys.executable, "-m", "engine.synthetic", "--rows", "200000", "--out", str(export)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return export


@pytest.mark.skipif(not shutil.which("script") or sys.platform != "linux", reason="needs util-linux script(1)")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_long_score_on_a_pseudo_terminal_shows_the_bar_and_ends_clean(tmp_path, long_export, jobs):
    export = long_export
    command = (
        f"{sys.executable} -m cli score {export} --as-of 2026-09-30 --engine python --format csv "
        f"-o {tmp_path / 'out.csv'} --jobs {jobs}"
    )
    done = subprocess.run(
        ["script", "-qc", command, "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout
    assert "ETA" in done.stdout and "rows" in done.stdout and "%" in done.stdout
    assert done.stdout.rstrip().endswith("read 200000, scored 200000, rejected 0")


# the layout itself

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(names, names, names, st.decimals(0, 10**12, places=2)), min_size=1, max_size=8),
    width=st.integers(50, 200),
)  # 50: the minimums and a 13-digit amount (never cut) fit
def test_every_row_fits_the_width_whatever_the_text(rows, width):
    columns = [
        Column("id", "id", max_width=24, min_width=8, cut="middle"),
        Column("name", "name", min_width=6),
        Column("owner", "owner", min_width=4),
        Column("amount", "amount", right=True, cut="never"),
    ]
    cells = [[a, b, c, f"{d:,}"] for a, b, c, d in rows]
    lines = render(columns, cells, Display(width=width))
    assert all(width_of(line) <= width for line in lines)
    assert all("\n" not in line and "\x1b" not in line for line in lines)
    amounts = [line.rsplit(" ", 1)[-1] for line in lines[2:]]
    assert amounts == [row[3] for row in cells]  # numbers whole, right-aligned at the end


@given(text=names, width=st.integers(1, 30), where=st.sampled_from(["end", "middle"]))
def test_cut_never_exceeds_the_width(text, width, where):
    from engine.render.table import printable

    shown = cut(printable(text), width, where)
    assert width_of(shown) <= width
    if width_of(printable(text)) <= width:
        assert shown == printable(text)


def test_ids_are_cut_in_the_middle_so_their_tails_stay_apart():
    assert cut("006Ec00000AieKFIAZ", 12, "middle") == "006…AieKFIAZ"
    layout = Layout.fit([Column("id", "id", cut="middle", min_width=12)], [["006Ec00000AieKFIAZ"]], 12)
    assert layout.widths == (12,)


def test_the_meter_follows_an_engines_own_measure_within_its_share():
    meter = Meter(total=1000)
    percent = [-1.0]
    with meter.following(lambda: percent[0], 0.25, 0.75):
        assert meter.done == 250  # the engine does not know yet: the start of its share
        percent[0] = 50.0
        assert meter.done == 500
        percent[0] = 140.0  # an overshoot never passes the end of the share
        assert meter.done == 750
    assert meter.done == 750  # done: the share is kept
    try:
        with meter.following(lambda: 10.0, 0.75, 1.0):
            raise RuntimeError("the engine refused the file")
    except RuntimeError:
        pass
    assert meter.done == 750  # a query that failed moves nothing (Python may read the file instead)


def test_the_duckdb_engine_advances_the_meter_through_its_queries(tmp_path):
    from engine.pack import load_ruleset
    from engine.sql.duckdb_engine import DuckDBScorer

    ruleset, _ = load_ruleset([ROOT / "rules"])
    probes = []
    meter = Meter(total=os.path.getsize(EXPORT))
    original = meter.following

    def following(probe, start, end):
        probes.append((start, end, probe()))
        return original(probe, start, end)

    meter.following = following
    with metering(meter):  # as `dealgate score --engine duckdb` runs it: the file is read once, while scoring
        scorer = DuckDBScorer(ruleset, __import__("datetime").date(2026, 9, 30), check_while_scoring=True)
        try:
            source = scorer.prepare(EXPORT, None, None)
            assert scorer.check_readable(source) is None
            scorer.run([source])
        finally:
            scorer.close()
    assert [p[:2] for p in probes] == [(0.0, 1.0)]
    assert all(isinstance(p[2], float) for p in probes)  # DuckDB's query_progress answered
    assert meter.done == meter.total
