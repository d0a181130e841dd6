"""``backtest signal``: the house reading of one or more tickers as of a session.

The reading of session t is the signal ``backtest run`` trades at t's execution price: the same
loaders, calendar, kernels and strategy config (one code path, signals.py). The quoted price is
the close of t as given (never adjusted) and its change from the previous session's close.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from backtest.config import HEADLINE_WINDOW_HALF_LIVES, StrategyConfig, override
from backtest.errors import InputError
from backtest.kernels.composite import LABEL_EMOJI, LABEL_NAMES
from backtest.kernels.momentum import momentum_bucket

TOP_HEADLINES = 3
TOP_LINKED = 5
"""How many linked tickers a reading lists."""


@dataclass(frozen=True)
class TopHeadline:
    published_at: str
    score: float
    contribution: float
    headline: str


@dataclass(frozen=True)
class LinkedTicker:
    """A ticker whose own news reaches the read ticker through a link, as of the session."""

    ticker: str
    weight: float
    """Link weight into the read ticker (co-mention share plus peers weight; signed)."""
    own_flow: float
    """The linked ticker's own normalised news flow."""
    contribution: float
    """signal.spillover x weight x own_flow: the flow it adds to the read ticker's news."""


@dataclass(frozen=True)
class Reading:
    """One ticker's signal as of one session, with the figures behind it."""

    ticker: str
    asof: str
    close: float
    change: float | None
    composite: float | None
    label: str
    momentum: float | None
    momentum_bucket: str
    news: float
    headlines: int
    headline_sessions: int
    window_sessions: int
    top_headlines: tuple[TopHeadline, ...]
    spillover_points: float | None = None
    """News score points that came through links (None with signal.spillover = 0)."""
    linked: tuple[LinkedTicker, ...] = ()
    """The linked tickers with news of their own, largest contribution first."""
    row_unit: str = "session"
    """What ``headline_sessions`` and ``window_sessions`` count: sessions, or bars."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, *, emoji: bool = True) -> str:
        """The reading in the house style, three or four lines."""
        change = f" ({self.change * 100:+.2f}%)" if self.change is not None else ""
        mark = f"{LABEL_EMOJI[self.label]} " if emoji else ""
        composite = "n/a" if self.composite is None else f"{self.composite:.0f}/100"
        momentum = "n/a" if self.momentum is None else f"{self.momentum:.0f}/100"
        if self.news > 50:
            lean = "leaning bullish"
        elif self.news < 50:
            lean = "leaning bearish"
        else:
            lean = "balanced" if self.headlines else "no news"
        plural = "headline" if self.headlines == 1 else "headlines"
        sessions = self.row_unit if self.headline_sessions == 1 else f"{self.row_unit}s"
        lines = [
            f"{self.ticker} last traded near ${self.close:,.2f}{change} on {self.asof}.",
            f"Composite signal reads {mark}{self.label} ({composite}), "
            "blending price momentum and news flow.",
            f"Price momentum scores {momentum} ({self.momentum_bucket}). "
            f"News flow scores {self.news:.0f}/100: {self.headlines} {plural} in "
            f"{self.headline_sessions} {sessions}, {lean}.",
        ]
        if self.top_headlines:
            lines.append("Top headlines:")
            for top in self.top_headlines:
                text = " ".join(top.headline.split())
                text = text if len(text) <= 100 else text[:99] + "…"
                lines.append(f"  {top.published_at}  {top.score:+.2f}  {text}")
        if self.spillover_points is not None:
            lines.append(
                f"Through links: {self.spillover_points:+.1f} of the news score's points"
                + (" from:" if self.linked else " (no linked ticker had news).")
            )
            for link in self.linked:
                lines.append(
                    f"  {link.ticker:<6} link {link.weight:+.2f} x own news flow "
                    f"{link.own_flow:+.2f} -> {link.contribution:+.3f}"
                )
        return "\n".join(lines)


def signal_readings(config: StrategyConfig, tickers: list[str], asof: str | None) -> list[Reading]:
    """Readings of ``tickers`` as of session ``asof`` (default: the data's last session)."""
    from backtest.market import prepare
    from backtest.news_quality import counted
    from backtest.signals import compute_signals

    wanted = [t.strip().upper() for t in tickers if t.strip()]
    if not wanted:
        raise InputError("name at least one ticker", hint="for example: backtest signal AAPL")
    if not config.signal.spillover:
        config = override(config, "data", tickers=wanted)
    market = prepare(config)
    missing = [t for t in wanted if t not in market.tickers]
    if missing:
        restricted = bool(config.data.tickers)
        raise InputError(
            f"ticker {missing[0]} has no prices "
            + ("among the strategy's data.tickers" if restricted else "in the data"),
            hint="with signal.spillover, data.tickers must include the tickers read"
            if restricted
            else "run `backtest data validate` to list tickers",
        )
    row = asof_row(market.dates, asof)
    placed = market.placed(config)
    signals = compute_signals(
        market.panel, placed, config.signal, config.execution, config.news, market.links(config)
    )
    counts, weight = counted(placed.frame, config.news)
    behind = placed.frame.assign(score=placed.frame["score"] * weight).loc[counts]
    readings = [_reading(ticker, market.panel, behind, signals, row, config) for ticker in wanted]
    if not config.signal.spillover:
        return readings
    links = linked_tickers(market, config, signals, row)
    return [
        replace(
            r,
            spillover_points=float(signals.spillover[row, market.tickers.index(r.ticker)]),
            linked=links[r.ticker],
        )
        for r in readings
    ]


def linked_tickers(
    market: Any, config: StrategyConfig, signals: Any, row: int
) -> dict[str, tuple[LinkedTicker, ...]]:
    """Per ticker, the linked tickers whose own news reached it at grid row ``row``."""
    from backtest.links import links_at
    from backtest.signals import normalised_flow

    s = config.signal
    own = normalised_flow(signals.news_flow[row], signals.news_count[row], s.news_normalise)
    weights = links_at(int(market.panel.row_session[row]), signals.stories, market.links(config), s)
    tickers = market.tickers
    out = {}
    for b, ticker in enumerate(tickers):
        found = [
            LinkedTicker(
                ticker=tickers[a],
                weight=round(float(weights[a, b]), 4),
                own_flow=round(float(own[a]), 4),
                contribution=round(float(s.spillover * weights[a, b] * own[a]), 4),
            )
            for a in np.flatnonzero((weights[:, b] != 0) & (own != 0))
        ]
        found.sort(key=lambda link: -abs(link.contribution))
        out[ticker] = tuple(found[:TOP_LINKED])
    return out


def asof_row(dates: pd.DatetimeIndex, asof: str | None) -> int:
    """The grid row of the last session on or before ``asof``; outside the data is an error."""
    if asof is None:
        return len(dates) - 1
    try:
        when = pd.Timestamp(dt.date.fromisoformat(asof))
    except ValueError:
        raise InputError(f"--asof {asof!r} is not a date", hint="use YYYY-MM-DD") from None
    if dates.tz is not None:
        dates = pd.DatetimeIndex(dates.tz_localize(None).normalize())
    if when < dates[0] or when > dates[-1]:
        raise InputError(
            f"--asof {asof} is outside the data ({dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d})",
            hint="choose a date inside the data",
        )
    return int(dates.searchsorted(when, side="right")) - 1


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _reading(
    ticker: str,
    panel: Any,
    placed: pd.DataFrame,
    signals: Any,
    row: int,
    config: StrategyConfig,
) -> Reading:
    k = panel.tickers.index(ticker)
    quoted = panel.quoted_close[: row + 1, k]
    valid = np.flatnonzero(np.isfinite(quoted))
    if len(valid) == 0:
        raise InputError(
            f"{ticker} has no price on or before {panel.dates[row]:%Y-%m-%d}",
            hint="choose a later --asof",
        )
    last = valid[-1]
    change = quoted[last] / quoted[valid[-2]] - 1.0 if len(valid) > 1 else None
    from backtest.signals import half_life_rows

    half_life = half_life_rows(panel, config.signal)
    window = max(1, math.ceil(HEADLINE_WINDOW_HALF_LIVES * half_life))
    mine = placed.loc[
        (placed["ticker"] == ticker)
        & (placed["session_idx"] > row - window)
        & (placed["session_idx"] <= row)
    ]
    weight = mine["score"].to_numpy() * 0.5 ** ((row - mine["session_idx"].to_numpy()) / half_life)
    order = np.argsort(-np.abs(weight), kind="stable")[:TOP_HEADLINES]
    top = tuple(
        TopHeadline(
            published_at=mine["published_at"]
            .iloc[i]
            .tz_convert(panel.sessions.tz)
            .strftime("%Y-%m-%d %H:%M %Z"),
            score=round(float(mine["score"].iloc[i]), 4),
            contribution=round(float(weight[i]), 4),
            headline=str(mine["headline"].iloc[i]),
        )
        for i in order
        if weight[i] != 0
    )
    momentum = _finite(signals.momentum[row, k])
    return Reading(
        ticker=ticker,
        asof=f"{panel.dates[last]:%Y-%m-%d}"
        if panel.bars is None
        else f"{panel.dates[last]:%Y-%m-%d %H:%M %Z}",
        close=float(quoted[last]),
        change=None if change is None else float(change),
        composite=_finite(signals.composite[row, k]),
        label=LABEL_NAMES[int(signals.labels[row, k])],
        momentum=momentum,
        momentum_bucket=momentum_bucket(momentum if momentum is not None else float("nan")),
        news=float(signals.news[row, k]),
        headlines=len(mine),
        headline_sessions=int(mine["session_idx"].nunique()),
        window_sessions=window,
        row_unit="session" if panel.bars is None else "bar",
        top_headlines=top,
    )
