"""``backtest data fetch --interval``: intraday bars into ``<cache>/<interval>/``, within what
Yahoo Finance serves, readable as intraday prices. Downloads are recorded answers: a fake
downloader in-process, a ``sitecustomize`` in the CLI's own process; never the network."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

from backtest.calendar import bar_grid, load_sessions
from backtest.data.fetch_bars import check_range, fetch_bars, from_yfinance_bars, interval_of_bar
from backtest.errors import InputError
from backtest.market import prepare

TODAY = date(2015, 6, 12)


def recorded_bars(tickers: list[str], start: date, end: date, minutes: int = 5) -> pd.DataFrame:
    """What yfinance would answer: regular-hours bars of XNYS sessions, a slow drift."""
    sessions = load_sessions("XNYS", start, end)
    grid = bar_grid(sessions, minutes * 60 * 10**9)
    stamps = pd.DatetimeIndex(grid.start_ns.view("datetime64[ns]")).tz_localize("UTC")
    frames = []
    for k, ticker in enumerate(tickers):
        close = 100.0 + k + np.arange(len(grid)) * 0.01
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": stamps,
                    "ticker": ticker,
                    "open": close - 0.005,
                    "high": close + 0.01,
                    "low": close - 0.01,
                    "close": close,
                    "volume": 1000.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


class FakeYahoo:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str, date, date]] = []

    def __call__(self, tickers: list[str], interval: str, start: date, end: date) -> pd.DataFrame:
        self.calls.append((tuple(tickers), interval, start, end))
        return recorded_bars(tickers, start, end)


def test_bars_land_in_the_interval_folder_and_read_as_intraday_prices(tmp_path: Path) -> None:
    yahoo = FakeYahoo()
    result = fetch_bars(
        ["aapl", "MSFT"], "5m", date(2015, 6, 8), date(2015, 6, 9),
        cache_dir=tmp_path, download=yahoo, today=TODAY,
    )  # fmt: skip
    assert result.folder == tmp_path / "5m"
    assert sorted(p.name for p in result.folder.iterdir()) == ["AAPL.parquet", "MSFT.parquet"]
    assert result.new_rows == {"AAPL": 156, "MSFT": 156}
    headlines = pd.DataFrame(
        {"timestamp": ["2015-06-08T14:00:00Z"], "ticker": ["AAPL"], "headline": ["AAPL beats"]}
    )
    market = prepare(overrides={"data.prices": str(result.folder)}, headlines=headlines)
    assert market.panel.bars is not None
    assert market.panel.bars.interval_ns == 5 * 60 * 10**9
    assert market.tickers == ("AAPL", "MSFT")
    assert np.isfinite(market.panel.close).all()


def test_a_second_fetch_merges_and_a_downloaded_bar_replaces_the_cached_one(
    tmp_path: Path,
) -> None:
    first = fetch_bars(
        ["AAPL"], "5m", date(2015, 6, 8), date(2015, 6, 9),
        cache_dir=tmp_path, download=FakeYahoo(), today=TODAY,
    )  # fmt: skip
    again = fetch_bars(
        ["AAPL"], "5m", date(2015, 6, 9), date(2015, 6, 10),
        cache_dir=tmp_path, download=FakeYahoo(), today=TODAY,
    )  # fmt: skip
    assert again.new_rows["AAPL"] == 78
    cached = pd.read_parquet(first.paths["AAPL"])
    assert len(cached) == 3 * 78
    assert (
        cached["timestamp"].is_monotonic_increasing and not cached["timestamp"].duplicated().any()
    )


@pytest.mark.parametrize(
    ("interval", "start", "fine"),
    [
        ("1m", TODAY - timedelta(days=7), True),
        ("1m", TODAY - timedelta(days=8), False),
        ("5m", TODAY - timedelta(days=60), True),
        ("15m", TODAY - timedelta(days=61), False),
        ("1h", TODAY - timedelta(days=730), True),
        ("1h", TODAY - timedelta(days=731), False),
    ],
)
def test_yahoo_limits_are_a_clear_error_before_any_download(
    interval: str, start: date, fine: bool
) -> None:
    if fine:
        check_range(interval, start, TODAY, TODAY)
    else:
        with pytest.raises(InputError, match=f"serves {interval} bars for the last"):
            check_range(interval, start, TODAY, TODAY)


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(InputError, match="not a Yahoo Finance intraday interval"):
        check_range("7m", TODAY, TODAY, TODAY)
    assert interval_of_bar("5min") == "5m" and interval_of_bar("1h") == "1h"


def test_an_empty_answer_is_a_download_error_and_writes_nothing(tmp_path: Path) -> None:
    def offline(tickers: list[str], interval: str, start: date, end: date) -> pd.DataFrame:
        return from_yfinance_bars(pd.DataFrame(), tickers)

    with pytest.raises(InputError, match="could not download prices for AAPL"):
        fetch_bars(["AAPL"], "5m", TODAY, TODAY, cache_dir=tmp_path, download=offline, today=TODAY)
    assert not (tmp_path / "5m").exists()


def test_yfinance_frames_become_bar_rows() -> None:
    index = pd.DatetimeIndex(["2015-06-08 09:30", "2015-06-08 09:35"], name="Datetime").tz_localize(
        "America/New_York"
    )
    columns = pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], ["AAPL"]],
        names=["Price", "Ticker"],
    )
    raw = pd.DataFrame(np.ones((2, 6)), index=index, columns=columns)
    frame = from_yfinance_bars(raw, ["AAPL"])
    assert list(frame["timestamp"].astype(str)) == [
        "2015-06-08 13:30:00+00:00",
        "2015-06-08 13:35:00+00:00",
    ]


SITECUSTOMIZE = """
import datetime as _dt
import pandas as _pd
from backtest.data import fetch_bars as _bars

_recorded = _pd.read_parquet({path!r})

def _replayed(tickers, interval, start, end, prepost=False):
    day = _recorded["timestamp"].dt.date
    hours = _recorded["timestamp"].dt.tz_convert("America/New_York").dt.strftime("%H:%M")
    regular = (hours >= "09:30") & (hours < "16:00")
    wanted = _recorded["ticker"].isin(tickers) & (day >= start) & (day <= end)
    return _recorded[wanted & (regular | prepost)]

_bars.yfinance_bars = _replayed
"""


def test_cli_fetches_bars_and_a_run_reads_them_with_yf_and_data_bar(tmp_path: Path) -> None:
    today = date.today()
    start = today - timedelta(days=10)
    recorded = recorded_bars(["AAPL", "MSFT"], start, today)
    recorded.to_parquet(tmp_path / "recorded.parquet")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        SITECUSTOMIZE.format(path=str(tmp_path / "recorded.parquet")), encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "NEWS_BACKTEST_CACHE": str(tmp_path / "cache"),
    }
    done = run_cli(
        "data", "fetch", "AAPL", "MSFT", "--interval", "5m", "--start", start.isoformat(), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "AAPL:" in done.stdout and "--set data.bar=5min" in done.stdout
    assert (tmp_path / "cache" / "5m" / "AAPL.parquet").is_file()
    first_day = recorded["timestamp"].dt.tz_convert("America/New_York").iloc[0]
    news = tmp_path / "news.csv"
    stamp = (first_day + pd.Timedelta("30min")).isoformat()
    news.write_text(f"timestamp,ticker,headline\n{stamp},AAPL,AAPL beats\n", encoding="utf-8")
    ran = run_cli(
        "run", "--prices", "yf:AAPL,MSFT", "--set", 'data.bar="5min"', "--headlines", str(news),
        "--end", today.isoformat(), "--out", str(tmp_path / "run"), env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    equity = pd.read_csv(tmp_path / "run" / "equity.csv")
    assert equity["date"].str.contains("T").all()
    too_old = run_cli(
        "data", "fetch", "AAPL", "--interval", "1m", "--start",
        (today - timedelta(days=30)).isoformat(), env=env,
    )  # fmt: skip
    assert too_old.returncode == 2
    assert "last 7 days only" in too_old.stderr and len(too_old.stderr.strip().splitlines()) == 1


def test_yfinance_bars_ask_for_extended_hours_only_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backtest.data import fetch_bars as bars

    asked: list[bool] = []

    def download(tickers: list[str], start: date, end: date, **options: object) -> pd.DataFrame:
        asked.append(bool(options["prepost"]))
        index = pd.DatetimeIndex(["2015-06-08 08:00"], name="Datetime").tz_localize(
            "America/New_York"
        )
        columns = pd.MultiIndex.from_product(
            [["Close", "High", "Low", "Open", "Volume"], tickers], names=["Price", "Ticker"]
        )
        return pd.DataFrame(np.ones((1, 5 * len(tickers))), index=index, columns=columns)

    monkeypatch.setattr(bars, "_quiet_yf_download", download)
    bars.yfinance_bars(["AAPL"], "5m", TODAY, TODAY)
    frame = bars.yfinance_bars(["AAPL"], "5m", TODAY, TODAY, prepost=True)
    assert asked == [False, True] and len(frame) == 1


def test_cli_fetches_extended_hours_bars_that_a_run_trades_with_extended_hours(
    tmp_path: Path,
) -> None:
    today = date.today()
    start = today - timedelta(days=10)
    regular = recorded_bars(["AAPL"], start, today)
    after = regular.assign(timestamp=regular["timestamp"] + pd.Timedelta("6h30min"))
    recorded = pd.concat([regular, after], ignore_index=True).sort_values("timestamp")
    recorded.to_parquet(tmp_path / "recorded.parquet")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        SITECUSTOMIZE.format(path=str(tmp_path / "recorded.parquet")), encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "NEWS_BACKTEST_CACHE": str(tmp_path / "cache"),
    }
    args = ("data", "fetch", "AAPL", "--interval", "5m", "--start", start.isoformat())
    done = run_cli(*args, "--extended-hours", env=env)
    assert done.returncode == 0, done.stderr
    cached = pd.read_parquet(tmp_path / "cache" / "5m" / "AAPL.parquet")
    hours = cached["timestamp"].dt.tz_convert("America/New_York").dt.strftime("%H:%M")
    assert (hours >= "16:00").sum() > 100
    news = tmp_path / "news.csv"
    first_day = regular["timestamp"].dt.tz_convert("America/New_York").iloc[0].normalize()
    stamp = (first_day + pd.Timedelta("17h")).isoformat()
    news.write_text(f"timestamp,ticker,headline\n{stamp},AAPL,AAPL beats\n", encoding="utf-8")
    ran = run_cli(
        "run", "--prices", "yf:AAPL", "--set", 'data.bar="5min"', "--set",
        "data.extended_hours=true", "--headlines", str(news), "--end", today.isoformat(),
        "--out", str(tmp_path / "run"), env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    equity = pd.read_csv(tmp_path / "run" / "equity.csv")
    assert equity["date"].str.contains("T19:").any()
    daily = run_cli("data", "fetch", "AAPL", "--start", start.isoformat(), "--extended-hours")
    assert daily.returncode == 2 and "--extended-hours needs --interval" in daily.stderr
