"""Intraday bars from Yahoo Finance (yfinance), cached as ``<cache>/<interval>/TICKER.parquet``.

1. The interval is one yfinance knows (1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h) and the range must lie
   within how far back Yahoo keeps it, counted from today (UTC): 1m the last 7 days, the other
   intervals under an hour the last 60 days, 1h and 60m the last 730 days. Beyond that is one
   clear error before anything is downloaded.
2. Download (the injectable ``BarDownloader``; tests pass recorded answers), one call per
   ``TICKERS_PER_CALL`` tickers bounded by the daily fetch's deadline; a ticker with no bars is
   an error and nothing is written.
3. Merge with the ticker's cached bars (a downloaded bar replaces the cached one with the same
   start) and write each file atomically. Each file is a valid intraday prices file
   (timestamp with its offset, ticker, open, high, low, close, volume), so the folder reads as
   ``--prices <cache>/<interval>`` and ``--prices yf:AAPL --set data.bar=5min`` reads it too.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from backtest.data.fetch import (
    DOWNLOAD_DEADLINE_S,
    TICKERS_PER_CALL,
    _download_error,
    _quiet_yf_download,
    _run_with_deadline,
    normalise_tickers,
)
from backtest.errors import InputError
from backtest.paths import prices_cache_dir

BarDownloader = Callable[[list[str], str, date, date], pd.DataFrame]
"""Download bars: (tickers, interval, start, end inclusive) -> frame with ``BAR_COLUMNS``."""

BAR_COLUMNS = ("timestamp", "ticker", "open", "high", "low", "close", "volume")
LOOKBACK_DAYS = {
    "1m": 7,
    "2m": 60,
    "5m": 60,
    "15m": 60,
    "30m": 60,
    "90m": 60,
    "60m": 730,
    "1h": 730,
}
"""How many days back from today Yahoo Finance serves each interval."""
_YF_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}


@dataclass(frozen=True)
class BarFetchResult:
    """Per ticker: bars added by this call, bars now cached, and the file."""

    new_rows: dict[str, int]
    cached_rows: dict[str, int]
    paths: dict[str, Path]
    folder: Path


def interval_of_bar(bar: str) -> str:
    """``data.bar`` ("5min", "1h", "60s") -> the yfinance interval name ("5m", "1h", "1m")."""
    from backtest.config import _parse_duration_ns

    minutes = _parse_duration_ns(bar) / 60e9
    if minutes == 60:
        return "1h"
    name = f"{minutes:g}m"
    if name not in LOOKBACK_DAYS:
        raise InputError(
            f"data.bar = {bar!r} is no Yahoo Finance interval",
            hint=f"use one of {', '.join(LOOKBACK_DAYS)}",
        )
    return name


def bars_folder(interval: str, cache_dir: Path | None = None) -> Path:
    """Where one interval's bars are cached."""
    return (cache_dir if cache_dir is not None else prices_cache_dir()) / interval


def check_range(interval: str, start: date, end: date, today: date) -> None:
    """Step 1: an unknown interval or a range Yahoo no longer serves is an ``InputError``."""
    if interval not in LOOKBACK_DAYS:
        raise InputError(
            f"--interval {interval!r} is not a Yahoo Finance intraday interval",
            hint=f"use one of {', '.join(LOOKBACK_DAYS)}",
        )
    if start > end:
        raise InputError(f"--start {start} is after --end {end}", hint="swap them")
    oldest = today - timedelta(days=LOOKBACK_DAYS[interval])
    if start < oldest:
        raise InputError(
            f"Yahoo Finance serves {interval} bars for the last {LOOKBACK_DAYS[interval]} days "
            f"only: --start {start} is before {oldest}",
            hint=f"use --start {oldest} or later, or a longer interval (1h: 730 days)",
        )


def yfinance_bars(
    tickers: list[str], interval: str, start: date, end: date, *, prepost: bool = False
) -> pd.DataFrame:
    """Bars from ``yf.download(interval=...)`` as ``BAR_COLUMNS`` (yfinance's log muted; a
    ticker with no bars raises, since yfinance itself returns an empty frame when offline);
    ``prepost`` asks for the pre-market and after-hours bars too."""
    frames = []
    for first in range(0, len(tickers), TICKERS_PER_CALL):
        batch = tickers[first : first + TICKERS_PER_CALL]
        call = functools.partial(
            _quiet_yf_download, batch, start, end, interval=interval, prepost=prepost
        )
        try:
            raw = _run_with_deadline(call, DOWNLOAD_DEADLINE_S)
        except Exception as exc:
            raise _download_error(batch) from exc
        frames.append(from_yfinance_bars(raw, batch))
    return pd.concat(frames, ignore_index=True)


def from_yfinance_bars(raw: pd.DataFrame | None, tickers: Sequence[str]) -> pd.DataFrame:
    """``yf.download``'s wide intraday frame (a tz-aware Datetime index, ``(Price, Ticker)``
    columns) as ``BAR_COLUMNS``; bars missing a price are dropped."""
    if raw is None or raw.empty or not isinstance(raw.columns, pd.MultiIndex):
        raise _download_error(list(tickers))
    names = list(raw.columns.names)
    price_level = names.index("Price") if "Price" in names else 0
    ticker_level = 1 - price_level
    index = pd.DatetimeIndex(raw.index)
    stamps = index if index.tz is not None else index.tz_localize("UTC")
    parts = []
    for ticker in raw.columns.get_level_values(ticker_level).unique():
        wide = raw.xs(ticker, axis=1, level=ticker_level)
        part = pd.DataFrame({col: wide[name].to_numpy() for name, col in _YF_COLUMNS.items()})
        part.insert(0, "ticker", str(ticker).upper())
        part.insert(0, "timestamp", stamps.tz_convert("UTC"))
        parts.append(part.dropna(subset=["open", "close"]))
    frame = pd.concat(parts, ignore_index=True)
    missing = [t for t in tickers if not (frame["ticker"] == t).any()]
    if missing:
        raise _download_error(missing)
    return frame.assign(volume=frame["volume"].fillna(0.0))[list(BAR_COLUMNS)]


def fetch_bars(
    tickers: Sequence[str],
    interval: str,
    start: date,
    end: date | None = None,
    *,
    cache_dir: Path | None = None,
    download: BarDownloader = yfinance_bars,
    today: date | None = None,
) -> BarFetchResult:
    """Steps 1-3 of the module docstring for ``tickers`` from ``start`` to ``end`` (default
    today, UTC)."""
    names = normalise_tickers(tickers)
    today = today or datetime.now(UTC).date()
    end = end or today
    check_range(interval, start, end, today)
    folder = bars_folder(interval, cache_dir)
    received = download(names, interval, start, end)
    missing = [t for t in names if not (received["ticker"] == t).any()]
    if missing:
        raise _download_error(missing)
    paths, new_rows, cached_rows = {}, {}, {}
    folder.mkdir(parents=True, exist_ok=True)
    for ticker in names:
        path = folder / f"{ticker}.parquet"
        mine = _utc(received.loc[received["ticker"] == ticker, list(BAR_COLUMNS)])
        old = _utc(pd.read_parquet(path)) if path.is_file() else mine.iloc[:0]
        merged = (
            pd.concat([old, mine], ignore_index=True)
            .drop_duplicates("timestamp", keep="last")
            .sort_values("timestamp", ignore_index=True)
        )
        new_rows[ticker] = int((~mine["timestamp"].isin(old["timestamp"])).sum())
        cached_rows[ticker] = len(merged)
        _write_atomically(merged, path)
        paths[ticker] = path
    return BarFetchResult(new_rows, cached_rows, paths, folder)


def _utc(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.assign(timestamp=stamps).reset_index(drop=True)


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    handle, staging = tempfile.mkstemp(prefix=".partial-", suffix=".parquet", dir=path.parent)
    os.close(handle)
    try:
        frame.to_parquet(staging, index=False)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
