"""Exchange sessions and the point-in-time rule: the first session a headline may trade in.

A backtest is worthless if it trades on news before it was published, so every headline goes
through these steps (DESIGN.md "Point-in-time rules"):

1. Sessions. ``load_sessions`` takes the exchange calendar (XNYS by default) from
   exchange_calendars: session dates, and each session's open and close as UTC epoch
   nanoseconds. Holidays, half days (2015-11-27 closes 13:00 New York = 18:00 UTC) and DST all
   come from the library; nothing here knows a clock time.
2. Known-at instant. ``known_at_ns``: a headline with an exact time (offset, Z, or a naive time
   already read in ``headlines_tz`` by the loader) is known at that instant. A date-only
   headline ("time unknown") is known at that day's session close if the day is a session, and
   otherwise at the end of that day (midnight after it) in the exchange's time zone. The day of
   a date-only stamp is its date in ``headlines_tz`` (the zone the loader localised it in). If
   that zone lies west of the exchange's, its day ends after the exchange's day does, and the
   headline is known only at the end of its own day (a New York date-only headline on a Tokyo
   calendar may have been published during the next Tokyo session).
3. Tradeable session. ``tradeable_session`` with ``at="open"``: the first session whose open
   minus ``latency_ns`` is strictly AFTER the known instant (known < open - latency). With the
   default 5 minutes, news known before 09:25 New York trades at that morning's open (NYSE's
   market-on-open cut-off is 09:28); later news, news during the session or after the close
   trades at the next session's open. ``latency = 0`` gives "strictly before the open". With
   ``at="close"``: the first session whose close minus ``latency_ns`` is at or after the known
   instant (known <= close - latency); otherwise the next session's close.
4. Edges. Both searches are one ``np.searchsorted`` over the sorted open (or close) minus
   latency instants, so a million headlines cost milliseconds. A headline known before the
   first loaded session maps to index 0 (it was known in time for it: no look-ahead, but it may
   be stale, so callers that care load sessions from before their first headline). A headline
   after the last qualifying session maps to ``len(sessions)``, meaning "not tradeable in
   range"; -1 is never returned.

Consequences worth stating: weekend and holiday news trades at the next session; a date-only
stamp trades at the NEXT session's open (open mode) or the next session's close (close mode),
never on its own day, since its time is unknown.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.errors import InputError
from backtest.paths import cache_subdir

__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_LATENCY_NS",
    "Bars",
    "Sessions",
    "bar_grid",
    "extended_bar_grid",
    "known_at_ns",
    "load_sessions",
    "tradeable_bar",
    "tradeable_session",
]

DEFAULT_CALENDAR = "XNYS"
DEFAULT_LATENCY_NS = 5 * 60 * 10**9
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, eq=False)
class Sessions:
    """Exchange sessions in order: naive session dates and their open/close as UTC epoch ns."""

    dates: np.ndarray
    open_ns: np.ndarray
    close_ns: np.ndarray
    calendar: str
    tz: str

    def __len__(self) -> int:
        return len(self.dates)


@dataclass(frozen=True, eq=False)
class Bars:
    """Intraday bars in order: each bar's start (UTC epoch ns) and the session it belongs to."""

    start_ns: np.ndarray
    session: np.ndarray
    """Index into the Sessions the bars were laid over."""
    interval_ns: int

    def __len__(self) -> int:
        return len(self.start_ns)

    @property
    def last_of_session(self) -> np.ndarray:
        """True on each session's last bar."""
        last = np.ones(len(self.session), dtype=bool)
        last[:-1] = self.session[1:] != self.session[:-1]
        return last


def bar_grid(sessions: Sessions, interval_ns: int) -> Bars:
    """Every regular-hours bar of every session: starts at the open, then every
    ``interval_ns``, while the start is before the close (half days end early; the last bar
    may be cut short by the close)."""
    if interval_ns <= 0:
        raise InputError("the bar size must be positive", column="data.bar")
    counts = -(-(sessions.close_ns - sessions.open_ns) // np.int64(interval_ns))
    counts = np.maximum(counts, 0)
    session = np.repeat(np.arange(len(sessions), dtype=np.int64), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    step = np.arange(len(session), dtype=np.int64) - first
    start_ns = sessions.open_ns[session] + step * np.int64(interval_ns)
    return Bars(start_ns=start_ns, session=session, interval_ns=int(interval_ns))


def extended_bar_grid(regular: Bars, sessions: Sessions, starts_ns: np.ndarray) -> Bars:
    """``regular`` plus the bar starts of ``starts_ns`` outside regular hours on a session's
    day (in the exchange's zone): pre-market bars that end by the open, and bars starting at
    or after the close. Each belongs to its day's session; starts on other days, or
    overlapping the open, are left out."""
    extra = np.setdiff1d(np.asarray(starts_ns, dtype=np.int64), regular.start_ns)
    local = (
        pd.DatetimeIndex(extra.view("datetime64[ns]")).tz_localize("UTC").tz_convert(sessions.tz)
    )
    day = local.tz_localize(None).normalize().as_unit("ns")
    session = pd.DatetimeIndex(sessions.dates).as_unit("ns").get_indexer(day).astype(np.int64)
    known = np.maximum(session, 0)
    before_open = extra + np.int64(regular.interval_ns) <= sessions.open_ns[known]
    after_close = extra >= sessions.close_ns[known]
    keep = (session >= 0) & (before_open | after_close)
    start_ns = np.concatenate([regular.start_ns, extra[keep]])
    order = np.argsort(start_ns, kind="stable")
    return Bars(
        start_ns=start_ns[order],
        session=np.concatenate([regular.session, session[keep]])[order],
        interval_ns=regular.interval_ns,
    )


def tradeable_bar(known_ns: np.ndarray, bars: Bars, latency_ns: int) -> np.ndarray:
    """Index of the first bar whose start is at or after each headline's known instant plus
    ``latency_ns`` (``len(bars)`` when none is loaded). On the regular-hours grid news outside
    hours trades at the next session's first bar; on an extended grid, at the next bar."""
    if latency_ns < 0:
        raise InputError(
            f"latency must not be negative (got {latency_ns} ns)",
            column="execution.latency",
            hint="use a duration such as 5min",
        )
    known_ns = np.asarray(known_ns, dtype=np.int64)
    return np.searchsorted(bars.start_ns - np.int64(latency_ns), known_ns, side="left").astype(
        np.int64
    )


def load_sessions(
    calendar: str, start: str | dt.date | pd.Timestamp, end: str | dt.date | pd.Timestamp
) -> Sessions:
    """Sessions of ``calendar`` (an exchange_calendars name such as XNYS) from start to end,
    both inclusive, as calendar dates."""
    first, last = _as_day(start, "start"), _as_day(end, "end")
    if first > last:
        raise InputError(
            f"the session range starts ({first:%Y-%m-%d}) after it ends ({last:%Y-%m-%d})",
            hint="check the start and end dates",
        )
    dates, open_ns, close_ns, tz = _schedule(str(calendar).upper(), first, last)
    return Sessions(dates=dates, open_ns=open_ns, close_ns=close_ns, calendar=calendar, tz=tz)


def known_at_ns(
    published_ns: np.ndarray,
    date_only: np.ndarray,
    sessions: Sessions,
    tz: str = "America/New_York",
) -> np.ndarray:
    """The instant (UTC epoch ns) each headline counts as known (step 2 of the module rules).

    ``tz`` is the time zone the date-only stamps were localised in (the loader's headlines_tz),
    used to recover their calendar day.
    """
    published_ns = np.asarray(published_ns, dtype=np.int64)
    date_only = np.asarray(date_only, dtype=bool)
    known = published_ns.copy()
    if not date_only.any():
        return known
    local_days = (
        pd.DatetimeIndex(published_ns[date_only].view("datetime64[ns]"))
        .tz_localize("UTC")
        .tz_convert(tz)
        .tz_localize(None)
        .normalize()
        .as_unit("ns")
    )
    days = local_days.to_numpy()
    dates = sessions.dates.astype("datetime64[ns]")
    position = np.searchsorted(dates, days)
    inside = position < len(dates)
    is_session = np.zeros(len(days), dtype=bool)
    is_session[inside] = dates[position[inside]] == days[inside]
    exchange_day_end = _midnight_after(local_days, sessions.tz)
    headline_day_end = _midnight_after(local_days, tz)
    close = sessions.close_ns[np.minimum(position, max(len(dates) - 1, 0))] if len(dates) else 0
    by_exchange = np.where(is_session, close, exchange_day_end)
    # A headline zone west of the exchange's: its day ends after the exchange's day does.
    known[date_only] = np.where(headline_day_end > exchange_day_end, headline_day_end, by_exchange)
    return known


def tradeable_session(
    known_ns: np.ndarray,
    sessions: Sessions,
    at: str = "open",
    latency_ns: int = DEFAULT_LATENCY_NS,
) -> np.ndarray:
    """Index into ``sessions`` of the first session whose execution price may use each headline
    (step 3); ``len(sessions)`` when no loaded session qualifies."""
    known_ns = np.asarray(known_ns, dtype=np.int64)
    if latency_ns < 0:
        raise InputError(
            f"latency must not be negative (got {latency_ns} ns)",
            column="execution.latency",
            hint="use a duration such as 5min",
        )
    if at == "open":
        deadline_ns = sessions.open_ns - np.int64(latency_ns)
        return np.searchsorted(deadline_ns, known_ns, side="right").astype(np.int64)
    if at == "close":
        deadline_ns = sessions.close_ns - np.int64(latency_ns)
        return np.searchsorted(deadline_ns, known_ns, side="left").astype(np.int64)
    raise InputError(
        f"unknown execution time '{at}'", column="execution.at", hint="use 'open' or 'close'"
    )


def _midnight_after(days: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """UTC epoch ns of the midnight that ends each naive calendar day in ``tz``."""
    later = np.zeros(len(days), dtype=bool)
    next_midnight = (days + pd.Timedelta(days=1)).tz_localize(
        tz, ambiguous=later, nonexistent="shift_forward"
    )
    return next_midnight.tz_convert("UTC").as_unit("ns").asi8


def _as_day(value: str | dt.date | pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"cannot read the {name} date {value!r}", hint="use YYYY-MM-DD") from None
    if day is pd.NaT:
        raise InputError(f"missing {name} date", hint="use YYYY-MM-DD")
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    return day.normalize()


@lru_cache(maxsize=16)
def _schedule(
    calendar: str, first: pd.Timestamp, last: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Session dates, opens and closes (UTC ns) and the exchange's zone, kept on disk per
    calendar, range and exchange_calendars version: building a calendar costs ~0.4 s a
    process, reading it back ~1 ms. An unreadable or unwritable cache is rebuilt or skipped."""
    from importlib.metadata import version

    name = f"{calendar}-{first:%Y%m%d}-{last:%Y%m%d}-xcals{version('exchange_calendars')}.npz"
    cached = cache_subdir("calendars") / name
    try:
        with np.load(cached, allow_pickle=False) as stored:
            arrays = stored["dates"], stored["open_ns"], stored["close_ns"]
            tz = str(stored["tz"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        arrays, tz = _build_schedule(calendar, first, last)
        _store(cached, arrays, tz)
    for array in arrays:
        array.flags.writeable = False
    return (*arrays, tz)


def _store(path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray], tz: str) -> None:
    """Write a schedule atomically (a half-written file is never read); skip when unwritable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with partial.open("wb") as f:
            np.savez(f, dates=arrays[0], open_ns=arrays[1], close_ns=arrays[2], tz=np.str_(tz))
        os.replace(partial, path)
    except OSError:
        pass


def _build_schedule(
    calendar: str, first: pd.Timestamp, last: pd.Timestamp
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], str]:
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.13 reads tz-aware Series.values, deprecated in pandas 3.1.
            warnings.filterwarnings(
                "ignore", message=r"Series\.values returning an ndarray that drops timezone"
            )
            exchange = xcals.get_calendar(
                calendar, start=first - pd.Timedelta(days=7), end=last + pd.Timedelta(days=7)
            )
    except xcals.errors.InvalidCalendarName:
        raise InputError(
            f"unknown exchange calendar '{calendar}'",
            column="calendar",
            hint="use an exchange_calendars name such as XNYS (New York), XLON or XTKS",
        ) from None
    except ValueError as error:
        raise InputError(
            f"calendar {calendar} cannot cover {first:%Y-%m-%d} to {last:%Y-%m-%d} ({error})",
            hint="narrow the date range",
        ) from None
    schedule = exchange.schedule.loc[first:last]
    index = pd.DatetimeIndex(schedule.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    dates = index.as_unit("ns").to_numpy()
    open_ns = pd.DatetimeIndex(schedule["open"]).tz_convert("UTC").as_unit("ns").asi8.copy()
    close_ns = pd.DatetimeIndex(schedule["close"]).tz_convert("UTC").as_unit("ns").asi8.copy()
    return (dates, open_ns, close_ns), str(exchange.tz)
