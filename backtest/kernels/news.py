"""News flow: decayed per (session, ticker) sums of headline scores and counts; the 0..100 map.

Headlines arrive already placed on the session where they become tradeable (the calendar's job),
as three parallel arrays: ``session_idx`` (row of the panel), ``ticker_idx`` (column) and the
headline score in [-1, 1]. The panels are ``(n_sessions, n_tickers)`` float64.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _decayed_panel(
    session_idx: np.ndarray,
    ticker_idx: np.ndarray,
    weights: np.ndarray,
    n_sessions: int,
    n_tickers: int,
    half_life_sessions: float,
) -> np.ndarray:
    """Sum ``weights`` per (session, ticker), then carry each row into the next with decay."""
    if not half_life_sessions > 0.0:
        raise ValueError("half_life_sessions must be > 0")
    if n_sessions < 0 or n_tickers < 0:
        raise ValueError("n_sessions and n_tickers must be >= 0")
    if session_idx.shape[0] != ticker_idx.shape[0] or session_idx.shape[0] != weights.shape[0]:
        raise ValueError("session_idx, ticker_idx and weights must have the same length")
    flow = np.zeros((n_sessions, n_tickers), dtype=np.float64)
    for h in range(session_idx.shape[0]):
        t = session_idx[h]
        k = ticker_idx[h]
        w = weights[h]
        if t < 0 or t >= n_sessions or k < 0 or k >= n_tickers or not math.isfinite(w):
            continue
        flow[t, k] += w
    decay = 0.5 ** (1.0 / half_life_sessions)
    for t in range(1, n_sessions):
        for k in range(n_tickers):
            flow[t, k] += flow[t - 1, k] * decay
    return flow


def _array(values: np.ndarray, dtype: type) -> np.ndarray:
    """A writeable C-contiguous array of ``dtype`` (copied only when it is not one already), so
    every caller reaches the one compiled ``_decayed_panel``: numba compiles a kernel once per
    argument type, and read-only or strided inputs are other types."""
    return np.require(values, dtype=dtype, requirements=["C", "W"])


def news_flow(
    session_idx: np.ndarray,
    ticker_idx: np.ndarray,
    scores: np.ndarray,
    n_sessions: int,
    n_tickers: int,
    half_life_sessions: float,
) -> np.ndarray:
    """Decayed sum of headline scores per (session, ticker): what the news said, recent first.

    ``flow[t, k] = sum over headlines h with ticker_idx[h] == k and session_idx[h] <= t of
    scores[h] * 0.5 ** ((t - session_idx[h]) / half_life_sessions)``, so a headline counts fully
    on its tradeable session and half as much ``half_life_sessions`` sessions later (units: score
    points; a positive number of sessions, fractions allowed). Only headlines already tradeable at
    session t count, which keeps the flow point-in-time.

    Ignored headlines (they contribute nothing): ``session_idx`` outside ``[0, n_sessions)`` or
    ``ticker_idx`` outside ``[0, n_tickers)`` (the caller maps timestamps to sessions and drops or
    clips them on purpose), and non-finite scores (one NaN would otherwise poison the ticker's flow
    for ever). A session without headlines just decays the previous value; no headlines at all
    gives zeros.

    Computed in O(n_headlines + n_sessions * n_tickers) by the recursion
    ``flow[t] = flow[t - 1] * 0.5 ** (1 / half_life_sessions) + sum of scores at t``; it agrees
    with the direct sum up to float rounding. Raises ValueError if ``half_life_sessions <= 0``.
    """
    return _decayed_panel(
        _array(session_idx, np.int64),
        _array(ticker_idx, np.int64),
        _array(scores, np.float64),
        int(n_sessions),
        int(n_tickers),
        float(half_life_sessions),
    )


def news_count(
    session_idx: np.ndarray,
    ticker_idx: np.ndarray,
    n_sessions: int,
    n_tickers: int,
    half_life_sessions: float,
) -> np.ndarray:
    """Decayed number of headlines per (session, ticker): how much news there was, not its tone.

    Exactly ``news_flow`` with every score equal to 1: ``count[t, k] = sum over headlines h of
    ticker k with 0 <= session_idx[h] <= t of 0.5 ** ((t - session_idx[h]) / half_life_sessions)``
    (units: headlines). Counts every in-range headline, whatever its score. Used for news intensity
    and for readings such as "4 headlines in 3 sessions" (with a very large half-life it is the
    plain running count).
    """
    ones = np.ones(np.shape(session_idx)[0], dtype=np.float64)
    return news_flow(session_idx, ticker_idx, ones, n_sessions, n_tickers, half_life_sessions)


@numba.njit(cache=True)
def news_score(flow: np.ndarray, scale: float) -> np.ndarray:
    """Map news flow to 0..100: ``50 + 50 * tanh(flow / scale)``.

    50 means no news or balanced news; above 50 leans bullish, below bearish. ``scale`` (> 0, in
    flow units) is the flow that reads about 88/100 (tanh(1) = 0.76); -scale reads about 12. The
    tanh saturates, so no pile of headlines goes past 0 or 100. NaN flow stays NaN.
    Raises ValueError if ``scale <= 0``.
    """
    if not scale > 0.0:
        raise ValueError("scale must be > 0")
    out = np.empty(flow.shape, dtype=np.float64)
    for t in range(flow.shape[0]):
        for k in range(flow.shape[1]):
            out[t, k] = 50.0 + 50.0 * math.tanh(flow[t, k] / scale)
    return out
