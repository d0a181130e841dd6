"""Factor-research readings of the composite, alphalens-style (our own code, no alphalens).

Both use the return a trader can earn from the decision: ``forward_returns(exec_price, h)``,
session t's execution price to session t+h's (open to open for open execution), NaN where
either price is missing or t+h leaves the price data (a run's last sessions read the
prices after its period, as the report's IC does).

- **Quantile returns.** Each session, the tickers with a composite and a next-session return
  (at least ``quantiles`` of them) are ranked by composite (ties share their average rank)
  and cut into ``quantiles`` equal groups: ticker of average rank r (1..n) goes to quantile
  ``ceil(r * q / n)``. Per quantile: the mean next-session return over sessions of its
  per-session mean. Spread: per session, the top quantile's mean minus the bottom one's; its
  mean, and its t-statistic (mean over standard error across sessions).
- **IC decay.** Per horizon h in ``IC_HORIZONS``: the per-session Spearman correlation across
  tickers of the composite at t with the h-session forward return (at least
  ``MIN_TICKERS_FOR_IC`` tickers); its mean, sessions and t-statistic. For h > 1 the forward
  returns of neighbouring sessions overlap, so that t-statistic overstates the evidence about
  sqrt(h)-fold, as alphalens' does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from backtest.analytics.events import MIN_TICKERS_FOR_IC, average_ranks, spearman_by_row

QUANTILES = 5
IC_HORIZONS = (1, 2, 5, 10)


@dataclass(frozen=True)
class QuantileReturns:
    """Mean next-session return per composite quantile (bottom first) and the top-minus-bottom
    spread; None where undefined."""

    quantiles: int
    sessions: int
    mean_return: list[float | None]
    mean_names: list[float | None]
    """Average number of tickers per session in each quantile."""
    spread_mean: float | None
    spread_t_stat: float | None


@dataclass(frozen=True)
class IcDecay:
    """Mean cross-sectional IC of the composite per forward horizon (sessions)."""

    horizons: list[int]
    mean: list[float | None]
    t_stat: list[float | None]
    sessions: list[int]


def forward_returns(exec_price: np.ndarray, horizon: int) -> np.ndarray:
    """(T, K): ``exec_price[t + horizon] / exec_price[t] - 1``; NaN past the end or where a
    price is missing or not positive."""
    p = np.asarray(exec_price, dtype=np.float64)
    p = np.where(np.isfinite(p) & (p > 0), p, np.nan)
    out = np.full(p.shape, np.nan)
    if horizon < len(p):
        out[: len(p) - horizon] = p[horizon:] / p[: len(p) - horizon] - 1.0
    return out


def quantile_assignments(values: np.ndarray, quantiles: int = QUANTILES) -> np.ndarray:
    """Quantile 1..q of each finite value of one session (0 for NaN, or all 0 with fewer than
    ``quantiles`` finite values): ``ceil(average_rank * q / n)``."""
    x = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(x), dtype=np.int64)
    ok = np.isfinite(x)
    n = int(ok.sum())
    if n < quantiles:
        return out
    ranks = average_ranks(x[ok])
    out[ok] = np.ceil(ranks * quantiles / n - 1e-9).astype(np.int64)
    return out


def _mean_t(series: np.ndarray) -> tuple[float | None, float | None]:
    """Mean and t-statistic (mean over sd / sqrt(n)) of the finite values."""
    s = series[np.isfinite(series)]
    if len(s) == 0:
        return None, None
    mean = float(s.mean())
    if len(s) < 2:
        return mean, None
    sd = float(s.std(ddof=1))
    return mean, (mean / (sd / math.sqrt(len(s))) if sd > 0 else None)


def quantile_returns(
    composite: np.ndarray, next_returns: np.ndarray, quantiles: int = QUANTILES
) -> QuantileReturns:
    """Mean next-session return by composite quantile, and the top-minus-bottom spread."""
    c = np.asarray(composite, dtype=np.float64)
    r = np.asarray(next_returns, dtype=np.float64)
    usable = np.isfinite(c) & np.isfinite(r)
    n_sessions = c.shape[0]
    means = np.full((n_sessions, quantiles), np.nan)
    names = np.zeros((n_sessions, quantiles))
    for t in range(n_sessions):
        q = quantile_assignments(np.where(usable[t], c[t], np.nan), quantiles)
        if not q.any():
            continue
        counts = np.bincount(q, minlength=quantiles + 1)[1:]
        sums = np.bincount(q, weights=np.where(q > 0, r[t], 0.0), minlength=quantiles + 1)[1:]
        names[t] = counts
        with np.errstate(invalid="ignore", divide="ignore"):
            means[t] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    used = np.isfinite(means).any(axis=1)
    spread_mean, spread_t = _mean_t(means[used, -1] - means[used, 0])
    per_quantile = [_mean_t(means[used, j])[0] for j in range(quantiles)]
    per_names = [float(names[used, j].mean()) if used.any() else None for j in range(quantiles)]
    return QuantileReturns(
        quantiles=quantiles,
        sessions=int(used.sum()),
        mean_return=per_quantile,
        mean_names=per_names,
        spread_mean=spread_mean,
        spread_t_stat=spread_t,
    )


def ic_decay(composite: np.ndarray, forward: Mapping[int, np.ndarray]) -> IcDecay:
    """Mean per-session Spearman IC of the composite with each horizon's forward return
    (``forward[h]``, aligned with ``composite``), horizons in ascending order."""
    c = np.asarray(composite, dtype=np.float64)
    horizons = sorted(forward)
    means: list[float | None] = []
    t_stats: list[float | None] = []
    sessions: list[int] = []
    for h in horizons:
        ic = spearman_by_row(c, np.asarray(forward[h], dtype=np.float64), MIN_TICKERS_FOR_IC)
        mean, t = _mean_t(ic)
        means.append(mean)
        t_stats.append(t)
        sessions.append(int(np.isfinite(ic).sum()))
    return IcDecay(horizons=list(horizons), mean=means, t_stat=t_stats, sessions=sessions)


def quantiles_block(quantile: QuantileReturns, decay: IcDecay) -> dict[str, Any]:
    """stats.json's ``quantile_returns`` and ``ic_decay`` as plain data."""
    return {"quantile_returns": asdict(quantile), "ic_decay": asdict(decay)}
