"""``backtest signal --live``: fetch the latest prices and news (both cached), read as of now.

Steps: collect the tickers' recent Yahoo news into the news cache (backtest.data.fetch_news),
bring their daily bars up to the last complete day into the price cache
(backtest.data.fetch.fetch_prices, which never caches a bar still forming), then read them
exactly as ``backtest signal --prices yf:T --headlines news:T`` does. The "Data as of" line
says what the reading stands on: the close of the last completed session in the cache, and,
when the exchange is open now, the running session's last price (quoted, not used: the
signal of a running session is the one its open traded on, from closes up to the day before).

The network boundaries are injectable: ``download`` (daily bars), ``news`` (a NewsSource) and
``last_price`` (ticker -> the running session's last price).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from backtest.config import StrategyConfig, override
from backtest.reading import Reading

LOOKBACK_DAYS = 180
LastPrice = Callable[[str], float]


def yfinance_last_price(ticker: str) -> float:
    """The running session's last trade from yfinance (``fast_info``), bounded in time."""
    from backtest.data.fetch import _run_with_deadline

    def call() -> float:
        import yfinance as yf

        logger = logging.getLogger("yfinance")
        was_disabled, logger.disabled = logger.disabled, True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return float(yf.Ticker(ticker).fast_info["lastPrice"])
        finally:
            logger.disabled = was_disabled

    return _run_with_deadline(call, 8.0)


@dataclass(frozen=True)
class LiveReading:
    readings: tuple[Reading, ...]
    data_as_of: tuple[str, ...]
    news_lines: tuple[str, ...]

    def render(self, *, emoji: bool = True) -> str:
        blocks = []
        for reading, line in zip(self.readings, self.data_as_of, strict=True):
            blocks.append(line + "\n" + reading.render(emoji=emoji))
        return "\n\n".join(blocks)

    def to_dict(self) -> dict:
        return {
            "readings": [
                {**r.to_dict(), "data_as_of": line}
                for r, line in zip(self.readings, self.data_as_of, strict=True)
            ],
            "news": list(self.news_lines),
        }


def running_session(calendar: str, now: pd.Timestamp) -> tuple[pd.Timestamp, str] | None:
    """(session date, exchange tz) if ``calendar`` is in a session at ``now``, else None."""
    from backtest.calendar import load_sessions

    sessions = load_sessions(calendar, (now - timedelta(days=7)).date(), now.date())
    stamp = now.value
    for day, open_ns, close_ns in zip(
        sessions.dates, sessions.open_ns, sessions.close_ns, strict=True
    ):
        if open_ns <= stamp < close_ns:
            return pd.Timestamp(day), sessions.tz
    return None


def live_readings(
    config: StrategyConfig,
    tickers: list[str],
    *,
    now: datetime | None = None,
    download=None,
    news=None,
    last_price: LastPrice | None = None,
) -> LiveReading:
    """Fetch, cache and read ``tickers`` as of now (module docstring)."""
    from backtest.data.fetch import fetch_prices, normalise_tickers, yfinance_download
    from backtest.data.fetch_news import fetch_news
    from backtest.paths import news_cache_dir
    from backtest.reading import signal_readings

    names = normalise_tickers(tickers)
    moment = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
    collected = fetch_news(names, news or "yfinance", cache_dir=news_cache_dir(), now=moment)
    fetch_prices(
        names,
        (moment - timedelta(days=LOOKBACK_DAYS)).date(),
        download=download or yfinance_download,
    )
    joined = ",".join(names)
    live = override(config, "data", prices=f"yf:{joined}", headlines=f"news:{joined}")
    readings = signal_readings(live, names, None)
    running = running_session(config.data.calendar, moment)
    lines = []
    for reading in readings:
        closed = f"close of {reading.asof} (the last completed session in the price cache)"
        if running is None:
            lines.append(f"Data as of the {closed}; the market is closed now.")
            continue
        day, tz = running
        price = (last_price or yfinance_last_price)(reading.ticker)
        local = moment.tz_convert(tz)
        lines.append(
            f"Data as of {local:%Y-%m-%d %H:%M %Z}: the market is open; {reading.ticker} last "
            f"traded at ${price:,.2f} in the running session of {day:%Y-%m-%d} (quoted only: "
            f"the reading uses the {closed})."
        )
    return LiveReading(tuple(readings), tuple(lines), tuple(collected.lines()))
