"""Co-mention links and spillover flow against plain-Python definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.kernels.links import comention_weights, spillover_flow


def csr(stories: list[tuple[int, list[int]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session, distinct tickers) stories -> the kernels' sorted CSR arrays."""
    stories = sorted(stories, key=lambda s: s[0])
    sessions = np.array([s for s, _ in stories], dtype=np.int64)
    members = [sorted(set(t)) for _, t in stories]
    offsets = np.zeros(len(stories) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(m) for m in members])
    tickers = np.array([k for m in members for k in m], dtype=np.int64)
    return sessions, offsets, tickers


def reference_weights(
    stories: list[tuple[int, list[int]]], n: int, session: int, window: int, min_stories: int
) -> list[list[float]]:
    """Share of a's stories in the window that also name b, when at least min_stories do."""
    seen = [(s, set(t)) for s, t in stories if session - window <= s < session]
    weights = [[0.0] * n for _ in range(n)]
    for a in range(n):
        mine = [t for _, t in seen if a in t]
        for b in range(n):
            both = sum(1 for t in mine if b in t)
            if a != b and both >= min_stories:
                weights[a][b] = both / len(mine)
    return weights


story_lists = st.lists(
    st.tuples(st.integers(0, 11), st.lists(st.integers(0, 4), min_size=1, max_size=4)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    stories=story_lists,
    session=st.integers(0, 13),
    window=st.integers(1, 6),
    min_stories=st.integers(1, 3),
)
def test_comention_weights_match_the_definition(
    stories: list[tuple[int, list[int]]], session: int, window: int, min_stories: int
) -> None:
    got = comention_weights(*csr(stories), 5, session, window, min_stories)
    want = reference_weights(stories, 5, session, window, min_stories)
    np.testing.assert_allclose(got, np.array(want), rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    stories=story_lists,
    window=st.integers(1, 6),
    min_stories=st.integers(1, 3),
    use_comentions=st.booleans(),
    flow_seed=st.integers(0, 2**32 - 1),
    bars=st.booleans(),
)
def test_spillover_flow_matches_the_definition_with_signed_peers(
    stories: list[tuple[int, list[int]]],
    window: int,
    min_stories: int,
    use_comentions: bool,
    flow_seed: int,
    bars: bool,
) -> None:
    """Daily rows (one per session) or bar rows (several per session, sessions skipped)."""
    rng = np.random.default_rng(flow_seed)
    n_rows, n = (30 if bars else 12), 5
    row_session = (
        np.sort(rng.integers(0, 13, n_rows)) if bars else np.arange(n_rows, dtype=np.int64)
    )
    own = rng.normal(size=(n_rows, n)) * (rng.random((n_rows, n)) < 0.6)
    peers = rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.3)
    got = spillover_flow(
        *csr(stories), own, row_session, peers, use_comentions, window, min_stories
    )
    want = np.zeros((n_rows, n))
    for t in range(n_rows):
        links = reference_weights(stories, n, int(row_session[t]), window, min_stories)
        for b in range(n):
            for a in range(n):
                if a != b:
                    learned = links[a][b] if use_comentions else 0.0
                    want[t, b] += (learned + peers[a, b]) * own[t, a]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_story_links_its_tickers_only_from_the_next_session() -> None:
    stories = [(3, [0, 1])]
    assert comention_weights(*csr(stories), 2, 3, 5, 1)[0, 1] == 0.0
    assert comention_weights(*csr(stories), 2, 4, 5, 1)[0, 1] == 1.0
    assert comention_weights(*csr(stories), 2, 8, 5, 1)[0, 1] == 1.0
    assert comention_weights(*csr(stories), 2, 9, 5, 1)[0, 1] == 0.0


def test_a_negative_peer_weight_carries_news_with_the_opposite_sign() -> None:
    own = np.array([[0.8, 0.0], [0.0, 0.0]])
    peers = np.array([[0.0, -0.5], [0.0, 0.0]])
    spill = spillover_flow(*csr([]), own, np.arange(2), peers, False, 60, 3)
    np.testing.assert_allclose(spill, [[0.0, -0.4], [0.0, 0.0]])


def test_a_ticker_passes_on_only_its_own_news_not_what_reached_it() -> None:
    own = np.array([[1.0, 0.0, 0.0]])
    chain = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    spill = spillover_flow(*csr([]), own, np.arange(1), chain, False, 60, 3)
    np.testing.assert_allclose(spill, [[0.0, 1.0, 0.0]])


def test_a_decreasing_row_session_is_refused() -> None:
    with pytest.raises(ValueError, match="row_session"):
        spillover_flow(*csr([]), np.zeros((2, 2)), np.array([1, 0]), np.zeros((2, 2)), True, 5, 1)


def test_unsorted_stories_are_refused() -> None:
    sessions = np.array([2, 1], dtype=np.int64)
    offsets = np.array([0, 2, 4], dtype=np.int64)
    tickers = np.array([0, 1, 0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="sorted"):
        comention_weights(sessions, offsets, tickers, 2, 3, 5, 1)
