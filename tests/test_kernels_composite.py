"""Composite blend and labels against plain-Python references, and the documented edge rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.kernels.composite import LABEL_EMOJI, LABEL_NAMES, composite_score, label_codes


def reference_composite(
    news: list[list[float]], momentum: list[list[float]], wn: float, wm: float
) -> list[list[float]]:
    out = []
    for news_row, momentum_row in zip(news, momentum, strict=True):
        row = []
        for n, m in zip(news_row, momentum_row, strict=True):
            parts = [(w, x) for w, x in ((wn, n), (wm, m)) if w != 0]
            if any(math.isnan(x) for _, x in parts):
                row.append(math.nan)
            else:
                row.append(sum(w * x for w, x in parts) / sum(w for w, _ in parts))
        out.append(row)
    return out


def reference_labels(composite: list[list[float]], bull: float, bear: float) -> list[list[int]]:
    def one(x: float) -> int:
        if math.isnan(x):
            return 0
        if x >= bull:
            return 1
        if x <= bear:
            return -1
        return 0

    return [[one(x) for x in row] for row in composite]


scores = st.one_of(
    st.floats(min_value=0.0, max_value=100.0),
    st.sampled_from([math.nan, 0.0, 40.0, 60.0, 100.0, 5e-324]),
)
weights = st.one_of(st.floats(min_value=0.0, max_value=1e3), st.sampled_from([0.0, 1e-300, 1.0]))


@st.composite
def panel_pairs(draw):
    n_sessions = draw(st.integers(min_value=1, max_value=8))
    n_tickers = draw(st.integers(min_value=1, max_value=4))

    def panel():
        return [
            draw(st.lists(scores, min_size=n_tickers, max_size=n_tickers))
            for _ in range(n_sessions)
        ]

    return panel(), panel()


@settings(max_examples=200, deadline=None)
@given(panel_pairs(), weights, weights)
def test_composite_agrees_with_reference(pair, wn, wm) -> None:
    if wn + wm <= 0:
        wn = 1.0
    news, momentum = pair
    got = composite_score(np.array(news), np.array(momentum), wn, wm)
    expected = reference_composite(news, momentum, wn, wm)
    for t, row in enumerate(expected):
        for k, value in enumerate(row):
            if math.isnan(value):
                assert math.isnan(got[t, k])
            else:
                assert got[t, k] == pytest.approx(value, rel=1e-12, abs=1e-12)
                assert -1e-9 <= got[t, k] <= 100.0 + 1e-9


@settings(max_examples=200, deadline=None)
@given(
    panel_pairs(),
    st.floats(min_value=0.0, max_value=100.0),
    st.floats(min_value=0.0, max_value=100.0),
)
def test_labels_agree_with_reference(pair, a, b) -> None:
    if a == b:
        b = a - 1.0
    bull, bear = max(a, b), min(a, b)
    composite = pair[0]
    got = label_codes(np.array(composite), bull, bear)
    assert got.dtype == np.int8
    assert got.tolist() == reference_labels(composite, bull, bear)


def test_equal_weights_average_news_and_momentum() -> None:
    got = composite_score(np.array([[70.0, 20.0]]), np.array([[50.0, 40.0]]), 1.0, 1.0)
    assert got.tolist() == [[60.0, 30.0]]


def test_weights_tilt_the_blend() -> None:
    got = composite_score(np.array([[100.0]]), np.array([[0.0]]), 3.0, 1.0)
    assert got[0, 0] == pytest.approx(75.0)


def test_zero_weight_component_is_ignored_even_if_nan() -> None:
    news = np.array([[62.0, math.nan]])
    momentum = np.array([[math.nan, 35.0]])
    assert composite_score(news, momentum, 1.0, 0.0)[0, 0] == 62.0
    assert composite_score(news, momentum, 0.0, 2.0)[0, 1] == 35.0


def test_nan_component_with_weight_gives_nan() -> None:
    got = composite_score(np.array([[62.0]]), np.array([[math.nan]]), 1.0, 1.0)
    assert math.isnan(got[0, 0])


@pytest.mark.parametrize(("wn", "wm"), [(0.0, 0.0), (-1.0, 2.0), (1.0, math.nan), (math.inf, 1.0)])
def test_composite_rejects_impossible_weights(wn: float, wm: float) -> None:
    with pytest.raises(ValueError, match="weights"):
        composite_score(np.zeros((1, 1)), np.zeros((1, 1)), wn, wm)


def test_labels_are_inclusive_at_both_thresholds_and_nan_is_neutral() -> None:
    composite = np.array([[60.0, 59.999, 40.001, 40.0, math.nan, 100.0, 0.0]])
    assert label_codes(composite, 60.0, 40.0).tolist() == [[1, 0, 0, -1, 0, 1, -1]]


def test_labels_reject_bull_threshold_not_above_bear() -> None:
    with pytest.raises(ValueError, match="bull_above"):
        label_codes(np.zeros((1, 1)), 50.0, 50.0)


def test_label_names_and_emoji_cover_every_code() -> None:
    assert LABEL_NAMES == {1: "bull", 0: "neutral", -1: "bear"}
    assert LABEL_EMOJI == {"bull": "🟢", "neutral": "🟡", "bear": "🔴"}
