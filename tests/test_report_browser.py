"""`dealgate report` in a real browser: the system's headless Chromium (/usr/bin/chromium, which .ci/run
installs from the Debian packages), driven by Playwright, with every request that is not for a local
file aborted and recorded.

The page must load offline with no console error, draw every chart, and show the numbers the CLI's
JSON gives (`score`, `forecast`, `calibrate`, `movement`, `payout --format json`): read from the page's
tables (what a person sees, and the exact value beside it) and from each chart's own data in the live
plotly.js graph. Clicking a bar opens the list of its deals; the data's markup never runs; a screenshot
is a real picture. With DEALGATE_UPDATE_DOCS_IMAGES=1 the screenshots of docs/forecast.md are made again
(docs/img/report-*.png), from the example data.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from conftest import ROOT

CHROMIUM = os.environ.get("DEALGATE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DEALS = ROOT / "examples" / "deals.csv"
REPS = ROOT / "examples" / "reps.csv"
AS_OF = ["--as-of", "2026-09-30"]
PERIOD = "2026-Q3"
DOCS_IMAGES = ROOT / "docs" / "img"
VIEWPORT = {"width": 1280, "height": 900}
# Known to work headless, as root, on a machine with no network
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def cli_json(*args) -> dict:
    result = run(*args, *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def browser():
    """Chromium, launched once for the module; skipped (saying why) without it or without Playwright."""
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'"
    )
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) "
            "or set DEALGATE_CHROMIUM"
        )
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Visit:
    """A page opened from file:// with every other request aborted; what it logged and asked for."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.refused, self.requests, self.console, self.errors, self.dialogs = [], [], [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append((message.type, message.text)))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function(
            "document.querySelectorAll('.chart').length === document.querySelectorAll('.chart[data-drawn]').length",
            timeout=30_000,
        )

    def _route(self, route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def table(self, name: str, part: str = "tbody") -> list[list[tuple[str, str | None]]]:
        """The rows of a table: (text shown, data-value) of each cell."""
        rows = self.page.evaluate(
            """([name, part]) => Array.from(document.querySelectorAll(`table[data-table="${name}"] ${part} tr`))
                 .map(tr => Array.from(tr.cells).map(td => [td.textContent, td.getAttribute("data-value")]))""",
            [name, part],
        )
        return [[tuple(cell) for cell in row] for row in rows]

    def chart(self, name: str) -> list[dict]:
        """The traces of a chart as plotly.js holds them in the live graph: name, x, y, customdata."""
        return self.page.evaluate(
            """(id) => document.getElementById(id).data.map(t => ({name: t.name, x: Array.from(t.x || []),
                 y: Array.from(t.y || []), customdata: t.customdata ? Array.from(t.customdata) : null}))""",
            f"chart-{name}",
        )

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A snapshot a week older than the example export: some deals at other stages, amounts and dates, one
    deal the example export no longer has and one it has gained."""
    folder = tmp_path_factory.mktemp("previous")
    with DEALS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {r["Opportunity ID"]: r for r in rows}
    edits = {
        "006X00000000": {"Stage": "Qualification"},
        "006X00000002": {"Close Date": "11/15/2026"},
        "006X00000005": {"Amount": "$99,000.00"},
        "006X00000012": {"Stage": "Prospecting"},
        "006X00000014": {"Stage": "Negotiation/Review"},
    }
    for deal_id, change in edits.items():
        by_id[deal_id].update(change)
    rows = [r for r in rows if r["Opportunity ID"] != "006X00000030"]
    rows.append(dict(rows[20], **{"Opportunity ID": "006X00008888"}))
    path = folder / "last-week.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def report(previous):
    """The full report of the example data: reps, a period, and a previous snapshot. Run beside copies of
    the example files, so that the page (and the docs' pictures of it) names them as a user would."""
    folder = previous.parent
    shutil.copy(DEALS, folder / "deals.csv")
    shutil.copy(REPS, folder / "reps.csv")
    (folder / "rules").symlink_to(ROOT / "rules", target_is_directory=True)
    here = Path.cwd()
    os.chdir(folder)
    try:
        result = run(
            "report",
            "deals.csv",
            "--reps",
            "reps.csv",
            "--period",
            PERIOD,
            "--previous",
            previous.name,
            "--previous-as-of",
            "2026-09-23",
            *AS_OF,
            "-o",
            "report.html",
        )
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.stderr
    return folder / "report.html"


@pytest.fixture(scope="module")
def visit(browser, report):
    opened = Visit(browser, report)
    yield opened
    opened.close()


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def percent(value: str | None) -> str:
    return "" if value is None else f"{Decimal(value) * 100:.1f}%"


def test_the_page_opens_offline_with_no_console_error(visit):
    assert visit.refused == []  # nothing but the file itself was asked for
    assert visit.requests and all(url.startswith("file://") for url in visit.requests)
    assert visit.errors == []
    assert [m for m in visit.console if m[0] in ("error", "warning")] == []
    assert visit.dialogs == []


def test_every_chart_is_drawn_with_marks(visit):
    charts = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll(".chart")).map(div => ({
             id: div.id,
             svg: div.querySelectorAll("svg.main-svg").length,
             traces: div.querySelectorAll("g.trace, g.cartesianlayer .trace").length,
             marks: Array.from(div.querySelectorAll("g.trace path, g.trace .point, g.trace rect"))
                      .filter(m => { const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length,
           }))"""
    )
    assert {c["id"] for c in charts} == {
        "chart-funnel",
        "chart-forecast-category",
        "chart-forecast-owner",
        "chart-coverage",
        "chart-verdicts",
        "chart-rules",
        "chart-calibration",
        "chart-movement",
        "chart-payouts",
    }
    for chart in charts:
        assert chart["svg"] > 0 and chart["traces"] > 0 and chart["marks"] > 0, chart


def test_the_funnel_and_the_overview_show_the_score_summary(visit):
    summary = cli_json("score", DEALS)["summary"]
    tiles = dict(
        visit.page.evaluate(
            """() => Array.from(document.querySelectorAll(".tile")).map(t =>
                 [t.dataset.tile, t.querySelector(".tile-value").getAttribute("data-value")])"""
        )
    )
    for key in ("open_pipeline", "weighted_forecast", "won_amount"):
        assert tiles[key] == summary[key]
    assert tiles["deals"] == str(summary["deals"])
    rows = visit.table("stages")
    stages = list(summary["stages"])
    assert [r[1][0] for r in rows] == stages
    for row, stage in zip(rows, stages):
        expected = summary["stages"][stage]
        assert row[3] == (f"{expected['count']:,}", str(expected["count"]))
        assert row[4][1] == expected["amount"] and money(row[4][0]) == Decimal(expected["amount"])
        assert row[5][1] == expected["weighted_amount"] and money(row[5][0]) == Decimal(expected["weighted_amount"])
    funnel = visit.chart("funnel")[0]
    assert funnel["x"] == [summary["stages"][s]["count"] for s in stages if s != "closed_lost"]


def test_the_verdict_and_rule_charts_count_as_score_does(visit):
    summary = cli_json("score", DEALS)["summary"]
    verdicts = visit.chart("verdicts")[0]
    assert dict(zip(verdicts["x"], verdicts["y"])) == summary["verdicts"]
    rules = {trace["name"]: dict(zip(trace["y"], trace["x"])) for trace in visit.chart("rules")}
    assert rules["qualify-out rule"] == summary["qualify_out"]
    assert rules["exit criterion failed"] == summary["failed_criteria"]
    assert rules["warning"] == summary["warnings"]


def check_forecast_rows(rows, groups, key):
    assert [r[0][0] for r in rows] == [g[key] for g in groups]
    for row, group in zip(rows, groups):
        for cell, field in zip(row[1:], ("deals", "open_deals")):
            assert cell == (f"{group[field]:,}", str(group[field]))
        for cell, field in zip(row[3:9:1], ("open_pipeline", "weighted", None, "won", None, "lost")):
            if field is not None:
                assert cell[1] == group[field] and money(cell[0]) == Decimal(group[field])
        assert row[9] == (percent(group["win_rate"]), group["win_rate"] or "")


def test_the_forecast_and_coverage_are_the_forecast_commands(visit):
    by_category = cli_json("forecast", DEALS, "--period", PERIOD, "--by", "category")
    check_forecast_rows(visit.table("forecast-category"), by_category["groups"], "category")
    check_forecast_rows(
        visit.table("forecast-category", "tfoot"), [dict(by_category["total"], category="total")], "category"
    )
    chart = {t["name"]: t for t in visit.chart("forecast-category")}
    assert chart["weighted"]["y"] == [float(g["weighted"]) for g in by_category["groups"]]
    assert chart["weighted"]["customdata"] == [g["weighted"] for g in by_category["groups"]]

    by_owner = cli_json("forecast", DEALS, "--period", PERIOD, "--by", "owner", "--reps", REPS)
    check_forecast_rows(visit.table("forecast-owner"), by_owner["groups"], "owner")
    coverage = visit.table("coverage") + visit.table("coverage", "tfoot")
    assert len(coverage) == len(by_owner["coverage"])
    for row, expected in zip(coverage, by_owner["coverage"]):
        assert row[0][0] == expected["rep"]
        for cell, field in zip(row[2:7], ("quota", "won", "remaining", "open_pipeline", "weighted")):
            assert cell[1] == (expected[field] or "")
        for cell, field in ((row[7], "coverage"), (row[8], "weighted_coverage"), (row[10], "needed_coverage")):
            assert cell == ((expected[field] + "x") if expected[field] else "", expected[field] or "")
        assert row[9] == (percent(expected["win_rate"]), expected["win_rate"] or "")
    bars = visit.chart("coverage")[0]
    shown = [r for r in by_owner["coverage"][:-1] if r["coverage"] is not None]
    assert bars["customdata"] == [r["coverage"] for r in shown]
    assert bars["y"] == [float(r["coverage"]) for r in shown]


def test_the_calibration_is_the_calibrate_command(visit):
    expected = cli_json("calibrate", DEALS)
    rows = visit.table("calibration")
    assert len(rows) == len(expected["stages"])
    for row, stage in zip(rows, expected["stages"]):
        assert row[1] == (percent(stage["configured"]), stage["configured"])
        assert row[2][1] == str(stage["reached"]) and row[3][1] == str(stage["won"])
        assert row[4] == (percent(stage["observed"]), stage["observed"] or "")
        assert row[6] == (percent(stage["suggested"]), stage["suggested"])
        assert row[7][0] == ("outside" if stage["outside"] else "")
    observed = visit.chart("calibration")[0]
    assert [c[0] for c in observed["customdata"]] == [s["observed"] for s in expected["stages"] if s["observed"]]
    intervals = visit.page.evaluate(
        """() => { const t = document.getElementById("chart-calibration").data[0];
                   return t.y.map((y, i) => [y - t.error_y.arrayminus[i], y + t.error_y.array[i]]); }"""
    )
    for (low, high), stage in zip(intervals, [s for s in expected["stages"] if s["observed"]]):
        assert low == pytest.approx(float(stage["low"])) and high == pytest.approx(float(stage["high"]))
    brier = visit.page.evaluate("""() => document.querySelector("#calibration .facts b").getAttribute("data-value")""")
    assert brier == expected["brier"]


def test_the_movement_is_the_movement_command(visit, previous):
    result = run("movement", previous, DEALS, "--as-of", "2026-09-30", "--old-as-of", "2026-09-23", "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = json.loads(result.stdout)
    rows = visit.table("waterfall")
    assert rows[0][2][1] == expected["old"]["weighted_pipeline"]
    assert [(r[0][0], r[1][1], r[2][1]) for r in rows[1:]] == [
        (s["step"], str(s["deals"]), s["amount"]) for s in expected["waterfall"]
    ]
    assert visit.table("waterfall", "tfoot")[0][2][1] == expected["new"]["weighted_pipeline"]
    waterfall = visit.chart("movement")[0]
    steps = [s for s in expected["waterfall"] if s["deals"]]
    assert waterfall["customdata"] == [expected["old"]["weighted_pipeline"]] + [s["amount"] for s in steps] + [
        expected["new"]["weighted_pipeline"]
    ]
    drawn_total = visit.page.evaluate(
        """() => { const t = document.getElementById("chart-movement");
                   return t.calcdata[0][t.calcdata[0].length - 1].s; }"""
    )
    assert drawn_total == pytest.approx(float(expected["new"]["weighted_pipeline"]))  # plotly's own running sum
    moved = {r[0][0]: r[7][1] for r in visit.table("movement-deals")}
    assert moved == {d["id"]: d["weighted_change"] for d in expected["deals"]}


def test_the_payouts_are_the_payout_command(visit):
    expected = cli_json("payout", DEALS, "--reps", REPS, "--period", PERIOD)["statements"]
    rows = visit.table("payouts")
    assert [(r[0][0], r[3][0], r[8][1]) for r in rows] == [(s["rep"], s["period"], s["total"]) for s in expected]
    for row, statement in zip(rows, expected):
        assert money(row[8][0]) == Decimal(statement["total"])
        assert row[5][1] == statement["credit"] and row[4][1] == (statement["quota"] or "")
    drawn = {}
    for trace in visit.chart("payouts"):
        for rep, (total, _) in zip(trace["x"], trace["customdata"]):
            drawn[(rep, trace["name"])] = total
    assert drawn == {(s["rep"], s["period"]): s["total"] for s in expected}


def test_clicking_a_bar_lists_its_deals(visit):
    page = visit.page
    assert (
        page.evaluate("""() => document.querySelector('details[data-kind="verdict"][data-key="blocked"]').open""")
        is False
    )
    page.evaluate("""() => document.getElementById("chart-verdicts").scrollIntoView()""")
    box = page.evaluate(
        """() => { const r = document.querySelectorAll("#chart-verdicts g.trace g.point")[1].getBoundingClientRect();
                   return [r.x + r.width / 2, r.y + r.height / 2]; }"""
    )  # the middle of the second bar: blocked
    page.mouse.click(*box)
    page.wait_for_function("""() => document.querySelector('details[data-kind="verdict"][data-key="blocked"]').open""")
    listed = page.evaluate(
        """() => Array.from(document.querySelectorAll('details[data-key="blocked"] tbody tr'))
                 .map(tr => tr.cells[7].textContent)"""
    )
    assert listed and set(listed) == {"blocked"}


def test_markup_in_the_data_stays_text(browser, tmp_path):
    from test_report import HOSTILE_NAME, HOSTILE_OWNER, hostile_export

    output = tmp_path / "hostile.html"
    result = run("report", hostile_export(tmp_path), *AS_OF, "-o", output)
    assert result.exit_code == 0, result.stderr
    opened = Visit(browser, output)
    try:
        assert opened.page.evaluate("() => window.__pwned") is None
        assert opened.errors == [] and opened.dialogs == [] and opened.refused == []
        text = opened.page.evaluate("() => document.body.textContent")
        assert HOSTILE_NAME in text and HOSTILE_OWNER in text
        assert opened.page.evaluate("() => document.querySelectorAll('img').length") == 0
        labels = opened.page.evaluate(
            """() => Array.from(document.querySelectorAll("#chart-forecast-owner .xtick text"))
                     .map(t => t.textContent)"""
        )
        assert HOSTILE_OWNER in labels  # drawn as the characters it has
    finally:
        opened.close()


def test_a_report_without_options_loads_too(browser, tmp_path):
    output = tmp_path / "plain.html"
    result = run("report", DEALS, *AS_OF, "-o", output)
    assert result.exit_code == 0, result.stderr
    opened = Visit(browser, output)
    try:
        assert opened.errors == [] and opened.refused == []
        assert [m for m in opened.console if m[0] in ("error", "warning")] == []
        ids = opened.page.evaluate("() => Array.from(document.querySelectorAll('.chart')).map(c => c.id)")
        assert "chart-coverage" not in ids and "chart-payouts" not in ids and "chart-movement" not in ids
        assert "chart-forecast-owner" in ids and "chart-calibration" in ids
    finally:
        opened.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def distinct_colours(page, data: bytes) -> int:
    """The colours of a PNG, counted by the browser (drawn on a canvas, every fourth pixel read)."""
    return page.evaluate(
        """async (b64) => {
             const image = new Image(); image.src = "data:image/png;base64," + b64; await image.decode();
             const canvas = document.createElement("canvas"); canvas.width = image.width; canvas.height = image.height;
             const context = canvas.getContext("2d"); context.drawImage(image, 0, 0);
             const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data, seen = new Set();
             for (let i = 0; i < pixels.length; i += 16)
               seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
             return seen.size; }""",
        base64.b64encode(data).decode("ascii"),
    )


def test_a_screenshot_is_a_real_picture(visit):
    visit.page.evaluate("() => window.scrollTo(0, 0)")
    shot = visit.page.screenshot()
    assert png_size(shot) == (VIEWPORT["width"], VIEWPORT["height"])
    assert distinct_colours(visit.page, shot) > 20  # text, tiles and chart colours: not a blank page
    blank = visit.context.new_page()
    try:
        blank.set_content("<html><body style='background:#fff'></body></html>")
        assert distinct_colours(blank, blank.screenshot()) == 1  # the measure tells a blank page apart
    finally:
        blank.close()


# The pictures of docs/forecast.md: one section each
DOC_SHOTS = {
    "report-overview.png": "header, #overview, #funnel",
    "report-forecast.png": "#forecast",
    "report-verdicts.png": "#verdicts",
    "report-calibration.png": "#calibration",
    "report-movement.png": "#movement",
    "report-payouts.png": "#payouts",
}


def test_the_pictures_in_the_docs(visit):
    """The docs' screenshots exist and stay small; DEALGATE_UPDATE_DOCS_IMAGES=1 makes them again from this report."""
    if os.environ.get("DEALGATE_UPDATE_DOCS_IMAGES"):
        DOCS_IMAGES.mkdir(exist_ok=True)
        page = visit.page
        page.evaluate(
            """() => document.querySelectorAll("details").forEach(d => { d.open = d.dataset.key === "blocked"; })"""
        )  # as a click on the 'blocked' bar leaves it
        for name, selector in DOC_SHOTS.items():
            box = page.evaluate(
                """(selector) => { const boxes = Array.from(document.querySelectorAll(selector)).map(e => {
                     const r = e.getBoundingClientRect();
                     return [r.top + window.scrollY, r.bottom + window.scrollY]; });
                   return [Math.min(...boxes.map(b => b[0])), Math.max(...boxes.map(b => b[1]))]; }""",
                selector,
            )
            top, bottom = box[0], min(box[1], box[0] + 1400)
            clip = {"x": 0, "y": top, "width": VIEWPORT["width"], "height": bottom - top}
            (DOCS_IMAGES / name).write_bytes(page.screenshot(full_page=True, clip=clip, type="png"))
    for name in DOC_SHOTS:
        data = (DOCS_IMAGES / name).read_bytes()
        width, height = png_size(data)
        assert width == VIEWPORT["width"] and height > 200, name
        assert len(data) < 300_000, f"{name} is {len(data):,} bytes; keep the docs' pictures under 300 KB"
