"""Stop-loss and take-profit exits for sleeves, applied to the label-driven positions.

The one exception to "trades fill at the open or the close": a stop fills inside a session, at
the stop price, or at the session's open when the open gapped through it.
"""

from __future__ import annotations

import numba
import numpy as np

NO_EXIT = 0
STOP_LOSS = 1
TAKE_PROFIT = 2
EXIT_REASONS = ("signal", "stop_loss", "take_profit")
"""trades.csv's ``exit_reason`` by code (a trade closed by its label reads "signal")."""


@numba.njit(cache=True)
def apply_stops(
    positions: np.ndarray,
    exec_price: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    at_open: bool,
    stop_loss: float,
    take_profit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions with stop exits, the stop fill prices and the exit reasons, all (T, K).

    ``positions`` come from kernels.positions.target_positions; the entry price of a holding
    is ``exec_price`` at the session it was entered (a change of side). ``stop_loss`` and
    ``take_profit`` are fractions of it (0 = off): a long stops at ``entry * (1 - stop_loss)``
    and takes profit at ``entry * (1 + take_profit)``; a short at ``entry * (1 + stop_loss)``
    and ``entry * (1 - take_profit)``. Walking each ticker forward, session t is checked when
    the side d held after t - 1 is not 0, was entered before t, t has an open price, and (for
    open execution) the label does not already change the side at t's open:

    1. Gap: the open is at or beyond a level (a long's open <= its stop or >= its target):
       exit at the open.
    2. Otherwise the session's range [low, high] (NaN: the range of open and close given by
       ``exec_price`` and ``open_``) reaching a level exits at that level; if both levels are
       reached, the stop is assumed first (the conservative reading).

    A stopped ticker is flat after t (``positions[t] = 0``; any order the label wanted at t's
    execution price waits), and re-entering d needs a fresh signal: it stays flat while the
    label-driven positions still say d, and follows them again once they say anything else.
    ``fill[t, k]`` is the exit price (NaN when no stop fired) and ``reason[t, k]`` STOP_LOSS,
    TAKE_PROFIT or NO_EXIT.
    """
    n_sessions, n_tickers = positions.shape
    out = np.zeros((n_sessions, n_tickers), dtype=np.int8)
    fill = np.full((n_sessions, n_tickers), np.nan)
    reason = np.zeros((n_sessions, n_tickers), dtype=np.int8)
    for k in range(n_tickers):
        held = 0
        entry = np.nan
        blocked = 0
        for t in range(n_sessions):
            wanted = positions[t, k]
            if blocked != 0 and wanted != blocked:
                blocked = 0
            if blocked != 0:
                wanted = 0
            stopped = False
            o = open_[t, k]
            checkable = held != 0 and np.isfinite(o) and o > 0 and np.isfinite(entry)
            if checkable and at_open and wanted != held:
                checkable = False
            if checkable:
                d = float(held)
                stop_level = entry * (1.0 - d * stop_loss) if stop_loss > 0 else np.nan
                target_level = entry * (1.0 + d * take_profit) if take_profit > 0 else np.nan
                hi, lo = high[t, k], low[t, k]
                if not (np.isfinite(hi) and np.isfinite(lo)):
                    c = exec_price[t, k] if np.isfinite(exec_price[t, k]) else o
                    hi, lo = max(o, c), min(o, c)
                worst = lo if held > 0 else hi
                best = hi if held > 0 else lo
                if np.isfinite(stop_level) and d * (o - stop_level) <= 0:
                    stopped, price, code = True, o, STOP_LOSS
                elif np.isfinite(target_level) and d * (o - target_level) >= 0:
                    stopped, price, code = True, o, TAKE_PROFIT
                elif np.isfinite(stop_level) and d * (worst - stop_level) <= 0:
                    stopped, price, code = True, stop_level, STOP_LOSS
                elif np.isfinite(target_level) and d * (best - target_level) >= 0:
                    stopped, price, code = True, target_level, TAKE_PROFIT
                else:
                    price, code = np.nan, NO_EXIT
                if stopped:
                    fill[t, k] = price
                    reason[t, k] = code
                    blocked = held
                    held = 0
                    entry = np.nan
                    out[t, k] = 0
                    continue
            p = exec_price[t, k]
            if wanted != held and np.isfinite(p) and p > 0:
                held = wanted
                entry = p if wanted != 0 else np.nan
            out[t, k] = held
    return out, fill, reason
