"""Overfitting guards for parameter sweeps: how much of the best set's Sharpe is luck?

Two figures, both pure functions on arrays:

- The deflated Sharpe ratio (Bailey & López de Prado 2014, "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
  Management 40(5)): the probability that the best set's true Sharpe exceeds the Sharpe that
  the best of N skill-less trials would show by luck alone.
- The probability of backtest overfitting (Bailey, Borwein, López de Prado & Zhu 2015, "The
  Probability of Backtest Overfitting", Journal of Computational Finance 20(4)) by
  combinatorially symmetric cross-validation (CSCV): how often the set chosen in-sample ranks
  in the bottom half out-of-sample.

Conventions: returns are simple per-session returns; non-finite returns are ignored (they do
not count as observations). Sharpe ratios here are per period (not annualised) unless a name
says ``_annual``; the risk-free rate is 0 and the standard deviation uses ddof=1, as in
``backtest.analytics.stats.sharpe_ratio``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import norm

from backtest.config import PBO_SPLITS
from backtest.errors import InputError

EULER_GAMMA = 0.5772156649015329
"""Euler–Mascheroni constant γ."""
FLAT_RETURNS_SD = 1e-12
"""Below this standard deviation a return series is flat: its Sharpe is undefined."""

Objective = Literal["sharpe", "total_return", "mean"]
OBJECTIVES: tuple[str, ...] = ("sharpe", "total_return", "mean")
"""Performance measures a sweep can be ranked by (all higher-is-better)."""

_COMBINATION_CELLS = 2_000_000
"""Combinations x sets evaluated at once in CSCV (bounds memory to ~100 MB)."""


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of the best set and the figures it is built from."""

    dsr: float
    """P(true Sharpe > sr0): the probabilistic Sharpe ratio against the expected maximum."""
    sr0: float
    """Expected maximum per-period Sharpe of ``n_trials`` skill-less trials."""
    sr0_annual: float
    sharpe: float
    """The best set's per-period Sharpe (mean / sd, ddof=1)."""
    sharpe_annual: float
    n_trials: int
    n_observations: int
    """T: finite returns of the best set."""
    skewness: float
    kurtosis: float
    """Non-excess kurtosis (3 for a normal distribution)."""
    trials_sharpe_variance: float
    """V[SR]: variance (ddof=1) of the trials' per-period Sharpe ratios."""

    def to_dict(self) -> dict[str, float | int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class PBO:
    """Probability of backtest overfitting by CSCV and the per-combination figures behind it."""

    pbo: float
    """Share of combinations whose in-sample best set has logit <= 0 out-of-sample."""
    logits: np.ndarray
    """λ_c = log(ω_c / (1 - ω_c)) per combination, ω_c the OOS relative rank in (0, 1)."""
    n_combinations: int
    n_splits: int
    n_sets: int
    objective: str
    is_performance: np.ndarray
    """Objective of the chosen set in-sample, per combination."""
    oos_performance: np.ndarray
    """Objective of the same set out-of-sample, per combination."""
    degradation_slope: float | None
    """Least-squares slope of OOS on IS performance of the chosen sets (None if IS is constant)."""
    degradation_intercept: float | None
    prob_oos_loss: float
    """Share of combinations where the chosen set's OOS objective is below zero."""

    def to_dict(self) -> dict[str, float | int | str | None]:
        """The scalar figures, JSON-ready."""
        return {
            "pbo": self.pbo,
            "n_combinations": self.n_combinations,
            "n_splits": self.n_splits,
            "n_sets": self.n_sets,
            "objective": self.objective,
            "degradation_slope": self.degradation_slope,
            "degradation_intercept": self.degradation_intercept,
            "prob_oos_loss": self.prob_oos_loss,
            "median_logit": float(np.median(self.logits)),
        }


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """E[max SR] of ``n_trials`` skill-less trials (Bailey & López de Prado 2014, eq. 6).

    SR0 = sqrt(V[SR]) * ((1 - γ) Φ^-1(1 - 1/N) + γ Φ^-1(1 - 1/(N e))), γ Euler–Mascheroni.
    One trial has nothing to be lucky against: SR0 = 0 (the DSR is then the PSR against 0).
    """
    if n_trials < 1:
        raise InputError(f"the number of trials must be at least 1, got {n_trials}")
    if n_trials == 1 or not trials_sharpe_variance > 0:
        return 0.0
    z_1 = norm.ppf(1.0 - 1.0 / n_trials)
    z_e = norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(
        math.sqrt(trials_sharpe_variance) * ((1.0 - EULER_GAMMA) * z_1 + EULER_GAMMA * z_e)
    )


def probabilistic_sharpe_ratio(
    sharpe: float, sharpe_benchmark: float, n_observations: int, skewness: float, kurtosis: float
) -> float | None:
    """P(true SR > SR*) given an estimate from T non-normal returns (per-period Sharpe ratios).

    PSR = Φ( (SR - SR*) sqrt(T - 1) / sqrt(1 - skew·SR + (kurt - 1)/4 · SR^2) ), kurt
    non-excess (Bailey & López de Prado 2012, "The Sharpe Ratio Efficient Frontier").
    None when T < 2 or the variance term is not positive.
    """
    if n_observations < 2:
        return None
    variance_term = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not variance_term > 0:
        return None
    z = (sharpe - sharpe_benchmark) * math.sqrt(n_observations - 1) / math.sqrt(variance_term)
    return float(norm.cdf(z))


def deflated_sharpe_ratio(
    returns_best: np.ndarray, sharpe_trials: np.ndarray, *, periods_per_year: int = 252
) -> DeflatedSharpe | None:
    """Deflated Sharpe ratio of the best set (Bailey & López de Prado 2014).

    ``returns_best``: the chosen set's per-session returns. ``sharpe_trials``: the annualised
    Sharpe ratio of every set tried, as in sweep.csv (pass ``periods_per_year=1`` for
    per-period ratios); N = ``len(sharpe_trials)`` counts every set tried, and V[SR] is the
    variance (ddof=1) of the finite ones converted to per period (/ periods_per_year).

    SR = mean / sd(ddof=1) of the best set's T finite returns, skew = m3 / m2^1.5,
    kurt = m4 / m2^2 (population central moments m_k, kurt non-excess);
    SR0 = ``expected_max_sharpe(N, V[SR])``; DSR = ``probabilistic_sharpe_ratio(SR, SR0, T,
    skew, kurt)``. None when the best set's returns are flat (Sharpe undefined) or T < 2.
    """
    r = np.asarray(returns_best, dtype=np.float64).ravel()
    r = r[np.isfinite(r)]
    trials = np.asarray(sharpe_trials, dtype=np.float64).ravel()
    n_trials = len(trials)
    if n_trials < 1:
        raise InputError("the deflated Sharpe ratio needs at least one trial's Sharpe ratio")
    n_obs = len(r)
    if n_obs < 2:
        return None
    sd = float(np.std(r, ddof=1))
    if sd < FLAT_RETURNS_SD:
        return None
    sharpe = float(np.mean(r)) / sd
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    skewness = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    finite_trials = trials[np.isfinite(trials)] / math.sqrt(periods_per_year)
    variance = float(np.var(finite_trials, ddof=1)) if len(finite_trials) >= 2 else 0.0
    sr0 = expected_max_sharpe(n_trials, variance)
    dsr = probabilistic_sharpe_ratio(sharpe, sr0, n_obs, skewness, kurtosis)
    if dsr is None:
        return None
    annualise = math.sqrt(periods_per_year)
    return DeflatedSharpe(
        dsr=dsr,
        sr0=sr0,
        sr0_annual=sr0 * annualise,
        sharpe=sharpe,
        sharpe_annual=sharpe * annualise,
        n_trials=n_trials,
        n_observations=n_obs,
        skewness=skewness,
        kurtosis=kurtosis,
        trials_sharpe_variance=variance,
    )


@dataclass(frozen=True)
class BlockMoments:
    """Additive per-set sums over a set of rows, from which every objective follows.

    Arrays are (..., n_sets): finite-return count, sum r, sum r^2 and sum log(1 + r).
    Summing moments of disjoint row blocks gives the moments of their union.
    """

    count: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    log_growth: np.ndarray


def block_moments(returns: np.ndarray, bounds: Sequence[tuple[int, int]]) -> BlockMoments:
    """Moments of ``returns[start:stop]`` (T x N) for every (start, stop) in ``bounds``."""
    r = np.asarray(returns, dtype=np.float64)
    finite = np.isfinite(r)
    clean = np.where(finite, r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(finite, np.log1p(np.where(finite, r, 0.0)), 0.0)
    parts = [
        np.stack([a[start:stop].sum(axis=0) for start, stop in bounds])
        for a in (finite.astype(np.float64), clean, clean**2, logs)
    ]
    return BlockMoments(*parts)


def objective_from_moments(moments: BlockMoments, objective: str) -> np.ndarray:
    """The objective per set from its moments (higher is better).

    ``sharpe``: mean / sd (ddof=1), per period; a flat series (sd ~ 0) or fewer than two
    returns scores 0 (it earns nothing per unit of risk). ``total_return``: exp(sum log(1+r))
    - 1 (compounded). ``mean``: mean return.
    """
    n = moments.count
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, moments.total / n, 0.0)
        if objective == "sharpe":
            variance = (moments.squares - n * mean**2) / (n - 1)
            sd = np.sqrt(np.maximum(variance, 0.0))
            ok = (n >= 2) & (sd >= FLAT_RETURNS_SD)
            return np.where(ok, mean / np.where(ok, sd, 1.0), 0.0)
        if objective == "total_return":
            return np.expm1(moments.log_growth)
        if objective == "mean":
            return mean
    raise InputError(
        f"unknown objective {objective!r}", hint=f"choose one of {', '.join(OBJECTIVES)}"
    )


def objective_values(returns: np.ndarray, objective: str = "sharpe") -> np.ndarray:
    """The objective of every column of ``returns`` (T x N) over all its rows."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    moments = block_moments(r, [(0, r.shape[0])])
    return objective_from_moments(moments, objective)[0]


def split_bounds(n_rows: int, n_splits: int) -> list[tuple[int, int]]:
    """``n_splits`` contiguous blocks of sizes differing by at most one (earlier blocks larger)."""
    edges = np.cumsum([0] + [len(b) for b in np.array_split(np.arange(n_rows), n_splits)])
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def probability_of_backtest_overfitting(
    returns: np.ndarray, n_splits: int = PBO_SPLITS, objective: str = "sharpe"
) -> PBO:
    """PBO by combinatorially symmetric cross-validation (Bailey, Borwein, López de Prado & Zhu).

    1. Split the T rows of ``returns`` (T sessions x N sets) into S = ``n_splits`` contiguous
       blocks (sizes differ by at most one row when S does not divide T).
    2. For each of the C(S, S/2) ways to pick S/2 blocks as in-sample (the rest out-of-sample):
       n* = argmax over sets of the in-sample objective (first set on ties).
    3. ω = rank of n*'s out-of-sample objective among the N sets / (N + 1), ranks 1 (worst)
       .. N (best), ties averaged; λ = log(ω / (1 - ω)).
    4. PBO = share of combinations with λ <= 0 (the in-sample winner is at or below the
       out-of-sample median).

    Also: the least-squares slope of the chosen sets' OOS on IS objective (performance
    degradation) and the share of combinations whose chosen set has a negative OOS objective.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2:
        raise InputError(f"returns must be a sessions x sets matrix, got {r.ndim} dimension(s)")
    n_rows, n_sets = r.shape
    if n_splits < 2 or n_splits % 2:
        raise InputError(f"n_splits must be an even number >= 2, got {n_splits}")
    if n_rows < n_splits:
        raise InputError(
            f"{n_rows} sessions cannot be split into {n_splits} blocks",
            hint="use fewer splits or a longer period",
        )
    if n_sets < 2:
        raise InputError("the probability of backtest overfitting needs at least two sets")
    if objective not in OBJECTIVES:
        raise InputError(
            f"unknown objective {objective!r}", hint=f"choose one of {', '.join(OBJECTIVES)}"
        )
    blocks = block_moments(r, split_bounds(n_rows, n_splits))
    combos = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)))
    masks = np.zeros((len(combos), n_splits))
    masks[np.arange(len(combos))[:, None], combos] = 1.0
    chunk = max(1, _COMBINATION_CELLS // n_sets)
    logits, is_perf, oos_perf = [], [], []
    for start in range(0, len(masks), chunk):
        mask = masks[start : start + chunk]
        in_sample = BlockMoments(*(mask @ a for a in _fields(blocks)))
        out_sample = BlockMoments(*((1.0 - mask) @ a for a in _fields(blocks)))
        is_values = objective_from_moments(in_sample, objective)
        oos_values = objective_from_moments(out_sample, objective)
        best = np.argmax(is_values, axis=1)
        rows = np.arange(len(mask))
        chosen_oos = oos_values[rows, best]
        below = (oos_values < chosen_oos[:, None]).sum(axis=1)
        equal = (oos_values == chosen_oos[:, None]).sum(axis=1)
        rank = below + (equal + 1) / 2.0
        omega = rank / (n_sets + 1)
        logits.append(np.log(omega / (1.0 - omega)))
        is_perf.append(is_values[rows, best])
        oos_perf.append(chosen_oos)
    logit = np.concatenate(logits)
    x, y = np.concatenate(is_perf), np.concatenate(oos_perf)
    slope, intercept = _least_squares(x, y)
    return PBO(
        pbo=float(np.mean(logit <= 0)),
        logits=logit,
        n_combinations=len(masks),
        n_splits=n_splits,
        n_sets=n_sets,
        objective=objective,
        is_performance=x,
        oos_performance=y,
        degradation_slope=slope,
        degradation_intercept=intercept,
        prob_oos_loss=float(np.mean(y < 0)),
    )


def _fields(moments: BlockMoments) -> tuple[np.ndarray, ...]:
    return (moments.count, moments.total, moments.squares, moments.log_growth)


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Slope and intercept of y on x; None when x does not vary."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None, None
    dx = x - x.mean()
    sxx = float(dx @ dx)
    slope = float(dx @ (y - y.mean())) / sxx
    return slope, float(y.mean() - slope * x.mean())


def overfitting_guards(
    returns: np.ndarray,
    sharpe_trials: np.ndarray,
    best: int,
    *,
    n_splits: int = PBO_SPLITS,
    objective: str = "sharpe",
    periods_per_year: int = 252,
) -> dict[str, Any]:
    """Both guards of a sweep, JSON-ready (for sweep.csv's summary and sweep.html).

    ``returns``: sessions x sets daily returns; ``sharpe_trials``: every set's annualised
    Sharpe; ``best``: the chosen set's column. With fewer sessions than ``n_splits`` the
    splits shrink to the largest even number that fits; with one set (or < 2 sessions) there
    is no PBO (None). A flat best set has no deflated Sharpe (None).
    """
    r = np.asarray(returns, dtype=np.float64)
    deflated = deflated_sharpe_ratio(r[:, best], sharpe_trials, periods_per_year=periods_per_year)
    splits = min(n_splits, r.shape[0] - r.shape[0] % 2)
    pbo = None
    if r.shape[1] >= 2 and splits >= 2:
        pbo = probability_of_backtest_overfitting(r, n_splits=splits, objective=objective)
    return {
        "best_set": int(best),
        "deflated_sharpe": None if deflated is None else deflated.to_dict(),
        "pbo": None if pbo is None else pbo.to_dict(),
    }
