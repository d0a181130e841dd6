"""Yahoo Finance news (``yf.Ticker(t).get_news``) as headline rows, in both response formats.

- Flat items (until early 2025): ``uuid``, ``title``, ``publisher``, ``link``,
  ``providerPublishTime`` (epoch seconds), ``relatedTickers``.
- Nested items (since 2025): ``{"id", "content": {"title", "pubDate" (ISO 8601), "provider":
  {"displayName"}, "canonicalUrl": {"url"}, "clickThroughUrl": {"url"}, "summary", "finance":
  {"stockTickers": [{"symbol"}]}}}``.

Each item becomes one row for the ticker it was fetched for (Yahoo lists items by ticker). An
item without a parseable publication time is dropped and counted. The fetch boundary is
``fetch`` (ticker -> list of raw items); the default calls yfinance with a deadline.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from backtest.data.news_sources import NewsBatch, empty_news, news_frame
from backtest.errors import InputError

NewsFetcher = Callable[[str], list[dict[str, Any]]]
NEWS_COUNT = 50
FETCH_DEADLINE_S = 8.0


def yfinance_news(ticker: str) -> list[dict[str, Any]]:
    """The raw ``get_news`` items of one ticker (yfinance logging muted, bounded in time)."""
    from backtest.data.fetch import _run_with_deadline

    def call() -> list[dict[str, Any]]:
        import yfinance as yf

        logger = logging.getLogger("yfinance")
        was_disabled, logger.disabled = logger.disabled, True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return list(yf.Ticker(ticker).get_news(count=NEWS_COUNT) or [])
        finally:
            logger.disabled = was_disabled

    return _run_with_deadline(call, FETCH_DEADLINE_S)


def _published(item: dict[str, Any]) -> pd.Timestamp | None:
    """The item's publication instant (UTC), or None when it has no parseable time."""
    content = item.get("content") if isinstance(item.get("content"), dict) else None
    if content is not None:
        raw = content.get("pubDate") or content.get("displayTime")
        if not isinstance(raw, str) or not raw.strip():
            return None
        try:
            stamp = pd.Timestamp(raw.strip())
        except (ValueError, TypeError):
            return None
        if stamp is pd.NaT or stamp.tzinfo is None:
            return None  # a naive time: its zone is unknown, so it is not exact
        return stamp.tz_convert("UTC")
    raw = item.get("providerPublishTime")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if not 1e8 < seconds < 1e10:  # 1973..2286: anything else is not an epoch in seconds
        return None
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _url(content: dict[str, Any]) -> str:
    for key in ("canonicalUrl", "clickThroughUrl"):
        value = content.get(key)
        if isinstance(value, dict) and _text(value.get("url")):
            return _text(value.get("url"))
    return ""


def item_row(item: dict[str, Any], ticker: str) -> dict[str, Any] | None:
    """One raw item as a row (timestamp, ticker, headline, source, url, id); None if no time."""
    published = _published(item)
    if published is None:
        return None
    content = item.get("content") if isinstance(item.get("content"), dict) else None
    if content is not None:
        provider = content.get("provider") if isinstance(content.get("provider"), dict) else {}
        url = _url(content)
        return {
            "id": _text(item.get("id")) or _text(content.get("id")) or url,
            "timestamp": published,
            "ticker": ticker,
            "headline": _text(content.get("title")),
            "source": _text(provider.get("displayName")),
            "url": url,
        }
    return {
        "id": _text(item.get("uuid")) or _text(item.get("link")),
        "timestamp": published,
        "ticker": ticker,
        "headline": _text(item.get("title")),
        "source": _text(item.get("publisher")),
        "url": _text(item.get("link")),
    }


def news_rows(
    items: list[dict[str, Any]], ticker: str, first_seen: datetime
) -> tuple[pd.DataFrame, int]:
    """Raw items of one ticker -> (``NEWS_COLUMNS`` frame, number dropped for having no time)."""
    rows, dropped = [], 0
    for item in items:
        row = item_row(item, ticker) if isinstance(item, dict) else None
        if row is None:
            dropped += 1
        else:
            rows.append(row)
    return news_frame(rows, first_seen), dropped


class YFinanceNews:
    """Recent Yahoo Finance news per ticker. Yahoo serves only recent items, no history."""

    name = "yfinance"

    def __init__(self, fetch: NewsFetcher | None = None) -> None:
        self._fetch = fetch

    def fetch(self, tickers: list[str], *, now: datetime | None = None) -> NewsBatch:
        fetcher = self._fetch or yfinance_news
        first_seen = now or datetime.now(UTC)
        frames, dropped, received, empty = [], 0, 0, []
        for ticker in tickers:
            try:
                items = fetcher(ticker)
            except InputError:
                raise
            except Exception as exc:
                raise _fetch_error([ticker]) from exc
            if not items:
                empty.append(ticker)
                continue
            received += len(items)
            frame, lost = news_rows(list(items), ticker, first_seen)
            frames.append(frame)
            dropped += lost
        if empty and len(empty) == len(tickers):
            # yfinance answers [] when offline rather than raising: nothing at all is a failure.
            raise _fetch_error(empty)
        frame = pd.concat([empty_news(), *frames], ignore_index=True) if frames else empty_news()
        return NewsBatch(frame=frame, dropped_no_time=dropped, received=received)


def _fetch_error(tickers: list[str]) -> InputError:
    return InputError(
        f"could not fetch news for {', '.join(tickers)} from Yahoo Finance "
        "(no network or unknown ticker)",
        hint="check the connection and the ticker symbol; the news cache was left as it was",
    )
