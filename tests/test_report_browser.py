"""report.html in a real headless browser (Debian chromium): figures render, no JavaScript error,
hostile headline text shown as text. A screenshot is kept at reports/artifacts/report-browser.png.

JavaScript errors are caught by the report's own window.onerror handler, which writes them into
the #js-errors box; ``--dump-dom`` serialises the DOM after the scripts ran, so the test reads the
box from there (and chromium's console log on stderr as a second net). plotly.js is embedded
gzipped and inflated asynchronously, so chromium gets ``--virtual-time-budget`` to let the page
finish before the DOM is dumped or the screenshot taken.

Without /usr/bin/chromium the tests skip, unless the CI environment variable is set: then they
fail, so CI cannot pass without having run them.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import HOSTILE_HEADLINE, build_run_folder

from backtest.report.html import render_report

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "reports" / "artifacts" / "report-browser.png"
CHARTS = [
    "fig-equity",
    "fig-drawdown",
    "fig-rolling-sharpe",
    "fig-monthly",
    "fig-contribution",
    "fig-labels",
    "fig-event-study",
    "fig-ic",
]
BROWSER_TIMEOUT_S = 60


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI: install it (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); CI runs this test")


@dataclass(frozen=True)
class BrowserRun:
    """What one headless chromium run left: exit status, stdout (the DOM) and stderr."""

    returncode: int
    stdout: str
    stderr: str


def _start_chromium(page: Path, profile: Path, *extra: str) -> subprocess.Popen[str]:
    """Start headless chromium on a local file, offline, with its console log on stderr."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )


def _finish(process: subprocess.Popen[str]) -> BrowserRun:
    try:
        out, err = process.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"chromium took more than {BROWSER_TIMEOUT_S} s: {err[-2000:]}")
    return BrowserRun(process.returncode, out, err)


def _js_errors(dom: str) -> str:
    match = re.search(r'<div id="js-errors"[^>]*>(.*?)</div>\s*<section', dom, re.S)
    assert match, "the #js-errors box is missing from the page"
    return match.group(1)


def _console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and re.search(r"Uncaught|Error", line)
    ]


SORT_AND_FILTER_PROBE = """<script>
(function () {
  var table = document.getElementById("trades-table");
  var pnlHeader = table.tHead.rows[0].cells[6];
  function visible() {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; });
  }
  var result = {defaultShown: visible().length};
  pnlHeader.click();
  result.firstAscending = visible()[0].cells[6].textContent;
  pnlHeader.click();
  result.firstDescending = visible()[0].cells[6].textContent;
  var filter = document.getElementById("trade-filter");
  filter.value = "ALERT(1)";
  filter.dispatchEvent(new Event("input"));
  result.filtered = visible().length;
  result.countText = document.getElementById("trade-count").textContent;
  filter.value = "";
  filter.dispatchEvent(new Event("input"));
  var all = document.getElementById("trade-all");
  all.checked = true;
  all.dispatchEvent(new Event("change"));
  result.allShown = visible().length;
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
})();
</script>
</body>"""


CANARY = '<script>throw new Error("canary-4711");</script>\n</body>'


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BrowserRun | Path]:
    """Render the fixture run and load it (and two probed copies) in chromium, in parallel."""
    _require_chromium()
    root = tmp_path_factory.mktemp("browser")
    run_dir = build_run_folder(root / "runs", flip_probability=0.5)
    report = render_report(run_dir)
    page = report.read_text(encoding="utf-8")
    broken = root / "broken.html"
    broken.write_text(page.replace("</body>", CANARY), encoding="utf-8")
    probed = root / "probed.html"
    probed.write_text(page.replace("</body>", SORT_AND_FILTER_PROBE), encoding="utf-8")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    started = {
        "dom": _start_chromium(report, root / "p1", "--dump-dom"),
        "screenshot": _start_chromium(
            report,
            root / "p2",
            "--hide-scrollbars",
            "--window-size=1280,4000",
            f"--screenshot={SCREENSHOT}",
        ),
        "broken": _start_chromium(broken, root / "p3", "--dump-dom"),
        "probed": _start_chromium(probed, root / "p4", "--dump-dom"),
    }
    runs: dict[str, BrowserRun | Path] = {k: _finish(p) for k, p in started.items()}
    runs["report"] = report
    return runs


def _dom(run: BrowserRun | Path) -> BrowserRun:
    assert isinstance(run, BrowserRun)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_report_renders_in_chromium_without_js_errors_and_escapes_headlines(
    browser: dict[str, BrowserRun | Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = _dom(browser["dom"])
    dom = run.stdout

    assert _js_errors(dom).strip() == "", _js_errors(dom)
    assert _console_errors(run.stderr) == []
    assert 'data-figures="drawn"' in dom, "the figure script did not finish"
    for chart in CHARTS:
        tag = re.search(rf'<div [^>]*id="{chart}"[^>]*>', dom)
        assert tag and "js-plotly-plot" in tag.group(0), f"{chart} was not drawn"
    assert dom.count('class="plot-container plotly"') == len(CHARTS)
    assert dom.count('class="main-svg"') >= 2 * len(CHARTS)

    escaped = HOSTILE_HEADLINE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in dom
    assert not re.search(r"<img\b", dom), "a headline became an <img> element"
    assert "<script>alert" not in dom

    shot = _dom(browser["screenshot"])
    assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 50_000, shot.stderr[-2000:]
    with capsys.disabled():
        print(f"\nreport screenshot: {SCREENSHOT}")


def test_js_error_box_lists_a_thrown_error(browser: dict[str, BrowserRun | Path]) -> None:
    dom = _dom(browser["broken"]).stdout
    assert "canary-4711" in _js_errors(dom)
    assert re.search(r'<div id="js-errors"[^>]*\bhidden\b', dom) is None


def test_trades_table_sorts_and_filters_in_chromium(browser: dict[str, BrowserRun | Path]) -> None:
    report = browser["report"]
    assert isinstance(report, Path)
    trades = pd.read_csv(report.parent / "trades.csv")
    assert len(trades) > 100
    dom = _dom(browser["probed"]).stdout
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.S)
    assert match, _js_errors(dom)
    result = json.loads(html.unescape(match.group(1)))
    assert result["defaultShown"] == 100
    assert result["firstAscending"] == f"{trades['pnl'].min():,.2f}"
    assert result["firstDescending"] == f"{trades['pnl'].max():,.2f}"
    hostile = trades["headlines"].fillna("").str.lower().str.contains("alert(1)", regex=False)
    assert result["filtered"] == int(hostile.sum()) == 1
    assert result["countText"] == f"1 of {len(trades):,} trades shown"
    assert result["allShown"] == len(trades)
