"""``backtest sweep``: run a grid of parameter sets and write sweep.csv, sweep.json, sweep.html.

1. Build the base config like ``backtest run`` (strategy file, options, ``--set``), parse the
   ``--grid`` items and refuse a non-empty ``--out`` before any work.
2. Prepare the data once and run the chunks serially, on a LocalCluster (``--workers N``) or
   on an existing scheduler (``--scheduler tcp://host:port``); identical numbers either way.
3. Pick the best set by ``--objective``, compute the overfitting guards, and write the folder
   atomically (a temporary folder renamed into place), then print a short summary.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from backtest.cli.app import app, published
from backtest.cli.options import (
    DataOptions,
    DebugOpt,
    ForceOpt,
    GridOpt,
    ReportsDirOpt,
    SchedulerOpt,
    WorkersOpt,
    with_data_options,
)
from backtest.config import REPORTS_DIR

if TYPE_CHECKING:
    from backtest.sweeps import Progress, SweepResult


@app.command("sweep")
@with_data_options
def sweep(
    grid: GridOpt,
    data: DataOptions,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", help="Parameter sets per chunk (default: from free memory)."),
    ] = None,
    objective: Annotated[
        str, typer.Option("--objective", help="Figure that picks the best set (higher is better).")
    ] = "sharpe",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the sweep folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: ReportsDirOpt = REPORTS_DIR,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar (on a terminal).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Sweep a grid of parameters: one simulation per set, best set, overfitting guards."""
    import shlex
    import time

    from backtest.errors import BacktestError
    from backtest.report.index import update_index_for
    from backtest.report.run_folder import RunFolderWriter
    from backtest.report.sweep_html import sweep_outputs, write_sweep_files
    from backtest.sweeps import FIGURE_COLUMNS, parse_grid, prepare_sweep, run_sweep

    if workers is not None and scheduler is not None:
        raise BacktestError("give either --workers N or --scheduler tcp://host:port, not both")
    if objective not in FIGURE_COLUMNS:
        raise BacktestError(
            f"unknown --objective {objective!r}; choose one of {', '.join(FIGURE_COLUMNS)}"
        )
    config = data.config()
    parsed = parse_grid(grid)
    writer = RunFolderWriter.prepare(
        f"sweep-{config.name}", out_dir=out, reports_dir=reports_dir, force=force, kind="sweep"
    )
    started = time.time()
    show_progress = not quiet and sys.stderr.isatty()
    if show_progress:
        typer.echo("... Loading, scoring and placing headlines", err=True)
    prepared = prepare_sweep(config, parsed)
    with _progress(show_progress) as progress:
        if workers is None and scheduler is None:
            result = run_sweep(prepared, chunk_size=chunk_size, progress=progress)
        else:
            from backtest.sweep_dask import dask_executor

            with dask_executor(workers=workers, scheduler=scheduler) as executor:
                result = run_sweep(
                    prepared, chunk_size=chunk_size, executor=executor, progress=progress
                )
    outputs = sweep_outputs(
        prepared,
        result,
        objective=objective,
        command=shlex.join(["backtest", *sys.argv[1:]]),
        started=started,
    )
    folder = published(writer.commit_with(lambda staging: write_sweep_files(staging, outputs)))
    update_index_for(folder, reports_dir)
    typer.echo(summary_text(result, outputs.summary, folder))


class _progress:
    """A tqdm bar over chunks on a terminal (a plain counter without tqdm); nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def __enter__(self) -> Progress | None:
        if not self.enabled:
            return None
        return self._update

    def _update(self, done: int, total: int) -> None:
        if self._bar is None:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, unit="chunk", desc="sweep", file=sys.stderr)
            except ImportError:
                self._bar = False
        if self._bar is False:
            sys.stderr.write(f"\r... chunk {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        else:
            self._bar.update(done - self._bar.n)

    def __exit__(self, *exc: object) -> None:
        if self._bar:
            self._bar.close()


def summary_text(result: SweepResult, summary: dict[str, Any], folder: Path) -> str:
    """The few lines ``backtest sweep`` prints."""
    from backtest.cli.summary import format_value

    best = summary["best"]
    period = summary["period"]
    skipped = summary["skipped"]
    lines = [
        f"{summary['name']}: {summary['sets_tried']} parameter sets"
        + (f" ({skipped} invalid combinations skipped)" if skipped else "")
        + f", {len(result.tickers)} tickers, {period['start']} to {period['end']} "
        f"({period['sessions']} sessions)",
        f"Best by {summary['objective']}: set {best['set']}: "
        + ", ".join(f"{k}={v}" for k, v in best["parameters"].items()),
        f"  Sharpe {format_value(best['figures']['sharpe'], 'ratio')} "
        f"(benchmark {format_value(best['figures']['benchmark_sharpe'], 'ratio')}), "
        f"total return {format_value(best['figures']['total_return'], 'pct')} "
        f"(benchmark {format_value(best['figures']['benchmark_total_return'], 'pct')})",
    ]
    guards = summary["guards"]
    dsr = guards.get("deflated_sharpe")
    pbo = guards.get("pbo")
    if dsr is not None or pbo is not None:
        lines.append(
            f"  Deflated Sharpe {format_value(dsr['dsr'] if dsr else None, 'ratio')} "
            f"({guards['n_trials']} trials); probability of backtest overfitting "
            f"{format_value(pbo['pbo'] if pbo else None, 'pct')}"
        )
    execution = summary["execution"]
    where = f"{execution['workers']} Dask workers" if execution["dask"] else "serial"
    lines.append(
        f"Wall time {summary['wall_time_s']:.1f} s ({where}, {execution['chunks']} chunks of "
        f"up to {execution['chunk_size']} sets)"
    )
    lines.append(f"\nSweep folder: {folder}")
    return "\n".join(lines)
