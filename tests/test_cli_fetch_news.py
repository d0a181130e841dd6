"""``backtest data fetch-news`` through the real entry point, with recorded responses injected
at the fetch boundary (tests/news_replay.py): never the network."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from cli_helpers import run_cli
from news_replay import NEWS_DATA, replay_env


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def synthetic_prices(path: Path, ticker: str = "MSFT") -> Path:
    sessions = pd.bdate_range("2024-12-02", "2025-02-14")
    close = 420 * np.cumprod(1 + 0.004 * np.sin(np.arange(len(sessions))))
    pd.DataFrame(
        {
            "date": sessions.strftime("%Y-%m-%d"),
            "ticker": ticker,
            "open": close * 0.999,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1_000_000,
        }
    ).to_csv(path, index=False)
    return path


def test_fetch_news_from_both_yfinance_formats_fills_the_cache(tmp_path):
    env = replay_env(tmp_path, {"AAPL": "yf_flat_aapl.json", "MSFT": "yf_content_msft.json"})
    cache = tmp_path / "news"
    result = run_cli("data", "fetch-news", "AAPL", "MSFT", "--cache", str(cache), env=env)
    assert result.returncode == 0, result.stderr
    assert "AAPL: 2 new items, 0 already cached" in result.stdout
    assert "MSFT: 2 new items, 0 already cached" in result.stdout
    assert "dropped 3 of 7 item(s) without a parseable publication time" in result.stderr
    again = run_cli("data", "fetch-news", "AAPL", "MSFT", "--cache", str(cache), env=env)
    assert "AAPL: 0 new items, 2 already cached" in again.stdout
    assert "nothing new written" in again.stdout
    assert len(list(cache.glob("part-*.parquet"))) == 1


def test_fetch_news_from_an_rss_file_finds_the_tickers_in_the_items(tmp_path):
    env = replay_env(tmp_path)
    feed = NEWS_DATA / "markets.rss"
    cache = tmp_path / "news"
    result = run_cli(
        "data", "fetch-news", "--source", f"rss:{feed}", "--cache", str(cache), env=env
    )
    assert result.returncode == 0, result.stderr
    for line in ("AAPL: 1 new items", "BABA: 1 new items", "JPM: 1 new items"):
        assert line in result.stdout
    assert "USA" not in result.stdout and "CEO" not in result.stdout


def test_offline_fetch_news_is_one_line_exit_2_fast_and_leaves_the_cache_as_it_was(tmp_path):
    cache = tmp_path / "news"
    online = replay_env(tmp_path, {"AAPL": "yf_flat_aapl.json"})
    assert run_cli("data", "fetch-news", "AAPL", "--cache", str(cache), env=online).returncode == 0
    before = snapshot(cache)
    offline = replay_env(tmp_path, offline=True)
    for source in ("yfinance", "rss:https://news.example.com/feed.rss"):
        started = time.monotonic()
        result = run_cli(
            "data", "fetch-news", "AAPL", "--source", source, "--cache", str(cache), env=offline
        )
        elapsed = time.monotonic() - started
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: could not fetch"), result.stderr
        assert "Traceback" not in result.stderr
        assert elapsed < 20
        assert snapshot(cache) == before  # no new part, no lock, no temporary file


def test_offline_first_fetch_news_creates_no_cache_folder(tmp_path):
    cache = tmp_path / "never" / "news"
    result = run_cli(
        "data", "fetch-news", "AAPL", "--cache", str(cache), env=replay_env(tmp_path, offline=True)
    )
    assert result.returncode == 2
    assert not cache.exists() and not cache.parent.exists()


def test_signal_reads_a_news_cache_by_published_time_or_by_first_seen(tmp_path):
    env = replay_env(tmp_path, {"MSFT": "yf_content_msft.json"})
    cache = tmp_path / "news"
    assert run_cli("data", "fetch-news", "MSFT", "--cache", str(cache), env=env).returncode == 0
    prices = synthetic_prices(tmp_path / "msft.csv")
    base = ("signal", "MSFT", "--prices", str(prices), "--headlines", str(cache))
    published = run_cli(*base, "--asof", "2025-01-31", "--json", env=env)
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)[0]["headlines"] == 2
    # first_seen is when the fetch ran (today), after these prices end: nothing is known yet.
    seen = run_cli(
        *base, "--asof", "2025-01-31", "--json", "--set", 'data.news_time="first_seen"', env=env
    )
    assert seen.returncode == 0, seen.stderr
    assert json.loads(seen.stdout)[0]["headlines"] == 0


def test_news_spec_names_the_default_news_cache(tmp_path):
    env = replay_env(tmp_path, {"MSFT": "yf_content_msft.json"})
    env["NEWS_BACKTEST_NEWS_CACHE"] = str(tmp_path / "default-news")
    assert run_cli("data", "fetch-news", "MSFT", env=env).returncode == 0
    prices = synthetic_prices(tmp_path / "msft.csv")
    result = run_cli(
        "signal",
        "MSFT",
        "--prices",
        str(prices),
        "--headlines",
        "news:MSFT",
        "--asof",
        "2025-01-31",
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["headlines"] == 2


def test_an_unknown_news_time_is_one_line_exit_2(tmp_path):
    env = replay_env(tmp_path, {"MSFT": "yf_content_msft.json"})
    cache = tmp_path / "news"
    run_cli("data", "fetch-news", "MSFT", "--cache", str(cache), env=env)
    result = run_cli(
        "signal",
        "MSFT",
        "--prices",
        str(synthetic_prices(tmp_path / "p.csv")),
        "--headlines",
        str(cache),
        "--set",
        'data.news_time="seen"',
        env=env,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "news_time" in result.stderr
