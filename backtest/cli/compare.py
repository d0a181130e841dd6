"""``backtest compare`` and ``backtest index``: runs side by side, and the page listing them."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from backtest.cli.app import app, published, say
from backtest.cli.options import DebugOpt, ForceOpt, ReportsDirOpt
from backtest.config import REPORTS_DIR


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Two or more run folders.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the comparison folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: ReportsDirOpt = REPORTS_DIR,
    debug: DebugOpt = False,
) -> None:
    """Compare runs on one page: equity, figures, config diff, per-ticker P&L, events, trades."""
    from backtest.report.compare import compare_runs, write_compare_files
    from backtest.report.index import update_index_for
    from backtest.report.run_folder import RunFolderWriter

    writer = RunFolderWriter.prepare(
        "compare", out_dir=out, reports_dir=reports_dir, force=force, kind="compare"
    )
    page = compare_runs(runs, command=shlex.join(["backtest", *sys.argv[1:]]))
    for line in page.summary["warnings"]:
        say(f"warning: runs on different data: {line}")
    folder = published(writer.commit_with(lambda staging: write_compare_files(staging, page)))
    update_index_for(folder, reports_dir)
    typer.echo(f"Comparison: {folder / 'compare.html'}")


@app.command()
def index(
    folder: Annotated[
        Path, typer.Argument(help="The reports folder to list (default: reports).")
    ] = REPORTS_DIR,
    debug: DebugOpt = False,
) -> None:
    """Rebuild FOLDER/index.html: one row per run, sweep, walk-forward and comparison."""
    from backtest.errors import InputError
    from backtest.report.index import index_rows, write_index

    if not folder.is_dir():
        raise InputError("reports folder not found", file=folder, hint="pass a folder of runs")
    page = write_index(folder)
    rows = index_rows(folder)
    unreadable = sum(1 for r in rows if r.problem)
    typer.echo(
        f"{page}: {len(rows)} folders" + (f", {unreadable} unreadable" if unreadable else "")
    )
