"""Luck baselines: the kernels against plain-Python twins, seeding, and what they must detect.

A strategy that knows tomorrow's return must rank at the top of its random-timing shuffles; a
strategy of coin flips must not.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.analytics.baselines import (
    block_bootstrap,
    random_timing,
    sharpe_rows,
)
from backtest.analytics.stats import sharpe_ratio
from backtest.kernels.baselines import (
    book_returns,
    shuffle_runs,
    sleeve_returns,
    stationary_bootstrap_indices,
)


def reference_shuffle(positions, tradable, keys):
    """shuffle_runs' contract, one draw, one ticker and one session at a time."""
    n_draws = keys.shape[0]
    n_sessions, n_tickers = positions.shape
    out = np.zeros((n_draws, n_sessions, n_tickers))
    for k in range(n_tickers):
        rows = [t for t in range(n_sessions) if tradable[t, k]]
        runs: list[list[float]] = []
        for t in rows:
            value = float(positions[t, k])
            if runs and np.sign(runs[-1][-1]) == np.sign(value):
                runs[-1].append(value)
            else:
                runs.append([value])
        for n in range(n_draws):
            order = sorted(range(len(runs)), key=lambda j, n=n, k=k: (keys[n, k, j], j))
            laid = [value for j in order for value in runs[j]]
            held, r = 0.0, 0
            for t in range(n_sessions):
                if r < len(rows) and rows[r] == t:
                    held = laid[r]
                    r += 1
                out[n, t, k] = held
    return out


def reference_sleeve_returns(positions, returns, cost):
    """sleeve_returns' contract with Python floats."""
    n_draws, n_sessions, n_tickers = positions.shape
    out = np.zeros((n_draws, n_sessions))
    for n in range(n_draws):
        value = [1.0 / n_tickers] * n_tickers
        before = 1.0
        for t in range(n_sessions):
            for k in range(n_tickers):
                p = float(positions[n, t, k])
                prev = float(positions[n, t - 1, k]) if t > 0 else 0.0
                r = float(returns[t, k])
                move = p * r if math.isfinite(r) else 0.0
                value[k] *= 1.0 + move - cost * abs(p - prev)
            after = sum(value)
            out[n, t] = after / before - 1.0
            before = after
    return out


def reference_book_returns(weights, returns, cost):
    """book_returns' contract with Python floats."""
    n_draws, n_sessions, n_tickers = weights.shape
    out = np.zeros((n_draws, n_sessions))
    for n in range(n_draws):
        for t in range(n_sessions):
            total = 0.0
            for k in range(n_tickers):
                w = float(weights[n, t, k])
                prev = float(weights[n, t - 1, k]) if t > 0 else 0.0
                r = float(returns[t, k])
                total += (w * r if math.isfinite(r) else 0.0) - cost * abs(w - prev)
            out[n, t] = total
    return out


def _market(seed: int, n_sessions: int, n_tickers: int):
    rng = np.random.default_rng(seed)
    pos = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n_sessions, n_tickers))
    pos = np.repeat(pos[: max(1, n_sessions // 3)], 3, axis=0)[:n_sessions]
    if len(pos) < n_sessions:
        pos = np.vstack([pos, np.zeros((n_sessions - len(pos), n_tickers), np.int8)])
    tradable = rng.random((n_sessions, n_tickers)) > 0.2
    returns = rng.normal(0.0, 0.02, size=(n_sessions, n_tickers))
    returns[rng.random(returns.shape) < 0.1] = np.nan
    return pos.astype(np.float64), tradable, returns


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sessions=st.integers(1, 30),
    n_tickers=st.integers(1, 4),
    n_draws=st.integers(1, 4),
)
def test_shuffle_runs_matches_reference(seed, n_sessions, n_tickers, n_draws):
    pos, tradable, _ = _market(seed, n_sessions, n_tickers)
    keys = np.random.default_rng(seed + 1).random((n_draws, n_tickers, n_sessions))
    np.testing.assert_array_equal(
        shuffle_runs(pos, tradable, keys), reference_shuffle(pos, tradable, keys)
    )
    weights = pos * np.random.default_rng(seed + 2).uniform(0.01, 0.3, size=pos.shape)
    np.testing.assert_array_equal(
        shuffle_runs(weights, tradable, keys), reference_shuffle(weights, tradable, keys)
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sessions=st.integers(1, 30),
    n_tickers=st.integers(1, 4),
    cost=st.sampled_from([0.0, 0.001, 0.01]),
)
def test_sleeve_and_book_returns_match_reference(seed, n_sessions, n_tickers, cost):
    pos, _, returns = _market(seed, n_sessions, n_tickers)
    stack = np.stack([pos, -pos, np.zeros_like(pos)])
    np.testing.assert_allclose(
        sleeve_returns(stack, returns, cost),
        reference_sleeve_returns(stack, returns, cost),
        rtol=1e-12,
        atol=1e-15,
    )
    weights = stack * np.random.default_rng(seed).uniform(0, 0.3, size=stack.shape)
    np.testing.assert_allclose(
        book_returns(weights, returns, cost),
        reference_book_returns(weights, returns, cost),
        rtol=1e-12,
        atol=1e-15,
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 40), p=st.sampled_from([0.05, 0.5, 1.0]))
def test_bootstrap_indices_match_reference(seed, n, p):
    rng = np.random.default_rng(seed)
    starts, uniforms = rng.integers(0, n, size=(3, n)), rng.random((3, n))
    expected = np.empty((3, n), dtype=np.int64)
    for b in range(3):
        expected[b, 0] = starts[b, 0]
        for t in range(1, n):
            new = uniforms[b, t] < p
            expected[b, t] = starts[b, t] if new else (expected[b, t - 1] + 1) % n
    np.testing.assert_array_equal(stationary_bootstrap_indices(starts, uniforms, p), expected)


def test_shuffles_keep_each_tickers_exposure():
    pos, tradable, _ = _market(3, 200, 5)
    keys = np.random.default_rng(0).random((20, 5, 200))
    shuffled = shuffle_runs(pos, tradable, keys)
    for k in range(5):
        own = np.bincount(pos[tradable[:, k], k].astype(int) + 1, minlength=3)
        for n in range(20):
            drawn = np.bincount(shuffled[n][tradable[:, k], k].astype(int) + 1, minlength=3)
            np.testing.assert_array_equal(drawn, own)


def test_sharpe_rows_is_the_reported_sharpe():
    r = np.random.default_rng(5).normal(0.001, 0.01, size=(3, 50))
    for row, value in zip(r, sharpe_rows(r), strict=True):
        assert math.isclose(value, sharpe_ratio(row), rel_tol=1e-12)
    assert np.isnan(sharpe_rows(np.zeros((1, 10)))[0])


def _foresight_market(seed: int = 11, n_sessions: int = 300, n_tickers: int = 8):
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.02, size=(n_sessions, n_tickers))
    return returns, np.ones((n_sessions, n_tickers), dtype=bool)


def test_perfect_foresight_ranks_at_the_top():
    returns, tradable = _foresight_market()
    knows = np.sign(returns).astype(np.int8)
    result = random_timing(knows, tradable, returns, cost=0.001, runs=200, seed=1)
    assert result.percentile == 100.0
    assert result.strategy_sharpe > result.p95


def test_coin_flips_do_not_rank_at_the_top():
    returns, tradable = _foresight_market()
    percentiles = []
    for seed in range(10):
        flips = np.random.default_rng(100 + seed).integers(-1, 2, size=returns.shape)
        result = random_timing(flips.astype(np.int8), tradable, returns, cost=0.0, runs=100, seed=1)
        percentiles.append(result.percentile)
    assert 20.0 < float(np.mean(percentiles)) < 80.0
    assert sum(p >= 95.0 for p in percentiles) <= 2


def test_perfect_foresight_book_ranks_at_the_top():
    returns, tradable = _foresight_market()
    knows = np.sign(returns) / returns.shape[1]
    result = random_timing(knows, tradable, returns, cost=0.001, runs=100, seed=1, book=True)
    assert result.percentile == 100.0


def test_baselines_are_seeded():
    returns, tradable = _foresight_market()
    flips = np.random.default_rng(7).integers(-1, 2, size=returns.shape).astype(np.int8)
    first = random_timing(flips, tradable, returns, cost=0.001, runs=50, seed=3)
    assert random_timing(flips, tradable, returns, cost=0.001, runs=50, seed=3) == first
    assert random_timing(flips, tradable, returns, cost=0.001, runs=50, seed=4) != first
    boot = block_bootstrap(returns[:, 0], returns[:, 1], runs=300, block_sessions=10, seed=3)
    again = block_bootstrap(returns[:, 0], returns[:, 1], runs=300, block_sessions=10, seed=3)
    assert boot == again


def test_bootstrap_interval_covers_the_sharpe_and_excess_is_paired():
    rng = np.random.default_rng(9)
    bench = rng.normal(0.0005, 0.01, size=500)
    strategy = bench + rng.normal(0.001, 0.002, size=500)
    result = block_bootstrap(strategy, bench, runs=500, block_sessions=10, seed=1)
    assert result.sharpe_low < sharpe_ratio(strategy) < result.sharpe_high
    assert result.benchmark_sharpe_low < sharpe_ratio(bench) < result.benchmark_sharpe_high
    assert result.excess_low > 0
    same = block_bootstrap(bench, bench, runs=100, block_sessions=10, seed=1)
    assert same.excess_low == same.excess_high == 0.0


def test_zero_runs_turn_the_baselines_off():
    returns, tradable = _foresight_market()
    pos = np.ones(returns.shape, dtype=np.int8)
    off = random_timing(pos, tradable, returns, cost=0.0, runs=0, seed=1)
    assert off.percentile is None and off.strategy_sharpe is not None
    boot = block_bootstrap(returns[:, 0], returns[:, 1], runs=0, block_sessions=10, seed=1)
    assert boot.sharpe_low is None
