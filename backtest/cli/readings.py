"""``backtest score`` and ``backtest signal``: what the scorer sees, and today's reading.

Neither imports vectorbt, plotly or dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backtest.cli.app import app
from backtest.cli.options import (
    DebugOpt,
    HeadlinesOpt,
    PricesOpt,
    SetOpt,
    StrategyOpt,
    strategy_config,
)


@app.command()
def score(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to score.")] = None,
    input_: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="File: one text per line, or CSV/JSONL with a headline column."
        ),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, jsonl or csv.")
    ] = "table",
    explain: Annotated[
        bool, typer.Option("--explain", help="Show the tokens and rules behind each score.")
    ] = False,
    lexicon: Annotated[
        Path | None, typer.Option("--lexicon", help="Lexicon CSV (default: the packaged one).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Score headlines: what the scorer sees, and why."""
    from backtest.cli.score import print_scores

    print_scores(texts or [], input_, format_, explain, lexicon)


@app.command()
def signal(
    tickers: Annotated[list[str], typer.Argument(help="Tickers to read, e.g. AAPL MSFT.")],
    asof: Annotated[
        str | None, typer.Option("--asof", help="Session to read, YYYY-MM-DD (default: last).")
    ] = None,
    strategy: StrategyOpt = None,
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    set_: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    no_emoji: Annotated[bool, typer.Option("--no-emoji", help="Plain labels, no emoji.")] = False,
    debug: DebugOpt = False,
) -> None:
    """The house reading of tickers as of a session: price, composite, momentum, news."""
    import json

    from backtest.reading import signal_readings

    config = strategy_config(strategy, set_, prices=prices, headlines=headlines)
    names = [t for item in tickers for t in item.split(",")]
    readings = signal_readings(config, names, asof)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in readings], indent=2, ensure_ascii=False))
        return
    typer.echo("\n\n".join(r.render(emoji=not no_emoji) for r in readings))
