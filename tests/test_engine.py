"""The engine's accounting, pinned against an independent plain-Python recomputation.

The reference below does not import vectorbt: it follows the module docstring of
``backtest.engine`` step by step, one sleeve and one session at a time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.engine import TRADE_COLUMNS, simulate
from backtest.errors import InputError


def reference_equity(
    positions: np.ndarray,
    exec_price: np.ndarray,
    close: np.ndarray,
    initial_cash: float,
    fees: float,
    slippage: float,
) -> np.ndarray:
    """Total value at each session's close, recomputed with a plain loop per sleeve."""
    n_sessions, n_tickers = positions.shape
    equity = np.zeros(n_sessions)
    for k in range(n_tickers):
        cash = initial_cash / n_tickers
        shares = 0.0
        mark = math.nan
        for t in range(n_sessions):
            p = float(exec_price[t, k])
            tradeable = math.isfinite(p) and p > 0
            side = (shares > 0) - (shares < 0)
            target = int(positions[t, k])
            if tradeable and side != target:
                if shares > 0:
                    cash += shares * p * (1 - slippage) * (1 - fees)
                elif shares < 0:
                    cash -= -shares * p * (1 + slippage) * (1 + fees)
                shares = 0.0
                if target == 1:
                    shares = cash / (p * (1 + slippage) * (1 + fees))
                    cash -= shares * p * (1 + slippage) * (1 + fees)
                elif target == -1:
                    sold = cash / (p * (1 - slippage) * (1 + fees))
                    cash += sold * p * (1 - slippage) * (1 - fees)
                    shares = -sold
            c = float(close[t, k])
            if math.isfinite(c) and c > 0:
                mark = c
            elif tradeable:
                mark = p
            equity[t] += cash + (shares * mark if shares != 0 else 0.0)
    return equity


def _frame_inputs(n_sessions: int, n_tickers: int):
    dates = pd.bdate_range("2015-01-05", periods=n_sessions)
    tickers = [f"T{k}" for k in range(n_tickers)]
    return dates, tickers


def _random_market(rng: np.random.Generator, n_sessions: int, n_tickers: int):
    """Random-walk prices with gaps and late starts.

    Positions hold on sessions with no price at all; sessions missing only the close still see
    position changes, which with close execution exercises the "fill at the next price" path.
    """
    log_ret = rng.normal(0, 0.02, size=(n_sessions, n_tickers))
    close = 50 * np.exp(np.cumsum(log_ret, axis=0))
    open_ = close * np.exp(rng.normal(0, 0.01, size=close.shape))
    missing = rng.random(close.shape) < 0.1
    close_only_missing = rng.random(close.shape) < 0.05
    start = rng.integers(0, n_sessions // 2, size=n_tickers)
    start[0] = 0
    for k in range(n_tickers):
        missing[: start[k], k] = True
    close[missing | close_only_missing] = np.nan
    open_[missing] = np.nan
    pos = rng.integers(-1, 2, size=close.shape).astype(np.int8)
    for t in range(n_sessions):
        for k in range(n_tickers):
            if missing[t, k]:
                pos[t, k] = pos[t - 1, k] if t > 0 else 0
    return pos, open_, close


def _simulate(pos, exec_price, close, *, initial_cash=10_000.0, fees=0.0, slippage=0.0):
    dates, tickers = _frame_inputs(*pos.shape)
    return simulate(
        pos,
        exec_price,
        close,
        dates=dates,
        tickers=tickers,
        initial_cash=initial_cash,
        fees=fees,
        slippage=slippage,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sessions=st.integers(2, 60),
    n_tickers=st.integers(1, 5),
    fees=st.sampled_from([0.0, 0.0005, 0.001, 0.01]),
    slippage=st.sampled_from([0.0, 0.0005, 0.002]),
    at_open=st.booleans(),
)
def test_equity_matches_plain_loop_recomputation(
    seed, n_sessions, n_tickers, fees, slippage, at_open
):
    rng = np.random.default_rng(seed)
    pos, open_, close = _random_market(rng, n_sessions, n_tickers)
    exec_price = open_ if at_open else close
    sim = _simulate(pos, exec_price, close, fees=fees, slippage=slippage)
    expected = reference_equity(pos, exec_price, close, 10_000.0, fees, slippage)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=1e-9, atol=0)


def test_open_execution_with_close_missing_marks_at_that_sessions_open():
    pos = np.array([[1], [1], [1]], dtype=np.int8)
    open_ = np.array([[10.0], [11.0], [12.0]])
    close = np.array([[np.nan], [np.nan], [15.0]])
    sim = _simulate(pos, open_, close, initial_cash=100.0)
    np.testing.assert_allclose(sim.equity.to_numpy(), [100.0, 110.0, 150.0], rtol=1e-12)


def test_positions_on_a_session_without_price_fill_at_the_next_price():
    pos = np.array([[0], [1], [1], [0]], dtype=np.int8)
    price = np.array([[10.0], [np.nan], [20.0], [25.0]])
    sim = _simulate(pos, price, price, initial_cash=100.0)
    np.testing.assert_allclose(sim.equity.to_numpy(), [100.0, 100.0, 100.0, 125.0], rtol=1e-12)


def test_flat_positions_keep_equity_at_initial_cash():
    rng = np.random.default_rng(1)
    pos, open_, close = _random_market(rng, 40, 3)
    sim = _simulate(np.zeros_like(pos), open_, close, fees=0.01, slippage=0.01)
    np.testing.assert_allclose(sim.equity.to_numpy(), 10_000.0, rtol=0, atol=1e-9)
    assert sim.trades.empty


def test_all_long_equals_the_buy_and_hold_benchmark():
    rng = np.random.default_rng(2)
    pos, open_, close = _random_market(rng, 50, 4)
    sim = _simulate(np.ones_like(pos), open_, close)
    np.testing.assert_allclose(sim.equity.to_numpy(), sim.benchmark.to_numpy(), rtol=1e-12)
    # and the benchmark really is buy-and-hold: each sleeve grows with its own mark
    first = np.argmax(np.isfinite(open_), axis=0)
    last_close = pd.DataFrame(close).ffill().to_numpy()[-1]
    expected = sum(2_500.0 * last_close[k] / open_[first[k], k] for k in range(4))
    assert sim.benchmark.iloc[-1] == pytest.approx(expected, rel=1e-12)


def test_fees_and_slippage_strictly_reduce_equity():
    rng = np.random.default_rng(3)
    pos, open_, close = _random_market(rng, 60, 3)
    free = _simulate(pos, open_, close).equity.iloc[-1]
    with_fees = _simulate(pos, open_, close, fees=0.001).equity.iloc[-1]
    with_slip = _simulate(pos, open_, close, slippage=0.001).equity.iloc[-1]
    with_both = _simulate(pos, open_, close, fees=0.001, slippage=0.001).equity.iloc[-1]
    assert with_both < with_fees < free
    assert with_both < with_slip < free


def test_hand_example_long_then_reverse_short_then_flat():
    # 100 cash; fees 1%, slippage 1%; one ticker, trades at the given prices.
    pos = np.array([[0], [1], [-1], [0]], dtype=np.int8)
    price = np.array([[10.0], [10.0], [12.0], [11.0]])
    sim = _simulate(pos, price, price, initial_cash=100.0, fees=0.01, slippage=0.01)
    long_shares = 100.0 / (10.1 * 1.01)  # all-in at 10*(1+s), fees 1%
    cash_after_long_exit = long_shares * 11.88 * 0.99  # sell at 12*(1-s), pay 1%
    short_shares = cash_after_long_exit / (11.88 * 1.01)
    cash_while_short = cash_after_long_exit + short_shares * 11.88 * 0.99
    final_cash = cash_while_short - short_shares * 11.11 * 1.01  # buy back at 11*(1+s)
    expected = [100.0, long_shares * 10.0, cash_while_short - short_shares * 12.0, final_cash]
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=1e-12)

    trades = sim.trades
    assert list(trades.columns) == TRADE_COLUMNS
    assert list(trades["side"]) == ["long", "short"]
    assert list(trades["status"]) == ["closed", "closed"]
    assert trades["entry_price"].tolist() == pytest.approx([10.1, 11.88])
    assert trades["exit_price"].tolist() == pytest.approx([11.88, 11.11])
    assert trades["size"].tolist() == pytest.approx([long_shares, short_shares])
    assert trades["pnl"].sum() == pytest.approx(final_cash - 100.0)
    assert list(trades["entry_time"]) == list(sim.equity.index[[1, 2]])
    assert list(trades["exit_time"]) == list(sim.equity.index[[2, 3]])


def test_open_trade_at_the_end_has_no_exit():
    pos = np.array([[1], [1]], dtype=np.int8)
    price = np.array([[10.0], [12.0]])
    trades = _simulate(pos, price, price, initial_cash=100.0).trades
    assert trades["status"].tolist() == ["open"]
    assert pd.isna(trades["exit_time"].iloc[0])
    assert np.isnan(trades["exit_price"].iloc[0])
    assert trades["pnl"].iloc[0] == pytest.approx(20.0)


def test_ticker_without_any_price_keeps_its_cash():
    pos = np.array([[1, 1], [1, 1]], dtype=np.int8)
    price = np.array([[10.0, np.nan], [20.0, np.nan]])
    sim = _simulate(pos, price, price, initial_cash=100.0)
    np.testing.assert_allclose(sim.sleeve_value["T1"].to_numpy(), [50.0, 50.0])
    np.testing.assert_allclose(sim.equity.to_numpy(), [100.0, 150.0])


def test_returns_and_positions_are_exposed_for_statistics():
    rng = np.random.default_rng(4)
    pos, open_, close = _random_market(rng, 30, 2)
    sim = _simulate(pos, open_, close)
    pd.testing.assert_series_equal(sim.returns, sim.equity.pct_change(), check_names=False)
    assert (sim.positions.to_numpy() == pos).all()
    assert list(sim.positions.columns) == ["T0", "T1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fees": -0.01}, "fees"),
        ({"slippage": float("nan")}, "slippage"),
        ({"initial_cash": 0.0}, "initial cash"),
    ],
)
def test_impossible_costs_are_input_errors(kwargs, message):
    pos = np.zeros((2, 1), dtype=np.int8)
    price = np.ones((2, 1))
    with pytest.raises(InputError, match=message):
        _simulate(pos, price, price, **kwargs)


def test_misaligned_arrays_are_input_errors():
    pos = np.zeros((3, 1), dtype=np.int8)
    with pytest.raises(InputError, match="shape"):
        _simulate(pos, np.ones((2, 1)), np.ones((3, 1)))
