"""Command-line options shared by run, signal, sweep, walkforward and lexicon, declared once,
and the one way options become a strategy config."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from backtest.config import StrategyConfig

StrategyOpt = Annotated[
    Path | None,
    typer.Option(
        "--strategy", "-s", help="Strategy TOML (default: the built-in default strategy)."
    ),
]
PricesOpt = Annotated[
    str | None,
    typer.Option(
        "--prices",
        help="Prices file (CSV, CSV.GZ, Parquet, JSONL) or yf:AAPL,MSFT (fetched cache).",
    ),
]
HeadlinesOpt = Annotated[
    str | None,
    typer.Option(
        "--headlines",
        help="Headlines file (CSV, CSV.GZ, JSONL, Parquet), a news cache folder or news:AAPL,MSFT.",
    ),
]
TickersOpt = Annotated[
    str | None, typer.Option("--tickers", help="Comma-separated tickers to trade.")
]
StartOpt = Annotated[str | None, typer.Option("--start", help="First session, YYYY-MM-DD.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last session, YYYY-MM-DD.")]
HeadlinesTzOpt = Annotated[
    str | None, typer.Option("--headlines-tz", help="Time zone of naive headline timestamps.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a strategy key: section.key=value (repeatable)."),
]
GridOpt = Annotated[
    list[str],
    typer.Option(
        "--grid", help="Values to sweep: section.key=v1,v2,... or start:stop:step (repeatable)."
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Run on a local Dask cluster of N worker processes.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run on an existing Dask scheduler, tcp://host:port."),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace an --out folder this tool wrote (never any other folder)."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress messages (on a terminal).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for bug reports.")]

ReportsDirOpt = Annotated[
    Path, typer.Option("--reports-dir", help="Parent of timestamped run folders.")
]


@dataclass(frozen=True)
class DataOptions:
    """The strategy and data options every backtesting command takes, as one value."""

    strategy: Path | None = None
    prices: str | None = None
    headlines: str | None = None
    tickers: str | None = None
    start: str | None = None
    end: str | None = None
    headlines_tz: str | None = None
    set_: list[str] | None = None

    def config(self) -> StrategyConfig:
        """Strategy file + options -> the one frozen config (options are --set shorthands)."""
        return strategy_config(
            self.strategy,
            self.set_,
            prices=self.prices,
            headlines=self.headlines,
            tickers=self.tickers,
            start=self.start,
            end=self.end,
            headlines_tz=self.headlines_tz,
        )


def _data_option_declarations(
    strategy: StrategyOpt = None,
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    tickers: TickersOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    headlines_tz: HeadlinesTzOpt = None,
    set_: SetOpt = None,
) -> None:
    """The data options, declared once: ``with_data_options`` copies this signature."""


def with_data_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the eight data options; it receives them as ``data: DataOptions``.

    The command's own parameters come first in ``--help``, then the data options.
    """
    own = inspect.signature(command, eval_str=True)
    shared = inspect.signature(_data_option_declarations, eval_str=True)
    names = [name for name in shared.parameters]
    parameters = [p for name, p in own.parameters.items() if name != "data"]
    parameters += [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in shared.parameters.values()
    ]
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        data = DataOptions(**{name: values.pop(name) for name in names})
        command(data=data, **values)

    wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__
    return wrapper


_PATH_KEYS = ("data.prices", "data.headlines")


def strategy_config(
    strategy: Path | None,
    overrides: list[str] | None,
    *,
    prices: str | None = None,
    headlines: str | None = None,
    tickers: str | None = None,
    start: str | None = None,
    end: str | None = None,
    headlines_tz: str | None = None,
) -> StrategyConfig:
    """Strategy file + CLI options -> the one frozen config (CLI options are --set shorthands)."""
    from backtest.config import load_config

    sets = list(overrides or [])
    for key, value in (
        ("data.prices", prices),
        ("data.headlines", headlines),
        ("data.start", start),
        ("data.end", end),
        ("data.headlines_tz", headlines_tz),
    ):
        if value is not None:
            sets.append(f'{key}="{_absolute_path(value) if key in _PATH_KEYS else value}"')
    if tickers is not None:
        sets.append(f'data.tickers="{tickers}"')
    return load_config(strategy, sets)


def _absolute_path(value: str) -> str:
    """CLI paths are relative to the working directory; yf: specs pass through."""
    if value.startswith(("yf:", "news:")) or not value:
        return value
    return str(Path(value).resolve()).replace("\\", "/")
