"""The ``backtest`` Typer apps. Every command module decorates these (one registration style);
``backtest.cli`` imports the modules. Only typer is imported here, so ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="backtest",
    help="Would trading on these headlines have made money? Point-in-time news backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(
    help="Fetch, validate and describe price and headline data.", no_args_is_help=True
)
lexicon_app = typer.Typer(
    help="Learn a lexicon from news and returns (SESTM-style, point in time) and measure it.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")
app.add_typer(lexicon_app, name="lexicon")


PUBLISHED: list[Path] = []
"""Folders this process has published (renamed into place), so a Ctrl-C that lands after the
work is done names the finished folder instead of claiming nothing was left behind."""


def published(folder: Path) -> Path:
    """Record ``folder`` as published by this command and return it."""
    PUBLISHED.append(folder)
    return folder


def say(message: str) -> None:
    """A line on stderr (progress, notes), never on stdout."""
    typer.echo(message, err=True)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for bug reports."),
) -> None:
    """Would trading on these headlines have made money? Point-in-time news backtests."""
