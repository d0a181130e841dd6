"""``backtest run`` and ``backtest report``: a backtest's run folder, and its page re-rendered."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from backtest.cli.app import app, published, say
from backtest.cli.options import (
    DataOptions,
    DebugOpt,
    ForceOpt,
    QuietOpt,
    ReportsDirOpt,
    with_data_options,
)
from backtest.config import REPORTS_DIR


@app.command()
@with_data_options
def run(
    data: DataOptions,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the run folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: ReportsDirOpt = REPORTS_DIR,
    profile: Annotated[
        bool, typer.Option("--profile", help="Print the wall time of each stage.")
    ] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Backtest a strategy and write a run folder (report.html, stats.json, CSVs)."""
    import time

    from backtest.cli.summary import summary_table
    from backtest.report.index import update_index_for
    from backtest.report.run_folder import RunFolderWriter
    from backtest.runner import run as run_strategy

    config = data.config()
    writer = RunFolderWriter.prepare(config.name, out_dir=out, reports_dir=reports_dir, force=force)
    result = run_strategy(
        config,
        command=shlex.join(["backtest", *sys.argv[1:]]),
        progress=None if quiet or not sys.stderr.isatty() else (lambda m: say(f"... {m}")),
    )
    began = time.perf_counter()
    run_dir = published(writer.commit(result.outputs))
    update_index_for(run_dir, reports_dir)
    timings = {**result.timings_s, "write": time.perf_counter() - began}
    typer.echo(summary_table(result.summary))
    if profile:
        typer.echo("")
        typer.echo("stage      seconds")
        for stage, seconds in timings.items():
            typer.echo(f"{stage:<10} {seconds:7.2f}")
        typer.echo(f"{'total':<10} {sum(timings.values()):7.2f}")
    typer.echo(f"\nRun folder: {run_dir}")


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
