"""Long price rows -> wide session x ticker arrays on the exchange's session grid.

Missing sessions stay missing (NaN): nothing is forward-filled here, so no order can fill on a
price that did not trade.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.calendar import Sessions


@dataclass(frozen=True)
class PricePanel:
    """Prices as (n_sessions, n_tickers) float64 arrays aligned to ``sessions``."""

    sessions: Sessions
    tickers: tuple[str, ...]
    open: np.ndarray
    close: np.ndarray
    quoted_close: np.ndarray
    """The close as given, for readings ("last traded near"), whatever the adjustment."""
    high: np.ndarray | None = None
    """The session's high (scaled like open and close), NaN where the prices have none; read
    only by the stop-loss and take-profit checks."""
    low: np.ndarray | None = None
    """The session's low, as ``high``."""

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Session dates as a DatetimeIndex."""
        return pd.DatetimeIndex(self.sessions.dates, name="date")

    def exec_price(self, at: str) -> np.ndarray:
        """The price trades fill at: the session's open or close."""
        return self.open if at == "open" else self.close


def build_panel(
    prices: pd.DataFrame, sessions: Sessions, *, adjust: str, source: str
) -> PricePanel:
    """Pivot validated long prices onto the session grid, applying the total-return adjustment.

    ``adjust="total_return"`` scales open and close by adj_close / close, so dividends count; rows
    without adj_close keep the prices as given. Rows on dates that are not sessions of the
    calendar are dropped with a warning naming how many.
    """
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
    open_ = prices["open"].to_numpy(dtype=np.float64)
    close = prices["close"].to_numpy(dtype=np.float64)
    high = prices["high"].to_numpy(dtype=np.float64)
    low = prices["low"].to_numpy(dtype=np.float64)
    if adjust == "total_return":
        factor = prices["adj_close"].to_numpy(dtype=np.float64) / close
        factor = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
        open_, adj_close = open_ * factor, close * factor
        high, low = high * factor, low * factor
    else:
        adj_close = close
    frame = pd.DataFrame(
        {
            "date": prices["date"].to_numpy(),
            "ticker": prices["ticker"].to_numpy(),
            "open": open_,
            "close": adj_close,
            "quoted_close": close,
            "high": high,
            "low": low,
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
