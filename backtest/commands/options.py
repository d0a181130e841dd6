"""Command-line options shared by run, signal, sweep, walkforward and lexicon, declared once,
and the one way options become a strategy config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    str | None, typer.Option("--headlines", help="Headlines file (CSV, CSV.GZ, JSONL, Parquet).")
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
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace a non-empty --out folder.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress messages (on a terminal).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for bug reports.")]

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
    if value.startswith("yf:") or not value:
        return value
    return str(Path(value).resolve()).replace("\\", "/")
