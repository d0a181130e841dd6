"""Cost of "which headlines count" on N headlines: normalising, shingling, relevance and the
novelty kernel, as the prepare step runs them once per data set.

    python bench/bench_news_quality.py --n 1000000

The headlines are the embedded tweets resampled (texts, tickers) with random times over the
embedded period, so the text mix and the reprint rate are real; the stage timings are printed
as a small table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from backtest.data import embedded
from backtest.data.headlines import load_headlines
from backtest.news_quality import news_days, novelty, published_ns_of, story_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--window", type=int, default=5)
    args = parser.parse_args()
    real = load_headlines(embedded.EMBEDDED_HEADLINES)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(real), args.n)
    start, end = real["published_at"].min().value, real["published_at"].max().value
    stamps = np.sort(rng.integers(start, end, args.n))
    frame = pd.DataFrame(
        {
            "published_at": pd.to_datetime(stamps, utc=True),
            "ticker": real["ticker"].to_numpy(object)[pick],
            "headline": real["headline"].to_numpy(object)[pick],
            "record": np.arange(1, args.n + 1),
        }
    )
    timings = {}
    began = time.perf_counter()
    features = story_features(frame)
    timings["normalise, shingle, relevance"] = time.perf_counter() - began
    published = published_ns_of(frame)
    opens = np.arange(start, end + 86_400 * 10**9, 86_400 * 10**9, dtype=np.int64)
    tickers = pd.factorize(frame["ticker"])[0].astype(np.int64)
    novelty(tickers[:10], news_days(published[:10], opens), published[:10], features, 1)
    began = time.perf_counter()
    novelty(tickers, news_days(published, opens), published, features, args.window)
    timings[f"novelty kernel (window {args.window})"] = time.perf_counter() - began
    print(f"{args.n:,} headlines")
    for stage, seconds in timings.items():
        print(f"  {stage:<34} {seconds:7.2f} s  ({args.n / seconds / 1e3:,.0f} k/s)")


if __name__ == "__main__":
    main()
