"""Long price rows -> wide session x ticker arrays on the exchange's session grid.

Missing sessions stay missing (NaN): nothing is forward-filled here, so no order can fill on a
price that did not trade.

Intraday bars (prices with a ``timestamp`` column): the rows are the regular-hours bars of the
exchange's sessions (calendar.bar_grid) at the bar size given (``data.bar``) or detected (the
most common gap between a ticker's consecutive bars within a day). Bars outside regular hours,
or off the grid, are dropped with a warning; missing bars stay missing. With
``data.extended_hours`` the bars the data has outside regular hours on session days join the
grid (calendar.extended_bar_grid), each in its day's session.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.calendar import Bars, Sessions, bar_grid, extended_bar_grid
from backtest.errors import InputError


@dataclass(frozen=True)
class PricePanel:
    """Prices as (n_sessions, n_tickers) float64 arrays aligned to ``sessions``."""

    sessions: Sessions
    tickers: tuple[str, ...]
    open: np.ndarray
    close: np.ndarray
    quoted_close: np.ndarray
    """The close as given, for readings ("last traded near"), whatever the adjustment."""
    bars: Bars | None = None
    """Intraday prices: the rows are these bars (None: the rows are the sessions)."""
    high: np.ndarray | None = None
    """The session's high (scaled like open and close), NaN where the prices have none; read
    only by the stop-loss and take-profit checks."""
    low: np.ndarray | None = None
    """The session's low, as ``high``."""

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Session dates as a DatetimeIndex; bar starts in the exchange's time zone for bars."""
        if self.bars is not None:
            return (
                pd.DatetimeIndex(self.bars.start_ns.view("datetime64[ns]"), name="timestamp")
                .tz_localize("UTC")
                .tz_convert(self.sessions.tz)
            )
        return pd.DatetimeIndex(self.sessions.dates, name="date")

    @property
    def row_session(self) -> np.ndarray:
        """The session (index into ``sessions``) of every row."""
        if self.bars is not None:
            return self.bars.session
        return np.arange(len(self.sessions), dtype=np.int64)

    def exec_price(self, at: str) -> np.ndarray:
        """The price trades fill at: the session's open or close."""
        return self.open if at == "open" else self.close


def build_panel(
    prices: pd.DataFrame,
    sessions: Sessions,
    *,
    adjust: str,
    source: str,
    bar: str = "",
    extended_hours: bool = False,
) -> PricePanel:
    """Pivot validated long prices onto the session grid, applying the total-return adjustment.

    ``adjust="total_return"`` scales open and close by adj_close / close, so dividends count; rows
    without adj_close keep the prices as given. Rows on dates that are not sessions of the
    calendar are dropped with a warning naming how many. Intraday bars go onto the bar grid
    (module docstring; ``bar`` is the bar size, "" to detect it; ``extended_hours`` keeps the
    bars outside regular hours).
    """
    if "timestamp" in prices.columns:
        return build_bar_panel(
            prices, sessions, adjust=adjust, source=source, bar=bar, extended_hours=extended_hours
        )
    grid = pd.DatetimeIndex(sessions.dates)
    on_grid = prices["date"].isin(grid)
    if not on_grid.all():
        dropped = prices.loc[~on_grid, "date"]
        warnings.warn(
            f"{source}: {int((~on_grid).sum())} price rows fall on dates that are not "
            f"{sessions.calendar} sessions (first {dropped.min():%Y-%m-%d}); they are ignored",
            stacklevel=2,
        )
        prices = prices.loc[on_grid]
    frame = pd.DataFrame(
        {
            "date": prices["date"].to_numpy(),
            "ticker": prices["ticker"].to_numpy(),
            **adjusted_columns(prices, adjust),
        }
    )
    tickers = tuple(sorted(frame["ticker"].unique()))
    wide = frame.pivot(index="date", columns="ticker").reindex(index=grid)

    def block(column: str) -> np.ndarray:
        return np.ascontiguousarray(
            wide[column].reindex(columns=list(tickers)).to_numpy(np.float64)
        )

    return PricePanel(
        sessions=sessions,
        tickers=tickers,
        open=block("open"),
        close=block("close"),
        quoted_close=block("quoted_close"),
        high=block("high"),
        low=block("low"),
    )


def build_bar_panel(
    prices: pd.DataFrame,
    sessions: Sessions,
    *,
    adjust: str,
    source: str,
    bar: str,
    extended_hours: bool = False,
) -> PricePanel:
    """Intraday bars onto the bar grid of ``sessions``: regular hours, or with
    ``extended_hours`` also the data's bars before the open and after the close (module
    docstring)."""
    from backtest.config import _parse_duration_ns

    start_ns = prices["timestamp"].to_numpy("datetime64[ns]").view(np.int64)
    interval_ns = _parse_duration_ns(bar) if bar else detect_bar_ns(prices, start_ns, source)
    bars = bar_grid(sessions, interval_ns)
    if extended_hours:
        bars = extended_bar_grid(bars, sessions, start_ns)
    row = np.searchsorted(bars.start_ns, start_ns)
    on_grid = row < len(bars)
    on_grid[on_grid] = bars.start_ns[row[on_grid]] == start_ns[on_grid]
    if not on_grid.all():
        first = pd.Timestamp(start_ns[~on_grid].min()).tz_localize("UTC").tz_convert(sessions.tz)
        where = (
            f"on days that are not {sessions.calendar} sessions or overlap an open"
            if extended_hours
            else f"outside the regular hours of {sessions.calendar} sessions"
        )
        warnings.warn(
            f"{source}: {int((~on_grid).sum())} bars fall {where} or off the "
            f"{interval_ns // 60_000_000_000 or 1}-minute grid (first "
            f"{first:%Y-%m-%d %H:%M %Z}); they are ignored"
            + ("" if extended_hours else " (data.extended_hours = true keeps them)"),
            stacklevel=3,
        )
    column, names = pd.factorize(prices["ticker"], sort=True)
    tickers = tuple(str(name) for name in names)
    row, column = row[on_grid], column[on_grid]
    columns = adjusted_columns(prices, adjust, with_range=False)

    def block(name: str) -> np.ndarray:
        out = np.full((len(bars), len(tickers)), np.nan)
        out[row, column] = columns[name][on_grid]
        return out

    close = block("close")
    unadjusted = columns["quoted_close"] is columns["close"]
    return PricePanel(
        sessions=sessions,
        tickers=tickers,
        open=block("open"),
        close=close,
        quoted_close=close if unadjusted else block("quoted_close"),
        bars=bars,
    )


def adjusted_columns(
    prices: pd.DataFrame, adjust: str, *, with_range: bool = True
) -> dict[str, np.ndarray]:
    """open, close, high and low as traded, scaled by adj_close / close for
    ``adjust="total_return"`` (rows without adj_close keep their prices), and the close as
    given (quoted_close: the same array as close when no row is scaled). ``with_range=False``
    leaves out high and low (bars: only the stops read them, and stops need daily prices)."""
    close = prices["close"].to_numpy(dtype=np.float64)
    factor = None
    if adjust == "total_return":
        factor = prices["adj_close"].to_numpy(dtype=np.float64) / close
        factor = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
        if (factor == 1.0).all():
            factor = None
    names = ("open", "high", "low") if with_range else ("open",)
    if factor is None:
        out = {name: prices[name].to_numpy(dtype=np.float64) for name in names}
        return {**out, "close": close, "quoted_close": close}
    out = {name: prices[name].to_numpy(dtype=np.float64) * factor for name in names}
    return {**out, "close": close * factor, "quoted_close": close}


def detect_bar_ns(prices: pd.DataFrame, start_ns: np.ndarray, source: str) -> int:
    """The most common gap between a ticker's consecutive bars on the same day."""
    ticker = pd.factorize(prices["ticker"])[0]
    day = prices["date"].to_numpy("datetime64[ns]").view(np.int64)
    if not _sorted_by(ticker, start_ns):
        order = np.lexsort((start_ns, ticker))
        ticker, day, start_ns = ticker[order], day[order], start_ns[order]
    same = (ticker[1:] == ticker[:-1]) & (day[1:] == day[:-1])
    gaps = np.diff(start_ns)[same]
    gaps = gaps[gaps > 0]
    if len(gaps) == 0:
        raise InputError(
            "cannot tell the bar size: no ticker has two bars on one day",
            file=source,
            column="timestamp",
            hint='set data.bar, e.g. --set data.bar="5min"',
        )
    values, counts = np.unique(gaps, return_counts=True)
    return int(values[np.argmax(counts)])


def _sorted_by(key: np.ndarray, then: np.ndarray) -> bool:
    """Whether rows are sorted by ``key``, then by ``then`` (as loaded prices are)."""
    step = np.diff(key)
    return bool((step >= 0).all() and (np.diff(then)[step == 0] >= 0).all())
