"""The team reviews runs side by side: reports/index.html after every run, and
``backtest compare`` pages, through the real entry point and in headless chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_helpers import SLICE_END, SLICE_START, run_cli
from test_report_browser import _console_errors, _finish, _require_chromium, _start_chromium

from backtest.scoring import DEFAULT_LEXICON_PATH

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def reports(slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs in one reports folder; the second scores with a lexicon whose path is hostile."""
    prices, headlines = slice_files
    folder = tmp_path_factory.mktemp("team")
    lexicon = folder / f"lex{HOSTILE}.csv"
    shutil.copy(DEFAULT_LEXICON_PATH, lexicon)
    common = ("--prices", str(prices), "--headlines", str(headlines), "--start", SLICE_START,
              "--end", SLICE_END, "--reports-dir", str(folder / "reports"), "--quiet")  # fmt: skip
    first = run_cli("run", *common)
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "run", *common, "--set", f'signal.lexicon="{lexicon}"', "--set", "signal.half_life=4"
    )
    assert second.returncode == 0, second.stderr
    return folder / "reports"


def run_folders(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir() and (p / "stats.json").exists())


def test_every_run_rewrites_the_index_with_one_row_per_folder(reports: Path) -> None:
    page = (reports / "index.html").read_text(encoding="utf-8")
    for folder in run_folders(reports):
        assert f'href="{folder.name}/report.html"' in page
    assert page.count("<tr") == 1 + len(run_folders(reports))


def test_index_lists_an_unreadable_folder_instead_of_skipping_it(reports: Path) -> None:
    broken = reports / "20990101-000000-broken"
    broken.mkdir()
    (broken / "stats.json").write_text("{not json")
    try:
        result = run_cli("index", str(reports))
        assert result.returncode == 0, result.stderr
        assert "1 unreadable" in result.stdout
        page = (reports / "index.html").read_text(encoding="utf-8")
        assert "20990101-000000-broken" in page and "unreadable: stats.json" in page
    finally:
        shutil.rmtree(broken)
        run_cli("index", str(reports))


@pytest.fixture(scope="module")
def comparison(reports: Path) -> Path:
    first, second = run_folders(reports)
    out = reports.parent / "comparison"
    result = run_cli("compare", str(first), str(second), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # same data
    return out


def test_compare_diffs_only_the_keys_that_differ_and_escapes_them(comparison: Path) -> None:
    summary = json.loads((comparison / "compare.json").read_text(encoding="utf-8"))
    assert [d["key"] for d in summary["config_diff"]] == ["signal.half_life", "signal.lexicon"]
    page = (comparison / "compare.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
    assert 'id="figures-table"' in page and "Taken by" in page


def test_compare_warns_when_the_runs_read_other_data(
    reports: Path, slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = slice_files
    other = tmp_path / "other"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--tickers", "AAPL,KO",
        "--out", str(other), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    compared = run_cli(
        "compare", str(run_folders(reports)[0]), str(other), "--out", str(tmp_path / "c")
    )
    assert compared.returncode == 0, compared.stderr
    assert "warning: runs on different data" in compared.stderr
    assert "trades other tickers" in compared.stderr
    page = (tmp_path / "c" / "compare.html").read_text(encoding="utf-8")
    assert 'class="warn data-warning"' in page


def test_compare_needs_two_runs_and_says_so() -> None:
    result = run_cli("compare", "only-one")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_compare_and_index_pages_run_cleanly_in_chromium(
    comparison: Path, reports: Path, tmp_path: Path
) -> None:
    _require_chromium()
    pages = ((comparison / "compare.html", "drawn", 2), (reports / "index.html", "none", 0))
    for page, figures, charts in pages:
        browser = _finish(_start_chromium(page, tmp_path / f"profile-{page.stem}", "--dump-dom"))
        dom = browser.stdout
        assert f'data-figures="{figures}"' in dom, browser.stderr[-2000:]
        box = re.search(r'<div id="js-errors"[^>]*>', dom)
        assert box and "hidden" in box.group(0), dom[:2000]
        assert not _console_errors(browser.stderr)
        assert "<img" not in dom
        assert dom.count('class="main-svg"') >= charts
