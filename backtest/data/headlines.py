"""Load headlines (timestamp, ticker, headline, optional source and url) with exact UTC instants.

Timestamp rules (DESIGN.md "Data contracts"), applied column-wise, never row by row:

1. ISO 8601 with an offset or ``Z`` (also a trailing ``UTC``/``GMT``) is exact.
2. ISO 8601 date and time without an offset is wall time in ``headlines_tz``. A time that falls
   in a DST gap (02:30 on a spring-forward day) moves forward to the first valid instant; a time
   that occurs twice (01:30 on a fall-back day) is read as the LATER of the two instants. Both
   choices make the headline known later, never earlier: the conservative reading.
3. A date alone (``YYYY-MM-DD``) means "time unknown": ``date_only`` is True and ``published_at``
   is 00:00 of that date in ``headlines_tz`` (in UTC). The calendar treats it as known only after
   that day's close (backtest.calendar.known_at_ns).
4. Epoch seconds (9 to 11 digits, optional fraction) and epoch milliseconds (12 or 13 digits,
   as many market-data APIs write them) are exact UTC instants.
5. Datetime columns in Parquet files: tz-aware ones are exact; naive ones follow rule 2.

Tickers: a cell holding several tickers ("AAPL,MSFT", "AAPL MSFT", "$AAPL;$MSFT", a JSON list)
becomes one row per ticker; ``$`` cashtag signs are removed and tickers upper-cased.

Refused with ``InputError``: no timestamp, ticker or headline column (a ``date`` column stands in
for a missing timestamp column); an unreadable or empty timestamp (the row and the value); a row
without any ticker; an unknown time zone name.

Tolerated with a ``DataWarning``: rows whose headline text is empty or blank are dropped (there
is nothing to score); exact duplicate rows (same instant, ticker, text, source and url) are
dropped, keeping the first. Headline text is otherwise kept verbatim.

``headlines_from_frame`` applies all of this to a DataFrame the caller already holds (errors
name its ``source`` instead of a file); ``load_headlines`` is ``read_table`` followed by it.
"""

from __future__ import annotations

import warnings
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.tables import DataWarning, as_text, normalise_columns, read_table
from backtest.errors import InputError

__all__ = ["HEADLINE_COLUMNS", "check_time_zone", "headlines_from_frame", "load_headlines"]

HEADLINE_COLUMNS = ("published_at", "date_only", "ticker", "headline", "source", "url", "record")

_DATE_ONLY = r"\d{4}-\d{2}-\d{2}"
_DATE_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?"
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)"
_EPOCH = r"\d{9,11}(?:\.\d+)?"
_EPOCH_MS = r"\d{12,13}(?:\.\d+)?"
_TICKER_SEPARATOR = r"[,;|\s]"
_TICKER_DECORATION = r"[$\[\]'\"]"
_TIMESTAMP_HINT = (
    "use ISO 8601, e.g. 2015-01-02T14:30:00Z, 2015-01-02T09:30:00-05:00, "
    "2015-01-02 09:30 (read in headlines_tz) or 2015-01-02 (time unknown)"
)
_NS_MIN = np.datetime64(pd.Timestamp.min.as_unit("ns").to_datetime64(), "us")
_NS_MAX = np.datetime64(pd.Timestamp.max.as_unit("ns").to_datetime64(), "us")
_EPOCH_MAX_S = float(pd.Timestamp.max.value // 10**9)


def load_headlines(path: str | Path, *, headlines_tz: str = "America/New_York") -> pd.DataFrame:
    """Headlines as columns published_at (datetime64[ns, UTC]), date_only (bool), ticker (str),
    headline (str, verbatim), source (str, "" if absent), url (str, "" if absent) and record
    (int64, 1-based record in the file), one row per ticker, sorted by published_at then ticker.
    """
    path = Path(path)
    check_time_zone(headlines_tz)
    raw = read_table(path, what="headlines")
    return headlines_from_frame(raw, headlines_tz=headlines_tz, source=str(path))


def headlines_from_frame(
    raw: pd.DataFrame,
    *,
    headlines_tz: str = "America/New_York",
    source: str = "headlines DataFrame",
) -> pd.DataFrame:
    """Validate a frame of headlines as ``load_headlines`` validates a file; return what it does.

    Column names are normalised and aliased as for files. The timestamp column may hold strings
    (the module rules: date-only strings mean time unknown), naive datetime64 (wall time in
    ``headlines_tz``) or tz-aware datetime64 (exact). ``record`` is the 1-based row of ``raw``.
    Errors and warnings name ``source`` where a file loader names the file. ``raw`` is not
    modified.
    """
    check_time_zone(headlines_tz)
    raw = normalise_columns(raw, source=source, what="headlines")
    stamp_column = "timestamp" if "timestamp" in raw.columns else "date"
    for needed in (stamp_column, "ticker", "headline"):
        if needed not in raw.columns:
            shown = "timestamp" if needed == "date" else needed
            raise InputError(
                f"headlines file has no '{shown}' column (columns found: {', '.join(raw.columns)})",
                file=source,
                column=shown,
                hint="headlines need the columns timestamp, ticker, headline (source, url "
                "optional)",
            )
    if len(raw) == 0:
        raise InputError("headlines file has no data rows", file=source, hint="export them again")
    record = np.arange(1, len(raw) + 1, dtype=np.int64)
    published_ns, date_only = parse_timestamps(
        raw[stamp_column], headlines_tz, record=record, file=source, column_name=stamp_column
    )
    frame = pd.DataFrame(
        {
            "published_at": pd.DatetimeIndex(published_ns.view("datetime64[ns]")).tz_localize(
                "UTC"
            ),
            "date_only": date_only,
            "ticker": as_text(raw["ticker"]),
            "headline": as_text(raw["headline"]),
            "source": _optional_text(raw, "source"),
            "url": _optional_text(raw, "url"),
            "record": record,
        }
    )
    frame = _drop_blank_headlines(frame, source)
    rows, tickers = _explode_tickers(frame["ticker"], frame["record"].to_numpy(), source)
    codes, names = pd.factorize(tickers, sort=True)
    published = frame["published_at"].to_numpy("datetime64[ns]").view(np.int64)[rows]
    order = np.lexsort((codes, published))
    rows, codes = rows[order], codes[order]
    keep = _unique_rows(frame, rows, codes, published[order], source)
    rows = rows[keep]
    if len(rows) != len(frame) or np.any(rows != np.arange(len(frame))):
        frame = frame.take(rows).reset_index(drop=True)
    frame["ticker"] = pd.array(np.asarray(names, dtype=object), dtype="str").take(codes[keep])
    return frame[list(HEADLINE_COLUMNS)]


def check_time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone called ``name``, or an InputError that says what names look like."""
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        # OSError: a folder of the tz database ("America") or an unreadable file.
        raise InputError(
            f"unknown time zone {str(name)!r}",
            column="headlines_tz",
            hint="use an IANA name such as America/New_York, Europe/London or UTC",
        ) from None


def parse_timestamps(
    stamps: pd.Series,
    headlines_tz: str,
    *,
    record: np.ndarray,
    file: str | Path | None = None,
    column_name: str = "timestamp",
) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch nanoseconds (int64) and a date_only mask for ``stamps`` per the module rules."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return _datetime_ns(stamps.dt.tz_convert("UTC"), record, file, column_name), np.zeros(
            len(stamps), dtype=bool
        )
    if pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        local = _localise(pd.DatetimeIndex(stamps), headlines_tz)
        return _datetime_ns(local, record, file, column_name), np.zeros(len(stamps), dtype=bool)
    text = as_text(stamps).str.strip()
    named_utc = text.str.endswith("UTC") | text.str.endswith("GMT")
    if named_utc.any():
        text = text.mask(named_utc, text.str.slice(0, -3).str.rstrip() + "Z")
    date_only = text.str.fullmatch(_DATE_ONLY).to_numpy(dtype=bool)
    epoch = text.str.fullmatch(_EPOCH).to_numpy(dtype=bool)
    epoch_ms = text.str.fullmatch(_EPOCH_MS).to_numpy(dtype=bool)
    exact = text.str.fullmatch(_DATE_TIME + r" ?" + _OFFSET).to_numpy(dtype=bool)
    naive = text.str.fullmatch(_DATE_TIME).to_numpy(dtype=bool)
    published_ns = np.zeros(len(text), dtype=np.int64)
    parsed = date_only | epoch | epoch_ms | exact | naive
    if exact.any():
        values = pd.to_datetime(text[exact], format="ISO8601", utc=True, errors="coerce")
        published_ns[exact] = _datetime_ns(values, record[exact], file, column_name, text[exact])
    if naive.any() or date_only.any():
        local = naive | date_only
        values = pd.to_datetime(text[local], format="ISO8601", errors="coerce")
        _refuse_unparsed(values.isna().to_numpy(), text[local], record[local], file, column_name)
        utc = _localise(pd.DatetimeIndex(values), headlines_tz)
        published_ns[local] = _datetime_ns(utc, record[local], file, column_name, text[local])
    if epoch.any():
        seconds = pd.to_numeric(text[epoch]).to_numpy(dtype=np.float64)
        # 11 digits reach year 5138; past 2262 nanoseconds overflow int64 (garbage instants).
        _refuse_unparsed(seconds >= _EPOCH_MAX_S, text[epoch], record[epoch], file, column_name)
        published_ns[epoch] = np.round(seconds * 1e9).astype(np.int64)
    if epoch_ms.any():
        parts = text[epoch_ms].str.partition(".")
        milliseconds = parts[0].to_numpy().astype(np.int64)
        too_late = milliseconds >= int(_EPOCH_MAX_S) * 1000
        _refuse_unparsed(too_late, text[epoch_ms], record[epoch_ms], file, column_name)
        fraction = pd.to_numeric("0." + parts[2].where(parts[2] != "", "0")).to_numpy()
        published_ns[epoch_ms] = milliseconds * 10**6 + np.round(fraction * 1e6).astype(np.int64)
    _refuse_unparsed(~parsed, text, record, file, column_name)
    return published_ns, date_only


def _localise(wall: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Wall times in ``tz`` -> UTC; DST gaps shift forward, repeated times take the later one."""
    later = np.zeros(len(wall), dtype=bool)
    local = wall.tz_localize(tz, ambiguous=later, nonexistent="shift_forward")
    return local.tz_convert("UTC")


def _datetime_ns(
    values: pd.Series | pd.DatetimeIndex,
    record: np.ndarray,
    file: str | Path | None,
    column_name: str,
    text: pd.Series | None = None,
) -> np.ndarray:
    """int64 UTC nanoseconds; NaT or instants outside 1677-2262 are refused by record."""
    index = pd.DatetimeIndex(values)
    missing = index.isna()
    wide = index.tz_localize(None).as_unit("us").to_numpy()
    out_of_range = ~missing & ((wide < _NS_MIN) | (wide > _NS_MAX))
    bad = missing | out_of_range
    if bad.any():
        # Formatting every stamp as text is slow (27 s for 5 M bars): only to name a bad one.
        shown = text if text is not None else pd.Series(index.astype(str))
        _refuse_unparsed(bad, shown, record, file, column_name)
    return wide.astype("datetime64[ns]").view(np.int64)


def _refuse_unparsed(
    bad: np.ndarray, text: pd.Series, record: np.ndarray, file: str | Path | None, column: str
) -> None:
    if not bad.any():
        return
    first = int(bad.argmax())
    value = str(text.iloc[first])
    what = (
        "missing timestamp" if not value or value == "NaT" else f"cannot read timestamp {value!r}"
    )
    raise InputError(what, file=file, row=int(record[first]), column=column, hint=_TIMESTAMP_HINT)


def _optional_text(raw: pd.DataFrame, name: str) -> pd.Series:
    if name not in raw.columns:
        return pd.Series("", index=raw.index, dtype="str")
    return as_text(raw[name])


def _drop_blank_headlines(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    blank = (frame["headline"].str.strip() == "").to_numpy()
    if not blank.any():
        return frame
    first = int(frame["record"].to_numpy()[blank.argmax()])
    warnings.warn(
        f"{source}: dropped {int(blank.sum())} row(s) with an empty headline (first: row {first})",
        DataWarning,
        stacklevel=3,
    )
    return frame.loc[~blank].reset_index(drop=True)


def _explode_tickers(
    cells: pd.Series, record: np.ndarray, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions and their tickers, one per ticker in each cell, in row order.

    Only cells holding separators or decoration go through the (slower) split.
    """
    tickers = cells.str.strip().str.upper()
    fancy = tickers.str.contains(r"[^A-Z0-9.\-]").to_numpy(dtype=bool)
    plain_rows = np.flatnonzero(~fancy)
    plain_tickers = tickers.to_numpy(dtype=object)[plain_rows]
    fancy_rows = np.zeros(0, dtype=np.int64)
    fancy_tickers = np.zeros(0, dtype=object)
    if fancy.any():
        parts = (
            tickers[fancy]
            .str.replace(_TICKER_DECORATION, " ", regex=True)
            .str.split(_TICKER_SEPARATOR + "+", regex=True)
            .explode()
        )
        parts = parts[parts.notna() & (parts != "")]
        fancy_rows = parts.index.to_numpy(dtype=np.int64)
        fancy_tickers = parts.to_numpy(dtype=object)
    has_ticker = np.zeros(len(cells), dtype=bool)
    has_ticker[plain_rows[plain_tickers != ""]] = True
    has_ticker[fancy_rows] = True
    if not has_ticker.all():
        raise InputError(
            "empty ticker",
            file=source,
            row=int(record[(~has_ticker).argmax()]),
            column="ticker",
            hint="give every headline at least one ticker (several as AAPL,MSFT)",
        )
    rows = np.concatenate([plain_rows, fancy_rows])
    order = np.argsort(rows, kind="stable")
    return rows[order], np.concatenate([plain_tickers, fancy_tickers])[order]


def _unique_rows(
    frame: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, published: np.ndarray, source: str
) -> np.ndarray:
    """Keep-mask over exploded rows sorted by (instant, ticker): drop exact repeats with a warning.

    Only rows sharing an instant and ticker with the row before them are compared in full, so a
    clean million-row file costs one pass over two integer arrays.
    """
    candidate = np.zeros(len(rows), dtype=bool)
    candidate[1:] = (published[1:] == published[:-1]) & (codes[1:] == codes[:-1])
    if not candidate.any():
        return np.ones(len(rows), dtype=bool)
    group = np.cumsum(~candidate)
    involved = candidate | np.append(candidate[1:], False)
    subset = frame.take(rows[involved])[["date_only", "headline", "source", "url"]]
    subset = subset.assign(group=group[involved])
    repeat = np.zeros(len(rows), dtype=bool)
    repeat[involved] = subset.duplicated().to_numpy()
    if repeat.any():
        records = frame["record"].to_numpy()[rows[repeat]]
        warnings.warn(
            f"{source}: dropped {int(repeat.sum())} exact duplicate headline row(s) "
            f"(first: row {int(records.min())})",
            DataWarning,
            stacklevel=3,
        )
    return ~repeat
