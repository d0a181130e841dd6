"""``backtest run`` as a library call: config in, run folder out.

1. Load and validate prices and headlines (data/), keep the requested tickers.
2. Lay the exchange's sessions over the data's span and pivot prices onto them (calendar, panel).
3. Score headlines and place each on its tradeable session (kernels, calendar).
4. Compute news, momentum, composite and labels on the whole grid; positions over the period.
5. Simulate the sleeves and the benchmark with vectorbt (engine).
6. Compute the statistics once and write the run folder atomically (report/).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import StrategyConfig
from backtest.errors import InputError

if TYPE_CHECKING:
    from backtest.signals import PlacedHeadlines

Progress = Callable[[str], None]


@dataclass
class StageTimer:
    """Wall time per pipeline stage, for ``--profile`` and stats.json."""

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


@dataclass(frozen=True)
class LoadedData:
    """Validated inputs and where they came from."""

    prices: pd.DataFrame
    headlines: pd.DataFrame
    prices_source: str
    headlines_source: str
    prices_file: Path | None
    headlines_file: Path | None


@dataclass(frozen=True)
class RunResult:
    """What a run produced: its folder and the figures printed in the summary."""

    run_dir: Path
    stats: dict[str, Any]
    timings_s: dict[str, float]


def load_inputs(config: StrategyConfig) -> LoadedData:
    """Load prices and headlines named by the config (embedded data when unset)."""
    from backtest.data import embedded
    from backtest.data.headlines import load_headlines
    from backtest.data.prices import load_prices

    data = config.data
    prices_file: Path | None
    if data.prices.startswith("yf:") or (data.prices and Path(data.prices).is_dir()):
        from backtest.data.fetch import load_cached_prices, parse_prices_source

        spec = parse_prices_source(data.prices)
        if spec is None:
            prices = load_cached_prices(None, cache_dir=Path(data.prices))
        else:
            prices = load_cached_prices(spec[1])
        prices_file, prices_source = None, data.prices
    else:
        prices_file = Path(data.prices) if data.prices else embedded.EMBEDDED_PRICES
        prices = load_prices(prices_file)
        prices_source = str(prices_file)
    headlines_file = Path(data.headlines) if data.headlines else embedded.EMBEDDED_HEADLINES
    headlines = load_headlines(headlines_file, headlines_tz=data.headlines_tz)
    return LoadedData(
        prices=prices,
        headlines=headlines,
        prices_source=prices_source,
        headlines_source=str(headlines_file),
        prices_file=prices_file,
        headlines_file=headlines_file,
    )


def select_tickers(data: LoadedData, config: StrategyConfig) -> LoadedData:
    """Keep the configured tickers; a ticker without prices is an error naming it."""
    wanted = config.data.tickers
    if not wanted:
        return data
    available = set(data.prices["ticker"].unique())
    missing = [t for t in wanted if t not in available]
    if missing:
        import difflib

        close = difflib.get_close_matches(missing[0], sorted(available), n=1)
        hint = (
            f"did you mean {close[0]}?" if close else "run `backtest data validate` to list tickers"
        )
        raise InputError(
            f"ticker {missing[0]} has no prices in the data",
            file=data.prices_source,
            column="ticker",
            hint=hint,
        )
    keep = list(wanted)
    return LoadedData(
        prices=data.prices.loc[data.prices["ticker"].isin(keep)].reset_index(drop=True),
        headlines=data.headlines.loc[data.headlines["ticker"].isin(keep)].reset_index(drop=True),
        prices_source=data.prices_source,
        headlines_source=data.headlines_source,
        prices_file=data.prices_file,
        headlines_file=data.headlines_file,
    )


def warn_about_unplaced(placed: PlacedHeadlines, data: LoadedData) -> None:
    """Headlines that cannot trade are tolerated, and said so in one warning line each."""
    if placed.dropped_no_prices:
        warnings.warn(
            f"{data.headlines_source}: {placed.dropped_no_prices} headlines name tickers "
            "without prices; they are ignored",
            stacklevel=2,
        )
    if placed.dropped_after_data:
        warnings.warn(
            f"{data.headlines_source}: {placed.dropped_after_data} headlines are tradeable only "
            "after the last session with prices; they are ignored",
            stacklevel=2,
        )


def session_grid_bounds(data: LoadedData) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The grid spans the first headline or price date to the last price date."""
    first_price = data.prices["date"].min()
    last_price = data.prices["date"].max()
    start = first_price
    if len(data.headlines):
        first_news = data.headlines["published_at"].min().tz_convert(None).normalize()
        start = min(first_price, first_news)
    return start, last_price


def backtest_period(
    config: StrategyConfig, dates: pd.DatetimeIndex, placed_sessions: np.ndarray
) -> tuple[int, int]:
    """Row range [first, last] of the period: configured dates, else the span of the news."""
    data = config.data
    if data.start:
        first = int(dates.searchsorted(pd.Timestamp(data.start), side="left"))
    elif len(placed_sessions):
        first = int(placed_sessions.min())
    else:
        first = 0
    if data.end:
        last = int(dates.searchsorted(pd.Timestamp(data.end), side="right")) - 1
    elif len(placed_sessions):
        last = int(placed_sessions.max())
    else:
        last = len(dates) - 1
    last = min(last, len(dates) - 1)
    if first > last or first >= len(dates):
        raise InputError(
            f"the period {data.start or dates[0].date()}..{data.end or dates[-1].date()} holds no "
            f"session with prices (data spans {dates[0].date()}..{dates[-1].date()})",
            hint="choose --start/--end inside the data",
        )
    return first, last


def run_backtest(
    config: StrategyConfig,
    *,
    out_dir: Path | None = None,
    reports_dir: Path = Path("reports"),
    force: bool = False,
    command: str = "",
    progress: Progress | None = None,
) -> RunResult:
    """Run the strategy end to end and write its run folder; returns the folder and stats."""
    from backtest.calendar import load_sessions
    from backtest.data.panel import build_panel
    from backtest.report.run_folder import RunFolderWriter
    from backtest.scoring import load_lexicon, score_headlines
    from backtest.signals import compute_signals, period_positions, place_headlines

    writer = RunFolderWriter.prepare(
        config.name, out_dir=out_dir, reports_dir=reports_dir, force=force
    )
    timer = StageTimer(progress=progress)
    started = time.time()
    with timer.stage("load", "Loading prices and headlines"):
        data = select_tickers(load_inputs(config), config)
    with timer.stage("align", "Aligning to exchange sessions"):
        grid_start, grid_end = session_grid_bounds(data)
        sessions = load_sessions(config.data.calendar, grid_start, grid_end)
        panel = build_panel(
            data.prices, sessions, adjust=config.data.adjust, source=data.prices_source
        )
    with timer.stage("score", "Scoring headlines"):
        lexicon = load_lexicon(config.signal.lexicon or None)
        scores = score_headlines(data.headlines["headline"], lexicon)
        placed = place_headlines(data.headlines, scores, panel, config)
        warn_about_unplaced(placed, data)
    with timer.stage("signals", "Computing signals"):
        signals = compute_signals(panel, placed, config.signal, config.execution)
        first, last = backtest_period(config, panel.dates, placed.session_idx)
        rows = slice(first, last + 1)
        exec_price = panel.exec_price(config.execution.at)[rows]
        positions = period_positions(signals.labels[rows], exec_price, config.execution)
    with timer.stage("simulate", "Simulating portfolios with vectorbt"):
        from backtest.engine import simulate

        simulation = simulate(
            positions,
            exec_price,
            panel.close[rows],
            dates=panel.dates[rows],
            tickers=list(panel.tickers),
            initial_cash=config.execution.initial_cash,
            fees=config.execution.fees,
            slippage=config.execution.slippage,
        )
    with timer.stage("report", "Writing the run folder"):
        from backtest.report.outputs import build_outputs

        outputs = build_outputs(
            config=config,
            data=data,
            panel=panel,
            placed=placed,
            signals=signals,
            rows=rows,
            positions=positions,
            simulation=simulation,
            command=command,
            started=started,
            timings=timer.seconds,
        )
        run_dir = writer.commit(outputs)
    return RunResult(run_dir=run_dir, stats=outputs.stats, timings_s=dict(timer.seconds))
