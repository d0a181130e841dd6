"""News sources and the news cache, on recorded responses (never the network)."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from backtest.data.fetch_news import fetch_news
from backtest.data.headlines import headlines_from_frame
from backtest.data.news_cache import news_headlines, read_news_cache
from backtest.data.news_sources import NEWS_COLUMNS, news_source
from backtest.data.news_sources.rss import FeedNews, feed_rows
from backtest.data.news_sources.yfinance import YFinanceNews, news_rows
from backtest.data.tables import DataWarning
from backtest.errors import InputError

NEWS = Path(__file__).resolve().parent / "data" / "news"
SEEN = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)


def recorded(name: str) -> list[dict]:
    return json.loads((NEWS / name).read_text(encoding="utf-8"))


def replay(files: dict[str, str]):
    def fetch(ticker: str) -> list[dict]:
        return recorded(files[ticker]) if ticker in files else []

    return fetch


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test reached yfinance (the network)")

    monkeypatch.setattr(yfinance.Ticker, "get_news", refuse)
    monkeypatch.setattr("backtest.data.news_sources.rss.urllib.request.urlopen", refuse)


def test_flat_yfinance_items_become_headline_rows_with_epoch_times():
    frame, dropped = news_rows(recorded("yf_flat_aapl.json"), "AAPL", SEEN)
    assert list(frame.columns) == list(NEWS_COLUMNS)
    assert frame["headline"].tolist() == [
        "Apple shares jump after record iPhone sales beat estimates",
        "Apple faces EU antitrust probe over App Store rules",
    ]
    assert frame["timestamp"].iloc[0] == pd.Timestamp(1717390973, unit="s", tz="UTC")
    assert frame["source"].tolist() == ["Reuters", "Bloomberg"]
    assert frame["id"].iloc[0] == "ddd026e3-ff8c-36f6-8d71-d81ee9cdd15a"
    assert frame["url"].iloc[1].endswith("apple-faces-eu.html")
    assert (frame["first_seen"] == pd.Timestamp(SEEN)).all()
    assert dropped == 1  # the video without providerPublishTime


def test_2025_content_items_become_headline_rows_with_iso_times():
    frame, dropped = news_rows(recorded("yf_content_msft.json"), "MSFT", SEEN)
    assert frame["headline"].tolist() == [
        "Microsoft cloud revenue surges as AI demand soars",
        "Microsoft shares slip on weak gaming outlook",
    ]
    assert frame["timestamp"].tolist() == [
        pd.Timestamp("2025-01-30T21:15:00Z"),
        pd.Timestamp("2025-01-31T13:05:00Z"),
    ]
    assert frame["source"].tolist() == ["Reuters", "Motley Fool"]
    assert (
        frame["url"].iloc[1] == "https://www.fool.com/investing/2025/01/31/microsoft-shares-slip/"
    )
    assert frame["id"].iloc[0] == "6f0c1f4e-3b7a-3d0e-9d6a-0e8c5b9f2a11"
    assert (frame["ticker"] == "MSFT").all()
    assert dropped == 2  # pubDate null and pubDate "last Tuesday"


def test_rss_items_take_published_or_updated_time_and_tickers_named_in_the_text():
    raw = (NEWS / "markets.rss").read_bytes()
    frame, dropped, read = feed_rows(raw, location="markets.rss", first_seen=SEEN)
    assert read == 5 and dropped == 1  # the XOM item has no time at all
    by_ticker = dict(zip(frame["ticker"], frame["timestamp"], strict=True))
    assert by_ticker == {
        "BABA": pd.Timestamp("2025-01-31T14:30:00Z"),  # NYSE: BABA
        "AAPL": pd.Timestamp("2025-01-30T21:35:00Z"),  # $AAPL, -0500 offset kept exact
        "JPM": pd.Timestamp("2025-01-28T12:00:00Z"),  # NYSE:JPM, updated time only
    }
    assert set(frame["source"]) == {"Example Markets Wire"}


def test_rss_abbreviations_in_parentheses_are_not_tickers():
    raw = (NEWS / "markets.rss").read_bytes()
    frame, _, _ = feed_rows(raw, location="markets.rss", first_seen=SEEN)
    assert not set(frame["ticker"]) & {"USA", "CEO", "IPO", "AI"}


def test_rss_ticker_option_assigns_every_timed_entry_to_that_ticker():
    raw = (NEWS / "markets.rss").read_bytes()
    frame, _, _ = feed_rows(raw, location="m", first_seen=SEEN, tickers=["SPY"])
    assert len(frame) == 4 and set(frame["ticker"]) == {"SPY"}


def test_a_file_that_is_not_a_feed_is_one_input_error(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"\x00\x01 not xml <<<")
    with pytest.raises(InputError, match="not an RSS or Atom feed"):
        FeedNews(str(bad)).fetch([])


def test_unknown_source_spec_says_which_ones_exist():
    with pytest.raises(InputError, match="--source yfinance or --source rss:URL"):
        news_source("reddit")


def test_fetch_news_appends_a_part_file_and_a_second_fetch_adds_only_new_items(tmp_path):
    cache = tmp_path / "news"
    source = YFinanceNews(fetch=replay({"AAPL": "yf_flat_aapl.json"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        first = fetch_news(["AAPL"], source, cache_dir=cache, now=SEEN)
        later = datetime(2025, 2, 2, tzinfo=UTC)
        second = fetch_news(["AAPL"], source, cache_dir=cache, now=later)
    assert first.new_rows == {"AAPL": 2} and first.part is not None
    assert second.new_rows == {"AAPL": 0} and second.known_rows == {"AAPL": 2}
    assert second.part is None
    assert sorted(p.name for p in cache.iterdir()) == [first.part.name]
    cached = read_news_cache(cache)
    assert len(cached) == 2 and (cached["first_seen"] == pd.Timestamp(SEEN)).all()


def test_an_item_seen_again_keeps_its_first_sighting_and_new_items_get_their_own(tmp_path):
    cache = tmp_path / "news"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fetch_news(
            ["MSFT"],
            YFinanceNews(fetch=replay({"MSFT": "yf_content_msft.json"})),
            cache_dir=cache,
            now=SEEN,
        )
        extra = recorded("yf_content_msft.json")
        extra.append(
            {
                "id": "new-1",
                "content": {"title": "Microsoft wins contract", "pubDate": "2025-02-02T15:00:00Z"},
            }
        )
        later = datetime(2025, 2, 3, tzinfo=UTC)
        fetch_news(["MSFT"], YFinanceNews(fetch=lambda t: extra), cache_dir=cache, now=later)
    cached = read_news_cache(cache).set_index("id")
    assert cached.loc["6f0c1f4e-3b7a-3d0e-9d6a-0e8c5b9f2a11", "first_seen"] == pd.Timestamp(SEEN)
    assert cached.loc["new-1", "first_seen"] == pd.Timestamp(later)
    assert len(list(cache.glob("part-*.parquet"))) == 2


def test_items_without_time_are_dropped_with_a_counted_warning(tmp_path):
    source = YFinanceNews(fetch=replay({"MSFT": "yf_content_msft.json"}))
    with pytest.warns(DataWarning, match="dropped 2 of 4 item"):
        fetch_news(["MSFT"], source, cache_dir=tmp_path / "news", now=SEEN)


def test_offline_yfinance_raises_one_line_and_leaves_no_cache_folder(tmp_path):
    def offline(ticker: str) -> list[dict]:
        raise OSError("network unreachable")

    cache = tmp_path / "news"
    with pytest.raises(InputError, match="could not fetch news for AAPL"):
        fetch_news(["AAPL"], YFinanceNews(fetch=offline), cache_dir=cache, now=SEEN)
    assert not cache.exists()


def test_yfinance_answering_nothing_for_every_ticker_is_a_failure(tmp_path):
    # yfinance returns [] rather than raising when it is offline.
    with pytest.raises(InputError, match="no network"):
        fetch_news(["AAPL", "MSFT"], YFinanceNews(fetch=lambda t: []), cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cached_news_reads_as_headlines_by_published_or_first_seen_time(tmp_path):
    cache = tmp_path / "news"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fetch_news(
            ["MSFT"],
            YFinanceNews(fetch=replay({"MSFT": "yf_content_msft.json"})),
            cache_dir=cache,
            now=SEEN,
        )
    published = headlines_from_frame(news_headlines(cache, ["MSFT"], "published"))
    seen = headlines_from_frame(news_headlines(cache, ["MSFT"], "first_seen"))
    assert published["published_at"].min() == pd.Timestamp("2025-01-30T21:15:00Z")
    assert (seen["published_at"] == pd.Timestamp(SEEN)).all()
    assert not published["date_only"].any()


def test_reading_an_empty_cache_says_to_fetch_news_first(tmp_path):
    with pytest.raises(InputError, match="backtest data fetch-news AAPL"):
        news_headlines(tmp_path, ["AAPL"])
