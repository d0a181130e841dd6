"""Walk-forward: choose a parameter set on each in-sample window, trade it on the next one.

1. Sweep the grid once over the whole backtest period (``backtest.sweep``): every set's daily
   returns, each from its own initial cash.
2. Windows over the period's sessions: in-sample rows [i, i + train), out-of-sample rows
   [i + train, i + train + test), for i = 0, test, 2·test, ... The last out-of-sample window
   may be shorter (it is clipped to the period's end); no in-sample window is ever clipped.
3. On each in-sample window, the chosen set is the argmax of the objective (``sharpe``,
   ``total_return`` or ``mean``; ``backtest.report.overfitting.objective_values``) computed
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import StrategyConfig
from backtest.errors import InputError
from backtest.report.overfitting import OBJECTIVES, objective_values

if TYPE_CHECKING:
    from backtest.engine import Simulation
    from backtest.signals import SignalPanel
    from backtest.sweep import ChunkExecutor, Progress, SweepData, SweepResult

FIXED_KEYS = ("execution.fees", "execution.slippage", "execution.initial_cash")
"""Grid keys a walk-forward refuses (module docstring, last paragraph)."""
SUGGESTED_WINDOWS = (252, 63)
"""A year in-sample, a quarter out-of-sample: suggested when the default windows do not fit."""


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
    returns: np.ndarray, windows: list[Window], objective: str = "sharpe"
) -> tuple[np.ndarray, np.ndarray]:
    """Per window, the set with the best in-sample objective and that objective's value.

    Only ``returns[w.is_start:w.is_stop]`` is read for window ``w``. Sharpe values are
    annualised (x sqrt(252)) for display; the choice does not depend on it.
    """
    check_objective(objective)
    chosen = np.empty(len(windows), dtype=np.int64)
    values = np.empty(len(windows), dtype=np.float64)
    scale = math.sqrt(252) if objective == "sharpe" else 1.0
    for k, w in enumerate(windows):
        scores = objective_values(returns[w.is_start : w.is_stop], objective)
        chosen[k] = int(np.argmax(scores))
        values[k] = float(scores[chosen[k]]) * scale
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

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.data.panel.dates[self.rows]

    def config_of(self, window: int) -> StrategyConfig:
        """The strategy traded in window ``window`` (0-based)."""
        return self.data.expansion.configs[int(self.chosen[window])]


def walk_forward(
    config: StrategyConfig,
    grid: dict[str, list[Any]],
    *,
    train_sessions: int = 504,
    test_sessions: int = 126,
    objective: str = "sharpe",
    executor: ChunkExecutor | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Sweep ``grid`` once, choose per in-sample window, trade out-of-sample (module docstring)."""
    from backtest.sweep import prepare_sweep, run_sweep

    check_window_sizes(train_sessions, test_sessions)
    check_objective(objective)
    check_grid(grid)
    data = prepare_sweep(config, grid)
    check_period_fits(data.dates, train_sessions, test_sessions)
    windows = plan_windows(len(data.dates), train_sessions, test_sessions)
    swept = run_sweep(data, chunk_size=chunk_size, executor=executor, progress=progress)
    chosen, is_values = choose_sets(swept.returns, windows, objective)
    return trade_out_of_sample(
        data, swept, windows, chosen, is_values, objective, train_sessions, test_sessions
    )


def trade_out_of_sample(
    data: SweepData,
    swept: SweepResult,
    windows: list[Window],
    chosen: np.ndarray,
    is_values: np.ndarray,
    objective: str,
    train_sessions: int,
    test_sessions: int,
) -> WalkForwardResult:
    """Stitch the chosen sets' out-of-sample positions and simulate them once (steps 4-5)."""
    from backtest.engine import simulate
    from backtest.report.stats import compute_stats

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
    from backtest.signals import SignalPanel

    table = windows_table(
        data, swept, windows, chosen, is_values, objective, simulation, execution.initial_cash
    )
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
    )


def _set_signals_and_positions(
    data: SweepData, config: StrategyConfig
) -> tuple[SignalPanel, np.ndarray]:
    """One set's signals on the whole grid and its positions over the whole period."""
    from backtest.signals import compute_signals, period_positions

    s, e = config.signal, config.execution
    signals = compute_signals(data.panel, data.placed[(s.lexicon, e.at, e.latency_ns)], s, e)
    rows = data.rows
    exec_price = data.panel.exec_price(e.at)[rows]
    return signals, period_positions(signals.labels[rows], exec_price, e)


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
    from backtest.report.stats import sharpe_ratio
    from backtest.sweep import equity_returns

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
