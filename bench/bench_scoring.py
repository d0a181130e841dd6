"""Benchmark score_headlines against VADER on the embedded StockNet texts.

    python bench/bench_scoring.py [--n 1000000] [--vader-n 20000] [--seed 7]

Prints a markdown table: throughput of score_headlines on N texts (sampled with replacement
from datasets/stocknet/headlines.csv.gz), given as a list of str and as a pandas string
Series, with numba's default threads and with one thread; VADER's throughput on a subset
(extrapolated per text) and the ratios; numba's cold compile time (fresh process, empty
NUMBA_CACHE_DIR), its cache load time (fresh process, warm cache) and peak RSS. Timings are
wall-clock (best of --repeats); run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADLINES = Path(__file__).resolve().parents[1] / "datasets" / "stocknet" / "headlines.csv.gz"

FIRST_CALL = (
    "import time; t0 = time.perf_counter(); from backtest.scoring import score_headlines; "
    "score_headlines(['Profit rose']); print(time.perf_counter() - t0)"
)


def read_headlines() -> list[str]:
    """All headline texts of the embedded dataset, in file order."""
    with gzip.open(HEADLINES, "rt", encoding="utf-8", newline="") as f:
        return [row["headline"] for row in csv.DictReader(f)]


def first_call_seconds(cache_dir: str) -> float:
    """Seconds from import to first score in a fresh process using ``cache_dir`` as numba cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def best_of(repeats: int, run) -> tuple[float, float]:
    """Smallest wall time and smallest process CPU time of ``repeats`` calls of ``run()``.

    On a busy machine the CPU time of a single-threaded run is the steadier figure.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="texts to score")
    parser.add_argument("--vader-n", type=int, default=20_000, help="texts for VADER")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache_dir:
        cold = first_call_seconds(cache_dir)
        warm = first_call_seconds(cache_dir)

    import numba
    import pandas as pd
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from backtest.scoring import arrow_text_chunks, score_headlines

    pool = read_headlines()
    rng = np.random.default_rng(args.seed)
    texts = [pool[i] for i in rng.integers(0, len(pool), args.n)]
    series = pd.Series(texts, dtype="str")
    mean_bytes = sum(len(t.encode()) for t in texts[:100_000]) / min(args.n, 100_000)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    score_headlines(texts[:1000])
    threads = numba.get_num_threads()
    convert_s, _ = best_of(args.repeats, lambda: arrow_text_chunks(texts))
    list_s, _ = best_of(args.repeats, lambda: score_headlines(texts))
    series_s, _ = best_of(args.repeats, lambda: score_headlines(series))
    numba.set_num_threads(1)
    list_1t_s, list_1t_cpu = best_of(args.repeats, lambda: score_headlines(texts))
    series_1t_s, series_1t_cpu = best_of(args.repeats, lambda: score_headlines(series))
    numba.set_num_threads(threads)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    analyzer = SentimentIntensityAnalyzer()
    subset = texts[: args.vader_n]
    vader_s, vader_cpu = best_of(1, lambda: [analyzer.polarity_scores(t) for t in subset])
    vader_rate, vader_cpu_rate = len(subset) / vader_s, len(subset) / vader_cpu

    def row(what: str, seconds: float, cpu_seconds: float | None = None) -> None:
        rate = args.n / seconds
        cells = f"{rate:,.0f} texts/s ({seconds:.2f} s) | {rate / vader_rate:,.0f}x"
        if cpu_seconds is None:
            print(f"| {what} | {cells} | | |")
            return
        cpu_rate = args.n / cpu_seconds
        print(f"| {what} | {cells} | {cpu_rate:,.0f} texts/s | {cpu_rate / vader_cpu_rate:,.0f}x |")

    print(f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; ")
    print(f"Python {platform.python_version()}, numba {numba.__version__}; ")
    print(
        f"{args.n:,} StockNet texts (seed {args.seed}, {mean_bytes:.0f} UTF-8 bytes on average)\n"
    )
    print("| measure | wall-clock rate | vs VADER | CPU-time rate | vs VADER |")
    print("|---|---|---|---|---|")
    row(f"score_headlines(list of str), {threads} threads", list_s)
    row("score_headlines(list of str), 1 thread", list_1t_s, list_1t_cpu)
    row(f"score_headlines(pandas str Series), {threads} threads", series_s)
    row("score_headlines(pandas str Series), 1 thread", series_1t_s, series_1t_cpu)
    print(f"| of which list -> Arrow buffer | {convert_s:.2f} s | | | |")
    row_vader = f"{vader_rate:,.0f} texts/s | 1x | {vader_cpu_rate:,.0f} texts/s | 1x"
    print(f"| VADER polarity_scores, {len(subset):,} texts | {row_vader} |")
    print(f"| first call, cold numba cache (fresh process) | {cold:.2f} s | | | |")
    print(f"| first call, warm numba cache (fresh process) | {warm:.2f} s | | | |")
    print(f"| peak RSS (texts built: {rss_before:,.0f} MiB) | {rss_peak:,.0f} MiB | | | |")


if __name__ == "__main__":
    main()
