"""Event study and information coefficient from a run folder's frames.

Pure functions: frames or arrays in, small results out; nothing here reads files.

Two measures of every figure (``measure``):

- ``"tradeable"``: returns from the execution price a trader could get (returns.csv's
  ``traded_return`` dated t: session t's execution price to session t+1's, open to open for
  open execution, close to close for close execution). This is what the strategy can earn.
- ``"close_to_close"``: returns.csv's ``return`` (close t-1 to close t), the classic measure
  papers report; with open execution its day 0 holds the overnight gap no order could catch.

Event study, in steps:
1. A news event is a (session, ticker) whose headlines tradeable at that session have a summed
   score > 0 (bull) or < 0 (bear). Day 0 is that tradeable session.
2. The benchmark return of a session is the equal-weight mean return of all tickers with a
   return that session (returns.csv is the only input); abnormal return = ticker return minus it.
3. Tradeable: stats.abnormal_return_from_execution, the abnormal price of each session's
   execution relative to day 0's (0 at day 0; days before it show what moved before you could
   trade). Close to close: stats.cumulative_abnormal_return accumulates from day -5. Both
   average over the events with a 95% band (mean +- 1.96 standard errors); a missing return
   adds 0, events whose window leaves the period are left out and counted here.

Information coefficient (cross-sectional, the usual factor-research reading): on each session t,
the Spearman rank correlation across tickers of the composite at t with the return it earns
(tradeable: traded_return dated t; close to close: return dated t+1); then its mean per month,
and the mean and t-statistic of the per-session series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.analytics.blocks import row_blocks
from backtest.analytics.stats import (
    Z_95,
    abnormal_return_from_execution,
    cumulative_abnormal_return,
)

PRE_SESSIONS = 5
POST_SESSIONS = 10
MIN_TICKERS_FOR_IC = 3
Z_BAND = Z_95
"""Bands are mean +- Z_BAND standard errors (95%)."""
MEASURES = ("tradeable", "close_to_close")
RETURN_COLUMN = {"tradeable": "traded_return", "close_to_close": "return"}
EVENT_COLUMNS = ("session", "ticker", "score", "counted", "weight")
"""The headline columns an event study reads (taking rows of the text columns costs more)."""
"""returns.csv's column behind each measure."""


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
    """Bull and bear CAR curves; ``None`` when there was no usable event of that kind."""

    bull: CarCurve | None
    bear: CarCurve | None


@dataclass(frozen=True)
class InformationCoefficient:
    """Per-session cross-sectional Spearman IC summarised per month and overall."""

    months: list[str]
    monthly_mean: list[float]
    monthly_sessions: list[int]
    mean: float | None
    t_stat: float | None
    n_sessions: int


def has_measure(returns: pd.DataFrame, measure: str) -> bool:
    """Whether returns.csv holds the column of ``measure`` (folders before traded_return do not)."""
    return RETURN_COLUMN[measure] in returns.columns


def wide_returns(returns: pd.DataFrame, column: str = "return") -> pd.DataFrame:
    """returns.csv (date, ticker, one return column) as a sessions x tickers frame, sorted."""
    return wide_table(returns, column)


def wide_table(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """One column of a (date, ticker) table as a sorted dates x tickers frame: pivot_table's
    frame. A run's own tables (each date's tickers in one block, dates and tickers sorted) are
    reshaped instead: the grouping cost ~0.4 s a call on 1 M rows, the report makes a dozen."""
    shape = grid_shape(table)
    if shape is None:
        wide = table.pivot_table(index="date", columns="ticker", values=column, dropna=False)
        return wide.sort_index().sort_index(axis=1)
    n_dates, n_tickers = shape
    values = table[column].to_numpy(np.float64).reshape(n_dates, n_tickers)
    index = pd.Index(table["date"].iloc[::n_tickers].to_numpy(), name="date")
    columns = pd.Index(table["ticker"].iloc[:n_tickers].to_numpy(), name="ticker")
    return pd.DataFrame(values, index=index, columns=columns, copy=False)


def grid_shape(table: pd.DataFrame) -> tuple[int, int] | None:
    """(dates, tickers) when ``table`` holds every (date, ticker) once in date-major order
    with both sorted and unique (as a run writes signals.csv and returns.csv), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(table) == 0 or not {"date", "ticker"} <= set(table.columns):
        return None
    if all(isinstance(table[c].dtype, pd.CategoricalDtype) for c in ("date", "ticker")):
        return _categorical_grid_shape(table["date"].array, table["ticker"].array)
    try:
        dates = pa.array(table["date"], from_pandas=True)
        tickers = pa.array(table["ticker"], from_pandas=True)
    except (pa.ArrowException, TypeError):
        return None
    for column in (dates, tickers):
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if column.null_count or not text:
            return None
    changes = np.flatnonzero(pc.not_equal(dates, dates[0]).to_numpy(zero_copy_only=False))
    n_tickers = int(changes[0]) if len(changes) else len(table)
    if len(table) % n_tickers:
        return None
    n_dates = len(table) // n_tickers
    block_dates = pd.Index(dates.take(np.arange(0, len(table), n_tickers)).to_numpy(False))
    block_tickers = pd.Index(tickers.slice(0, n_tickers).to_numpy(False))
    for block in (block_dates, block_tickers):
        if not (block.is_monotonic_increasing and block.is_unique):
            return None
    # Compared a block of dates at a time: the repeated texts of a year of minute bars for 500
    # tickers would take ~1.6 GB at once.
    for block in row_blocks(n_dates, n_tickers):
        n = block.stop - block.start
        start, length = block.start * n_tickers, n * n_tickers
        block_starts = np.arange(start, start + length, n_tickers)
        repeated = dates.take(np.repeat(block_starts, n_tickers))
        tiled = tickers.take(np.tile(np.arange(n_tickers), n))
        same = pc.and_(
            pc.equal(dates.slice(start, length), repeated),
            pc.equal(tickers.slice(start, length), tiled),
        )
        if not pc.all(same).as_py():
            return None
    return n_dates, n_tickers


def _categorical_grid_shape(
    dates: pd.Categorical, tickers: pd.Categorical
) -> tuple[int, int] | None:
    """``grid_shape`` of categorical date and ticker columns (a run's own tables), read from
    their codes: every category once per block, in the categories' (sorted) order."""
    n_dates, n_tickers = len(dates.categories), len(tickers.categories)
    if n_dates * n_tickers != len(dates):
        return None
    for categories in (dates.categories, tickers.categories):
        if not (categories.is_monotonic_increasing and pd.api.types.is_string_dtype(categories)):
            return None
    for block in row_blocks(n_dates, n_tickers):
        cells = slice(block.start * n_tickers, block.stop * n_tickers)
        n = block.stop - block.start
        if not (
            np.array_equal(
                dates.codes[cells], np.repeat(np.arange(block.start, block.stop), n_tickers)
            )
            and np.array_equal(tickers.codes[cells], np.tile(np.arange(n_tickers), n))
        ):
            return None
    return n_dates, n_tickers


def equal_weight_returns(wide: np.ndarray) -> np.ndarray:
    """Mean of the available returns per session (row); NaN where no ticker has one."""
    counts = np.sum(~np.isnan(wide), axis=1)
    sums = np.nansum(wide, axis=1)
    out = np.full(wide.shape[0], np.nan)
    out[counts > 0] = sums[counts > 0] / counts[counts > 0]
    return out


def news_events(headlines: pd.DataFrame) -> pd.DataFrame:
    """(session, ticker, score, direction) per news event; direction +1 bull, -1 bear.

    Only headlines that counted in the news flow (headlines.csv's ``counted``, with their
    ``weight``) make events, when the columns are there; older run folders count every row.
    """
    headlines = headlines[[c for c in EVENT_COLUMNS if c in headlines.columns]]
    if "counted" in headlines.columns:
        kept = headlines["counted"].astype(bool).to_numpy()
        headlines = headlines.loc[kept].assign(
            score=headlines["score"].to_numpy()[kept] * headlines["weight"].to_numpy()[kept]
        )
    if headlines.empty:
        return pd.DataFrame({"session": [], "ticker": [], "score": [], "direction": []})
    summed = headlines.groupby(["session", "ticker"], sort=True)["score"].sum().reset_index()
    summed["direction"] = np.sign(summed["score"]).astype(int)
    return summed[summed["direction"] != 0].reset_index(drop=True)


def event_study(
    returns: pd.DataFrame,
    headlines: pd.DataFrame,
    pre: int = PRE_SESSIONS,
    post: int = POST_SESSIONS,
    measure: str = "close_to_close",
) -> EventStudy:
    """Average CAR around bull and bear news events (see the module docstring)."""
    return wide_event_study(
        wide_returns(returns, RETURN_COLUMN[measure]), headlines, pre, post, measure
    )


def wide_event_study(
    wide: pd.DataFrame, headlines: pd.DataFrame, pre: int, post: int, measure: str
) -> EventStudy:
    """``event_study`` on the measure's returns already as a sessions x tickers frame."""
    values = wide.to_numpy(dtype=float)
    benchmark = equal_weight_returns(values)
    events = news_events(headlines)
    rows = wide.index.get_indexer(events["session"])
    cols = wide.columns.get_indexer(events["ticker"])
    known = (rows >= 0) & (cols >= 0)
    direction_of = events["direction"].to_numpy()
    curves = {}
    for name, direction in (("bull", 1), ("bear", -1)):
        chosen = known & (direction_of == direction)
        cells = np.column_stack([rows[chosen], cols[chosen]])
        car = (
            abnormal_return_from_execution if measure == "tradeable" else cumulative_abnormal_return
        )
        path = car(values, benchmark, cells, window=(-pre, post))
        curves[name] = (
            CarCurve(
                days=[int(d) for d in path.offsets],
                mean=[float(v) for v in path.mean],
                lower=[float(v) for v in path.lower],
                upper=[float(v) for v in path.upper],
                n_events=path.n_events,
                n_dropped=len(cells) - path.n_events,
            )
            if path.n_events
            else None
        )
    return EventStudy(bull=curves["bull"], bear=curves["bear"])


def spearman(x: np.ndarray, y: np.ndarray, min_count: int = MIN_TICKERS_FOR_IC) -> float:
    """Spearman rank correlation of the pairs where both are finite (average ranks for ties).

    NaN with fewer than ``min_count`` pairs or when either side is constant. The one rank
    correlation of the package: the report's IC and the lexicon ICs both use it.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < min_count:
        return math.nan
    rx = average_ranks(x[ok])
    ry = average_ranks(y[ok])
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return math.nan
    return float(np.mean((rx - rx.mean()) * (ry - ry.mean())) / (sx * sy))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks: ``pd.Series.rank()``'s
    numbers exactly (each is a whole or half number), without building a Series (the report's
    IC ranks two arrays per session). ``values`` must not hold NaN."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    stop = np.append(first[1:], n)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((first + stop + 1) / 2.0, stop - first)
    return ranks


def spearman_by_row(
    x: np.ndarray, y: np.ndarray, min_count: int = MIN_TICKERS_FOR_IC
) -> np.ndarray:
    """``spearman`` of x and y across columns, one value per row, computed for all rows at
    once (the report asks for about a dozen of these over every session)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    blocks = list(row_blocks(len(x), x.shape[-1]))
    if len(blocks) > 1:
        # About ten temporaries per cell: a block of rows at a time (analytics.blocks).
        return np.concatenate([spearman_by_row(x[b], y[b], min_count) for b in blocks])
    ok = np.isfinite(x) & np.isfinite(y)
    n = ok.sum(axis=1)
    safe = np.maximum(n, 1)

    def centred(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ranks = pd.DataFrame(np.where(ok, values, np.nan), copy=False).rank(
            axis=1, method="average"
        )
        ranks = np.where(ok, ranks.to_numpy(np.float64), 0.0)
        deviation = np.where(ok, ranks - (ranks.sum(axis=1) / safe)[:, None], 0.0)
        return deviation, np.sqrt((deviation**2).sum(axis=1) / safe)

    dx, sx = centred(x)
    dy, sy = centred(y)
    out = np.full(len(n), math.nan)
    good = (n >= min_count) & (sx > 0) & (sy > 0)
    out[good] = (dx * dy).sum(axis=1)[good] / safe[good] / (sx[good] * sy[good])
    return out


def cross_sectional_ic(
    signals: pd.DataFrame, returns: pd.DataFrame, measure: str = "close_to_close"
) -> InformationCoefficient:
    """Per-session Spearman IC of the composite at t with the return it earns, summarised."""
    wide_ret = wide_returns(returns, RETURN_COLUMN[measure])
    composite = wide_table(signals, "composite").reindex(
        index=wide_ret.index, columns=wide_ret.columns
    )
    next_return = wide_ret if measure == "tradeable" else wide_ret.shift(-1)
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


def news_groups(headlines: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row masks of headlines.csv splitting the counted headlines by novelty and relevance:
    fresh / stale (novelty at or above / below ``STALE_BELOW_NOVELTY``), and terciles of
    novelty and of relevance (cut at the counted rows' 1/3 and 2/3 quantiles q1 <= q2: low
    <= q1, middle strictly between, high >= q2 and > q1; ties stay together, so a tercile can
    hold more or fewer than a third, or nothing, e.g. when most stories have novelty 1)."""
    from backtest.news_quality import STALE_BELOW_NOVELTY

    counted = (
        headlines["counted"].to_numpy(bool)
        if "counted" in headlines.columns
        else np.ones(len(headlines), dtype=bool)
    )
    groups: dict[str, np.ndarray] = {}
    novelty = headlines["novelty"].to_numpy(np.float64)
    groups[f"fresh (novelty >= {STALE_BELOW_NOVELTY:g})"] = counted & (
        novelty >= STALE_BELOW_NOVELTY
    )
    groups[f"stale (novelty < {STALE_BELOW_NOVELTY:g})"] = counted & (novelty < STALE_BELOW_NOVELTY)
    for column in ("novelty", "relevance"):
        values = headlines[column].to_numpy(np.float64)
        if not counted.any():
            continue
        low, high = np.quantile(values[counted], [1 / 3, 2 / 3])
        groups[f"{column}: low tercile (<= {low:.2f})"] = counted & (values <= low)
        groups[f"{column}: middle tercile"] = counted & (values > low) & (values < high)
        groups[f"{column}: high tercile (>= {high:.2f})"] = (
            counted & (values >= high) & (values > low)
        )
    return groups


def event_study_by_group(
    returns: pd.DataFrame,
    headlines: pd.DataFrame,
    groups: dict[str, np.ndarray],
    measure: str = "tradeable",
    pre: int = PRE_SESSIONS,
    post: int = POST_SESSIONS,
) -> dict[str, tuple[int, EventStudy]]:
    """(headlines in the group, event study of only those headlines) per group: an event is
    built from the group's headlines alone, so "stale bull news" is a (session, ticker) whose
    stale headlines sum to a positive score."""
    headlines = headlines[[c for c in EVENT_COLUMNS if c in headlines.columns]]
    wide = wide_returns(returns, RETURN_COLUMN[measure])
    return {
        name: (int(mask.sum()), wide_event_study(wide, headlines.loc[mask], pre, post, measure))
        for name, mask in groups.items()
    }
