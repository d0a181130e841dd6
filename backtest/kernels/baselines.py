"""Numba kernels behind the luck baselines: shuffled holding periods, sleeve returns, and
stationary block bootstrap indices. Pure functions on arrays; randomness comes in as arrays
drawn by the caller from a seeded numpy Generator, so a kernel is a deterministic function of
its inputs and has a plain-Python twin in the tests.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def shuffle_runs(positions: np.ndarray, tradable: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Random strategies with the same holding periods as ``positions``, in random order.

    ``positions`` (T, K) are float64 holdings (sides, or a book's weights), ``tradable`` (T, K)
    booleans; ``keys`` is (N, K, T) of random numbers. For draw n and ticker k, the ticker's
    holdings on its tradable sessions are cut into runs (a maximal stretch of one side: long,
    short or flat) and the runs, each with its own sequence of holdings, are laid out again in
    the order of ``argsort(keys[n, k, :n_runs])`` (stable), on the same tradable sessions.
    Sessions that are not tradable keep the holding of the last tradable session before them
    (0 before the first), as the engine holds a position across a missing price.

    Every draw keeps each ticker's exposure (sessions long, short, flat, and the holdings
    within each holding period) exactly, and its number of trades up to neighbouring runs of
    one side merging. Returns (N, T, K) float64.
    """
    n_sessions, n_tickers = positions.shape
    n_draws = keys.shape[0]
    out = np.zeros((n_draws, n_sessions, n_tickers))
    for k in range(n_tickers):
        rows = np.flatnonzero(tradable[:, k])
        m = rows.shape[0]
        if m == 0:
            continue
        values = positions[rows, k]
        run_start = np.empty(m + 1, dtype=np.int64)
        n_runs = 0
        for i in range(m):
            if i == 0 or np.sign(values[i]) != np.sign(values[i - 1]):
                run_start[n_runs] = i
                n_runs += 1
        run_start[n_runs] = m
        laid = np.empty(m)
        for n in range(n_draws):
            order = np.argsort(keys[n, k, :n_runs], kind="mergesort")
            i = 0
            for j in order:
                for source in range(run_start[j], run_start[j + 1]):
                    laid[i] = values[source]
                    i += 1
            held = 0.0
            r = 0
            for t in range(n_sessions):
                if r < m and rows[r] == t:
                    held = laid[r]
                    r += 1
                out[n, t, k] = held
    return out


@numba.njit(cache=True)
def sleeve_returns(positions: np.ndarray, returns: np.ndarray, cost: float) -> np.ndarray:
    """Session returns of equal sleeves each holding ``positions`` of its ticker, per draw.

    ``positions`` is (N, T, K) (one strategy a draw), ``returns`` (T, K) the return a position
    held from session t earns (execution price t to t+1; NaN counts as 0), ``cost`` the fraction
    of traded value paid per unit of position change (fees + slippage). Every sleeve starts at
    1/K; from session t to t+1 sleeve k's value is multiplied by
    ``1 + p[t, k] * r[t, k] - cost * |p[t, k] - p[t-1, k]|`` (p[-1] = 0). The portfolio's return
    at t is the sum of the sleeve values after over before, minus 1. Returns (N, T).
    """
    n_draws, n_sessions, n_tickers = positions.shape
    out = np.zeros((n_draws, n_sessions))
    value = np.empty(n_tickers)
    for n in range(n_draws):
        for k in range(n_tickers):
            value[k] = 1.0 / n_tickers
        before = 1.0
        for t in range(n_sessions):
            after = 0.0
            for k in range(n_tickers):
                p = positions[n, t, k]
                prev = positions[n, t - 1, k] if t > 0 else 0.0
                r = returns[t, k]
                move = p * r if np.isfinite(r) else 0.0
                value[k] *= 1.0 + move - cost * abs(p - prev)
                after += value[k]
            out[n, t] = after / before - 1.0 if before > 0 else 0.0
            before = after
    return out


@numba.njit(cache=True)
def book_returns(weights: np.ndarray, returns: np.ndarray, cost: float) -> np.ndarray:
    """Session returns of one shared-cash book per draw holding ``weights`` (N, T, K) of equity.

    From session t to t+1 the book earns ``sum_k w[t, k] * r[t, k] - cost * sum_k |w[t, k] -
    w[t-1, k]|`` (w[-1] = 0; a NaN return counts 0): the engine's W4 with the weights reset to
    target every session and costs charged on the change of targets. Returns (N, T).
    """
    n_draws, n_sessions, n_tickers = weights.shape
    out = np.zeros((n_draws, n_sessions))
    for n in range(n_draws):
        for t in range(n_sessions):
            total = 0.0
            for k in range(n_tickers):
                w = weights[n, t, k]
                prev = weights[n, t - 1, k] if t > 0 else 0.0
                r = returns[t, k]
                if np.isfinite(r):
                    total += w * r
                total -= cost * abs(w - prev)
            out[n, t] = total
    return out


@numba.njit(cache=True)
def stationary_bootstrap_indices(starts: np.ndarray, uniforms: np.ndarray, p: float) -> np.ndarray:
    """Politis-Romano stationary bootstrap: (B, T) indices into a series of length T.

    ``starts`` (B, T) are random integers in [0, T) and ``uniforms`` (B, T) random numbers in
    [0, 1). Each resample begins at ``starts[b, 0]``; at each later step a new block begins at
    ``starts[b, t]`` with probability ``p`` (``uniforms[b, t] < p``), else the block goes on
    with the next observation, wrapping from T - 1 to 0. Blocks have mean length 1 / p.
    """
    n_boot, n = starts.shape
    out = np.empty((n_boot, n), dtype=np.int64)
    for b in range(n_boot):
        out[b, 0] = starts[b, 0]
        for t in range(1, n):
            if uniforms[b, t] < p:
                out[b, t] = starts[b, t]
            else:
                out[b, t] = (out[b, t - 1] + 1) % n
    return out
