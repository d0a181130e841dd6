"""``backtest decay``: the strategy at several latencies, and where its edge halves."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from backtest.cli.app import app, published
from backtest.cli.options import DataOptions, DebugOpt, ForceOpt, ReportsDirOpt, with_data_options
from backtest.config import REPORTS_DIR

LATENCIES_HELP = (
    "Comma-separated latencies: durations (0s, 1min, 15min, 1h) or next_open / next_close."
)


@app.command("decay")
@with_data_options
def decay_command(
    data: DataOptions,
    latencies: Annotated[
        str, typer.Option("--latencies", help=LATENCIES_HELP)
    ] = "0s,1min,5min,15min,1h,next_open",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the decay folder exactly here.")
    ] = None,
    force: ForceOpt = False,
    reports_dir: ReportsDirOpt = REPORTS_DIR,
    debug: DebugOpt = False,
) -> None:
    """Run the strategy at each latency (prepared once) and write decay.csv and decay.html."""
    from backtest.decay import decay, parse_latencies
    from backtest.market import prepare
    from backtest.report.decay_html import decay_outputs, write_decay_files
    from backtest.report.index import update_index_for
    from backtest.report.run_folder import RunFolderWriter

    labels = parse_latencies(latencies)
    config = data.config()
    writer = RunFolderWriter.prepare(
        f"{config.name}-decay", out_dir=out, reports_dir=reports_dir, force=force, kind="decay"
    )
    market = prepare(config)
    result = decay(market, config, labels)
    page = decay_outputs(
        result,
        calendar=market.panel.sessions.calendar,
        command=shlex.join(["backtest", *sys.argv[1:]]),
    )
    folder = published(writer.commit_with(lambda staging: write_decay_files(staging, page)))
    update_index_for(folder, reports_dir)
    typer.echo(result.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if result.halves_at:
        typer.echo(f"\nThe edge halves at {result.halves_at}.")
    typer.echo(f"\nDecay folder: {folder}")
