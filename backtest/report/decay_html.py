"""A decay folder: decay.csv (one row per latency), decay.json and decay.html.

The page draws the mean trade return per latency with its 95% band (mean +- 1.96 standard
errors across trades) and the Sharpe beside it, marks where the edge halves, and lists the
table; one self-contained page (Jinja2 autoescape, plotly embedded like the run report).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from backtest.analytics.stats import Z_95
from backtest.outputs import json_safe, period_block
from backtest.report import figures as fig
from backtest.report.formatting import format_value
from backtest.report.html import environment, script_json
from backtest.report.run_folder import write_csv

if TYPE_CHECKING:
    from backtest.decay import DecayResult


@dataclass(frozen=True)
class DecayPage:
    table: pd.DataFrame
    summary: dict[str, Any]
    html: str


def decay_outputs(result: DecayResult, *, calendar: str, command: str) -> DecayPage:
    """The folder's table, summary and page."""
    summary = json_safe(
        {
            "kind": "decay",
            "name": result.config.name,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "period": period_block(result.dates, calendar),
            "tickers": list(result.tickers),
            "halves_at": result.halves_at,
            "points": [
                {
                    "latency": p.latency,
                    "trades": p.trades,
                    "mean_trade_return": p.mean_trade_return,
                    "trade_return_se": p.trade_return_se,
                    "hit_rate": p.hit_rate,
                    "sharpe": p.sharpe,
                    "total_return": p.total_return,
                }
                for p in result.points
            ],
            "config": result.config.to_dict(),
        }
    )
    view = {
        "name": result.config.name,
        "period": summary["period"],
        "halves_at": result.halves_at,
        "command": command,
        "rows": [
            {
                "latency": p.latency,
                "trades": f"{p.trades:,}",
                "mean": format_value(p.mean_trade_return, "pct"),
                "band": _band(p.mean_trade_return, p.trade_return_se),
                "hit_rate": format_value(p.hit_rate, "pct"),
                "sharpe": format_value(p.sharpe, "ratio"),
                "total_return": format_value(p.total_return, "pct"),
            }
            for p in result.points
        ],
        "decay_figure": script_json(fig.decay_figure(summary["points"], result.halves_at)),
        "plot_config": script_json(fig.PLOT_CONFIG),
        "plotly_js_gz": fig.plotly_js_gzip_base64(),
    }
    html = environment().get_template("decay.html.j2").render(**view)
    return DecayPage(table=result.table, summary=summary, html=html)


def _band(mean: float, se: float) -> str:
    if not (math.isfinite(mean) and math.isfinite(se)):
        return "–"
    return f"{format_value(mean - Z_95 * se, 'pct')} to {format_value(mean + Z_95 * se, 'pct')}"


def write_decay_files(folder: Path, page: DecayPage) -> None:
    """decay.csv, decay.json and decay.html."""
    write_csv(page.table, folder / "decay.csv")
    (folder / "decay.json").write_text(
        json.dumps(page.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "decay.html").write_text(page.html, encoding="utf-8", newline="\n")
