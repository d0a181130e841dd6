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

import os
import re
import subprocess
from pathlib import Path

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


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run headless chromium on a local file, offline, with its console log on stderr."""
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
    return subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False
    )


def _dump_dom(page: Path, profile: Path) -> tuple[str, str]:
    result = _chromium(page, profile, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


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


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_chromium()
    return render_report(build_run_folder(tmp_path_factory.mktemp("run")))


def test_report_renders_in_chromium_without_js_errors_and_escapes_headlines(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dom, stderr = _dump_dom(report, tmp_path / "profile")

    assert _js_errors(dom).strip() == "", _js_errors(dom)
    assert _console_errors(stderr) == []
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

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shot = _chromium(
        report,
        tmp_path / "profile-shot",
        "--hide-scrollbars",
        "--window-size=1280,4000",
        f"--screenshot={SCREENSHOT}",
    )
    assert shot.returncode == 0 and SCREENSHOT.stat().st_size > 50_000, shot.stderr[-2000:]
    with capsys.disabled():
        print(f"\nreport screenshot: {SCREENSHOT}")


def test_js_error_box_lists_a_thrown_error(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    html = report.read_text(encoding="utf-8")
    canary = '<script>throw new Error("canary-4711");</script>\n</body>'
    broken.write_text(html.replace("</body>", canary), encoding="utf-8")
    dom, _ = _dump_dom(broken, tmp_path / "profile")
    box = _js_errors(dom)
    assert "canary-4711" in box
    assert re.search(r'<div id="js-errors"[^>]*\bhidden\b', dom) is None
