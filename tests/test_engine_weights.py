"""The shared-cash book's accounting (engine.py, W1-W5), pinned against independent
recomputations that do not import vectorbt: the compounding formula with zero costs and a
rebalance every session, and a plain loop over orders with costs and any rebalance calendar.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.engine import simulate_weights, with_borrow
from backtest.kernels.weights import RANK, SIGNAL, session_weights, target_weights

TOLERANCE = 1e-6


def _market(seed: int, n_sessions: int, n_tickers: int):
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(n_sessions, n_tickers)), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.01, size=close.shape))
    raw = rng.normal(0, 1, size=close.shape)
    raw -= raw.mean(axis=1, keepdims=True)
    weights = raw / np.abs(raw).sum(axis=1, keepdims=True)
    return open_, close, weights


def _run(weights, rebalanced, open_, close, fees=0.0, slippage=0.0, borrow_bps=0.0):
    n_sessions, n_tickers = weights.shape
    return simulate_weights(
        weights,
        rebalanced,
        open_,
        close,
        dates=pd.bdate_range("2016-01-04", periods=n_sessions),
        tickers=[f"T{k}" for k in range(n_tickers)],
        initial_cash=10_000.0,
        fees=fees,
        slippage=slippage,
        borrow_bps=borrow_bps,
    )


def formula_equity(weights, open_, close, initial_cash):
    """Zero costs, rebalanced at every open: the issue's compounding formula."""
    at_open = initial_cash
    out = np.empty(len(weights))
    for t in range(len(weights)):
        out[t] = at_open * (1 + np.sum(weights[t] * (close[t] / open_[t] - 1)))
        if t + 1 < len(weights):
            at_open *= 1 + np.sum(weights[t] * (open_[t + 1] / open_[t] - 1))
    return out


def loop_equity(weights, rebalanced, open_, close, initial_cash, fees, slippage):
    """W2-W4 order by order: size to target at the open's equity, sells before buys."""
    n_sessions, n_tickers = weights.shape
    cash, shares = initial_cash, np.zeros(n_tickers)
    out = np.empty(n_sessions)
    for t in range(n_sessions):
        if rebalanced[t]:
            equity = cash + float(np.sum(shares * open_[t]))
            delta = weights[t] * equity / open_[t] - shares
            for k in sorted(range(n_tickers), key=lambda k: delta[k] > 0):
                fill = open_[t, k] * (1 + slippage if delta[k] > 0 else 1 - slippage)
                cash -= delta[k] * fill + fees * abs(delta[k]) * fill
                shares[k] += delta[k]
        out[t] = cash + float(np.sum(shares * close[t]))
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_sessions=st.integers(2, 40), n_tickers=st.integers(2, 7))
def test_zero_cost_session_rebalance_compounds_the_weighted_returns(seed, n_sessions, n_tickers):
    open_, close, weights = _market(seed, n_sessions, n_tickers)
    sim = _run(weights, np.ones(n_sessions, bool), open_, close)
    expected = formula_equity(weights, open_, close, 10_000.0)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=TOLERANCE)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sessions=st.integers(2, 40),
    n_tickers=st.integers(2, 6),
    fees=st.sampled_from([0.0, 0.0005, 0.01]),
    slippage=st.sampled_from([0.0, 0.0005, 0.01]),
    every=st.sampled_from([1, 2, 5]),
    gross=st.sampled_from([1.0, 2.0]),
)
def test_costs_and_calendars_match_a_plain_loop(
    seed, n_sessions, n_tickers, fees, slippage, every, gross
):
    open_, close, weights = _market(seed, n_sessions, n_tickers)
    weights = weights * gross
    rebalanced = np.arange(n_sessions) % every == 0
    held = weights[np.maximum.accumulate(np.where(rebalanced, np.arange(n_sessions), 0))]
    sim = _run(held, rebalanced, open_, close, fees=fees, slippage=slippage)
    expected = loop_equity(held, rebalanced, open_, close, 10_000.0, fees, slippage)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected, rtol=TOLERANCE)
    assert list(sim.positions.columns) == [f"T{k}" for k in range(n_tickers)]


def test_traded_value_and_ticker_contributions_add_up():
    open_, close, weights = _market(4, 30, 5)
    sim = _run(weights, np.ones(30, bool), open_, close, fees=0.001, slippage=0.001)
    pnl = sim.sleeve_value.to_numpy() - 10_000.0 / 5
    np.testing.assert_allclose(pnl.sum(axis=1), sim.equity.to_numpy() - 10_000.0, rtol=1e-9)
    assert sim.traded.iloc[0] == pytest.approx(1.0, rel=0.01)
    assert (sim.traded > 0).all()


def test_a_missing_price_places_no_order_and_keeps_the_shares():
    open_, close, weights = _market(5, 12, 4)
    open_[5:8, 2] = np.nan
    sim = _run(weights, np.ones(12, bool), open_, close)
    assets = np.asarray(sim.portfolio.assets())
    np.testing.assert_array_equal(assets[5:8, 2], assets[4, 2])
    assert np.isfinite(sim.equity).all()


def test_borrow_is_charged_daily_on_the_short_notional():
    open_, close, weights = _market(6, 50, 4)
    free = _run(weights, np.ones(50, bool), open_, close)
    paid = _run(weights, np.ones(50, bool), open_, close, borrow_bps=100.0)
    assert paid.equity.iloc[-1] < free.equity.iloc[-1]
    short = -np.minimum(np.asarray(free.portfolio.asset_value(group_by=False)), 0).sum(axis=1)
    expected = with_borrow(free.equity, short, 10_000.0, 100.0)
    np.testing.assert_allclose(paid.equity.to_numpy(), expected.to_numpy(), rtol=1e-12)
    gross = free.equity.to_numpy() / np.concatenate([[10_000.0], free.equity.to_numpy()[:-1]])
    charge = 0.01 / 252 * short / free.equity.to_numpy()
    np.testing.assert_allclose(
        paid.equity.to_numpy(), 10_000.0 * np.cumprod(gross - charge), rtol=1e-12
    )


def test_rank_weights_are_dollar_neutral_equal_weight_legs():
    composite = np.array([10.0, 90.0, 50.0, 70.0, 20.0, 60.0, 40.0, 80.0, 30.0, 55.0])
    w = session_weights(composite, np.ones(10, bool), RANK, 0.2, 0.2, 1.0, 0.0, 0.0)
    np.testing.assert_allclose(w[[1, 7]], 0.25)
    np.testing.assert_allclose(w[[0, 4]], -0.25)
    assert np.count_nonzero(w) == 4 and math.isclose(w.sum(), 0.0, abs_tol=1e-15)
    counted = session_weights(composite, np.ones(10, bool), RANK, 3, 1, 1.0, 0.5, 0.0)
    np.testing.assert_allclose(counted[[1, 7, 3]], 0.75 / 3)
    np.testing.assert_allclose(counted[0], -0.25)


def test_rank_counts_follow_the_names_with_a_price():
    composite = np.arange(10.0)
    eligible = np.arange(10) >= 3
    w = session_weights(composite, eligible, RANK, 0.2, 0.2, 1.0, 0.0, 0.0)
    assert np.count_nonzero(w[:3]) == 0
    np.testing.assert_allclose(w[[9]], 0.5)
    np.testing.assert_allclose(w[[3]], -0.5)


def test_signal_weights_are_proportional_to_the_composite_and_capped():
    composite = np.array([70.0, 40.0, 50.0, 60.0])
    w = session_weights(composite, np.ones(4, bool), SIGNAL, 0, 0, 1.0, 0.0, 0.0)
    np.testing.assert_allclose(w, [0.5, -0.25, 0.0, 0.25])
    capped = session_weights(composite, np.ones(4, bool), SIGNAL, 0, 0, 1.0, 0.0, 0.3)
    np.testing.assert_allclose(capped, [0.3, -0.25, 0.0, 0.25])


def test_on_signal_rebalances_only_when_the_sides_change():
    composite = np.array([[10.0, 90.0, 50.0], [12.0, 88.0, 50.0], [90.0, 10.0, 50.0]])
    w, rebalanced = target_weights(
        composite, np.ones((3, 3), bool), np.ones(3, bool), True, RANK, 1, 1, 1.0, 0.0, 0.0
    )
    np.testing.assert_array_equal(rebalanced, [True, False, True])
    np.testing.assert_allclose(w[1], w[0])
    np.testing.assert_allclose(w[2], [0.5, -0.5, 0.0])


@pytest.mark.parametrize("construction", ["rank", "signal"])
def test_a_run_reproduces_from_signals_csv_weights_and_the_prices(slice_files, construction):
    from cli_helpers import SLICE_END, SLICE_START

    import backtest

    prices_path, headlines_path = slice_files
    result = backtest.run(
        prices=prices_path,
        headlines=headlines_path,
        start=SLICE_START,
        end=SLICE_END,
        overrides={
            "portfolio.construction": construction,
            "portfolio.long": 1,
            "portfolio.short": 1,
            "execution.fees": 0.0,
            "execution.slippage": 0.0,
            "baselines.random_runs": 0,
        },
    )
    weights = result.signals.pivot(index="date", columns="ticker", values="weight")
    prices = pd.read_csv(prices_path)
    prices["date"] = pd.to_datetime(prices["date"]).dt.strftime("%Y-%m-%d")
    open_ = prices.pivot(index="date", columns="ticker", values="open").reindex_like(weights)
    close = prices.pivot(index="date", columns="ticker", values="close").reindex_like(weights)
    assert open_.notna().all().all()
    expected = formula_equity(
        weights.to_numpy(), open_.to_numpy(), close.to_numpy(), result.config.execution.initial_cash
    )
    np.testing.assert_allclose(result.equity["equity"].to_numpy(), expected, rtol=TOLERANCE)
    assert np.abs(weights.to_numpy()).sum(axis=1) == pytest.approx(1.0)
    assert result.summary["portfolio"]["construction"] == construction
