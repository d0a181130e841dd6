"""Load daily prices (one row per session date and ticker) into a validated, typed frame.

Contract (DESIGN.md "Data contracts"): required columns date, ticker, open, close; optional
high, low, volume, adj_close (absent -> all NaN, empty cell -> NaN). Dates are exchange session
dates written YYYY-MM-DD (a time or offset after the date is ignored: the date as written is the
session). Missing sessions stay missing; nothing is forward-filled.

Refused with ``InputError`` (file, 1-based record, column, what to do): a file without data
rows; a missing required column; an empty ticker; an unreadable date; an open or close that is
empty, not a number, not finite or not positive; an optional price that is not a positive
number; a negative volume; two different rows for the same (date, ticker).

Tolerated with a ``DataWarning``: exact duplicate rows (same values after parsing) are dropped,
keeping the first.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.tables import DataWarning, as_text, read_table
from backtest.errors import InputError

__all__ = ["PRICE_COLUMNS", "load_prices"]

PRICE_COLUMNS = ("date", "ticker", "open", "high", "low", "close", "volume", "adj_close", "record")
_REQUIRED = ("date", "ticker", "open", "close")
_NUMBERS = ("open", "high", "low", "close", "volume", "adj_close")
_BLANKS = ("", "nan", "NaN", "NAN", "null", "NULL", "None", "NA", "N/A", "n/a", "-")


def load_prices(path: str | Path) -> pd.DataFrame:
    """Prices as columns date (datetime64[ns], midnight), ticker (upper-case str), open, high,
    low, close, volume, adj_close (float64) and record (int64, the row's 1-based record in the
    file, for error messages downstream), sorted by ticker then date, with a fresh RangeIndex.
    """
    path = Path(path)
    raw = read_table(path, what="prices")
    missing = [name for name in _REQUIRED if name not in raw.columns]
    if missing:
        raise InputError(
            f"prices file has no '{missing[0]}' column (columns found: {', '.join(raw.columns)})",
            file=path,
            column=missing[0],
            hint="prices need the columns date, ticker, open, close (high, low, volume, "
            "adj_close optional)",
        )
    if len(raw) == 0:
        raise InputError("prices file has no data rows", file=path, hint="export the data again")
    record = np.arange(1, len(raw) + 1, dtype=np.int64)
    columns: dict[str, object] = {
        "date": _session_dates(raw["date"], record, path),
        "ticker": _tickers(raw["ticker"], record, path),
    }
    for name in _NUMBERS:
        if name in raw.columns:
            columns[name] = _numbers(raw[name], name, record, path)
        else:
            columns[name] = np.full(len(raw), np.nan)
    columns["record"] = record
    prices = pd.DataFrame(columns)[list(PRICE_COLUMNS)]
    prices = _drop_exact_duplicates(prices, path)
    _refuse_conflicting_duplicates(prices, path)
    prices = prices.sort_values(["ticker", "date"], kind="stable", ignore_index=True)
    return prices


def _tickers(column: pd.Series, record: np.ndarray, path: Path) -> pd.Series:
    tickers = as_text(column).str.strip().str.upper()
    empty = (tickers == "").to_numpy()
    if empty.any():
        raise InputError(
            "empty ticker",
            file=path,
            row=int(record[empty.argmax()]),
            column="ticker",
            hint="every price row needs a ticker symbol",
        )
    return tickers.reset_index(drop=True)


def _session_dates(column: pd.Series, record: np.ndarray, path: Path) -> np.ndarray:
    """The session date as written (YYYY-MM-DD, optional time part ignored) at midnight, naive."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        dates = column.dt.normalize()
    else:
        text = as_text(column).str.strip()
        well_formed = text.str.match(r"^\d{4}-\d{1,2}-\d{1,2}(?:$|[T ])").to_numpy(dtype=bool)
        day = text.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})", expand=False).fillna("")
        dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        bad = ~well_formed | dates.isna().to_numpy()
        if bad.any():
            first = int(bad.argmax())
            raise InputError(
                f"cannot read date {text.iloc[first]!r}",
                file=path,
                row=int(record[first]),
                column="date",
                hint="write dates as YYYY-MM-DD",
            )
    values = dates.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(values)
    if missing.any():
        raise InputError(
            "missing date", file=path, row=int(record[missing.argmax()]), column="date"
        )
    return values


def _numbers(column: pd.Series, name: str, record: np.ndarray, path: Path) -> np.ndarray:
    required = name in _REQUIRED
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(values)
        text = column.astype(str)
    else:
        text = as_text(column).str.strip()
        blank = text.isin(_BLANKS).to_numpy()
        values = pd.to_numeric(text.mask(blank, ""), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        unreadable = np.isnan(values) & ~blank
        if unreadable.any():
            first = int(unreadable.argmax())
            raise InputError(
                f"{name} {text.iloc[first]!r} is not a number",
                file=path,
                row=int(record[first]),
                column=name,
                hint="write plain numbers such as 123.45 (no thousands separators)",
            )
    if required and blank.any():
        first = int(blank.argmax())
        raise InputError(
            f"missing {name} price",
            file=path,
            row=int(record[first]),
            column=name,
            hint="fill the price or remove the row",
        )
    finite = np.isfinite(values)
    bad = ~blank & (~finite | ((values < 0) if name == "volume" else (values <= 0)))
    if bad.any():
        first = int(bad.argmax())
        rule = "a non-negative number" if name == "volume" else "a positive number"
        raise InputError(
            f"{name} {text.iloc[first]!r} is not {rule}",
            file=path,
            row=int(record[first]),
            column=name,
            hint="fix or remove the row",
        )
    return values


def _drop_exact_duplicates(prices: pd.DataFrame, path: Path) -> pd.DataFrame:
    duplicate = prices.duplicated(subset=[c for c in PRICE_COLUMNS if c != "record"]).to_numpy()
    if not duplicate.any():
        return prices
    first = int(prices["record"].to_numpy()[duplicate.argmax()])
    warnings.warn(
        f"{path}: dropped {int(duplicate.sum())} exact duplicate price row(s) (first: row {first})",
        DataWarning,
        stacklevel=3,
    )
    return prices.loc[~duplicate].reset_index(drop=True)


def _refuse_conflicting_duplicates(prices: pd.DataFrame, path: Path) -> None:
    clash = prices.duplicated(subset=["date", "ticker"], keep=False).to_numpy()
    if not clash.any():
        return
    clashing = prices.loc[clash].sort_values("record")
    first = clashing.iloc[0]
    same = clashing[(clashing["date"] == first["date"]) & (clashing["ticker"] == first["ticker"])]
    second = int(same["record"].iloc[1])
    raise InputError(
        f"rows {int(first['record'])} and {second} give different prices for {first['ticker']} "
        f"on {first['date']:%Y-%m-%d}",
        file=path,
        row=second,
        column="date",
        hint="keep one row per date and ticker",
    )
