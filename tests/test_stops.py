"""Stop-loss and take-profit exits: the kernel against a plain-Python twin, planted scenarios
with a known fill, and the engine reproduced by the plain-loop recomputation fed the stop fills.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import reference_equity

from backtest.engine import simulate
from backtest.kernels.stops import NO_EXIT, STOP_LOSS, TAKE_PROFIT, apply_stops


def reference_stops(positions, exec_price, open_, high, low, at_open, stop_loss, take_profit):
    """apply_stops' contract, one ticker and one session at a time, in plain Python."""
    n_sessions, n_tickers = positions.shape
    out = np.zeros((n_sessions, n_tickers), dtype=np.int8)
    fill = np.full((n_sessions, n_tickers), np.nan)
    reason = np.zeros((n_sessions, n_tickers), dtype=np.int8)
    for k in range(n_tickers):
        held, entry, blocked = 0, math.nan, 0
        for t in range(n_sessions):
            wanted = int(positions[t, k])
            if blocked and wanted != blocked:
                blocked = 0
            if blocked:
                wanted = 0
            o = float(open_[t, k])
            check = held != 0 and math.isfinite(o) and o > 0 and math.isfinite(entry)
            if at_open and wanted != held:
                check = False
            if check:
                hi, lo = float(high[t, k]), float(low[t, k])
                if not (math.isfinite(hi) and math.isfinite(lo)):
                    c = float(exec_price[t, k])
                    c = c if math.isfinite(c) else o
                    hi, lo = max(o, c), min(o, c)
                if held > 0:
                    stop = entry * (1 - stop_loss) if stop_loss else None
                    target = entry * (1 + take_profit) if take_profit else None
                    gap_stop, gap_target = stop is not None and o <= stop, target and o >= target
                    hit_stop, hit_target = stop is not None and lo <= stop, target and hi >= target
                else:
                    stop = entry * (1 + stop_loss) if stop_loss else None
                    target = entry * (1 - take_profit) if take_profit else None
                    gap_stop, gap_target = stop is not None and o >= stop, target and o <= target
                    hit_stop, hit_target = stop is not None and hi >= stop, target and lo <= target
                event = None
                if gap_stop:
                    event = (o, STOP_LOSS)
                elif gap_target:
                    event = (o, TAKE_PROFIT)
                elif hit_stop:
                    event = (stop, STOP_LOSS)
                elif hit_target:
                    event = (target, TAKE_PROFIT)
                if event is not None:
                    fill[t, k], reason[t, k] = event
                    blocked, held, entry = held, 0, math.nan
                    continue
            p = float(exec_price[t, k])
            if wanted != held and math.isfinite(p) and p > 0:
                held = wanted
                entry = p if wanted else math.nan
            out[t, k] = held
    return out, fill, reason


def _market(seed: int, n_sessions: int, n_tickers: int, missing: float = 0.1):
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, size=(n_sessions, n_tickers)), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.02, size=close.shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.02, size=close.shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.02, size=close.shape)))
    high[rng.random(close.shape) < missing] = np.nan
    open_[rng.random(close.shape) < missing] = np.nan
    pos = rng.integers(-1, 2, size=(n_sessions, n_tickers))
    pos = np.repeat(pos[: n_sessions // 4 + 1], 4, axis=0)[:n_sessions].astype(np.int8)
    return pos, open_, high, low, close


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sessions=st.integers(1, 40),
    n_tickers=st.integers(1, 3),
    at_open=st.booleans(),
    stop_loss=st.sampled_from([0.0, 0.02, 0.05]),
    take_profit=st.sampled_from([0.0, 0.03, 0.1]),
)
def test_apply_stops_matches_reference(
    seed, n_sessions, n_tickers, at_open, stop_loss, take_profit
):
    pos, open_, high, low, close = _market(seed, n_sessions, n_tickers)
    exec_price = open_ if at_open else close
    got = apply_stops(pos, exec_price, open_, high, low, at_open, stop_loss, take_profit)
    want = reference_stops(pos, exec_price, open_, high, low, at_open, stop_loss, take_profit)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def _one(opens, highs, lows, closes, pos, at_open=True, stop_loss=0.05, take_profit=0.0):
    col = lambda v: np.array(v, dtype=np.float64)[:, None]  # noqa: E731
    exec_price = col(opens) if at_open else col(closes)
    return apply_stops(
        np.array(pos, dtype=np.int8)[:, None],
        exec_price,
        col(opens),
        col(highs),
        col(lows),
        at_open,
        stop_loss,
        take_profit,
    )


def test_a_long_stops_at_its_level_inside_the_session():
    pos, fill, reason = _one([100, 99, 96], [101, 100, 97], [99, 94, 95], [100, 96, 96], [1, 1, 1])
    assert pos[:, 0].tolist() == [1, 0, 0]
    assert fill[1, 0] == 95.0 and reason[1, 0] == STOP_LOSS


def test_a_gap_through_the_stop_fills_at_the_open():
    pos, fill, reason = _one([100, 93], [101, 94], [99, 90], [100, 92], [1, 1])
    assert fill[1, 0] == 93.0 and reason[1, 0] == STOP_LOSS and pos[1, 0] == 0


def test_take_profit_for_a_short_and_the_stop_first_when_both_are_reached():
    pos, fill, reason = _one(
        [100, 99], [101, 100], [99, 89], [100, 95], [-1, -1], stop_loss=0.0, take_profit=0.1
    )
    assert fill[1, 0] == 90.0 and reason[1, 0] == TAKE_PROFIT
    pos, fill, reason = _one(
        [100, 100], [101, 111], [99, 94], [100, 100], [1, 1], stop_loss=0.05, take_profit=0.1
    )
    assert fill[1, 0] == 95.0 and reason[1, 0] == STOP_LOSS


def test_no_check_on_the_entry_session_and_a_fresh_signal_to_reenter():
    pos, fill, reason = _one(
        [100, 100, 100, 100, 100, 100],
        [101, 101, 101, 101, 101, 101],
        [80, 94, 99, 99, 99, 99],
        [100, 100, 100, 100, 100, 100],
        [1, 1, 1, 0, 1, 1],
    )
    assert reason[0, 0] == NO_EXIT and reason[1, 0] == STOP_LOSS
    assert pos[:, 0].tolist() == [1, 0, 0, 0, 1, 1]


def test_a_label_exit_at_the_open_comes_before_the_stop():
    pos, fill, reason = _one([100, 90], [101, 91], [99, 80], [100, 85], [1, 0])
    assert reason[1, 0] == NO_EXIT and np.isnan(fill[1, 0]) and pos[1, 0] == 0


def test_close_execution_checks_the_session_before_its_close():
    pos, fill, reason = _one(
        [100, 100, 98], [101, 101, 99], [99, 99, 90], [100, 100, 97], [1, 1, 1], at_open=False
    )
    assert reason[2, 0] == STOP_LOSS and fill[2, 0] == 95.0 and pos[2, 0] == 0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    at_open=st.booleans(),
    fees=st.sampled_from([0.0, 0.001]),
    slippage=st.sampled_from([0.0, 0.001]),
)
def test_the_engine_is_the_plain_loop_fed_the_stop_fills(seed, at_open, fees, slippage):
    pos, open_, high, low, close = _market(seed, 60, 3, missing=0.0)
    exec_price = open_ if at_open else close
    stopped, fill, reason = apply_stops(pos, exec_price, open_, high, low, at_open, 0.03, 0.05)
    sim = simulate(
        stopped,
        exec_price,
        close,
        dates=pd.bdate_range("2016-01-04", periods=60),
        tickers=["A", "B", "C"],
        initial_cash=9_000.0,
        fees=fees,
        slippage=slippage,
        stop_fill=fill,
        stop_reason=reason,
    )
    traded_at = np.where(np.isfinite(fill), fill, exec_price)
    expected = reference_equity(stopped, traded_at, close, 9_000.0, fees, slippage)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=1e-9)
    closed = sim.trades[sim.trades["status"] == "closed"]
    for _, trade in closed[closed["exit_reason"] != "signal"].iterrows():
        t = sim.equity.index.get_loc(trade["exit_time"])
        k = ["A", "B", "C"].index(trade["ticker"])
        assert trade["exit_reason"] == ("stop_loss" if reason[t, k] == STOP_LOSS else "take_profit")
        side = 1 if trade["side"] == "long" else -1
        assert math.isclose(trade["exit_price"], fill[t, k] * (1 - side * slippage), rel_tol=1e-12)
    assert set(closed["exit_reason"]) <= {"signal", "stop_loss", "take_profit"}
