"""Walk-forward: choose a parameter set on each in-sample window, trade it on the next one.

1. Sweep the grid once over the whole backtest period (``backtest.sweeps``): every set's daily
   returns, each from its own initial cash.
2. Windows over the period's sessions: in-sample rows [i, i + train), out-of-sample rows
   [i + train, i + train + test), for i = 0, test, 2·test, ... The last out-of-sample window
   may be shorter (it is clipped to the period's end); no in-sample window is ever clipped.
3. On each in-sample window, the chosen set is the argmax of the objective (``sharpe``,
   ``total_return`` or ``mean``; ``backtest.analytics.overfitting.objective_values``) computed
   from the sweep's returns on the in-sample rows ONLY (ties: the first set in grid order).
   The returns of a row depend only on prices up to that row's close and on positions decided
   point-in-time, so the choice for a window uses nothing at or after its first OOS session.
4. The chosen set's positions: its signals and ``period_positions`` over the whole period
   (the kernels of ``backtest run``), then the out-of-sample rows are taken. Signals at t use
   only data known at t, so this is still point-in-time; the position state at a window's
   start (held side, holding clock) is what that set would hold had it run all along.
5. The out-of-sample rows of every window are stitched into one positions array and simulated
   ONCE with ``backtest.engine.simulate`` over the out-of-sample span: capital carries across
   windows, and switching sets at a boundary trades (with costs) at that session's price.
   Stats, equity and the benchmark (buy-and-hold over the same span) are out-of-sample only.

Costs and capital (``execution.fees``, ``slippage``, ``initial_cash``) cannot be in the grid:
one stitched simulation has one set of costs, and choosing the cheapest costs is no strategy.

Re-learning the lexicon (``relearn=LexiconRelearning(...)``, ``--relearn-lexicon``):

6. Before the sweep, ``learn_lexicon`` runs on each in-sample window alone (train_start = its
   first session, train_end = its last; ``learn_lexicon`` reads no headline or price after
   train_end and drops labels that would need one). Window k's lexicon is written as
   ``lexicons/window-NN.csv`` (NN = k, 1-based).
7. The sweep's grid gets one more key, ``signal.lexicon`` = the K learned lexicons, so every
   parameter set runs once per lexicon (K x the sets; one load, one scoring per lexicon). Window
   k chooses ONLY among the sets scored by its own lexicon, on its in-sample rows, and trades
   that set out-of-sample: the in-sample choice and the out-of-sample trading use the same
   scorer. The in-sample objective is therefore measured on the data the lexicon was fitted to
   and is optimistic by construction; only the out-of-sample figures are a test.
   The lexicon's labels use the base strategy's ``execution.at`` (a grid over ``execution.at``
   keeps the same lexicon per window). ``signal.lexicon`` can be neither set nor swept then.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.analytics.overfitting import OBJECTIVES, objective_values
from backtest.analytics.stats import PERIODS_PER_YEAR
from backtest.config import (
    LEXICON_MIN_COUNT,
    LEXICON_TOP_K,
    REPORTS_DIR,
    WALKFORWARD_TEST_SESSIONS,
    WALKFORWARD_TRAIN_SESSIONS,
    StrategyConfig,
)
from backtest.errors import BacktestError, InputError
from backtest.sweeps import links_when_on, news_key

if TYPE_CHECKING:
    from backtest.engine import Simulation
    from backtest.market import Market
    from backtest.outputs import RunOutputs
    from backtest.signals import SignalPanel
    from backtest.sweeps import ChunkExecutor, Progress, SweepData, SweepResult

FIXED_KEYS = ("execution.fees", "execution.slippage", "execution.initial_cash")
"""Grid keys a walk-forward refuses (module docstring, last paragraph)."""
SUGGESTED_WINDOWS = (252, 63)
"""A year in-sample, a quarter out-of-sample: suggested when the default windows do not fit."""
LEXICON_KEY = "signal.lexicon"
WINDOWS_FILE = "walkforward.csv"
LEXICONS_FOLDER = "lexicons"


@dataclass(frozen=True)
class LexiconRelearning:
    """``--relearn-lexicon``: ``learn_lexicon``'s screening settings for every in-sample window."""

    min_count: int = LEXICON_MIN_COUNT
    top_k: int = LEXICON_TOP_K


@dataclass(frozen=True)
class WindowLexicon:
    """The lexicon learned on one in-sample window (module docstring, step 6)."""

    window: int
    """1-based window number."""
    name: str
    """Its path inside the run folder: lexicons/window-NN.csv."""
    path: Path
    """Where it was written for scoring (a temporary folder that lives as long as the result)."""
    content: bytes
    train_start: str
    train_end: str
    terms: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Window:
    """One walk-forward step as row numbers of the period; ``*_stop`` is exclusive."""

    is_start: int
    is_stop: int
    oos_start: int
    oos_stop: int


def plan_windows(n_sessions: int, train_sessions: int, test_sessions: int) -> list[Window]:
    """Windows over ``n_sessions`` rows (module docstring, step 2); InputError if none fits."""
    check_window_sizes(train_sessions, test_sessions)
    windows = []
    start = 0
    while start + train_sessions < n_sessions:
        oos_start = start + train_sessions
        windows.append(
            Window(
                is_start=start,
                is_stop=oos_start,
                oos_start=oos_start,
                oos_stop=min(oos_start + test_sessions, n_sessions),
            )
        )
        start += test_sessions
    return windows


def check_window_sizes(train_sessions: int, test_sessions: int) -> None:
    """At least two in-sample returns (a Sharpe ratio needs them) and one out-of-sample session."""
    if train_sessions < 2:
        raise InputError(f"--train must be at least 2 sessions, got {train_sessions}")
    if test_sessions < 1:
        raise InputError(f"--test must be at least 1 session, got {test_sessions}")


def check_period_fits(dates: pd.DatetimeIndex, train_sessions: int, test_sessions: int) -> None:
    """The period must hold one full in-sample plus one full out-of-sample window."""
    n = len(dates)
    if n >= train_sessions + test_sessions:
        return
    train, test = SUGGESTED_WINDOWS
    while train + test > n and test > 1:
        train, test = max(2, train // 2), max(1, test // 2)
    raise InputError(
        f"the backtest period {dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d} has {n} sessions, fewer "
        f"than --train {train_sessions} + --test {test_sessions} = "
        f"{train_sessions + test_sessions}",
        hint=f"use shorter windows, e.g. --train {train} --test {test}, or a longer period "
        "(--start/--end)",
    )


def choose_sets(
    returns: np.ndarray,
    windows: list[Window],
    objective: str = "sharpe",
    candidates: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per window, the set with the best in-sample objective and that objective's value.

    Only ``returns[w.is_start:w.is_stop]`` is read for window ``w``, and only the columns in
    ``candidates[k]`` when given (ascending set numbers; a relearned window's own lexicon).
    Sharpe values are annualised (x sqrt(252)) for display; the choice does not depend on it.
    """
    check_objective(objective)
    chosen = np.empty(len(windows), dtype=np.int64)
    values = np.empty(len(windows), dtype=np.float64)
    scale = math.sqrt(PERIODS_PER_YEAR) if objective == "sharpe" else 1.0
    for k, w in enumerate(windows):
        columns = np.arange(returns.shape[1]) if candidates is None else candidates[k]
        scores = objective_values(returns[w.is_start : w.is_stop, columns], objective)
        best = int(np.argmax(scores))
        chosen[k] = int(columns[best])
        values[k] = float(scores[best]) * scale
    return chosen, values


def check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise InputError(
            f"unknown objective {objective!r}", hint=f"choose one of {', '.join(OBJECTIVES)}"
        )


def check_grid(grid: dict[str, list[Any]]) -> None:
    """Costs and capital are not strategy choices (module docstring)."""
    for key in FIXED_KEYS:
        if key in grid:
            raise InputError(
                f"{key} cannot be chosen by a walk-forward: the stitched out-of-sample run has "
                "one set of costs and capital",
                file="--grid",
                hint=f"fix it with --set {key}=... instead",
            )


def check_relearning(config: StrategyConfig, grid: dict[str, list[Any]]) -> None:
    """A relearned lexicon replaces signal.lexicon, so it can be neither set nor swept."""
    if LEXICON_KEY in grid:
        raise InputError(
            f"{LEXICON_KEY} cannot be swept with --relearn-lexicon: each window learns its own",
            file="--grid",
            hint=f"drop --grid {LEXICON_KEY}=... or --relearn-lexicon",
        )
    if config.signal.lexicon:
        raise InputError(
            f"{LEXICON_KEY} is set ({config.signal.lexicon}) but --relearn-lexicon learns one "
            "per window",
            hint=f"drop --set {LEXICON_KEY}=... (or the strategy's lexicon) or --relearn-lexicon",
        )


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """Out-of-sample results of a walk-forward and the choices behind them."""

    data: SweepData
    sweep: SweepResult
    objective: str
    train_sessions: int
    test_sessions: int
    windows: tuple[Window, ...]
    chosen: np.ndarray
    """Set number (row of ``sweep.table``) chosen per window."""
    is_objective: np.ndarray
    """The chosen set's in-sample objective per window (Sharpe annualised)."""
    rows: slice
    """The out-of-sample span's rows on the session grid (``data.panel``)."""
    positions: np.ndarray
    """Stitched (sessions x tickers) int8 positions of the out-of-sample span."""
    exec_price: np.ndarray
    signals: SignalPanel
    """Stitched signals of the chosen sets over the out-of-sample span (rows of ``rows``)."""
    simulation: Simulation
    stats: dict[str, dict[str, Any]]
    """``compute_stats`` of the stitched out-of-sample equity and its benchmark."""
    table: pd.DataFrame
    """One row per window: dates, chosen parameters, IS objective, OOS Sharpe and return."""
    relearn: LexiconRelearning | None = None
    lexicons: tuple[WindowLexicon, ...] = ()
    """With ``relearn``: the lexicon learned on each window's in-sample data, in window order."""

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.data.panel.dates[self.rows]

    @property
    def grid(self) -> dict[str, list[Any]]:
        """The grid as the user gave it (without the relearned lexicons' key)."""
        if not self.lexicons:
            return self.data.grid
        return {k: v for k, v in self.data.grid.items() if k != LEXICON_KEY}

    @property
    def sets_per_window(self) -> int:
        """How many parameter sets each window chose from."""
        return self.sweep.n_sets // max(1, len(self.lexicons))

    def config_of(self, window: int) -> StrategyConfig:
        """The strategy traded in window ``window`` (0-based)."""
        return self.data.expansion.configs[int(self.chosen[window])]


def walk_forward(
    config: StrategyConfig,
    grid: dict[str, list[Any]],
    *,
    train_sessions: int = WALKFORWARD_TRAIN_SESSIONS,
    test_sessions: int = WALKFORWARD_TEST_SESSIONS,
    objective: str = "sharpe",
    executor: ChunkExecutor | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    relearn: LexiconRelearning | None = None,
    market: Market | None = None,
) -> WalkForwardResult:
    """Sweep ``grid`` once, choose per in-sample window, trade out-of-sample (module docstring;
    with ``relearn``, steps 6-7: a lexicon learned per in-sample window). The inputs are
    loaded once (``market``, or ``backtest.prepare(config)``) and serve every step."""
    from backtest.market import prepare
    from backtest.sweeps import expand_grid, prepare_sweep, run_sweep, sweep_rows

    check_window_sizes(train_sessions, test_sessions)
    check_objective(objective)
    check_grid(grid)
    if relearn is not None:
        check_relearning(config, grid)
    market = market if market is not None else prepare(config)
    if relearn is None:
        data = prepare_sweep(config, grid, market)
        check_period_fits(data.dates, train_sessions, test_sessions)
        windows = plan_windows(len(data.dates), train_sessions, test_sessions)
        swept = run_sweep(data, chunk_size=chunk_size, executor=executor, progress=progress)
        chosen, is_values = choose_sets(swept.returns, windows, objective)
        return trade_out_of_sample(
            data, swept, windows, chosen, is_values, objective, train_sessions, test_sessions
        )
    # The period needs only the placements' sessions: nothing is scored before the windows'
    # lexicons exist.
    dates = market.dates[sweep_rows(market, config, expand_grid(config, grid).configs)]
    check_period_fits(dates, train_sessions, test_sessions)
    windows = plan_windows(len(dates), train_sessions, test_sessions)
    folder = Path(tempfile.mkdtemp(prefix="backtest-walkforward-lexicons-"))
    try:
        lexicons = learn_window_lexicons(config, dates, windows, relearn, folder, market)
        relearned = prepare_sweep(
            config, {LEXICON_KEY: [str(x.path) for x in lexicons], **grid}, market
        )
        if not relearned.dates.equals(dates):
            raise BacktestError("internal error: the relearned sweep's period moved")
        swept = run_sweep(relearned, chunk_size=chunk_size, executor=executor, progress=progress)
        candidates = lexicon_candidates(relearned, lexicons)
        chosen, is_values = choose_sets(swept.returns, windows, objective, candidates)
        result = trade_out_of_sample(
            relearned,
            swept,
            windows,
            chosen,
            is_values,
            objective,
            train_sessions,
            test_sessions,
            relearn=relearn,
            lexicons=lexicons,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(result, shutil.rmtree, folder, ignore_errors=True)
    return result


def learn_window_lexicons(
    config: StrategyConfig,
    dates: pd.DatetimeIndex,
    windows: list[Window],
    relearn: LexiconRelearning,
    folder: Path,
    market: Market | None = None,
) -> tuple[WindowLexicon, ...]:
    """``learn_lexicon`` on each in-sample window alone, written to ``folder`` (step 6).

    The inputs are loaded once (``market``, or from ``config``); each window cuts them itself.
    """
    from backtest.lexicon_learn import learn_lexicon
    from backtest.market import prepare

    market = market if market is not None else prepare(config)
    out = []
    for k, w in enumerate(windows, start=1):
        first, last = dates[w.is_start].date(), dates[w.is_stop - 1].date()
        try:
            learned = learn_lexicon(
                config,
                first,
                last,
                min_count=relearn.min_count,
                top_k=relearn.top_k,
                market=market,
            )
        except InputError as exc:
            raise InputError(
                f"walk-forward window {k} (in-sample {first}..{last}): {exc.what}",
                file=exc.file,
                hint="use a longer --train or a lower --min-count",
            ) from None
        name = f"window-{k:02d}.csv"
        path = learned.to_csv(folder / name)
        out.append(
            WindowLexicon(
                window=k,
                name=f"{LEXICONS_FOLDER}/{name}",
                path=path,
                content=path.read_bytes(),
                train_start=learned.train_start,
                train_end=learned.train_end,
                terms=len(learned.terms),
            )
        )
    return tuple(out)


def lexicon_candidates(data: SweepData, lexicons: tuple[WindowLexicon, ...]) -> list[np.ndarray]:
    """Per window, the set numbers scored by that window's own lexicon (step 7)."""
    column = data.expansion.keys.index(LEXICON_KEY)
    used = np.array([values[column] for values in data.expansion.values], dtype=object)
    return [np.flatnonzero(used == str(lexicon.path)) for lexicon in lexicons]


def trade_out_of_sample(
    data: SweepData,
    swept: SweepResult,
    windows: list[Window],
    chosen: np.ndarray,
    is_values: np.ndarray,
    objective: str,
    train_sessions: int,
    test_sessions: int,
    *,
    relearn: LexiconRelearning | None = None,
    lexicons: tuple[WindowLexicon, ...] = (),
) -> WalkForwardResult:
    """Stitch the chosen sets' out-of-sample positions and simulate them once (steps 4-5)."""
    from backtest.analytics.stats import compute_stats
    from backtest.engine import simulate
    from backtest.signals import SignalPanel

    panel = data.panel
    period = data.rows
    span = slice(period.start + windows[0].oos_start, period.start + windows[-1].oos_stop)
    n_span = span.stop - span.start
    n_tickers = len(panel.tickers)
    positions = np.zeros((n_span, n_tickers), dtype=np.int8)
    exec_price = np.empty((n_span, n_tickers), dtype=np.float64)
    stitched: dict[str, np.ndarray] = {}
    per_set: dict[int, tuple[SignalPanel, np.ndarray]] = {}
    for w, set_number in zip(windows, chosen, strict=True):
        set_config = data.expansion.configs[int(set_number)]
        if int(set_number) not in per_set:
            per_set[int(set_number)] = _set_signals_and_positions(data, set_config)
        signals, set_positions = per_set[int(set_number)]
        out = slice(w.oos_start - windows[0].oos_start, w.oos_stop - windows[0].oos_start)
        grid_rows = slice(period.start + w.oos_start, period.start + w.oos_stop)
        positions[out] = set_positions[w.oos_start : w.oos_stop]
        exec_price[out] = panel.exec_price(set_config.execution.at)[grid_rows]
        for name in ("news_flow", "news_count", "news", "momentum", "composite", "labels"):
            array = getattr(signals, name)
            if name not in stitched:
                stitched[name] = np.empty((n_span, n_tickers), dtype=array.dtype)
            stitched[name][out] = array[grid_rows]
    execution = data.config.execution
    simulation = simulate(
        positions,
        exec_price,
        panel.close[span],
        dates=panel.dates[span],
        tickers=list(panel.tickers),
        initial_cash=execution.initial_cash,
        fees=execution.fees,
        slippage=execution.slippage,
    )
    stats = compute_stats(
        simulation.equity,
        simulation.benchmark,
        positions,
        simulation.trades,
        initial_value=execution.initial_cash,
    )
    table = windows_table(
        data, swept, windows, chosen, is_values, objective, simulation, execution.initial_cash
    )
    if lexicons:
        names = {str(lexicon.path): lexicon.name for lexicon in lexicons}
        table[LEXICON_KEY] = table[LEXICON_KEY].map(names)
    return WalkForwardResult(
        data=data,
        sweep=swept,
        objective=objective,
        train_sessions=train_sessions,
        test_sessions=test_sessions,
        windows=tuple(windows),
        chosen=chosen,
        is_objective=is_values,
        rows=span,
        positions=positions,
        exec_price=exec_price,
        signals=SignalPanel(**stitched),
        simulation=simulation,
        stats=stats,
        table=table,
        relearn=relearn,
        lexicons=lexicons,
    )


def _set_signals_and_positions(
    data: SweepData, config: StrategyConfig
) -> tuple[SignalPanel, np.ndarray]:
    """One set's signals on the whole grid and its positions over the whole period."""
    from backtest.signals import compute_signals, hold_rows, period_positions

    s, e = config.signal, config.execution
    signals = compute_signals(
        data.panel, data.placed_for(config), s, e, config.news, links_when_on(data, config)
    )
    rows = data.rows
    exec_price = data.panel.exec_price(e.at)[rows]
    return signals, period_positions(
        signals.labels[rows], exec_price, e, None, hold_rows(data.panel, e)
    )


def windows_table(
    data: SweepData,
    swept: SweepResult,
    windows: list[Window],
    chosen: np.ndarray,
    is_values: np.ndarray,
    objective: str,
    simulation: Simulation,
    initial_cash: float,
) -> pd.DataFrame:
    """walkforward.csv: one row per window (dates inclusive, ISO), chosen set and its figures."""
    from backtest.analytics.stats import sharpe_ratio
    from backtest.sweeps import equity_returns

    dates = data.dates
    equity = simulation.equity.to_numpy(np.float64)
    returns = equity_returns(equity[:, None], initial_cash)[:, 0]
    first = windows[0].oos_start
    rows: list[dict[str, Any]] = []
    for k, (w, set_number) in enumerate(zip(windows, chosen, strict=True)):
        out = slice(w.oos_start - first, w.oos_stop - first)
        before = equity[out.start - 1] if out.start > 0 else initial_cash
        row: dict[str, Any] = {
            "window": k + 1,
            "is_start": f"{dates[w.is_start]:%Y-%m-%d}",
            "is_end": f"{dates[w.is_stop - 1]:%Y-%m-%d}",
            "oos_start": f"{dates[w.oos_start]:%Y-%m-%d}",
            "oos_end": f"{dates[w.oos_stop - 1]:%Y-%m-%d}",
            "is_sessions": w.is_stop - w.is_start,
            "oos_sessions": w.oos_stop - w.oos_start,
            "set": int(set_number),
        }
        for key in data.expansion.keys:
            row[key] = swept.table[key].iloc[int(set_number)]
        oos_sharpe = sharpe_ratio(returns[out])
        row[f"is_{objective}"] = float(is_values[k])
        row["oos_sharpe"] = math.nan if oos_sharpe is None else oos_sharpe
        row["oos_return"] = float(equity[out.stop - 1] / before - 1.0)
        rows.append(row)
    return pd.DataFrame(rows)


# Run folder -------------------------------------------------------------------------------


def write_walkforward_folder(
    result: WalkForwardResult,
    *,
    out_dir: Path | None = None,
    reports_dir: Path = REPORTS_DIR,
    force: bool = False,
    command: str = "",
    started: float | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write the out-of-sample run folder (``walkforward_outputs``) atomically; returns the
    folder and its stats.json content. Writing is the report layer's (report/run_folder.py)."""
    from backtest.report.run_folder import RunFolderWriter

    writer = RunFolderWriter.prepare(
        walkforward_folder_name(result.data.config.name),
        out_dir=out_dir,
        reports_dir=reports_dir,
        force=force,
        kind="walkforward",
    )
    outputs = walkforward_outputs(result, command=command, started=started)
    return writer.commit(outputs), outputs.stats


def walkforward_folder_name(name: str) -> str:
    """The run folder's name part for a walk-forward of strategy ``name``."""
    return f"{name}-walkforward"


def walkforward_outputs(
    result: WalkForwardResult, *, command: str = "", started: float | None = None
) -> RunOutputs:
    """The out-of-sample run folder's tables (RUNFOLDER.md) plus walkforward.csv.

    Every file describes the stitched out-of-sample span: signals.csv and headlines.csv show,
    per window, the chosen set's signals and the headlines as that set scored and placed them;
    trades.csv lists each trade's headlines by the set traded at its entry. config.toml is the
    base strategy (loadable as is) with the grid and windows as comments; stats.json has an
    extra ``walkforward`` block.
    """
    import dataclasses
    import time

    from backtest.market import prepare
    from backtest.outputs import build_outputs, trades_with_headlines
    from backtest.signals import half_life_rows

    began = time.perf_counter()
    config = result.data.config
    market = result.data.market if result.data.market is not None else prepare(config)
    placements = _full_placements(result, market)
    stitched = _stitched_headlines(result, placements)
    outputs = build_outputs(
        config=config,
        data=market.data,
        panel=result.data.panel,
        placed=stitched,
        signals=_signals_on_grid(result),
        rows=result.rows,
        positions=result.positions,
        simulation=result.simulation,
        command=command,
        started=time.time() if started is None else started,
        timings={},
    )
    trades = outputs.trades
    if len(trades):
        entry_window = _window_of_dates(result, pd.to_datetime(trades["entry_time"]))
        parts = []
        for k in np.unique(entry_window):
            set_config = result.config_of(int(k))
            mine = result.simulation.trades.iloc[np.flatnonzero(entry_window == k)]
            parts.append(
                trades_with_headlines(
                    mine,
                    placements[news_key(set_config)],
                    result.data.panel,
                    half_life_rows(result.data.panel, set_config.signal),
                    set_config.news,
                )
            )
        trades = pd.concat(parts).loc[trades.index]
    stats = dict(outputs.stats)
    stats["walkforward"] = walkforward_block(result)
    timings = {k: round(v, 3) for k, v in result.sweep.timings_s.items()}
    timings["report"] = round(time.perf_counter() - began, 3)
    stats["timings_s"] = timings
    extra_files = dict(outputs.extra_files)
    extra_files[WINDOWS_FILE] = result.table
    for lexicon in result.lexicons:
        extra_files[lexicon.name] = lexicon.content
    return dataclasses.replace(
        outputs,
        trades=trades,
        stats=stats,
        config_toml=_config_toml(result),
        extra_files=extra_files,
    )


def walkforward_block(result: WalkForwardResult) -> dict[str, Any]:
    """stats.json's ``walkforward``: the settings, the grid, the window table and, when the
    lexicon was relearned, each window's lexicon file (in the run folder) and training window.

    ``n_sets`` counts the sets each window chose from; ``sets_simulated`` all sets run (x the
    number of windows when the lexicon is relearned).
    """
    from backtest.outputs import json_safe

    relearn = None
    if result.relearn is not None:
        relearn = {
            "min_count": result.relearn.min_count,
            "top_k": result.relearn.top_k,
            "lexicons": [
                {
                    "window": lexicon.window,
                    "file": lexicon.name,
                    "sha256": lexicon.sha256,
                    "train_start": lexicon.train_start,
                    "train_end": lexicon.train_end,
                    "terms": lexicon.terms,
                }
                for lexicon in result.lexicons
            ],
        }
    return json_safe(
        {
            "train_sessions": result.train_sessions,
            "test_sessions": result.test_sessions,
            "objective": result.objective,
            "grid": result.grid,
            "n_sets": result.sets_per_window,
            "sets_simulated": result.sweep.n_sets,
            "skipped_sets": len(result.sweep.skipped),
            "relearn_lexicon": relearn,
            "windows": result.table.to_dict(orient="records"),
        }
    )


def _full_placements(
    result: WalkForwardResult, market: Market
) -> dict[tuple[str, str, int, int], Any]:
    """Scored, placed headlines with their texts, per placement the chosen sets use."""
    configs = {news_key(c): c for c in map(result.config_of, range(len(result.windows)))}
    return {key: market.placed(config) for key, config in configs.items()}


def _stitched_headlines(result: WalkForwardResult, placements: dict[Any, Any]) -> Any:
    """Per window, the headlines its chosen set placed on that window's OOS sessions."""
    from backtest.signals import PlacedHeadlines

    start = result.data.rows.start
    frames = []
    for k, w in enumerate(result.windows):
        placed = placements[news_key(result.config_of(k))]
        sessions = placed.frame["session_idx"]
        frames.append(
            placed.frame.loc[sessions.between(start + w.oos_start, start + w.oos_stop - 1)]
        )
    first = placements[news_key(result.config_of(0))]
    return PlacedHeadlines(
        frame=pd.concat(frames, ignore_index=True),
        dropped_no_prices=first.dropped_no_prices,
        dropped_after_data=first.dropped_after_data,
    )


def _signals_on_grid(result: WalkForwardResult) -> SignalPanel:
    """The stitched OOS signals placed on the whole session grid (NaN / 0 elsewhere)."""
    from backtest.signals import SignalPanel

    n_grid = len(result.data.panel.dates)
    arrays = {}
    for name in ("news_flow", "news_count", "news", "momentum", "composite", "labels"):
        array = getattr(result.signals, name)
        fill = 0 if array.dtype.kind in "iu" else np.nan
        full = np.full((n_grid, array.shape[1]), fill, dtype=array.dtype)
        full[result.rows] = array
        arrays[name] = full
    return SignalPanel(**arrays)


def _window_of_dates(result: WalkForwardResult, dates: pd.DatetimeIndex) -> np.ndarray:
    """0-based window of each OOS date."""
    starts = result.data.dates[[w.oos_start for w in result.windows]]
    return np.searchsorted(starts.to_numpy(), pd.DatetimeIndex(dates).to_numpy(), side="right") - 1


def _config_toml(result: WalkForwardResult) -> str:
    """The base strategy as TOML, then the walk-forward settings, grid and choices as comments
    (so the file still loads with --strategy)."""
    lines = [
        "",
        "# Walk-forward over this base strategy:",
        f"#   train_sessions = {result.train_sessions}",
        f"#   test_sessions = {result.test_sessions}",
        f'#   objective = "{result.objective}"',
        "# Grid:",
    ]
    lines += [f"#   {key} = {values!r}" for key, values in result.grid.items()]
    if result.relearn is not None:
        lines.append(
            f"# Lexicon relearned on each in-sample window (min_count = "
            f"{result.relearn.min_count}, top_k = {result.relearn.top_k}): "
            f"{LEXICONS_FOLDER}/window-NN.csv"
        )
    lines.append("# Chosen per window (out-of-sample dates: set number and parameters):")
    keys = list(result.data.expansion.keys)
    for _, row in result.table.iterrows():
        params = ", ".join(f"{key}={row[key]!r}" for key in keys)
        lines.append(f"#   {row['oos_start']}..{row['oos_end']}: set {row['set']} ({params})")
    return result.data.config.to_toml().rstrip("\n") + "\n" + "\n".join(lines) + "\n"
