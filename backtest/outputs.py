"""The run folder's tables and stats.json content, built from one run's arrays.

Nothing here computes a signal or a statistic of its own: figures come from report/stats.py,
signals from the kernels; this module only lays them out in the documented files.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import math
import platform
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.analytics.events import (
    MEASURES,
    Z_BAND,
    cross_sectional_ic,
    event_study,
    event_study_by_group,
    news_groups,
)
from backtest.analytics.intraday import intraday_event_study
from backtest.config import HEADLINE_WINDOW_HALF_LIVES, NewsConfig
from backtest.data.files import file_sha256, frame_sha256
from backtest.errors import InputError
from backtest.kernels.composite import LABEL_NAMES
from backtest.links import link_spillover, top_comentions
from backtest.news_quality import (
    MULTI_TICKER_OVER,
    STALE_BELOW_NOVELTY,
    counted,
    reprints_of,
)
from backtest.signals import half_life_rows

if TYPE_CHECKING:
    from backtest.config import StrategyConfig
    from backtest.data.panel import PricePanel
    from backtest.engine import Simulation
    from backtest.links import LinkInputs
    from backtest.market import LoadedData
    from backtest.signals import PlacedHeadlines, SignalPanel

LEXICON_COPY = "lexicon.csv"
"""A run with a lexicon file (signal.lexicon) keeps a byte copy of it under this name."""
TRADE_HEADLINES = 5
"""How many headlines behind a trade are listed in trades.csv."""
HEADLINE_SEPARATOR = " || "
VOLATILE_STATS_FIELDS = ("created_at", "timings_s", "command")
"""The only stats.json fields that differ between two runs of the same inputs (the command
line differs when only --out does)."""


@dataclass(frozen=True)
class RunOutputs:
    """Everything a run folder holds, ready to be written."""

    config_toml: str
    stats: dict[str, Any]
    equity: pd.DataFrame
    trades: pd.DataFrame
    signals: pd.DataFrame
    headlines: pd.DataFrame
    returns: pd.DataFrame
    extra_files: dict[str, pd.DataFrame | str | bytes] = field(default_factory=dict)
    """More files by relative path (``lexicon.csv``, ``lexicons/window-01.csv``): a frame is
    written as CSV (``write_csv``), text as UTF-8, bytes as is; all before the report renders."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while building many small objects.

    Laying out a run allocates ~10^5 rows, cells and strings that live until the folder is
    written; with vectorbt's ~3 * 10^5 objects in the heap each full collection they trigger
    costs ~0.1-0.2 s and finds almost nothing (0.5 s of the default run). Reference counting
    still frees everything as usual; cycles are collected once the block ends. Nested use and a
    collector that was already off are respected. The cycles left by earlier stages are
    collected once first: the simulations of the decay curve leave some of their arrays in
    them (~70 MB at 20 tickers x 126 sessions of minute bars), else held through the block.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@gc_paused()
def build_outputs(
    *,
    config: StrategyConfig,
    data: LoadedData,
    panel: PricePanel,
    placed: PlacedHeadlines,
    signals: SignalPanel,
    rows: slice,
    positions: np.ndarray,
    simulation: Simulation,
    command: str,
    started: float,
    timings: dict[str, float],
    links: LinkInputs | None = None,
    decay_points: Sequence[Any] | None = None,
    baselines: dict[str, Any] | None = None,
) -> RunOutputs:
    """Lay out one run's results as the documented run-folder tables and stats (with the
    cyclic garbage collector paused: ``gc_paused``). ``baselines`` is stats.json's block when
    the caller computed (and timed) it, else ``luck_baselines`` runs here."""
    from backtest.analytics.stats import compute_stats

    dates = panel.dates[rows]
    tickers = list(panel.tickers)
    first = rows.start
    in_period = placed.frame["session_idx"].between(first, rows.stop - 1)
    period_headlines = placed.frame.loc[in_period]

    equity = pd.DataFrame(
        {
            "date": row_labels(dates),
            "equity": simulation.equity.to_numpy(np.float64),
            "benchmark": simulation.benchmark.to_numpy(np.float64),
        }
    )
    trades = trades_with_headlines(
        simulation.trades, placed, panel, half_life_rows(panel, config.signal), config.news
    )
    weights = held_weights(simulation, config.execution.initial_cash)
    # One date and one ticker column for both per-row tables: on a year of minute bars for
    # 500 tickers each is ~1.5 GB of text.
    grid = grid_labels(dates, tickers)
    if baselines is None:
        baselines = luck_baselines(config, panel, rows, positions, simulation)
    signal_table = signals_table(
        signals, rows, positions, grid, weights, with_spillover=bool(config.signal.spillover)
    )
    headline_table = headlines_table(period_headlines, panel, config.news)
    returns = returns_table(panel, rows, config.execution.at, grid)

    figures = compute_stats(
        simulation.equity,
        simulation.benchmark,
        positions,
        simulation.trades,
        initial_value=config.execution.initial_cash,
        traded=None if simulation.traded is None else simulation.traded.to_numpy(np.float64),
        row_session=None if panel.bars is None else panel.row_session[rows],
    )
    fingerprints = data_fingerprints(data, len(period_headlines))
    extra_files: dict[str, pd.DataFrame | str | bytes] = {}
    copied = lexicon_copy(config.signal.lexicon)
    if copied is not None:
        fingerprints["lexicon"], extra_files[LEXICON_COPY] = copied
    stats: dict[str, Any] = {
        "name": config.name,
        "news": news_block(headline_table),
        "created_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "command": command,
        "period": period_block(dates, panel.sessions.calendar),
        "tickers": tickers,
        "stats": figures,
        "per_ticker": per_ticker_stats(
            simulation,
            positions,
            period_headlines,
            tickers,
            config.execution.initial_cash / len(tickers),
        ),
        "config": config.to_dict(),
        "event_study": event_study_block(returns, headline_table),
        "event_study_by_news": news_event_study_block(returns, headline_table),
        "ic": ic_block(signal_table, returns),
        "intraday_event_study": intraday_event_block(config, panel, placed, rows),
        "decay": decay_block(decay_points),
        "spillover": spillover_block(
            config, placed, signals, rows, panel.row_session, dates, tickers, returns, links
        ),
        "baselines": baselines,
        **daily_research_blocks(config, panel, signals, rows, weights, dates, figures),
        "data": fingerprints,
        "versions": versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    return RunOutputs(
        config_toml=config.to_toml(),
        stats=json_safe(stats),
        equity=equity,
        trades=trades,
        signals=signal_table,
        headlines=headline_table,
        returns=returns,
        extra_files=extra_files,
    )


def headlines_table(
    period_headlines: pd.DataFrame, panel: PricePanel, news: NewsConfig
) -> pd.DataFrame:
    """headlines.csv: every headline of the period with its tradeable session, score, label,
    text (HTML entities decoded), and which counted: novelty, relevance, tickers named,
    ``duplicate_of`` (the original's input record, 0 for an original), ``reprints`` (of an
    original) and ``counted`` (whether it entered the news flow under ``news``)."""
    from backtest.scoring import label_scores

    frame = period_headlines
    counts, weight = counted(frame, news)
    is_reprint, original = reprints_of(frame, news.duplicate_window)
    record = frame["record"].to_numpy(np.int64)
    n_reprints = np.bincount(original[is_reprint], minlength=len(frame))
    scores = frame["score"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "published_at": iso_utc_seconds(frame["published_at"]),
            "session": row_labels(panel.dates)[frame["session_idx"].to_numpy()],
            "ticker": _text_column(frame["ticker"]),
            "score": scores,
            "label": label_scores(scores),
            "headline": decoded(frame["headline"]),
            "source": _text_column(frame["source"]),
            "url": _text_column(frame["url"]),
            "record": record,
            "novelty": frame["novelty"].to_numpy(np.float64),
            "relevance": frame["relevance"].to_numpy(np.float64),
            "tickers_named": frame["n_named"].to_numpy(np.int64),
            "duplicate_of": np.where(is_reprint, record[original], 0),
            "reprints": n_reprints.astype(np.int64),
            "counted": counts,
            "weight": np.where(counts, weight, 0.0),
        }
    )


def decoded(texts: pd.Series) -> np.ndarray:
    """Headline text with HTML entities decoded ("S&amp;P" reads "S&P"); the page escapes it."""
    import html

    as_text = texts.astype(str)
    out = as_text.to_numpy(dtype=object)
    entity = np.flatnonzero(as_text.str.contains("&", regex=False).to_numpy(bool))
    out[entity] = [html.unescape(t) for t in out[entity]]
    return out


def news_block(headlines: pd.DataFrame) -> dict[str, Any]:
    """stats.json's ``news``: which headlines of the period counted, and by source."""
    counted_rows = headlines["counted"].to_numpy(bool)
    by_source = headlines.groupby("source", sort=True)["counted"].agg(["size", "sum"])
    return {
        "rows": int(len(headlines)),
        "counted": int(counted_rows.sum()),
        "reprints": int((headlines["duplicate_of"] > 0).sum()),
        "stale_below_0_2": int((headlines["novelty"] < STALE_BELOW_NOVELTY).sum()),
        "multi_ticker_over_3": int((headlines["tickers_named"] > MULTI_TICKER_OVER).sum()),
        "by_source": {
            str(source): {"rows": int(row["size"]), "counted": int(row["sum"])}
            for source, row in by_source.iterrows()
        },
    }


def traded_returns(panel: PricePanel, rows: slice, at: str) -> np.ndarray:
    """(period sessions, tickers): the execution price of t -> that of t+1, NaN where either
    is missing (what a position entered at t earns first)."""
    exec_price = panel.exec_price(at)
    following = np.vstack([exec_price[1:], np.full((1, exec_price.shape[1]), np.nan)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (following / exec_price - 1.0)[rows]


def luck_baselines(
    config: StrategyConfig,
    panel: PricePanel,
    rows: slice,
    positions: np.ndarray,
    simulation: Simulation,
) -> dict[str, Any] | None:
    """stats.json's ``baselines``: random timing and the block bootstrap (analytics.baselines),
    with the [baselines] settings and the run's own costs; None on intraday bars (their
    accounting is per session)."""
    from backtest.analytics.baselines import baselines_block, block_bootstrap, random_timing
    from backtest.analytics.stats import curve_returns

    b, e = config.baselines, config.execution
    if panel.bars is not None:
        return None
    exec_price = panel.exec_price(e.at)[rows]
    book = simulation.weights is not None
    timing = random_timing(
        simulation.weights.to_numpy(np.float64) if book else positions,
        np.isfinite(exec_price) & (exec_price > 0),
        traded_returns(panel, rows, e.at),
        cost=e.fees + e.slippage,
        runs=b.random_runs,
        seed=b.seed,
        book=book,
    )
    strategy = curve_returns(simulation.equity, e.initial_cash)
    benchmark = curve_returns(simulation.benchmark, e.initial_cash)
    bootstrap = block_bootstrap(
        strategy.to_numpy(np.float64),
        benchmark.reindex(strategy.index).to_numpy(np.float64),
        runs=b.bootstrap_runs,
        block_sessions=b.block_sessions,
        seed=b.seed,
    )
    return baselines_block(timing, bootstrap)


def daily_research_blocks(
    config: StrategyConfig,
    panel: PricePanel,
    signals: SignalPanel,
    rows: slice,
    weights: np.ndarray,
    dates: pd.DatetimeIndex,
    figures: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """stats.json's ``portfolio``, ``quantile_returns`` and ``ic_decay`` (per session, so left
    out on intraday bars)."""
    if panel.bars is not None:
        return {}
    at = config.execution.at
    return {
        "portfolio": book_block(config, weights, traded_returns(panel, rows, at), dates, figures),
        **factor_block(signals.composite, panel.exec_price(at), rows),
    }


def held_weights(simulation: Simulation, initial_cash: float) -> np.ndarray:
    """signals.csv's ``weight``: the target weight of equity held from each session's execution
    price. A cross-sectional book's targets as simulated; for sleeves, the position times the
    sleeve's share of equity at the previous close (1/n on the first session): what all-in on a
    sleeve weighs in the whole."""
    if simulation.weights is not None:
        return simulation.weights.to_numpy(np.float64)
    values = simulation.sleeve_value.to_numpy(np.float64)
    start = np.full((1, values.shape[1]), float(initial_cash) / values.shape[1])
    before = np.vstack([start, values[:-1]])
    share = before / before.sum(axis=1, keepdims=True)
    return simulation.positions.to_numpy(np.float64) * share


def book_block(
    config: StrategyConfig,
    weights: np.ndarray,
    traded: np.ndarray,
    dates: pd.DatetimeIndex,
    figures: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """stats.json's ``portfolio``: legs, exposures and turnover (analytics.portfolio)."""
    from backtest.analytics.portfolio import portfolio_block

    turnover = figures["strategy"].get("turnover")
    return portfolio_block(config.portfolio.construction, weights, traded, dates, turnover)


def factor_block(composite: np.ndarray, exec_price: np.ndarray, rows: slice) -> dict[str, Any]:
    """stats.json's ``quantile_returns`` (next-session return by composite quintile) and
    ``ic_decay`` (IC over 1, 2, 5 and 10 sessions) over the period's rows of the whole grid's
    ``composite`` and ``exec_price`` (analytics.quantiles)."""
    from backtest.analytics.quantiles import (
        IC_HORIZONS,
        forward_returns,
        ic_decay,
        quantile_returns,
        quantiles_block,
    )

    forward = {h: forward_returns(exec_price, h)[rows] for h in IC_HORIZONS}
    return quantiles_block(
        quantile_returns(composite[rows], forward[1]), ic_decay(composite[rows], forward)
    )


def returns_table(panel: PricePanel, rows: slice, at: str, grid: tuple[Any, Any]) -> pd.DataFrame:
    """returns.csv: per (session, ticker) of the period, ``return`` = close(t-1) -> close(t)
    and ``traded_return`` = the execution price of t -> that of t+1 (what a position entered
    at t earns first: open to open for open execution, close to close for close execution).
    ``grid``: the period's ``grid_labels``."""
    close = panel.close
    previous = np.vstack([np.full((1, close.shape[1]), np.nan), close[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        close_to_close = (close / previous - 1.0)[rows]
    traded = traded_returns(panel, rows, at)
    date, ticker = grid
    return pd.DataFrame(
        {
            "date": date,
            "ticker": ticker,
            "return": close_to_close.reshape(-1),
            "traded_return": traded.reshape(-1),
        },
        copy=False,
    )


def event_study_block(returns: pd.DataFrame, headlines: pd.DataFrame) -> dict[str, Any]:
    """stats.json's ``event_study``: per bull / bear news, the events, the days and the CAR both
    ways (from the execution price, and close to close), with standard errors."""
    studies = {m: event_study(returns, headlines, measure=m) for m in MEASURES}
    block: dict[str, Any] = {}
    for side in ("bull", "bear"):
        tradeable, classic = (getattr(studies[m], side) for m in MEASURES)
        if tradeable is None or classic is None:
            block[side] = None
            continue
        block[side] = {
            "events": tradeable.n_events,
            "days": tradeable.days,
            "car_tradeable": tradeable.mean,
            "se_tradeable": _standard_errors(tradeable, Z_BAND),
            "car_close_to_close": classic.mean,
            "se_close_to_close": _standard_errors(classic, Z_BAND),
        }
    return block


def news_event_study_block(returns: pd.DataFrame, headlines: pd.DataFrame) -> dict[str, Any]:
    """stats.json's ``event_study_by_news``: the tradeable event study of the counted headlines
    split by novelty (fresh / stale, terciles) and relevance (terciles), analytics.news_groups.
    Per group: its headlines and, per side, the events, days, CAR and standard errors."""
    block: dict[str, Any] = {}
    for name, (n_headlines, study) in event_study_by_group(
        returns, headlines, news_groups(headlines)
    ).items():
        block[name] = {"headlines": n_headlines}
        for side in ("bull", "bear"):
            block[name][side] = _curve_block(getattr(study, side))
    return block


def _standard_errors(curve: Any, z: float) -> list[float]:
    return [(hi - m) / z for m, hi in zip(curve.mean, curve.upper, strict=True)]


def ic_block(signals: pd.DataFrame, returns: pd.DataFrame) -> dict[str, Any]:
    """stats.json's ``ic``: the cross-sectional IC on the traded return and close to close."""
    out = {}
    for measure, name in zip(MEASURES, ("traded", "close_to_close"), strict=True):
        out[name] = _ic_summary(cross_sectional_ic(signals, returns, measure=measure))
    return out


_FAST_FORMAT_RANGE = (pd.Timestamp("1970-01-01"), pd.Timestamp("9999-12-31 23:59:59"))


def iso_dates(values: Any) -> np.ndarray:
    """``values.strftime("%Y-%m-%d")`` as an object array (NaN for NaT), ~20x faster."""
    return _formatted(values, "D", "", "%Y-%m-%d")


def row_labels(values: Any) -> np.ndarray:
    """How the run folder's CSVs name a row: its session date (``iso_dates``), or on intraday
    bars (time-zone-aware bar starts) ISO 8601 with the UTC offset (2015-03-09T09:30:00-04:00).
    """
    index = pd.DatetimeIndex(values)
    if index.tz is None:
        return iso_dates(index)
    fast = _stamps_with_offsets(index)
    if fast is not None:
        return fast
    text = np.asarray(index.strftime("%Y-%m-%dT%H:%M:%S%z"), dtype=object)
    present = ~index.isna()
    text[present] = [t[:-2] + ":" + t[-2:] for t in text[present]]
    text[~present] = np.nan
    return text


def _stamps_with_offsets(index: pd.DatetimeIndex) -> np.ndarray | None:
    """``row_labels`` of zoned stamps by numpy's ISO formatting of the wall times plus each
    distinct UTC offset's text (strftime costs ~9 us a stamp: ~1 s on a year of minute bars);
    None where that is not strftime's text (dates outside 1970-9999, offsets not whole
    minutes)."""
    wall = index.tz_localize(None)
    missing = index.isna()
    present = wall[~missing]
    low, high = _FAST_FORMAT_RANGE
    if len(present) == 0 or present.min() < low or present.max() > high:
        return None
    offset_s = np.where(missing, 0.0, (wall - index.tz_convert(None)).total_seconds())
    if (offset_s % 60).any():
        return None
    distinct, codes = np.unique(offset_s.astype(np.int64) // 60, return_inverse=True)
    suffixes = np.array(
        [f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in distinct.tolist()]
    )
    stamps = np.datetime_as_string(wall.to_numpy("datetime64[ns]"), unit="s")
    text = np.strings.add(stamps, suffixes[codes]).astype(object)
    text[missing] = np.nan
    return text


def iso_utc_seconds(values: Any) -> np.ndarray:
    """``values.strftime("%Y-%m-%dT%H:%M:%S+00:00")`` (the wall time, seconds truncated) as an
    object array (NaN for NaT), ~20x faster."""
    return _formatted(values, "s", "+00:00", "%Y-%m-%dT%H:%M:%S+00:00")


def _formatted(values: Any, unit: str, suffix: str, fmt: str) -> np.ndarray:
    """numpy's ISO formatting of the wall times for dates from 1970 to 9999 (where it and
    strftime agree: four-digit years, truncation toward the past), strftime otherwise."""
    index = pd.DatetimeIndex(values)
    wall = index.tz_localize(None) if index.tz is not None else index
    missing = wall.isna()
    present = wall[~missing]
    if len(present) and (
        present.min() < _FAST_FORMAT_RANGE[0] or present.max() > _FAST_FORMAT_RANGE[1]
    ):
        return np.asarray(index.strftime(fmt), dtype=object)
    stamps = wall.to_numpy("datetime64[ns]")
    text = np.datetime_as_string(stamps, unit=unit)
    if suffix:
        text = np.strings.add(text, suffix)
    text = text.astype(object)
    text[missing] = np.nan
    return text


def _text_column(column: pd.Series) -> Any:
    """A text column for a new table: str columns stay Arrow strings (no round trip through
    Python objects), others go by value as before."""
    if isinstance(column.dtype, pd.StringDtype):
        return column.reset_index(drop=True)
    return column.to_numpy()


def stats_frame(figures: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """stats.json's "stats" block as a float frame: one row a figure (NaN where undefined),
    columns strategy and benchmark. The drawdown's dates stay in stats.json only."""
    frame = pd.DataFrame(figures).reindex(columns=["strategy", "benchmark"])
    dates = [name for name in frame.index if name.startswith("max_drawdown_")]
    return frame.drop(index=dates).astype(np.float64)


def period_block(dates: pd.DatetimeIndex, calendar: str) -> dict[str, Any]:
    """stats.json's (and sweep.json's) "period": first and last session, count, calendar."""
    block: dict[str, Any] = {
        "start": f"{dates[0]:%Y-%m-%d}",
        "end": f"{dates[-1]:%Y-%m-%d}",
        "sessions": len(dates),
        "calendar": calendar,
    }
    if dates.tz is not None:
        block["sessions"] = int(pd.Index(dates.date).nunique())
        block["bars"] = len(dates)
    return block


def grid_labels(dates: pd.DatetimeIndex, tickers: list[str]) -> tuple[Any, Any]:
    """The date and ticker columns of a (session, ticker) table in date-major order, as
    categoricals (``grid_text``)."""
    n_dates, n_tickers = len(dates), len(tickers)
    return (
        grid_text(row_labels(dates), np.repeat(np.arange(n_dates, dtype=np.int32), n_tickers)),
        grid_text(tickers, np.tile(np.arange(n_tickers, dtype=np.int32), n_dates)),
    )


def grid_text(values: Any, codes: np.ndarray) -> pd.Categorical:
    """``values[codes]`` as a pandas Categorical: each distinct text once and a small integer a
    row. A year of minute bars for 500 tickers has 49 M rows: their date, ticker and label as
    texts took ~2.6 GB, as codes ~0.3 GB. The CSVs print the texts (the same bytes)."""
    categories = pd.Index(np.asarray(values, dtype=object), dtype="str")
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


LABEL_CODES = (-1, 1, 0)
"""The label codes in the order of their names' categories: bear, bull, neutral (sorted, as
the texts would sort)."""
LABEL_CATEGORY = np.array([LABEL_CODES.index(c) for c in (-1, 0, 1)], dtype=np.int8)
"""The category of label code c at LABEL_CATEGORY[c + 1]."""


def signals_table(
    signals: SignalPanel,
    rows: slice,
    positions: np.ndarray,
    grid: tuple[Any, Any],
    weights: np.ndarray | None = None,
    *,
    with_spillover: bool = False,
) -> pd.DataFrame:
    """signals.csv: one row per (session, ticker) of the period (``grid``: its
    ``grid_labels``); with spillover on, a ``spillover`` column after ``news``: the news points
    that came through links; ``weight`` (held_weights) when given."""
    labels = signals.labels[rows].reshape(-1)
    names = grid_text([LABEL_NAMES[c] for c in LABEL_CODES], LABEL_CATEGORY[labels + 1])
    date, ticker = grid
    table = pd.DataFrame(
        {
            "date": date,
            "ticker": ticker,
            "news": signals.news[rows].reshape(-1),
            "momentum": signals.momentum[rows].reshape(-1),
            "composite": signals.composite[rows].reshape(-1),
            "label": names,
            "position": positions.reshape(-1).astype(np.int64),
            **({} if weights is None else {"weight": weights.reshape(-1)}),
        },
        copy=False,
    )
    if with_spillover and signals.spillover is not None:
        table.insert(3, "spillover", signals.spillover[rows].reshape(-1))
    return table


def intraday_event_block(
    config: StrategyConfig, panel: PricePanel, placed: PlacedHeadlines, rows: slice
) -> dict[str, Any] | None:
    """stats.json's ``intraday_event_study`` on intraday prices (analytics.intraday): news
    events of the period's counted headlines, abnormal return at +1..+60 minutes and the close."""
    if panel.bars is None:
        return None
    counts, weight = counted(placed.frame, config.news)
    row = placed.session_idx[counts]
    column = placed.ticker_idx[counts]
    inside = (row >= rows.start) & (row < rows.stop)
    cell = row[inside] * len(panel.tickers) + column[inside]
    cells, where = np.unique(cell, return_inverse=True)
    summed = np.bincount(where, weights=(placed.scores * weight)[counts][inside])
    direction = np.sign(summed).astype(np.int64)
    keep = direction != 0
    benchmark = benchmark_column(panel, config)
    study = intraday_event_study(
        panel.open,
        panel.close,
        panel.bars.start_ns,
        panel.bars.session,
        cells[keep] // len(panel.tickers),
        cells[keep] % len(panel.tickers),
        direction[keep],
        benchmark_column=benchmark,
    )
    return {**study, "against": "equal-weight" if benchmark is None else panel.tickers[benchmark]}


def benchmark_column(panel: PricePanel, config: StrategyConfig) -> int | None:
    """The panel column of ``report.benchmark_ticker`` (None: the equal-weight mean)."""
    ticker = config.report.benchmark_ticker.strip().upper()
    if not ticker:
        return None
    if ticker not in panel.tickers:
        raise InputError(
            f"report.benchmark_ticker {ticker} has no prices in the data",
            hint="add its bars to the prices (and to data.tickers if set), or leave it empty",
        )
    return panel.tickers.index(ticker)


def decay_block(points: Sequence[Any] | None) -> dict[str, Any] | None:
    """stats.json's ``decay``: the run's own strategy at the default latencies (intraday)."""
    if not points:
        return None
    from backtest.decay import edge_halves_at

    return {
        "halves_at": edge_halves_at(list(points)),
        "points": [dataclasses.asdict(p) for p in points],
    }


TOP_LINKS = 15
"""How many co-mention links stats.json and the report list."""


def spillover_block(
    config: StrategyConfig,
    placed: PlacedHeadlines,
    signals: SignalPanel,
    rows: slice,
    row_session: np.ndarray,
    dates: pd.DatetimeIndex,
    tickers: list[str],
    returns: pd.DataFrame,
    links: LinkInputs | None,
) -> dict[str, Any] | None:
    """stats.json's ``spillover``: the strongest co-mention links of the period, the peers
    rows used, the peer event study and the IC of the spillover flow alone (links.py);
    ``row_session`` maps the grid rows (bars on intraday prices) to sessions."""
    if links is None or signals.stories is None or signals.spillover_flow is None:
        return None
    s = config.signal
    period = row_session[rows]
    sessions = slice(int(period[0]), int(period[-1]) + 1) if len(period) else slice(0, 0)
    top = top_comentions(signals.stories, tuple(tickers), sessions, s.comention_min, TOP_LINKS)
    counts, weight = counted(placed.frame, config.news)
    news_sum = np.zeros(signals.news.shape)
    np.add.at(
        news_sum,
        (placed.session_idx[counts], placed.ticker_idx[counts]),
        (placed.scores * weight)[counts],
    )
    own_direction = np.sign(news_sum)
    linked = link_spillover(own_direction, signals.stories, links, s, row_session)
    peer_cells = (linked != 0) & (own_direction == 0)
    session, column = np.nonzero(peer_cells[rows])
    day = row_labels(dates)
    peer_events = pd.DataFrame(
        {
            "session": day[session],
            "ticker": np.asarray(tickers, dtype=object)[column],
            "score": np.sign(linked[rows][session, column]),
        }
    )
    study = event_study(returns, peer_events, measure="tradeable")
    flow = signals.spillover_flow[rows]
    flow_table = pd.DataFrame(
        {
            "date": np.repeat(day, len(tickers)),
            "ticker": np.tile(tickers, len(day)),
            "composite": flow.reshape(-1),
        }
    )
    ic = {
        name: _ic_summary(cross_sectional_ic(flow_table, returns, measure=measure))
        for measure, name in zip(MEASURES, ("traded", "close_to_close"), strict=True)
    }
    return {
        "spillover": s.spillover,
        "links": s.links,
        "comention_window": s.comention_window,
        "comention_min": s.comention_min,
        "stories": len(signals.stories),
        "top_comentions": top.to_dict(orient="records"),
        "peers": links.peers.to_dict(orient="records") if s.links != "comentions" else [],
        "peer_event_study": {side: _curve_block(getattr(study, side)) for side in ("bull", "bear")},
        "ic": ic,
        "news_points_mean_abs": (
            float(np.mean(np.abs(signals.spillover[rows])))
            if signals.spillover is not None
            else 0.0
        ),
    }


def _curve_block(curve: Any) -> dict[str, Any] | None:
    if curve is None:
        return None
    return {
        "events": curve.n_events,
        "days": curve.days,
        "car_tradeable": curve.mean,
        "se_tradeable": _standard_errors(curve, Z_BAND),
    }


def _ic_summary(ic: Any) -> dict[str, Any]:
    return {"mean": ic.mean, "t_stat": ic.t_stat, "sessions": ic.n_sessions}


def trades_with_headlines(
    trades: pd.DataFrame,
    placed: PlacedHeadlines,
    panel: PricePanel,
    half_life: float,
    news: NewsConfig,
) -> pd.DataFrame:
    """trades.csv: the engine's trades plus the headlines that pushed the news flow their way
    (``half_life`` in grid rows: ``signals.half_life_rows``).

    For a trade entered at session e, the candidates are the ticker's headlines tradeable in
    sessions e - ceil(HEADLINE_WINDOW_HALF_LIVES * half_life) .. e; each weighs
    score * 0.5 ** ((e - s) / half_life) signed by the trade's side, and the strongest few that
    pushed in the trade's direction are listed, most influential first (ties: earlier in the
    file first). ``novelty`` and ``relevance`` are the means over the listed headlines (empty
    when none is listed). Vectorised over all (trade, headline) pairs: large runs have 10^5
    trades.
    """
    window = max(1, math.ceil(HEADLINE_WINDOW_HALF_LIVES * half_life))
    counts, weights = counted(placed.frame, news)
    frame = placed.frame.assign(score=placed.frame["score"] * weights).loc[counts]
    ticker_idx = frame["ticker_idx"].to_numpy(np.int64)
    by_ticker = np.lexsort((frame["session_idx"].to_numpy(np.int64), ticker_idx))  # stable
    session = frame["session_idx"].to_numpy(np.int64)[by_ticker]
    score = frame["score"].to_numpy(np.float64)[by_ticker]
    stride = len(panel.dates) + window + 2
    key = ticker_idx[by_ticker] * stride + session + window + 1
    ticker_pos = {t: i for i, t in enumerate(panel.tickers)}
    trade_ticker = np.array([ticker_pos[t] for t in trades["ticker"]], dtype=np.int64)
    entry = panel.dates.searchsorted(pd.DatetimeIndex(trades["entry_time"])).astype(np.int64)
    base = trade_ticker * stride + window + 1
    lo = np.searchsorted(key, base + entry - window, side="left")
    hi = np.searchsorted(key, base + entry, side="right")
    counts = hi - lo
    pair_trade = np.repeat(np.arange(len(trades)), counts)
    pair_row = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    sign = np.where(trades["side"].to_numpy() == "long", 1.0, -1.0)
    weight = (
        sign[pair_trade]
        * score[pair_row]
        * 0.5 ** ((entry[pair_trade] - session[pair_row]) / half_life)
    )
    order = np.lexsort((pair_row, -weight, pair_trade))
    pair_trade, pair_row, weight = pair_trade[order], pair_row[order], weight[order]
    rank = np.arange(len(order)) - np.searchsorted(pair_trade, pair_trade, side="left")
    keep = (rank < TRADE_HEADLINES) & (weight > 0)
    kept_trade = pair_trade[keep]  # ascending: a trade's headlines are adjacent, strongest first
    texts = decoded(frame["headline"].iloc[by_ticker[pair_row[keep]]])
    cleaned = [" ".join(text.split()) for text in texts]
    headlines = np.full(len(trades), "", dtype=object)
    starts = np.flatnonzero(np.diff(kept_trade, prepend=-1)).tolist()
    for start, stop in zip(starts, [*starts[1:], len(cleaned)][: len(starts)], strict=True):
        headlines[kept_trade[start]] = HEADLINE_SEPARATOR.join(cleaned[start:stop])
    out = trades.copy()
    for column in ("entry_time", "exit_time"):
        out[column] = row_labels(pd.to_datetime(out[column]))
    out["n_headlines"] = counts.astype(np.int64)
    out["headlines"] = headlines
    listed = by_ticker[pair_row[keep]]
    for column in ("novelty", "relevance"):
        total = np.bincount(
            kept_trade, frame[column].to_numpy(np.float64)[listed], minlength=len(trades)
        )
        n_listed = np.bincount(kept_trade, minlength=len(trades))
        mean = np.full(len(trades), np.nan)
        mean[n_listed > 0] = total[n_listed > 0] / n_listed[n_listed > 0]
        out[column] = mean
    return out


def per_ticker_stats(
    simulation: Simulation,
    positions: np.ndarray,
    period_headlines: pd.DataFrame,
    tickers: list[str],
    sleeve_cash: float,
) -> dict[str, dict[str, Any]]:
    """Per-sleeve return and P&L against its starting cash, trades, hit rate, exposure, news."""
    out: dict[str, dict[str, Any]] = {}
    trades = simulation.trades
    last_value = simulation.sleeve_value[tickers].iloc[-1].to_numpy(np.float64)
    owner = trades["ticker"]
    closed = (trades["status"] == "closed").to_numpy()
    won = closed & (trades["pnl"] > 0).to_numpy()
    n_trades = owner.value_counts()
    n_closed = owner[closed].value_counts()
    n_won = owner[won].value_counts()
    exposure = np.mean(positions != 0, axis=0)
    headline_counts = period_headlines["ticker"].value_counts()
    for k, ticker in enumerate(tickers):
        value = last_value[k]
        closed_trades = int(n_closed.get(ticker, 0))
        out[ticker] = {
            "total_return": float(value / sleeve_cash - 1.0),
            "pnl": float(value - sleeve_cash),
            "trades": int(n_trades.get(ticker, 0)),
            "hit_rate": (int(n_won.get(ticker, 0)) / closed_trades if closed_trades else None),
            "exposure": float(exposure[k]),
            "headlines": int(headline_counts.get(ticker, 0)),
        }
    return out


def data_fingerprints(data: LoadedData, headlines_in_period: int) -> dict[str, Any]:
    """Paths, sha256, row counts and date ranges of the inputs, to make the run reproducible."""
    headlines = data.headlines
    return {
        "prices": data.prices_fingerprint(),
        "headlines": {
            "path": data.headlines_source,
            "sha256": (
                file_sha256(data.headlines_file) if data.headlines_file else frame_sha256(headlines)
            ),
            "rows": int(len(headlines)),
            "rows_in_period": int(headlines_in_period),
            "start": _iso_or_none(headlines["published_at"].min()),
            "end": _iso_or_none(headlines["published_at"].max()),
        },
    }


def lexicon_copy(lexicon: str) -> tuple[dict[str, Any], bytes] | None:
    """stats.json's ``data.lexicon`` entry and the bytes of a lexicon file (None for the packaged
    lexicon), so the report reads the words a run scored with from the run folder alone.

    A learned lexicon (``backtest lexicon learn``) also records its training window as
    ``start``/``end``: the report warns when the run's period overlaps it.
    """
    if not lexicon:
        return None
    from backtest.scoring import load_lexicon, read_training_window

    path = Path(lexicon)
    content = path.read_bytes()
    window = read_training_window(content.decode("utf-8", errors="replace"))
    entry: dict[str, Any] = {
        "path": lexicon,
        "sha256": hashlib.sha256(content).hexdigest(),
        "rows": len(load_lexicon(path).terms),
        "copy": LEXICON_COPY,
        "learned": window is not None,
    }
    if window is not None:
        entry["start"], entry["end"] = window.start, window.end
    return entry, content


def _iso_or_none(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).isoformat()


def versions() -> dict[str, str]:
    """Versions of the packages whose behaviour shapes the numbers."""
    out = {"python": platform.python_version()}
    for package in ("news-backtest", "vectorbt", "numba", "pandas", "numpy", "exchange_calendars"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def json_safe(value: Any) -> Any:
    """Numpy scalars and arrays to Python, NaN and infinities to None, timestamps to ISO text,
    so stats.json (and any JSON block built beside it) is strict JSON."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
