"""Shared fixtures: small slices of the embedded real data as input files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_helpers import EMBEDDED, SLICE_TICKERS


@pytest.fixture(scope="session")
def slice_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Prices and headlines of four embedded tickers, 2014-06..2015-09 prices, as CSV files."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("slice")
    prices = pd.read_csv(EMBEDDED / "prices.csv.gz", dtype=str)
    prices = prices[prices["ticker"].isin(SLICE_TICKERS)]
    prices = prices[(prices["date"] >= "2014-06-01") & (prices["date"] <= "2015-09-30")]
    headlines = pd.read_csv(EMBEDDED / "headlines.csv.gz", dtype=str, keep_default_na=False)
    headlines = headlines[headlines["ticker"].isin(SLICE_TICKERS)]
    headlines = headlines[
        (headlines["timestamp"] >= "2014-08-01") & (headlines["timestamp"] < "2015-07-01")
    ]
    prices_path = folder / "prices.csv"
    headlines_path = folder / "headlines.csv.gz"
    prices.to_csv(prices_path, index=False)
    headlines.to_csv(headlines_path, index=False, quoting=csv.QUOTE_ALL)
    return prices_path, headlines_path
