"""The on-disk news cache: append-only Parquet part files, read back de-duplicated.

Layout: ``<cache>/part-<UTC time>-<random>.parquet``, each holding ``NEWS_COLUMNS`` rows of
one ``backtest data fetch-news``. A part file is written whole to a hidden temporary file in
the same folder and renamed into place (``os.replace``), so a reader sees it entirely or not at
all and no file is ever rewritten in place. No lock is needed: a fetch writes only rows whose
(id, ticker) no part file holds yet, and two concurrent fetches that race on the same item are
de-duplicated on read (the earliest ``first_seen`` wins, so an item's first sighting never moves
later). A fetch that adds nothing writes nothing; a failed fetch writes nothing and leaves no
temporary file, lock or (when it created it) empty cache folder.

``news:AAPL,MSFT`` names the default cache's rows for those tickers (``news:`` alone: every
ticker); a folder holding part files is a cache too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from backtest.data.news_sources import NEWS_COLUMNS, empty_news
from backtest.errors import InputError
from backtest.paths import NEWS_CACHE_ENV_VAR

PART_GLOB = "part-*.parquet"
NEWS_TIMES = ("published", "first_seen")


def parse_news_spec(spec: str) -> list[str] | None:
    """``news:AAPL,MSFT`` -> ["AAPL", "MSFT"] (``news:`` -> []); None if not a news spec."""
    prefix, sep, rest = spec.partition(":")
    if not sep or prefix.strip().lower() != "news":
        return None
    from backtest.data.fetch import normalise_tickers

    return normalise_tickers(rest.split(","), allow_empty=True)


def is_news_cache(path: str | Path) -> bool:
    """A folder holding news part files (and no CSV) is a news cache."""
    folder = Path(path)
    return folder.is_dir() and any(folder.glob(PART_GLOB))


@dataclass(frozen=True)
class AppendResult:
    new_rows: dict[str, int]
    known_rows: dict[str, int]
    part: Path | None


def read_news_cache(folder: Path, tickers: list[str] | None = None) -> pd.DataFrame:
    """Every cached item (``NEWS_COLUMNS``), one per (id, ticker), earliest first_seen kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(folder.glob(PART_GLOB)) if folder.is_dir() else []
    frames = [empty_news()]
    for part in parts:
        try:
            frame = pq.read_table(part).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"cannot read a news cache file ({type(exc).__name__})",
                file=part,
                hint="delete that part file; the other parts are kept",
            ) from exc
        missing = [c for c in NEWS_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(
                f"news cache file has no {', '.join(missing)} column",
                file=part,
                hint="delete that part file; it was not written by backtest data fetch-news",
            )
        frames.append(frame[list(NEWS_COLUMNS)])
    frame = pd.concat(frames, ignore_index=True)
    for column in ("timestamp", "first_seen"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[ns, UTC]")
    frame = frame.sort_values(["first_seen", "timestamp"], kind="stable")
    frame = frame.drop_duplicates(["id", "ticker"], keep="first")
    if tickers:
        frame = frame[frame["ticker"].isin(tickers)]
    return frame.sort_values(["timestamp", "ticker"], kind="stable", ignore_index=True)


def append_news(folder: Path, batch: pd.DataFrame) -> AppendResult:
    """Write the rows of ``batch`` the cache does not hold yet as one new part file."""
    existing = read_news_cache(folder)
    known = set(zip(existing["id"], existing["ticker"], strict=True))
    keys = list(zip(batch["id"], batch["ticker"], strict=True))
    is_new = [key not in known for key in keys]
    fresh = batch.loc[is_new].drop_duplicates(["id", "ticker"]).reset_index(drop=True)
    tickers = sorted(set(batch["ticker"]))
    new_rows = {t: int((fresh["ticker"] == t).sum()) for t in tickers}
    known_rows = {t: int(((batch["ticker"] == t) & ~pd.Series(is_new)).sum()) for t in tickers}
    if fresh.empty:
        return AppendResult(new_rows, known_rows, None)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    part = folder / f"part-{stamp}-{secrets.token_hex(4)}.parquet"
    _write_part(part, fresh[list(NEWS_COLUMNS)])
    return AppendResult(new_rows, known_rows, part)


def _write_part(path: Path, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    made = not path.parent.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=".tmp")
    except OSError as exc:
        raise InputError(
            f"cannot write the news cache ({exc.strerror or type(exc).__name__})",
            file=path.parent,
            hint=f"set {NEWS_CACHE_ENV_VAR} or --cache to a folder you can write to",
        ) from None
    os.close(handle)
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        raise


def news_headlines(
    folder: Path, tickers: list[str] | None, news_time: str = "published"
) -> pd.DataFrame:
    """The cache as a headlines frame for ``headlines_from_frame``: timestamp is the stated
    publication time (``news_time = "published"``) or when this tool first saw the item."""
    if news_time not in NEWS_TIMES:
        raise InputError(
            f"data.news_time = {news_time!r} is not allowed",
            hint='use "published" or "first_seen"',
        )
    frame = read_news_cache(folder, tickers)
    if frame.empty:
        shown = ",".join(tickers or []) or "AAPL"
        raise InputError(
            "no cached news" + (f" for {', '.join(tickers)}" if tickers else ""),
            file=folder,
            hint=f"run `backtest data fetch-news {shown}` first",
        )
    stamp = frame["timestamp" if news_time == "published" else "first_seen"]
    return pd.DataFrame(
        {
            "timestamp": stamp,
            "ticker": frame["ticker"],
            "headline": frame["headline"],
            "source": frame["source"],
            "url": frame["url"],
        }
    )
