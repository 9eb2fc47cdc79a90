"""The report page's own style sheet and script (engine.render.report_html inlines both).

The script draws each chart from the page's JSON island with plotly.js, marks its container
``data-drawn`` once plotly.js has drawn it (the browser tests wait for that), and opens the list of
deals behind a bar when the bar is clicked. No script or style is fetched from anywhere.
"""

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

SCRIPT = """
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("dealgate-charts").textContent);
  var config = {displaylogo: false, responsive: true};
  function open(anchor) {
    var target = anchor && document.getElementById(anchor);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView({block: "start"});
    }
  }
  Object.keys(specs).forEach(function (id) {
    var element = document.getElementById(id);
    Plotly.newPlot(element, specs[id].data, specs[id].layout, config).then(function () {
      element.setAttribute("data-drawn", "true");
      element.on("plotly_click", function (event) {
        var data = event.points[0].customdata;
        if (typeof data === "string" && data.indexOf("deals-") === 0) open(data);
      });
    });
  });
})();
"""

STYLE = """
:root { --ink: #212121; --muted: #616161; --line: #e0e0e0; --accent: #1565c0; --paper: #ffffff; --wash: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font-family: FONT; color: var(--ink); background: var(--wash); line-height: 1.45; }
header { background: var(--paper); border-bottom: 1px solid var(--line); padding: 20px 32px 12px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 0 0 8px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: var(--muted); margin: 0; font-size: 13px; }
.meta b { color: var(--ink); font-weight: 600; }
nav { margin-top: 10px; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 32px 40px; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px;
  margin: 16px 0; }
.intro, .caption, .facts, .more, .notes { color: var(--muted); font-size: 13px; }
.caption { margin: 2px 0 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 0; }
.tile-value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tile-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
figure { margin: 8px 0 12px; }
.chart { width: 100%; min-height: 260px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
.table-box { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid var(--ink); }
.nowrap { white-space: nowrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
td.warn, .warn { color: #c62828; }
details.deals { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 6px 10px; }
details.deals summary { cursor: pointer; font-size: 14px; }
details.deals[open] { background: #fbfcfe; }
.badge { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 10px; color: #fff;
  background: var(--accent); }
.badge.qualify_out { background: #c62828; }
.badge.failed { background: #ef6c00; }
.badge.warning { background: #8e24aa; }
.badge.verdict { background: #455a64; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 32px 30px; }
code { font-size: 12px; background: #eef1f5; padding: 0 4px; border-radius: 3px; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } nav { display: none; } }
""".replace("FONT", FONT)
