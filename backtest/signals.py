"""Headlines and prices -> news, momentum, composite, labels and positions on the session grid.

The one code path behind ``backtest run``, ``backtest signal`` and sweeps:

1. Score every headline once (the lexicon kernel).
2. Give each headline its tradeable session (calendar.py's point-in-time rules).
3. News flow per (session, ticker): the decayed sum of the scores of the headlines that count
   (news_quality: reprints, stale and off-topic stories left out) tradeable up to that session,
   normalised; plus ``signal.spillover`` times the flow its links carry from other tickers
   (links.py: co-mentions learned from earlier stories, a peers file).
4. Momentum per (session, ticker) from closes known at decision time (lag 1 for open execution).
5. Composite blend and bull / neutral / bear labels.
6. Positions over the backtest period only, starting flat; or, for the cross-sectional
   constructions ([portfolio] rank / signal), target weights from the composite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.calendar import known_at_ns, tradeable_bar, tradeable_session
from backtest.config import ExecutionConfig, NewsConfig, PortfolioConfig, SignalConfig
from backtest.data.panel import PricePanel
from backtest.errors import InputError
from backtest.kernels.composite import composite_score, label_codes
from backtest.kernels.momentum import momentum_score
from backtest.kernels.news import news_count, news_flow, news_score
from backtest.kernels.positions import target_positions, target_positions_flat_at
from backtest.kernels.stops import apply_stops
from backtest.kernels.weights import RANK, SIGNAL, target_weights
from backtest.links import LinkInputs, Stories, link_spillover, stories
from backtest.news_quality import counted


@dataclass(frozen=True)
class PlacedHeadlines:
    """Scored headlines with their tradeable session and ticker column on the panel."""

    frame: pd.DataFrame
    """The loader's rows kept, plus score, session_idx and ticker_idx columns."""
    dropped_no_prices: int
    """Headlines of tickers that have no prices (ignored)."""
    dropped_after_data: int
    """Headlines tradeable only after the last session with prices (ignored)."""

    @property
    def session_idx(self) -> np.ndarray:
        return self.frame["session_idx"].to_numpy(np.int64)

    @property
    def ticker_idx(self) -> np.ndarray:
        return self.frame["ticker_idx"].to_numpy(np.int64)

    @property
    def scores(self) -> np.ndarray:
        return self.frame["score"].to_numpy(np.float64)


@dataclass(frozen=True)
class SignalPanel:
    """(n_sessions, n_tickers) signal arrays over the whole grid; positions over the period."""

    news_flow: np.ndarray
    news_count: np.ndarray
    news: np.ndarray
    momentum: np.ndarray
    composite: np.ndarray
    labels: np.ndarray
    spillover_flow: np.ndarray | None = None
    """Flow reaching each ticker through its links (before ``signal.spillover``); None when
    computed without links."""
    spillover: np.ndarray | None = None
    """News score points that came through links: news minus the score of own news alone."""
    stories: Stories | None = None
    """The stories co-mention links were learned from."""


def place_headlines(
    headlines: pd.DataFrame,
    scores: np.ndarray,
    panel: PricePanel,
    *,
    headlines_tz: str,
    at: str,
    latency_ns: int,
) -> PlacedHeadlines:
    """Attach score, tradeable session and ticker column to every headline the panel can trade.

    ``headlines_tz`` reads date-only stamps (known after that day's close there); ``at`` and
    ``latency_ns`` are the execution timing (calendar.tradeable_session).
    """
    sessions = panel.sessions
    frame = headlines.assign(score=scores)
    ticker_pos = {t: i for i, t in enumerate(panel.tickers)}
    ticker_idx = frame["ticker"].map(ticker_pos)
    has_prices = ticker_idx.notna().to_numpy()
    frame = frame.loc[has_prices].assign(ticker_idx=ticker_idx[has_prices].astype(np.int64))
    published = frame["published_at"].to_numpy("datetime64[ns]").astype(np.int64)
    known = known_at_ns(published, frame["date_only"].to_numpy(bool), sessions, tz=headlines_tz)
    if panel.bars is None:
        session_idx = tradeable_session(known, sessions, at=at, latency_ns=latency_ns)
        in_grid = session_idx < len(sessions)
        frame = frame.assign(session_idx=session_idx).loc[in_grid]
    else:
        if at != "open":
            raise InputError(
                "intraday prices trade at the open of a bar",
                column="execution.at",
                hint='use execution.at = "open" (a headline trades at the first bar that '
                "starts at or after it is known plus execution.latency)",
            )
        session_idx = tradeable_bar(known, panel.bars, latency_ns)
        in_grid = session_idx < len(panel.bars)
        frame = frame.assign(
            session_idx=session_idx,
            trading_day=panel.bars.session[np.minimum(session_idx, len(panel.bars) - 1)],
        ).loc[in_grid]
    return PlacedHeadlines(
        frame=frame.reset_index(drop=True),
        dropped_no_prices=int((~has_prices).sum()),
        dropped_after_data=int((~in_grid).sum()),
    )


def compute_signals(
    panel: PricePanel,
    placed: PlacedHeadlines,
    signal: SignalConfig,
    execution: ExecutionConfig,
    news: NewsConfig,
    links: LinkInputs | None = None,
) -> SignalPanel:
    """News, momentum, composite and labels on the whole grid (history gives the warm-up).

    Only the headlines ``news`` counts enter the flow (reprints, stale or off-topic stories
    are left out), their scores weighted by novelty and source when asked (news_quality).
    With ``links`` the spillover flow is computed too (and added when ``signal.spillover``);
    without them ``signal.spillover`` must be 0.
    """
    n_sessions, n_tickers = panel.close.shape
    counts, weight = counted(placed.frame, news)
    session_idx, ticker_idx = placed.session_idx[counts], placed.ticker_idx[counts]
    half_life = half_life_rows(panel, signal)
    flow = news_flow(
        session_idx,
        ticker_idx,
        (placed.scores * weight)[counts],
        n_sessions,
        n_tickers,
        half_life,
    )
    count = news_count(session_idx, ticker_idx, n_sessions, n_tickers, half_life)
    own = normalised_flow(flow, count, signal.news_normalise)
    news = news_score(own, signal.news_scale)
    spill = points = story_set = None
    if panel.bars is not None and not signal.spillover:
        links = None  # the link kernel costs bars x tickers^2: on bars, only when it is used
    if links is not None:
        story_set = stories(placed.frame.loc[counts], links)
        spill = link_spillover(own, story_set, links, signal, panel.row_session)
        if signal.spillover:
            own_news = news
            news = news_score(own + signal.spillover * spill, signal.news_scale)
            points = news - own_news
        else:
            points = np.zeros_like(news)
    elif signal.spillover:
        raise ValueError("signal.spillover needs the market's links (Market.links)")
    lag_sessions = 1 if execution.at == "open" else 0
    momentum = momentum_score(panel.close, signal.momentum_lookback, lag_sessions)
    composite, labels = blend_and_label(news, momentum, signal)
    return SignalPanel(
        news_flow=flow,
        news_count=count,
        news=news,
        momentum=momentum,
        composite=composite,
        labels=labels,
        spillover_flow=spill,
        spillover=points,
        stories=story_set,
    )


def blend_and_label(
    news: np.ndarray, momentum: np.ndarray, signal: SignalConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Step 5: the composite blend and its bull / neutral / bear codes (1 / 0 / -1).

    Sweeps call this alone for sets that differ only in weights or thresholds.
    """
    composite = composite_score(news, momentum, signal.news_weight, signal.momentum_weight)
    return composite, label_codes(composite, signal.bull_above, signal.bear_below)


def normalised_flow(flow: np.ndarray, count: np.ndarray, mode: str) -> np.ndarray:
    """The decayed score sum, divided by sqrt(max(1, decayed count)) for "sqrt_count".

    One headline weighs as itself (count <= 1), and a stream of n similar headlines grows like
    sqrt(n), not n: busy tickers read strong when their news agrees, not merely when it is loud.
    """
    if mode == "none":
        return flow
    return flow / np.sqrt(np.maximum(count, 1.0))


def period_positions(
    labels: np.ndarray,
    exec_price: np.ndarray,
    execution: ExecutionConfig,
    flat_rows: np.ndarray | None = None,
    hold: int | None = None,
) -> np.ndarray:
    """Positions over the period's rows: start flat, change only where an order can fill;
    flat on ``flat_rows`` (``flat_at_close_rows``); timed exits after ``hold`` rows
    (``hold_rows``; default ``execution.hold_sessions``)."""
    tradable = np.isfinite(exec_price) & (exec_price > 0)
    args = (
        np.ascontiguousarray(labels),
        np.ascontiguousarray(tradable),
        execution.short,
        execution.on_neutral == "hold",
        execution.hold_sessions if hold is None else hold,
    )
    if flat_rows is None or not flat_rows.any():
        return target_positions(*args)
    return target_positions_flat_at(*args, np.ascontiguousarray(flat_rows, dtype=np.bool_))


def rebalance_candidates(dates: pd.DatetimeIndex, rebalance: str) -> np.ndarray:
    """Sessions that may rebalance: every one ("session", "on_signal"), or the first session of
    each ISO week ("weekly") or calendar month ("monthly") among ``dates``."""
    index = pd.DatetimeIndex(dates)
    if rebalance in ("session", "on_signal") or len(index) == 0:
        return np.ones(len(index), dtype=bool)
    if rebalance == "weekly":
        iso = index.isocalendar()
        key = iso["year"].to_numpy(np.int64) * 100 + iso["week"].to_numpy(np.int64)
    else:
        key = index.year.to_numpy(np.int64) * 100 + index.month.to_numpy(np.int64)
    return np.concatenate([[True], key[1:] != key[:-1]])


def period_weights(
    composite: np.ndarray,
    exec_price: np.ndarray,
    dates: pd.DatetimeIndex,
    portfolio: PortfolioConfig,
    known_returns: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Held target weights (T, K) and rebalancing sessions (T,) over the period's rows
    (kernels.weights.target_weights); the composite at t is known at t's decision time.

    With ``portfolio.vol_target``, ``known_returns`` (``known_returns_window``) scales each
    rebalance's target (``vol_scaled``)."""
    tradable = np.isfinite(exec_price) & (exec_price > 0)
    weights, rebalanced = target_weights(
        np.ascontiguousarray(composite, dtype=np.float64),
        np.ascontiguousarray(tradable),
        rebalance_candidates(dates, portfolio.rebalance),
        portfolio.rebalance == "on_signal",
        RANK if portfolio.construction == "rank" else SIGNAL,
        float(portfolio.long),
        float(portfolio.short),
        float(portfolio.gross),
        float(portfolio.net),
        float(portfolio.max_weight),
    )
    if portfolio.vol_target > 0 and known_returns is not None:
        weights = vol_scaled(weights, rebalanced, known_returns, portfolio.vol_target)
    return weights, rebalanced


def known_returns_window(close: np.ndarray, rows: slice, lookback: int, at: str) -> np.ndarray:
    """(T, lookback, K): for each period session t, the last ``lookback`` close-to-close returns
    known at its decision time (closes up to t-1 for open execution, up to t for close), NaN
    before the data starts. Built on the whole grid, so the period's first sessions see the
    history before it."""
    previous = np.vstack([np.full((1, close.shape[1]), np.nan), close[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = close / previous - 1.0
    lag = 1 if at == "open" else 0
    last = np.arange(rows.start, rows.stop) - lag
    steps = last[:, None] - np.arange(lookback)[None, ::-1]
    padded = np.vstack([np.full((lookback + 1, close.shape[1]), np.nan), returns])
    return padded[steps + lookback + 1]


VOL_PERIODS_PER_YEAR = 252
"""Sessions a year in ``portfolio.vol_target``'s annualisation."""


def vol_scaled(
    weights: np.ndarray, rebalanced: np.ndarray, known_returns: np.ndarray, vol_target: float
) -> np.ndarray:
    """Held targets scaled at each rebalance by min(1, vol_target / sigma), sigma the
    annualised standard deviation (ddof=1) of the target's returns over the known window
    (a missing return counts 0); sessions with sigma 0 or undefined keep the target as is."""
    out = np.array(weights, dtype=np.float64, copy=True)
    scale = 1.0
    for t in range(len(out)):
        if rebalanced[t]:
            book = np.nan_to_num(known_returns[t]) @ out[t]
            sigma = float(np.std(book, ddof=1)) * np.sqrt(VOL_PERIODS_PER_YEAR)
            scale = min(1.0, vol_target / sigma) if sigma > 0 else 1.0
        out[t] = out[t] * scale
    return out


def period_stops(
    positions: np.ndarray,
    exec_price: np.ndarray,
    panel: PricePanel,
    rows: slice,
    execution: ExecutionConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions with ``execution.stop_loss`` / ``take_profit`` exits, the stop fill prices and
    exit reasons over the period's rows (kernels.stops.apply_stops); sessions without a high
    or low are checked on their open and execution price only."""
    missing = np.full(panel.open.shape, np.nan)
    high = missing if panel.high is None else panel.high
    low = missing if panel.low is None else panel.low
    return apply_stops(
        np.ascontiguousarray(positions, dtype=np.int8),
        np.ascontiguousarray(exec_price, dtype=np.float64),
        np.ascontiguousarray(panel.open[rows]),
        np.ascontiguousarray(high[rows]),
        np.ascontiguousarray(low[rows]),
        execution.at == "open",
        float(execution.stop_loss),
        float(execution.take_profit),
    )


def hold_rows(panel: PricePanel, execution: ExecutionConfig) -> int:
    """Rows a position is held before its timed exit (0 = no limit): ``execution.hold`` as a
    number of rows, or a duration in bars (intraday), else ``execution.hold_sessions``."""
    text = execution.hold.strip()
    if not text:
        return execution.hold_sessions
    if text.isdigit():
        return int(text)
    if panel.bars is None:
        raise InputError(
            f"execution.hold = {text!r} is a duration, which needs intraday prices",
            column="execution.hold",
            hint="on daily prices give a number of sessions, e.g. execution.hold = 3",
        )
    from backtest.config import _parse_duration_ns

    return max(1, -(-_parse_duration_ns(text) // panel.bars.interval_ns))


def half_life_rows(panel: PricePanel, signal: SignalConfig) -> float:
    """``signal.half_life`` in grid rows: a number as it is (sessions, or bars on intraday
    prices), a duration divided by the bar size (intraday prices only)."""
    if not isinstance(signal.half_life, str):
        return float(signal.half_life)
    if panel.bars is None:
        raise InputError(
            f"signal.half_life = {signal.half_life!r} is a duration, which needs intraday prices",
            column="signal.half_life",
            hint="on daily prices give a number of sessions, e.g. signal.half_life = 2",
        )
    from backtest.config import _parse_duration_ns

    return _parse_duration_ns(signal.half_life) / panel.bars.interval_ns


def flat_at_close_rows(panel: PricePanel, execution: ExecutionConfig) -> np.ndarray | None:
    """Rows every position exits on: each session's last bar with ``execution.flat_at_close``
    on intraday prices (None otherwise)."""
    if panel.bars is None or not execution.flat_at_close:
        return None
    return panel.bars.last_of_session


def execution_prices(panel: PricePanel, execution: ExecutionConfig) -> np.ndarray:
    """The price each row's orders fill at: the open or close; with ``flat_at_close`` on
    intraday prices, each session's last bar fills at its close (the exit)."""
    price = panel.exec_price(execution.at)
    flat = flat_at_close_rows(panel, execution)
    if flat is None:
        return price
    price = price.copy()
    price[flat] = panel.close[flat]
    return price
