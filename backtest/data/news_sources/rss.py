"""RSS and Atom feeds (any feed URL or file) as headline rows, via feedparser.

Time: an entry's ``published`` time, else its ``updated`` time (feedparser's parsed UTC
struct); an entry with neither is dropped and counted. Tickers: the ``--ticker`` option if
given (every entry counts for those tickers), else the tickers the entry's title and summary
name under backtest.data.tickers' rules ($AAPL, NYSE: AAPL, (AAPL) when known); an entry that
names no ticker is left out. The fetch boundary is ``fetch`` (location -> feed bytes); the
default reads a file, or a URL with a timeout.
"""

from __future__ import annotations

import calendar
import html
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.data.news_sources import NewsBatch, news_frame
from backtest.data.tickers import find_tickers
from backtest.errors import InputError

FeedFetcher = Callable[[str], bytes]
FETCH_TIMEOUT_S = 8.0


def read_feed(location: str) -> bytes:
    """The bytes of a feed file or URL (http/https, bounded by ``FETCH_TIMEOUT_S``)."""
    if re.match(r"^https?://", location, re.IGNORECASE):
        request = urllib.request.Request(location, headers={"User-Agent": "news-backtest"})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as answer:
                return answer.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise InputError(
                f"could not fetch the feed {location} (no network or bad address)",
                hint="check the connection and the URL; the news cache was left as it was",
            ) from exc
    path = Path(location).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the feed file ({exc.strerror or type(exc).__name__})",
            file=path,
            hint="give an RSS/Atom file or an http(s) URL after rss:",
        ) from None


def _entry_time(entry: Any) -> pd.Timestamp | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return pd.Timestamp(calendar.timegm(value), unit="s", tz="UTC")
    return None


def _plain(text: Any) -> str:
    text = re.sub(r"<[^>]+>", " ", str(text or ""))
    return " ".join(html.unescape(text).split())


def feed_rows(
    raw: bytes | str,
    *,
    location: str,
    first_seen: datetime,
    tickers: list[str] | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """A feed's bytes -> (``NEWS_COLUMNS`` frame, entries dropped for no time, entries read)."""
    import feedparser

    parsed = feedparser.parse(raw)
    if not parsed.entries and parsed.get("bozo"):
        raise InputError(
            "not an RSS or Atom feed (or an empty one)",
            file=location,
            hint="check the URL or file after rss:",
        )
    feed_title = _plain(parsed.feed.get("title", "")) if parsed.get("feed") else ""
    rows, dropped = [], 0
    for entry in parsed.entries:
        published = _entry_time(entry)
        if published is None:
            dropped += 1
            continue
        title = _plain(entry.get("title", ""))
        url = str(entry.get("link", "") or "")
        named = list(tickers or [])
        if not named:
            text = title + "\n" + _plain(entry.get("summary", ""))
            for mention in find_tickers(text):
                if mention.ticker not in named:
                    named.append(mention.ticker)
        source = _plain(entry.get("source", {}).get("title", "")) if entry.get("source") else ""
        for ticker in named:
            rows.append(
                {
                    "id": str(entry.get("id", "") or url or title),
                    "timestamp": published,
                    "ticker": ticker,
                    "headline": title,
                    "source": source or feed_title,
                    "url": url,
                }
            )
    return news_frame(rows, first_seen), dropped, len(parsed.entries)


class FeedNews:
    """One RSS/Atom feed; ``tickers`` (the --ticker option) assigns every entry to them."""

    name = "rss"

    def __init__(
        self,
        location: str,
        *,
        tickers: list[str] | None = None,
        fetch: FeedFetcher | None = None,
    ) -> None:
        self.location = location
        self.tickers = tickers
        self._fetch = fetch

    def fetch(self, tickers: list[str], *, now: datetime | None = None) -> NewsBatch:
        """The feed's entries; with ``tickers`` given, only entries naming those tickers,
        unless the source was built with fixed tickers (then all entries count for them)."""
        raw = (self._fetch or read_feed)(self.location)
        frame, dropped, received = feed_rows(
            raw, location=self.location, first_seen=now or datetime.now(UTC), tickers=self.tickers
        )
        if tickers and not self.tickers:
            frame = frame[frame["ticker"].isin(tickers)].reset_index(drop=True)
        return NewsBatch(frame=frame, dropped_no_time=dropped, received=received)
