"""The ``backtest`` command: parse, call the library, print. Heavy imports stay inside commands
so that ``backtest --help`` answers without loading pandas, numba or vectorbt."""

from __future__ import annotations

import shlex
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from backtest.commands import register_all
from backtest.commands.options import (
    DebugOpt,
    EndOpt,
    ForceOpt,
    HeadlinesOpt,
    HeadlinesTzOpt,
    PricesOpt,
    QuietOpt,
    SetOpt,
    StartOpt,
    StrategyOpt,
    TickersOpt,
    strategy_config,
)

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
app.add_typer(data_app, name="data")


def _say(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _root(
    debug: DebugOpt = False,
) -> None:
    """Would trading on these headlines have made money? Point-in-time news backtests."""


@app.command()
def run(
    strategy: StrategyOpt = None,
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    tickers: TickersOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    headlines_tz: HeadlinesTzOpt = None,
    set_: SetOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the run folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: Annotated[
        Path, typer.Option("--reports-dir", help="Parent of timestamped run folders.")
    ] = Path("reports"),
    profile: Annotated[
        bool, typer.Option("--profile", help="Print the wall time of each stage.")
    ] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Backtest a strategy and write a run folder (report.html, stats.json, CSVs)."""
    config = strategy_config(
        strategy,
        set_,
        prices=prices,
        headlines=headlines,
        tickers=tickers,
        start=start,
        end=end,
        headlines_tz=headlines_tz,
    )
    from backtest.pipeline import run_backtest

    command = shlex.join(["backtest", *sys.argv[1:]])
    result = run_backtest(
        config,
        out_dir=out,
        reports_dir=reports_dir,
        force=force,
        command=command,
        progress=None if quiet or not sys.stderr.isatty() else (lambda m: _say(f"... {m}")),
    )
    from backtest.summary import summary_table

    typer.echo(summary_table(result.stats))
    if profile:
        typer.echo("")
        typer.echo("stage      seconds")
        for stage, seconds in result.timings_s.items():
            typer.echo(f"{stage:<10} {seconds:7.2f}")
        typer.echo(f"{'total':<10} {sum(result.timings_s.values()):7.2f}")
    typer.echo(f"\nRun folder: {result.run_dir}")


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
    from backtest.score_cli import print_scores

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


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `backtest run`.")],
    debug: DebugOpt = False,
) -> None:
    """Re-render report.html from a run folder's files, without re-running."""
    from backtest.errors import BacktestError
    from backtest.report.html import render_report

    if not (run_dir / "stats.json").is_file():
        raise BacktestError(f"{run_dir} is not a run folder (no stats.json); pass a run folder")
    typer.echo(render_report(run_dir))


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
    from backtest.pipeline import load_inputs

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
    typer.echo(report.render())


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Tickers to download, e.g. AAPL MSFT.")],
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    end: Annotated[
        str | None, typer.Option("--end", help="Last date, YYYY-MM-DD (default: yesterday).")
    ] = None,
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

    from backtest.data.fetch import default_cache_dir, fetch_prices
    from backtest.errors import InputError

    def day(value: str, flag: str) -> dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{flag} {value!r} is not a date", hint="use YYYY-MM-DD") from None

    names = [t for item in tickers for t in item.split(",") if t.strip()]
    result = fetch_prices(
        names,
        day(start, "--start"),
        day(end, "--end") if end else None,
        cache_dir=cache,
        refresh=refresh,
    )
    folder = cache or default_cache_dir()
    for ticker in sorted(result.paths):
        typer.echo(
            f"{ticker}: {result.new_rows.get(ticker, 0)} new rows, "
            f"{result.cached_rows.get(ticker, 0)} from cache -> {result.paths[ticker]}"
        )
    joined = ",".join(sorted(result.paths))
    typer.echo(f"Use them with: backtest run --prices yf:{joined}   (cache: {folder})")


register_all(app)


def main() -> None:
    """Console entry point: one line and exit 2 for bad input, exit 1 for internal errors,
    one line and 128 + signal number for Ctrl-C (SIGINT) or SIGTERM (the run folder is atomic)."""
    import signal
    import warnings

    import click

    debug = "--debug" in sys.argv[1:]
    if not debug:
        warnings.formatwarning = lambda message, *_args, **_kwargs: f"warning: {message}\n"
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # Typer turns KeyboardInterrupt into a silent exit 130, so remember the signal here;
        # a repeated signal is ignored so the clean-up of the staging folder can finish.
        stopped_by.append(signum)
        signal.signal(signum, signal.SIG_IGN)
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stop)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stop)
    try:
        code = app(standalone_mode=False)
    except click.exceptions.Abort:
        _say("Aborted.")
        sys.exit(130)
    except KeyboardInterrupt:
        stopped_by.append(signal.SIGINT)
        code = 130
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        from backtest.errors import BacktestError

        if debug:
            traceback.print_exc()
        # One line whatever the message holds (a pandas error can span several).
        detail = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        if isinstance(exc, BacktestError):
            _say(f"error: {detail}")
            sys.exit(2)
        line = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
        _say(line if debug else f"{line} (run with --debug for details)")
        sys.exit(1)
    if stopped_by:
        what = "Terminated" if stopped_by[0] == signal.SIGTERM else "Interrupted"
        _say(f"{what}; no partial run folder was left behind.")
        sys.exit(128 + int(stopped_by[0]))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
