"""Statistics against hand-computed examples and their edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from backtest.analytics.stats import (
    STAT_DEFINITIONS,
    annual_return,
    compute_stats,
    cumulative_abnormal_return,
    drawdown_series,
    exposure,
    hit_rate,
    max_drawdown,
    monthly_returns,
    profit_factor,
    rolling_sharpe,
    sharpe_ratio,
    sortino_ratio,
    turnover,
    volatility,
)


def _curve(values, start="2020-01-06"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


def _trades(pnls, status=None, entries=None, exits=None):
    n = len(pnls)
    dates = pd.bdate_range("2020-01-06", periods=20)
    return pd.DataFrame(
        {
            "ticker": ["A"] * n,
            "side": ["long"] * n,
            "entry_time": [dates[i] for i in (entries or [0] * n)],
            "exit_time": [dates[i] if i is not None else pd.NaT for i in (exits or [1] * n)],
            "pnl": pnls,
            "status": status or ["closed"] * n,
        }
    )


# returns +10%, -10%, +10%: mean 1/30, sample variance 1/75, downside mean square 0.01/3
UP_DOWN_UP = [100.0, 110.0, 99.0, 108.9]


def test_sharpe_of_up_down_up_by_hand():
    returns = _curve(UP_DOWN_UP).pct_change()
    expected = (1 / 30) / math.sqrt(1 / 75) * math.sqrt(252)
    assert sharpe_ratio(returns) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(4.5826, abs=1e-4)


def test_sortino_uses_root_mean_square_of_losses_over_all_returns():
    returns = _curve(UP_DOWN_UP).pct_change()
    expected = (1 / 30) / math.sqrt(0.01 / 3) * math.sqrt(252)
    assert sortino_ratio(returns) == pytest.approx(expected, rel=1e-9)


def test_volatility_is_annualised_sample_std():
    returns = _curve(UP_DOWN_UP).pct_change()
    assert volatility(returns) == pytest.approx(math.sqrt(1 / 75) * math.sqrt(252), rel=1e-9)


def test_annual_return_compounds_over_sessions():
    # two periods, one period per "year": 21% over two years is 10% a year
    assert annual_return(_curve([100.0, 105.0, 121.0]), periods_per_year=1) == pytest.approx(0.1)
    assert annual_return(_curve([100.0, 0.0]), periods_per_year=252) == -1.0
    assert annual_return(_curve([100.0])) is None


def test_max_drawdown_dates_peak_trough_and_recovery():
    equity = _curve([100, 120, 90, 96, 130, 117, 125])
    d = equity.index
    depth, start, trough, end = max_drawdown(equity)
    assert depth == pytest.approx(90 / 120 - 1)
    assert (start, trough, end) == (d[1], d[2], d[4])


def test_max_drawdown_without_recovery_has_no_end():
    equity = _curve([100, 80, 90])
    depth, start, trough, end = max_drawdown(equity)
    assert depth == pytest.approx(-0.2)
    assert (start, trough, end) == (equity.index[0], equity.index[1], None)


def test_drawdown_series_is_distance_below_running_peak():
    dd = drawdown_series(_curve([100, 120, 90, 130]))
    np.testing.assert_allclose(dd.to_numpy(), [0, 0, -0.25, 0])


def test_flat_equity_has_no_ratios_and_no_drawdown():
    equity = _curve([100.0] * 10)
    returns = equity.pct_change()
    assert sharpe_ratio(returns) is None
    assert sortino_ratio(returns) is None
    assert tuple(max_drawdown(equity)) == (0.0, None, None, None)


def test_ratios_on_too_few_or_nan_returns_are_none():
    assert sharpe_ratio([np.nan, 0.01]) is None
    assert volatility([0.01]) is None
    assert sortino_ratio([]) is None
    assert sortino_ratio([0.01, 0.02]) is None  # no losing session: undefined, not infinite


def test_trade_figures_by_hand():
    trades = _trades([10.0, -5.0, 20.0, -15.0, 3.0], status=["closed"] * 4 + ["open"])
    assert hit_rate(trades) == pytest.approx(2 / 4)
    assert profit_factor(trades) == pytest.approx(30 / 20)


def test_no_trades_give_none_not_errors():
    empty = _trades([])
    assert hit_rate(empty) is None
    assert profit_factor(empty) is None
    assert profit_factor(_trades([5.0])) is None  # no loss: undefined


def test_exposure_and_turnover_by_hand():
    pos = np.array([[0, 1], [1, 1], [-1, 0]])
    assert exposure(pos) == pytest.approx(4 / 6)
    # per session |change| / 2 tickers: 1/2, 1/2, 3/2 -> mean 5/6 a session
    assert turnover(pos, periods_per_year=252) == pytest.approx(5 / 6 * 252)


def test_compute_stats_strategy_and_benchmark():
    equity = _curve([100, 120, 90, 96, 130, 117, 125])
    benchmark = _curve([100, 101, 102, 103, 104, 105, 106])
    pos = np.array([[1], [1], [0], [-1], [-1], [0], [0]])
    trades = _trades([20.0, -10.0], entries=[0, 3], exits=[2, 5])
    stats = compute_stats(equity, benchmark, pos, trades)
    s, b = stats["strategy"], stats["benchmark"]
    assert s["total_return"] == pytest.approx(0.25)
    assert s["annual_return"] == pytest.approx(1.25 ** (252 / 6) - 1)
    assert s["max_drawdown"] == pytest.approx(-0.25)
    assert s["max_drawdown_start"] == "2020-01-07"
    assert s["max_drawdown_trough"] == "2020-01-08"
    assert s["max_drawdown_end"] == "2020-01-10"
    assert s["calmar"] == pytest.approx(s["annual_return"] / 0.25)
    assert s["hit_rate"] == 0.5
    assert s["profit_factor"] == 2.0
    assert s["exposure"] == pytest.approx(4 / 7)
    assert s["trades"] == 2
    assert s["avg_holding_sessions"] == pytest.approx(2.0)
    assert b["total_return"] == pytest.approx(0.06)
    assert b["max_drawdown"] == 0.0 and b["max_drawdown_start"] is None
    assert b["calmar"] is None
    assert b["exposure"] == 1.0
    assert all(b[key] is None for key in ("hit_rate", "profit_factor", "trades"))
    assert set(s) == set(b) == set(STAT_DEFINITIONS)
    json.dumps(stats, allow_nan=False)


def test_initial_value_makes_the_first_session_count():
    equity = _curve([110.0, 121.0])
    stats = compute_stats(equity, equity, np.ones((2, 1)), _trades([]), initial_value=100.0)
    assert stats["strategy"]["total_return"] == pytest.approx(0.21)
    assert stats["strategy"]["trades"] == 0
    assert stats["strategy"]["avg_holding_sessions"] is None


def test_car_path_by_hand():
    # 6 sessions x 2 tickers; benchmark returns 1% every session
    returns = np.array(
        [
            [0.00, 0.00],
            [0.02, 0.01],
            [0.05, -0.03],
            [0.01, -0.04],
            [0.03, 0.02],
            [0.00, 0.00],
        ]
    )
    bench = np.full(6, 0.01)
    # event A: session 2, ticker 0 -> AR at -1,0,+1: 0.01, 0.04, 0.00 -> CAR 0.01, 0.05, 0.05
    # event B: session 3, ticker 1 -> AR at -1,0,+1: -0.04, -0.05, 0.01 -> CAR -0.04, -0.09, -0.08
    path = cumulative_abnormal_return(returns, bench, [(2, 0), (3, 1)], window=(-1, 1))
    car_a = np.array([0.01, 0.05, 0.05])
    car_b = np.array([-0.04, -0.09, -0.08])
    mean = (car_a + car_b) / 2
    half = 1.96 * (np.abs(car_a - car_b) / math.sqrt(2)) / math.sqrt(2)
    assert path.n_events == 2
    np.testing.assert_array_equal(path.offsets, [-1, 0, 1])
    np.testing.assert_allclose(path.mean, mean, atol=1e-12)
    np.testing.assert_allclose(path.lower, mean - half, atol=1e-12)
    np.testing.assert_allclose(path.upper, mean + half, atol=1e-12)


def test_car_skips_events_whose_window_leaves_the_sample():
    returns = np.zeros((20, 1))
    path = cumulative_abnormal_return(returns, np.zeros(20), [(2, 0), (9, 0), (15, 0)])
    assert path.n_events == 1  # only session 9 has 5 sessions before and 10 after
    assert len(path.offsets) == 16 and path.offsets[0] == -5 and path.offsets[-1] == 10
    assert np.isnan(path.lower).all()


def test_car_without_events_is_nan_with_zero_count():
    path = cumulative_abnormal_return(np.zeros((20, 2)), np.zeros(20), [])
    assert path.n_events == 0 and np.isnan(path.mean).all()


def test_monthly_returns_chain_month_ends_from_the_first_value():
    equity = pd.Series(
        [100.0, 110.0, 99.0, 120.0],
        index=pd.DatetimeIndex(["2015-01-05", "2015-01-30", "2015-02-27", "2015-03-02"]),
    )
    out = monthly_returns(equity)
    assert list(out.index) == ["2015-01", "2015-02", "2015-03"]
    np.testing.assert_allclose(out.to_numpy(), [0.10, -0.10, 120 / 99 - 1])


def test_rolling_sharpe_matches_sharpe_of_each_window():
    rng = np.random.default_rng(5)
    returns = pd.Series(rng.normal(0.001, 0.01, 30), index=pd.bdate_range("2015-01-05", periods=30))
    out = rolling_sharpe(returns, window_sessions=10)
    assert out.iloc[:9].isna().all()
    assert out.iloc[-1] == pytest.approx(sharpe_ratio(returns.iloc[-10:]))


def test_car_counts_a_missing_return_as_no_abnormal_move():
    returns = np.full((20, 1), 0.01)
    returns[9, 0] = np.nan
    path = cumulative_abnormal_return(returns, np.zeros(20), [(9, 0)])
    expected = np.cumsum([0.01] * 5 + [0.0] + [0.01] * 10)
    np.testing.assert_allclose(path.mean, expected, atol=1e-12)
