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
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Tickers to read, e.g. AAPL MSFT.")
    ] = None,
    asof: Annotated[
        str | None, typer.Option("--asof", help="Session to read, YYYY-MM-DD (default: last).")
    ] = None,
    article: Annotated[
        Path | None,
        typer.Option(
            "--article",
            help="Read every ticker a text or Markdown article names, and score the article "
            "per ticker (default --asof: the date the article states, else the last session).",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Fetch the latest prices and news (both cached) and read as of now.",
        ),
    ] = False,
    names: Annotated[
        bool,
        typer.Option("--names", help="With --article: also find company names (pytickersymbols)."),
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="With --article: show the top-scoring sentences.")
    ] = False,
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

    from backtest.errors import InputError

    names_given = [t for item in tickers or [] for t in item.split(",")]
    if not names_given and article is None:
        # A usage error like any missing argument: Typer's usage line, exit 2.
        raise typer.BadParameter(
            "name at least one ticker (backtest signal AAPL) or give --article FILE",
            param_hint="'TICKERS...'",
        )
    config = strategy_config(strategy, set_, prices=prices, headlines=headlines)
    if article is not None:
        if names_given:
            raise InputError(
                "give tickers or --article, not both",
                hint="--article finds the tickers the article names",
            )
        from backtest.articles import article_reading

        result = article_reading(config, article, asof=asof, names=names)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            return
        typer.echo(result.render(emoji=not no_emoji, explain=explain))
        return
    if names or explain:
        raise InputError("--names and --explain go with --article", hint="add --article FILE")
    if live:
        if asof is not None or prices is not None or headlines is not None:
            raise InputError(
                "--live reads as of now from freshly fetched data",
                hint="drop --asof, --prices and --headlines, or drop --live",
            )
        from backtest.live import live_readings

        result = live_readings(config, names_given)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            return
        typer.echo(result.render(emoji=not no_emoji))
        return
    from backtest.reading import signal_readings

    readings = signal_readings(config, names_given, asof)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in readings], indent=2, ensure_ascii=False))
        return
    typer.echo("\n\n".join(r.render(emoji=not no_emoji) for r in readings))
