"""Yahoo price fetching and its Parquet cache, tested with fake downloads (never the network)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data import fetch
from backtest.data.fetch import (
    OVERLAP_DAYS,
    fetch_prices,
    from_yfinance_frame,
    load_cached_prices,
    parse_prices_source,
    yfinance_download,
)
from backtest.data.prices import load_prices
from backtest.errors import InputError

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "tests" / "data" / "yf_aapl_msft_recorded.csv"
EMBEDDED_PRICES = REPO / "datasets" / "stocknet" / "prices.csv.gz"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call of the real yfinance download in these tests is a bug."""
    import yfinance

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test reached yfinance.download (the network)")

    monkeypatch.setattr(yfinance, "download", refuse)


@pytest.fixture(scope="module")
def yahoo_rows() -> pd.DataFrame:
    """What the fake Yahoo serves: the embedded AAPL and MSFT daily bars."""
    prices = pd.read_csv(EMBEDDED_PRICES, parse_dates=["date"])
    prices = prices[prices["ticker"].isin(["AAPL", "MSFT"])].copy()
    prices["date"] = prices["date"].astype("datetime64[ns]")
    return prices.reset_index(drop=True)


class FakeYahoo:
    """A downloader over a fixed frame that records the ranges it was asked for."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows
        self.calls: list[tuple[tuple[str, ...], date, date]] = []

    def __call__(self, tickers: list[str], start: date, end: date) -> pd.DataFrame:
        self.calls.append((tuple(tickers), start, end))
        rows = self.rows
        inside = rows["date"].between(pd.Timestamp(start), pd.Timestamp(end))
        return rows[rows["ticker"].isin(tickers) & inside].copy()


def offline(tickers: list[str], start: date, end: date) -> pd.DataFrame:
    """What yfinance gives offline: an empty frame, no exception."""
    return pd.DataFrame()


def expected_rows(rows: pd.DataFrame, tickers: list[str], start: date, end: date) -> pd.DataFrame:
    inside = rows["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    picked = rows[rows["ticker"].isin(tickers) & inside]
    return picked.sort_values(["ticker", "date"], ignore_index=True)


def assert_same_prices(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = list(fetch.DOWNLOAD_COLUMNS)
    pd.testing.assert_frame_equal(
        actual[columns].reset_index(drop=True),
        expected[columns].reset_index(drop=True),
        check_dtype=False,
    )


def session_dates(rows: pd.DataFrame, ticker: str, start: date, end: date) -> list[date]:
    picked = expected_rows(rows, [ticker], start, end)
    return [d.date() for d in picked["date"]]


def test_first_fetch_writes_one_parquet_file_per_ticker(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    start, end = date(2015, 5, 26), date(2015, 6, 5)

    result = fetch_prices(["aapl", "MSFT"], start, end, cache_dir=tmp_path, download=yahoo)

    assert yahoo.calls == [(("AAPL", "MSFT"), start, end)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AAPL.parquet", "MSFT.parquet"]
    assert result.paths == {"AAPL": tmp_path / "AAPL.parquet", "MSFT": tmp_path / "MSFT.parquet"}
    expected = expected_rows(yahoo_rows, ["AAPL", "MSFT"], start, end)
    assert_same_prices(result.frame, expected)
    assert_same_prices(load_cached_prices(["AAPL", "MSFT"], cache_dir=tmp_path), expected)
    assert result.new_rows == {"AAPL": 9, "MSFT": 9}
    assert result.cached_rows == {"AAPL": 0, "MSFT": 0}


def test_a_cache_file_reads_as_a_prices_file_and_fetch_returns_that_frame(tmp_path, yahoo_rows):
    start, end = date(2015, 5, 26), date(2015, 6, 5)

    result = fetch_prices(
        ["AAPL", "MSFT"], start, end, cache_dir=tmp_path, download=FakeYahoo(yahoo_rows)
    )

    as_prices_files = pd.concat(
        [load_prices(tmp_path / "AAPL.parquet"), load_prices(tmp_path / "MSFT.parquet")],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(result.frame, as_prices_files)
    pd.testing.assert_frame_equal(load_cached_prices(None, cache_dir=tmp_path), as_prices_files)
    assert as_prices_files["date"].dtype == np.dtype("datetime64[ns]")


def test_second_fetch_downloads_only_the_later_part_plus_overlap(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    fetch_prices(["AAPL"], date(2015, 5, 1), date(2015, 5, 29), cache_dir=tmp_path, download=yahoo)

    result = fetch_prices(
        ["AAPL"], date(2015, 5, 15), date(2015, 6, 12), cache_dir=tmp_path, download=yahoo
    )

    last_cached_session = session_dates(yahoo_rows, "AAPL", date(2015, 5, 1), date(2015, 5, 29))[-1]
    overlap_start = last_cached_session - timedelta(days=OVERLAP_DAYS)
    assert yahoo.calls[1:] == [(("AAPL",), overlap_start, date(2015, 6, 12))]
    assert_same_prices(
        result.frame, expected_rows(yahoo_rows, ["AAPL"], date(2015, 5, 15), date(2015, 6, 12))
    )
    assert result.new_rows["AAPL"] == len(
        session_dates(yahoo_rows, "AAPL", date(2015, 5, 30), date(2015, 6, 12))
    )
    assert result.cached_rows["AAPL"] == len(
        session_dates(yahoo_rows, "AAPL", date(2015, 5, 15), date(2015, 5, 29))
    )


def test_second_fetch_downloads_only_the_earlier_part_plus_overlap(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    fetch_prices(["MSFT"], date(2015, 5, 2), date(2015, 5, 29), cache_dir=tmp_path, download=yahoo)

    fetch_prices(["MSFT"], date(2015, 4, 1), date(2015, 5, 20), cache_dir=tmp_path, download=yahoo)

    first_cached_session = session_dates(yahoo_rows, "MSFT", date(2015, 5, 2), date(2015, 5, 29))[0]
    overlap_end = first_cached_session + timedelta(days=OVERLAP_DAYS)
    assert yahoo.calls[1:] == [(("MSFT",), date(2015, 4, 1), overlap_end)]
    assert_same_prices(
        load_cached_prices(["MSFT"], cache_dir=tmp_path),
        expected_rows(yahoo_rows, ["MSFT"], date(2015, 4, 1), date(2015, 5, 29)),
    )


def test_fetch_inside_the_cached_range_downloads_nothing(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    fetch_prices(["AAPL"], date(2015, 1, 1), date(2015, 12, 31), cache_dir=tmp_path, download=yahoo)
    before = (tmp_path / "AAPL.parquet").read_bytes()

    result = fetch_prices(
        ["AAPL"], date(2015, 3, 1), date(2015, 3, 31), cache_dir=tmp_path, download=yahoo
    )

    assert len(yahoo.calls) == 1
    assert result.downloads == ()
    assert (tmp_path / "AAPL.parquet").read_bytes() == before
    assert_same_prices(
        result.frame, expected_rows(yahoo_rows, ["AAPL"], date(2015, 3, 1), date(2015, 3, 31))
    )


def test_holidays_at_the_edges_of_the_cached_range_are_not_asked_for_again(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    new_year, weekend_end = date(2015, 1, 1), date(2015, 1, 4)
    fetch_prices(["AAPL"], new_year, weekend_end, cache_dir=tmp_path, download=yahoo)

    fetch_prices(["AAPL"], new_year, weekend_end, cache_dir=tmp_path, download=yahoo)

    assert len(yahoo.calls) == 1


def test_tickers_missing_different_ranges_get_separate_downloads(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    fetch_prices(["AAPL"], date(2015, 5, 1), date(2015, 6, 30), cache_dir=tmp_path, download=yahoo)

    fetch_prices(
        ["AAPL", "MSFT"], date(2015, 5, 1), date(2015, 6, 30), cache_dir=tmp_path, download=yahoo
    )

    assert yahoo.calls[1:] == [(("MSFT",), date(2015, 5, 1), date(2015, 6, 30))]


def test_merge_keeps_one_row_per_date_and_downloaded_rows_win(tmp_path, yahoo_rows):
    fetch_prices(
        ["AAPL"],
        date(2015, 5, 1),
        date(2015, 5, 29),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
    )
    revised = yahoo_rows.copy()
    revised["volume"] = revised["volume"] + 1

    fetch_prices(
        ["AAPL"],
        date(2015, 5, 1),
        date(2015, 6, 12),
        cache_dir=tmp_path,
        download=FakeYahoo(revised),
    )

    cached = load_cached_prices(["AAPL"], cache_dir=tmp_path)
    assert not cached.duplicated(["ticker", "date"]).any()
    assert cached["date"].is_monotonic_increasing
    expected = expected_rows(yahoo_rows, ["AAPL"], date(2015, 5, 1), date(2015, 6, 12))
    assert list(cached["date"]) == list(expected["date"])
    overlap_start = pd.Timestamp(date(2015, 5, 29) - timedelta(days=OVERLAP_DAYS))
    redownloaded = cached["date"] >= overlap_start
    assert (
        cached.loc[redownloaded, "volume"].to_numpy() == expected.loc[redownloaded, "volume"] + 1
    ).all()
    assert (
        cached.loc[~redownloaded, "volume"].to_numpy() == expected.loc[~redownloaded, "volume"]
    ).all()


def test_changed_dividend_adjustment_redownloads_the_whole_history(tmp_path, yahoo_rows):
    fetch_prices(
        ["AAPL"],
        date(2015, 1, 2),
        date(2015, 5, 29),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
    )
    after_dividend = yahoo_rows.copy()
    after_dividend["adj_close"] = after_dividend["adj_close"] * 0.99
    yahoo = FakeYahoo(after_dividend)

    result = fetch_prices(
        ["AAPL"], date(2015, 5, 1), date(2015, 6, 12), cache_dir=tmp_path, download=yahoo
    )

    assert yahoo.calls[-1] == (("AAPL",), date(2015, 1, 2), date(2015, 6, 12))
    assert result.redownloaded == ("AAPL",)
    assert_same_prices(
        load_cached_prices(["AAPL"], cache_dir=tmp_path),
        expected_rows(after_dividend, ["AAPL"], date(2015, 1, 2), date(2015, 6, 12)),
    )


def test_refresh_downloads_the_requested_range_again(tmp_path, yahoo_rows):
    yahoo = FakeYahoo(yahoo_rows)
    fetch_prices(["AAPL"], date(2015, 5, 1), date(2015, 6, 30), cache_dir=tmp_path, download=yahoo)

    fetch_prices(
        ["AAPL"],
        date(2015, 6, 1),
        date(2015, 6, 5),
        cache_dir=tmp_path,
        download=yahoo,
        refresh=True,
    )

    assert yahoo.calls[1:] == [(("AAPL",), date(2015, 6, 1), date(2015, 6, 5))]
    assert_same_prices(
        load_cached_prices(["AAPL"], cache_dir=tmp_path),
        expected_rows(yahoo_rows, ["AAPL"], date(2015, 5, 1), date(2015, 6, 30)),
    )


def test_failed_download_leaves_the_cache_byte_identical(tmp_path, yahoo_rows):
    fetch_prices(
        ["AAPL", "MSFT"],
        date(2015, 5, 1),
        date(2015, 5, 29),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
    )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    with pytest.raises(InputError) as caught:
        fetch_prices(
            ["AAPL", "MSFT"],
            date(2015, 5, 1),
            date(2015, 6, 30),
            cache_dir=tmp_path,
            download=offline,
        )

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("could not download prices for AAPL, MSFT from Yahoo Finance")
    assert str(tmp_path) in message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_failed_first_fetch_creates_no_cache_folder(tmp_path):
    folder = tmp_path / "prices"

    with pytest.raises(InputError, match="could not download prices for AAPL"):
        fetch_prices(
            ["AAPL"], date(2020, 1, 1), date(2020, 1, 31), cache_dir=folder, download=offline
        )

    assert not folder.exists()


def test_one_failed_ticker_writes_nothing_for_the_others(tmp_path, yahoo_rows):
    only_aapl = FakeYahoo(yahoo_rows[yahoo_rows["ticker"] == "AAPL"])

    with pytest.raises(InputError) as caught:
        fetch_prices(
            ["AAPL", "MSFT"],
            date(2015, 5, 1),
            date(2015, 5, 29),
            cache_dir=tmp_path,
            download=only_aapl,
        )

    assert "for MSFT from" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_todays_unfinished_bar_is_neither_asked_for_nor_cached(tmp_path, yahoo_rows, monkeypatch):
    monkeypatch.setattr(fetch, "_last_complete_day", lambda: date(2015, 6, 3))
    yahoo = FakeYahoo(yahoo_rows)

    result = fetch_prices(["AAPL"], date(2015, 5, 26), None, cache_dir=tmp_path, download=yahoo)

    assert yahoo.calls == [(("AAPL",), date(2015, 5, 26), date(2015, 6, 3))]
    assert result.frame["date"].max() == pd.Timestamp("2015-06-03")


def test_a_weekend_only_range_is_refused_before_downloading(tmp_path):
    with pytest.raises(InputError, match="no trading days"):
        fetch_prices(
            ["AAPL"], date(2015, 6, 6), date(2015, 6, 7), cache_dir=tmp_path, download=offline
        )


def test_unreadable_cache_file_is_an_input_error_naming_it(tmp_path, yahoo_rows):
    (tmp_path / "AAPL.parquet").write_bytes(b"not parquet")

    with pytest.raises(InputError, match="AAPL.parquet"):
        load_cached_prices(["AAPL"], cache_dir=tmp_path)
    result = fetch_prices(
        ["AAPL"],
        date(2015, 6, 1),
        date(2015, 6, 5),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
        refresh=True,
    )
    assert len(result.frame) == 5


def test_load_cached_prices_names_the_missing_ticker_and_the_fetch_command(tmp_path, yahoo_rows):
    fetch_prices(
        ["AAPL"],
        date(2015, 6, 1),
        date(2015, 6, 5),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
    )

    with pytest.raises(InputError) as caught:
        load_cached_prices(["AAPL", "ORCL"], cache_dir=tmp_path)

    message = str(caught.value)
    assert "no cached prices for ORCL" in message
    assert "backtest data fetch ORCL --start" in message
    assert "\n" not in message


def test_load_cached_prices_without_tickers_reads_every_cached_ticker(tmp_path, yahoo_rows):
    fetch_prices(
        ["MSFT", "AAPL"],
        date(2015, 6, 1),
        date(2015, 6, 5),
        cache_dir=tmp_path,
        download=FakeYahoo(yahoo_rows),
    )

    loaded = load_cached_prices(None, cache_dir=tmp_path)

    assert_same_prices(
        loaded, expected_rows(yahoo_rows, ["AAPL", "MSFT"], date(2015, 6, 1), date(2015, 6, 5))
    )
    with pytest.raises(InputError, match="no cached prices"):
        load_cached_prices(None, cache_dir=tmp_path / "empty")


def read_recorded() -> pd.DataFrame:
    return pd.read_csv(RECORDED, header=[0, 1], index_col=0, parse_dates=True)


def test_recorded_yfinance_frame_converts_to_the_long_prices_format(yahoo_rows):
    raw = read_recorded()
    assert list(raw.columns.names) == ["Price", "Ticker"]

    long = from_yfinance_frame(raw)

    assert list(long.columns) == list(fetch.DOWNLOAD_COLUMNS)
    assert long["date"].dtype == np.dtype("datetime64[ns]")
    assert_same_prices(
        long, expected_rows(yahoo_rows, ["AAPL", "MSFT"], date(2015, 5, 26), date(2015, 6, 5))
    )


def test_padding_rows_yfinance_adds_for_a_shorter_history_are_dropped(yahoo_rows):
    raw = read_recorded().astype("float64")
    raw.loc[pd.Timestamp("2015-05-26"), (slice(None), "MSFT")] = np.nan

    long = from_yfinance_frame(raw)

    msft = long[long["ticker"] == "MSFT"]
    assert pd.Timestamp("2015-05-26") not in set(msft["date"])
    assert len(msft) == 8
    assert len(long[long["ticker"] == "AAPL"]) == 9


def test_frame_without_adj_close_asks_for_auto_adjust_false():
    raw = read_recorded().drop(columns="Adj Close", level="Price")

    with pytest.raises(InputError, match="auto_adjust=False"):
        from_yfinance_frame(raw)


def test_default_downloader_asks_yfinance_for_raw_bars_with_an_exclusive_end(
    monkeypatch, yahoo_rows
):
    import yfinance

    asked: dict[str, object] = {}

    def recorded_download(tickers: list[str], **kwargs: object) -> pd.DataFrame:
        asked.update(kwargs, tickers=tickers)
        return read_recorded()

    monkeypatch.setattr(yfinance, "download", recorded_download)

    long = yfinance_download(["AAPL", "MSFT"], date(2015, 5, 26), date(2015, 6, 5))

    assert asked["tickers"] == ["AAPL", "MSFT"]
    assert asked["start"] == "2015-05-26"
    assert asked["end"] == "2015-06-06"
    assert asked["auto_adjust"] is False
    assert asked["progress"] is False
    assert asked["threads"] is False
    assert asked["multi_level_index"] is True
    assert 0 < asked["timeout"] <= 10
    assert_same_prices(
        long, expected_rows(yahoo_rows, ["AAPL", "MSFT"], date(2015, 5, 26), date(2015, 6, 5))
    )


def test_default_downloader_asks_for_tickers_in_bounded_batches(monkeypatch, yahoo_rows):
    import yfinance

    batches: list[list[str]] = []

    def recorded_download(tickers: list[str], **kwargs: object) -> pd.DataFrame:
        batches.append(list(tickers))
        recorded = read_recorded()
        return recorded.loc[:, recorded.columns.get_level_values("Ticker").isin(tickers)]

    monkeypatch.setattr(yfinance, "download", recorded_download)
    monkeypatch.setattr(fetch, "TICKERS_PER_CALL", 1)

    long = yfinance_download(["MSFT", "AAPL"], date(2015, 5, 26), date(2015, 6, 5))

    assert batches == [["MSFT"], ["AAPL"]]
    assert_same_prices(
        long, expected_rows(yahoo_rows, ["AAPL", "MSFT"], date(2015, 5, 26), date(2015, 6, 5))
    )


def test_default_downloader_turns_an_empty_offline_answer_into_one_line(monkeypatch):
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda tickers, **kwargs: pd.DataFrame())

    with pytest.raises(InputError) as caught:
        yfinance_download(["AAPL"], date(2020, 1, 1), date(2020, 1, 31))

    assert str(caught.value).startswith(
        "could not download prices for AAPL from Yahoo Finance (no network or unknown ticker)"
    )
    assert "\n" not in str(caught.value)


def test_default_downloader_gives_up_at_its_deadline(monkeypatch):
    import yfinance

    release = threading.Event()
    monkeypatch.setattr(yfinance, "download", lambda tickers, **kwargs: release.wait(5))
    monkeypatch.setattr(fetch, "DOWNLOAD_DEADLINE_S", 0.2)

    try:
        with pytest.raises(InputError, match="could not download prices for AAPL"):
            yfinance_download(["AAPL"], date(2020, 1, 1), date(2020, 1, 31))
    finally:
        release.set()


def test_parse_prices_source_recognises_yf_specs():
    assert parse_prices_source("yf:AAPL,msft") == ("yf", ["AAPL", "MSFT"])
    assert parse_prices_source("YF: aapl , BRK-B") == ("yf", ["AAPL", "BRK-B"])
    assert parse_prices_source("yf:") == ("yf", [])
    assert parse_prices_source("datasets/stocknet/prices.csv.gz") is None
    assert parse_prices_source(r"C:\data\prices.csv") is None
    with pytest.raises(InputError, match="not a ticker"):
        parse_prices_source("yf:AA PL")
