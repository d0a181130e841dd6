"""The report's research tables, formatted straight from stats.json: luck baselines (rows of
the headline table), quantile returns and IC decay, and the portfolio's legs.

Nothing is computed here; run folders written before a block existed show nothing for it.
"""

from __future__ import annotations

from typing import Any

from backtest.report.formatting import DASH, format_value, is_missing


def _interval(low: Any, high: Any) -> str:
    """'[-1.23, 0.45]' or a dash."""
    if is_missing(low) or is_missing(high):
        return DASH
    return f"[{format_value(low, 'ratio')}, {format_value(high, 'ratio')}]"


def _row(key: str, label: str, definition: str, strategy: str, benchmark: str) -> dict[str, Any]:
    """One headline-table row in html.headline_rows' shape (cells with text and css)."""

    def as_cell(text: str) -> dict[str, str]:
        return {"text": text, "css": "na" if text == DASH else ""}

    return {
        "key": key,
        "label": label,
        "definition": definition,
        "strategy": as_cell(strategy),
        "benchmark": as_cell(benchmark),
    }


def baseline_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline table's luck rows: random-timing percentile and band, bootstrap intervals."""
    block = stats.get("baselines") or {}
    rows: list[dict[str, Any]] = []
    timing = block.get("random_timing") or {}
    if timing.get("runs"):
        percentile = timing.get("percentile")
        rows.append(
            _row(
                "random_timing_percentile",
                "Sharpe percentile vs random timing",
                "where the strategy's Sharpe "
                f"({format_value(timing.get('strategy_sharpe'), 'ratio')} under the baseline's "
                f"sleeve accounting) falls among {timing['runs']} strategies "
                "holding each ticker's same holding periods in a random order",
                DASH if is_missing(percentile) else f"{float(percentile):.1f}",
                DASH,
            )
        )
        rows.append(
            _row(
                "random_timing_band",
                "Random-timing Sharpe 5-95%",
                "5% and 95% quantiles of the random-timing strategies' Sharpe ratios "
                f"(median {format_value(timing.get('p50'), 'ratio')})",
                _interval(timing.get("p5"), timing.get("p95")),
                DASH,
            )
        )
    boot = block.get("bootstrap") or {}
    if boot.get("runs"):
        rows.append(
            _row(
                "bootstrap_sharpe",
                "Sharpe 95% interval",
                f"stationary block bootstrap of the daily returns, {boot['runs']} resamples, "
                f"mean block {format_value(boot.get('block_sessions'), 'float1')} sessions",
                _interval(boot.get("sharpe_low"), boot.get("sharpe_high")),
                _interval(boot.get("benchmark_sharpe_low"), boot.get("benchmark_sharpe_high")),
            )
        )
        rows.append(
            _row(
                "bootstrap_excess_sharpe",
                "Sharpe minus benchmark's, 95%",
                "the same resamples, strategy and benchmark on the same sessions",
                _interval(boot.get("excess_low"), boot.get("excess_high")),
                DASH,
            )
        )
    return rows


def factor_view(stats: dict[str, Any]) -> dict[str, Any] | None:
    """Quantile returns (bottom quintile first) and IC decay, formatted; None for run folders
    written before the blocks existed."""
    quantiles = stats.get("quantile_returns")
    decay = stats.get("ic_decay")
    if not quantiles or not decay:
        return None
    return {
        "sessions": format_value(quantiles.get("sessions"), "int"),
        "quantiles": [
            {
                "quantile": f"Q{j + 1}",
                "mean_return": format_value(mean, "pct3"),
                "names": format_value(names, "float1"),
            }
            for j, (mean, names) in enumerate(
                zip(quantiles["mean_return"], quantiles["mean_names"], strict=True)
            )
        ],
        "spread": format_value(quantiles.get("spread_mean"), "pct3"),
        "spread_t": format_value(quantiles.get("spread_t_stat"), "ratio"),
        "decay": [
            {
                "horizon": int(h),
                "mean": format_value(mean, "ratio3"),
                "t": format_value(t, "ratio"),
                "sessions": format_value(n, "int"),
            }
            for h, mean, t, n in zip(
                decay["horizons"], decay["mean"], decay["t_stat"], decay["sessions"], strict=True
            )
        ],
    }


PORTFOLIO_LEGS = (
    ("long_leg", "Long leg", "the names held long, weighted as held"),
    ("short_leg", "Short leg", "the names held short, their own return (up hurts the book)"),
    ("spread", "Spread", "long leg minus short leg"),
)


def portfolio_view(stats: dict[str, Any]) -> dict[str, Any] | None:
    """The book's construction, legs (return, annual return, Sharpe; before costs), exposures
    and turnover, formatted; None for run folders written before the block existed."""
    block = stats.get("portfolio")
    if not block:
        return None
    settings = (stats.get("config") or {}).get("portfolio") or {}
    return {
        "construction": str(block.get("construction", "sleeves")),
        "settings": [(str(k), str(v)) for k, v in settings.items()],
        "legs": [
            {
                "key": key,
                "label": label,
                "definition": definition,
                "total_return": format_value((block.get(key) or {}).get("total_return"), "pct"),
                "annual_return": format_value((block.get(key) or {}).get("annual_return"), "pct"),
                "sharpe": format_value((block.get(key) or {}).get("sharpe"), "ratio"),
            }
            for key, label, definition in PORTFOLIO_LEGS
        ],
        "gross": format_value(block.get("gross_exposure"), "pct"),
        "net": format_value(block.get("net_exposure"), "pct"),
        "names_long": format_value(block.get("names_long"), "float1"),
        "names_short": format_value(block.get("names_short"), "float1"),
        "turnover": format_value(block.get("turnover"), "times"),
    }
