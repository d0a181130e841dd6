"""Novelty: 1 - the highest Jaccard similarity between a story and the same ticker's earlier
stories in a window of sessions (Tetlock 2011's staleness, point in time).

Stories arrive sorted by (ticker, published time). Each story is a sorted array of unique
shingle hashes (word pairs), stored as one ``hashes`` buffer cut by ``offsets``. A story is
compared only with stories published strictly earlier (equal timestamps are not earlier), of
the same ticker, whose session ``day`` lies in ``(day - window, day]``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def jaccard_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / |a | b| of two sorted arrays of unique values (0 when both are empty)."""
    i = 0
    j = 0
    common = 0
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] == b[j]:
            common += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    union = a.shape[0] + b.shape[0] - common
    if union == 0:
        return 0.0
    return common / union


@numba.njit(cache=True)
def novelty_scores(
    ticker: np.ndarray,
    day: np.ndarray,
    published_ns: np.ndarray,
    offsets: np.ndarray,
    hashes: np.ndarray,
    window_sessions: int,
) -> np.ndarray:
    """Novelty in [0, 1] of every story (inputs sorted by ticker, then published time)."""
    n = ticker.shape[0]
    if day.shape[0] != n or published_ns.shape[0] != n or offsets.shape[0] != n + 1:
        raise ValueError("ticker, day, published_ns and offsets must describe the same stories")
    if window_sessions < 1:
        raise ValueError("window_sessions must be >= 1")
    out = np.ones(n, dtype=np.float64)
    for i in range(n):
        mine = hashes[offsets[i] : offsets[i + 1]]
        if mine.shape[0] == 0:
            continue
        best = 0.0
        j = i - 1
        while j >= 0 and ticker[j] == ticker[i] and day[j] > day[i] - window_sessions:
            if published_ns[j] < published_ns[i] and day[j] <= day[i]:
                similarity = jaccard_sorted(mine, hashes[offsets[j] : offsets[j + 1]])
                if similarity > best:
                    best = similarity
                    if best >= 1.0:
                        break
            j -= 1
        out[i] = 1.0 - best
    return out
