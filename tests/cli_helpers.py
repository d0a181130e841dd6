"""Test helpers: the real ``backtest`` entry point and where the embedded data lives."""

from __future__ import annotations

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
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``backtest`` entry point in a subprocess and capture its output
    (``env``: the environment to run it in, default this one)."""
    env = dict(os.environ if env is None else env)
    env.pop("NEWS_BACKTEST_DATA", None)
    return subprocess.run(
        [*backtest_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
