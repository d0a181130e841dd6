"""Target weights of equity per (session, ticker) for the cross-sectional constructions.

``construction`` codes: ``RANK`` (long the top, short the bottom of the composite) and
``SIGNAL`` (weights proportional to composite - 50). Pure numba on arrays.
"""

from __future__ import annotations

import numba
import numpy as np

RANK = 1
SIGNAL = 2


@numba.njit(cache=True)
def leg_count(size: float, n: int) -> int:
    """Names in a leg of ``n`` eligible: a fraction 0 < f < 1 gives max(1, round(f * n)), a
    number >= 1 a count (at most n), 0 none. Rounding is half to even (Python's round)."""
    if n <= 0 or size <= 0:
        return 0
    if size < 1:
        return max(1, int(np.round(size * n)))
    return min(int(size), n)


@numba.njit(cache=True)
def session_weights(
    composite: np.ndarray,
    eligible: np.ndarray,
    construction: int,
    long_size: float,
    short_size: float,
    gross: float,
    net: float,
    max_weight: float,
) -> np.ndarray:
    """One session's target weights (K,) from its composites; 0 for names not ``eligible``.

    RANK: the ``leg_count(long_size, n)`` eligible names of highest composite (ties: lower
    column first) get ``(gross + net) / 2`` split equally; of the rest, the
    ``leg_count(short_size, n)`` of lowest composite (ties: lower column first) get
    ``-(gross - net) / 2`` split equally. SIGNAL: ``w = composite - 50`` over the eligible
    names, scaled so that sum |w| = gross (all 0 if every composite is 50). Then, with
    ``max_weight > 0``, every |w| is capped at it (the excess is left in cash, not spread).
    """
    n_tickers = composite.shape[0]
    w = np.zeros(n_tickers)
    idx = np.flatnonzero(eligible)
    n = idx.shape[0]
    if n == 0:
        return w
    values = composite[idx]
    if construction == RANK:
        k_long = leg_count(long_size, n)
        k_short = min(leg_count(short_size, n), n - k_long)
        top = np.argsort(-values, kind="mergesort")
        taken = np.zeros(n, dtype=np.bool_)
        for j in range(k_long):
            w[idx[top[j]]] = (gross + net) / 2.0 / k_long
            taken[top[j]] = True
        bottom = np.argsort(values, kind="mergesort")
        placed = 0
        for j in range(n):
            if placed == k_short:
                break
            if taken[bottom[j]]:
                continue
            w[idx[bottom[j]]] = -(gross - net) / 2.0 / k_short
            placed += 1
    else:
        total = 0.0
        for j in range(n):
            total += abs(values[j] - 50.0)
        if total > 0:
            for j in range(n):
                w[idx[j]] = (values[j] - 50.0) / total * gross
    if max_weight > 0:
        for k in range(n_tickers):
            if w[k] > max_weight:
                w[k] = max_weight
            elif w[k] < -max_weight:
                w[k] = -max_weight
    return w


@numba.njit(cache=True)
def target_weights(
    composite: np.ndarray,
    tradable: np.ndarray,
    candidate: np.ndarray,
    on_signal: bool,
    construction: int,
    long_size: float,
    short_size: float,
    gross: float,
    net: float,
    max_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Held target weights (T, K) and the sessions that rebalance (T,).

    A name is eligible at session t if it is ``tradable`` (has an execution price) and its
    composite is finite. On each ``candidate`` session (every session, the first of each week
    or month: the caller's calendar) the target is ``session_weights``; with ``on_signal`` a
    candidate rebalances only when the target's sides (the sign of each weight) differ from
    the held target's, and keeps the held weights otherwise. The first session with an
    eligible name always rebalances. Between rebalances the held target is carried forward
    (the portfolio then holds its shares and the weights drift).
    """
    n_sessions, n_tickers = composite.shape
    weights = np.zeros((n_sessions, n_tickers))
    rebalanced = np.zeros(n_sessions, dtype=np.bool_)
    held = np.zeros(n_tickers)
    started = False
    for t in range(n_sessions):
        eligible = tradable[t] & np.isfinite(composite[t])
        if (candidate[t] or not started) and eligible.any():
            target = session_weights(
                composite[t],
                eligible,
                construction,
                long_size,
                short_size,
                gross,
                net,
                max_weight,
            )
            change = not started or not on_signal
            if not change:
                for k in range(n_tickers):
                    if np.sign(target[k]) != np.sign(held[k]):
                        change = True
                        break
            if change:
                held = target
                rebalanced[t] = True
                started = True
        weights[t] = held
    return weights, rebalanced
