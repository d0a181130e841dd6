"""``backtest data show|validate|fetch``: the inputs, described, checked and downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from backtest.cli.app import data_app
from backtest.cli.options import (
    DebugOpt,
    HeadlinesOpt,
    PricesOpt,
    SetOpt,
    StrategyOpt,
    strategy_config,
)


@data_app.command("show")
def data_show(debug: DebugOpt = False) -> None:
    """What the embedded data set holds and where it came from."""
    from backtest.data.describe import describe_embedded

    typer.echo(describe_embedded())


@data_app.command("validate")
def data_validate(
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    strategy: StrategyOpt = None,
    set_: SetOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Row counts, tickers, date ranges and coverage of a prices + headlines pair."""
    from backtest.data.validate import validate_data
    from backtest.market import load_inputs

    config = strategy_config(strategy, set_, prices=prices, headlines=headlines)
    data = load_inputs(config)
    report = validate_data(
        data.prices,
        data.headlines,
        prices_source=data.prices_source,
        headlines_source=data.headlines_source,
        calendar=config.data.calendar,
        headlines_tz=config.data.headlines_tz,
    )
    if len(data.headlines):
        report.lines += news_quality_lines(data, config)
    if config.data.peers:
        peers_check(config.data.peers, data, report)
    typer.echo(report.render())


def peers_check(path: str, data: Any, report: Any) -> None:
    """The peers file's rows (load errors are fatal) and the tickers it names without prices."""
    from backtest.data.peers import load_peers

    peers = load_peers(path)
    priced = set(data.prices["ticker"].unique())
    unknown = sorted((set(peers["ticker"]) | set(peers["peer"])) - priced)
    usable = int((peers["ticker"].isin(priced) & peers["peer"].isin(priced)).sum())
    report.lines += [
        f"Peers:     {path}",
        f"  {len(peers):,} rows, {usable:,} between tickers with prices, weights "
        f"{peers['weight'].min():+g} to {peers['weight'].max():+g}",
    ]
    if unknown:
        report.problems.append(
            f"peers name {len(unknown)} tickers without prices ({', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''}); their rows are ignored"
        )


def news_quality_lines(data: Any, config: Any) -> list[str]:
    """Shares of the placed headlines that are reprints, stale and multi-ticker, and how many
    the strategy's [news] settings count."""
    from backtest.errors import BacktestError
    from backtest.market import Market, select_tickers
    from backtest.news_quality import MULTI_TICKER_OVER, STALE_BELOW_NOVELTY, quality_shares

    try:
        market = Market(config, select_tickers(data, config))
        shares = quality_shares(market.placed(config).frame, config.news)
    except BacktestError as exc:
        return [f"  news quality: not measured ({exc})"]
    rows = max(1, shares["rows"])

    def part(key: str) -> str:
        return f"{shares[key]:,} ({shares[key] / rows:.1%})"

    return [
        f"  news quality of the {shares['rows']:,} headlines placed on a session:",
        f"    reprints {part('reprints')} (news.duplicate_window = "
        f"{config.news.duplicate_window}), stale {part('stale')} (novelty < "
        f"{STALE_BELOW_NOVELTY:g} over {config.news.novelty_window} sessions), naming more "
        f"than {MULTI_TICKER_OVER} tickers {part('multi_ticker')}",
        f"    counted under the strategy's [news] settings: {part('counted')}",
    ]


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Tickers to download, e.g. AAPL MSFT.")],
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="First date, YYYY-MM-DD (intraday default: as far back as served)."
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last date, YYYY-MM-DD (default: yesterday).")
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            "--interval",
            help="Intraday bars: 1m (last 7 days), 2m-90m (60 days) or 1h (730 days).",
        ),
    ] = None,
    extended_hours: Annotated[
        bool,
        typer.Option(
            "--extended-hours",
            help="Intraday: pre-market and after-hours bars too (run with "
            "data.extended_hours = true to trade them).",
        ),
    ] = False,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Cache folder (default: user cache).")
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Download the range again even if cached.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Download daily prices from Yahoo Finance into the on-disk cache (use as --prices yf:T)."""
    import datetime as dt

    from backtest.data.fetch import fetch_prices
    from backtest.errors import InputError
    from backtest.paths import prices_cache_dir

    def day(value: str, flag: str) -> dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{flag} {value!r} is not a date", hint="use YYYY-MM-DD") from None

    names = [t for item in tickers for t in item.split(",") if t.strip()]
    if interval is not None:
        fetch_intraday(names, interval, start, end, cache, day, extended_hours=extended_hours)
        return
    if extended_hours:
        raise InputError(
            "--extended-hours needs --interval: daily bars have no pre-market",
            hint="for example --interval 5m --extended-hours",
        )
    if start is None:
        raise InputError("--start is required for daily prices", hint="add --start YYYY-MM-DD")
    result = fetch_prices(
        names,
        day(start, "--start"),
        day(end, "--end") if end else None,
        cache_dir=cache,
        refresh=refresh,
    )
    folder = cache or prices_cache_dir()
    for ticker in sorted(result.paths):
        typer.echo(
            f"{ticker}: {result.new_rows.get(ticker, 0)} new rows, "
            f"{result.cached_rows.get(ticker, 0)} from cache -> {result.paths[ticker]}"
        )
    joined = ",".join(sorted(result.paths))
    typer.echo(f"Use them with: backtest run --prices yf:{joined}   (cache: {folder})")


def fetch_intraday(
    names: list[str],
    interval: str,
    start: str | None,
    end: str | None,
    cache: Path | None,
    day: Any,
    *,
    extended_hours: bool = False,
) -> None:
    """``backtest data fetch --interval``: intraday bars into ``<cache>/<interval>/``."""
    import datetime as dt
    import functools

    from backtest.data import fetch_bars as bars

    today = dt.datetime.now(dt.UTC).date()
    first = (
        day(start, "--start")
        if start
        else today - dt.timedelta(days=bars.LOOKBACK_DAYS.get(interval, 7))
    )
    result = bars.fetch_bars(
        names,
        interval,
        first,
        day(end, "--end") if end else None,
        cache_dir=cache,
        download=functools.partial(bars.yfinance_bars, prepost=True)
        if extended_hours
        else bars.yfinance_bars,
        today=today,
    )
    for ticker in sorted(result.paths):
        typer.echo(
            f"{ticker}: {result.new_rows[ticker]} new bars, {result.cached_rows[ticker]} cached "
            f"-> {result.paths[ticker]}"
        )
    bar = "1h" if interval in ("1h", "60m") else interval.replace("m", "min")
    typer.echo(
        f"Use them with: backtest run --prices {result.folder}   "
        f"(or --prices yf:{','.join(sorted(result.paths))} --set data.bar={bar})"
    )


@data_app.command("fetch-news")
def data_fetch_news(
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Tickers to collect news for, e.g. AAPL MSFT.")
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="yfinance, or rss:URL (an RSS/Atom feed URL or file).")
    ] = "yfinance",
    ticker: Annotated[
        list[str] | None,
        typer.Option("--ticker", help="RSS: every entry counts for this ticker (repeatable)."),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="News cache folder (default: user cache).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Collect recent news into the on-disk news cache (use as --headlines news:T or the folder)."""
    from backtest.data.fetch_news import fetch_news

    names = [t for item in tickers or [] for t in item.split(",") if t.strip()]
    fixed = [t for item in ticker or [] for t in item.split(",") if t.strip()]
    result = fetch_news(names, source, cache_dir=cache, tickers_option=fixed or None)
    for line in result.lines():
        typer.echo(line)


@data_app.command("import-articles")
def data_import_articles(
    folder: Annotated[Path, typer.Argument(help="Folder of text or Markdown articles.")],
    out: Annotated[
        Path, typer.Option("--out", help="Headlines file to write (.parquet, .csv or .jsonl).")
    ],
    names: Annotated[
        bool, typer.Option("--names", help="Also find company names (pytickersymbols).")
    ] = False,
    prices: PricesOpt = None,
    strategy: StrategyOpt = None,
    set_: SetOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Articles -> headline rows (one per article and ticker) for backtest run --headlines."""
    from backtest.articles import article_headlines, price_tickers
    from backtest.data.articles import write_headlines_table

    config = strategy_config(strategy, set_, prices=prices)
    frame, notes = article_headlines(
        folder, known=price_tickers(config), names=names, tz=config.data.headlines_tz
    )
    for note in notes:
        typer.echo(note)
    write_headlines_table(frame, out)
    typer.echo(f"{len(frame)} headline rows -> {out}   (use: backtest run --headlines {out})")
