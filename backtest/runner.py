"""``backtest.run``: one strategy on a prepared market, results in memory.

1. Prepare the market (market.prepare), unless one is given: inputs validated, sessions, panel.
2. Score and place the headlines the strategy trades on (the market's cached placement).
3. Compute news, momentum, composite and labels on the whole grid; positions over the period.
4. Simulate the sleeves (or the [portfolio] book) and the benchmark with vectorbt (engine).
   Then the luck baselines (random timing, bootstrap), timed as their own stage.
5. Lay out the run folder's tables and statistics (outputs) and return them as a RunResult.

Nothing is written: ``RunResult.save(dir)`` writes the run folder ``backtest run`` writes.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import REPORTS_DIR, StrategyConfig
from backtest.market import Market, prepare, resolve_config

if TYPE_CHECKING:
    from backtest.outputs import RunOutputs

Progress = Callable[[str], None]


@dataclass
class StageTimer:
    """Wall time per stage, for ``--profile`` and stats.json."""

    seconds: dict[str, float] = field(default_factory=dict)
    progress: Progress | None = None

    @contextmanager
    def stage(self, name: str, message: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress(message)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True, eq=False)
class RunResult:
    """One backtest in memory: the run folder's tables as DataFrames, and the Portfolio.

    ``stats`` holds the headline figures (rows) of the strategy and the benchmark (columns);
    ``summary`` is the whole stats.json content. ``save(dir)`` writes the run folder.
    """

    config: StrategyConfig
    stats: pd.DataFrame
    equity: pd.DataFrame
    """equity and benchmark at each session's close, indexed by session date."""
    trades: pd.DataFrame
    """trades.csv's columns: one row a trade, with the headlines behind it."""
    signals: pd.DataFrame
    """signals.csv's columns: one row per (session, ticker); date, ticker and label are
    categoricals (one text per distinct value)."""
    headlines: pd.DataFrame
    """headlines.csv's columns: every headline of the period with its tradeable session."""
    portfolio: Any
    """The strategy's vectorbt Portfolio (one column per ticker sleeve), to explore further."""
    benchmark_portfolio: Any
    market: Market
    outputs: RunOutputs
    """Exactly what ``save`` writes."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Wall time of each stage (load, align, score, signals, simulate, baselines, report)."""

    @property
    def summary(self) -> dict[str, Any]:
        """stats.json's content."""
        return self.outputs.stats

    def save(
        self,
        out: str | Path | None = None,
        *,
        reports_dir: str | Path = REPORTS_DIR,
        force: bool = False,
    ) -> Path:
        """Write the run folder (atomically) to ``out``, or to a new timestamped folder under
        ``reports_dir``; returns its path."""
        from backtest.report.run_folder import RunFolderWriter

        writer = RunFolderWriter.prepare(
            self.config.name,
            out_dir=None if out is None else Path(out),
            reports_dir=Path(reports_dir),
            force=force,
        )
        return writer.commit(self.outputs)

    def report_html(self) -> str:
        """The report page as text, exactly as ``save`` writes report.html."""
        import tempfile

        from backtest.report.run_folder import write_run_files

        with tempfile.TemporaryDirectory(prefix="news-backtest-report-") as folder:
            write_run_files(Path(folder), self.outputs)
            return (Path(folder) / "report.html").read_text(encoding="utf-8")

    def _repr_html_(self) -> str:
        return self.stats.to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        figures = self.stats["strategy"]
        return (
            f"<RunResult {self.config.name}: {len(self.equity)} sessions, "
            f"{len(self.trades)} trades, total return {figures['total_return']:.2%}, "
            f"Sharpe {figures['sharpe']:.2f}>"
        )


def run(
    strategy: str | Path | StrategyConfig | None = None,
    *,
    prices: str | Path | pd.DataFrame | None = None,
    headlines: str | Path | pd.DataFrame | None = None,
    tickers: str | Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    market: Market | None = None,
    command: str = "",
    progress: Progress | None = None,
) -> RunResult:
    """Backtest a strategy and return its results in memory; nothing is written.

    ``strategy`` is a TOML path, a ``StrategyConfig`` or None (the default strategy);
    ``prices``/``headlines`` are paths or DataFrames (default: the embedded data);
    ``overrides`` maps dotted keys to values, like ``--set``. Pass ``market`` (from
    ``backtest.prepare``) to reuse loaded, scored inputs across runs. ``command`` is recorded
    in stats.json; ``progress`` is called with a message as each stage starts.

    >>> result = run(tickers="AAPL,MSFT", overrides={"signal.half_life": 3})  # doctest: +SKIP
    >>> result.stats.loc["sharpe"]                                             # doctest: +SKIP
    """
    timer = StageTimer(progress=progress)
    started = time.time()
    if market is None:
        with timer.stage("load", "Loading prices and headlines"):
            market = prepare(
                strategy,
                prices=prices,
                headlines=headlines,
                tickers=tickers,
                start=start,
                end=end,
                overrides=overrides,
            )
        config = market.config
    else:
        if prices is not None or headlines is not None:
            raise TypeError("pass either market= or prices=/headlines=, not both")
        config = resolve_config(
            strategy if strategy is not None else market.config,
            tickers=tickers,
            start=start,
            end=end,
            overrides=overrides,
        )
        market.check_serves(config)
    with timer.stage("align", "Aligning to exchange sessions"):
        market.panel  # noqa: B018 - built here (lazily, once) so the stage timing shows it
    with timer.stage("news", "Reading which headlines count (reprints, novelty, relevance)"):
        market.story_features  # noqa: B018 - computed once per market, timed apart
        market.novelty(config.news.novelty_window)
    with timer.stage("score", "Scoring headlines"):
        placed = market.placed(config)
    return simulate_run(market, config, placed, timer=timer, command=command, started=started)


def refuse_on_bars(config: StrategyConfig) -> None:
    """Books, stops and borrow are daily-price features (sessions, a year of 252 of them):
    on intraday bars they are an error naming the key, not silently mis-annualised."""
    from backtest.errors import InputError

    e = config.execution
    for key, on in (
        ("portfolio.construction", config.portfolio.construction != "sleeves"),
        ("execution.stop_loss", e.stop_loss > 0 or e.take_profit > 0),
        ("execution.borrow_bps", e.borrow_bps > 0),
    ):
        if on:
            raise InputError(
                f"{key}: needs daily prices; these prices are intraday bars",
                column=key,
                hint="run it on daily prices, or leave it at its default on bars",
            )


def simulate_run(
    market: Market,
    config: StrategyConfig,
    placed: Any,
    *,
    timer: StageTimer,
    command: str,
    started: float,
) -> RunResult:
    """Steps 3-5 for one strategy on placed headlines."""
    from backtest.engine import labelled, simulate, simulate_weights
    from backtest.outputs import build_outputs, luck_baselines, stats_frame
    from backtest.signals import (
        compute_signals,
        execution_prices,
        flat_at_close_rows,
        hold_rows,
        known_returns_window,
        period_positions,
        period_stops,
        period_weights,
    )

    panel = market.panel
    execution = config.execution
    sleeves = config.portfolio.construction == "sleeves"
    decay_points = None
    if panel.bars is not None:
        refuse_on_bars(config)
        with timer.stage("decay", "Measuring the edge at other latencies (intraday)"):
            from backtest.decay import DEFAULT_LATENCIES, decay

            with warnings.catch_warnings():
                # Placements at the other latencies repeat the run's own load warnings.
                warnings.simplefilter("ignore", UserWarning)
                # First: its simulations' memory is free (decay collects it) before the run's
                # own signals and simulation are taken.
                decay_points = decay(market, config, list(DEFAULT_LATENCIES)).points
    with timer.stage("signals", "Computing signals"):
        signals = compute_signals(
            panel, placed, config.signal, execution, config.news, market.links(config)
        )
        rows = market.period(config, placed.session_idx)
        exec_price = execution_prices(panel, execution)[rows]
        stops: dict[str, Any] = {}
        if sleeves:
            flat = flat_at_close_rows(panel, execution)
            positions = period_positions(
                signals.labels[rows],
                exec_price,
                execution,
                None if flat is None else flat[rows],
                hold_rows(panel, execution),
            )
            if execution.stop_loss > 0 or execution.take_profit > 0:
                positions, stops["stop_fill"], stops["stop_reason"] = period_stops(
                    positions, exec_price, panel, rows, execution
                )
        else:
            book = config.portfolio
            known = (
                known_returns_window(panel.close, rows, book.vol_lookback, execution.at)
                if book.vol_target > 0
                else None
            )
            weights, rebalanced = period_weights(
                signals.composite[rows], exec_price, panel.dates[rows], book, known
            )
    with timer.stage("simulate", "Simulating portfolios with vectorbt"):
        common = {
            "dates": panel.dates[rows],
            "tickers": list(panel.tickers),
            "initial_cash": execution.initial_cash,
            "fees": execution.fees,
            "slippage": execution.slippage,
            "borrow_bps": execution.borrow_bps,
        }
        if sleeves:
            simulation = simulate(positions, exec_price, panel.close[rows], **common, **stops)
        else:
            simulation = simulate_weights(
                weights, rebalanced, exec_price, panel.close[rows], **common
            )
            positions = simulation.positions.to_numpy(np.int8)
    with timer.stage("baselines", "Ranking against random timing and the bootstrap"):
        baselines = luck_baselines(config, panel, rows, positions, simulation)
    with timer.stage("report", "Laying out the results"):
        outputs = build_outputs(
            config=config,
            data=market.data,
            panel=panel,
            placed=placed,
            signals=signals,
            rows=rows,
            positions=positions,
            simulation=simulation,
            command=command,
            started=started,
            timings=timer.seconds,
            links=market.links(config),
            decay_points=decay_points,
            baselines=baselines,
        )
    equity = pd.DataFrame(
        {"equity": simulation.equity, "benchmark": simulation.benchmark},
        index=pd.DatetimeIndex(panel.dates[rows], name="date"),
    )
    return RunResult(
        config=config,
        stats=stats_frame(outputs.stats["stats"]),
        equity=equity,
        trades=outputs.trades,
        signals=outputs.signals,
        headlines=outputs.headlines,
        portfolio=labelled(simulation.portfolio, simulation.equity.index),
        benchmark_portfolio=labelled(simulation.benchmark_portfolio, simulation.equity.index),
        market=market,
        outputs=outputs,
        timings_s=timer.seconds,
    )
