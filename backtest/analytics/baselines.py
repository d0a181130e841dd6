"""Baselines that keep a backtest honest: would luck have done as well?

Two questions, both seeded (a rerun gives the same numbers) and cheap (numba kernels over all
draws at once, kernels/baselines.py):

1. **Random timing.** ``random_runs`` strategies hold each ticker's very holding periods (its
   runs of long, short and flat sessions, a book's weights within each run carried along) in a
   random order (kernels.shuffle_runs): the same exposure per ticker and side, the same number
   of trades up to neighbouring runs merging, only the timing is luck. All of them,
   and the strategy's own holdings, are valued by one simple accounting, so the strategy is
   ranked against its shuffles on equal terms: for sleeves kernels.sleeve_returns (equal
   sleeves, each compounding position x the return from one execution price to the next, minus
   fees + slippage per unit of position change), for a book kernels.book_returns (the sum of
   weight x return less the same costs on the change of weights). A shuffled book keeps every
   name's weights but not the session's gross or net exposure. Reported: the strategy's Sharpe
   under that accounting, its percentile among the random Sharpes (share below, ties counted
   half) and the random Sharpes' 5%, 50% and 95% quantiles.
2. **Bootstrap.** A stationary block bootstrap (Politis and Romano 1994, mean block length
   ``block_sessions``) resamples the strategy's and the benchmark's daily returns with the same
   indices (pairs stay paired), ``bootstrap_runs`` times. Reported: 95% intervals (2.5% and
   97.5% quantiles) of the strategy's Sharpe, the benchmark's, and the strategy's Sharpe minus
   the benchmark's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from backtest.analytics.stats import FLAT_RETURNS_SD, PERIODS_PER_YEAR
from backtest.kernels.baselines import (
    book_returns,
    shuffle_runs,
    sleeve_returns,
    stationary_bootstrap_indices,
)

RANDOM_BAND = (5.0, 95.0)
"""Percentiles of the random-timing Sharpes reported as their band."""
BOOTSTRAP_LEVELS = (2.5, 97.5)
"""Percentiles of the bootstrap Sharpes reported as the 95% interval."""


@dataclass(frozen=True)
class RandomTiming:
    """Where the strategy's Sharpe falls among ``runs`` random-timing strategies."""

    runs: int
    strategy_sharpe: float | None
    """The strategy's Sharpe under the baseline's own accounting (module docstring)."""
    percentile: float | None
    """0..100: share of random Sharpes below the strategy's, ties counted half."""
    p5: float | None
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class BootstrapInterval:
    """95% stationary block bootstrap intervals of Sharpe ratios."""

    runs: int
    block_sessions: float
    sharpe_low: float | None
    sharpe_high: float | None
    benchmark_sharpe_low: float | None
    benchmark_sharpe_high: float | None
    excess_low: float | None
    """Strategy Sharpe minus benchmark Sharpe, same resampled sessions, 2.5% quantile."""
    excess_high: float | None


def sharpe_rows(returns: np.ndarray, periods_per_year: int = PERIODS_PER_YEAR) -> np.ndarray:
    """Sharpe ratio of each row of ``returns`` (stats.sharpe_ratio's definition); NaN where the
    row's standard deviation is below ``FLAT_RETURNS_SD`` or it has fewer than two values."""
    r = np.atleast_2d(np.asarray(returns, dtype=np.float64))
    out = np.full(r.shape[0], np.nan)
    if r.shape[1] < 2:
        return out
    sd = r.std(axis=1, ddof=1)
    ok = sd >= FLAT_RETURNS_SD
    out[ok] = r[ok].mean(axis=1) / sd[ok] * math.sqrt(periods_per_year)
    return out


def random_timing(
    holdings: np.ndarray,
    tradable: np.ndarray,
    traded_returns: np.ndarray,
    *,
    cost: float,
    runs: int,
    seed: int,
    book: bool = False,
) -> RandomTiming:
    """Rank the strategy's Sharpe among ``runs`` shuffles of its holding periods.

    ``holdings`` (T, K): sides in {-1, 0, 1} for sleeves, or a book's target weights with
    ``book``; ``tradable`` (T, K) where an order can fill, ``traded_returns`` (T, K) execution
    price t to t+1, ``cost`` fees + slippage per unit traded. With ``runs == 0`` only the
    strategy's baseline Sharpe is computed.
    """
    pos = np.ascontiguousarray(holdings, dtype=np.float64)
    rets = np.ascontiguousarray(traded_returns, dtype=np.float64)
    value = book_returns if book else sleeve_returns
    own = sharpe_rows(value(pos[None], rets, float(cost)))[0]
    strategy = None if np.isnan(own) else float(own)
    if runs == 0:
        return RandomTiming(0, strategy, None, None, None, None)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    keys = rng.random((runs, pos.shape[1], pos.shape[0]))
    shuffled = shuffle_runs(pos, np.ascontiguousarray(tradable, dtype=np.bool_), keys)
    sharpes = sharpe_rows(value(shuffled, rets, float(cost)))
    valid = sharpes[np.isfinite(sharpes)]
    if strategy is None or len(valid) == 0:
        return RandomTiming(runs, strategy, None, None, None, None)
    below = float(np.sum(valid < strategy)) + 0.5 * float(np.sum(valid == strategy))
    p5, p50, p95 = np.percentile(valid, [RANDOM_BAND[0], 50.0, RANDOM_BAND[1]])
    return RandomTiming(
        runs=runs,
        strategy_sharpe=strategy,
        percentile=100.0 * below / len(valid),
        p5=float(p5),
        p50=float(p50),
        p95=float(p95),
    )


def block_bootstrap(
    returns: np.ndarray,
    benchmark_returns: np.ndarray,
    *,
    runs: int,
    block_sessions: float,
    seed: int,
) -> BootstrapInterval:
    """Stationary block bootstrap intervals of the Sharpe, the benchmark's and their difference.

    ``returns`` and ``benchmark_returns`` are the daily returns of the same sessions (NaN pairs
    are dropped); ``block_sessions`` is the mean block length (>= 1).
    """
    r = np.asarray(returns, dtype=np.float64)
    b = np.asarray(benchmark_returns, dtype=np.float64)
    keep = np.isfinite(r) & np.isfinite(b)
    r, b = r[keep], b[keep]
    n = len(r)
    if runs == 0 or n < 2:
        return BootstrapInterval(runs, block_sessions, *([None] * 6))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    starts = rng.integers(0, n, size=(runs, n))
    uniforms = rng.random((runs, n))
    index = stationary_bootstrap_indices(starts, uniforms, 1.0 / float(block_sessions))
    strategy, bench = sharpe_rows(r[index]), sharpe_rows(b[index])
    low, high = _interval(strategy)
    bench_low, bench_high = _interval(bench)
    excess_low, excess_high = _interval(strategy - bench)
    return BootstrapInterval(
        runs, float(block_sessions), low, high, bench_low, bench_high, excess_low, excess_high
    )


def _interval(values: np.ndarray) -> tuple[float | None, float | None]:
    """The BOOTSTRAP_LEVELS quantiles of the finite values (None, None without any)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None, None
    low, high = np.percentile(finite, BOOTSTRAP_LEVELS)
    return float(low), float(high)


def baselines_block(timing: RandomTiming, bootstrap: BootstrapInterval) -> dict[str, Any]:
    """stats.json's ``baselines``: the two results as plain data."""
    return {"random_timing": asdict(timing), "bootstrap": asdict(bootstrap)}
