"""Shared fixtures: the real entry point, and small slices of the embedded real data."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "datasets" / "stocknet"
SLICE_TICKERS = ("AAPL", "JPM", "KO", "XOM")
SLICE_START, SLICE_END = "2014-09-01", "2015-06-30"


def backtest_command() -> list[str]:
    """The installed ``backtest`` console script next to this interpreter."""
    script = Path(sys.executable).with_name("backtest")
    if script.exists():
        return [str(script)]
    found = shutil.which("backtest")
    if found is None:
        pytest.fail("the backtest console script is not installed (pip install -e .)")
    return [found]


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run the real ``backtest`` entry point in a subprocess and capture its output."""
    env = dict(os.environ)
    env.pop("NEWS_BACKTEST_DATA", None)
    return subprocess.run(
        [*backtest_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="session")
def slice_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Prices and headlines of four embedded tickers, 2014-06..2015-09 prices, as CSV files."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("slice")
    prices = pd.read_csv(EMBEDDED / "prices.csv.gz", dtype=str)
    prices = prices[prices["ticker"].isin(SLICE_TICKERS)]
    prices = prices[(prices["date"] >= "2014-06-01") & (prices["date"] <= "2015-09-30")]
    headlines = pd.read_csv(EMBEDDED / "headlines.csv.gz", dtype=str, keep_default_na=False)
    headlines = headlines[headlines["ticker"].isin(SLICE_TICKERS)]
    headlines = headlines[
        (headlines["timestamp"] >= "2014-08-01") & (headlines["timestamp"] < "2015-07-01")
    ]
    prices_path = folder / "prices.csv"
    headlines_path = folder / "headlines.csv.gz"
    prices.to_csv(prices_path, index=False)
    headlines.to_csv(headlines_path, index=False, quoting=csv.QUOTE_ALL)
    return prices_path, headlines_path
