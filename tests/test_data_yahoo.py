"""Price files people actually own (issue 20): Yahoo Finance exports (one file per ticker, no
ticker column), folders of them, and semicolon-delimited European exports with decimal commas."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.headlines import load_headlines
from backtest.data.prices import PRICE_COLUMNS, load_prices
from backtest.data.tables import DataWarning, read_table, sniff_delimiter, table_stem
from backtest.errors import InputError

YAHOO = Path(__file__).parent / "data" / "yahoo"

COMMA = """date,ticker,open,high,low,close,adj_close,volume
2015-01-02,AAPL,111.39,111.44,107.35,109.33,101.53,53204600
2015-01-05,AAPL,108.29,108.65,105.41,106.25,98.67,64285500
2015-01-02,MSFT,46.66,47.42,46.54,46.76,42.49,27913900
"""
SEMICOLON = """date;ticker;open;high;low;close;adj_close;volume
2015-01-02;AAPL;111,39;111,44;107,35;109,33;101,53;53204600
2015-01-05;AAPL;108,29;108,65;105,41;106,25;98,67;64285500
2015-01-02;MSFT;46,66;47,42;46,54;46,76;42,49;27913900
"""


def one_line_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_prices(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, message
    return caught.value


# ---------------------------------------------------------------- Yahoo exports


def test_a_yahoo_export_takes_its_ticker_from_the_file_name() -> None:
    path = YAHOO / "AAPL.csv"
    with pytest.warns(DataWarning) as caught:
        prices = load_prices(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: no ticker column; using AAPL from the file name"
    ]
    assert list(prices.columns) == list(PRICE_COLUMNS)
    assert prices["ticker"].tolist() == ["AAPL"] * 5
    assert prices["record"].tolist() == [1, 2, 3, 4, 5]
    assert prices["adj_close"].iloc[0] == pytest.approx(100.216454)
    assert prices["close"].iloc[-1] == pytest.approx(111.889999)
    assert prices["volume"].iloc[0] == 53204600
    assert not prices[["open", "high", "low", "close", "adj_close", "volume"]].isna().any().any()


def test_adj_close_header_is_the_adj_close_column() -> None:
    assert "adj_close" in read_table(YAHOO / "AAPL.csv", what="prices").columns


def test_a_gzipped_export_with_a_dash_in_its_name() -> None:
    with pytest.warns(DataWarning, match="using BRK-B from the file name"):
        prices = load_prices(YAHOO / "BRK-B.csv.gz")
    assert prices["ticker"].tolist() == ["BRK-B"] * 3


@pytest.mark.parametrize(
    ("name", "ticker"),
    [
        ("aapl.csv", "AAPL"),
        ("BRK.B.csv", "BRK.B"),
        ("^GSPC.csv", "^GSPC"),
        ("EURUSD=X.csv", "EURUSD=X"),
        ("msft.parquet", "MSFT"),
        ("SPY.TXT", "SPY"),
    ],
)
def test_plausible_file_names_become_tickers(tmp_path: Path, name: str, ticker: str) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        pd.read_csv(YAHOO / "AAPL.csv").to_parquet(path)
    else:
        shutil.copy(YAHOO / "AAPL.csv", path)
    with pytest.warns(DataWarning, match=re.escape(f"using {ticker} from the file name")):
        prices = load_prices(path)
    assert set(prices["ticker"]) == {ticker}


@pytest.mark.parametrize(
    "name", ["apple prices.csv", "AAPL (1).csv", "prices_2015.csv", "ABCDEFGHIJKLM.csv", "--.csv"]
)
def test_a_badly_named_export_is_one_line_telling_what_to_do(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(YAHOO / "AAPL.csv", path)
    error = one_line_error(path)
    assert error.column == "ticker"
    assert str(error) == (
        f"{path}, column 'ticker': prices file has no 'ticker' column and its name "
        f"{table_stem(path)!r} is not a ticker symbol. add a ticker column, or name the file "
        "after its one ticker (e.g. AAPL.csv)."
    )


def test_a_file_lacking_more_than_the_ticker_is_refused_as_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "AAPL.csv"
    path.write_text("Date,Open,High\n2015-01-02,1,2\n")
    error = one_line_error(path)
    assert error.column == "ticker" and "columns found: date, open, high" in str(error)


def test_a_file_with_a_ticker_column_ignores_its_name(tmp_path: Path) -> None:
    path = tmp_path / "AAPL.csv"
    path.write_text("date,ticker,open,close\n2015-01-02,MSFT,1,2\n")
    assert load_prices(path)["ticker"].tolist() == ["MSFT"]


def test_table_stem_strips_the_format_and_gzip_suffixes() -> None:
    assert table_stem("BRK-B.csv.gz") == "BRK-B"
    assert table_stem("/x/BRK.B.CSV") == "BRK.B"
    assert table_stem("AAPL.parquet") == "AAPL"
    assert table_stem("AAPL") == "AAPL"


# ---------------------------------------------------------------- a folder of exports


def test_a_folder_of_exports_loads_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "yahoo"
    shutil.copytree(YAHOO, folder)
    (folder / "MSFT.csv").write_text(
        "date,ticker,open,close\n2015-01-05,MSFT,46.37,46.33\n2015-01-02,MSFT,46.66,46.76\n"
    )
    with pytest.warns(DataWarning) as caught:
        prices = load_prices(folder)
    assert [str(w.message) for w in caught] == [
        f"{folder}: no ticker column in 2 file(s); using the file names "
        "(AAPL.csv -> AAPL, BRK-B.csv.gz -> BRK-B)"
    ]
    assert list(prices.columns) == list(PRICE_COLUMNS)
    assert prices.index.equals(pd.RangeIndex(10))
    assert prices["ticker"].tolist() == ["AAPL"] * 5 + ["BRK-B"] * 3 + ["MSFT"] * 2
    assert prices["record"].tolist()[-2:] == [2, 1]
    keys = list(zip(prices["ticker"], prices["date"], strict=True))
    assert keys == sorted(keys)
    with pytest.warns(DataWarning):
        parts = [load_prices(folder / name) for name in ("AAPL.csv", "BRK-B.csv.gz", "MSFT.csv")]
    single = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(prices, single)


def test_a_bad_file_in_a_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "AAPL.csv").write_text("date,open,close\n2015-01-02,1,2\n")
    bad = tmp_path / "MSFT.csv"
    bad.write_text("date,open,close\n2015-01-02,1,oops\n")
    with pytest.raises(InputError) as caught:
        load_prices(tmp_path)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(bad), 1, "close")


def test_the_same_ticker_and_date_in_two_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "AAPL.csv").write_text("date,open,close\n2015-01-02,1,2\n")
    (tmp_path / "all.csv").write_text("date,ticker,open,close\n2015-01-05,MSFT,1,2\n")
    (tmp_path / "more.csv").write_text(
        "date,ticker,open,close\n2015-01-05,AAPL,1,2\n2015-01-02,AAPL,1,2\n"
    )
    with pytest.warns(DataWarning), pytest.raises(InputError) as caught:
        load_prices(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'more.csv'}, row 2, column 'ticker': AAPL on 2015-01-02 is also in "
        "AAPL.csv (row 1). keep each ticker's prices in one file."
    )


def test_a_folder_without_price_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing")
    (tmp_path / ".hidden.csv").write_text("date,ticker,open,close\n2015-01-02,A,1,2\n")
    error = one_line_error(tmp_path)
    assert "holds no .csv, .csv.gz or .parquet files" in str(error)


# ---------------------------------------------------------------- semicolons and decimal commas


def test_a_semicolon_file_with_decimal_commas_equals_the_comma_file(tmp_path: Path) -> None:
    comma = tmp_path / "comma.csv"
    comma.write_text(COMMA)
    semicolon = tmp_path / "semicolon.csv"
    semicolon.write_text(SEMICOLON)
    gzipped = tmp_path / "semicolon.csv.gz"
    gzipped.write_bytes(gzip.compress(SEMICOLON.encode()))
    reference = load_prices(comma)
    pd.testing.assert_frame_equal(load_prices(semicolon), reference)
    pd.testing.assert_frame_equal(load_prices(gzipped), reference)
    decimal_points = tmp_path / "points.csv"
    decimal_points.write_text(COMMA.replace(",", ";"))
    pd.testing.assert_frame_equal(load_prices(decimal_points), reference)


def test_a_european_yahoo_style_export_with_bom_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "SAP.DE.csv"
    path.write_bytes(
        '\ufeff"Date";"Open";"Close";"Adj Close";"Volume"\r\n'
        '2015-01-02;"56,30";"56,54";51,2;1234567\r\n'.encode()
    )
    with pytest.warns(DataWarning, match="using SAP.DE from the file name"):
        prices = load_prices(path)
    assert prices[["open", "close", "adj_close", "volume"]].iloc[0].tolist() == [
        56.3,
        56.54,
        51.2,
        1234567.0,
    ]


def test_a_bad_number_in_a_semicolon_file_is_shown_as_written(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("date;ticker;open;close\n2015-01-02;AAPL;1,5;2,5\n2015-01-05;AAPL;1;1.234,56\n")
    error = one_line_error(path)
    assert (error.row, error.column) == (2, "close")
    assert "close '1.234,56' is not a number" in str(error)


def test_a_decimal_comma_in_a_comma_file_is_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('date,ticker,open,close\n2015-01-02,AAPL,1,"2,5"\n')
    assert "close '2,5' is not a number" in str(one_line_error(path))


def test_semicolon_and_tab_headlines_read_too(tmp_path: Path) -> None:
    text = 'timestamp,ticker,headline\n2015-03-02T14:30:00Z,"AAPL,MSFT",Two, with a comma\n'
    reference_path = tmp_path / "h.csv"
    reference_path.write_text(
        text.replace("Two, with", '"Two, with').replace("comma\n", 'comma"\n')
    )
    reference = load_headlines(reference_path)
    semicolon = tmp_path / "h2.csv"
    semicolon.write_text(
        "timestamp;ticker;headline\n2015-03-02T14:30:00Z;AAPL,MSFT;Two, with a comma\n"
    )
    pd.testing.assert_frame_equal(load_headlines(semicolon), reference)
    tabs = tmp_path / "h3.csv"
    tabs.write_text(
        "timestamp\tticker\theadline\n2015-03-02T14:30:00Z\tAAPL,MSFT\tTwo, with a comma\n"
    )
    pd.testing.assert_frame_equal(load_headlines(tabs), reference)
    assert reference["headline"].tolist() == ["Two, with a comma"] * 2


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        (b"date,ticker,open,close\n1;2;3", ","),
        (b"date;ticker;open;close\n1,2,3,4,5,6", ";"),
        (b"date\tticker\topen\n", "\t"),
        (b"\n\n  \ndate;ticker\n", ";"),
        (b'"a,b,c";d;e\n', ";"),
        (b"\xef\xbb\xbfdate;ticker", ";"),
        (b"a,b;c", ","),
        (b"single", ","),
        (b"a|b|c", ","),
    ],
)
def test_the_delimiter_is_the_most_common_of_three_in_the_header(
    header: bytes, delimiter: str
) -> None:
    assert sniff_delimiter(header) == delimiter


def test_a_tsv_file_stays_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("date\tticker\topen;x\tclose;y\n2015-01-02\tAAPL\t1\t2\n")
    assert list(read_table(path, what="prices").columns) == ["date", "ticker", "open;x", "close;y"]


def test_an_ordinary_comma_file_still_reads_through_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backtest.data.tables as tables

    path = tmp_path / "p.csv"
    path.write_text(COMMA)
    monkeypatch.setattr(tables.pd, "read_csv", _only_the_header(tables.pd.read_csv))
    prices = load_prices(path)
    assert np.allclose(prices["close"], [109.33, 106.25, 46.76])


def _only_the_header(read_csv):
    def guarded(*args, **kwargs):
        assert kwargs.get("nrows") == 0, "the C engine read the data rows"
        return read_csv(*args, **kwargs)

    return guarded
