"""``backtest signal --live`` with every network boundary injected (never the network)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli
from news_replay import replay_env

from backtest.calendar import load_sessions
from backtest.config import load_config
from backtest.data import fetch
from backtest.data.news_sources.yfinance import YFinanceNews
from backtest.live import live_readings

OPEN_NOW = datetime(2025, 2, 4, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York: NYSE open
CLOSED_NOW = datetime(2025, 2, 4, 23, 0, tzinfo=UTC)  # 18:00 New York: closed


def synthetic_download(tickers: list[str], start: date, end: date) -> pd.DataFrame:
    days = pd.DatetimeIndex(load_sessions("XNYS", start, end).dates)
    frames = []
    for ticker in tickers:
        close = 100 * np.cumprod(1 + 0.003 * np.sin(np.arange(len(days)) / 3))
        frames.append(
            pd.DataFrame(
                {
                    "date": days,
                    "ticker": ticker,
                    "open": close,
                    "high": close * 1.01,
                    "low": close * 0.99,
                    "close": close,
                    "adj_close": close,
                    "volume": 1000,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def recent_news(now: datetime):
    def fetch_items(ticker: str) -> list[dict]:
        stamp = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            {
                "id": f"{ticker}-1",
                "content": {"title": f"{ticker} shares soar on record profit", "pubDate": stamp},
            }
        ]

    return YFinanceNews(fetch=fetch_items)


@pytest.fixture
def caches(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_BACKTEST_CACHE", str(tmp_path / "prices"))
    monkeypatch.setenv("NEWS_BACKTEST_NEWS_CACHE", str(tmp_path / "news"))
    return tmp_path


def test_live_reading_when_closed_stands_on_the_last_completed_session(caches, monkeypatch):
    monkeypatch.setattr(fetch, "_last_complete_day", lambda: CLOSED_NOW.date())
    result = live_readings(
        load_config(None, []),
        ["AAPL"],
        now=CLOSED_NOW,
        download=synthetic_download,
        news=recent_news(CLOSED_NOW),
        last_price=lambda t: pytest.fail("no running session to quote"),
    )
    (reading,) = result.readings
    assert reading.asof == "2025-02-04"
    assert reading.headlines == 1 and reading.news > 50
    assert result.data_as_of[0].startswith("Data as of the close of 2025-02-04")
    assert "market is closed" in result.data_as_of[0]
    assert list((caches / "prices").glob("*.parquet")) and list((caches / "news").glob("part-*"))


def test_live_reading_when_open_quotes_the_running_sessions_last_price(caches, monkeypatch):
    monkeypatch.setattr(fetch, "_last_complete_day", lambda: OPEN_NOW.date() - timedelta(days=1))
    # The news (Monday 10:00) trades at Tuesday's open, after the last completed session the
    # reading stands on: it is said, not counted (the reading does not look ahead).
    with pytest.warns(UserWarning, match="tradeable only after the last session with prices"):
        result = live_readings(
            load_config(None, []),
            ["AAPL"],
            now=OPEN_NOW,
            download=synthetic_download,
            news=recent_news(OPEN_NOW),
            last_price=lambda t: 123.45,
        )
    line = result.data_as_of[0]
    assert line.startswith("Data as of 2025-02-04 10:00 EST: the market is open")
    assert "$123.45 in the running session of 2025-02-04" in line
    assert "close of 2025-02-03" in line and result.readings[0].asof == "2025-02-03"


def test_signal_live_through_the_entry_point_with_recorded_responses(tmp_path):
    env = replay_env(tmp_path, {"MSFT": "yf_content_msft.json"}, prices="synthetic")
    env["NEWS_BACKTEST_CACHE"] = str(tmp_path / "prices")
    env["NEWS_BACKTEST_NEWS_CACHE"] = str(tmp_path / "news")
    result = run_cli("signal", "MSFT", "--live", "--json", env=env)
    assert result.returncode == 0, result.stderr
    (reading,) = json.loads(result.stdout)["readings"]
    assert reading["ticker"] == "MSFT" and reading["data_as_of"].startswith("Data as of")
    assert (tmp_path / "news").is_dir() and (tmp_path / "prices" / "MSFT.parquet").is_file()


def test_signal_live_offline_is_one_line_exit_2(tmp_path):
    env = replay_env(tmp_path, offline=True)
    env["NEWS_BACKTEST_NEWS_CACHE"] = str(tmp_path / "news")
    result = run_cli("signal", "MSFT", "--live", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: could not fetch") and result.stderr.count("\n") == 1
    assert not (tmp_path / "news").exists()
