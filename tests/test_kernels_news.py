"""News flow kernels against a direct-sum reference, plus the behaviour readers rely on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.kernels.news import news_count, news_flow, news_score


def reference_flow(
    sessions: list[int],
    tickers: list[int],
    scores: list[float],
    n_sessions: int,
    n_tickers: int,
    half_life_sessions: float,
) -> tuple[list[list[float]], list[list[float]]]:
    """Direct definition: for each cell sum every earlier in-range headline with its own decay.

    Also returns the sum of absolute terms per cell, the scale of the float rounding allowed.
    """
    flow = [[0.0] * n_tickers for _ in range(n_sessions)]
    magnitude = [[0.0] * n_tickers for _ in range(n_sessions)]
    for t in range(n_sessions):
        for k in range(n_tickers):
            for s, tk, score in zip(sessions, tickers, scores, strict=True):
                if tk != k or s < 0 or s >= n_sessions or s > t or not math.isfinite(score):
                    continue
                term = score * 0.5 ** ((t - s) / half_life_sessions)
                flow[t][k] += term
                magnitude[t][k] += abs(term)
    return flow, magnitude


def arrays(sessions: list[int], tickers: list[int], scores: list[float] | None = None):
    out = [np.array(sessions, dtype=np.int64), np.array(tickers, dtype=np.int64)]
    if scores is not None:
        out.append(np.array(scores, dtype=np.float64))
    return out


def assert_close_to_reference(got: np.ndarray, reference, magnitude) -> None:
    for t, row in enumerate(reference):
        for k, expected in enumerate(row):
            tolerance = 1e-9 * magnitude[t][k] + 1e-300
            assert abs(got[t, k] - expected) <= tolerance, (t, k, got[t, k], expected)


adversarial_scores = st.one_of(
    st.floats(min_value=-1.0, max_value=1.0),
    st.floats(min_value=-1e100, max_value=1e100),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -1e-300, 1e100]),
)
half_lives = st.one_of(
    st.floats(min_value=1e-3, max_value=1e3),
    st.sampled_from([1e-300, 0.5, 1.0, 2.5, 1e300, math.inf]),
)


@st.composite
def headline_sets(draw, with_scores: bool = True):
    n_sessions = draw(st.integers(min_value=0, max_value=30))
    n_tickers = draw(st.integers(min_value=1, max_value=4))
    n_headlines = draw(st.integers(min_value=0, max_value=40))
    sessions = draw(
        st.lists(
            st.integers(min_value=-3, max_value=n_sessions + 3),
            min_size=n_headlines,
            max_size=n_headlines,
        )
    )
    tickers = draw(
        st.lists(
            st.integers(min_value=-1, max_value=n_tickers),
            min_size=n_headlines,
            max_size=n_headlines,
        )
    )
    if with_scores:
        scores = draw(st.lists(adversarial_scores, min_size=n_headlines, max_size=n_headlines))
    else:
        scores = [1.0] * n_headlines
    return sessions, tickers, scores, n_sessions, n_tickers, draw(half_lives)


@settings(max_examples=200, deadline=None)
@given(headline_sets())
def test_news_flow_agrees_with_direct_sum_reference(case) -> None:
    sessions, tickers, scores, n_sessions, n_tickers, half_life = case
    got = news_flow(*arrays(sessions, tickers, scores), n_sessions, n_tickers, half_life)
    reference, magnitude = reference_flow(
        sessions, tickers, scores, n_sessions, n_tickers, half_life
    )
    assert got.shape == (n_sessions, n_tickers)
    assert got.dtype == np.float64
    assert_close_to_reference(got, reference, magnitude)


@settings(max_examples=100, deadline=None)
@given(headline_sets(with_scores=False))
def test_news_count_agrees_with_direct_sum_of_ones(case) -> None:
    sessions, tickers, ones, n_sessions, n_tickers, half_life = case
    got = news_count(*arrays(sessions, tickers), n_sessions, n_tickers, half_life)
    reference, magnitude = reference_flow(sessions, tickers, ones, n_sessions, n_tickers, half_life)
    assert got.shape == (n_sessions, n_tickers)
    assert_close_to_reference(got, reference, magnitude)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.sampled_from([0.0, 1e-300, -1e300]),
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    ),
    st.one_of(st.floats(min_value=1e-6, max_value=1e6), st.sampled_from([1e-300, 1e300])),
)
def test_news_score_agrees_with_tanh_reference(flow_rows, scale) -> None:
    got = news_score(np.array(flow_rows, dtype=np.float64), scale)
    for t, row in enumerate(flow_rows):
        for k, flow in enumerate(row):
            expected = 50.0 + 50.0 * math.tanh(flow / scale)
            if math.isnan(expected):
                assert math.isnan(got[t, k])
            else:
                assert got[t, k] == pytest.approx(expected, rel=1e-12, abs=1e-12)
                assert 0.0 <= got[t, k] <= 100.0


def test_news_with_half_life_one_halves_each_session() -> None:
    flow = news_flow(*arrays([0], [0], [0.8]), 5, 1, 1.0)
    assert list(flow[:, 0]) == pytest.approx([0.8, 0.4, 0.2, 0.1, 0.05])


def test_news_with_half_life_two_halves_every_second_session() -> None:
    flow = news_flow(*arrays([0], [0], [1.0]), 5, 1, 2.0)
    assert flow[2, 0] == pytest.approx(0.5)
    assert flow[4, 0] == pytest.approx(0.25)
    assert flow[1, 0] == pytest.approx(math.sqrt(0.5))


def test_news_counts_only_from_its_tradeable_session() -> None:
    flow = news_flow(*arrays([3], [1], [-0.6]), 6, 2, 1.0)
    assert np.all(flow[:3] == 0.0)
    assert flow[3, 1] == pytest.approx(-0.6)
    assert np.all(flow[:, 0] == 0.0)


def test_news_on_the_same_session_adds_up_and_balanced_news_cancels() -> None:
    flow = news_flow(*arrays([2, 2, 2], [0, 0, 0], [0.5, 0.25, -0.75]), 4, 1, 1.0)
    assert np.all(flow == 0.0)


def test_news_outside_the_panel_is_ignored() -> None:
    flow = news_flow(*arrays([-1, 5, 0, 0], [0, 0, -1, 2], [1.0, 1.0, 1.0, 1.0]), 5, 2, 1.0)
    assert np.all(flow == 0.0)


def test_news_with_nan_score_is_skipped_not_poisoning_the_flow() -> None:
    flow = news_flow(*arrays([0, 1], [0, 0], [math.nan, 0.5]), 3, 1, 1.0)
    assert list(flow[:, 0]) == pytest.approx([0.0, 0.5, 0.25])


def test_no_headlines_gives_zero_flow_and_neutral_score() -> None:
    flow = news_flow(*arrays([], [], []), 4, 3, 1.0)
    assert flow.shape == (4, 3)
    assert np.all(flow == 0.0)
    assert np.all(news_score(flow, 1.0) == 50.0)


def test_news_count_adds_one_per_headline_and_decays() -> None:
    count = news_count(*arrays([0, 0, 1], [0, 0, 0]), 3, 1, 1.0)
    assert list(count[:, 0]) == pytest.approx([2.0, 2.0, 1.0])


def test_news_count_with_huge_half_life_is_the_running_count() -> None:
    count = news_count(*arrays([0, 2, 2, 4], [0, 0, 0, 0]), 6, 1, 1e300)
    assert list(count[:, 0]) == [1.0, 1.0, 3.0, 3.0, 4.0, 4.0]


def test_news_score_reads_50_on_no_news_and_about_88_at_scale() -> None:
    scores = news_score(np.array([[0.0, 2.0, -2.0]]), 2.0)
    assert scores[0, 0] == 50.0
    assert 88.0 < scores[0, 1] < 88.2
    assert scores[0, 2] == pytest.approx(100.0 - scores[0, 1])


def test_news_score_is_increasing_and_stays_within_0_100() -> None:
    flow = np.linspace(-1e6, 1e6, 1001).reshape(1, -1)
    scores = news_score(flow, 3.0)[0]
    assert np.all(np.diff(scores) >= 0.0)
    assert scores.min() >= 0.0 and scores.max() <= 100.0


@pytest.mark.parametrize("half_life", [0.0, -1.0, math.nan])
def test_news_flow_rejects_non_positive_half_life(half_life: float) -> None:
    with pytest.raises(ValueError, match="half_life"):
        news_flow(*arrays([0], [0], [1.0]), 2, 1, half_life)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.nan])
def test_news_score_rejects_non_positive_scale(scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        news_score(np.zeros((1, 1)), scale)
