"""``backtest decay``: how fast the edge of news decays with the time it takes to trade on it.

The same strategy runs once per latency on one prepared market; only the headlines' placement
changes, so every row shares the scores, the prices, the period and the costs:

1. A latency is a duration (``0s``, ``1min``, ``15min``, ``1h``; as ``execution.latency``) or a
   full-session push: ``next_open`` / ``next_close`` trade each headline at the open / close of
   the session after the first one it could trade at with the strategy's own latency (on
   intraday bars: the first bar of the next session; next_close needs daily prices).
2. On daily prices a duration moves a headline across the open or close cut-off (a story at
   09:20 New York trades at that day's open with 5 minutes, at the next open with 15).
3. Per latency: signals, positions over the one period (the span of the strategy's own news,
   or its data.start/end), the vectorbt simulation and its figures: trades, mean trade return
   (with its standard error for the bands), hit rate, Sharpe, total return.
4. Where the edge halves: the first latency whose mean trade return is at most half the first
   latency's, when that one is positive.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import StrategyConfig, override
from backtest.errors import InputError

if TYPE_CHECKING:
    from backtest.market import Market
    from backtest.signals import PlacedHeadlines

SESSION_PUSHES = {"next_open": "open", "next_close": "close"}
"""Latency labels that push a headline one full session, and the price they trade at."""
DEFAULT_LATENCIES = ("0s", "1min", "5min", "15min", "1h", "next_open")
DECAY_COLUMNS = ("latency", "trades", "mean_trade_return", "hit_rate", "sharpe", "total_return")
"""decay.csv's columns, in order."""


@dataclass(frozen=True)
class DecayPoint:
    """One latency's figures."""

    latency: str
    """The label exactly as given."""
    trades: int
    mean_trade_return: float
    trade_return_se: float
    """Standard error of the mean trade return (NaN with fewer than two trades)."""
    hit_rate: float
    sharpe: float
    total_return: float


@dataclass(frozen=True)
class DecayResult:
    config: StrategyConfig
    points: tuple[DecayPoint, ...]
    dates: pd.DatetimeIndex
    tickers: tuple[str, ...]

    @property
    def table(self) -> pd.DataFrame:
        """decay.csv: one row per latency, in the order given."""
        rows = [{c: getattr(p, c) for c in DECAY_COLUMNS} for p in self.points]
        return pd.DataFrame(rows, columns=list(DECAY_COLUMNS))

    @property
    def halves_at(self) -> str | None:
        """The first latency whose mean trade return is at most half the first one's."""
        return edge_halves_at(self.points)


def parse_latencies(text: str) -> list[str]:
    """'0s,5min,next_open' -> the labels, each checked; an unknown one is an error."""
    from backtest.config import _parse_duration_ns

    labels = [item.strip() for item in text.split(",") if item.strip()]
    if not labels:
        raise InputError("--latencies is empty", hint="for example --latencies 0s,5min,next_open")
    for label in labels:
        if label in SESSION_PUSHES:
            continue
        try:
            _parse_duration_ns(label)
        except ValueError:
            raise InputError(
                f"--latencies: {label!r} is not a latency",
                hint="use durations such as 0s, 1min, 15min, 1h, or next_open / next_close",
            ) from None
    if len(set(labels)) != len(labels):
        raise InputError("--latencies lists a latency twice", hint="give each latency once")
    return labels


def latency_config(config: StrategyConfig, label: str) -> StrategyConfig:
    """The strategy at one latency: a duration replaces execution.latency; a session push
    keeps the strategy's latency and trades at the open or close it names."""
    if label in SESSION_PUSHES:
        return override(config, "execution", at=SESSION_PUSHES[label])
    return override(config, "execution", latency=label)


def pushed(placed: PlacedHeadlines, sessions: int, n_sessions: int) -> PlacedHeadlines:
    """Placed headlines moved ``sessions`` sessions later; those pushed past the data drop."""
    frame = placed.frame.assign(session_idx=placed.frame["session_idx"] + sessions)
    beyond = frame["session_idx"].to_numpy() >= n_sessions
    return replace(
        placed,
        frame=frame.loc[~beyond].reset_index(drop=True),
        dropped_after_data=placed.dropped_after_data + int(beyond.sum()),
    )


def pushed_to_next_session(placed: PlacedHeadlines, row_session: np.ndarray) -> PlacedHeadlines:
    """Intraday: each headline moved to the first bar of the session after its bar's session;
    those in the last session drop."""
    rows = placed.frame["session_idx"].to_numpy(np.int64)
    following = np.searchsorted(row_session, row_session[rows], side="right")
    beyond = following >= len(row_session)
    target = np.where(beyond, 0, following)
    frame = placed.frame.assign(session_idx=target)
    if "trading_day" in frame.columns:
        frame = frame.assign(trading_day=row_session[target])
    return replace(
        placed,
        frame=frame.loc[~beyond].reset_index(drop=True),
        dropped_after_data=placed.dropped_after_data + int(beyond.sum()),
    )


def decay(market: Market, config: StrategyConfig, latencies: list[str]) -> DecayResult:
    """The strategy at every latency on one market (module docstring)."""
    from backtest.signals import (
        compute_signals,
        execution_prices,
        flat_at_close_rows,
        hold_rows,
        period_positions,
    )

    market.check_serves(config)
    from backtest.sweeps import check_sweepable

    check_sweepable([config], "decay curves")
    panel = market.panel
    if panel.bars is not None and "next_close" in latencies:
        raise InputError(
            "--latencies: next_close needs daily prices",
            hint="intraday bars trade at bar opens: use next_open",
        )
    rows = market.period(config, market.placed(config).session_idx)
    links = market.links(config)
    points = []
    benchmarks: dict[str, pd.Series] = {}
    for label in latencies:
        at_latency = latency_config(config, label)
        placed = market.placed(at_latency)
        if label in SESSION_PUSHES:
            placed = (
                pushed(placed, 1, len(panel.dates))
                if panel.bars is None
                else pushed_to_next_session(placed, panel.bars.session)
            )
        e = at_latency.execution
        # Only the labels: the other signal arrays (five of bars x tickers) are freed here.
        labels = compute_signals(panel, placed, at_latency.signal, e, at_latency.news, links).labels
        exec_price = execution_prices(panel, e)[rows]
        flat = flat_at_close_rows(panel, e)
        positions = period_positions(
            labels[rows],
            exec_price,
            e,
            None if flat is None else flat[rows],
            hold_rows(panel, e),
        )
        point, benchmarks[e.at] = _figures(
            label, positions, exec_price, panel, rows, e, benchmarks.get(e.at)
        )
        points.append(point)
        # A simulation's vectorbt objects hold cycles: free each latency's (bars x tickers
        # arrays) before the next is simulated, not at some later collection.
        gc.collect()
    return DecayResult(
        config=config,
        points=tuple(points),
        dates=panel.dates[rows],
        tickers=tuple(panel.tickers),
    )


def _figures(
    label: str,
    positions: np.ndarray,
    exec_price: np.ndarray,
    panel: Any,
    rows: slice,
    e: Any,
    benchmark: pd.Series | None,
) -> tuple[DecayPoint, pd.Series]:
    """One latency's point, and the benchmark curve: a latency moves only the positions, so
    the latencies executing at the same ``e.at`` (the same prices) share one (``benchmark``)."""
    from backtest.analytics.stats import compute_stats
    from backtest.engine import simulate

    simulation = simulate(
        positions,
        exec_price,
        panel.close[rows],
        dates=panel.dates[rows],
        tickers=list(panel.tickers),
        initial_cash=e.initial_cash,
        fees=e.fees,
        slippage=e.slippage,
        benchmark=benchmark,
    )
    stats = compute_stats(
        simulation.equity,
        simulation.benchmark,
        positions,
        simulation.trades,
        initial_value=e.initial_cash,
        row_session=None if panel.bars is None else panel.row_session[rows],
    )["strategy"]
    returns = simulation.trades["return"].to_numpy(np.float64)
    returns = returns[np.isfinite(returns)]
    mean = float(returns.mean()) if len(returns) else math.nan
    se = float(returns.std(ddof=1) / math.sqrt(len(returns))) if len(returns) > 1 else math.nan
    point = DecayPoint(
        latency=label,
        trades=int(stats["trades"] or 0),
        mean_trade_return=mean,
        trade_return_se=se,
        hit_rate=_number(stats["hit_rate"]),
        sharpe=_number(stats["sharpe"]),
        total_return=_number(stats["total_return"]),
    )
    return point, simulation.benchmark


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def edge_halves_at(points: tuple[DecayPoint, ...] | list[DecayPoint]) -> str | None:
    """The first latency after the first whose mean trade return is at most half the first
    one's; None when the first is not positive or the edge never halves."""
    if not points or not points[0].mean_trade_return > 0:
        return None
    half = points[0].mean_trade_return / 2
    for point in points[1:]:
        if not point.mean_trade_return > half:
            return point.latency
    return None
