"""``backtest compare``: runs side by side on one self-contained page.

1. Read every run folder (report/html.read_run_folder: the same checks as the report).
2. Say what differs in the data (prices and headlines sha256, period, tickers) before anything
   else: numbers of runs on different data are compared only under that warning.
3. Lay out, against the first run: the equity curves overlaid (as growth of the starting cash;
   the benchmark once when every run shares it), the headline figures side by side with their
   differences, the configs as a diff (only the keys that differ), per-ticker P&L differences,
   the event studies overlaid, and the trades one run took and the other did not (first
   ``MAX_TRADES`` each way, with their headlines).
4. Render through the report's autoescaping environment; figure JSON is escaped for the script
   context. Nothing is recomputed that the run folders hold: figures come from stats.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analytics.events import event_study, has_measure
from backtest.analytics.stats import STAT_DEFINITIONS
from backtest.errors import InputError
from backtest.report import figures as fig
from backtest.report.html import (
    FIGURE_FORMATS,
    RunFolder,
    cell,
    environment,
    read_run_folder,
    script_json,
)

MAX_TRADES = 200
"""Trades listed per direction of each pairwise difference."""
COMPARE_FIGURES = (
    "total_return",
    "annual_return",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "hit_rate",
    "exposure",
    "turnover",
    "trades",
)
COLORS = ("#1f5fa8", "#c26a00", "#6a3d9a", "#1a7f37", "#c62828", "#5d6675")
TRADE_KEY = ["ticker", "side", "entry_time"]


@dataclass(frozen=True)
class ComparePage:
    """The page and the summary written beside it (compare.json)."""

    html: str
    summary: dict[str, Any]


def compare_runs(folders: Sequence[Path], *, command: str = "") -> ComparePage:
    """Read the run folders and render the comparison (module docstring)."""
    if len(folders) < 2:
        raise InputError("compare needs at least two run folders", hint="backtest compare A B")
    runs = [read_run_folder(Path(f)) for f in folders]
    labels = _labels(runs)
    warnings = data_differences(runs, labels)
    view = {
        "labels": labels,
        "run_folders": [(label, str(r.path)) for label, r in zip(labels, runs, strict=True)],
        "max_trades": MAX_TRADES,
        "warnings": warnings,
        "figures": figure_rows(runs),
        "config_diff": config_diff(runs),
        "per_ticker": per_ticker_rows(runs),
        "trade_diffs": trade_differences(runs, labels),
        "equity_figure": script_json(equity_figure(runs, labels)),
        "event_figure": script_json(event_figure(runs, labels)),
        "plot_config": script_json(fig.PLOT_CONFIG),
        "plotly_js_gz": fig.plotly_js_gzip_base64(),
    }
    html = environment().get_template("compare.html.j2").render(**view)
    summary = {
        "kind": "compare",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "runs": [
            {"label": label, "folder": str(r.path)} for label, r in zip(labels, runs, strict=True)
        ],
        "warnings": warnings,
        "config_diff": [{"key": d["key"], "values": d["raw"]} for d in view["config_diff"]],
    }
    return ComparePage(html=html, summary=summary)


def _labels(runs: Sequence[RunFolder]) -> list[str]:
    """Folder names, numbered when two runs share one."""
    names = [r.path.resolve().name for r in runs]
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


def data_differences(runs: Sequence[RunFolder], labels: Sequence[str]) -> list[str]:
    """One sentence per way a run's data differs from the first run's."""
    first = runs[0].stats
    out = []
    for label, run in zip(labels[1:], runs[1:], strict=True):
        stats = run.stats
        for name in ("prices", "headlines"):
            mine = ((stats.get("data") or {}).get(name) or {}).get("sha256")
            theirs = ((first.get("data") or {}).get(name) or {}).get("sha256")
            if mine != theirs:
                out.append(f"{label} read other {name} than {labels[0]} (sha256 differs).")
        period, base = stats.get("period") or {}, first.get("period") or {}
        if (period.get("start"), period.get("end")) != (base.get("start"), base.get("end")):
            out.append(
                f"{label} covers {period.get('start')} to {period.get('end')}, "
                f"{labels[0]} {base.get('start')} to {base.get('end')}."
            )
        if sorted(stats.get("tickers") or []) != sorted(first.get("tickers") or []):
            out.append(f"{label} trades other tickers than {labels[0]}.")
    return out


def figure_rows(runs: Sequence[RunFolder]) -> list[dict[str, Any]]:
    """Headline figures per run, and each later run's difference from the first."""
    rows = []
    for key in COMPARE_FIGURES:
        kind, signed = FIGURE_FORMATS.get(key, ("ratio", False))
        values = [(r.stats.get("stats") or {}).get("strategy", {}).get(key) for r in runs]
        differences = []
        for value in values[1:]:
            ok = all(isinstance(v, int | float) for v in (value, values[0]))
            differences.append(cell(value - values[0] if ok else None, kind, signed=True))
        rows.append(
            {
                "label": STAT_DEFINITIONS.get(key, (key, ""))[0],
                "values": [cell(v, kind, signed) for v in values],
                "differences": differences,
            }
        )
    benchmark = [(r.stats.get("stats") or {}).get("benchmark", {}).get("sharpe") for r in runs]
    rows.append(
        {
            "label": "Benchmark Sharpe",
            "values": [cell(v, "ratio", True) for v in benchmark],
            "differences": [cell(None, "ratio") for _ in benchmark[1:]],
        }
    )
    return rows


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, table in config.items():
        if isinstance(table, dict):
            for key, value in table.items():
                out[f"{section}.{key}"] = value
        else:
            out[section] = table
    return out


def config_diff(runs: Sequence[RunFolder]) -> list[dict[str, Any]]:
    """Only the config keys whose values differ between the runs, with every run's value."""
    flat = [_flatten(r.stats.get("config") or {}) for r in runs]
    keys = sorted(set().union(*flat))
    out = []
    for key in keys:
        values = [f.get(key, "(absent)") for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append(
                {
                    "key": key,
                    "values": [json.dumps(v, ensure_ascii=False) for v in values],
                    "raw": values,
                }
            )
    return out


def per_ticker_rows(runs: Sequence[RunFolder]) -> list[dict[str, Any]]:
    """Per-ticker P&L of every run, and each later run's difference from the first."""
    tables = [r.stats.get("per_ticker") or {} for r in runs]
    tickers = sorted(set().union(*tables))
    rows = []
    for ticker in tickers:
        pnl = [(t.get(ticker) or {}).get("pnl") for t in tables]
        rows.append(
            {
                "ticker": ticker,
                "values": [cell(v, "money", True) for v in pnl],
                "differences": [
                    cell(
                        v - pnl[0] if v is not None and pnl[0] is not None else None, "money", True
                    )
                    for v in pnl[1:]
                ],
            }
        )
    return rows


def trade_differences(runs: Sequence[RunFolder], labels: Sequence[str]) -> list[dict[str, Any]]:
    """For each later run: the trades it took that the first did not, and the other way."""
    out = []
    base = runs[0].trades
    for label, run in zip(labels[1:], runs[1:], strict=True):
        for name, mine, theirs, other in (
            (label, run.trades, base, labels[0]),
            (labels[0], base, run.trades, label),
        ):
            only = _only_in(mine, theirs)
            out.append(
                {
                    "title": f"Taken by {name}, not by {other}",
                    "count": len(only),
                    "rows": [
                        {
                            "ticker": str(t["ticker"]),
                            "side": str(t["side"]),
                            "entry": str(t["entry_time"]),
                            "exit": str(t["exit_time"]) if not pd.isna(t["exit_time"]) else "open",
                            "pnl": cell(t["pnl"], "money", True),
                            "headlines": [h for h in str(t["headlines"]).split(" || ") if h],
                        }
                        for _, t in only.head(MAX_TRADES).iterrows()
                    ],
                }
            )
    return out


def _only_in(mine: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    keys = set(map(tuple, theirs[TRADE_KEY].astype(str).to_numpy()))
    taken = np.array([tuple(k) not in keys for k in mine[TRADE_KEY].astype(str).to_numpy()])
    return mine.loc[taken] if len(mine) else mine


def equity_figure(runs: Sequence[RunFolder], labels: Sequence[str]) -> dict[str, Any]:
    """Every run's equity as growth of its starting cash; each distinct benchmark once."""
    data = []
    benchmarks = []
    for i, (label, run) in enumerate(zip(labels, runs, strict=True)):
        cash = float(
            ((run.stats.get("config") or {}).get("execution") or {}).get("initial_cash", 1)
        )
        dates = run.equity["date"].astype(str).tolist()
        color = COLORS[i % len(COLORS)]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": dates,
                "y": fig.rounded(run.equity["equity"].to_numpy(np.float64) / cash),
                "line": {"color": color, "width": 1.6},
            }
        )
        benchmarks.append(
            (label, dates, run.equity["benchmark"].to_numpy(np.float64) / cash, color)
        )
    groups: list[tuple[list[str], list[str], np.ndarray, str]] = []
    for label, dates, values, color in benchmarks:
        same = next(
            (g for g in groups if g[1] == dates and np.allclose(g[2], values, equal_nan=True)),
            None,
        )
        if same is None:
            groups.append(([label], dates, values, color))
        else:
            same[0].append(label)
    for members, dates, values, color in groups:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Benchmark" if len(groups) == 1 else f"Benchmark of {', '.join(members)}",
                "x": dates,
                "y": fig.rounded(values),
                "line": {
                    "color": "#9aa1ad" if len(groups) == 1 else color,
                    "width": 1,
                    "dash": "dot",
                },
            }
        )
    return {
        "data": data,
        "layout": fig.figure_layout(
            "Equity as growth of the starting cash",
            yaxis={"gridcolor": "#eceef1", "tickformat": ".2f"},
        ),
    }


def event_figure(runs: Sequence[RunFolder], labels: Sequence[str]) -> dict[str, Any]:
    """Every run's average bull and bear CAR (from the execution price where the folder has it)."""
    data = []
    for i, (label, run) in enumerate(zip(labels, runs, strict=True)):
        measure = "tradeable" if has_measure(run.returns, "tradeable") else "close_to_close"
        study = event_study(run.returns, run.headlines, measure=measure)
        for side, curve, dash in (("bull", study.bull, "solid"), ("bear", study.bear, "dash")):
            if curve is None:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{label}: {side} (n={curve.n_events})",
                    "x": curve.days,
                    "y": fig.rounded(curve.mean),
                    "line": {"color": COLORS[i % len(COLORS)], "width": 1.6, "dash": dash},
                    "marker": {"size": 3},
                }
            )
    return {
        "data": data,
        "layout": fig.figure_layout(
            "Average abnormal return around bull (solid) and bear (dashed) news",
            xaxis={"gridcolor": "#eceef1", "dtick": 1, "title": {"text": "sessions from event"}},
            yaxis={"gridcolor": "#eceef1", "tickformat": ".1%"},
        ),
    }


def write_compare_files(folder: Path, page: ComparePage) -> None:
    """A comparison folder: compare.html and compare.json."""
    (folder / "compare.html").write_text(page.html, encoding="utf-8", newline="\n")
    (folder / "compare.json").write_text(
        json.dumps(page.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
