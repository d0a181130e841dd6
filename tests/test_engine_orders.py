"""The orders the engine hands to ``vectorbt.Portfolio.from_orders``, and what they give.

The engine places one order per side change that can fill, built from the side actually held
(the last target seen on a session with a tradeable price). These tests feed it hostile prices
(NaN, zero, negative, infinite, a ticker whose first prices are missing) and targets that change
on sessions without a price, and pin the result against the plain-loop ``reference_equity``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import reference_equity

from backtest.engine import (
    SIZE_TYPE_AMOUNT,
    SIZE_TYPE_TARGET_AMOUNT,
    TRADE_COLUMNS,
    order_arrays,
    run_portfolio,
    simulate,
    tradeable_price,
    ungrouped_value,
    valuation_price,
)

BAD_PRICES = (np.nan, 0.0, -3.0, np.inf, -np.inf)


def _hostile_market(rng: np.random.Generator, n_sessions: int, n_tickers: int, bad_share: float):
    """Random walks where ``bad_share`` of the execution prices are NaN or non-positive or
    infinite, closes missing at random, ticker 0 without prices for its first sessions, and
    targets drawn independently on every session (so they also change where no order fills)."""
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(n_sessions, n_tickers)), axis=0))
    exec_price = close * np.exp(rng.normal(0, 0.01, size=close.shape))
    bad = rng.random(close.shape) < bad_share
    exec_price[bad] = rng.choice(BAD_PRICES, size=int(bad.sum()))
    late = int(rng.integers(1, n_sessions))
    exec_price[:late, 0] = np.nan
    close[:late, 0] = np.nan
    close[rng.random(close.shape) < 0.15] = np.nan
    pos = rng.integers(-1, 2, size=close.shape).astype(np.int8)
    return pos, exec_price, close


def _simulate(pos, exec_price, close, *, initial_cash=10_000.0, fees=0.0, slippage=0.0):
    n_sessions, n_tickers = pos.shape
    return simulate(
        pos,
        exec_price,
        close,
        dates=pd.bdate_range("2015-01-05", periods=n_sessions),
        tickers=[f"T{k}" for k in range(n_tickers)],
        initial_cash=initial_cash,
        fees=fees,
        slippage=slippage,
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sessions=st.integers(2, 60),
    n_tickers=st.integers(1, 5),
    bad_share=st.sampled_from([0.0, 0.1, 0.3, 0.6]),
    fees=st.sampled_from([0.0, 0.0005, 0.01]),
    slippage=st.sampled_from([0.0, 0.0005, 0.002]),
)
def test_equity_with_untradeable_prices_matches_plain_loop(
    seed, n_sessions, n_tickers, bad_share, fees, slippage
):
    rng = np.random.default_rng(seed)
    pos, exec_price, close = _hostile_market(rng, n_sessions, n_tickers, bad_share)
    sim = _simulate(pos, exec_price, close, fees=fees, slippage=slippage)
    expected = reference_equity(pos, exec_price, close, 10_000.0, fees, slippage)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=1e-9, atol=0)
    benchmark = reference_equity(np.ones_like(pos), exec_price, close, 10_000.0, fees, slippage)
    np.testing.assert_allclose(sim.benchmark.to_numpy(), benchmark, rtol=1e-9, atol=0)


def test_reversal_closes_one_trade_and_opens_the_next_on_the_same_session():
    pos = np.array([[1], [1], [-1], [-1]], dtype=np.int8)
    price = np.array([[10.0], [11.0], [12.0], [9.0]])
    sim = _simulate(pos, price, price, initial_cash=100.0)

    trades = sim.trades
    assert list(trades.columns) == TRADE_COLUMNS
    assert len(trades) == 2
    dates = sim.equity.index
    long, short = trades.iloc[0], trades.iloc[1]
    assert (long["side"], long["status"]) == ("long", "closed")
    assert (long["entry_time"], long["exit_time"]) == (dates[0], dates[2])
    assert (long["entry_price"], long["exit_price"]) == pytest.approx((10.0, 12.0))
    assert long["size"] == pytest.approx(10.0)
    assert long["pnl"] == pytest.approx(20.0)
    assert (short["side"], short["status"]) == ("short", "open")
    assert short["entry_time"] == dates[2]
    assert pd.isna(short["exit_time"]) and np.isnan(short["exit_price"])
    assert short["entry_price"] == pytest.approx(12.0)
    assert short["size"] == pytest.approx(10.0)  # the 120 of cash, sold short at 12
    assert short["pnl"] == pytest.approx(30.0)  # marked at the last price, 9
    # one order on the reversal session, of the combined size
    orders = sim.portfolio.orders.records_arr
    assert orders["idx"].tolist() == [0, 2]
    assert orders["size"].tolist() == pytest.approx([10.0, 20.0])
    np.testing.assert_allclose(sim.equity.to_numpy(), [100.0, 110.0, 120.0, 150.0])


def test_reversal_waits_for_a_price_and_skips_the_target_it_never_could_fill():
    # long; the target goes flat then short on sessions without a price: one reversal at 9
    pos = np.array([[1], [0], [-1], [-1], [-1]], dtype=np.int8)
    price = np.array([[10.0], [np.nan], [0.0], [9.0], [8.0]])
    sim = _simulate(pos, price, price, initial_cash=100.0)
    assert sim.trades["side"].tolist() == ["long", "short"]
    assert sim.trades["entry_time"].tolist() == list(sim.equity.index[[0, 3]])
    np.testing.assert_allclose(sim.equity.to_numpy(), [100.0, 100.0, 100.0, 90.0, 100.0])


def test_order_arrays_place_orders_only_where_the_held_side_changes():
    pos = np.array([[1, 0], [1, -1], [0, -1], [-1, 1], [-1, 0], [0, 0]], dtype=np.int8)
    price = np.array(
        [[10.0, np.nan], [11.0, np.nan], [np.nan, 5.0], [-1.0, 6.0], [12.0, np.inf], [13.0, 7.0]]
    )
    size, size_type = order_arrays(pos, price)
    inf, nan = np.inf, np.nan
    expected_size = [[inf, nan], [nan, nan], [nan, -inf], [nan, inf], [-inf, nan], [0.0, 0.0]]
    np.testing.assert_array_equal(size, np.array(expected_size))
    expected_type = np.full(pos.shape, SIZE_TYPE_AMOUNT)
    expected_type[5, :] = SIZE_TYPE_TARGET_AMOUNT
    np.testing.assert_array_equal(size_type, expected_type)
    assert size.dtype == np.float64 and size_type.dtype == np.int8


def test_order_size_types_are_vectorbts_enum_values():
    from vectorbt.portfolio.enums import SizeType

    assert SizeType.Amount == SIZE_TYPE_AMOUNT
    assert SizeType.TargetAmount == SIZE_TYPE_TARGET_AMOUNT


def test_orders_never_exceed_the_target_changes_sweeps_bound_max_orders_by():
    rng = np.random.default_rng(7)
    pos, exec_price, close = _hostile_market(rng, 80, 6, 0.3)
    price, mark = tradeable_price(exec_price), valuation_price(exec_price, close)
    changes = int(np.count_nonzero(np.diff(pos, axis=0, prepend=np.int8(0))))
    size, _ = order_arrays(pos, price)
    assert np.count_nonzero(~np.isnan(size)) <= changes
    n_sessions, n_cols = pos.shape
    index = pd.bdate_range("2015-01-05", periods=n_sessions)
    columns = pd.RangeIndex(n_cols)
    args = (pos, price, mark, index, columns, np.full(n_cols, 100.0), 0.001, 0.001)
    bounded = run_portfolio(*args, group_by=np.arange(n_cols) // 3, max_orders=changes)
    unbounded = run_portfolio(*args)
    np.testing.assert_allclose(
        np.asarray(bounded.value()),
        np.asarray(unbounded.value()).reshape(n_sessions, 2, 3).sum(axis=2),
        rtol=1e-12,
    )
    assert len(bounded.orders.records_arr) == len(unbounded.orders.records_arr)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sessions=st.integers(2, 40),
    n_tickers=st.integers(1, 4),
    fees=st.sampled_from([0.0, 0.001]),
)
def test_sleeve_values_are_vectorbts_value_bit_for_bit(
    seed: int, n_sessions: int, n_tickers: int, fees: float
) -> None:
    """The lean valuation (vectorbt's functions on plain arrays) is ``Portfolio.value()``."""
    pos, exec_price, close = _hostile_market(
        np.random.default_rng(seed), n_sessions, n_tickers, 0.2
    )
    mark = valuation_price(exec_price, close)
    index = pd.bdate_range("2015-01-05", periods=n_sessions)
    columns = pd.Index([f"T{k}" for k in range(n_tickers)], name="ticker")
    portfolio = run_portfolio(
        pos, tradeable_price(exec_price), mark, index, columns, 1000.0, fees, 0.001
    )
    expected = np.asarray(portfolio.value(), dtype=np.float64)
    np.testing.assert_array_equal(
        ungrouped_value(portfolio).view(np.int64), expected.view(np.int64)
    )


def test_strategy_benchmark_and_their_zoned_copies_hold_one_close_array():
    """vectorbt copies the close at each wrap (pandas 3); the engine's portfolios do not: the
    strategy, its benchmark and both relabelled to a zoned bar index read one array."""
    import vectorbt as vbt

    from backtest.engine import labelled

    rng = np.random.default_rng(11)
    pos, exec_price, close = _hostile_market(rng, 60, 3, 0.1)
    zoned = pd.date_range("2024-03-08 09:30", periods=60, freq="min", tz="America/New_York")
    simulation = simulate(
        pos,
        exec_price,
        close,
        dates=zoned,
        tickers=["A", "B", "C"],
        initial_cash=9_000.0,
        fees=0.001,
        slippage=0.0,
    )
    portfolios = [simulation.portfolio, simulation.benchmark_portfolio]
    portfolios += [labelled(p, zoned) for p in portfolios]
    arrays = [p.close.to_numpy() for p in portfolios]
    assert all(np.shares_memory(arrays[0], a) for a in arrays[1:])
    assert all(isinstance(p, vbt.Portfolio) for p in portfolios)
    assert portfolios[2].close.index.equals(zoned)
    assert all(list(np.asarray(p.value()).shape) == [60, 3] for p in portfolios)
    assert all(list(p.value().columns) == ["A", "B", "C"] for p in portfolios)
    assert portfolios[0].close.index.tz is None
    plain = vbt.Portfolio(**simulation.portfolio.config)
    np.testing.assert_array_equal(
        np.asarray(plain.value()), np.asarray(simulation.portfolio.value())
    )
    np.testing.assert_array_equal(plain.close.to_numpy(), arrays[0])
    assert not np.shares_memory(plain.close.to_numpy(), arrays[0])


def test_a_shared_close_portfolio_still_selects_columns():
    """Selecting columns builds portfolios of other shapes: they take vectorbt's broadcast."""
    pos, exec_price, close = _hostile_market(np.random.default_rng(3), 30, 4, 0.1)
    simulation = _simulate(pos, exec_price, close, fees=0.001)
    full = simulation.portfolio
    one = full["T2"]
    np.testing.assert_array_equal(np.asarray(one.value()), np.asarray(full.value())[:, 2])
    pair = full.iloc[[1, 3]]
    assert list(pair.close.columns) == ["T1", "T3"]
    np.testing.assert_array_equal(pair.close.to_numpy(), full.close.to_numpy()[:, [1, 3]])
    np.testing.assert_array_equal(np.asarray(pair.value()), np.asarray(full.value())[:, [1, 3]])
