"""Price momentum 0..100 from the risk-adjusted return, using only closes known at decision time."""

from __future__ import annotations

import math

import numba
import numpy as np

Z_CAP = 8.0
"""Largest |z| the momentum score uses; a zero-volatility window with a non-zero drift gets it."""


@numba.njit(cache=True)
def momentum_score(close: np.ndarray, lookback_sessions: int, lag_sessions: int) -> np.ndarray:
    """Momentum per (session, ticker) on 0..100 (50 = flat) from the t-statistic of log returns.

    For row t the window ends at session ``e = t - lag_sessions``: lag 1 for execution at the
    open (the decision before session t's open knows closes up to t-1), lag 0 for execution at the
    close (closes up to t). Nothing after e is read, so momentum is point-in-time.

    1. Daily log returns ``r_j = log(close[j]) - log(close[j - 1])`` (= log of the ratio, without
       overflow) for j in ``e - lookback_sessions + 1 .. e`` with j >= 1, kept only when both
       closes are finite and > 0. Missing sessions stay missing: a return across a NaN is
       skipped, not bridged.
    2. n = number of kept returns. If ``n < max(2, lookback_sessions // 2)`` the score is NaN
       (not enough history); so are rows with e < 1.
    3. ``z = sum(r) / (sd(r, ddof=1) * sqrt(n))`` (mean over its standard error); when sd == 0,
       z = 0 if sum(r) == 0 else sign(sum(r)) * 8. z is capped to [-8, 8].
    4. ``score = 100 * Phi(z)`` with Phi the standard normal CDF, 0.5 * (1 + erf(z / sqrt(2))).

    Cost O(n_sessions * n_tickers * lookback_sessions). Raises ValueError if
    ``lookback_sessions < 2`` or ``lag_sessions < 0``.
    """
    if lookback_sessions < 2:
        raise ValueError("lookback_sessions must be >= 2")
    if lag_sessions < 0:
        raise ValueError("lag_sessions must be >= 0")
    n_sessions, n_tickers = close.shape
    min_returns = max(2, lookback_sessions // 2)
    out = np.full((n_sessions, n_tickers), np.nan, dtype=np.float64)
    log_close = np.empty(n_sessions, dtype=np.float64)
    day_return = np.empty(n_sessions, dtype=np.float64)
    returns = np.empty(lookback_sessions, dtype=np.float64)
    for k in range(n_tickers):
        for j in range(n_sessions):
            price = close[j, k]
            log_close[j] = math.log(price) if math.isfinite(price) and price > 0.0 else np.nan
        for j in range(1, n_sessions):
            day_return[j] = log_close[j] - log_close[j - 1]
        for t in range(n_sessions):
            end = t - lag_sessions
            if end < 1:
                continue
            n = 0
            for j in range(max(1, end - lookback_sessions + 1), end + 1):
                if not math.isnan(day_return[j]):
                    returns[n] = day_return[j]
                    n += 1
            if n < min_returns:
                continue
            total = 0.0
            for i in range(n):
                total += returns[i]
            mean = total / n
            squares = 0.0
            for i in range(n):
                squares += (returns[i] - mean) ** 2
            sd = math.sqrt(squares / (n - 1))
            if sd == 0.0:
                z = 0.0 if total == 0.0 else math.copysign(Z_CAP, total)
            else:
                z = total / (sd * math.sqrt(n))
            z = min(Z_CAP, max(-Z_CAP, z))
            out[t, k] = 100.0 * 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    return out


def momentum_bucket(score: float) -> str:
    """Word for a momentum score: weak < 20 <= soft < 40 <= flat < 60 <= firm < 80 <= strong.

    NaN (not enough history) reads "n/a". Used in readings such as "Price momentum scores
    31/100 (soft)".
    """
    if math.isnan(score):
        return "n/a"
    if score < 20.0:
        return "weak"
    if score < 40.0:
        return "soft"
    if score < 60.0:
        return "flat"
    if score < 80.0:
        return "firm"
    return "strong"
