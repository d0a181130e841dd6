"""The book's legs: what the names held long and the names held short did, and their spread.

From the target weights (signals.csv's ``weight``) and the return from each session's execution
price to the next (returns.csv's ``traded_return``), before costs:

- long leg return at t: ``sum_{w>0} w * r / sum_{w>0} w`` (the long basket, weighted as held);
- short leg return at t: ``sum_{w<0} |w| * r / sum_{w<0} |w|``, the shorted names' own return
  (positive when they rose, which costs a short book);
- spread at t: long leg minus short leg (what a dollar-neutral book of the two earns per unit
  in each leg); a session without names in a leg counts 0 for it.

Each leg is summarised like an equity curve (total and annual return, Sharpe; stats.py's
definitions) compounding its session returns from 1. Also the mean gross (sum |w|) and net
(sum w) exposure and the mean number of names in each leg.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtest.analytics.stats import annual_return, sharpe_ratio, total_return


def leg_returns(weights: np.ndarray, returns: np.ndarray) -> dict[str, np.ndarray]:
    """Session returns of the long leg, the short leg and their spread (module docstring)."""
    w = np.asarray(weights, dtype=np.float64)
    r = np.nan_to_num(np.asarray(returns, dtype=np.float64))
    out = {}
    for name, mask in (("long_leg", w > 0), ("short_leg", w < 0)):
        size = np.where(mask, np.abs(w), 0.0)
        total = size.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(total > 0, (size * r).sum(axis=1) / total, 0.0)
    out["spread"] = out["long_leg"] - out["short_leg"]
    return out


def _curve(returns: np.ndarray, dates: pd.DatetimeIndex) -> dict[str, float | None]:
    """Total and annual return and Sharpe of a leg compounding its session returns from 1."""
    curve = pd.Series(np.concatenate([[1.0], np.cumprod(1.0 + returns)]))
    return {
        "total_return": total_return(curve),
        "annual_return": annual_return(curve),
        "sharpe": sharpe_ratio(returns),
    }


def portfolio_block(
    construction: str,
    weights: np.ndarray,
    returns: np.ndarray,
    dates: pd.DatetimeIndex,
    turnover: float | None,
) -> dict[str, Any]:
    """stats.json's ``portfolio``: the construction, its legs and exposures, and turnover."""
    w = np.asarray(weights, dtype=np.float64)
    legs = leg_returns(w, returns)
    return {
        "construction": construction,
        **{name: _curve(series, dates) for name, series in legs.items()},
        "gross_exposure": float(np.abs(w).sum(axis=1).mean()) if w.size else None,
        "net_exposure": float(w.sum(axis=1).mean()) if w.size else None,
        "names_long": float((w > 0).sum(axis=1).mean()) if w.size else None,
        "names_short": float((w < 0).sum(axis=1).mean()) if w.size else None,
        "turnover": turnover,
    }
