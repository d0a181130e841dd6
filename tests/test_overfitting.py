"""Deflated Sharpe ratio and probability of backtest overfitting against hand-checked cases."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.analytics.overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    objective_values,
    overfitting_guards,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    split_bounds,
)
from backtest.errors import InputError

GAMMA = 0.5772156649015329
PHI = NormalDist()


def _moments_by_hand(xs: list[float]) -> tuple[float, float, float]:
    """Per-period Sharpe (sample sd), skewness and non-excess kurtosis (population moments)."""
    mean = statistics.fmean(xs)
    sr = mean / statistics.stdev(xs)
    m2 = sum((x - mean) ** 2 for x in xs) / len(xs)
    m3 = sum((x - mean) ** 3 for x in xs) / len(xs)
    m4 = sum((x - mean) ** 4 for x in xs) / len(xs)
    return sr, m3 / m2**1.5, m4 / m2**2


def test_deflated_sharpe_of_paper_example_is_0_9004():
    # Bailey & López de Prado (2014), numerical example: annualised SR 2.5 over 5 years of
    # daily data (T = 1250, 250 days a year), N = 100 trials whose annualised Sharpe ratios
    # have variance 0.5, skewness -3, kurtosis 10 -> E[max SR] = 1.7894 annualised, DSR = 0.9004.
    sr = 2.5 / math.sqrt(250)
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 * math.sqrt(250) == pytest.approx(1.7894, abs=1e-4)
    assert probabilistic_sharpe_ratio(sr, sr0, 1250, -3.0, 10.0) == pytest.approx(0.9004, abs=1e-4)


def test_deflated_sharpe_follows_the_formula_step_by_step():
    returns = [0.01, -0.004, 0.007, 0.012, -0.009, 0.003, 0.0, 0.02, -0.015, 0.006, 0.004]
    trials_annual = [0.3, -0.2, 1.1, 0.8, 0.05, 1.4, -0.6]
    sr, skew, kurt = _moments_by_hand(returns)
    n, t = len(trials_annual), len(returns)
    variance = statistics.variance([s / math.sqrt(252) for s in trials_annual])
    sr0 = math.sqrt(variance) * (
        (1 - GAMMA) * PHI.inv_cdf(1 - 1 / n) + GAMMA * PHI.inv_cdf(1 - 1 / (n * math.e))
    )
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)

    result = deflated_sharpe_ratio(np.array(returns), np.array(trials_annual))

    assert result is not None
    assert result.sr0 == pytest.approx(sr0, rel=1e-12)
    assert result.sharpe == pytest.approx(sr, rel=1e-12)
    assert result.sharpe_annual == pytest.approx(sr * math.sqrt(252), rel=1e-12)
    assert result.skewness == pytest.approx(skew, rel=1e-12)
    assert result.kurtosis == pytest.approx(kurt, rel=1e-12)
    assert result.dsr == pytest.approx(PHI.cdf(z), rel=1e-9)
    assert (result.n_trials, result.n_observations) == (n, t)


def test_one_trial_deflates_to_the_probabilistic_sharpe_against_zero():
    returns = [0.02, -0.01, 0.015, 0.003, -0.002, 0.011]
    sr, skew, kurt = _moments_by_hand(returns)
    psr = PHI.cdf(
        sr * math.sqrt(len(returns) - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    )

    result = deflated_sharpe_ratio(np.array(returns), np.array([1.3]))

    assert result is not None
    assert result.sr0 == 0.0
    assert result.dsr == pytest.approx(psr, rel=1e-12)


def test_more_trials_deflate_more():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.001, 0.01, 500)
    trials = rng.normal(0.0, 1.0, 1000)
    few = deflated_sharpe_ratio(returns, trials[:10])
    many = deflated_sharpe_ratio(returns, trials)
    assert few is not None and many is not None
    assert many.sr0 > few.sr0
    assert many.dsr < few.dsr


def test_flat_returns_have_no_deflated_sharpe():
    assert deflated_sharpe_ratio(np.full(50, 0.001), np.array([0.5, 1.0])) is None
    assert deflated_sharpe_ratio(np.array([0.01]), np.array([0.5, 1.0])) is None


def test_non_finite_returns_and_trials_are_ignored():
    returns = np.array([np.nan, 0.01, -0.004, 0.007, 0.012, -0.009])
    with_gaps = deflated_sharpe_ratio(returns, np.array([0.3, np.nan, 1.1, 0.8]))
    clean = deflated_sharpe_ratio(returns[1:], np.array([0.3, 1.1, 0.8]))
    assert with_gaps is not None and clean is not None
    # N counts every set tried (4 vs 3), so only SR, T and V[SR] agree
    assert with_gaps.sharpe == clean.sharpe
    assert with_gaps.n_observations == 5
    assert with_gaps.n_trials == 4
    assert with_gaps.trials_sharpe_variance == clean.trials_sharpe_variance


# T = 4 sessions, N = 3 sets, S = 4 blocks of one session each; objective "mean". Returns are
# multiples of 1/128 so that every sum and mean is exact and the ties below are real ties.
HAND_RETURNS = np.array([[3, 1, 0], [-2, 1, 2], [3, 0, 1], [-2, 2, 1]]) / 128
# The six in-sample pairs, the IS means (x128) of sets (a, b, c), the winner, the OOS means,
# the winner's OOS rank among 3 (1 = worst) and ω = rank / 4:
#   IS {0,1}: (0.5, 1.0, 1.0) -> b (first of the tie); OOS {2,3}: (0.5, 1.0, 1.0): b ties c
#            for ranks 2-3 -> rank 2.5, ω = 0.625, λ = log(0.625/0.375) > 0
#   IS {0,2}: (3.0, 0.5, 0.5) -> a; OOS {1,3}: (-2.0, 1.5, 1.5): rank 1, ω = 0.25, λ < 0
#   IS {0,3}: (0.5, 1.5, 0.5) -> b; OOS {1,2}: (0.5, 0.5, 1.5): b ties a for ranks 1-2 ->
#            rank 1.5, ω = 0.375, λ < 0
#   IS {1,2}: (0.5, 0.5, 1.5) -> c; OOS {0,3}: (0.5, 1.5, 0.5): c ties a -> rank 1.5, λ < 0
#   IS {1,3}: (-2.0, 1.5, 1.5) -> b; OOS {0,2}: (3.0, 0.5, 0.5): b ties c -> rank 1.5, λ < 0
#   IS {2,3}: (0.5, 1.0, 1.0) -> b; OOS {0,1}: (0.5, 1.0, 1.0): b ties c -> rank 2.5, λ > 0
# PBO = 4 / 6.
HAND_OMEGAS = [0.625, 0.25, 0.375, 0.375, 0.375, 0.625]


def test_pbo_of_four_sessions_enumerated_by_hand():
    result = probability_of_backtest_overfitting(HAND_RETURNS, n_splits=4, objective="mean")
    assert result.n_combinations == 6
    assert result.pbo == pytest.approx(4 / 6)
    expected = [math.log(w / (1 - w)) for w in HAND_OMEGAS]
    np.testing.assert_allclose(result.logits, expected, rtol=1e-12)
    np.testing.assert_array_equal(result.is_performance * 128, [1, 3, 1.5, 1.5, 1.5, 1])
    np.testing.assert_array_equal(result.oos_performance * 128, [1, -2, 0.5, 0.5, 0.5, 1])


def test_pbo_is_zero_when_one_set_is_best_everywhere():
    rng = np.random.default_rng(11)
    noise = rng.normal(0.0, 0.01, size=(160, 20))
    # set 7: mean 0.01 with sd 0.001, a per-period Sharpe near 10 on any rows; the others are
    # zero-mean noise whose Sharpe over 80 rows is ~N(0, 0.11): set 7 wins and ranks first
    noise[:, 7] = 0.01 + 0.1 * noise[:, 7]
    for objective in ("sharpe", "mean", "total_return"):
        result = probability_of_backtest_overfitting(noise, n_splits=16, objective=objective)
        assert result.n_combinations == math.comb(16, 8)
        assert result.pbo == 0.0
        np.testing.assert_allclose(result.logits, math.log(20 / 1))


def test_pbo_of_pure_noise_is_near_one_half():
    # For i.i.d. sets the in-sample winner's out-of-sample rank is uniform on 1..N, so with
    # N even exactly half of the ranks give λ <= 0: E[PBO] = 0.5. One sample's PBO is a share
    # of strongly dependent combinations, so a single seed can be far off; averaged over 200
    # seeds the standard error is at most 0.5 / sqrt(200) = 0.035 (a share's sd is <= 0.5),
    # and the tolerance 0.1 is ~3 of those in the worst case (~7 with the observed spread).
    rng = np.random.default_rng(2015)
    pbos = [
        probability_of_backtest_overfitting(rng.normal(0.0, 0.01, size=(64, 30)), n_splits=8).pbo
        for _ in range(200)
    ]
    assert abs(np.mean(pbos) - 0.5) < 0.1


def test_pbo_flags_an_overfit_grid():
    # Sets that are the same noise with a different one-block "lucky" bump: whichever
    # block sits in-sample picks its lucky set, which is average elsewhere -> PBO high.
    rng = np.random.default_rng(5)
    base = rng.normal(0.0, 0.01, size=(80, 1))
    returns = np.repeat(base, 8, axis=1) + rng.normal(0.0, 0.002, size=(80, 8))
    for k in range(8):
        returns[k * 10 : (k + 1) * 10, k] += 0.02
    result = probability_of_backtest_overfitting(returns, n_splits=8, objective="mean")
    assert result.pbo > 0.9


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(4, 30),
    n_sets=st.integers(2, 6),
    half=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
    objective=st.sampled_from(["sharpe", "mean", "total_return"]),
)
def test_pbo_agrees_with_a_plain_loop_over_combinations(n_rows, n_sets, half, seed, objective):
    n_splits = 2 * half
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.01, size=(n_rows, n_sets))
    blocks = [list(range(a, b)) for a, b in split_bounds(n_rows, n_splits)]
    expected = []
    for combo in itertools.combinations(range(n_splits), half):
        is_rows = [i for k in combo for i in blocks[k]]
        oos_rows = [i for k in range(n_splits) if k not in combo for i in blocks[k]]
        is_perf = [_plain_objective(returns[is_rows, j], objective) for j in range(n_sets)]
        oos_perf = [_plain_objective(returns[oos_rows, j], objective) for j in range(n_sets)]
        best = is_perf.index(max(is_perf))
        below = sum(p < oos_perf[best] for p in oos_perf)
        equal = sum(p == oos_perf[best] for p in oos_perf)
        omega = (below + (equal + 1) / 2) / (n_sets + 1)
        expected.append(math.log(omega / (1 - omega)))
    result = probability_of_backtest_overfitting(returns, n_splits=n_splits, objective=objective)
    np.testing.assert_allclose(result.logits, expected, rtol=1e-9)


def _plain_objective(xs: np.ndarray, objective: str) -> float:
    values = [float(x) for x in xs]
    if objective == "mean":
        return statistics.fmean(values)
    if objective == "total_return":
        return math.prod(1 + x for x in values) - 1
    if len(values) < 2:
        return 0.0
    return statistics.fmean(values) / statistics.stdev(values)


def test_objective_values_match_the_definitions():
    returns = np.array([[0.1, 0.0], [-0.05, 0.0], [0.02, 0.0]])
    sharpe = objective_values(returns, "sharpe")
    assert sharpe[0] == pytest.approx(
        statistics.fmean([0.1, -0.05, 0.02]) / statistics.stdev([0.1, -0.05, 0.02])
    )
    assert sharpe[1] == 0.0  # flat: earns nothing per unit of risk
    assert objective_values(returns, "total_return")[0] == pytest.approx(1.1 * 0.95 * 1.02 - 1)


def test_split_bounds_cover_every_row_once():
    assert split_bounds(10, 4) == [(0, 3), (3, 6), (6, 8), (8, 10)]


@pytest.mark.parametrize(
    ("shape", "n_splits", "objective", "message"),
    [
        ((20, 3), 5, "sharpe", "even"),
        ((3, 3), 4, "sharpe", "cannot be split"),
        ((20, 1), 4, "sharpe", "at least two sets"),
        ((20, 3), 4, "sortino", "unknown objective"),
    ],
)
def test_pbo_rejects_impossible_requests(shape, n_splits, objective, message):
    with pytest.raises(InputError, match=message):
        probability_of_backtest_overfitting(np.zeros(shape), n_splits=n_splits, objective=objective)


def test_guards_bundle_both_figures_and_shrink_the_splits_to_the_data():
    rng = np.random.default_rng(8)
    returns = rng.normal(0.0005, 0.01, size=(11, 4))
    sharpes = np.array([objective_values(returns[:, [j]])[0] * math.sqrt(252) for j in range(4)])
    guards = overfitting_guards(returns, sharpes, best=int(np.argmax(sharpes)))
    assert guards["pbo"]["n_splits"] == 10  # 11 sessions: the largest even number that fits
    expected = probability_of_backtest_overfitting(returns, n_splits=10)
    assert guards["pbo"]["pbo"] == expected.pbo
    dsr = deflated_sharpe_ratio(returns[:, guards["best_set"]], sharpes)
    assert guards["deflated_sharpe"]["dsr"] == dsr.dsr
    json.dumps(guards)  # JSON-ready
    assert overfitting_guards(returns[:, :1], sharpes[:1], best=0)["pbo"] is None
