"""Event study (CAR around news) and information coefficient on tiny hand-computed examples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_fixtures import build_run_folder

from backtest.report.events import (
    Z_95,
    abnormal_returns,
    average_car,
    cumulative_abnormal_returns,
    event_study,
    information_coefficient,
    news_events,
    spearman_by_row,
)
from backtest.report.html import render_report


def _long(dates: list[str], tickers: list[str], values: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, t, values[i][j]) for i, d in enumerate(dates) for j, t in enumerate(tickers)],
        columns=["date", "ticker", "return"],
    )


def test_abnormal_return_is_return_minus_cross_sectional_mean() -> None:
    wide = np.array([[0.01, 0.03, np.nan], [0.02, 0.00, -0.02]])
    expected = np.array([[-0.01, 0.01, np.nan], [0.02, 0.00, -0.02]])
    np.testing.assert_allclose(abnormal_returns(wide), expected, atol=1e-15)


def test_car_accumulates_from_the_first_day_of_the_window() -> None:
    abnormal = np.array([[0.01], [0.02], [-0.01], [0.03], [0.00]])
    paths, dropped = cumulative_abnormal_returns(
        abnormal, np.array([1, 2, 4]), np.array([0, 0, 0]), pre=1, post=1
    )
    # event at row 1: days -1..1 = 0.01, 0.02, -0.01; at row 2: 0.02, -0.01, 0.03; row 4 leaves
    np.testing.assert_allclose(paths, [[0.01, 0.03, 0.02], [0.02, 0.01, 0.04]])
    assert dropped == 1


def test_average_car_band_is_normal_standard_error() -> None:
    paths = np.array([[0.01, 0.03, 0.02], [0.02, 0.01, 0.04]])
    curve = average_car(paths, dropped=1, pre=1)
    assert curve is not None
    assert curve.days == [-1, 0, 1]
    np.testing.assert_allclose(curve.mean, [0.015, 0.02, 0.03])
    # two events: sample std = |a - b| / sqrt(2), standard error = std / sqrt(2) = |a - b| / 2
    half = Z_95 * np.array([0.005, 0.01, 0.01])
    np.testing.assert_allclose(curve.upper, np.array(curve.mean) + half)
    np.testing.assert_allclose(curve.lower, np.array(curve.mean) - half)
    assert (curve.n_events, curve.n_dropped) == (2, 1)


def test_event_study_on_a_tiny_panel_matches_hand_computation() -> None:
    dates = ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06"]
    returns = _long(
        dates,
        ["A", "B"],
        [[0.02, 0.00], [0.01, -0.01], [0.04, 0.00], [-0.02, 0.02]],
    )
    # A's abnormal returns: 0.01, 0.01, 0.02, -0.02; B's are their negatives
    headlines = pd.DataFrame(
        {
            "session": ["2020-01-03", "2020-01-03", "2020-01-02", "2020-01-01"],
            "ticker": ["A", "A", "B", "B"],
            "score": [0.5, -0.2, -0.4, 0.9],
        }
    )
    study = event_study(returns, headlines, pre=1, post=1)
    assert study.bull is not None and study.bear is not None
    # bull: A on day 2 (0.3 summed), window 0.01, 0.02, -0.02; B on day 0 leaves the sample
    np.testing.assert_allclose(study.bull.mean, [0.01, 0.03, 0.01])
    assert (study.bull.n_events, study.bull.n_dropped) == (1, 1)
    assert all(math.isnan(v) for v in study.bull.upper)
    # bear: B on day 1, abnormal -0.01, -0.01, -0.02
    np.testing.assert_allclose(study.bear.mean, [-0.01, -0.02, -0.04])


def test_headlines_summing_to_zero_are_no_event() -> None:
    headlines = pd.DataFrame(
        {"session": ["d1", "d1", "d2"], "ticker": ["A", "A", "A"], "score": [0.5, -0.5, -0.1]}
    )
    events = news_events(headlines)
    assert list(events["session"]) == ["d2"]
    assert list(events["direction"]) == [-1]


def test_perfect_rank_agreement_gives_ic_one_and_reversal_minus_one() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 30.0, 20.0, np.nan]])
    np.testing.assert_allclose(spearman_by_row(x, x * 7 + 1), [1.0, 1.0])
    np.testing.assert_allclose(spearman_by_row(x, -(x**3)), [-1.0, -1.0])


def test_spearman_matches_pearson_of_average_ranks_with_ties() -> None:
    x = np.array([[1.0, 2.0, 2.0, 5.0]])
    y = np.array([[0.3, 0.1, 0.2, 0.4]])
    rx, ry = np.array([1.0, 2.5, 2.5, 4.0]), np.array([3.0, 1.0, 2.0, 4.0])
    assert spearman_by_row(x, y)[0] == pytest.approx(np.corrcoef(rx, ry)[0, 1])


def test_ic_pairs_composite_with_the_next_sessions_return() -> None:
    dates = ["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04"]
    tickers = ["A", "B", "C"]
    # returns dated t+1 rank like the composite at t: +1 on every session that has a next one
    rets = [[0.0, 0.0, 0.0], [0.01, 0.02, 0.03], [0.03, 0.02, 0.01], [0.01, 0.02, 0.03]]
    composite = [[10.0, 20.0, 30.0], [90.0, 50.0, 10.0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]
    returns = _long(dates, tickers, rets)
    signals = _long(dates, tickers, composite).rename(columns={"return": "composite"})
    ic = information_coefficient(signals, returns)
    assert ic.months == ["2020-01", "2020-02"]
    assert ic.monthly_mean == pytest.approx([1.0, 1.0])
    assert ic.monthly_sessions == [2, 1]
    assert ic.mean == pytest.approx(1.0) and ic.n_sessions == 3
    assert ic.t_stat is None  # zero dispersion: no t-statistic


def test_ic_needs_three_tickers() -> None:
    dates = ["2020-01-01", "2020-01-02"]
    returns = _long(dates, ["A", "B"], [[0.0, 0.0], [0.01, 0.02]])
    signals = _long(dates, ["A", "B"], [[1.0, 2.0], [1.0, 2.0]]).rename(
        columns={"return": "composite"}
    )
    ic = information_coefficient(signals, returns)
    assert ic.mean is None and ic.months == []


def test_run_without_news_events_says_so(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    headlines = pd.read_csv(run_dir / "headlines.csv")
    headlines.iloc[0:0].to_csv(run_dir / "headlines.csv", index=False)
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert 'id="no-events"' in html
    assert 'data-figure="fig-event-study"' not in html
