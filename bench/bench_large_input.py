"""Large-input benchmark: 1,000,000 headlines and 500 tickers x 2,520 sessions through the real CLI.

Generates seeded synthetic data (prices as CSV.GZ, headlines as CSV.GZ), runs
``backtest run --profile`` under ``/usr/bin/time -v`` (falls back to getrusage of the child when
GNU time is missing), and writes bench/LARGE-RESULTS.md with the command, the machine, wall time,
peak RSS, per-stage timings and the run folder's file sizes. The target is a run within 8 GiB.

    python bench/bench_large_input.py [--headlines 1000000] [--tickers 500] [--sessions 2520]
                                      [--workdir DIR] [--results bench/LARGE-RESULTS.md]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SEED = 20260701
FIRST_SESSION = "2010-01-04"
TARGET_PEAK_GIB = 8.0
NEUTRAL_WORDS = [
    *("company", "shares", "update", "quarter", "market", "investors", "report", "says"),
    *("plans", "sector", "trading", "week", "analysts", "board", "deal", "unit", "chief"),
]


def backtest_command() -> list[str]:
    """The installed console script next to this interpreter."""
    script = Path(sys.executable).with_name("backtest")
    return [str(script)] if script.exists() else [shutil.which("backtest") or "backtest"]


def session_dates(count: int) -> pd.DatetimeIndex:
    """``count`` consecutive XNYS sessions from FIRST_SESSION."""
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XNYS")
    sessions = calendar.sessions_in_range(FIRST_SESSION, "2025-12-31")
    if len(sessions) < count:
        raise SystemExit(f"only {len(sessions)} sessions available")
    return pd.DatetimeIndex(sessions[:count]).tz_localize(None)


def ticker_names(count: int) -> list[str]:
    """Distinct upper-case names T000..T499-style, padded to a constant width."""
    width = len(str(count - 1))
    return [f"T{i:0{width}d}" for i in range(count)]


def write_prices(path: Path, tickers: list[str], dates: pd.DatetimeIndex, rng) -> int:
    """Geometric random walks per ticker; returns the number of rows written."""
    n_sessions, n_tickers = len(dates), len(tickers)
    log_moves = rng.normal(0.0003, 0.018, size=(n_sessions, n_tickers))
    close = 50.0 * np.exp(np.cumsum(log_moves, axis=0)) * rng.uniform(0.5, 4.0, n_tickers)
    gap = np.exp(rng.normal(0.0, 0.006, size=close.shape))
    open_ = np.vstack([close[:1] * gap[:1], close[:-1] * gap[1:]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, close.shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, close.shape))
    volume = rng.integers(100_000, 5_000_000, size=close.shape)
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates.strftime("%Y-%m-%d").to_numpy(), n_tickers),
            "ticker": np.tile(np.asarray(tickers, dtype=object), n_sessions),
            "open": open_.reshape(-1).round(4),
            "high": high.reshape(-1).round(4),
            "low": low.reshape(-1).round(4),
            "close": close.reshape(-1).round(4),
            "adj_close": close.reshape(-1).round(4),
            "volume": volume.reshape(-1),
        }
    )
    frame.to_csv(path, index=False, compression="gzip")
    return len(frame)


def lexicon_terms() -> tuple[list[str], list[str]]:
    """Positive and negative single-word terms of the packaged lexicon."""
    table = pd.read_csv(REPO / "backtest" / "lexicon" / "finance.csv", comment="#")
    words = table[~table["term"].str.contains(r"[\s\-']", regex=True)]
    words = words[words["kind"] == "word"]
    weights = pd.to_numeric(words["weight"], errors="coerce")
    return (
        words.loc[weights > 0, "term"].tolist(),
        words.loc[weights < 0, "term"].tolist(),
    )


def write_headlines(
    path: Path, tickers: list[str], dates: pd.DatetimeIndex, count: int, rng
) -> None:
    """``count`` headlines spread over the sessions, ISO 8601 UTC stamps, lexicon-bearing text."""
    positive, negative = lexicon_terms()
    start = dates[0].value // 10**9
    stop = (dates[-1] + pd.Timedelta(days=1)).value // 10**9
    seconds = np.sort(rng.integers(start, stop, size=count))
    stamps = pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
    who = np.asarray(tickers, dtype=object)[rng.integers(0, len(tickers), size=count)]
    tone = rng.integers(0, 3, size=count)
    pos = np.asarray(positive, dtype=object)[rng.integers(0, len(positive), size=count)]
    neg = np.asarray(negative, dtype=object)[rng.integers(0, len(negative), size=count)]
    filler = np.asarray(NEUTRAL_WORDS, dtype=object)
    a = filler[rng.integers(0, len(filler), size=count)]
    b = filler[rng.integers(0, len(filler), size=count)]
    word = np.where(tone == 0, pos, np.where(tone == 1, neg, filler[0]))
    texts = who + " " + a + " " + word + " " + b
    frame = pd.DataFrame(
        {"timestamp": stamps, "ticker": who, "headline": texts, "source": "synthetic"}
    )
    frame.to_csv(path, index=False, compression="gzip", quoting=csv.QUOTE_NONNUMERIC)


def run_timed(
    command: list[str], cwd: Path
) -> tuple[subprocess.CompletedProcess, float, float, int]:
    """Run ``command``; return the result, wall seconds, CPU seconds and peak RSS in KiB.

    CPU seconds (user + system) are the figure to compare when other work shares the machine.
    """
    gnu_time = Path("/usr/bin/time")
    wrapped = [str(gnu_time), "-v", *command] if gnu_time.exists() else command
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    peak_kib = int(match.group(1)) if match else after.ru_maxrss
    return result, wall, cpu, peak_kib


def stage_timings(stdout: str) -> list[tuple[str, float]]:
    """The ``--profile`` table printed by ``backtest run``."""
    rows = re.findall(r"^(\w+)\s+(\d+\.\d+)$", stdout, flags=re.MULTILINE)
    return [(name, float(seconds)) for name, seconds in rows]


def machine() -> str:
    """CPU count, memory and Python, for the results page."""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read_text()).group(1))
        memory = f", {kib / 2**20:.1f} GiB RAM"
    return (
        f"{os.cpu_count()} cores{memory}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def folder_sizes(run_dir: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size) for p in run_dir.iterdir() if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headlines", type=int, default=1_000_000)
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=2520)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "LARGE-RESULTS.md")
    parser.add_argument("--note", default="", help="Extra text for the results page.")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-large-"))
    workdir.mkdir(parents=True, exist_ok=True)
    prices_path = workdir / "prices.csv.gz"
    headlines_path = workdir / "headlines.csv.gz"
    rng = np.random.default_rng(SEED)
    tickers = ticker_names(args.tickers)
    dates = session_dates(args.sessions)
    started = time.perf_counter()
    if not prices_path.exists():
        write_prices(prices_path, tickers, dates, rng)
    if not headlines_path.exists():
        write_headlines(headlines_path, tickers, dates, args.headlines, rng)
    generate_s = time.perf_counter() - started
    print(f"data ready in {generate_s:.1f} s: {workdir}", flush=True)

    out = workdir / "run"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        *backtest_command(),
        "run",
        "--prices",
        str(prices_path),
        "--headlines",
        str(headlines_path),
        "--out",
        str(out),
        "--profile",
        "--quiet",
    ]
    load_before = os.getloadavg()[0]
    result, wall, cpu, peak_kib = run_timed(command, workdir)
    load_after = os.getloadavg()[0]
    print(result.stdout)
    print(result.stderr[-4000:], file=sys.stderr)
    peak_gib = peak_kib / 2**20
    ok = result.returncode == 0
    stages = stage_timings(result.stdout) if ok else []
    sizes = folder_sizes(out) if ok else []
    verdict = "met" if peak_gib <= TARGET_PEAK_GIB else "MISSED"
    shown = " ".join(["backtest", *command[1:]]).replace(str(workdir), "$WORK")
    lines = [
        "# Large-input benchmark",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `bench/bench_large_input.py` "
        f"on {machine()}.",
        "",
        f"Data (seeded {SEED}): {args.tickers} tickers x {args.sessions} XNYS sessions from "
        f"{FIRST_SESSION} = {args.tickers * args.sessions:,} price rows (CSV.GZ, "
        f"{prices_path.stat().st_size / 2**20:.1f} MiB); {args.headlines:,} headlines "
        f"(CSV.GZ, {headlines_path.stat().st_size / 2**20:.1f} MiB).",
        "",
        f"    {shown}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| exit status | {result.returncode} |",
        f"| wall time | {wall:.1f} s |",
        f"| CPU time (user + system) | {cpu:.1f} s |",
        f"| load average (1 min) before / after | {load_before:.1f} / {load_after:.1f} |",
        f"| peak RSS | {peak_gib:.2f} GiB ({peak_kib:,} KiB) |",
        f"| target | within {TARGET_PEAK_GIB:.0f} GiB: {verdict} |",
        "",
    ]
    if stages:
        lines += ["Stages (`--profile`):", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in stages]
        lines.append("")
    if sizes:
        lines += ["Run folder:", "", "| file | size |", "|---|---|"]
        lines += [f"| {name} | {size / 2**20:.1f} MiB |" for name, size in sizes]
        lines.append("")
    if not ok:
        lines += ["Failure (last lines of stderr):", "", "```", result.stderr[-2000:], "```", ""]
    if args.note:
        lines += [args.note, ""]
    args.results.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.results}: wall {wall:.1f} s, peak {peak_gib:.2f} GiB")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
