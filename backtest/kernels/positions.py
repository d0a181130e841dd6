"""Target positions (+1 long, 0 flat, -1 short) per (session, ticker) from the signal labels."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def target_positions(
    labels: np.ndarray,
    tradable: np.ndarray,
    allow_short: bool,
    hold_on_neutral: bool,
    hold_sessions: int,
) -> np.ndarray:
    """``target_positions_flat_at`` with no forced exits (the rules below)."""
    flat_rows = np.zeros(labels.shape[0], dtype=np.bool_)
    return target_positions_flat_at(
        labels, tradable, allow_short, hold_on_neutral, hold_sessions, flat_rows
    )


@numba.njit(cache=True)
def target_positions_flat_at(
    labels: np.ndarray,
    tradable: np.ndarray,
    allow_short: bool,
    hold_on_neutral: bool,
    hold_sessions: int,
    flat_rows: np.ndarray,
) -> np.ndarray:
    """The position to hold during each session, per ticker, as int8 (+1 long, 0 flat, -1 short).

    ``position[t, k]`` is what the sleeve holds after trading at session t's execution price
    (its open or close, per ``execution.at``); ``labels[t, k]`` must already be the label known
    at that decision time. Each column is walked forward from t = 0, starting flat (0).

    At each session t, with ``prev`` the position at t - 1 (0 before the first session):

    1. Desired position from the label: bull (1) -> +1; bear (-1) -> -1 if ``allow_short``,
       else 0 (exit); neutral (0) -> 0 (exit), or ``prev`` if ``hold_on_neutral``.
    2. No execution price (``tradable[t, k]`` False, e.g. a missing price): the position cannot
       change, ``position[t] = prev``; the held-session count keeps running and the label still
       counts for step 4's fresh-signal rule.
    3. Timed exit, only when ``hold_sessions > 0``: a position entered at session s (a change from
       flat, or a flip) is flat again at session ``s + hold_sessions`` (held for exactly
       ``hold_sessions`` sessions), or at the first tradable session after that. A desired flip
       to the opposite direction is always allowed and restarts the count at its own session;
       a desired exit happens at once anyway.
    4. After a timed exit from direction d at session x, re-entering d needs a fresh signal: a
       session at or after x whose label is not d (neutral, or the other side) must come before
       the session that re-enters. If the label at x itself is not d (the position was only
       held by ``hold_on_neutral``), that is already the fresh signal. Entering the opposite
       direction is never blocked.

    5. Forced exit: on a row where ``flat_rows`` is True (intraday ``execution.flat_at_close``:
       each session's last bar, whose execution price is its close) every tradable position is
       flat; re-entering needs a fresh signal as after a timed exit (step 4).

    ``hold_sessions == 0`` means no time limit. Raises ValueError for a label outside
    {-1, 0, 1}, ``hold_sessions < 0`` or mismatched shapes.
    """
    if hold_sessions < 0:
        raise ValueError("hold_sessions must be >= 0")
    if labels.shape != tradable.shape:
        raise ValueError("labels and tradable must have the same shape")
    if flat_rows.shape[0] != labels.shape[0]:
        raise ValueError("flat_rows must have one entry per row")
    n_sessions, n_tickers = labels.shape
    out = np.zeros((n_sessions, n_tickers), dtype=np.int8)
    for k in range(n_tickers):
        prev = 0
        held = 0
        blocked = 0
        for t in range(n_sessions):
            label = labels[t, k]
            if label != 1 and label != 0 and label != -1:
                raise ValueError("labels must be -1, 0 or 1")
            if blocked != 0 and label != blocked:
                blocked = 0
            if label == 1:
                desired = 1
            elif label == -1:
                desired = -1 if allow_short else 0
            else:
                desired = prev if hold_on_neutral else 0
            if not tradable[t, k]:
                position = prev
            elif flat_rows[t]:
                position = 0
                if prev != 0 and label == prev:
                    blocked = prev
            elif prev != 0 and hold_sessions > 0 and held >= hold_sessions and desired == prev:
                position = 0
                if label == prev:
                    blocked = prev
            elif desired != 0 and desired == blocked:
                position = 0
            else:
                position = desired
            if position == 0:
                held = 0
            elif position != prev:
                held = 1
            else:
                held += 1
            out[t, k] = position
            prev = position
    return out
