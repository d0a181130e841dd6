"""The DataFrame seam: ``prices_from_frame`` and ``headlines_from_frame`` validate a frame the
caller already holds exactly as the file loaders validate a file, and return the same frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.headlines import HEADLINE_COLUMNS, headlines_from_frame, load_headlines
from backtest.data.prices import PRICE_COLUMNS, load_prices, prices_from_frame
from backtest.data.tables import DataWarning
from backtest.errors import InputError

PRICES = """Date,Symbol,Open,High,Low,Close,Adj Close,Volume
2015-01-05,msft ,46.37,46.73,46.25,46.33,42.10,39673900
2015-01-02,AAPL,111.39,111.44,107.35,109.33,101.53,53204600
2015-01-02,MSFT,46.66,47.42,46.54,46.76,42.49,27913900
2015-01-05,AAPL,108.29,108.65,105.41,106.25,98.67,64285500
"""

HEADLINES = """timestamp,ticker,headline,source
2015-03-02T14:30:00Z,AAPL,Apple beats estimates,wire
2015-03-02T09:45:00-05:00,"AAPL,MSFT",Two tickers at once,wire
2015-03-02 10:15,MSFT,Naive wall time read in New York,blog
2015-03-03,AAPL,Date only: time unknown,
2015-03-03 12:00:00 UTC,$MSFT,Named UTC,wire
"""


@pytest.fixture
def prices_file(tmp_path: Path) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(PRICES, encoding="utf-8")
    return path


@pytest.fixture
def headlines_file(tmp_path: Path) -> Path:
    path = tmp_path / "headlines.csv"
    path.write_text(HEADLINES, encoding="utf-8")
    return path


# ---------------------------------------------------------------- prices


def test_prices_from_a_read_csv_frame_equal_the_file_loader(prices_file: Path) -> None:
    from_file = load_prices(prices_file)
    from_frame = prices_from_frame(pd.read_csv(prices_file))
    pd.testing.assert_frame_equal(from_frame, from_file)
    assert list(from_frame.columns) == list(PRICE_COLUMNS)
    assert from_frame["record"].tolist() == [2, 4, 3, 1]


def test_prices_from_an_all_text_frame_equal_the_file_loader(prices_file: Path) -> None:
    text = pd.read_csv(prices_file, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(prices_from_frame(text), load_prices(prices_file))


def test_prices_from_datetime64_and_timestamp_dates(prices_file: Path) -> None:
    reference = load_prices(prices_file)
    raw = pd.read_csv(prices_file)
    as_datetime = raw.assign(Date=pd.to_datetime(raw["Date"]))
    pd.testing.assert_frame_equal(prices_from_frame(as_datetime), reference)
    as_timestamps = raw.assign(Date=[pd.Timestamp(d) for d in raw["Date"]]).astype({"Date": object})
    pd.testing.assert_frame_equal(prices_from_frame(as_timestamps), reference)
    tz_aware = raw.assign(Date=pd.to_datetime(raw["Date"]).dt.tz_localize("America/New_York"))
    pd.testing.assert_frame_equal(prices_from_frame(tz_aware), reference)


def test_prices_from_frame_ignores_the_index_and_leaves_the_input_alone() -> None:
    raw = pd.DataFrame(
        {
            "Date": ["2015-01-02", "2015-01-05"],
            "Ticker": ["aapl", "aapl"],
            "Open": [1.0, 2.0],
            "Close": ["1.5", "2.5"],
        },
        index=[10, 3],
    )
    before = raw.copy()
    prices = prices_from_frame(raw)
    pd.testing.assert_frame_equal(raw, before)
    assert prices.index.equals(pd.RangeIndex(2))
    assert prices["record"].tolist() == [1, 2] and prices["ticker"].tolist() == ["AAPL", "AAPL"]
    assert prices["close"].tolist() == [1.5, 2.5]
    assert prices[["high", "low", "volume", "adj_close"]].isna().all().all()


def test_a_bad_close_in_a_frame_names_the_source_row_and_column() -> None:
    raw = pd.DataFrame(
        {
            "date": ["2015-01-02", "2015-01-05"],
            "ticker": ["AAPL", "AAPL"],
            "open": [1.0, 1.0],
            "close": ["2", "abc"],
        }
    )
    with pytest.raises(InputError) as caught:
        prices_from_frame(raw, source="my frame")
    error = caught.value
    assert (error.file, error.row, error.column) == ("my frame", 2, "close")
    assert str(error).startswith("my frame, row 2, column 'close': close 'abc' is not a number")
    assert "\n" not in str(error)


def test_a_negative_numeric_close_and_the_default_source() -> None:
    raw = pd.DataFrame({"date": ["2015-01-02"], "ticker": ["A"], "open": [1.0], "close": [-2.0]})
    with pytest.raises(InputError) as caught:
        prices_from_frame(raw)
    assert str(caught.value).startswith("prices DataFrame, row 1, column 'close': close")
    assert "not a positive number" in str(caught.value)


def test_frame_refusals_match_the_file_messages(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("date,ticker,open\n2015-01-02,AAPL,1\n")
    with pytest.raises(InputError) as from_file:
        load_prices(path)
    with pytest.raises(InputError) as from_frame:
        prices_from_frame(pd.read_csv(path), source=str(path))
    assert str(from_frame.value) == str(from_file.value)
    with pytest.raises(InputError, match="two columns named 'close'"):
        prices_from_frame(pd.DataFrame(columns=["date", "ticker", "open", "Close", "close "]))
    with pytest.raises(InputError, match="no data rows"):
        prices_from_frame(pd.DataFrame(columns=["date", "ticker", "open", "close"]))


def test_duplicate_rows_in_a_frame_warn_with_the_source() -> None:
    row = {"date": "2015-01-02", "ticker": "AAPL", "open": 1.0, "close": 2.0}
    with pytest.warns(DataWarning, match=r"^feed: dropped 1 exact duplicate price row"):
        prices = prices_from_frame(pd.DataFrame([row, row]), source="feed")
    assert len(prices) == 1


def test_prices_from_frame_wants_a_dataframe() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        prices_from_frame({"date": ["2015-01-02"]})  # type: ignore[arg-type]


# ---------------------------------------------------------------- headlines


def test_headlines_from_a_read_csv_frame_equal_the_file_loader(headlines_file: Path) -> None:
    from_file = load_headlines(headlines_file)
    from_frame = headlines_from_frame(pd.read_csv(headlines_file))
    pd.testing.assert_frame_equal(from_frame, from_file)
    assert list(from_frame.columns) == list(HEADLINE_COLUMNS)
    assert from_frame["date_only"].tolist() == [False, False, False, False, True, False]
    for tz in ("UTC", "Europe/London"):
        pd.testing.assert_frame_equal(
            headlines_from_frame(pd.read_csv(headlines_file), headlines_tz=tz),
            load_headlines(headlines_file, headlines_tz=tz),
        )


def test_headline_instants_follow_the_file_rules(headlines_file: Path) -> None:
    frame = headlines_from_frame(pd.read_csv(headlines_file))
    by_text = {row.headline: row for row in frame.itertuples() if row.ticker != "MSFT"}
    assert by_text["Apple beats estimates"].published_at == pd.Timestamp("2015-03-02 14:30Z")
    assert by_text["Two tickers at once"].published_at == pd.Timestamp("2015-03-02 14:45Z")
    date_only = by_text["Date only: time unknown"]
    assert date_only.date_only and date_only.published_at == pd.Timestamp("2015-03-03 05:00Z")
    naive = frame.loc[frame["headline"] == "Naive wall time read in New York", "published_at"]
    assert naive.tolist() == [pd.Timestamp("2015-03-02 15:15Z")]


def test_naive_datetime64_stamps_are_wall_time_in_headlines_tz() -> None:
    raw = pd.DataFrame(
        {
            "published_at": pd.to_datetime(["2015-03-02 10:15", "2015-07-01 10:15"]),
            "symbol": ["AAPL", "MSFT"],
            "title": ["winter", "summer"],
        }
    )
    frame = headlines_from_frame(raw)
    assert frame["published_at"].tolist() == [
        pd.Timestamp("2015-03-02 15:15Z"),
        pd.Timestamp("2015-07-01 14:15Z"),
    ]
    assert not frame["date_only"].any()
    in_london = headlines_from_frame(raw, headlines_tz="Europe/London")
    assert in_london["published_at"].iloc[1] == pd.Timestamp("2015-07-01 09:15Z")


def test_tz_aware_datetime64_stamps_are_exact() -> None:
    stamps = pd.to_datetime(["2015-03-02 09:45", "2015-03-02 16:00"]).tz_localize("Asia/Tokyo")
    raw = pd.DataFrame({"timestamp": stamps, "ticker": ["A", "B"], "headline": ["x", "y"]})
    frame = headlines_from_frame(raw, headlines_tz="America/New_York")
    assert frame["published_at"].tolist() == [
        pd.Timestamp("2015-03-02 00:45Z"),
        pd.Timestamp("2015-03-02 07:00Z"),
    ]
    assert str(frame["published_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["source"].tolist() == ["", ""] and frame["record"].tolist() == [1, 2]


def test_a_bad_timestamp_in_a_frame_names_the_source_row_and_column() -> None:
    raw = pd.DataFrame(
        {
            "timestamp": ["2015-03-02T14:30:00Z", "yesterday"],
            "ticker": ["AAPL", "AAPL"],
            "headline": ["a", "b"],
        }
    )
    with pytest.raises(InputError) as caught:
        headlines_from_frame(raw)
    error = caught.value
    assert (error.file, error.row, error.column) == ("headlines DataFrame", 2, "timestamp")
    assert "cannot read timestamp 'yesterday'" in str(error) and "\n" not in str(error)


def test_headline_frame_refusals_and_warnings_name_the_source() -> None:
    with pytest.raises(InputError, match=r"^news, column 'headline': headlines file has no"):
        headlines_from_frame(pd.DataFrame({"timestamp": [], "ticker": []}), source="news")
    with pytest.raises(InputError, match="unknown time zone"):
        headlines_from_frame(pd.DataFrame(), headlines_tz="Mars/Olympus")
    raw = pd.DataFrame(
        {"timestamp": ["2015-03-02", "2015-03-02"], "ticker": ["A", "A"], "headline": ["x", " "]}
    )
    with pytest.warns(DataWarning, match=r"^news: dropped 1 row\(s\) with an empty headline"):
        frame = headlines_from_frame(raw, source="news")
    assert frame["record"].tolist() == [1]


def test_epoch_seconds_and_list_tickers_in_a_frame() -> None:
    raw = pd.DataFrame(
        {
            "timestamp": ["1425306600", "1425306600"],
            "tickers": ["['AAPL', 'MSFT']", "GOOG"],
            "headline": ["two", "one"],
        }
    )
    frame = headlines_from_frame(raw)
    assert frame["ticker"].tolist() == ["AAPL", "GOOG", "MSFT"]
    assert (frame["published_at"] == pd.Timestamp("2015-03-02 14:30Z")).all()
    assert frame["record"].to_numpy().dtype == np.int64
