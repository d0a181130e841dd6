"""Composite signal: the weighted blend of news and momentum (0..100) and its bull/bear label."""

from __future__ import annotations

import math

import numba
import numpy as np

BULL = 1
NEUTRAL = 0
BEAR = -1
LABEL_NAMES: dict[int, str] = {BULL: "bull", NEUTRAL: "neutral", BEAR: "bear"}
"""Label code (as stored in the int8 label panel) -> name used in signals.csv and readings."""
LABEL_EMOJI: dict[str, str] = {"bull": "🟢", "neutral": "🟡", "bear": "🔴"}
"""Label name -> the house-style marker shown next to it."""


@numba.njit(cache=True)
def composite_score(
    news: np.ndarray, momentum: np.ndarray, news_weight: float, momentum_weight: float
) -> np.ndarray:
    """Weighted mean of the news and momentum scores, 0..100 when both inputs are.

    ``composite = (news_weight * news + momentum_weight * momentum) / (news_weight +
    momentum_weight)``. A component with weight 0 is left out entirely, so a news-only or
    momentum-only strategy is not blanked by the other component's NaN (e.g. momentum before
    enough history); a NaN in a component with weight > 0 gives NaN (no reading). Raises
    ValueError unless both weights are finite and >= 0 with a positive sum, or if the shapes
    differ.
    """
    if not (
        math.isfinite(news_weight)
        and math.isfinite(momentum_weight)
        and news_weight >= 0.0
        and momentum_weight >= 0.0
        and news_weight + momentum_weight > 0.0
    ):
        raise ValueError("weights must be finite and >= 0 with a positive sum")
    if news.shape != momentum.shape:
        raise ValueError("news and momentum must have the same shape")
    total_weight = news_weight + momentum_weight
    out = np.empty(news.shape, dtype=np.float64)
    for t in range(news.shape[0]):
        for k in range(news.shape[1]):
            value = 0.0
            if news_weight > 0.0:
                value += news_weight * news[t, k]
            if momentum_weight > 0.0:
                value += momentum_weight * momentum[t, k]
            out[t, k] = value / total_weight
    return out


@numba.njit(cache=True)
def label_codes(composite: np.ndarray, bull_above: float, bear_below: float) -> np.ndarray:
    """Label per (session, ticker) as int8: 1 bull, 0 neutral, -1 bear.

    Bull when ``composite >= bull_above``, bear when ``composite <= bear_below``, neutral
    otherwise and for NaN (no reading is no signal). Raises ValueError unless
    ``bull_above > bear_below`` (otherwise a value could be both).
    """
    if not bull_above > bear_below:
        raise ValueError("bull_above must be greater than bear_below")
    out = np.zeros(composite.shape, dtype=np.int8)
    for t in range(composite.shape[0]):
        for k in range(composite.shape[1]):
            value = composite[t, k]
            if value >= bull_above:
                out[t, k] = BULL
            elif value <= bear_below:
                out[t, k] = BEAR
    return out
