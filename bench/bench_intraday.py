"""Intraday scale benchmark: N tickers x S sessions of 1-minute bars through the real CLI.

Generates seeded synthetic minute bars on real XNYS sessions (Parquet, as a vendor export would
come) and headlines (a few per ticker and session), runs ``backtest run --strategy
strategies/intraday-news.toml --profile`` in a fresh process, and writes the wall time, the
child's peak RSS and the stage timings to bench/INTRADAY-RESULTS.md with the command. The
issue's case is 500 tickers x 252 sessions (49 M bar cells) within 6 GiB.

    python bench/bench_intraday.py [--tickers 50] [--sessions 252] [--workdir DIR]
                                   [--results bench/INTRADAY-RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SEED = 20261202
FIRST_SESSION = "2015-01-02"
STORIES_PER_SESSION = 3
TARGET_PEAK_GIB = 6.0


def write_inputs(folder: Path, n_tickers: int, n_sessions: int) -> tuple[Path, Path, int]:
    """Minute bars and headlines as Parquet files; returns their paths and the bar cells."""
    from backtest.calendar import bar_grid, load_sessions

    rng = np.random.default_rng(SEED)
    end = pd.Timestamp(FIRST_SESSION) + pd.Timedelta(days=int(n_sessions * 1.5) + 10)
    sessions = load_sessions("XNYS", FIRST_SESSION, end)
    keep = np.arange(min(n_sessions, len(sessions)))
    sessions = type(sessions)(
        sessions.dates[keep], sessions.open_ns[keep], sessions.close_ns[keep], "XNYS", sessions.tz
    )
    bars = bar_grid(sessions, 60 * 10**9)
    n_bars = len(bars)
    start = pd.DatetimeIndex(bars.start_ns.view("datetime64[ns]")).tz_localize("UTC")
    tickers = [f"T{i:03d}" for i in range(n_tickers)]
    log_price = np.log(50.0) + np.cumsum(rng.normal(0, 0.0005, (n_bars, n_tickers)), axis=0)
    close = np.exp(log_price)
    open_ = np.vstack([close[:1], close[:-1]])
    prices = pd.DataFrame(
        {
            "timestamp": np.tile(start, n_tickers),
            "ticker": np.repeat(tickers, n_bars),
            "open": open_.T.reshape(-1),
            "close": close.T.reshape(-1),
            "volume": 1000.0,
        }
    )
    prices_path = folder / "bars.parquet"
    prices.to_parquet(prices_path, index=False)
    del prices, open_, close, log_price
    n_stories = n_tickers * len(sessions) * STORIES_PER_SESSION
    rows = rng.integers(0, n_bars, n_stories)
    words = np.array(["beats", "misses", "raises", "cuts", "wins", "loses", "update"])
    texts = [f"T{k:03d} {w} guidance in story {i}" for i, (k, w) in enumerate(
        zip(rng.integers(0, n_tickers, n_stories), rng.choice(words, n_stories), strict=True)
    )]  # fmt: skip
    headlines = pd.DataFrame(
        {
            "timestamp": start[rows] + pd.to_timedelta(rng.integers(1, 59, n_stories), unit="s"),
            "ticker": [t.split()[0] for t in texts],
            "headline": texts,
        }
    )
    headlines_path = folder / "headlines.parquet"
    headlines.to_parquet(headlines_path, index=False)
    return prices_path, headlines_path, n_bars * n_tickers


def run_cli(prices: Path, headlines: Path, out: Path) -> tuple[float, float, str, list[str]]:
    """Wall time, the child's peak RSS (GiB), its stdout and the command line."""
    command = [
        sys.executable, "-m", "backtest", "run",
        "--strategy", str(REPO / "strategies" / "intraday-news.toml"),
        "--prices", str(prices), "--headlines", str(headlines),
        "--out", str(out), "--profile", "--quiet",
    ]  # fmt: skip
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if process.returncode != 0:
        raise SystemExit(f"backtest run failed ({process.returncode}): {stderr[-2000:]}")
    return wall, peak_kib / 2**20, stdout, command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=252)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "INTRADAY-RESULTS.md")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-intraday-"))
    folder.mkdir(parents=True, exist_ok=True)
    prices, headlines, cells = write_inputs(folder, args.tickers, args.sessions)
    wall, peak_gib, stdout, command = run_cli(prices, headlines, folder / "run")
    lines = stdout.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("stage ")), len(lines))
    stages = [line for line in lines[header:] if line.strip() and not line.startswith("Run ")]
    text = "\n".join(
        [
            "# Intraday scale benchmark",
            "",
            f"Command: `python bench/bench_intraday.py --tickers {args.tickers} "
            f"--sessions {args.sessions}`",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {dt.date.today().isoformat()}",
            "",
            f"- {args.tickers} tickers x {args.sessions} sessions of 1-minute bars: "
            f"{cells:,} bar cells",
            f"- wall time {wall:.1f} s, peak RSS {peak_gib:.2f} GiB (the issue's target: "
            f"{TARGET_PEAK_GIB:g} GiB at 500 tickers x 252 sessions, 49 M cells)",
            f"- run: `{' '.join(command[2:]).replace(str(REPO) + '/', '')}`",
            "",
            "Stage timings (`--profile`):",
            "",
            "```",
            *stages,
            "```",
            "",
        ]
    )
    args.results.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
