"""Performance statistics: pure functions, arrays or Series in, plain numbers out.

One computation feeds both ``stats.json`` and ``report.html``. Conventions:

- Daily returns are simple returns of the equity curve, ``r[t] = equity[t] / equity[t-1] - 1``;
  NaN returns are dropped. Annualisation uses ``periods_per_year`` sessions (252).
- The risk-free rate is 0. Drawdowns are negative fractions (-0.25 = 25% below the peak).
- Where a figure is undefined (too few returns, zero volatility, no losing trade...) the
  result is ``None``, never inf/NaN and never a division-by-zero warning; every figure is a
  plain ``float``/``int``/``str``/``None`` so that it serialises to JSON as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.analytics.blocks import row_blocks

PERIODS_PER_YEAR = 252
CAR_WINDOW = (-5, 10)
Z_95 = 1.96
FLAT_RETURNS_SD = 1e-12  # below this the curve is flat up to float noise: Sharpe is undefined

Stat = float | int | str | None

# Every key of compute_stats' result: (label for people, definition). The report shows these
# next to the numbers so that stats.json and report.html say the same thing.
STAT_DEFINITIONS: dict[str, tuple[str, str]] = {
    "total_return": ("Total return", "last equity / first equity - 1"),
    "annual_return": (
        "Annual return",
        "CAGR: (1 + total return) ^ (252 / number of daily returns) - 1",
    ),
    "volatility": ("Volatility", "annualised stdev of daily returns (ddof=1) * sqrt(252)"),
    "sharpe": ("Sharpe", "mean / stdev of daily returns * sqrt(252), risk-free rate 0"),
    "sortino": (
        "Sortino",
        "mean daily return / sqrt(mean(min(r, 0)^2)) * sqrt(252), risk-free rate 0",
    ),
    "calmar": ("Calmar", "annual return / |max drawdown|"),
    "max_drawdown": ("Max drawdown", "deepest fall below a running peak, as a fraction"),
    "max_drawdown_start": ("Drawdown peak", "date of the peak before the deepest fall"),
    "max_drawdown_trough": ("Drawdown trough", "date of the deepest point"),
    "max_drawdown_end": ("Drawdown recovery", "first date back at the peak (none: not yet)"),
    "hit_rate": ("Hit rate", "share of closed trades with pnl > 0"),
    "profit_factor": ("Profit factor", "gross profit / gross loss of closed trades"),
    "exposure": ("Exposure", "share of session x ticker cells with a long or short position"),
    "turnover": (
        "Turnover",
        "capital traded per year: mean over sessions of sum |position change| / tickers * 252",
    ),
    "trades": ("Trades", "number of trades, open ones included"),
    "avg_holding_sessions": ("Avg holding", "mean sessions from entry to exit, closed trades"),
}


def _returns_array(returns: pd.Series | np.ndarray | Sequence[float]) -> np.ndarray:
    """Finite values of a returns series as float64."""
    r = np.asarray(returns, dtype=np.float64).ravel()
    return r[np.isfinite(r)]


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def daily_returns(equity: pd.Series) -> pd.Series:
    """Simple session returns of an equity curve, the first (undefined) one dropped."""
    values = equity.astype(np.float64)
    prev = values.shift(1)
    valid = (prev > 0) & np.isfinite(prev) & np.isfinite(values)
    out = values[valid] / prev[valid] - 1.0
    return out.rename("returns")


def total_return(equity: pd.Series) -> float | None:
    """Last over first value minus one; None if undefined."""
    values = np.asarray(equity, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 1 or values[0] <= 0:
        return None
    return float(values[-1] / values[0] - 1.0)


def annual_return(equity: pd.Series, periods_per_year: int = PERIODS_PER_YEAR) -> float | None:
    """CAGR: ``(last/first) ** (periods_per_year / n_returns) - 1`` with n_returns = len - 1.

    A total loss (last <= 0) is -1.0; None with fewer than two values.
    """
    values = np.asarray(equity, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 2 or values[0] <= 0:
        return None
    growth = values[-1] / values[0]
    if growth <= 0:
        return -1.0
    return _finite_or_none(growth ** (periods_per_year / (len(values) - 1)) - 1.0)


def volatility(
    returns: pd.Series | np.ndarray, periods_per_year: int = PERIODS_PER_YEAR
) -> float | None:
    """Annualised standard deviation of returns (ddof=1); None with fewer than two returns."""
    r = _returns_array(returns)
    if len(r) < 2:
        return None
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(
    returns: pd.Series | np.ndarray, periods_per_year: int = PERIODS_PER_YEAR
) -> float | None:
    """``mean / std(ddof=1) * sqrt(periods_per_year)``, rf = 0; None if std is 0 or n < 2."""
    r = _returns_array(returns)
    if len(r) < 2:
        return None
    sd = float(np.std(r, ddof=1))
    if sd < FLAT_RETURNS_SD:
        return None
    return float(np.mean(r) / sd * math.sqrt(periods_per_year))


def sortino_ratio(
    returns: pd.Series | np.ndarray, periods_per_year: int = PERIODS_PER_YEAR
) -> float | None:
    """``mean / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)``; None without a losing return."""
    r = _returns_array(returns)
    if len(r) < 1:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside < FLAT_RETURNS_SD:
        return None
    return float(np.mean(r) / downside * math.sqrt(periods_per_year))


@dataclass(frozen=True)
class Drawdown:
    """The deepest drawdown: depth (<= 0) and the dates of its peak, trough and recovery.

    ``end`` is the first date the curve is back at or above the peak (None if never); all dates
    are None when there is no drawdown.
    """

    depth: float
    start: pd.Timestamp | None
    trough: pd.Timestamp | None
    end: pd.Timestamp | None

    def __iter__(self):
        return iter((self.depth, self.start, self.trough, self.end))


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Fraction below the running peak at each date (0 at a new high, negative below it)."""
    values = equity.astype(np.float64).ffill()
    peak = values.cummax()
    out = pd.Series(np.zeros(len(values)), index=equity.index, name="drawdown")
    ok = (peak > 0).to_numpy()
    out[ok] = (values[ok] / peak[ok] - 1.0).to_numpy()
    return out


def max_drawdown(equity: pd.Series) -> Drawdown:
    """Deepest peak-to-trough fall of ``equity`` (indexed by date) with its dates.

    Unpacks as ``depth, start, trough, end = max_drawdown(equity)``.
    """
    dd = drawdown_series(equity.dropna())
    if len(dd) == 0 or not dd.min() < 0:
        return Drawdown(0.0, None, None, None)
    values = equity.dropna().astype(np.float64).to_numpy()
    trough_i = int(np.argmin(dd.to_numpy()))
    peak_i = int(np.argmax(values[: trough_i + 1]))
    peak_value = values[peak_i]
    recovered = np.nonzero(values[trough_i:] >= peak_value)[0]
    index = dd.index
    end = index[trough_i + int(recovered[0])] if len(recovered) else None
    return Drawdown(float(dd.iloc[trough_i]), index[peak_i], index[trough_i], end)


def calmar_ratio(annual: float | None, depth: float) -> float | None:
    """Annual return over the absolute max drawdown; None without a drawdown."""
    if annual is None or depth == 0:
        return None
    return float(annual / abs(depth))


def exposure(positions: np.ndarray | pd.DataFrame) -> float | None:
    """Share of (session, ticker) cells holding a non-zero position."""
    pos = np.atleast_1d(np.asarray(positions))
    if pos.size == 0:
        return None
    held = 0
    for rows in row_blocks(len(pos), pos.size // len(pos)):
        block = np.asarray(pos[rows], dtype=np.float64)
        held += int(np.count_nonzero(np.nan_to_num(block) != 0))
    return float(held / pos.size)


def turnover(
    positions: np.ndarray | pd.DataFrame,
    periods_per_year: int = PERIODS_PER_YEAR,
    row_session: np.ndarray | None = None,
) -> float | None:
    """Annualised turnover as a multiple of total capital.

    Per session ``sum_k |pos[t,k] - pos[t-1,k]| / n_tickers`` (starting from flat), averaged over
    sessions and multiplied by ``periods_per_year``. Each sleeve is 1/n of the capital, so going
    flat -> long trades 1/n, a long -> short flip 2/n; 12.0 means the capital is traded 12 times a
    year. On intraday bars (``row_session``: each row's session) a session's changes are summed
    over its bars first.
    """
    pos = np.asarray(positions)
    if pos.ndim != 2 or pos.size == 0:
        return None
    change = np.empty(len(pos))
    previous = np.zeros((1, pos.shape[1]))
    for rows in row_blocks(len(pos), pos.shape[1]):
        block = np.nan_to_num(np.asarray(pos[rows], dtype=np.float64))
        change[rows] = np.abs(np.diff(block, axis=0, prepend=previous)).sum(axis=1)
        previous = block[-1:]
    if row_session is not None:
        day = row_session - row_session[0]
        change = np.bincount(day, weights=change)[np.bincount(day) > 0]
    return float(change.mean() / pos.shape[1] * periods_per_year)


def traded_turnover(
    traded: np.ndarray | pd.Series, periods_per_year: int = PERIODS_PER_YEAR
) -> float | None:
    """Annualised turnover of a shared-cash book: the mean over sessions of the value traded
    that session over the equity before it, times ``periods_per_year`` (``turnover``'s units:
    going from cash to a 50/50 long-short book trades 1.0)."""
    t = np.nan_to_num(np.asarray(traded, dtype=np.float64))
    if t.size == 0:
        return None
    return float(t.mean() * periods_per_year)


def _closed_pnl(trades: pd.DataFrame) -> np.ndarray:
    if trades is None or len(trades) == 0:
        return np.empty(0)
    closed = trades["status"] == "closed" if "status" in trades else np.ones(len(trades), bool)
    pnl = np.asarray(trades.loc[closed, "pnl"], dtype=np.float64)
    return pnl[np.isfinite(pnl)]


def hit_rate(trades: pd.DataFrame) -> float | None:
    """Share of closed trades with pnl > 0; None without closed trades."""
    pnl = _closed_pnl(trades)
    return float(np.mean(pnl > 0)) if len(pnl) else None


def profit_factor(trades: pd.DataFrame) -> float | None:
    """Gross profit over gross loss of closed trades; None without a losing trade."""
    pnl = _closed_pnl(trades)
    loss = -float(pnl[pnl < 0].sum())
    if loss <= 0:
        return None
    return float(pnl[pnl > 0].sum()) / loss


def avg_holding_sessions(
    trades: pd.DataFrame, sessions: pd.DatetimeIndex, row_session: np.ndarray | None = None
) -> float | None:
    """Mean number of sessions from entry to exit over closed trades (exit session - entry).

    On intraday bars ``sessions`` holds the bar starts and ``row_session`` each bar's session,
    so a trade opened and closed within a session holds 0 sessions."""
    if trades is None or len(trades) == 0:
        return None
    closed = trades[trades["status"] == "closed"] if "status" in trades else trades
    closed = closed.dropna(subset=["entry_time", "exit_time"])
    if len(closed) == 0:
        return None
    index = pd.DatetimeIndex(sessions)
    entry = index.searchsorted(pd.DatetimeIndex(closed["entry_time"]))
    exit_ = index.searchsorted(pd.DatetimeIndex(closed["exit_time"]))
    if row_session is not None:
        last = len(row_session) - 1
        entry, exit_ = row_session[np.minimum(entry, last)], row_session[np.minimum(exit_, last)]
    return float(np.mean(exit_ - entry))


def session_closes(values: pd.Series, row_session: np.ndarray) -> pd.Series:
    """The value at each session's last row: a bar curve as a daily curve."""
    last = np.ones(len(row_session), dtype=bool)
    last[:-1] = row_session[1:] != row_session[:-1]
    return values.iloc[np.flatnonzero(last)]


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).date().isoformat()


def _with_start(equity: pd.Series, initial_value: float | None) -> pd.Series:
    """Prepend the starting capital (dated at the first session) so day one's move counts."""
    if initial_value is None or len(equity) == 0:
        return equity
    first = pd.Series([float(initial_value)], index=equity.index[:1])
    return pd.concat([first, equity.astype(np.float64)])


def curve_returns(equity: pd.Series, initial_value: float | None = None) -> pd.Series:
    """The daily returns ``curve_stats`` measures: from the starting capital when given."""
    return daily_returns(_with_start(equity.dropna(), initial_value))


def curve_stats(
    equity: pd.Series,
    *,
    initial_value: float | None = None,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> dict[str, Stat]:
    """Return and risk figures of one equity curve (the non-trade part of ``compute_stats``)."""
    curve = _with_start(equity.dropna(), initial_value)
    returns = daily_returns(curve)
    annual = annual_return(curve, periods_per_year)
    dd = max_drawdown(curve)
    return {
        "total_return": total_return(curve),
        "annual_return": annual,
        "volatility": volatility(returns, periods_per_year),
        "sharpe": sharpe_ratio(returns, periods_per_year),
        "sortino": sortino_ratio(returns, periods_per_year),
        "calmar": calmar_ratio(annual, dd.depth),
        "max_drawdown": dd.depth,
        "max_drawdown_start": _iso(dd.start),
        "max_drawdown_trough": _iso(dd.trough),
        "max_drawdown_end": _iso(dd.end),
    }


def compute_stats(
    equity: pd.Series,
    benchmark: pd.Series,
    positions: np.ndarray | pd.DataFrame,
    trades: pd.DataFrame,
    periods_per_year: int = PERIODS_PER_YEAR,
    *,
    initial_value: float | None = None,
    traded: np.ndarray | None = None,
    row_session: np.ndarray | None = None,
) -> dict[str, dict[str, Stat]]:
    """Headline figures for ``"strategy"`` and ``"benchmark"`` (same keys, JSON-ready).

    ``positions`` is the strategy's (sessions x tickers) position grid; the benchmark holds
    +1 everywhere. ``trades`` uses the engine's columns (status, pnl, entry_time, exit_time).
    With ``initial_value`` (the starting capital) the curves are measured from it, so the
    first session's return counts; otherwise from the first session's close. Trade-based
    figures are None for the benchmark. Keys and definitions: ``STAT_DEFINITIONS``.
    On intraday bars (``row_session``: each row's session) the curve figures come from the
    daily curve (each session's last bar), so Sharpe and volatility stay annualised from daily
    returns; exposure counts bars. A cross-sectional book passes ``traded`` (value traded each
    session over the equity before it): its turnover is then ``traded_turnover``, not the
    sleeves' position formula.
    """
    pos = np.asarray(positions)
    sessions = pd.DatetimeIndex(equity.index)
    if row_session is not None:
        equity = session_closes(equity, row_session)
        benchmark = session_closes(benchmark, row_session)
    strategy = curve_stats(equity, initial_value=initial_value, periods_per_year=periods_per_year)
    strategy.update(
        hit_rate=hit_rate(trades),
        profit_factor=profit_factor(trades),
        exposure=exposure(pos),
        turnover=(
            turnover(pos, periods_per_year, row_session)
            if traded is None
            else traded_turnover(traded, periods_per_year)
        ),
        trades=int(len(trades)) if trades is not None else 0,
        avg_holding_sessions=avg_holding_sessions(trades, sessions, row_session),
    )
    bench = curve_stats(benchmark, initial_value=initial_value, periods_per_year=periods_per_year)
    bench_pos = np.broadcast_to(1.0, pos.shape)
    bench.update(
        hit_rate=None,
        profit_factor=None,
        exposure=exposure(bench_pos),
        turnover=turnover(bench_pos, periods_per_year, row_session),
        trades=None,
        avg_holding_sessions=None,
    )
    return {"strategy": strategy, "benchmark": bench}


@dataclass(frozen=True)
class CarPath:
    """Mean cumulative abnormal return around events, one value per offset in ``offsets``.

    ``lower``/``upper`` are mean -/+ 1.96 * sd / sqrt(n_events) (NaN with fewer than 2 events).
    """

    offsets: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_events: int


def cumulative_abnormal_return(
    returns: np.ndarray,
    benchmark_returns: np.ndarray,
    events: np.ndarray | Sequence[tuple[int, int]],
    window: tuple[int, int] = CAR_WINDOW,
) -> CarPath:
    """Average CAR path of events from ``window[0]`` to ``window[1]`` sessions around the event.

    ``returns`` is (sessions x tickers), ``benchmark_returns`` (sessions,), ``events`` rows of
    (session index, ticker index). Abnormal return ``AR = r[t, k] - benchmark[t]``; an event's
    CAR at offset ``tau`` is the sum of its ARs from ``window[0]`` to ``tau`` inclusive. A NaN
    AR (no price that session) adds 0; events whose window leaves the sample are skipped.
    """
    r = np.asarray(returns, dtype=np.float64)
    b = np.asarray(benchmark_returns, dtype=np.float64).ravel()
    lo, hi = window
    offsets = np.arange(lo, hi + 1)
    ev = np.asarray(events, dtype=np.int64).reshape(-1, 2)
    n_sessions = r.shape[0]
    keep = (ev[:, 0] + lo >= 0) & (ev[:, 0] + hi < n_sessions)
    keep &= (ev[:, 1] >= 0) & (ev[:, 1] < r.shape[1])
    ev = ev[keep]
    n = len(ev)
    nan_path = np.full(len(offsets), np.nan)
    if n == 0:
        return CarPath(offsets, nan_path, nan_path.copy(), nan_path.copy(), 0)
    rows = ev[:, :1] + offsets[None, :]
    abnormal = r[rows, ev[:, 1:2]] - b[rows]
    car = np.cumsum(np.nan_to_num(abnormal, nan=0.0), axis=1)
    mean = car.mean(axis=0)
    if n < 2:
        return CarPath(offsets, mean, nan_path.copy(), nan_path.copy(), n)
    half = Z_95 * car.std(axis=0, ddof=1) / math.sqrt(n)
    return CarPath(offsets, mean, mean - half, mean + half, n)


def abnormal_return_from_execution(
    returns: np.ndarray,
    benchmark_returns: np.ndarray,
    events: np.ndarray | Sequence[tuple[int, int]],
    window: tuple[int, int] = CAR_WINDOW,
) -> CarPath:
    """Average cumulative abnormal return measured from the event session's execution price.

    ``returns[t, k]`` is the return from session t's execution price to session t+1's (what a
    position entered at t earns first), ``benchmark_returns[t]`` their equal-weight mean. The
    path at day ``d`` is the abnormal price of session t+d's execution relative to session t's:
    0 at day 0 (the first price a trader could get), sum of AR[t..t+d-1] after it, and minus the
    sum of AR[t+d..t-1] before it (the move that happened before you could trade). A NaN AR adds
    0; events whose window leaves the sample are skipped. Bands as ``cumulative_abnormal_return``.
    """
    r = np.asarray(returns, dtype=np.float64)
    b = np.asarray(benchmark_returns, dtype=np.float64).ravel()
    lo, hi = window
    offsets = np.arange(lo, hi + 1)
    ev = np.asarray(events, dtype=np.int64).reshape(-1, 2)
    keep = (ev[:, 0] + lo >= 0) & (ev[:, 0] + hi - 1 < r.shape[0])
    keep &= (ev[:, 1] >= 0) & (ev[:, 1] < r.shape[1])
    ev = ev[keep]
    n = len(ev)
    nan_path = np.full(len(offsets), np.nan)
    if n == 0:
        return CarPath(offsets, nan_path, nan_path.copy(), nan_path.copy(), 0)
    steps = np.arange(lo, hi)
    rows = ev[:, :1] + steps[None, :]
    abnormal = np.nan_to_num(r[rows, ev[:, 1:2]] - b[rows], nan=0.0)
    before, after = abnormal[:, steps < 0], abnormal[:, steps >= 0]
    run_up = -np.cumsum(before[:, ::-1], axis=1)[:, ::-1]
    path = np.hstack([run_up, np.zeros((n, 1)), np.cumsum(after, axis=1)])
    mean = path.mean(axis=0)
    if n < 2:
        return CarPath(offsets, mean, nan_path.copy(), nan_path.copy(), n)
    half = Z_95 * path.std(axis=0, ddof=1) / math.sqrt(n)
    return CarPath(offsets, mean, mean - half, mean + half, n)


def monthly_returns(equity: pd.Series) -> pd.Series:
    """Return of each calendar month (index "YYYY-MM"): its last value over the previous one's.

    The first month is measured from the curve's first value.
    """
    curve = equity.dropna().astype(np.float64)
    if len(curve) == 0:
        return pd.Series(dtype=np.float64, name="monthly_return")
    months = pd.DatetimeIndex(curve.index).strftime("%Y-%m")
    month_end = curve.groupby(months).last()
    previous = month_end.shift(1)
    previous.iloc[0] = curve.iloc[0]
    out = pd.Series(np.nan, index=month_end.index, name="monthly_return")
    ok = (previous > 0).to_numpy()
    out[ok] = (month_end[ok] / previous[ok] - 1.0).to_numpy()
    return out


def rolling_sharpe(
    returns: pd.Series, window_sessions: int = 63, periods_per_year: int = PERIODS_PER_YEAR
) -> pd.Series:
    """Sharpe ratio over a trailing window of sessions (NaN where the window is short or flat)."""
    mean = returns.rolling(window_sessions).mean()
    sd = returns.rolling(window_sessions).std(ddof=1)
    ok = sd > 0
    out = pd.Series(np.nan, index=returns.index, name="rolling_sharpe")
    out[ok] = (mean[ok] / sd[ok] * math.sqrt(periods_per_year)).to_numpy()
    return out
