"""Intraday event study: what bull and bear news did to prices 1 to 60 minutes after the bar a
trader could first act on, and by the session's close.

1. A news event is a (bar, ticker) whose counted headlines tradeable at that bar sum to a
   positive (bull) or negative (bear) score; the event price is that bar's open.
2. At each horizon h (minutes) the price is the open of the first bar starting at or after the
   event bar's start + h, in the same session; a horizon past the session's last bar, and
   "close", take the session's last close (with ``data.extended_hours``, its last after-hours
   bar's).
3. Abnormal return = the ticker's return from the event price minus the equal-weight mean of
   every ticker's return over the same bars (those with both prices), or minus a benchmark
   ticker's return over them (``report.benchmark_ticker``; the benchmark's own events are left
   out). Events whose ticker, or benchmark, lacks either price are left out.
4. Per side: mean abnormal return per horizon with its standard error across events.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backtest.analytics.blocks import row_blocks

INTRADAY_MINUTES = (1, 5, 15, 30, 60)
"""Horizons of the intraday event study, in minutes after the event bar's start."""


def horizon_rows(
    start_ns: np.ndarray, session: np.ndarray, rows: np.ndarray, minutes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(rows at each horizon, each event's session-last row); the horizon row is the first bar
    starting at or after the event's start + h in its session, else the session's last bar
    (whose close is then the price: ``at_close`` True)."""
    last_of_session = np.searchsorted(session, session[rows], side="right") - 1
    targets = start_ns[rows][:, None] + np.array(minutes, dtype=np.int64)[None, :] * 60 * 10**9
    found = np.searchsorted(start_ns, targets, side="left")
    beyond = found > last_of_session[:, None]
    return np.where(beyond, -1, found), last_of_session


def intraday_event_study(
    open_: np.ndarray,
    close: np.ndarray,
    start_ns: np.ndarray,
    session: np.ndarray,
    event_rows: np.ndarray,
    event_columns: np.ndarray,
    direction: np.ndarray,
    minutes: tuple[int, ...] = INTRADAY_MINUTES,
    benchmark_column: int | None = None,
) -> dict[str, Any]:
    """Per side (bull, bear): events, horizons (minutes, then "close"), mean abnormal return
    and its standard error (module docstring); against the equal-weight mean of every column,
    or against ``benchmark_column``."""
    if benchmark_column is not None:
        own = event_columns != benchmark_column
        event_rows, event_columns, direction = event_rows[own], event_columns[own], direction[own]
    found, last = horizon_rows(start_ns, session, event_rows, minutes)
    labels = [*(str(m) for m in minutes), "close"]
    n_h = len(labels)
    ticker_ret = np.full((len(event_rows), n_h), np.nan)
    market_ret = np.full((len(event_rows), n_h), np.nan)
    # Events a block at a time: each step holds a few (events x tickers) arrays, 3 events per
    # ticker and session of 500 tickers would be ~1.5 GB apiece at once.
    for block in row_blocks(len(event_rows), open_.shape[1]):
        _returns_after(
            open_,
            close,
            event_rows[block],
            event_columns[block],
            found[block],
            last[block],
            len(minutes),
            benchmark_column,
            ticker_ret[block],
            market_ret[block],
        )
    abnormal = ticker_ret - market_ret
    out: dict[str, Any] = {"horizons": labels}
    for name, side in (("bull", 1), ("bear", -1)):
        mine = abnormal[direction == side]
        mine = mine[np.isfinite(mine).all(axis=1)]
        n = len(mine)
        out[name] = (
            None
            if n == 0
            else {
                "events": n,
                "car": [float(v) for v in mine.mean(axis=0)],
                "se": [
                    float(v) if n > 1 else math.nan
                    for v in (mine.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(n_h))
                ],
            }
        )
    return out


def _returns_after(
    open_: np.ndarray,
    close: np.ndarray,
    event_rows: np.ndarray,
    event_columns: np.ndarray,
    found: np.ndarray,
    last: np.ndarray,
    n_minutes: int,
    benchmark_column: int | None,
    ticker_ret: np.ndarray,
    market_ret: np.ndarray,
) -> None:
    """Steps 2-3 for a block of events: each horizon's own and market return, into
    ``ticker_ret`` and ``market_ret`` (views of the block's rows)."""
    base_all = open_[event_rows]
    for j in range(n_minutes + 1):
        at_close = found[:, j] < 0 if j < n_minutes else np.ones(len(event_rows), bool)
        row = np.where(at_close, last, found[:, j] if j < n_minutes else last)
        later = np.where(at_close[:, None], close[row], open_[row])
        with np.errstate(divide="ignore", invalid="ignore"):
            every = later / base_all - 1.0
        ticker_ret[:, j] = every[np.arange(len(event_rows)), event_columns]
        if benchmark_column is not None:
            market_ret[:, j] = every[:, benchmark_column]
            continue
        usable = np.isfinite(every)
        counts = usable.sum(axis=1)
        sums = np.where(usable, every, 0.0).sum(axis=1)
        market_ret[:, j] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
