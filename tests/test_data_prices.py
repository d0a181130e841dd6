"""Price loading: every supported format, the typed result, and each refusal with its location."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data import EMBEDDED_PRICES, EMBEDDED_SOURCES, DataWarning, load_prices, read_table
from backtest.errors import InputError

CSV = """Date,Symbol,Open,High,Low,Close,Adj Close,Volume
2015-01-05,msft ,46.37,46.73,46.25,46.33,42.10,39673900
2015-01-02,AAPL,111.39,111.44,107.35,109.33,101.53,53204600
2015-01-02,MSFT,46.66,47.42,46.54,46.76,42.49,27913900
2015-01-05,AAPL,108.29,108.65,105.41,106.25,98.67,64285500
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def expected_frame() -> pd.DataFrame:
    raw = pd.read_csv(pd.io.common.StringIO(CSV))
    return raw


def write_in_format(path_stem: Path, suffix: str) -> Path:
    frame = pd.read_csv(pd.io.common.StringIO(CSV), dtype=str)
    path = path_stem.with_name(path_stem.name + suffix)
    if suffix == ".csv":
        path.write_text(CSV, encoding="utf-8")
    elif suffix == ".csv.gz":
        path.write_bytes(gzip.compress(CSV.encode()))
    elif suffix == ".tsv":
        path.write_text(CSV.replace(",", "\t"), encoding="utf-8")
    elif suffix == ".parquet":
        typed = frame.copy()
        for column in ("Open", "High", "Low", "Close", "Adj Close", "Volume"):
            typed[column] = typed[column].astype(float)
        typed["Date"] = pd.to_datetime(typed["Date"])
        typed.to_parquet(path)
    elif suffix in (".jsonl", ".jsonl.gz"):
        lines = "".join(json.dumps(record) + "\n" for record in frame.to_dict("records"))
        data = lines.encode()
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    return path


def test_csv_loads_typed_columns_sorted_by_ticker_then_date(tmp_path: Path) -> None:
    prices = load_prices(write(tmp_path / "p.csv", CSV))
    assert list(prices.columns) == [
        "date",
        "ticker",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "adj_close",
        "record",
    ]
    assert prices["date"].dtype == "datetime64[ns]"
    for column in ("open", "high", "low", "close", "volume", "adj_close"):
        assert prices[column].dtype == np.float64
    assert prices["ticker"].tolist() == ["AAPL", "AAPL", "MSFT", "MSFT"]
    assert [f"{d:%Y-%m-%d}" for d in prices["date"]] == ["2015-01-02", "2015-01-05"] * 2
    assert prices["record"].tolist() == [2, 4, 3, 1]
    assert prices["close"].tolist() == [109.33, 106.25, 46.76, 46.33]
    assert prices["adj_close"].iloc[0] == 101.53
    assert prices.index.equals(pd.RangeIndex(4))


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv", ".parquet", ".jsonl", ".jsonl.gz"])
def test_every_format_loads_the_same_prices(tmp_path: Path, suffix: str) -> None:
    reference = load_prices(write(tmp_path / "reference.csv", CSV))
    loaded = load_prices(write_in_format(tmp_path / "p", suffix))
    pd.testing.assert_frame_equal(loaded, reference)


def test_gzip_content_is_detected_whatever_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(gzip.compress(CSV.encode()))
    assert len(load_prices(path)) == 4


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "date,ticker,open,close\n2015-01-02,AAPL,1.5,2.5\n")
    prices = load_prices(path)
    assert prices[["high", "low", "volume", "adj_close"]].isna().all().all()
    assert prices[["open", "close"]].iloc[0].tolist() == [1.5, 2.5]


def test_empty_optional_cells_become_nan(tmp_path: Path) -> None:
    text = "date,ticker,open,high,close,volume\n2015-01-02,AAPL,1.5,,2.5,\n"
    prices = load_prices(write(tmp_path / "p.csv", text))
    assert np.isnan(prices["high"].iloc[0]) and np.isnan(prices["volume"].iloc[0])


def test_dates_with_a_time_or_offset_keep_the_date_as_written(tmp_path: Path) -> None:
    text = "date,ticker,open,close\n2015-01-02 00:00:00-05:00,AAPL,1,2\n2015-01-05T00:00,AAPL,1,2\n"
    prices = load_prices(write(tmp_path / "p.csv", text))
    assert [f"{d:%Y-%m-%d %H:%M}" for d in prices["date"]] == [
        "2015-01-02 00:00",
        "2015-01-05 00:00",
    ]


def test_column_names_and_aliases_are_normalised(tmp_path: Path) -> None:
    frame = read_table(
        write(tmp_path / "t.csv", " Date ,Ticker,Adj. Close,adjclose\n1,2,3,4\n"), what="x"
    )
    assert list(frame.columns) == ["date", "ticker", "adj_close", "adjclose"]


def error_for(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_prices(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    error = error_for(tmp_path / "nope.csv")
    assert "not found" in error.what


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    assert "empty" in error_for(write(tmp_path / "p.csv", "")).what
    assert "empty" in error_for(write(tmp_path / "p2.csv", "\n\n")).what


def test_header_only_file_has_no_data_rows(tmp_path: Path) -> None:
    assert "no data rows" in error_for(write(tmp_path / "p.csv", "date,ticker,open,close\n")).what


def test_binary_garbage_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    assert "binary" in error_for(path).what


def test_broken_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode() * 50)[:200])
    assert "gzip" in error_for(path).what


def test_unknown_suffix_is_an_input_error(tmp_path: Path) -> None:
    error = error_for(write(tmp_path / "p.xlsx", CSV))
    assert "unsupported format" in error.what and "Parquet" in (error.hint or "")


def test_parquet_suffix_on_a_text_file_is_an_input_error(tmp_path: Path) -> None:
    assert "not a Parquet file" in error_for(write(tmp_path / "p.parquet", CSV)).what


def test_missing_close_column_names_the_columns_found(tmp_path: Path) -> None:
    error = error_for(write(tmp_path / "p.csv", "date,ticker,open\n2015-01-02,AAPL,1\n"))
    assert error.column == "close"
    assert "columns found: date, ticker, open" in str(error)


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("abc", "not a number"),
        ("-3", "not a positive number"),
        ("0", "not a positive number"),
        ("inf", "not a positive number"),
        ("", "missing close"),
        ("NaN", "missing close"),
    ],
)
def test_bad_close_names_row_and_column(tmp_path: Path, cell: str, words: str) -> None:
    text = f"date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-01-05,AAPL,1,{cell}\n"
    error = error_for(write(tmp_path / "p.csv", text))
    assert (error.row, error.column) == (2, "close")
    assert words in error.what
    assert "row 2" in str(error) and "column 'close'" in str(error)


def test_negative_volume_and_bad_high_are_refused(tmp_path: Path) -> None:
    text = "date,ticker,open,close,volume\n2015-01-02,AAPL,1,2,-5\n"
    assert error_for(write(tmp_path / "p.csv", text)).column == "volume"
    text = "date,ticker,open,high,close\n2015-01-02,AAPL,1,2,2\n2015-01-05,AAPL,1,x,2\n"
    error = error_for(write(tmp_path / "q.csv", text))
    assert (error.row, error.column) == (2, "high")


def test_unparseable_date_names_row_and_value(tmp_path: Path) -> None:
    text = "date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-13-45,AAPL,1,2\n"
    error = error_for(write(tmp_path / "p.csv", text))
    assert (error.row, error.column) == (2, "date") and "2015-13-45" in error.what
    text = "date,ticker,open,close\n01/02/2015,AAPL,1,2\n"
    assert "YYYY-MM-DD" in str(error_for(write(tmp_path / "q.csv", text)))


def test_empty_ticker_names_the_row(tmp_path: Path) -> None:
    text = "date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-01-02, ,1,2\n"
    error = error_for(write(tmp_path / "p.csv", text))
    assert (error.row, error.column) == (2, "ticker")


def test_conflicting_duplicate_rows_name_both_rows(tmp_path: Path) -> None:
    text = (
        "date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-01-05,AAPL,1,2\n2015-01-02,aapl,1,2.5\n"
    )
    error = error_for(write(tmp_path / "p.csv", text))
    assert "rows 1 and 3" in error.what and "AAPL on 2015-01-02" in error.what


def test_exact_duplicate_rows_are_dropped_with_a_warning(tmp_path: Path) -> None:
    text = (
        "date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-01-02,AAPL,1.0,2\n2015-01-05,AAPL,1,2\n"
    )
    with pytest.warns(DataWarning, match=r"dropped 1 exact duplicate.*row 2"):
        prices = load_prices(write(tmp_path / "p.csv", text))
    assert prices["record"].tolist() == [1, 3]


def test_malformed_row_names_the_record(tmp_path: Path) -> None:
    text = 'date,ticker,open,close\n2015-01-02,AAPL,1,2\n"2015-01-05",AAPL,1,2,9\n'
    error = error_for(write(tmp_path / "p.csv", text))
    assert error.row == 2 and "5 fields" in error.what


def test_unterminated_quote_names_the_record(tmp_path: Path) -> None:
    text = 'date,ticker,open,close\n2015-01-02,AAPL,1,2\n2015-01-05,"AAPL,1,2\n'
    error = error_for(write(tmp_path / "p.csv", text))
    assert error.row == 2 and "never closes" in error.what


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    error = error_for(write(tmp_path / "p.csv", "Date,date,ticker,open,close\n1,2,3,4,5\n"))
    assert error.column == "date"


def test_non_utf8_bytes_are_replaced_with_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"date,ticker,open,close,note\n2015-01-02,AAPL,1,2,caf\xe9 \xe9\n")
    with pytest.warns(DataWarning, match=r"p\.csv: 2 byte\(s\) are not UTF-8") as caught:
        prices = load_prices(path)
    assert len(caught) == 1 and len(prices) == 1


def test_bad_jsonl_line_names_the_record(tmp_path: Path) -> None:
    text = '{"date": "2015-01-02", "ticker": "A", "open": 1, "close": 2}\n{"date": oops}\n'
    error = error_for(write(tmp_path / "p.jsonl", text))
    assert error.row == 2 and "JSON" in error.what


def sources_count(section: str) -> int:
    """The documented row count of one file in datasets/stocknet/SOURCES.md."""
    text = EMBEDDED_SOURCES.read_text(encoding="utf-8")
    part = text.split(f"## {section}", 1)[1]
    return int(re.search(r"\*\*Rows:\*\* ([\d,]+)", part).group(1).replace(",", ""))


def test_embedded_prices_load_with_the_documented_row_count() -> None:
    prices = load_prices(EMBEDDED_PRICES)
    assert len(prices) == sources_count("prices.csv.gz") == 50_239
    assert prices["ticker"].nunique() == 40
    assert (prices.groupby("ticker").size().drop("ABBV") == 1258).all()
    assert prices["adj_close"].notna().all() and (prices["close"] > 0).all()
    aapl = prices[prices["ticker"] == "AAPL"].iloc[0]
    assert f"{aapl['date']:%Y-%m-%d}" == "2012-09-04" and aapl["close"] == 96.424286


def test_embedded_data_folder_can_be_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest.data import embedded

    for name in ("prices.csv.gz", "headlines.csv.gz", "SOURCES.md"):
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.setenv("NEWS_BACKTEST_DATA", str(tmp_path))
    located = embedded.EMBEDDED_PRICES
    assert located == tmp_path / "prices.csv.gz"
    (tmp_path / "SOURCES.md").unlink()
    with pytest.raises(InputError, match="NEWS_BACKTEST_DATA"):
        _ = embedded.EMBEDDED_HEADLINES


def test_embedded_data_defaults_to_the_repository_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from backtest.data import embedded

    monkeypatch.delenv("NEWS_BACKTEST_DATA", raising=False)
    repo = Path(__file__).resolve().parents[1]
    assert embedded.EMBEDDED_PRICES.resolve() == repo / "datasets" / "stocknet" / "prices.csv.gz"


def test_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbfdate,ticker,open,close\r\n2015-01-02,AAPL,1,2\r\n")
    prices = load_prices(path)
    assert prices[["ticker", "open", "close"]].iloc[0].tolist() == ["AAPL", 1.0, 2.0]


def test_short_row_leaves_optional_cells_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "date,ticker,open,close,volume\n2015-01-02,AAPL,1,2\n")
    assert np.isnan(load_prices(path)["volume"].iloc[0])
