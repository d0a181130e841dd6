"""``backtest data fetch-news``: one source's recent items appended to the news cache.

The source is fetched completely before anything is written, so a failure (no network, an
unreadable feed) raises ``InputError`` with the cache folder exactly as it was. Items without a
parseable time are dropped with a ``DataWarning`` naming how many.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from backtest.data.news_cache import append_news
from backtest.data.news_sources import NewsSource, news_source
from backtest.data.tables import DataWarning
from backtest.errors import InputError
from backtest.paths import news_cache_dir


@dataclass(frozen=True)
class FetchNewsResult:
    source: str
    folder: Path
    new_rows: dict[str, int]
    known_rows: dict[str, int]
    dropped_no_time: int
    part: Path | None

    def lines(self) -> list[str]:
        out = [
            f"{t}: {self.new_rows[t]} new items, {self.known_rows.get(t, 0)} already cached"
            for t in sorted(self.new_rows)
        ]
        if not self.new_rows:
            out.append(f"{self.source}: no items naming a ticker")
        written = f" -> {self.part}" if self.part else " (nothing new written)"
        out.append(f"News cache: {self.folder}{written}")
        joined = ",".join(sorted(self.new_rows)) or "AAPL"
        out.append(f"Use it with: backtest run --headlines news:{joined}   (or the folder)")
        return out


def fetch_news(
    tickers: list[str],
    source: str | NewsSource = "yfinance",
    *,
    cache_dir: Path | None = None,
    tickers_option: list[str] | None = None,
    now: datetime | None = None,
) -> FetchNewsResult:
    """Fetch ``source`` for ``tickers`` and append what is new to the cache (module docstring)."""
    from backtest.data.fetch import normalise_tickers

    spec = source if isinstance(source, str) else source.name
    fixed = normalise_tickers(tickers_option, allow_empty=True) if tickers_option else None
    provider = news_source(source, tickers_option=fixed) if isinstance(source, str) else source
    names = normalise_tickers(tickers, allow_empty=provider.name == "rss")
    folder = cache_dir if cache_dir is not None else news_cache_dir()
    batch = provider.fetch(names, now=now)
    if batch.dropped_no_time:
        warnings.warn(
            f"{spec}: dropped {batch.dropped_no_time} of {batch.received} item(s) without a "
            "parseable publication time (placing them would guess their time)",
            DataWarning,
            stacklevel=2,
        )
    if batch.frame.empty and provider.name != "rss":
        raise InputError(
            f"{spec}: no usable news items for {', '.join(names)}",
            hint="try again later; the news cache was left as it was",
        )
    appended = append_news(folder, batch.frame)
    return FetchNewsResult(
        source=spec,
        folder=folder,
        new_rows=appended.new_rows,
        known_rows=appended.known_rows,
        dropped_no_time=batch.dropped_no_time,
        part=appended.part,
    )
