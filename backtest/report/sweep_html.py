"""A sweep's folder: sweep.csv (one row per set), sweep.json (summary, guards) and sweep.html.

1. ``sweep_outputs`` lays out the table (a ``set`` column, the grid keys, the figures) and the
   summary: sets tried, skipped combinations, the best set by the objective, its figures next
   to the benchmark's, the overfitting guards, the base config and where the data came from.
2. ``render_sweep_html`` draws, for every pair of grid keys with two or more values each, a
   heatmap of the best Sharpe over the other keys (max over them), the 20 best sets and the
   guards, as one self-contained page (Jinja2 autoescape; no script, no network).
3. ``write_sweep_files`` writes the three files through run_folder's atomic writer.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.outputs import json_safe, period_block
from backtest.report.run_folder import write_csv

if TYPE_CHECKING:
    from backtest.sweeps import SweepData, SweepResult

TOP_SETS = 20
HEATMAP_FIGURE = "sharpe"
SKIPPED_EXAMPLES = 5


@dataclass(frozen=True)
class SweepOutputs:
    """Everything a sweep folder holds, ready to be written."""

    table: pd.DataFrame
    summary: dict[str, Any]
    html: str


def sweep_outputs(
    data: SweepData,
    result: SweepResult,
    *,
    objective: str,
    command: str,
    started: float,
) -> SweepOutputs:
    """The sweep folder's table, summary and page (module docstring, steps 1-2).

    ``started`` is the epoch time the command started; the wall time runs to the end of the
    overfitting guards (all the computing), so it is what the user waited for the figures.
    """
    import time

    from backtest.sweeps import overfitting_guards

    best = result.best(objective)
    table = result.table.reset_index()
    dates = result.dates
    keys = list(result.grid)
    best_row = result.table.iloc[best]
    summary: dict[str, Any] = {
        "name": data.config.name,
        "created_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "command": command,
        "period": period_block(dates, data.panel.sessions.calendar),
        "tickers": list(result.tickers),
        "grid": {k: list(v) for k, v in result.grid.items()},
        "combinations": result.n_sets + len(result.skipped),
        "sets_tried": result.n_sets,
        "skipped": len(result.skipped),
        "skipped_examples": [
            {"parameters": s.values, "reason": s.reason} for s in result.skipped[:SKIPPED_EXAMPLES]
        ],
        "objective": objective,
        "best": {
            "set": best,
            "parameters": {k: json_safe(best_row[k]) for k in keys},
            "figures": {
                k: json_safe(best_row[k]) for k in result.table.columns if k not in result.grid
            },
        },
        "benchmark": result.benchmark,
        "guards": None,
        "config": data.config.to_dict(),
        "data": {"prices": data.prices_source, "headlines": data.headlines_source},
        "execution": {
            "dask": result.executor == "dask",
            "workers": result.n_workers,
            "chunk_size": result.chunk_size,
            "chunks": result.n_chunks,
        },
        "wall_time_s": None,
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
    }
    guards_started = time.perf_counter()
    summary["guards"] = overfitting_guards(result, best, objective)
    summary["timings_s"]["guards"] = round(time.perf_counter() - guards_started, 3)
    summary["wall_time_s"] = round(time.time() - started, 3)
    summary = json_safe(summary)
    return SweepOutputs(table=table, summary=summary, html=render_sweep_html(table, summary))


# Page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    """Best figure over the other keys for each (row value, column value) of two grid keys."""

    row_key: str
    column_key: str
    row_values: list[Any]
    column_values: list[Any]
    cells: list[list[float | None]]


def heatmaps(table: pd.DataFrame, keys: list[str], figure: str = HEATMAP_FIGURE) -> list[Heatmap]:
    """One heatmap per pair of keys with at least two values each (max over the others)."""
    varied = [k for k in keys if table[k].nunique() > 1]
    maps = []
    for row_key, column_key in itertools.combinations(varied, 2):
        pivot = table.pivot_table(
            index=row_key, columns=column_key, values=figure, aggfunc="max", dropna=False
        )
        maps.append(
            Heatmap(
                row_key=row_key,
                column_key=column_key,
                row_values=[json_safe(v) for v in pivot.index],
                column_values=[json_safe(v) for v in pivot.columns],
                cells=[[json_safe(v) for v in row] for row in pivot.to_numpy(np.float64)],
            )
        )
    return maps


def profile(table: pd.DataFrame, key: str, figure: str = HEATMAP_FIGURE) -> Heatmap:
    """A one-row heatmap of the best figure per value of a single varied key."""
    best = table.groupby(key, sort=True)[figure].max()
    return Heatmap(
        row_key=figure,
        column_key=key,
        row_values=[f"best {figure}"],
        column_values=[json_safe(v) for v in best.index],
        cells=[[json_safe(v) for v in best.to_numpy(np.float64)]],
    )


def cell_colour(value: float | None, scale: float) -> str:
    """Diverging colour: red below 0, green above, white at 0; grey when undefined."""
    if value is None or scale <= 0:
        return "#eeeeee"
    share = max(-1.0, min(1.0, value / scale))
    if share >= 0:
        r, g, b = (int(255 - share * (255 - c)) for c in (26, 152, 80))
    else:
        r, g, b = (int(255 + share * (255 - c)) for c in (215, 48, 39))
    return f"#{r:02x}{g:02x}{b:02x}"


def render_sweep_html(table: pd.DataFrame, summary: dict[str, Any]) -> str:
    """sweep.html from the table and the summary (module docstring, step 2)."""
    from backtest.report.formatting import format_value
    from backtest.report.html import environment

    keys = list(summary["grid"])
    varied = [k for k in keys if table[k].nunique() > 1]
    maps = heatmaps(table, keys)
    if not maps and varied:
        maps = [profile(table, varied[0])]
    finite = table[HEATMAP_FIGURE].to_numpy(np.float64)
    finite = finite[np.isfinite(finite)]
    scale = float(np.max(np.abs(finite))) if len(finite) else 0.0
    objective = summary["objective"]
    order = table[objective].rank(method="first", ascending=False, na_option="bottom")
    top = table.assign(_rank=order).sort_values("_rank").head(TOP_SETS)
    figure_columns = [
        ("total_return", "Total return", "pct"),
        ("annual_return", "Annual", "pct"),
        ("sharpe", "Sharpe", "ratio"),
        ("sortino", "Sortino", "ratio"),
        ("max_drawdown", "Max DD", "pct"),
        ("hit_rate", "Hit rate", "pct"),
        ("exposure", "Exposure", "pct"),
        ("turnover", "Turnover", "times"),
        ("trades", "Trades", "int"),
    ]
    top_rows = [
        {
            "set": int(row["set"]),
            "parameters": [row[k] for k in keys],
            "figures": [format_value(json_safe(row[c]), kind) for c, _, kind in figure_columns],
        }
        for _, row in top.iterrows()
    ]
    env = environment()
    env.globals.update(fmt=format_value, colour=lambda v: cell_colour(v, scale))
    return env.get_template("sweep.html.j2").render(
        summary=summary,
        keys=keys,
        heatmaps=maps,
        heatmap_figure=HEATMAP_FIGURE,
        top_rows=top_rows,
        figure_columns=figure_columns,
        guards=summary["guards"],
        best=summary["best"],
        benchmark=summary["benchmark"],
    )


# Folder -------------------------------------------------------------------------------------


def write_sweep_files(folder: Path, outputs: SweepOutputs) -> None:
    """A sweep folder's three files: sweep.csv, sweep.json and sweep.html."""
    write_csv(outputs.table, folder / "sweep.csv")
    (folder / "sweep.json").write_text(
        json.dumps(outputs.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "sweep.html").write_text(outputs.html, encoding="utf-8")
