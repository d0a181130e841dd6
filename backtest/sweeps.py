"""Parameter sweeps: many strategies on the same data, simulated as vectorbt columns at once.

A sweep costs parameter sets x sessions x tickers, never re-loading or re-scoring:

1. ``parse_grid``: ``--grid section.key=v1,v2,...`` items (or ``start:stop:step``, inclusive)
   -> ``{dotted key: [values]}``. Keys are checked against the config (unknown keys suggest
   the closest one) and every value is type-checked alone. ``data.*`` keys cannot be swept
   (they change which data is loaded); a key given twice or a value listed twice is an error.
2. ``expand_grid``: every combination, in ``itertools.product`` order of the grid (the last key
   varies fastest), is validated with ``StrategyConfig.with_overrides``. A combination that is
   invalid only in combination (``bull_above <= bear_below``) is SKIPPED and counted in
   ``skipped``; a value that no combination accepts (``half_life=-1``) is an ``InputError``
   naming the key, the value and the reason, and so is a grid with no valid combination.
3. ``prepare_sweep``: load and align the data once (``backtest.prepare``), score the headlines
   once per ``signal.lexicon``, place them once per (``execution.at``, ``execution.latency``)
   and fix ONE period shared by every set (``data.start``/``data.end``, else the span of the
   news over all placement variants, as ``backtest run`` does for one variant), so that all
   sets' returns share one date axis. Prices stay numpy arrays.
4. ``run_sweep``: the sets are cut into chunks of ``chunk_size`` consecutive sets
   (``default_chunk_size``: from available memory). Each chunk (``simulate_chunk``) computes
   every set's signals with ``backtest.signals.compute_signals`` (cached per news/momentum
   parameters within the chunk; only the composite blend and labels are per set) and its
   positions with ``period_positions``, then runs ONE ``engine.run_portfolio`` (the engine's
   ``from_signals`` argument set) on a sessions x (sets x tickers) array with ``group_by`` per
   set: cash is never shared and each set's sleeves start with ``initial_cash / n_tickers``,
   exactly as ``backtest run``.
5. Figures per set come from ``backtest.analytics.stats`` (the definitions of stats.json, measured
   from ``initial_cash``; ``set_figures`` is pinned to ``compute_stats`` by the tests), and the
   benchmark once per distinct (at, fees, slippage, initial_cash) from ``engine.simulate``,
   inside the first chunk's task. After each chunk vectorbt's reference cycles are collected,
   so memory stays at one chunk's working set. Chunks run in order in-process, or on any
   ``ChunkExecutor`` (``backtest.sweep_dask``); results are concatenated in set order, so the
   numbers never depend on the chunk size or the executor.

``SweepResult.returns`` (sessions x sets) are the daily returns of each set's equity counted
from its starting cash (row 0 is the first session's), the input of the overfitting guards
(deflated Sharpe, PBO) and of walk-forward selection.
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import time
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from backtest.config import PBO_SPLITS, StrategyConfig
from backtest.errors import InputError
from backtest.market import placement_key

if TYPE_CHECKING:
    from backtest.data.panel import PricePanel
    from backtest.links import LinkInputs
    from backtest.market import Market
    from backtest.signals import PlacedHeadlines

R = TypeVar("R")

Progress = Callable[[int, int], None]
"""Called with (0, chunks in all) before the first chunk, then after each finished chunk with
(chunks done, chunks in all)."""

FIGURE_COLUMNS: tuple[str, ...] = (
    "total_return",
    "annual_return",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "hit_rate",
    "profit_factor",
    "exposure",
    "turnover",
    "trades",
    "avg_holding_sessions",
)
"""Per-set figures in ``SweepResult.table``, as defined in backtest.analytics.stats."""

BENCHMARK_COLUMNS: tuple[str, ...] = ("benchmark_total_return", "benchmark_sharpe")
"""Each set's benchmark figures (they differ only if the grid varies at/fees/slippage/cash)."""

BYTES_PER_CELL = 120
"""Peak bytes per (session, sleeve) cell of one chunk (vectorbt simulation, value, trades and
figures): ~90 measured on the embedded data with ``max_orders`` bounded, plus a margin
(bench/SWEEP-RESULTS.md). Without the bound vectorbt allocates one order record per cell."""
MAX_CHUNK_BYTES = 512 << 20
"""At most 512 MiB of chunk working set per worker, whatever the free memory."""

PLACEMENT_KEYS = ("execution.at", "execution.latency")
SCORING_KEYS = ("signal.lexicon",)


# 1. Grid parsing --------------------------------------------------------------------------


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["signal.half_life=1,2,5", ...]`` -> ``{"signal.half_life": [1.0, 2.0, 5.0], ...}``.

    Values are read as TOML scalars (``true``, ``60``, ``"x"``), bare words as strings, and
    ``start:stop:step`` as an inclusive numeric range. Each value is coerced to the key's type.
    Errors are ``InputError`` naming the key (module docstring, step 1).
    """
    from backtest.config import check_key, coerce_value, field_types

    grid: dict[str, list[Any]] = {}
    if not items:
        raise InputError("no --grid given", hint="for example --grid signal.half_life=1,2,5")
    for item in items:
        name, sep, text = item.partition("=")
        key = name.strip()
        section, dot, field_name = key.partition(".")
        if not sep or not dot or not field_name:
            raise InputError(
                f"--grid {item!r} is not of the form section.key=v1,v2,...",
                hint="for example --grid signal.half_life=1,2,5",
            )
        check_key(section, field_name, source="--grid")
        if section == "data":
            raise InputError(
                f"{key} cannot be swept: data.* keys choose the data, and a sweep runs on one",
                file="--grid",
                hint=f"pass it once with --set {key}=... and run one sweep per choice",
            )
        if key in grid:
            raise InputError(
                f"{key} is given twice", file="--grid", hint="list all its values in one --grid"
            )
        hint = field_types(section)[field_name]
        raw_values = _grid_values(key, text)
        values = [coerce_value(key, value, hint, "--grid") for value in raw_values]
        seen: set[Any] = set()
        for value in values:
            if value in seen:
                raise InputError(f"{key} lists {value!r} twice", file="--grid")
            seen.add(value)
        grid[key] = values
    return grid


def _grid_values(key: str, text: str) -> list[Any]:
    """The comma-separated values of one --grid item, or an inclusive ``start:stop:step``."""
    text = text.strip()
    if not text:
        raise InputError(f"{key} has no values", file="--grid", hint=f"e.g. --grid {key}=1,2,3")
    if text.count(":") == 2 and "," not in text:
        return _grid_range(key, text)
    values = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            raise InputError(f"{key} has an empty value in {text!r}", file="--grid")
        try:
            values.append(tomllib.loads(f"v = {piece}")["v"])
        except tomllib.TOMLDecodeError:
            values.append(piece)
    return values


def _grid_range(key: str, text: str) -> list[Any]:
    """``start:stop:step`` inclusive of stop (within float noise); ints stay ints."""
    parts = []
    for piece in text.split(":"):
        try:
            number = tomllib.loads(f"v = {piece.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            number = None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InputError(
                f"{key}={text}: a range is start:stop:step with numbers",
                file="--grid",
                hint=f"e.g. --grid {key}=1:5:0.5",
            )
        parts.append(number)
    start, stop, step = parts
    if not step > 0 or stop < start:
        raise InputError(f"{key}={text}: a range needs step > 0 and stop >= start", file="--grid")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 100_000:
        raise InputError(f"{key}={text} has {count} values; that is too many", file="--grid")
    if all(isinstance(p, int) for p in parts):
        return [start + i * step for i in range(count)]
    return [round(start + i * step, 12) for i in range(count)]


# 2. Grid expansion ------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedSet:
    """A combination that is invalid only in combination, and why."""

    values: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class GridExpansion:
    """The valid parameter sets of a grid, in product order, and the skipped combinations."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    """Per valid set, the grid values in ``keys`` order."""
    configs: tuple[StrategyConfig, ...]
    skipped: tuple[SkippedSet, ...]


def expand_grid(config: StrategyConfig, grid: dict[str, list[Any]]) -> GridExpansion:
    """Every combination of the grid applied to ``config`` (module docstring, step 2)."""
    keys = tuple(grid)
    valid_values: list[tuple[Any, ...]] = []
    configs: list[StrategyConfig] = []
    skipped: list[SkippedSet] = []
    accepted: dict[str, set[int]] = {key: set() for key in keys}
    first_reason: dict[tuple[str, int], str] = {}
    value_lists = [grid[k] for k in keys]
    for combo in itertools.product(*(range(len(v)) for v in value_lists)):
        values = tuple(value_lists[i][j] for i, j in enumerate(combo))
        overrides = [_override_text(k, v) for k, v in zip(keys, values, strict=True)]
        try:
            candidate = config.with_overrides(overrides)
        except InputError as exc:
            reason = exc.what
            skipped.append(SkippedSet(dict(zip(keys, values, strict=True)), reason))
            for key, j in zip(keys, combo, strict=True):
                first_reason.setdefault((key, j), reason)
            continue
        for key, j in zip(keys, combo, strict=True):
            accepted[key].add(j)
        valid_values.append(values)
        configs.append(candidate)
    for key, options in zip(keys, value_lists, strict=True):
        for j, value in enumerate(options):
            if j not in accepted[key] and configs:
                raise InputError(
                    f"{key}={value!r} is valid in no combination: {first_reason[(key, j)]}",
                    file="--grid",
                    hint=f"remove {value!r} from {key}",
                )
    if not configs:
        first = skipped[0]
        combo_text = ", ".join(f"{k}={v!r}" for k, v in first.values.items())
        raise InputError(
            f"no combination of the grid is valid; the first ({combo_text}) fails: {first.reason}",
            file="--grid",
        )
    return GridExpansion(
        keys=keys, values=tuple(valid_values), configs=tuple(configs), skipped=tuple(skipped)
    )


def _override_text(key: str, value: Any) -> str:
    """A ``--set`` item that reproduces ``value`` exactly (TOML literal)."""
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"{key}={value!r}"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


# 3. Preparing the shared data ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SweepData:
    """Everything the chunks need, loaded once; picklable (scattered once to Dask workers)."""

    config: StrategyConfig
    """The base config (strategy file + --set), before the grid."""
    grid: dict[str, list[Any]]
    expansion: GridExpansion
    panel: PricePanel
    """Prices on the whole session grid (history gives the signals their warm-up)."""
    rows: slice
    """The period's rows on the session grid, shared by every set."""
    placed: dict[tuple[str, str, int, int], PlacedHeadlines]
    """``news_key`` -> scored, placed headlines (``SLIM_COLUMNS``)."""
    prices_source: str
    headlines_source: str
    links: dict[tuple[str, bool], LinkInputs] = field(default_factory=dict)
    """(data.peers, data.peers_directed) -> what the sets' links are learned from."""
    timings_s: dict[str, float] = field(default_factory=dict)
    market: Market | None = field(default=None, repr=False)
    """The market the sweep was prepared on (headline texts for the run folder); not pickled."""

    def placed_for(self, config: StrategyConfig) -> PlacedHeadlines:
        """The placed headlines a set trades on."""
        return self.placed[news_key(config)]

    def links_for(self, config: StrategyConfig) -> LinkInputs:
        """What a set's links are learned from."""
        return self.links[(config.data.peers, config.data.peers_directed)]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "market": None}

    @property
    def n_sets(self) -> int:
        return len(self.expansion.configs)

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Session dates of the period."""
        return self.panel.dates[self.rows]

    @property
    def tickers(self) -> tuple[str, ...]:
        return self.panel.tickers


def prepare_sweep(
    config: StrategyConfig, grid: dict[str, list[Any]], market: Market | None = None
) -> SweepData:
    """Load, align, score and place once for the whole grid (module docstring, step 3).

    ``market`` (from ``backtest.prepare``) reuses inputs already loaded and scored.
    """
    from backtest.market import prepare

    timings: dict[str, float] = {}
    started = time.perf_counter()
    expansion = expand_grid(config, grid)
    check_sweepable(expansion.configs)
    timings["grid"] = time.perf_counter() - started

    started = time.perf_counter()
    if market is None:
        market = prepare(config)
    else:
        market.check_serves(config)
    panel = market.panel
    if panel.bars is not None:
        raise InputError(
            "sweeps and walk-forwards on intraday prices are not supported yet",
            hint="use backtest run, or backtest decay for the latency curve",
        )
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    lexicons = sorted({c.signal.lexicon for c in expansion.configs})
    for name in lexicons:
        market.scores(name)
    timings["score"] = time.perf_counter() - started

    started = time.perf_counter()
    placed = {}
    for c in expansion.configs:
        if news_key(c) not in placed:
            placed[news_key(c)] = slim_placement(market.placed(c))
    links = {(c.data.peers, c.data.peers_directed): market.links(c) for c in expansion.configs}
    rows = sweep_rows(market, config, expansion.configs)
    timings["place"] = time.perf_counter() - started
    return SweepData(
        config=config,
        grid={k: list(v) for k, v in grid.items()},
        expansion=expansion,
        panel=panel,
        rows=rows,
        placed=placed,
        prices_source=market.data.prices_source,
        headlines_source=market.data.headlines_source,
        links=links,
        timings_s=timings,
        market=market,
    )


def check_sweepable(
    configs: Sequence[StrategyConfig], what: str = "sweeps and walk-forwards"
) -> None:
    """Sweeps, walk-forwards and decay curves simulate sleeves without stops or borrow costs
    (their vectorised engine): a set asking for a cross-sectional book, stops or borrow is an
    error, not silently simulated as something else. ``what`` names the workflow."""
    for c in configs:
        if c.portfolio.construction != "sleeves":
            raise InputError(
                f"portfolio.construction = {c.portfolio.construction!r}: {what} simulate "
                "sleeves only",
                hint='run the book with backtest run, or use construction = "sleeves"',
            )
        if c.execution.stop_loss > 0 or c.execution.take_profit > 0:
            raise InputError(
                f"execution.stop_loss / take_profit: {what} do not simulate stops",
                hint="set both to 0, or compare runs with backtest run",
            )
        if c.execution.borrow_bps > 0:
            raise InputError(
                f"execution.borrow_bps: {what} do not charge borrow",
                hint="set execution.borrow_bps = 0, or compare runs with backtest run",
            )


def sweep_rows(market: Market, config: StrategyConfig, configs: Sequence[StrategyConfig]) -> slice:
    """The one period every set shares: the base config's dates, else the span of the news
    over every execution timing the sets use (module docstring, step 3)."""
    timings = sorted({(c.execution.at, c.execution.latency_ns) for c in configs})
    return market.period(config, np.concatenate([market.tradeable_sessions(*t) for t in timings]))


SLIM_COLUMNS = (
    "score",
    "session_idx",
    "ticker_idx",
    "published_at",
    "text_hash",
    "n_named",
    "relevance",
    "novelty",
    "source",
    "row",
)
"""What the news flow and links of a set need of each placed headline (no text: cheap to
ship)."""


def news_key(config: StrategyConfig) -> tuple[str, str, int, int]:
    """What a set's placed headlines depend on: the placement and the novelty window."""
    return (*placement_key(config), config.news.novelty_window)


def slim_placement(placed: PlacedHeadlines) -> PlacedHeadlines:
    """Placed headlines with only ``SLIM_COLUMNS``."""
    from backtest.signals import PlacedHeadlines

    frame = placed.frame[list(SLIM_COLUMNS)].reset_index(drop=True)
    return PlacedHeadlines(
        frame=frame.assign(source=frame["source"].astype("category")),
        dropped_no_prices=placed.dropped_no_prices,
        dropped_after_data=placed.dropped_after_data,
    )


# 4. Chunks --------------------------------------------------------------------------------


def available_memory_bytes() -> int:
    """Memory the OS can give without swapping (psutil, else /proc/meminfo, else 4 GiB)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


def default_chunk_size(
    n_sessions: int,
    n_tickers: int,
    n_sets: int,
    *,
    n_workers: int = 1,
    memory_bytes: int | None = None,
) -> int:
    """Sets per chunk: a quarter of the free memory split over the workers (at most
    ``MAX_CHUNK_BYTES`` each) at ``BYTES_PER_CELL``, and at least 4 chunks per worker when
    there are several workers, so that the load balances."""
    free = available_memory_bytes() if memory_bytes is None else memory_bytes
    budget = min(free // 4 // max(1, n_workers), MAX_CHUNK_BYTES)
    per_set = max(1, n_sessions * n_tickers * BYTES_PER_CELL)
    size = max(1, budget // per_set)
    if n_workers > 1:
        size = min(size, max(1, math.ceil(n_sets / (4 * n_workers))))
    return int(min(size, max(1, n_sets)))


def chunk_bounds(n_sets: int, chunk_size: int) -> list[tuple[int, int]]:
    """[start, stop) set ranges of consecutive chunks."""
    if chunk_size < 1:
        raise InputError(f"chunk size must be at least 1, got {chunk_size}")
    return [(start, min(start + chunk_size, n_sets)) for start in range(0, n_sets, chunk_size)]


@dataclass(frozen=True)
class ChunkResult:
    """One chunk's figures (one array per FIGURE_COLUMNS name) and daily returns."""

    start: int
    figures: dict[str, np.ndarray]
    returns: np.ndarray
    """(n_sessions, sets in the chunk) float64."""
    benchmarks: dict[tuple[str, float, float, float], BenchmarkResult] | None = None
    """Every set's benchmark (``simulate_benchmarks``), computed by the first chunk only."""


def simulate_chunk(
    data: SweepData, start: int, stop: int, with_benchmarks: bool = False
) -> ChunkResult:
    """Signals, positions, one grouped vectorbt simulation and figures of sets [start, stop);
    with ``with_benchmarks`` also the benchmarks (so they cost no task of their own)."""
    from backtest.engine import ignore_known_vectorbt_warning, run_portfolio

    configs = data.expansion.configs[start:stop]
    n_sets, n_tickers = len(configs), len(data.tickers)
    rows = data.rows
    n_sessions = rows.stop - rows.start
    positions = np.empty((n_sessions, n_sets * n_tickers), dtype=np.int8)
    cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
    for j, config in enumerate(configs):
        labels = set_labels(data, config, cache)
        exec_price = data.panel.exec_price(config.execution.at)[rows]
        positions[:, j * n_tickers : (j + 1) * n_tickers] = _positions(
            labels[rows], exec_price, config, data
        )
    price, mark = _fill_and_mark(data, configs)
    per_column = np.repeat(np.arange(n_sets), n_tickers)
    cash = np.array([c.execution.initial_cash / n_tickers for c in configs])[per_column]
    fees = np.array([c.execution.fees for c in configs])[per_column]
    slippage = np.array([c.execution.slippage for c in configs])[per_column]
    changes = np.count_nonzero(np.diff(positions, axis=0, prepend=np.int8(0)))
    portfolio = run_portfolio(
        positions,
        price,
        mark,
        data.dates,
        pd.RangeIndex(n_sets * n_tickers),
        cash,
        fees,
        slippage,
        group_by=per_column,
        max_orders=int(changes) + n_sets * n_tickers,
    )
    del price, mark
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        equity = np.asarray(portfolio.value(), dtype=np.float64).reshape(n_sessions, n_sets)
        records = portfolio.trades.records
    del portfolio
    # vectorbt's objects hold their arrays in reference cycles: collect them now, or several
    # chunks' arrays pile up before the next automatic collection.
    gc.collect()
    figures = _chunk_figures(data, configs, equity, positions, records)
    initial = np.array([c.execution.initial_cash for c in configs])
    return ChunkResult(
        start=start,
        figures=figures,
        returns=equity_returns(equity, initial),
        benchmarks=simulate_benchmarks(data) if with_benchmarks else None,
    )


def set_labels(
    data: SweepData,
    config: StrategyConfig,
    cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """One set's labels on the whole grid: ``compute_signals``' news and momentum (cached by the
    parameters they depend on), blended and labelled by the same kernels."""
    from backtest.signals import blend_and_label, compute_signals

    s, e = config.signal, config.execution
    key = (
        *news_key(config),
        repr(config.news),
        s.half_life,
        s.news_normalise,
        s.news_scale,
        s.momentum_lookback,
        *spillover_key(config),
    )
    if key not in cache:
        panel = compute_signals(
            data.panel, data.placed_for(config), s, e, config.news, links_when_on(data, config)
        )
        cache[key] = (panel.news, panel.momentum)
    news, momentum = cache[key]
    return blend_and_label(news, momentum, s)[1]


def spillover_key(config: StrategyConfig) -> tuple[Any, ...]:
    """What a set's spillover depends on (nothing when it is off)."""
    s, d = config.signal, config.data
    if not s.spillover:
        return ()
    return (s.spillover, s.links, s.comention_window, s.comention_min, d.peers, d.peers_directed)


def links_when_on(data: SweepData, config: StrategyConfig) -> LinkInputs | None:
    """A set's links when its spillover is on; sets without it skip the link kernels."""
    return data.links_for(config) if config.signal.spillover else None


def _positions(
    labels: np.ndarray, exec_price: np.ndarray, config: StrategyConfig, data: SweepData
) -> np.ndarray:
    from backtest.signals import hold_rows, period_positions

    e = config.execution
    return period_positions(labels, exec_price, e, None, hold_rows(data.panel, e))


def _fill_and_mark(
    data: SweepData, configs: Sequence[StrategyConfig]
) -> tuple[np.ndarray, np.ndarray]:
    """Fill prices and valuation marks of every set's sleeves, side by side."""
    from backtest.engine import tradeable_price, valuation_price

    rows = data.rows
    by_at: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for at in {c.execution.at for c in configs}:
        exec_price = data.panel.exec_price(at)[rows]
        mark = valuation_price(exec_price, data.panel.close[rows])
        by_at[at] = (tradeable_price(exec_price), mark)
    ats = [c.execution.at for c in configs]
    if len(by_at) == 1:
        price, mark = by_at[ats[0]]
        return np.tile(price, (1, len(configs))), np.tile(mark, (1, len(configs)))
    price = np.concatenate([by_at[at][0] for at in ats], axis=1)
    mark = np.concatenate([by_at[at][1] for at in ats], axis=1)
    return price, mark


def equity_returns(equity: np.ndarray, initial_value: np.ndarray | float) -> np.ndarray:
    """Daily returns of equity curves (sessions x sets) counted from the starting capital.

    Row 0 is ``equity[0] / initial_value - 1``, so ``stats.sharpe_ratio(returns[:, j])`` equals
    the set's Sharpe; a return after a non-positive value is NaN.
    """
    curve = np.vstack([np.broadcast_to(initial_value, (1, equity.shape[1])), equity])
    previous = curve[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = curve[1:] / previous - 1.0
    out[~(previous > 0)] = np.nan
    return out


def _chunk_figures(
    data: SweepData,
    configs: Sequence[StrategyConfig],
    equity: np.ndarray,
    positions: np.ndarray,
    records: np.ndarray,
) -> dict[str, np.ndarray]:
    """The strategy figures of every set of a chunk, from vectorbt's exit-trade records."""
    n_tickers = len(data.tickers)
    set_of_trade = np.asarray(records["col"], dtype=np.int64) // n_tickers
    order = np.argsort(set_of_trade, kind="stable")
    set_of_trade = set_of_trade[order]
    pnl = np.asarray(records["pnl"], dtype=np.float64)[order]
    closed = np.asarray(records["status"])[order] != 0
    held = (
        np.asarray(records["exit_idx"], dtype=np.int64)[order]
        - np.asarray(records["entry_idx"], dtype=np.int64)[order]
    )
    bounds = np.searchsorted(set_of_trade, np.arange(len(configs) + 1))
    out: dict[str, list[Any]] = {name: [] for name in FIGURE_COLUMNS}
    for j, config in enumerate(configs):
        trades = slice(bounds[j], bounds[j + 1])
        figures = set_figures(
            equity[:, j],
            positions[:, j * n_tickers : (j + 1) * n_tickers],
            trade_pnl=pnl[trades],
            trade_closed=closed[trades],
            trade_held_sessions=held[trades],
            initial_cash=config.execution.initial_cash,
        )
        for name in FIGURE_COLUMNS:
            out[name].append(figures[name])
    return {name: _figure_array(name, values) for name, values in out.items()}


def set_figures(
    equity: np.ndarray,
    positions: np.ndarray,
    *,
    trade_pnl: np.ndarray,
    trade_closed: np.ndarray,
    trade_held_sessions: np.ndarray,
    initial_cash: float,
) -> dict[str, Any]:
    """``stats.compute_stats(...)["strategy"]`` of one set, on plain arrays (no pandas).

    ``equity`` is the value at each session's close, ``positions`` (sessions x tickers), and one
    entry per trade (open ones included): its pnl, whether it is closed, and its exit minus
    entry session index. Return figures use the stats.py functions themselves; the drawdown
    depth and the trade figures follow their definitions (pinned against compute_stats in
    tests/test_sweep.py); the drawdown dates are left out.
    """
    from backtest.analytics import stats

    values = np.asarray(equity, dtype=np.float64)
    curve = np.concatenate([[float(initial_cash)], values[np.isfinite(values)]])
    previous, current = curve[:-1], curve[1:]
    valid = (previous > 0) & np.isfinite(previous) & np.isfinite(current)
    returns = current[valid] / previous[valid] - 1.0
    annual = stats.annual_return(curve)
    depth = _drawdown_depth(curve)
    pos = np.asarray(positions, dtype=np.float64)
    closed_pnl = trade_pnl[trade_closed & np.isfinite(trade_pnl)]
    loss = -float(closed_pnl[closed_pnl < 0].sum())
    held = trade_held_sessions[trade_closed]
    return {
        "total_return": stats.total_return(curve),
        "annual_return": annual,
        "volatility": stats.volatility(returns),
        "sharpe": stats.sharpe_ratio(returns),
        "sortino": stats.sortino_ratio(returns),
        "calmar": stats.calmar_ratio(annual, depth),
        "max_drawdown": depth,
        "hit_rate": float(np.mean(closed_pnl > 0)) if len(closed_pnl) else None,
        "profit_factor": float(closed_pnl[closed_pnl > 0].sum()) / loss if loss > 0 else None,
        "exposure": stats.exposure(pos),
        "turnover": stats.turnover(pos),
        "trades": int(len(trade_pnl)),
        "avg_holding_sessions": float(np.mean(held)) if len(held) else None,
    }


def _drawdown_depth(curve: np.ndarray) -> float:
    """``stats.max_drawdown(curve).depth`` of a curve without NaN."""
    if len(curve) == 0:
        return 0.0
    peak = np.maximum.accumulate(curve)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, curve / peak - 1.0, 0.0)
    deepest = float(drawdown.min())
    return deepest if deepest < 0 else 0.0


def _figure_array(name: str, values: list[Any]) -> np.ndarray:
    if name == "trades":
        return np.asarray(values, dtype=np.int64)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


# 5. Running -------------------------------------------------------------------------------


class ChunkExecutor(Protocol):
    """Runs ``fn(data, *task)`` for every task and returns the results in task order."""

    name: str
    """"serial" or "dask": how the sweep ran, for sweep.json."""
    n_workers: int

    def map(
        self,
        fn: Callable[..., R],
        data: SweepData,
        tasks: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> list[R]: ...


class SerialExecutor:
    """In-process, one task after the other."""

    name = "serial"
    n_workers = 1

    def map(
        self,
        fn: Callable[..., R],
        data: SweepData,
        tasks: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> list[R]:
        results = []
        for done, task in enumerate(tasks, start=1):
            results.append(fn(data, *task))
            if progress is not None:
                progress(done, len(tasks))
        return results


@dataclass(frozen=True)
class BenchmarkResult:
    """Equal-weight buy-and-hold of one (at, fees, slippage, initial_cash) variant."""

    figures: dict[str, Any]
    """``compute_stats(...)["benchmark"]`` as in stats.json."""
    returns: np.ndarray


def benchmark_key(config: StrategyConfig) -> tuple[str, float, float, float]:
    """What the benchmark depends on."""
    e = config.execution
    return (e.at, e.fees, e.slippage, e.initial_cash)


def simulate_benchmarks(data: SweepData) -> dict[tuple[str, float, float, float], BenchmarkResult]:
    """The benchmark of every distinct ``benchmark_key``, by the engine's ``simulate``."""
    from backtest.analytics.stats import compute_stats
    from backtest.engine import TRADE_COLUMNS, simulate

    rows = data.rows
    out: dict[tuple[str, float, float, float], BenchmarkResult] = {}
    for config in data.expansion.configs:
        key = benchmark_key(config)
        if key in out:
            continue
        at, fees, slippage, cash = key
        exec_price = data.panel.exec_price(at)[rows]
        ones = np.ones(exec_price.shape, dtype=np.int8)
        simulation = simulate(
            ones,
            exec_price,
            data.panel.close[rows],
            dates=data.dates,
            tickers=list(data.tickers),
            initial_cash=cash,
            fees=fees,
            slippage=slippage,
        )
        figures = compute_stats(
            simulation.benchmark,
            simulation.benchmark,
            ones,
            pd.DataFrame(columns=TRADE_COLUMNS),
            initial_value=cash,
        )["benchmark"]
        returns = equity_returns(simulation.benchmark.to_numpy(np.float64)[:, None], cash)[:, 0]
        out[key] = BenchmarkResult(figures=figures, returns=returns)
    return out


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A sweep's figures, one row (and one returns column) per valid parameter set."""

    table: pd.DataFrame
    """Index ``set`` (0..n-1, product order); the grid keys as columns, then FIGURE_COLUMNS and
    BENCHMARK_COLUMNS. Undefined figures are NaN."""
    returns: np.ndarray
    """(n_sessions, n_sets) float64 daily returns of each set's equity, from its initial cash."""
    dates: pd.DatetimeIndex
    benchmark: dict[str, Any]
    """Benchmark figures (stats.json's "benchmark") of set 0's at/fees/slippage/cash."""
    benchmark_returns: np.ndarray
    grid: dict[str, list[Any]]
    skipped: tuple[SkippedSet, ...]
    tickers: tuple[str, ...]
    chunk_size: int
    n_chunks: int
    n_workers: int
    executor: str
    """The executor's name: "serial" or "dask"."""
    timings_s: dict[str, float]

    @property
    def n_sets(self) -> int:
        return len(self.table)

    def best(self, objective: str = "sharpe") -> int:
        """Set number with the highest ``objective`` (NaN ranks last; ties: first set)."""
        if objective not in self.table.columns:
            raise InputError(
                f"unknown objective {objective!r}",
                hint="choose one of " + ", ".join(c for c in FIGURE_COLUMNS if c != "trades"),
            )
        column = self.table[objective].to_numpy(np.float64)
        if len(column) == 0 or np.isnan(column).all():
            raise InputError(f"no parameter set has a defined {objective}")
        return int(np.nanargmax(column))


def run_sweep(
    data: SweepData,
    *,
    chunk_size: int | None = None,
    executor: ChunkExecutor | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Simulate every set of ``data`` chunk by chunk (module docstring, steps 4-5)."""
    executor = executor or SerialExecutor()
    n_sets = data.n_sets
    n_sessions = data.rows.stop - data.rows.start
    if chunk_size is None:
        chunk_size = default_chunk_size(
            n_sessions, len(data.tickers), n_sets, n_workers=executor.n_workers
        )
    bounds = chunk_bounds(n_sets, chunk_size)
    started = time.perf_counter()
    if progress is not None:
        progress(0, len(bounds))
    tasks = [(start, stop, start == 0) for start, stop in bounds]
    chunks = executor.map(simulate_chunk, data, tasks, progress)
    elapsed = time.perf_counter() - started
    chunks = sorted(chunks, key=lambda c: c.start)
    benchmarks = chunks[0].benchmarks
    assert benchmarks is not None
    table = _table(data, chunks, benchmarks)
    returns = np.concatenate([c.returns for c in chunks], axis=1)
    first = benchmarks[benchmark_key(data.expansion.configs[0])]
    return SweepResult(
        table=table,
        returns=returns,
        dates=data.dates,
        benchmark=first.figures,
        benchmark_returns=first.returns,
        grid=data.grid,
        skipped=data.expansion.skipped,
        tickers=data.tickers,
        chunk_size=chunk_size,
        n_chunks=len(bounds),
        n_workers=executor.n_workers,
        executor=executor.name,
        timings_s={**data.timings_s, "simulate": elapsed},
    )


def _table(
    data: SweepData,
    chunks: Sequence[ChunkResult],
    benchmarks: dict[tuple[str, float, float, float], BenchmarkResult],
) -> pd.DataFrame:
    """Parameter columns, then figures, then the benchmark's, one row per set."""
    expansion = data.expansion
    columns: dict[str, Any] = {}
    for i, key in enumerate(expansion.keys):
        columns[key] = [values[i] for values in expansion.values]
    for name in FIGURE_COLUMNS:
        columns[name] = np.concatenate([c.figures[name] for c in chunks])
    keys = [benchmark_key(c) for c in expansion.configs]
    for column, figure in zip(BENCHMARK_COLUMNS, ("total_return", "sharpe"), strict=True):
        columns[column] = np.array(
            [_nan_if_none(benchmarks[k].figures[figure]) for k in keys], dtype=np.float64
        )
    table = pd.DataFrame(columns)
    table.index = pd.RangeIndex(len(table), name="set")
    return table


def _nan_if_none(value: Any) -> float:
    return math.nan if value is None else float(value)


def sweep(
    strategy: str | Path | StrategyConfig | None = None,
    grid: Mapping[str, Sequence[Any]] | Sequence[str] = (),
    *,
    market: Market | None = None,
    chunk_size: int | None = None,
    executor: ChunkExecutor | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Run every parameter set of ``grid`` on one prepared market; returns a SweepResult.

    ``grid`` maps dotted keys to values (``{"signal.half_life": [1, 2, 5]}``) or lists
    ``--grid`` items (``["signal.half_life=1,2,5"]``). ``market`` (``backtest.prepare``)
    reuses loaded, scored inputs; ``executor`` runs chunks elsewhere (backtest.sweep_dask).
    """
    from backtest.market import resolve_config

    config = resolve_config(strategy if strategy is not None else market and market.config)
    if isinstance(grid, Mapping):
        items = [f"{key}={','.join(map(_grid_text, values))}" for key, values in grid.items()]
    else:
        items = list(grid)
    return run_sweep(
        prepare_sweep(config, parse_grid(items), market),
        chunk_size=chunk_size,
        executor=executor,
        progress=progress,
    )


def _grid_text(value: Any) -> str:
    """One grid value as ``--grid`` text: strings quoted as TOML strings, booleans lower case."""
    if isinstance(value, str):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


# 6. Overfitting guards --------------------------------------------------------------------


def overfitting_guards(result: SweepResult, best_set: int, objective: str) -> dict[str, Any]:
    """Deflated Sharpe of the best set and PBO, when backtest.analytics.overfitting is installed.

    Every figure that cannot be computed (module missing, too few sets or sessions) is None
    with the reason under ``notes``; the sweep itself never fails because of a guard.
    """
    guards: dict[str, Any] = {
        "n_trials": result.n_sets,
        "deflated_sharpe": None,
        "pbo": None,
        "notes": [],
    }
    try:
        from backtest.analytics import overfitting
    except ImportError:
        guards["notes"].append("backtest.analytics.overfitting is not available")
        return guards
    try:
        dsr = overfitting.deflated_sharpe_ratio(
            result.returns[:, best_set], result.table["sharpe"].to_numpy(np.float64)
        )
        if dsr is None:
            guards["notes"].append("deflated Sharpe undefined: the best set's returns are flat")
        else:
            guards["deflated_sharpe"] = dsr.to_dict()
    except InputError as exc:
        guards["notes"].append(f"deflated Sharpe: {exc}")
    pbo_objective = objective if objective in overfitting.OBJECTIVES else "sharpe"
    if result.n_sets < 2:
        guards["notes"].append("PBO needs at least two parameter sets")
    elif len(result.dates) < 2 * PBO_SPLITS:
        guards["notes"].append(f"PBO needs at least {2 * PBO_SPLITS} sessions")
    else:
        try:
            pbo = overfitting.probability_of_backtest_overfitting(
                result.returns, n_splits=PBO_SPLITS, objective=pbo_objective
            )
            guards["pbo"] = pbo.to_dict()
        except InputError as exc:
            guards["notes"].append(f"PBO: {exc}")
    return guards
