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

Intraday bars: a ``timestamp`` column (the bar's start, ISO 8601; naive stamps are wall time
in ``prices_tz``; epoch seconds are UTC) instead of ``date`` makes the rows bars. The frame then
also has ``timestamp`` (the bar start as naive UTC datetime64[ns]) and ``date`` is the bar's
day in ``prices_tz``; one row per (timestamp, ticker). A stamp without a time is refused.

``prices_from_frame`` applies all of this to a DataFrame the caller already holds (errors name
its ``source`` instead of a file); ``load_prices`` is ``read_table`` followed by it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from backtest.data.tables import (
    DataWarning,
    as_text,
    normalise_columns,
    read_table_with_delimiter,
    table_stem,
)
from backtest.errors import InputError

__all__ = ["PRICE_COLUMNS", "load_prices", "prices_from_frame"]

PRICE_COLUMNS = ("date", "ticker", "open", "high", "low", "close", "volume", "adj_close", "record")
_REQUIRED = ("date", "ticker", "open", "close")
_NUMBERS = ("open", "high", "low", "close", "volume", "adj_close")
_TICKER_STEM = re.compile(r"[A-Z0-9.\-^=]{1,12}")
_DECIMAL_COMMA = r"^(\s*[+-]?(?=\d|,\d)\d*),(\d*(?:[eE][+-]?\d+)?\s*)$"
_FOLDER_FILES = (".csv", ".csv.gz", ".parquet")
_BLANKS = ("", "nan", "NaN", "NAN", "null", "NULL", "None", "NA", "N/A", "n/a", "-")


def load_prices(path: str | Path, *, prices_tz: str = "America/New_York") -> pd.DataFrame:
    """Prices as columns date (datetime64[ns], midnight), ticker (upper-case str), open, high,
    low, close, volume, adj_close (float64) and record (int64, the row's 1-based record in the
    file, for error messages downstream), sorted by ticker then date, with a fresh RangeIndex.

    ``path`` may also be a folder: every ``*.csv``, ``*.csv.gz`` and ``*.parquet`` file in it
    (not in sub-folders; hidden files skipped) is loaded and the prices concatenated; ``record``
    is then the row in the row's own file.
    """
    path = Path(path)
    if path.is_dir():
        return _load_folder(path, prices_tz)
    frame, named = _load_file(path, prices_tz)
    if named is not None:
        warnings.warn(
            f"{path}: no ticker column; using {named} from the file name",
            DataWarning,
            stacklevel=2,
        )
    return frame


def _load_file(path: Path, prices_tz: str) -> tuple[pd.DataFrame, str | None]:
    """One file's prices, and the ticker taken from its name when it has no ticker column."""
    raw, delimiter = read_table_with_delimiter(path, what="prices")
    if delimiter == ";":
        raw = _decimal_commas(raw)
    named = None
    has_time = "date" in raw.columns or "timestamp" in raw.columns
    if (
        "ticker" not in raw.columns
        and has_time
        and all(n in raw.columns for n in _REQUIRED if n not in ("ticker", "date"))
    ):
        named = _ticker_from_file_name(path)
        raw = raw.assign(ticker=named)
    return prices_from_frame(raw, source=str(path), prices_tz=prices_tz), named


def _ticker_from_file_name(path: Path) -> str:
    """``AAPL.csv`` -> AAPL, ``brk-b.csv.gz`` -> BRK-B; refuses names that are not tickers."""
    stem = table_stem(path)
    ticker = stem.upper()
    if not _TICKER_STEM.fullmatch(ticker) or not re.search(r"[A-Z0-9]", ticker):
        raise InputError(
            f"prices file has no 'ticker' column and its name {stem!r} is not a ticker symbol",
            file=path,
            column="ticker",
            hint="add a ticker column, or name the file after its one ticker (e.g. AAPL.csv)",
        )
    return ticker


def _decimal_commas(raw: pd.DataFrame) -> pd.DataFrame:
    """In a semicolon file a comma in a number is the decimal mark: ``123,45`` -> ``123.45``.

    Only cells that are a whole number with one decimal comma change, so anything else keeps
    its text and is refused as written.
    """
    changed = {}
    for name in _NUMBERS:
        if name in raw.columns and pd.api.types.is_string_dtype(raw[name].dtype):
            text = as_text(raw[name])
            if text.str.contains(",", regex=False).any():
                changed[name] = text.str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True)
    return raw.assign(**changed) if changed else raw


def _load_folder(folder: Path, prices_tz: str) -> pd.DataFrame:
    """Every price file in ``folder``, concatenated; each file's ticker from its column or name."""
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(_FOLDER_FILES)
    )
    if not files:
        raise InputError(
            "prices folder holds no .csv, .csv.gz or .parquet files",
            file=folder,
            hint="put one file per ticker in it (e.g. AAPL.csv), or pass a prices file",
        )
    frames, origin, named = [], [], []
    for position, file in enumerate(files):
        frame, ticker = _load_file(file, prices_tz)
        frames.append(frame)
        origin.append(np.full(len(frame), position, dtype=np.int64))
        if ticker is not None:
            named.append(f"{file.name} -> {ticker}")
    if named:
        shown = ", ".join(named[:3]) + (", ..." if len(named) > 3 else "")
        warnings.warn(
            f"{folder}: no ticker column in {len(named)} file(s); using the file names ({shown})",
            DataWarning,
            stacklevel=3,
        )
    prices = pd.concat(frames, ignore_index=True).assign(file=np.concatenate(origin))
    key = "timestamp" if "timestamp" in prices.columns else "date"
    prices = prices.sort_values(["ticker", key], kind="stable", ignore_index=True)
    again = prices.duplicated(["ticker", key]).to_numpy()
    if again.any():
        at = int(again.argmax())
        first = prices.iloc[at - 1]
        raise InputError(
            f"{prices['ticker'].iloc[at]} on {prices['date'].iloc[at]:%Y-%m-%d} is also in "
            f"{files[first['file']].name} (row {first['record']})",
            file=files[prices["file"].iloc[at]],
            row=int(prices["record"].iloc[at]),
            column="ticker",
            hint="keep each ticker's prices in one file",
        )
    return prices[list(_columns_of(prices))]


def _columns_of(frame: pd.DataFrame) -> tuple[str, ...]:
    """PRICE_COLUMNS, plus ``timestamp`` for intraday bars."""
    return (*PRICE_COLUMNS, "timestamp") if "timestamp" in frame.columns else PRICE_COLUMNS


def prices_from_frame(
    raw: pd.DataFrame, *, source: str = "prices DataFrame", prices_tz: str = "America/New_York"
) -> pd.DataFrame:
    """Validate a frame of prices as ``load_prices`` validates a file, and return what it returns.

    Column names are normalised and aliased as for files; dates may be strings, datetime64 or
    Timestamps, numbers strings or numbers. ``record`` is the 1-based row of ``raw``. Errors and
    warnings name ``source`` where a file loader names the file. ``raw`` is not modified.
    """
    raw = normalise_columns(raw, source=source, what="prices")
    bars = "timestamp" in raw.columns and "date" not in raw.columns
    required = [n for n in _REQUIRED if n != "date"] if bars else list(_REQUIRED)
    missing = [name for name in required if name not in raw.columns]
    if missing:
        raise InputError(
            f"prices file has no '{missing[0]}' column (columns found: {', '.join(raw.columns)})",
            file=source,
            column=missing[0],
            hint="prices need the columns date, ticker, open, close (high, low, volume, "
            "adj_close optional)",
        )
    if len(raw) == 0:
        raise InputError("prices file has no data rows", file=source, hint="export the data again")
    record = np.arange(1, len(raw) + 1, dtype=np.int64)
    codes, names = _ticker_codes(raw["ticker"], record, source)
    if bars:
        stamps = _bar_starts(raw["timestamp"], record, source, prices_tz)
        local_day = (
            pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(prices_tz).tz_localize(None)
        )
        day = local_day.normalize().as_unit("ns").to_numpy()
        dates = stamps
    else:
        dates = _session_dates(raw["date"], record, source)
    numbers = {}
    absent = np.full(len(raw), np.nan)
    for name in _NUMBERS:
        numbers[name] = _numbers(raw[name], name, record, source) if name in raw else absent
    del raw
    order = np.lexsort((dates.view(np.int64), codes))
    keep = _deduplicate(codes[order], dates[order], record[order], numbers, order, names, source)
    order = order[keep]
    in_order = len(order) == len(record) and bool((order[1:] > order[:-1]).all())

    def taken(values: np.ndarray) -> np.ndarray:
        return values if in_order else values[order]

    # Without copies where nothing moves (rows already sorted, one NaN array for every absent
    # column): a year of minute bars for 500 tickers is 49 M rows, 0.4 GB a column.
    columns: dict[str, object] = {
        "date": taken(day if bars else dates),
        "ticker": pd.array(names, dtype="str").take(taken(codes)),
    }
    for name in _NUMBERS:
        values = numbers[name]
        columns[name] = absent[: len(order)] if values is absent else taken(values)
    columns["record"] = taken(record)
    if bars:
        columns["timestamp"] = taken(dates)
    frame = pd.DataFrame(columns, copy=False)
    return frame[list(_columns_of(frame))]


def _bar_starts(column: pd.Series, record: np.ndarray, source: str, prices_tz: str) -> np.ndarray:
    """Bar start instants as naive UTC datetime64[ns]; a stamp without a time is refused."""
    from backtest.data.headlines import check_time_zone, parse_timestamps

    try:
        check_time_zone(prices_tz)
    except InputError:
        raise InputError(
            f"unknown time zone {prices_tz!r}",
            column="data.prices_tz",
            hint="use an IANA name such as America/New_York",
        ) from None
    instants, date_only = parse_timestamps(
        column, prices_tz, record=record, file=source, column_name="timestamp"
    )
    if date_only.any():
        first = int(date_only.argmax())
        raise InputError(
            f"timestamp {as_text(column).iloc[first]!r} has no time of day",
            file=source,
            row=int(record[first]),
            column="timestamp",
            hint="intraday bars need their start time (daily prices use a date column)",
        )
    return instants.view("datetime64[ns]")


def _ticker_codes(
    column: pd.Series, record: np.ndarray, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes into the alphabetically sorted, stripped, upper-cased ticker names."""
    tickers = as_text(column).str.strip().str.upper()
    codes, names = pd.factorize(tickers, sort=True)
    names = np.asarray(names, dtype=object)
    empty = np.flatnonzero(names == "")
    if len(empty):
        first = int(np.flatnonzero(codes == empty[0])[0])
        raise InputError(
            "empty ticker",
            file=source,
            row=int(record[first]),
            column="ticker",
            hint="every price row needs a ticker symbol",
        )
    return codes.astype(np.int64), names


def _session_dates(column: pd.Series, record: np.ndarray, source: str) -> np.ndarray:
    """The session date as written (YYYY-MM-DD, optional time part ignored) at midnight, naive.

    Strings are parsed once per distinct value, so ten years of 500 tickers cost 2,520 parses.
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = column.dt.normalize().to_numpy(dtype="datetime64[ns]")
    else:
        text = as_text(column).str.strip()
        codes, distinct = pd.factorize(text)
        distinct = pd.Series(np.asarray(distinct, dtype=object), dtype="str")
        well_formed = distinct.str.match(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])").to_numpy(dtype=bool)
        parsed = pd.to_datetime(distinct.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        bad_distinct = ~well_formed | parsed.isna().to_numpy()
        if bad_distinct.any():
            first = int(np.flatnonzero(np.isin(codes, np.flatnonzero(bad_distinct)))[0])
            value = text.iloc[first]
            raise InputError(
                f"cannot read date {value!r}" if value else "missing date",
                file=source,
                row=int(record[first]),
                column="date",
                hint="write dates as YYYY-MM-DD",
            )
        values = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    missing = np.isnat(values)
    if missing.any():
        raise InputError(
            "missing date", file=source, row=int(record[missing.argmax()]), column="date"
        )
    return values


def _numbers(column: pd.Series, name: str, record: np.ndarray, source: str) -> np.ndarray:
    required = name in _REQUIRED
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(values)
        text = column  # shown as str(value) only for an error: astype(str) costs 5 s per 5 M
    else:
        text = as_text(column).str.strip()
        blank = text.isin(_BLANKS).to_numpy()
        values = _parse_floats(text, blank)
        unreadable = np.isnan(values) & ~blank
        if unreadable.any():
            first = int(unreadable.argmax())
            raise InputError(
                f"{name} {text.iloc[first]!r} is not a number",
                file=source,
                row=int(record[first]),
                column=name,
                hint="write plain numbers such as 123.45 (no thousands separators)",
            )
    if required and blank.any():
        first = int(blank.argmax())
        raise InputError(
            f"missing {name} price",
            file=source,
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
            f"{name} {str(text.iloc[first])!r} is not {rule}",
            file=source,
            row=int(record[first]),
            column=name,
            hint="fix or remove the row",
        )
    return values


def _parse_floats(text: pd.Series, blank: np.ndarray) -> np.ndarray:
    """float64 values, NaN for blanks and for text that is not a number.

    Arrow's cast parses a whole column in C; only when some cell is not a number does the
    slower pandas parser run, to find which ones.
    """
    try:
        strings = pa.array(text.mask(blank, None), type=pa.string(), from_pandas=True)
        return pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        numbers = pd.to_numeric(text.mask(blank, ""), errors="coerce")
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _deduplicate(
    codes: np.ndarray,
    dates: np.ndarray,
    records: np.ndarray,
    numbers: dict[str, np.ndarray],
    order: np.ndarray,
    names: np.ndarray,
    source: str,
) -> np.ndarray:
    """Keep-mask over rows sorted by (ticker, date): drop exact repeats (warn), refuse conflicts.

    Rows sharing a (ticker, date) key are compared with the first row of their group (the
    earliest record, as the sort is stable).
    """
    repeat = np.zeros(len(codes), dtype=bool)
    repeat[1:] = (codes[1:] == codes[:-1]) & (dates[1:] == dates[:-1])
    if not repeat.any():
        return np.ones(len(codes), dtype=bool)
    group_first = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(codes))))
    differs = np.zeros(len(codes), dtype=bool)
    for values in numbers.values():
        mine, theirs = values[order], values[order][group_first]
        differs |= ~((mine == theirs) | (np.isnan(mine) & np.isnan(theirs)))
    conflict = repeat & differs
    if conflict.any():
        at = int(conflict.argmax())
        first, second = int(records[group_first[at]]), int(records[at])
        raise InputError(
            f"rows {first} and {second} give different prices for {names[codes[at]]} "
            f"on {pd.Timestamp(dates[at]):%Y-%m-%d}",
            file=source,
            row=second,
            column="date",
            hint="keep one row per date and ticker",
        )
    warnings.warn(
        f"{source}: dropped {int(repeat.sum())} exact duplicate price row(s) "
        f"(first: row {int(records[repeat].min())})",
        DataWarning,
        stacklevel=3,
    )
    return ~repeat
