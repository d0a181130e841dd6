"""Event study and information coefficient from a run folder's frames.

Pure functions: frames or arrays in, small results out; nothing here reads files.

Event study, in steps:
1. Abnormal return of a ticker on a session = its simple return minus the equal-weight mean
   return of all tickers with a return that session (returns.csv is the only input).
2. A news event is a (session, ticker) whose headlines tradeable at that session have a summed
   score > 0 (bull) or < 0 (bear). Day 0 is that tradeable session.
3. For each event, CAR(k) = sum of abnormal returns from day -5 to day k, k = -5..10. Events
   whose window leaves the sample or hits a missing return are left out (and counted as such).
4. The average CAR per day with a 95% band = mean +- 1.96 * standard error across events.

Information coefficient: on each session t, the Spearman rank correlation across tickers of the
composite at t with the return from t to t+1 (returns.csv's return dated t+1); then its mean per
month, and the mean and t-statistic of the per-session series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

PRE_SESSIONS = 5
POST_SESSIONS = 10
Z_95 = 1.959963984540054
MIN_TICKERS_FOR_IC = 3


@dataclass(frozen=True)
class CarCurve:
    """Average cumulative abnormal return per event day with its 95% band (fractions)."""

    days: list[int]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    n_events: int
    n_dropped: int


@dataclass(frozen=True)
class EventStudy:
    """Bull and bear CAR curves; ``None`` when there was no event of that kind."""

    bull: CarCurve | None
    bear: CarCurve | None


@dataclass(frozen=True)
class InformationCoefficient:
    """Per-session Spearman IC summarised per month and overall."""

    months: list[str]
    monthly_mean: list[float]
    monthly_sessions: list[int]
    mean: float | None
    t_stat: float | None
    n_sessions: int


def wide_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """returns.csv (date, ticker, return) as a sessions x tickers frame, sorted both ways."""
    wide = returns.pivot_table(index="date", columns="ticker", values="return", dropna=False)
    return wide.sort_index().sort_index(axis=1)


def abnormal_returns(wide: np.ndarray) -> np.ndarray:
    """Return minus the cross-sectional equal-weight mean of the available returns that session."""
    out = np.full(wide.shape, np.nan)
    counts = np.sum(~np.isnan(wide), axis=1)
    sums = np.nansum(wide, axis=1)
    has = counts > 0
    out[has] = wide[has] - (sums[has] / counts[has])[:, None]
    return out


def news_events(headlines: pd.DataFrame) -> pd.DataFrame:
    """(session, ticker, score, direction) per news event; direction +1 bull, -1 bear."""
    if headlines.empty:
        return pd.DataFrame({"session": [], "ticker": [], "score": [], "direction": []})
    summed = headlines.groupby(["session", "ticker"], sort=True)["score"].sum().reset_index()
    summed["direction"] = np.sign(summed["score"]).astype(int)
    return summed[summed["direction"] != 0].reset_index(drop=True)


def cumulative_abnormal_returns(
    abnormal: np.ndarray,
    event_rows: np.ndarray,
    event_cols: np.ndarray,
    pre: int = PRE_SESSIONS,
    post: int = POST_SESSIONS,
) -> tuple[np.ndarray, int]:
    """CAR paths (events x (pre+post+1)) of complete event windows, and how many were dropped.

    Row i of ``abnormal`` is a session, column j a ticker; an event is (event_rows[k],
    event_cols[k]). CAR accumulates from day -pre to each day.
    """
    width = pre + post + 1
    paths = []
    dropped = 0
    n_sessions = abnormal.shape[0]
    for row, col in zip(event_rows, event_cols, strict=True):
        first, last = row - pre, row + post
        if first < 0 or last >= n_sessions:
            dropped += 1
            continue
        window = abnormal[first : last + 1, col]
        if np.isnan(window).any():
            dropped += 1
            continue
        paths.append(np.cumsum(window))
    if not paths:
        return np.empty((0, width)), dropped
    return np.vstack(paths), dropped


def average_car(paths: np.ndarray, dropped: int, pre: int = PRE_SESSIONS) -> CarCurve | None:
    """Mean CAR per day with a normal 95% band from the cross-event standard error."""
    n = paths.shape[0]
    if n == 0:
        return None
    mean = paths.mean(axis=0)
    half = np.full(mean.shape, np.nan)
    if n > 1:
        half = Z_95 * paths.std(axis=0, ddof=1) / math.sqrt(n)
    days = list(range(-pre, paths.shape[1] - pre))
    return CarCurve(
        days=days,
        mean=mean.tolist(),
        lower=(mean - half).tolist(),
        upper=(mean + half).tolist(),
        n_events=n,
        n_dropped=dropped,
    )


def event_study(
    returns: pd.DataFrame,
    headlines: pd.DataFrame,
    pre: int = PRE_SESSIONS,
    post: int = POST_SESSIONS,
) -> EventStudy:
    """Average CAR around bull and bear news events (see the module docstring)."""
    wide = wide_returns(returns)
    abnormal = abnormal_returns(wide.to_numpy(dtype=float))
    events = news_events(headlines)
    row_of = {date: i for i, date in enumerate(wide.index)}
    col_of = {ticker: j for j, ticker in enumerate(wide.columns)}
    known = events["session"].isin(row_of.keys()) & events["ticker"].isin(col_of.keys())
    events = events[known]
    curves = {}
    for name, direction in (("bull", 1), ("bear", -1)):
        chosen = events[events["direction"] == direction]
        rows = np.array([row_of[s] for s in chosen["session"]], dtype=np.int64)
        cols = np.array([col_of[t] for t in chosen["ticker"]], dtype=np.int64)
        paths, dropped = cumulative_abnormal_returns(abnormal, rows, cols, pre, post)
        curves[name] = average_car(paths, dropped, pre)
    return EventStudy(bull=curves["bull"], bear=curves["bear"])


def spearman_by_row(
    x: np.ndarray, y: np.ndarray, min_count: int = MIN_TICKERS_FOR_IC
) -> np.ndarray:
    """Spearman rank correlation of x and y across columns, one value per row.

    Uses only columns where both are present; ties get average ranks. NaN where fewer than
    ``min_count`` pairs or where either side is constant.
    """
    out = np.full(x.shape[0], np.nan)
    for i in range(x.shape[0]):
        ok = ~np.isnan(x[i]) & ~np.isnan(y[i])
        if ok.sum() < min_count:
            continue
        rx = pd.Series(x[i, ok]).rank().to_numpy()
        ry = pd.Series(y[i, ok]).rank().to_numpy()
        sx, sy = rx.std(), ry.std()
        if sx == 0 or sy == 0:
            continue
        out[i] = float(np.mean((rx - rx.mean()) * (ry - ry.mean())) / (sx * sy))
    return out


def information_coefficient(signals: pd.DataFrame, returns: pd.DataFrame) -> InformationCoefficient:
    """Spearman IC of the composite at t with the next session's return, per month and overall."""
    wide_ret = wide_returns(returns)
    composite = signals.pivot_table(
        index="date", columns="ticker", values="composite", dropna=False
    ).sort_index()
    composite = composite.reindex(index=wide_ret.index, columns=wide_ret.columns)
    next_return = wide_ret.shift(-1)
    ic = pd.Series(
        spearman_by_row(composite.to_numpy(dtype=float), next_return.to_numpy(dtype=float)),
        index=wide_ret.index,
    ).dropna()
    if ic.empty:
        return InformationCoefficient([], [], [], None, None, 0)
    months = ic.index.str.slice(0, 7)
    grouped = ic.groupby(months, sort=True)
    n = int(ic.size)
    std = float(ic.std(ddof=1)) if n > 1 else float("nan")
    t_stat = float(ic.mean() / (std / math.sqrt(n))) if n > 1 and std > 0 else None
    return InformationCoefficient(
        months=list(grouped.mean().index),
        monthly_mean=[float(v) for v in grouped.mean()],
        monthly_sessions=[int(v) for v in grouped.size()],
        mean=float(ic.mean()),
        t_stat=t_stat,
        n_sessions=n,
    )
