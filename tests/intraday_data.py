"""Synthetic intraday bars with planted news: each headline is followed, a fixed delay later,
by a jump in its direction. Sessions come from the real XNYS calendar, so DST changes and half
days are the exchange's own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.calendar import bar_grid, extended_bar_grid, load_sessions

BULLISH = "{t} shares soar to record high as profit beats estimates and guidance is raised"
BEARISH = "{t} shares plunge as profit misses estimates, guidance is cut and a probe is opened"


def planted_bars(
    tickers: tuple[str, ...],
    start: str,
    end: str,
    *,
    bar_minutes: int = 1,
    jump_after_minutes: int = 5,
    jump: float = 0.01,
    stories_per_session: int = 3,
    seed: int = 7,
    after_hours_minutes: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bars, headlines): random-walk bars and headlines published mid-bar during regular
    hours; ``jump_after_minutes`` after each, the ticker's price jumps by ``jump`` in the
    story's direction and stays there. Stamps: bars in New York wall time with offset,
    headlines in UTC ``Z``. With ``after_hours_minutes`` the bars go on that long after each
    close, and every story is published after the close instead."""
    rng = np.random.default_rng(seed)
    sessions = load_sessions("XNYS", start, end)
    minute = 60 * 10**9
    bars = bar_grid(sessions, bar_minutes * minute)
    if after_hours_minutes:
        steps = np.arange(0, after_hours_minutes * minute, bar_minutes * minute)
        bars = extended_bar_grid(bars, sessions, (sessions.close_ns[:, None] + steps).ravel())
    n = len(bars)
    frames, stories = [], []
    for ticker in tickers:
        log_price = np.log(100.0) + np.cumsum(rng.normal(0, 0.0002, n))
        for s in range(len(sessions)):
            rows = np.flatnonzero(bars.session == s)
            if after_hours_minutes:
                rows = rows[bars.start_ns[rows] >= sessions.close_ns[s]]
            usable = rows[(rows >= rows[0] + 5) & (rows <= rows[-1] - jump_after_minutes - 15)]
            for row in rng.choice(usable, size=stories_per_session, replace=False):
                up = bool(rng.random() < 0.5)
                published = bars.start_ns[row] + rng.integers(5, 55) * 10**9
                jump_at = np.searchsorted(bars.start_ns, published + jump_after_minutes * minute)
                log_price[jump_at:] += np.log1p(jump) if up else np.log1p(-jump)
                stories.append((published, ticker, (BULLISH if up else BEARISH).format(t=ticker)))
        close = np.exp(log_price)
        open_ = np.concatenate([[close[0]], close[:-1]])
        stamps = (
            pd.DatetimeIndex(bars.start_ns.view("datetime64[ns]"))
            .tz_localize("UTC")
            .tz_convert("America/New_York")
        )
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "ticker": ticker,
                    "open": open_,
                    "high": np.maximum(open_, close),
                    "low": np.minimum(open_, close),
                    "close": close,
                    "volume": 1000.0,
                }
            )
        )
    published = np.array([p for p, _, _ in stories], dtype=np.int64)
    headlines = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(published.view("datetime64[ns]")).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "ticker": [t for _, t, _ in stories],
            "headline": [h for _, _, h in stories],
        }
    )
    return pd.concat(frames, ignore_index=True), headlines
