"""``backtest walkforward``: choose a parameter set per in-sample window, trade it out-of-sample,
and write the stitched out-of-sample run as a run folder (plus walkforward.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backtest.cli.app import app, published
from backtest.cli.options import (
    DataOptions,
    DebugOpt,
    ForceOpt,
    GridOpt,
    QuietOpt,
    ReportsDirOpt,
    SchedulerOpt,
    WorkersOpt,
    with_data_options,
)
from backtest.config import (
    LEXICON_MIN_COUNT,
    LEXICON_TOP_K,
    REPORTS_DIR,
    WALKFORWARD_TEST_SESSIONS,
    WALKFORWARD_TRAIN_SESSIONS,
)

if TYPE_CHECKING:
    from backtest.walkforward import WalkForwardResult


@app.command("walkforward")
@with_data_options
def walkforward(
    grid: GridOpt,
    data: DataOptions,
    train: Annotated[
        int, typer.Option("--train", help="In-sample window, in sessions.")
    ] = WALKFORWARD_TRAIN_SESSIONS,
    test: Annotated[
        int, typer.Option("--test", help="Out-of-sample window (and step), in sessions.")
    ] = WALKFORWARD_TEST_SESSIONS,
    objective: Annotated[
        str,
        typer.Option("--objective", help="In-sample choice: sharpe, total_return or mean."),
    ] = "sharpe",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the run folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: ReportsDirOpt = REPORTS_DIR,
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
    ] = LEXICON_MIN_COUNT,
    top: Annotated[
        int, typer.Option("--top", help="With --relearn-lexicon: at most K terms a side.")
    ] = LEXICON_TOP_K,
    debug: DebugOpt = False,
) -> None:
    """Walk-forward: best set per in-sample window, traded on the next; out-of-sample only."""
    import shlex
    import sys
    import time
    from contextlib import nullcontext

    from backtest.errors import InputError
    from backtest.report.index import update_index_for
    from backtest.report.run_folder import RunFolderWriter

    started = time.time()
    config = data.config()
    from backtest.cli.summary import summary_table
    from backtest.sweeps import parse_grid
    from backtest.walkforward import (
        LexiconRelearning,
        walk_forward,
        walkforward_folder_name,
        walkforward_outputs,
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
    writer = RunFolderWriter.prepare(
        walkforward_folder_name(config.name),
        out_dir=out,
        reports_dir=reports_dir,
        force=force,
        kind="walkforward",
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
    outputs = walkforward_outputs(result, command=command, started=started)
    run_dir, stats = published(writer.commit(outputs)), outputs.stats
    update_index_for(run_dir, reports_dir)
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
