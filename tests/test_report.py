"""`dealgate report` from the command line, without a browser: one self-contained file, its inputs kept
safe, every string of the data escaped, the same bytes for the same inputs, and the deals behind each
bar counted as `dealgate score` counts them. (tests/test_report_browser.py opens the page in Chromium.)"""

from __future__ import annotations

import csv
import functools
import html
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from conftest import ROOT
from engine.report.build import deal_row
from engine.report.model import GROUP_KINDS
from engine.score import ScoredDeal, Summary

DEALS = ROOT / "examples" / "deals.csv"
REPS = ROOT / "examples" / "reps.csv"
AS_OF = ["--as-of", "2026-09-30"]
HOSTILE_NAME = "</script><script>window.__pwned = 1</script>"
HOSTILE_OWNER = '<img src=x onerror="window.__pwned = 2">'


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def score_summary(export=DEALS):
    result = run("score", export, *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["summary"]


def hostile_export(folder):
    """The first 40 example deals, two of them named and owned by markup that would run if it were not escaped."""
    with DEALS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))[:40]
    rows[0]["Opportunity Name"] = HOSTILE_NAME
    rows[1]["Opportunity Owner"] = HOSTILE_OWNER
    rows[2]["Opportunity Name"] = "Smith & Sons <b>bold</b> \u2028 line"
    path = folder / "hostile.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class _Tags(HTMLParser):
    """Every start tag of a document, with its attributes, and the text of its script elements."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parsed(text: str) -> _Tags:
    tags = _Tags()
    tags.feed(text)
    return tags


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    output = folder / "report.html"
    result = run("report", DEALS, "--reps", REPS, "--period", "2026-Q3", *AS_OF, "-o", output)
    return result, output


def test_the_report_is_one_file_with_everything_inline(full_report):
    result, output = full_report
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "read 400, scored 396, rejected 4"  # as score ends
    text = output.read_text(encoding="utf-8")
    tags = parsed(text)
    # nothing is fetched: no script, style sheet, image or frame from anywhere
    assert not [t for t, a in tags.tags if t == "script" and "src" in a]
    assert not [t for t, a in tags.tags if t in ("link", "img", "iframe", "object", "embed")]
    scripts = [s for s in tags.scripts if s]
    assert any("Plotly.newPlot" in s for s in scripts)
    assert any(len(s) > 1_000_000 for s in scripts)  # plotly.js itself, inline
    charts = json.loads(text.split('id="dealgate-charts">', 1)[1].split("</script>", 1)[0])
    containers = {a["id"] for t, a in tags.tags if t == "div" and "chart" in a.get("class", "").split()}
    assert set(charts) == containers  # every container has its chart's data, and every chart a container
    assert {"chart-funnel", "chart-verdicts", "chart-rules", "chart-calibration", "chart-payouts"} <= containers
    assert {"chart-forecast-category", "chart-forecast-owner", "chart-coverage"} <= containers
    assert "chart-movement" not in containers  # no --previous: no movement, and the page says so
    for name in ("forecast-owner", "coverage", "verdicts", "calibration", "payouts"):  # an owner '1001' is a name
        assert charts[f"chart-{name}"]["layout"]["xaxis"]["type"] == "category"
    assert "give --previous OLD_EXPORT" in text


def test_the_deals_behind_each_bar_are_those_score_counts(full_report):
    _, output = full_report
    text = output.read_text(encoding="utf-8")
    summary = score_summary()
    found = {
        (kind, key): int(count.replace(",", ""))
        for kind, key, count in re.findall(
            r'<details class="deals" id="deals-\d+" data-kind="(\w+)" data-key="([^"]+)">.*?<span data-count>([\d,]+)<',
            text,
        )
    }
    assert {k: v for (kind, k), v in found.items() if kind == "verdict"} == summary["verdicts"]
    assert {k: v for (kind, k), v in found.items() if kind == "qualify_out"} == summary["qualify_out"]
    assert {k: v for (kind, k), v in found.items() if kind == "failed"} == summary["failed_criteria"]
    assert {k: v for (kind, k), v in found.items() if kind == "warning"} == summary["warnings"]


def test_the_deals_listed_behind_a_bar_are_the_largest_up_to_the_limit(tmp_path):
    from engine.pack import load_ruleset
    from engine.report.build import deal_groups
    from engine.score import ScoredDeal

    ruleset, _ = load_ruleset([ROOT / "rules"])
    rows = [
        {"id": f"D{i}", "stage": "discovery", "amount": Decimal(amount), "budget_confirmed": False}
        for i, amount in enumerate(["10", "30", "20", "30.004"])
    ]
    import datetime as dt

    score = ruleset.score_function
    deals = [ScoredDeal(i + 2, row, score(row, dt.date(2026, 9, 30))) for i, row in enumerate(rows)]
    groups = deal_groups(ruleset, deals, list_limit=2)
    blocked = next(g for g in groups if g.kind == "verdict" and g.key == "blocked")
    assert blocked.count == 4 and blocked.unlisted == 2
    assert [d.id for d in blocked.deals] == ["D3", "D1"]  # the largest first
    assert blocked.amount == Decimal("90.00")  # summed as each deal shows it, to the cent
    budget = next(g for g in groups if g.kind == "failed" and g.key == "access_to_funds")
    assert budget.count == 4 and budget.stage == "discovery" and budget.why


def test_every_string_of_the_data_is_escaped(tmp_path):
    export = hostile_export(tmp_path)
    output = tmp_path / "report.html"
    result = run("report", export, *AS_OF, "-o", output, "--title", "Q3 <i>review</i> & more")
    assert result.exit_code == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    assert "<title>Q3 &lt;i&gt;review&lt;/i&gt; &amp; more</title>" in text
    assert "window.__pwned" in text  # the data is there...
    assert "<script>window.__pwned" not in text and "<img src=x" not in text  # ...but never as markup
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text
    tags = parsed(text)
    assert not [t for t, a in tags.tags if t == "img"]
    assert [s for s in tags.scripts if "__pwned" in s] == [tags.scripts[-3]]  # only inside the charts' JSON
    charts = json.loads(tags.scripts[-3])
    owners = charts["chart-forecast-owner"]["data"][0]["x"]
    assert '&lt;img src=x onerror="window.__pwned = 2"&gt;' in owners  # plotly.js reads tags in labels: escaped


def test_the_same_inputs_give_the_same_bytes(tmp_path):
    pages = []
    for name in ("one.html", "two.html"):
        result = run("report", DEALS, "--reps", REPS, "--period", "2026-Q4", *AS_OF, "-o", tmp_path / name)
        assert result.exit_code == 0, result.stderr
        pages.append((tmp_path / name).read_bytes())
    assert pages[0] == pages[1]


def test_the_report_refuses_to_write_over_its_inputs(tmp_path):
    copy = tmp_path / "deals.csv"
    copy.write_bytes(DEALS.read_bytes())
    for args in (
        [copy, "-o", copy],
        [DEALS, "--reps", REPS, "--period", "2026-Q3", "-o", REPS],
        [DEALS, "-o", tmp_path / "r.html", "--rejects", tmp_path / "r.html"],
        [DEALS, "--previous", copy, "-o", copy],
    ):
        result = run("report", *args, *AS_OF)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Choose another output file" in result.stderr
    assert copy.read_bytes() == DEALS.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reps", REPS], "--reps gives quotas and pay periods: add --period"),
        (["--period", "2026-Q5"], "2026-Q5"),
        (["--reps", "nowhere.csv", "--period", "2026-Q3"], "no such reps file: nowhere.csv"),
        (["--previous", DEALS], "EXPORT and --previous are the same file"),
        (["--history", "nowhere.csv"], "no such history file: nowhere.csv"),
    ],
)
def test_bad_usage_is_refused_before_any_work(tmp_path, args, message):
    output = tmp_path / "report.html"
    result = run("report", DEALS, *args, *AS_OF, "-o", output)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert not output.exists()


def test_rejects_go_to_the_rejects_file_and_the_counts_end_stderr(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run("report", DEALS, *AS_OF, "-o", tmp_path / "r.html", "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    assert len(list(csv.DictReader(rejects.open()))) == 4
    assert result.stderr.strip().splitlines()[-1] == "read 400, scored 396, rejected 4"
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<b data-count=read>400</b>" in text and "<b data-count=rejected>4</b>" in text


def test_a_previous_snapshot_adds_the_movement_and_its_counts(tmp_path):
    old = tmp_path / "old.csv"
    with DEALS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["Stage"] = "Qualification"
    with old.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:300])
    output = tmp_path / "r.html"
    result = run("report", DEALS, "--previous", old, *AS_OF, "--previous-as-of", "2026-09-23", "-o", output)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == f"previous {old}: read 300, scored 297, rejected 3"
    assert lines[-1] == "read 400, scored 396, rejected 4"
    text = output.read_text(encoding="utf-8")
    assert 'id="chart-movement"' in text and "as of 2026-09-23" in text


def test_output_to_stdout(tmp_path):
    result = run("report", DEALS, *AS_OF, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.endswith("</html>\n")


def test_payout_errors_are_on_the_page_and_in_the_exit_code(tmp_path):
    """A won deal exported twice would be paid twice: `dealgate payout` refuses (DG618, exit 1), and so
    does the report, after writing the page, which lists the problems."""
    with DEALS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    won = next(r for r in rows if r["Stage"] == "Closed Won")
    export = tmp_path / "twice.csv"
    with export.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(won))
        writer.writeheader()
        writer.writerows([won, won])
    output = tmp_path / "r.html"
    result = run("report", export, "--reps", REPS, "--period", "2026-Q3", *AS_OF, "-o", output)
    payout = run("payout", export, "--reps", REPS, "--period", "2026-Q3", *AS_OF, "--format", "json")
    assert result.exit_code == payout.exit_code == 1
    assert "error[DG618]" in result.stderr
    text = output.read_text(encoding="utf-8")
    assert 'id="payout-problems" open' in text and "[DG618]" in text
    assert result.stderr.strip().splitlines()[-1] == "read 2, scored 2, rejected 0"


@functools.lru_cache(maxsize=1)
def example_deals():
    """The example export scored once: (ruleset, scored deals)."""
    import datetime as dt

    from engine.pack import load_ruleset
    from engine.read import ExportStream

    ruleset, _ = load_ruleset([ROOT / "rules"])
    stream = ExportStream(ruleset.analysis, [str(DEALS)])
    score = ruleset.score_function
    deals = [
        ScoredDeal(line, record, score(record, dt.date(2026, 9, 30)), name)
        for _, name, line, record in stream.records()
    ]
    return ruleset, deals


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=395), max_size=80), st.integers(min_value=0, max_value=6))
def test_the_deals_behind_the_bars_add_up_to_the_score_summary(picks, limit):
    """For any selection of deals (repeats too), the groups count what the score summary counts, the
    verdict groups' amounts add up to the summary's amounts, and each list is its group's largest deals."""
    import datetime as dt

    from engine.report.build import deal_groups

    ruleset, scored = example_deals()
    deals = [scored[i] for i in picks]
    summary = Summary(ruleset, dt.date(2026, 9, 30))
    for deal in deals:
        summary.add(deal.result)
    counted = summary.as_dict()
    groups = deal_groups(ruleset, deals, limit)
    by_kind = {kind: {g.key: g.count for g in groups if g.kind == kind} for kind in GROUP_KINDS}
    assert by_kind["verdict"] == counted["verdicts"]
    assert by_kind["qualify_out"] == counted["qualify_out"]
    assert by_kind["failed"] == counted["failed_criteria"]
    assert by_kind["warning"] == counted["warnings"]
    total = sum((Decimal(s["amount"]) for s in counted["stages"].values()), Decimal(0))
    assert sum((g.amount for g in groups if g.kind == "verdict"), Decimal(0)) == total
    for group in groups:
        assert len(group.deals) == min(limit, group.count)
        amounts = [d.amount or 0 for d in group.deals]
        members = [deal_row(d) for d in deals if _in_group(deal_row(d), group)]
        assert amounts == sorted((m.amount or 0 for m in members), reverse=True)[:limit]  # the largest


def _in_group(row, group) -> bool:
    ids = {"verdict": (row.verdict,), "qualify_out": row.qualify_out, "failed": row.failed, "warning": row.warnings}
    return group.key in ids[group.kind]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_stays_text_in_the_page_and_in_the_charts(text):
    """Escaped for HTML it reads back as itself and opens no tag; in the charts' JSON it parses back as
    itself, and nothing in it can end the script element it sits in."""
    from engine.render.report_html import _charts_json, _e, _label, _Page

    assert html.unescape(_e(text)) == text and "<" not in _e(text) and '"' not in _e(text)
    assert html.unescape(_label(text)) == text and "<" not in _label(text)
    page = _Page()
    page.charts = {"chart-x": {"data": [{"x": [text], "name": text}], "layout": {}}}
    written = _charts_json(page)
    assert not {"<", ">", "&", "\u2028", "\u2029"} & set(written)
    assert json.loads(written) == page.charts


class _Table(HTMLParser):
    """The cells of one table of a page (by its data-table name): (text, data-value) per cell, per row."""

    def __init__(self, name: str):
        super().__init__()
        self.name, self.rows, self._inside, self._cell = name, [], False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._inside = attrs.get("data-table") == self.name
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag == "td":
            self._cell = ["", attrs.get("data-value")]

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def table_cells(text: str, name: str) -> list:
    table = _Table(name)
    table.feed(text)
    return [row for row in table.rows if row]


def test_a_stage_history_calibrates_the_report_as_it_does_calibrate(tmp_path):
    """On the Salesforce dev-org sample with its OpportunityHistory: the page's calibration is calibrate's."""
    from conftest import dataset_file

    export = dataset_file("sfdc-devorg-sample-opps", "Opportunity.csv")
    history = dataset_file("sfdc-devorg-sample-opps", "OpportunityHistory.csv")
    rules = ROOT / "examples" / "sfdc-devorg-sample-opps"
    as_of = ["--as-of", "2026-02-23"]
    output = tmp_path / "r.html"
    result = run("report", export, "--rules", rules, "--history", history, *as_of, "-o", output)
    assert result.exit_code == 0, result.stderr
    expected = run("calibrate", export, "--rules", rules, "--history", history, *as_of, "--format", "json")
    expected = json.loads(expected.stdout)
    assert expected["source"] == "history"
    rows = table_cells(output.read_text(encoding="utf-8"), "calibration")
    assert [(r[1][1], r[2][1], r[3][1], r[4][1] or None, r[6][1]) for r in rows] == [
        (s["configured"], str(s["reached"]), str(s["won"]), s["observed"], s["suggested"]) for s in expected["stages"]
    ]
    assert f'data-value="{expected["brier"]}"' in output.read_text(encoding="utf-8")
    assert "from a stage history" in output.read_text(encoding="utf-8")


def test_the_maven_export_reports_what_score_counts(tmp_path):
    from conftest import dataset_file

    export = dataset_file("maven-crm-sales-opportunities", "sales_pipeline.csv")
    rules = ROOT / "examples" / "maven-crm-sales-opportunities"
    output = tmp_path / "r.html"
    result = run("report", export, "--rules", rules, "--as-of", "2017-12-31", "-o", output)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "read 8800, scored 8800, rejected 0"
    summary = json.loads(run("score", export, "--rules", rules, "--as-of", "2017-12-31", "--format", "json").stdout)
    stages = summary["summary"]["stages"]
    rows = table_cells(output.read_text(encoding="utf-8"), "stages")
    assert [(r[1][0], r[3][1], r[4][1], r[5][1]) for r in rows] == [
        (stage, str(t["count"]), t["amount"], t["weighted_amount"]) for stage, t in stages.items()
    ]


def test_the_command_of_the_readme_and_the_docs_runs(tmp_path, monkeypatch):
    command = "dealgate report examples/deals.csv --reps examples/reps.csv --period 2026-Q3 --as-of 2026-09-30"
    for doc in (ROOT / "README.md", ROOT / "docs" / "forecast.md"):
        assert f"{command} -o report.html" in doc.read_text(encoding="utf-8"), doc
    monkeypatch.chdir(ROOT)
    output = tmp_path / "report.html"
    result = run(*command.split()[1:], "-o", output)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines()[-2:] == [
        f"report: wrote {output} ({output.stat().st_size / 1e6:.1f} MB)",
        "read 400, scored 396, rejected 4",
    ]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, Decimal("10"), Decimal("10.004"), Decimal("99.5")]),
            st.sampled_from([None, "a", "b", "c"]),
        ),  # fmt: skip
        max_size=400,
    ),
    st.integers(min_value=0, max_value=5),
)
def test_a_bar_keeps_the_largest_deals_as_sorting_all_of_them_would(rows, limit):
    """A bar walks its deals once and keeps only about twice ``limit`` of them: the list it shows is still
    that of a stable sort of all of them (by amount, then id; ties in arrival order), and its count and
    amount are those of all of them."""
    from engine.report.build import _largest_first, _Members
    from engine.report.model import DealRow

    made = [DealRow(i, None, None, "s", "ready", None, a, None, None, (), (), ()) for a, i in rows]
    members = _Members(limit)
    for row in made:
        members.add(row, None if row.amount is None else row.amount.quantize(Decimal("0.01"), "ROUND_HALF_UP"))
    expected = sorted(made, key=_largest_first)[:limit]
    assert [id(r) for r in members.largest()] == [id(r) for r in expected]
    assert members.count == len(made)
    assert members.amount == sum((a.quantize(Decimal("0.01"), "ROUND_HALF_UP") for a, _ in rows if a), Decimal(0))
    assert len(members.rows) <= 2 * limit + 64


def test_the_report_walks_its_deals_once(tmp_path):
    """build_report takes each export's deals as a stream: a one-shot generator gives the page a list gives.
    (A part of the page walking the deals a second time would find the generator empty and differ.)"""
    import datetime as dt

    from engine.report import Source, build_report

    ruleset, scored = example_deals()
    source = Source("deals.csv", dt.date(2026, 9, 30), len(scored), len(scored), 0)

    def report(deals, previous):
        summary = Summary(ruleset, dt.date(2026, 9, 30))
        for deal in scored:
            summary.add(deal.result)
        return build_report(ruleset, deals, summary, source, previous=previous, previous_source=source)

    assert report(iter(scored), iter(scored[:100])) == report(list(scored), list(scored[:100]))
