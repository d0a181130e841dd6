"""News sources behind one interface: each turns a provider's items into headline rows.

A source's ``fetch(tickers)`` returns a ``NewsBatch`` whose frame has ``NEWS_COLUMNS``: the
headline contract (timestamp, ticker, headline, source, url) plus ``id`` (the provider's id, or
the url, used to de-duplicate the cache) and ``first_seen`` (when this tool first saw the item,
UTC). ``timestamp`` is the provider's publication time as an exact UTC instant; items without a
parseable time are dropped (placing them anywhere would guess, and could leak) and counted in
``NewsBatch.dropped_no_time``, which the caller reports as a warning.

Each source calls one injectable fetch function (``fetch=``) for the raw provider answer, so
tests hand in recorded responses and never touch the network.

- ``yfinance``: ``Ticker.get_news`` items, in both formats Yahoo has served (module yfinance).
- ``rss:URL`` or ``rss:FILE``: any RSS or Atom feed via feedparser (module rss).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pandas as pd

from backtest.errors import InputError

__all__ = ["NEWS_COLUMNS", "NewsBatch", "NewsSource", "empty_news", "news_source"]

NEWS_COLUMNS = ("id", "timestamp", "ticker", "headline", "source", "url", "first_seen")


@dataclass(frozen=True)
class NewsBatch:
    """What one fetch returned: rows in ``NEWS_COLUMNS`` and how many items had no time."""

    frame: pd.DataFrame
    dropped_no_time: int = 0
    received: int = 0


class NewsSource(Protocol):
    """A provider of recent news items for tickers."""

    name: str

    def fetch(self, tickers: list[str], *, now: datetime | None = None) -> NewsBatch: ...


def empty_news() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series([], dtype="str"),
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "ticker": pd.Series([], dtype="str"),
            "headline": pd.Series([], dtype="str"),
            "source": pd.Series([], dtype="str"),
            "url": pd.Series([], dtype="str"),
            "first_seen": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )


def news_frame(rows: list[dict], first_seen: datetime) -> pd.DataFrame:
    """Rows (id, timestamp, ticker, headline, source, url) -> a typed ``NEWS_COLUMNS`` frame."""
    if not rows:
        return empty_news()
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("ns")
    frame["first_seen"] = pd.Timestamp(first_seen).tz_convert("UTC").as_unit("ns")
    frame["first_seen"] = frame["first_seen"].astype("datetime64[ns, UTC]")
    for column in ("id", "ticker", "headline", "source", "url"):
        frame[column] = frame[column].fillna("").astype("str")
    frame = frame[frame["headline"].str.strip() != ""]
    frame = frame.drop_duplicates(["id", "ticker"], keep="first")
    return frame[list(NEWS_COLUMNS)].reset_index(drop=True)


def news_source(spec: str, *, tickers_option: list[str] | None = None) -> NewsSource:
    """The source named by ``--source``: ``yfinance`` or ``rss:URL`` / ``rss:FILE``."""
    name, sep, rest = spec.strip().partition(":")
    if name.lower() in ("yfinance", "yf") and not sep:
        from backtest.data.news_sources.yfinance import YFinanceNews

        return YFinanceNews()
    if name.lower() == "rss" and sep and rest.strip():
        from backtest.data.news_sources.rss import FeedNews

        return FeedNews(rest.strip(), tickers=tickers_option)
    raise InputError(
        f"unknown news source {spec!r}",
        hint="use --source yfinance or --source rss:URL (a feed URL or file)",
    )
