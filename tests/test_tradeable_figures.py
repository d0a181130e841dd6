"""The event study and IC measure what a trader could capture: returns from the execution price
of the tradeable session, beside the classic close-to-close figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.analytics.events import cross_sectional_ic, event_study
from backtest.analytics.stats import abnormal_return_from_execution


def reference_path(returns, benchmark, events, lo, hi):
    """Plain loop: each event's abnormal execution price relative to day 0's, averaged."""
    paths = []
    for t, k in events:
        if t + lo < 0 or t + hi - 1 >= len(returns):
            continue
        ar = [
            0.0
            if math.isnan(returns[t + j][k] - benchmark[t + j])
            else returns[t + j][k] - benchmark[t + j]
            for j in range(lo, hi)
        ]
        path = []
        for d in range(lo, hi + 1):
            if d > 0:
                path.append(sum(ar[j - lo] for j in range(0, d)))
            elif d < 0:
                path.append(-sum(ar[j - lo] for j in range(d, 0)))
            else:
                path.append(0.0)
        paths.append(path)
    return np.array(paths)


@settings(max_examples=80, deadline=None)
@given(
    n_sessions=st.integers(3, 25),
    n_tickers=st.integers(1, 4),
    seed=st.integers(0, 10_000),
    window=st.tuples(st.integers(-4, 0), st.integers(1, 5)),
)
def test_abnormal_return_from_execution_matches_a_plain_loop(
    n_sessions: int, n_tickers: int, seed: int, window: tuple[int, int]
) -> None:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0, 0.02, (n_sessions, n_tickers))
    returns[rng.random(returns.shape) < 0.1] = np.nan
    benchmark = rng.normal(0, 0.01, n_sessions)
    benchmark[rng.random(n_sessions) < 0.1] = np.nan
    events = [(int(t), int(k)) for t, k in rng.integers(0, [n_sessions, n_tickers], (6, 2))]
    got = abnormal_return_from_execution(returns, benchmark, events, window)
    expected = reference_path(returns, benchmark, events, *window)
    assert got.n_events == len(expected)
    if len(expected):
        np.testing.assert_allclose(got.mean, expected.mean(axis=0), atol=1e-15)
        assert got.mean[list(got.offsets).index(0)] == 0.0


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two tickers, ten sessions: A gaps up overnight after bull news, then drifts flat."""
    dates = [f"2015-01-{d:02d}" for d in range(5, 15)]
    rows = []
    for i, date in enumerate(dates):
        gap = 0.05 if i == 5 else 0.0
        rows.append((date, "A", gap, 0.0 if i != 4 else 0.0))
        rows.append((date, "B", 0.0, 0.0))
    returns = pd.DataFrame(rows, columns=["date", "ticker", "return", "traded_return"])
    headlines = pd.DataFrame({"session": [dates[5]], "ticker": ["A"], "score": [0.8]})
    signals = returns[["date", "ticker"]].assign(composite=np.tile([60.0, 40.0], len(dates)))
    return returns, headlines, signals


def test_an_overnight_gap_shows_close_to_close_but_not_from_the_execution_price() -> None:
    returns, headlines, _ = _frames()
    classic = event_study(returns, headlines, pre=2, post=3, measure="close_to_close").bull
    tradeable = event_study(returns, headlines, pre=2, post=3, measure="tradeable").bull
    assert classic.mean[classic.days.index(0)] > 0.02  # the gap sits in day 0
    assert max(abs(v) for v in tradeable.mean) < 1e-12  # no order could catch it


def test_traded_ic_pairs_the_composite_with_the_return_it_earns() -> None:
    dates = [f"2015-01-{d:02d}" for d in range(5, 12)]
    tickers = ["A", "B", "C", "D"]
    rng = np.random.default_rng(3)
    composite = rng.normal(50, 10, (len(dates), len(tickers)))
    frame = pd.DataFrame(
        [(d, t) for d in dates for t in tickers], columns=["date", "ticker"]
    ).assign(composite=composite.reshape(-1))
    # traded_return dated t equals the composite's ranking at t: IC exactly 1
    returns = frame[["date", "ticker"]].assign(
        traded_return=composite.reshape(-1) / 1000, **{"return": rng.normal(size=frame.shape[0])}
    )
    traded = cross_sectional_ic(frame, returns, measure="tradeable")
    assert traded.mean == pytest.approx(1.0, abs=1e-12) and traded.n_sessions == len(dates)
    classic = cross_sectional_ic(frame, returns, measure="close_to_close")
    assert classic.n_sessions == len(dates) - 1


def test_run_folder_carries_both_measures(tmp_path: Path, slice_files: tuple[Path, Path]) -> None:
    import backtest

    result = backtest.run(
        prices=slice_files[0], headlines=slice_files[1], start="2014-09-01", end="2015-06-30"
    )
    folder = result.save(tmp_path / "run")
    returns = pd.read_csv(folder / "returns.csv")
    prices = pd.read_csv(slice_files[0])
    aapl = prices[prices["ticker"] == "AAPL"].set_index("date")["open"]
    row = returns[(returns["ticker"] == "AAPL") & (returns["date"] == "2015-03-02")].iloc[0]
    following = aapl.index[aapl.index.get_loc("2015-03-02") + 1]
    assert row["traded_return"] == aapl[following] / aapl["2015-03-02"] - 1.0
    stats = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    for side in ("bull", "bear"):
        block = stats["event_study"][side]
        assert len(block["days"]) == len(block["car_tradeable"]) == len(block["car_close_to_close"])
        assert block["car_tradeable"][block["days"].index(0)] == 0.0
        assert block["events"] > 0
    assert set(stats["ic"]) == {"traded", "close_to_close"}
    assert stats["ic"]["traded"]["sessions"] > 100
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "before you could trade" in html and "close to close" in html
