"""Links between tickers, learned point in time from co-mentions, and the spillover they carry.

Stories arrive as a CSR structure sorted by session: story ``s`` became tradeable at
``story_session[s]`` and names the distinct ticker columns
``story_tickers[story_offsets[s]:story_offsets[s + 1]]``. The co-mention weight of A -> B at
session t uses only stories of sessions ``t - window_sessions .. t - 1``: a story counts for
links from the session after it became tradeable, so a link learned at t never affects t.
On intraday bars the flows are per bar and the windows stay in sessions: ``row_session`` maps
each row of the flow to its session.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _add_story(counts: np.ndarray, stories: np.ndarray, tickers: np.ndarray, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) one story's pair and single counts."""
    for i in range(tickers.shape[0]):
        a = tickers[i]
        stories[a] += sign
        for j in range(tickers.shape[0]):
            if i != j:
                counts[a, tickers[j]] += sign


@numba.njit(cache=True)
def _link_weights(
    counts: np.ndarray, stories: np.ndarray, min_stories: int, out: np.ndarray
) -> None:
    """``out[a, b] = counts[a, b] / stories[a]`` where the pair has ``min_stories``, else 0."""
    n = stories.shape[0]
    for a in range(n):
        for b in range(n):
            c = counts[a, b]
            out[a, b] = c / stories[a] if a != b and c >= min_stories and c > 0 else 0.0


@numba.njit(cache=True)
def _check(
    story_session: np.ndarray,
    story_offsets: np.ndarray,
    story_tickers: np.ndarray,
    n_tickers: int,
    window_sessions: int,
    min_stories: int,
) -> None:
    if window_sessions < 1:
        raise ValueError("window_sessions must be >= 1")
    if min_stories < 1:
        raise ValueError("min_stories must be >= 1")
    if story_offsets.shape[0] != story_session.shape[0] + 1:
        raise ValueError("story_offsets must have one more entry than story_session")
    if story_offsets[0] != 0 or story_offsets[-1] != story_tickers.shape[0]:
        raise ValueError("story_offsets must run from 0 to len(story_tickers)")
    for s in range(story_session.shape[0]):
        if s > 0 and story_session[s] < story_session[s - 1]:
            raise ValueError("stories must be sorted by session")
        if story_offsets[s + 1] < story_offsets[s]:
            raise ValueError("story_offsets must not decrease")
    for i in range(story_tickers.shape[0]):
        if story_tickers[i] < 0 or story_tickers[i] >= n_tickers:
            raise ValueError("story_tickers must lie in [0, n_tickers)")


@numba.njit(cache=True)
def comention_counts(
    story_session: np.ndarray,
    story_offsets: np.ndarray,
    story_tickers: np.ndarray,
    n_tickers: int,
    first_session: int,
    last_session: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, stories) over the stories of sessions ``first_session .. last_session``:
    ``pairs[a, b]`` stories name both a and b (0 on the diagonal), ``stories[a]`` name a."""
    _check(story_session, story_offsets, story_tickers, n_tickers, 1, 1)
    counts = np.zeros((n_tickers, n_tickers), dtype=np.int64)
    stories = np.zeros(n_tickers, dtype=np.int64)
    for s in range(story_session.shape[0]):
        if first_session <= story_session[s] <= last_session:
            _add_story(counts, stories, story_tickers[story_offsets[s] : story_offsets[s + 1]], 1)
    return counts, stories


@numba.njit(cache=True)
def comention_weights(
    story_session: np.ndarray,
    story_offsets: np.ndarray,
    story_tickers: np.ndarray,
    n_tickers: int,
    session: int,
    window_sessions: int,
    min_stories: int,
) -> np.ndarray:
    """The (n_tickers, n_tickers) co-mention weights A -> B in force at ``session``.

    ``w[a, b]`` = stories naming both a and b / stories naming a, over the stories of sessions
    ``session - window_sessions .. session - 1``; 0 where fewer than ``min_stories`` stories
    name both, and on the diagonal: the share of a's stories that also name b.
    """
    _check(story_session, story_offsets, story_tickers, n_tickers, window_sessions, min_stories)
    counts, stories = comention_counts(
        story_session,
        story_offsets,
        story_tickers,
        n_tickers,
        session - window_sessions,
        session - 1,
    )
    out = np.zeros((n_tickers, n_tickers), dtype=np.float64)
    _link_weights(counts, stories, min_stories, out)
    return out


@numba.njit(cache=True)
def spillover_flow(
    story_session: np.ndarray,
    story_offsets: np.ndarray,
    story_tickers: np.ndarray,
    own_flow: np.ndarray,
    row_session: np.ndarray,
    peer_weights: np.ndarray,
    use_comentions: bool,
    window_sessions: int,
    min_stories: int,
) -> np.ndarray:
    """``spill[t, b] = sum over a != b of (w_t[a, b] + peer_weights[a, b]) * own_flow[t, a]``.

    ``w_t`` is ``comention_weights`` at session ``row_session[t]`` (``row_session`` is
    ``arange`` on daily rows, each bar's session on bars; it must not decrease), all zeros
    unless ``use_comentions``;
    ``peer_weights`` is a fixed signed (n_tickers, n_tickers) matrix (zeros for none; its
    diagonal is ignored). ``own_flow`` is each ticker's own normalised news flow: a ticker
    passes on only its own news, never what reached it through links. Non-finite flow passes
    nothing. One pass over the sessions with a sliding window of pair counts:
    O(n_stories * tickers per story^2 + n_rows * n_tickers^2).
    """
    n_rows, n_tickers = own_flow.shape
    if peer_weights.shape[0] != n_tickers or peer_weights.shape[1] != n_tickers:
        raise ValueError("peer_weights must be (n_tickers, n_tickers)")
    if row_session.shape[0] != n_rows:
        raise ValueError("row_session must give one session per row of own_flow")
    for t in range(1, n_rows):
        if row_session[t] < row_session[t - 1]:
            raise ValueError("row_session must not decrease")
    _check(story_session, story_offsets, story_tickers, n_tickers, window_sessions, min_stories)
    counts = np.zeros((n_tickers, n_tickers), dtype=np.int64)
    stories = np.zeros(n_tickers, dtype=np.int64)
    weights = np.zeros((n_tickers, n_tickers), dtype=np.float64)
    spill = np.zeros((n_rows, n_tickers), dtype=np.float64)
    n_stories = story_session.shape[0]
    added = 0
    removed = 0
    for t in range(n_rows):
        if use_comentions:
            session = row_session[t]
            changed = False
            while added < n_stories and story_session[added] < session:
                lo, hi = story_offsets[added], story_offsets[added + 1]
                _add_story(counts, stories, story_tickers[lo:hi], 1)
                added += 1
                changed = True
            while removed < added and story_session[removed] < session - window_sessions:
                lo, hi = story_offsets[removed], story_offsets[removed + 1]
                _add_story(counts, stories, story_tickers[lo:hi], -1)
                removed += 1
                changed = True
            if changed:
                _link_weights(counts, stories, min_stories, weights)
        for a in range(n_tickers):
            flow = own_flow[t, a]
            if flow == 0.0 or not np.isfinite(flow):
                continue
            for b in range(n_tickers):
                if b != a:
                    spill[t, b] += (weights[a, b] + peer_weights[a, b]) * flow
    return spill
