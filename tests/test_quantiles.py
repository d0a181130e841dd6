"""Quantile returns and IC decay on synthetic data whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtest.analytics.quantiles import (
    IC_HORIZONS,
    forward_returns,
    ic_decay,
    quantile_assignments,
    quantile_returns,
)


def test_quantile_assignments_split_evenly_and_keep_ties_together():
    np.testing.assert_array_equal(
        quantile_assignments(np.arange(10.0)[::-1]), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    )
    q = quantile_assignments(np.array([1.0, 1.0, 1.0, 1.0, 2.0, 3.0, np.nan]))
    assert len(set(q[:4])) == 1 and q[6] == 0
    np.testing.assert_array_equal(quantile_assignments(np.array([1.0, 2.0, np.nan])), [0, 0, 0])


def test_forward_returns_are_execution_price_to_execution_price():
    price = np.array([[10.0], [11.0], [np.nan], [12.1]])
    np.testing.assert_allclose(forward_returns(price, 1)[:, 0], [0.1, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(forward_returns(price, 3)[:, 0], [0.21, np.nan, np.nan, np.nan])


def test_quintile_means_and_spread_recover_a_planted_step():
    rng = np.random.default_rng(0)
    n_sessions, n_tickers = 400, 25
    composite = rng.uniform(0, 100, size=(n_sessions, n_tickers))
    quintile = np.vstack([quantile_assignments(row) for row in composite])
    noise = rng.normal(0.0, 0.001, size=composite.shape)
    next_return = 0.01 * quintile + noise
    result = quantile_returns(composite, next_return)
    assert result.sessions == n_sessions
    np.testing.assert_allclose(result.mean_return, [0.01, 0.02, 0.03, 0.04, 0.05], atol=2e-4)
    assert result.mean_names == [5.0] * 5
    assert result.spread_mean == pytest.approx(0.04, abs=2e-4)
    spread = next_return[quintile == 5].reshape(n_sessions, 5).mean(axis=1) - next_return[
        quintile == 1
    ].reshape(n_sessions, 5).mean(axis=1)
    expected_t = spread.mean() / (spread.std(ddof=1) / math.sqrt(n_sessions))
    assert result.spread_t_stat == pytest.approx(expected_t, rel=1e-9)


def test_no_edge_gives_an_insignificant_spread():
    rng = np.random.default_rng(1)
    composite = rng.uniform(0, 100, size=(500, 20))
    result = quantile_returns(composite, rng.normal(0, 0.01, size=composite.shape))
    assert abs(result.spread_t_stat) < 3.0


def test_ic_decay_of_a_perfect_and_a_reversed_ranking():
    n_sessions, n_tickers = 60, 6
    growth = np.linspace(-0.01, 0.01, n_tickers)
    price = 100 * np.cumprod(np.tile(1 + growth, (n_sessions, 1)), axis=0)
    composite = np.tile(np.arange(n_tickers, dtype=float), (n_sessions, 1))
    forward = {h: forward_returns(price, h) for h in IC_HORIZONS}
    decay = ic_decay(composite, forward)
    assert decay.horizons == [1, 2, 5, 10]
    np.testing.assert_allclose(decay.mean, [1.0] * 4)
    assert decay.sessions == [n_sessions - h for h in IC_HORIZONS]
    reverse = ic_decay(-composite, forward)
    np.testing.assert_allclose(reverse.mean, [-1.0] * 4)


def test_ic_decay_fades_when_only_tomorrow_is_known():
    rng = np.random.default_rng(2)
    returns = rng.normal(0, 0.01, size=(800, 15))
    price = 100 * np.cumprod(1 + returns, axis=0)
    price = np.vstack([np.full((1, 15), 100.0), price])
    composite = np.vstack([returns, np.zeros((1, 15))])
    decay = ic_decay(composite, {h: forward_returns(price, h) for h in IC_HORIZONS})
    assert decay.mean[0] == pytest.approx(1.0)
    assert decay.mean[0] > decay.mean[1] > decay.mean[2] > decay.mean[3] > 0
