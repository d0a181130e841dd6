"""Daily prices from Yahoo Finance (yfinance) kept in an on-disk Parquet cache, one file a ticker.

``fetch_prices`` works in five steps:

1. Read each ticker's cache file ``<cache>/<TICKER>.parquet`` and the date range it covers (kept
   in the file's Parquet metadata, so weekends and holidays at the edges are not asked for again).
2. Plan the downloads: only the part of [start, end] outside the covered range, widened by
   ``OVERLAP_DAYS`` back into the cached rows. The overlap means every download must contain
   sessions we already hold, so an empty answer always means failure, and an upstream
   re-adjustment (a split or a dividend changes Yahoo's history) shows up as a disagreement.
3. Download; tickers that need the same range share one call. Any failure raises ``InputError``
   before anything is written, so the cache is untouched.
4. A ticker whose downloaded rows disagree with its cached rows on the same dates is downloaded
   again over its whole covered range and its file replaced, so a file never mixes two
   adjustment bases.
5. Merge (downloaded rows replace cached rows for the same date) and write each changed file
   atomically (temporary file in the same folder, then ``os.replace``).

Steps 1-5 run holding an exclusive ``fcntl.flock`` on ``<cache>/<TICKER>.parquet.lock`` for
every requested ticker (taken in sorted order, so two fetches cannot deadlock). A second
``backtest data fetch`` of the same ticker waits, then reads what the first one wrote and
downloads only what is still missing, so concurrent fetches lose no rows. Readers need no lock:
a cache file is only ever replaced whole. Each lock file is deleted while still held (a waiter
then finds its file gone and locks a fresh one), so the cache folder holds only Parquet files;
a cache folder that cannot be written is read without locks, as nothing can be written to it.

Bars dated after ``_last_complete_day()`` (yesterday in UTC) are still forming: they are neither
cached nor returned. The download boundary is the injectable ``Downloader``; tests pass a fake one.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.errors import InputError
from backtest.paths import CACHE_ENV_VAR, prices_cache_dir

Downloader = Callable[[list[str], date, date], pd.DataFrame]
"""Download daily bars for tickers, start and end dates inclusive, as a frame with columns
``DOWNLOAD_COLUMNS`` (one row per ticker and session; tickers with no rows mean failure)."""

DOWNLOAD_COLUMNS = ("date", "ticker", "open", "high", "low", "close", "adj_close", "volume")
REQUEST_TIMEOUT_S = 5.0
DOWNLOAD_DEADLINE_S = 12.0
TICKERS_PER_CALL = 10
OVERLAP_DAYS = 10
ADJUSTMENT_RTOL = 1e-4

_FLOAT_COLUMNS = ("open", "high", "low", "close", "adj_close")
_YF_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_METADATA_KEY = b"news_backtest.prices_cache"
_TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.=&\-]{0,19}$")
_FETCH_HINT = "run `backtest data fetch {tickers} --start YYYY-MM-DD` first"
_LOCK_SUFFIX = ".lock"
_UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class DownloadRequest:
    """One call made at the download boundary: these tickers, start and end dates inclusive."""

    tickers: tuple[str, ...]
    start: date
    end: date


@dataclass(frozen=True)
class FetchResult:
    """What ``fetch_prices`` returns.

    ``frame`` holds the requested range exactly as ``load_cached_prices`` reads it. Per
    ticker, ``new_rows`` counts dates added to the cache by this call and ``cached_rows`` the
    rows of the requested range that were already cached. ``redownloaded`` names tickers whose
    Yahoo history changed (split or dividend re-adjustment) and was downloaded again whole.
    """

    frame: pd.DataFrame
    new_rows: dict[str, int]
    cached_rows: dict[str, int]
    paths: dict[str, Path]
    downloads: tuple[DownloadRequest, ...]
    redownloaded: tuple[str, ...]


@dataclass(frozen=True)
class _Cached:
    """One ticker's cache file as read: its rows and the date range it covers."""

    frame: pd.DataFrame
    covered: tuple[date, date]


def parse_prices_source(spec: str) -> tuple[str, list[str]] | None:
    """Recognise ``yf:AAPL,MSFT`` (the cached Yahoo prices of these tickers); None otherwise.

    ``yf:`` alone gives an empty list, meaning every cached ticker.
    """
    prefix, sep, rest = spec.partition(":")
    if not sep or prefix.strip().lower() != "yf":
        return None
    return "yf", normalise_tickers(rest.split(","), allow_empty=True)


def normalise_tickers(tickers: Sequence[str], *, allow_empty: bool = False) -> list[str]:
    """Upper-case, strip and de-duplicate ticker symbols (order kept); reject unusable ones."""
    result: list[str] = []
    for raw in tickers:
        ticker = raw.strip().upper()
        if not ticker:
            continue
        if not _TICKER_PATTERN.match(ticker):
            raise InputError(
                f"'{raw.strip()}' is not a ticker symbol",
                hint="use Yahoo Finance symbols such as AAPL, BRK-B or ^GSPC",
            )
        if ticker not in result:
            result.append(ticker)
    if not result and not allow_empty:
        raise InputError("no tickers given", hint="name at least one ticker, e.g. AAPL")
    return result


def cache_path(ticker: str, cache_dir: Path) -> Path:
    """The cache file of one (normalised) ticker."""
    return cache_dir / f"{ticker}.parquet"


def yfinance_download(tickers: list[str], start: date, end: date) -> pd.DataFrame:
    """Daily bars from Yahoo Finance, ``start`` to ``end`` inclusive, as ``DOWNLOAD_COLUMNS``.

    Calls ``yf.download`` with ``auto_adjust=False`` (yfinance 1.x adjusts by default), so Close
    is the close as traded (split-adjusted by Yahoo) and dividends live in Adj Close. yfinance
    does not raise when offline: it returns an empty frame and logs to stderr. Here its logging
    and warnings are muted and a ticker with no rows raises ``InputError``. Tickers go in
    batches of ``TICKERS_PER_CALL``, each call bounded by ``DOWNLOAD_DEADLINE_S`` seconds; the
    first failing batch raises, so with no network the failure comes within one deadline.
    """
    names = normalise_tickers(tickers)
    frames = []
    for first in range(0, len(names), TICKERS_PER_CALL):
        batch = names[first : first + TICKERS_PER_CALL]
        call = functools.partial(_quiet_yf_download, batch, start, end)
        try:
            raw = _run_with_deadline(call, DOWNLOAD_DEADLINE_S)
        except Exception as exc:
            raise _download_error(batch) from exc
        frame = from_yfinance_frame(raw)
        missing = [t for t in batch if not (frame["ticker"] == t).any()]
        if missing:
            raise _download_error(missing)
        frames.append(frame)
    return _merge(_empty_prices(), *frames)


def _quiet_yf_download(tickers: list[str], start: date, end: date, **options: Any) -> pd.DataFrame:
    """``yf.download`` with yfinance's own log lines and warnings muted for the call;
    ``options`` go to it too (intraday: ``interval``, ``prepost``)."""
    import yfinance as yf

    logger = logging.getLogger("yfinance")
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return yf.download(
                tickers,
                start=start.isoformat(),
                end=(end + timedelta(days=1)).isoformat(),
                auto_adjust=False,
                actions=False,
                progress=False,
                threads=False,
                group_by="column",
                multi_level_index=True,
                timeout=REQUEST_TIMEOUT_S,
                **options,
            )
    finally:
        logger.disabled = was_disabled


def from_yfinance_frame(raw: pd.DataFrame | None) -> pd.DataFrame:
    """Convert ``yf.download``'s wide frame (columns ``(Price, Ticker)``) to ``DOWNLOAD_COLUMNS``.

    Rows missing any price (yfinance pads tickers to a shared index with NaN) are dropped, as
    missing sessions stay missing; a missing volume becomes 0.
    """
    if raw is None or raw.empty:
        return _empty_prices()
    columns = raw.columns
    if not isinstance(columns, pd.MultiIndex) or columns.nlevels != 2:
        raise InputError(
            "Yahoo Finance frame does not have (Price, Ticker) columns",
            hint="download with group_by='column' and multi_level_index=True",
        )
    level_names = list(columns.names)
    if "Price" in level_names:
        price_level = level_names.index("Price")
    else:
        price_level = 0 if "Close" in set(columns.get_level_values(0)) else 1
    ticker_level = 1 - price_level
    dates = _naive_dates(pd.DatetimeIndex(raw.index))
    parts = []
    for ticker in columns.get_level_values(ticker_level).unique():
        wide = raw.xs(ticker, axis=1, level=ticker_level)
        missing = [name for name in _YF_COLUMNS if name not in wide.columns]
        if missing:
            raise InputError(
                f"Yahoo Finance frame for {ticker} has no {', '.join(missing)} column",
                hint="download with auto_adjust=False",
            )
        part = pd.DataFrame({column: wide[name].to_numpy() for name, column in _YF_COLUMNS.items()})
        part.insert(0, "ticker", str(ticker).upper())
        part.insert(0, "date", dates)
        parts.append(part)
    return _normalise_frame(pd.concat(parts, ignore_index=True))


def fetch_prices(
    tickers: Sequence[str],
    start: date,
    end: date | None = None,
    *,
    cache_dir: Path | None = None,
    download: Downloader = yfinance_download,
    refresh: bool = False,
) -> FetchResult:
    """Daily bars of ``tickers`` from ``start`` to ``end`` (inclusive; default yesterday, UTC).

    Only date ranges missing from the cache are downloaded (``refresh`` downloads the whole
    requested range again). Downloaded rows replace cached rows for the same dates. On any
    download failure ``InputError`` is raised and no cache file is touched. The tickers' cache
    files are locked from the first read to the last write, so another fetch of the same
    tickers waits and then builds on these rows (module docstring).
    """
    names = normalise_tickers(tickers)
    folder = cache_dir if cache_dir is not None else prices_cache_dir()
    end = _effective_end(start, end)
    made = _missing_folders(folder)
    try:
        with _cache_locks([cache_path(ticker, folder) for ticker in names]):
            return _fetch_locked(names, start, end, folder, download, refresh)
    except BaseException:
        for made_folder in made:  # a failed first fetch leaves no empty cache folder
            with contextlib.suppress(OSError):
                made_folder.rmdir()
        raise


def _fetch_locked(
    names: list[str],
    start: date,
    end: date,
    folder: Path,
    download: Downloader,
    refresh: bool,
) -> FetchResult:
    """``fetch_prices`` steps 1-5, holding the tickers' cache locks."""
    paths = {ticker: cache_path(ticker, folder) for ticker in names}
    cached = {
        ticker: _read_cache(paths[ticker], ignore_unreadable=refresh)
        for ticker in names
        if paths[ticker].exists()
    }

    plan = {ticker: _plan_ranges(cached.get(ticker), start, end, refresh) for ticker in names}
    downloads, received = _download_all(plan, download, folder)

    readjust = {
        ticker: [_full_range(cached[ticker].covered, start, end)]
        for ticker in names
        if ticker in cached and ticker in received
        if not _agrees(cached[ticker].frame, received[ticker])
    }
    more_downloads, replaced = _download_all(readjust, download, folder)

    frames: dict[str, pd.DataFrame] = {}
    covered: dict[str, tuple[date, date]] = {}
    for ticker in names:
        old = cached.get(ticker)
        if ticker in replaced:
            frames[ticker] = _until(replaced[ticker], end)
            covered[ticker] = _full_range(old.covered, start, end) if old else (start, end)
        elif ticker in received:
            base = old.frame if old else _empty_prices()
            frames[ticker] = _merge(base, _until(received[ticker], end))
            covered[ticker] = _full_range(old.covered, start, end) if old else (start, end)
        elif old is not None:
            frames[ticker], covered[ticker] = old.frame, old.covered

    for ticker in names:
        if ticker in received or ticker in replaced:
            _write_cache(paths[ticker], frames[ticker], covered[ticker])

    return FetchResult(
        frame=_in_range(load_cached_prices(names, cache_dir=folder), start, end),
        new_rows={t: _count_new(cached.get(t), frames[t]) for t in names},
        cached_rows={t: _count_cached(cached.get(t), start, end) for t in names},
        paths=paths,
        downloads=tuple(downloads + more_downloads),
        redownloaded=tuple(t for t in names if t in replaced),
    )


def load_cached_prices(
    tickers: Sequence[str] | None, cache_dir: Path | None = None
) -> pd.DataFrame:
    """Every cached row of ``tickers`` (all cached tickers if None or empty), as ``load_prices``
    returns it (each cache file is a valid prices file; ``record`` is the row in that file).

    Reads the cache only, never the network; a ticker not in the cache is an ``InputError``.
    """
    folder = cache_dir if cache_dir is not None else prices_cache_dir()
    if tickers is None or not list(tickers):
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if not files:
            raise InputError(
                "no cached prices", file=folder, hint=_FETCH_HINT.format(tickers="AAPL")
            )
    else:
        names = normalise_tickers(tickers)
        missing = [t for t in names if not cache_path(t, folder).is_file()]
        if missing:
            raise InputError(
                f"no cached prices for {', '.join(missing)}",
                file=folder,
                hint=_FETCH_HINT.format(tickers=" ".join(missing)),
            )
        files = [cache_path(t, folder) for t in names]
    from backtest.data.prices import load_prices

    loaded = pd.concat([load_prices(path) for path in files], ignore_index=True)
    return loaded.sort_values(["ticker", "date"], kind="stable", ignore_index=True)


@contextlib.contextmanager
def _cache_locks(files: Sequence[Path]) -> Iterator[None]:
    """Hold the lock of every cache file in ``files`` (module docstring), in sorted order."""
    with contextlib.ExitStack() as stack:
        for path in sorted(set(files)):
            stack.enter_context(_cache_lock(path.with_name(path.name + _LOCK_SUFFIX)))
        yield


@contextlib.contextmanager
def _cache_lock(lock: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``lock``, created if needed and deleted when released."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield
        return
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # the folder was removed by a failed first fetch in between
        except OSError as exc:
            if exc.errno not in _UNWRITABLE:
                raise
            yield  # a cache nobody here can write: read it without a lock
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(handle), os.stat(lock)):
                break
        except FileNotFoundError:
            pass  # the holder deleted it on release: lock the file now there
        except BaseException:
            os.close(handle)
            raise
        os.close(handle)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(handle)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing


def _run_with_deadline(task: Callable[[], Any], deadline_s: float) -> Any:
    """Run ``task`` on a daemon thread and give up after ``deadline_s`` seconds."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = task()
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="yfinance-download", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        raise TimeoutError(f"no answer from Yahoo Finance within {deadline_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _download_error(tickers: Sequence[str]) -> InputError:
    return InputError(
        f"could not download prices for {', '.join(tickers)} from Yahoo Finance "
        "(no network or unknown ticker)",
        hint="check the connection and the ticker symbol",
    )


def _download_all(
    plan: dict[str, list[tuple[date, date]]], downloader: Downloader, folder: Path
) -> tuple[list[DownloadRequest], dict[str, pd.DataFrame]]:
    """Make the planned downloads, one call per distinct range; rows received per ticker."""
    groups: dict[tuple[date, date], list[str]] = {}
    for ticker, ranges in plan.items():
        for bounds in ranges:
            groups.setdefault(bounds, []).append(ticker)
    requests = [DownloadRequest(tuple(ts), s, e) for (s, e), ts in sorted(groups.items())]
    received: dict[str, list[pd.DataFrame]] = {}
    for request in requests:
        try:
            frame = _normalise_frame(downloader(list(request.tickers), request.start, request.end))
        except InputError as exc:
            raise InputError(exc.what, hint=_failure_hint(folder)) from exc
        frame = _in_range(frame, request.start, request.end)
        empty = [t for t in request.tickers if not (frame["ticker"] == t).any()]
        if empty:
            raise InputError(_download_error(empty).what, hint=_failure_hint(folder))
        for ticker in request.tickers:
            received.setdefault(ticker, []).append(frame[frame["ticker"] == ticker])
    return requests, {t: _merge(_empty_prices(), *frames) for t, frames in received.items()}


def _failure_hint(folder: Path) -> str:
    return f"check the connection and the ticker symbol; cached prices are in {folder}"


def _plan_ranges(
    cached: _Cached | None, start: date, end: date, refresh: bool
) -> list[tuple[date, date]]:
    """The date ranges to download for one ticker (see the module docstring, step 2)."""
    if cached is None or refresh or cached.frame.empty:
        return [(start, end)]
    covered_start, covered_end = cached.covered
    first_row = cached.frame["date"].min().date()
    last_row = cached.frame["date"].max().date()
    ranges = []
    if start < covered_start:
        ranges.append((start, min(covered_end, first_row + timedelta(days=OVERLAP_DAYS))))
    if end > covered_end:
        ranges.append((max(covered_start, last_row - timedelta(days=OVERLAP_DAYS)), end))
    if len(ranges) == 2 and ranges[0][1] >= ranges[1][0] - timedelta(days=1):
        return [(ranges[0][0], ranges[1][1])]
    return ranges


def _full_range(covered: tuple[date, date], start: date, end: date) -> tuple[date, date]:
    return min(covered[0], start), max(covered[1], end)


def _agrees(cached: pd.DataFrame, downloaded: pd.DataFrame) -> bool:
    """Whether close and adj_close match on the dates both frames hold (no re-adjustment)."""
    both = cached.merge(downloaded, on="date", suffixes=("_cached", "_new"))
    return all(
        np.allclose(both[f"{c}_cached"], both[f"{c}_new"], rtol=ADJUSTMENT_RTOL, atol=0.0)
        for c in ("close", "adj_close")
    )


def _merge(base: pd.DataFrame, *newer: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``base`` and ``newer`` frames, one per (ticker, date); later frames win."""
    frame = pd.concat([base, *newer], ignore_index=True)
    frame = frame.drop_duplicates(["ticker", "date"], keep="last")
    return frame.sort_values(["ticker", "date"], ignore_index=True)


def _in_range(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    keep = (frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))
    return frame[keep].reset_index(drop=True)


def _until(frame: pd.DataFrame, end: date) -> pd.DataFrame:
    return frame[frame["date"] <= pd.Timestamp(end)].reset_index(drop=True)


def _count_new(old: _Cached | None, frame: pd.DataFrame) -> int:
    if old is None:
        return len(frame)
    return int((~frame["date"].isin(old.frame["date"])).sum())


def _count_cached(old: _Cached | None, start: date, end: date) -> int:
    return 0 if old is None else len(_in_range(old.frame, start, end))


def _last_complete_day() -> date:
    """The latest date whose daily bar is final everywhere: yesterday in UTC."""
    return datetime.now(UTC).date() - timedelta(days=1)


def _effective_end(start: date, end: date | None) -> date:
    """``end`` capped at the last complete day; checks the range can hold a session."""
    last = _last_complete_day()
    capped = last if end is None else min(end, last)
    if start > capped:
        raise InputError(
            f"nothing to fetch from {start} to {capped}: the start is after the end "
            "or the bars are not complete yet",
            hint=f"use a start on or before {last}",
        )
    if not any(
        (start + timedelta(days=i)).weekday() < 5 for i in range(min(7, (capped - start).days + 1))
    ):
        raise InputError(f"no trading days from {start} to {capped}", hint="widen the date range")
    return capped


def _naive_dates(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if index.tz is not None:
        index = index.tz_localize(None)
    return index.normalize().as_unit("ns")


def _empty_prices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ticker": pd.Series([], dtype="str"),
            **{c: pd.Series([], dtype="float64") for c in _FLOAT_COLUMNS},
            "volume": pd.Series([], dtype="int64"),
        }
    )


def _normalise_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """A downloaded or cached frame as ``DOWNLOAD_COLUMNS``, typed; rows without a price dropped."""
    if frame is None or frame.empty:
        return _empty_prices()
    missing = [c for c in DOWNLOAD_COLUMNS if c != "adj_close" and c not in frame.columns]
    if missing:
        raise InputError(f"downloaded prices have no {', '.join(missing)} column")
    frame = frame.copy()
    if "adj_close" not in frame.columns:
        frame["adj_close"] = frame["close"]
    dates = pd.to_datetime(frame["date"])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    frame["date"] = dates.dt.normalize().dt.as_unit("ns")
    frame["ticker"] = frame["ticker"].astype("str").str.upper()
    for column in _FLOAT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame = frame.dropna(subset=["date", *_FLOAT_COLUMNS])
    volume = pd.to_numeric(frame["volume"], errors="coerce").fillna(0)
    frame["volume"] = volume.round().astype("int64")
    return _merge(_empty_prices(), frame[list(DOWNLOAD_COLUMNS)])


def _read_cache(path: Path, *, ignore_unreadable: bool) -> _Cached:
    """One cache file; an unreadable one is an ``InputError`` (or empty with ``ignore``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        frame = _normalise_frame(table.to_pandas())
        meta = json.loads((table.schema.metadata or {}).get(_METADATA_KEY, b"{}"))
        if "covered_start" in meta:
            covered = (
                date.fromisoformat(meta["covered_start"]),
                date.fromisoformat(meta["covered_end"]),
            )
        elif not frame.empty:
            covered = (frame["date"].min().date(), frame["date"].max().date())
        else:
            raise ValueError("empty cache file without a covered range")
    except (OSError, ValueError, KeyError, pa.ArrowException, InputError) as exc:
        if ignore_unreadable:
            return _Cached(_empty_prices(), (date.max, date.min))
        raise InputError(
            f"cannot read cached prices ({type(exc).__name__})",
            file=path,
            hint="delete the file or fetch again with --refresh",
        ) from exc
    return _Cached(frame, covered)


def _write_cache(path: Path, frame: pd.DataFrame, covered: tuple[date, date]) -> None:
    """Write one ticker's rows and covered range atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_METADATA_KEY] = json.dumps(
        {
            "covered_start": covered[0].isoformat(),
            "covered_end": covered[1].isoformat(),
            "source": "Yahoo Finance via yfinance, auto_adjust=False",
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    ).encode()
    table = table.replace_schema_metadata(meta)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp"
        )
    except OSError as exc:
        if exc.errno in _UNWRITABLE:
            raise _unwritable_cache(exc.errno, path) from exc
        raise
    os.close(handle)
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _UNWRITABLE:
            raise _unwritable_cache(exc.errno, path) from exc
        raise


def _unwritable_cache(code: int, path: Path) -> InputError:
    """A cache file that cannot be written (permissions, read-only or full disk), in one line."""
    return InputError(
        f"cannot write cached prices ({os.strerror(code).lower()}); "
        "the cache file was left as it was",
        file=path,
        hint=f"free some space, or set {CACHE_ENV_VAR} to a folder you can write to",
    )
