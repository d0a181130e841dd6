"""``backtest walkforward``: choose a parameter set per in-sample window, trade it out-of-sample,
and write the stitched out-of-sample run as a run folder (plus walkforward.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backtest.commands.options import (
    DebugOpt,
    EndOpt,
    ForceOpt,
    GridOpt,
    HeadlinesOpt,
    HeadlinesTzOpt,
    PricesOpt,
    QuietOpt,
    SchedulerOpt,
    SetOpt,
    StartOpt,
    StrategyOpt,
    TickersOpt,
    WorkersOpt,
)

if TYPE_CHECKING:
    from backtest.walkforward import WalkForwardResult


def register(app: typer.Typer) -> None:
    """Add ``backtest walkforward`` to the root app."""

    @app.command("walkforward")
    def walkforward(
        grid: GridOpt,
        train: Annotated[int, typer.Option("--train", help="In-sample window, in sessions.")] = 504,
        test: Annotated[
            int, typer.Option("--test", help="Out-of-sample window (and step), in sessions.")
        ] = 126,
        objective: Annotated[
            str,
            typer.Option("--objective", help="In-sample choice: sharpe, total_return or mean."),
        ] = "sharpe",
        strategy: StrategyOpt = None,
        prices: PricesOpt = None,
        headlines: HeadlinesOpt = None,
        tickers: TickersOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
        headlines_tz: HeadlinesTzOpt = None,
        set_: SetOpt = None,
        workers: WorkersOpt = None,
        scheduler: SchedulerOpt = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the run folder exactly here.")
        ] = None,
        force: ForceOpt = False,
        reports_dir: Annotated[
            Path, typer.Option("--reports-dir", help="Parent of timestamped run folders.")
        ] = Path("reports"),
        quiet: QuietOpt = False,
        relearn_lexicon: Annotated[
            bool,
            typer.Option(
                "--relearn-lexicon",
                help="Learn a lexicon (backtest lexicon learn) on each in-sample window and "
                "score that window's choice and its out-of-sample trading with it.",
            ),
        ] = False,
        min_count: Annotated[
            int,
            typer.Option("--min-count", help="With --relearn-lexicon: terms seen with N labels."),
        ] = 30,
        top: Annotated[
            int, typer.Option("--top", help="With --relearn-lexicon: at most K terms a side.")
        ] = 100,
        debug: DebugOpt = False,
    ) -> None:
        """Walk-forward: best set per in-sample window, traded on the next; out-of-sample only."""
        import shlex
        import sys
        import time
        from contextlib import nullcontext

        from backtest.commands.options import strategy_config
        from backtest.errors import InputError

        started = time.time()
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
        from backtest.summary import summary_table
        from backtest.sweep import parse_grid
        from backtest.walkforward import (
            LexiconRelearning,
            commit_walkforward_folder,
            prepare_walkforward_folder,
            walk_forward,
        )

        relearn = None
        if relearn_lexicon:
            if min_count < 1 or top < 1:
                raise InputError(
                    "--min-count and --top must be at least 1",
                    hint="for example --min-count 30 --top 100",
                )
            relearn = LexiconRelearning(min_count=min_count, top_k=top)
        parsed = parse_grid(grid)
        writer = prepare_walkforward_folder(
            config.name, out_dir=out, reports_dir=reports_dir, force=force
        )
        show = not quiet and sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            typer.echo(f"\r... sweep chunk {done}/{total}", err=True, nl=done == total)

        if workers is not None or scheduler is not None:
            from backtest.sweep_dask import dask_executor

            context = dask_executor(workers=workers, scheduler=scheduler)
        else:
            context = nullcontext(None)
        with context as executor:
            result = walk_forward(
                config,
                parsed,
                train_sessions=train,
                test_sessions=test,
                objective=objective,
                executor=executor,
                progress=progress if show else None,
                relearn=relearn,
            )
        command = shlex.join(["backtest", *sys.argv[1:]])
        run_dir, stats = commit_walkforward_folder(writer, result, command=command, started=started)
        typer.echo(summary_table(stats))
        typer.echo("")
        typer.echo(windows_text(result))
        typer.echo(f"\nRun folder: {run_dir}")


def windows_text(result: WalkForwardResult) -> str:
    """The windows and the set chosen in each, one line per window."""
    keys = list(result.data.expansion.keys)
    objective = f"is_{result.objective}"
    lines = [
        f"Out-of-sample only: {len(result.windows)} windows of {result.test_sessions} sessions, "
        f"each chosen by in-sample {result.objective} over the previous "
        f"{result.train_sessions} sessions from {result.sets_per_window} sets"
    ]
    if result.relearn is not None:
        lines.append(
            "Lexicon relearned on each in-sample window (the in-sample figure is measured on "
            "the lexicon's own training data): "
            + ", ".join(f"{x.name} ({x.terms} terms)" for x in result.lexicons)
        )
    for _, row in result.table.iterrows():
        params = ", ".join(f"{key}={row[key]!r}" for key in keys)
        lines.append(
            f"  {row['oos_start']}..{row['oos_end']}  set {row['set']:>4}  "
            f"IS {result.objective} {row[objective]:8.3f}  OOS sharpe {row['oos_sharpe']:6.2f}  "
            f"{params}"
        )
    return "\n".join(lines)
