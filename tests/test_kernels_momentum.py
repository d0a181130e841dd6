"""Momentum kernel against a plain-Python reference, point-in-time behaviour and the buckets."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.kernels.momentum import momentum_bucket, momentum_score


def reference_momentum(
    close: list[list[float]], lookback_sessions: int, lag_sessions: int
) -> list[list[float]]:
    """The documented definition, one cell at a time, with the statistics module."""
    n_sessions = len(close)
    n_tickers = len(close[0]) if close else 0
    needed = max(2, lookback_sessions // 2)
    out = [[math.nan] * n_tickers for _ in range(n_sessions)]
    for t in range(n_sessions):
        end = t - lag_sessions
        for k in range(n_tickers):
            returns = []
            for j in range(end - lookback_sessions + 1, end + 1):
                if j < 1:
                    continue
                a, b = close[j - 1][k], close[j][k]
                if math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0:
                    returns.append(math.log(b) - math.log(a))
            if len(returns) < needed:
                continue
            total = math.fsum(returns)
            sd = statistics.stdev(returns)
            if sd == 0:
                z = 0.0 if total == 0 else math.copysign(8.0, total)
            else:
                z = max(-8.0, min(8.0, total / (sd * math.sqrt(len(returns)))))
            out[t][k] = 100.0 * statistics.NormalDist().cdf(z)
    return out


close_values = st.one_of(
    st.floats(min_value=1.0, max_value=200.0),
    st.floats(min_value=1e-300, max_value=1e300),
    st.sampled_from([math.nan, math.inf, 0.0, -5.0, 5e-324, 1e-300, 1e300, 100.0]),
)


@st.composite
def close_panels(draw):
    n_sessions = draw(st.integers(min_value=1, max_value=25))
    n_tickers = draw(st.integers(min_value=1, max_value=3))
    columns = []
    for _ in range(n_tickers):
        kind = draw(st.sampled_from(["random", "constant", "walk"]))
        if kind == "constant":
            columns.append([draw(close_values)] * n_sessions)
        elif kind == "walk":
            price = draw(st.floats(min_value=1.0, max_value=500.0))
            column = []
            for _ in range(n_sessions):
                price *= draw(st.floats(min_value=0.8, max_value=1.25))
                missing = draw(st.integers(min_value=0, max_value=9)) == 0
                column.append(math.nan if missing else price)
            columns.append(column)
        else:
            columns.append(draw(st.lists(close_values, min_size=n_sessions, max_size=n_sessions)))
    return [[columns[k][t] for k in range(n_tickers)] for t in range(n_sessions)]


def assert_matches(got: np.ndarray, expected: list[list[float]]) -> None:
    for t, row in enumerate(expected):
        for k, value in enumerate(row):
            if math.isnan(value):
                assert math.isnan(got[t, k]), (t, k, got[t, k])
            else:
                assert got[t, k] == pytest.approx(value, abs=1e-9), (t, k)


@settings(max_examples=200, deadline=None)
@given(
    close_panels(),
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=0, max_value=3),
)
def test_momentum_agrees_with_reference(close, lookback, lag) -> None:
    got = momentum_score(np.array(close, dtype=np.float64), lookback, lag)
    assert got.shape == (len(close), len(close[0]))
    assert_matches(got, reference_momentum(close, lookback, lag))


def rising(n: int, start: float = 100.0, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start * np.cumprod(1.0 + rng.normal(0.004, 0.01, n)).reshape(n, 1)


def test_momentum_ignores_the_decision_session_close_for_open_execution() -> None:
    close = rising(30)
    spiked = close.copy()
    spiked[20, 0] *= 3.0
    before = momentum_score(close, 10, 1)
    after = momentum_score(spiked, 10, 1)
    assert np.array_equal(before[:21], after[:21], equal_nan=True)
    assert before[21, 0] != after[21, 0]


def test_momentum_uses_the_decision_session_close_for_close_execution() -> None:
    close = rising(30)
    crashed = close.copy()
    crashed[20, 0] *= 0.5
    before = momentum_score(close, 10, 0)
    after = momentum_score(crashed, 10, 0)
    assert np.array_equal(before[:20], after[:20], equal_nan=True)
    assert after[20, 0] < before[20, 0]


def test_momentum_of_rising_prices_is_above_50_and_falling_below() -> None:
    up = np.array([[100.0 + i + 0.5 * (i % 2)] for i in range(15)])
    down = up[::-1].copy()
    assert momentum_score(up, 10, 0)[-1, 0] > 80.0
    assert momentum_score(down, 10, 0)[-1, 0] < 20.0


def test_momentum_of_constant_prices_is_exactly_50() -> None:
    scores = momentum_score(np.full((10, 2), 42.0), 5, 1)
    assert np.all(scores[4:] == 50.0)


def test_momentum_of_steady_compounding_hits_the_cap() -> None:
    close = np.array([[2.0**i] for i in range(8)])
    assert momentum_score(close, 4, 0)[-1, 0] == pytest.approx(100.0)
    assert momentum_score(close[::-1].copy(), 4, 0)[-1, 0] == pytest.approx(0.0)


def test_momentum_skips_returns_across_missing_prices_instead_of_bridging() -> None:
    skipped = momentum_score(np.array([[1.0], [2.0], [math.nan], [1.0], [2.0]]), 4, 0)[-1, 0]
    assert skipped == pytest.approx(100.0)
    bridged = momentum_score(np.array([[1.0], [2.0], [1.0], [2.0]]), 3, 0)[-1, 0]
    assert bridged < 99.0


def test_momentum_is_nan_without_enough_history() -> None:
    close = rising(12)
    scores = momentum_score(close, 10, 1)
    assert np.all(np.isnan(scores[:6, 0]))
    assert not np.isnan(scores[6, 0])


def test_momentum_treats_zero_and_negative_prices_as_missing() -> None:
    close = np.array([[1.0], [0.0], [-3.0], [2.0], [4.0], [8.0]])
    assert momentum_score(close, 5, 0)[-1, 0] == pytest.approx(100.0)
    assert math.isnan(momentum_score(close, 5, 0)[3, 0])


def test_momentum_with_a_single_session_is_nan() -> None:
    assert np.isnan(momentum_score(np.array([[100.0, 50.0]]), 2, 0)).all()


@pytest.mark.parametrize(("lookback", "lag"), [(1, 0), (0, 1), (5, -1)])
def test_momentum_rejects_impossible_parameters(lookback: int, lag: int) -> None:
    with pytest.raises(ValueError):
        momentum_score(np.ones((5, 1)), lookback, lag)


@pytest.mark.parametrize(
    ("score", "bucket"),
    [
        (0.0, "weak"),
        (19.999, "weak"),
        (20.0, "soft"),
        (39.999, "soft"),
        (40.0, "flat"),
        (50.0, "flat"),
        (59.999, "flat"),
        (60.0, "firm"),
        (79.999, "firm"),
        (80.0, "strong"),
        (100.0, "strong"),
        (math.nan, "n/a"),
    ],
)
def test_momentum_bucket_boundaries(score: float, bucket: str) -> None:
    assert momentum_bucket(score) == bucket
