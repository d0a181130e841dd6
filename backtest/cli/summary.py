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
    lines.extend(luck_lines(stats))
    return "\n".join(lines)


def luck_lines(stats: dict[str, Any]) -> list[str]:
    """Where the Sharpe falls among random timings and its bootstrap interval (stats.json's
    ``baselines``), one line each; nothing when a baseline is off or absent."""
    block = stats.get("baselines") or {}
    timing, boot = block.get("random_timing") or {}, block.get("bootstrap") or {}
    lines = []
    if timing.get("runs") and timing.get("percentile") is not None:
        lines.append(
            f"Luck: the Sharpe ranks at percentile {timing['percentile']:.1f} of "
            f"{timing['runs']} random timings (their 5-95%: "
            f"{format_value(timing.get('p5'), 'ratio')} to "
            f"{format_value(timing.get('p95'), 'ratio')})"
        )
    if boot.get("runs") and boot.get("sharpe_low") is not None:
        lines.append(
            f"Bootstrap 95%: Sharpe {format_value(boot['sharpe_low'], 'ratio')} to "
            f"{format_value(boot.get('sharpe_high'), 'ratio')}; minus the benchmark's "
            f"{format_value(boot.get('excess_low'), 'ratio')} to "
            f"{format_value(boot.get('excess_high'), 'ratio')}"
        )
    return [""] + lines if lines else []
