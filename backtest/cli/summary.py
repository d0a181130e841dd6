"""The short strategy-vs-benchmark table ``backtest run`` prints."""

from __future__ import annotations

from typing import Any

from backtest.report.formatting import format_value

ROWS: tuple[tuple[str, str, str], ...] = (
    ("Total return", "total_return", "pct"),
    ("Annual return", "annual_return", "pct"),
    ("Volatility", "volatility", "pct"),
    ("Sharpe", "sharpe", "ratio"),
    ("Sortino", "sortino", "ratio"),
    ("Max drawdown", "max_drawdown", "pct"),
    ("Hit rate", "hit_rate", "pct"),
    ("Exposure", "exposure", "pct"),
    ("Trades", "trades", "int"),
)


def summary_table(stats: dict[str, Any]) -> str:
    """Plain-text table of the headline figures, strategy next to benchmark."""
    strategy = stats["stats"]["strategy"]
    benchmark = stats["stats"]["benchmark"]
    period = stats["period"]
    lines = [
        f"{stats['name']}: {len(stats['tickers'])} tickers, {period['start']} to {period['end']} "
        f"({period['sessions']} sessions, {period['calendar']})",
        "",
        f"{'':<14}{'Strategy':>12}{'Benchmark':>12}",
    ]
    for title, key, kind in ROWS:
        lines.append(
            f"{title:<14}{format_value(strategy.get(key), kind):>12}"
            f"{format_value(benchmark.get(key), kind):>12}"
        )
    return "\n".join(lines)
