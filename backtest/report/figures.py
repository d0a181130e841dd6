"""Plotly figures for the report, as plain JSON-ready dicts ({"data": [...], "layout": {...}}).

Figures are built as dicts rather than plotly.graph_objects so the embedded JSON stays small:
floats are rounded to 6 significant digits and dates are ISO strings. plotly.js itself is
embedded once per page by the template (see ``plotly_js``); nothing here touches the network.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analytics import stats
from backtest.analytics.events import EventStudy, InformationCoefficient
from backtest.paths import cache_subdir

ROLLING_SHARPE_SESSIONS = 63
STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#8a8f98"
GREEN = "#1a7f37"
RED = "#c62828"
LABEL_COLORS = {"bull": "#2e9d57", "neutral": "#d9b43c", "bear": "#d0453a"}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "toImage"],
}

Figure = dict[str, Any]


def rounded(values: Iterable[float], digits: int = 6) -> list[float | None]:
    """Floats rounded to ``digits`` significant digits; NaN and infinities become None (gaps)."""
    out: list[float | None] = []
    for v in values:
        f = float(v)
        out.append(float(f"{f:.{digits}g}") if math.isfinite(f) else None)
    return out


def figure_json(figure: Figure) -> str:
    """Compact JSON safe to place inside a <script> element (no '<', '>' or '&' characters)."""
    text = json.dumps(figure, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (offline, embedded once per page)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@lru_cache(maxsize=1)
def plotly_js_gzip_base64() -> str:
    """plotly.js gzipped (mtime 0, so the bytes never change) and base64-encoded: ~2.0 MB
    instead of ~4.8 MB. The page inflates it with the browser's DecompressionStream.

    Compressing takes ~0.25 s, so the result is kept in the report cache folder under the
    sha256 of the bundle (a new plotly version gets a new file) and read back in later
    processes; without a writable cache folder it is computed every time.
    """
    bundle = plotly_js().encode("utf-8")
    digest = hashlib.sha256(bundle).hexdigest()[:32]
    cached = cache_subdir("report") / f"plotly-{digest}.js.gz.b64"
    try:
        return cached.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        pass
    packed = gzip.compress(bundle, compresslevel=9, mtime=0)
    text = base64.b64encode(packed).decode("ascii")
    _write_atomically(cached, text)
    return text


def _write_atomically(path: Path, text: str) -> None:
    """Best effort: a cache file appears complete or not at all (and not when unwritable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(text)
        os.replace(name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)


def figure_layout(title: str, **extra: Any) -> dict[str, Any]:
    """The layout every figure of the pages shares: title, size, fonts, grid, legend."""
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": 340,
        "margin": {"l": 60, "r": 20, "t": 48, "b": 40},
        "font": {"family": "-apple-system, Segoe UI, Helvetica, Arial, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
        "xaxis": {"gridcolor": "#eceef1", "zeroline": False},
        "yaxis": {"gridcolor": "#eceef1", "zerolinecolor": "#b9bec6"},
    }
    layout.update(extra)
    return layout


def _curve(dates: Sequence[str], values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.DatetimeIndex(list(dates)))


def drawdown_path(dates: Sequence[str], values: np.ndarray) -> np.ndarray:
    """Fraction below the running peak per session (stats.drawdown_series)."""
    return stats.drawdown_series(_curve(dates, values)).to_numpy()


def rolling_sharpe_path(
    dates: Sequence[str], values: np.ndarray, window: int = ROLLING_SHARPE_SESSIONS
) -> np.ndarray:
    """Trailing-window annualised Sharpe per session (stats.rolling_sharpe of daily returns)."""
    curve = _curve(dates, values)
    rolling = stats.rolling_sharpe(stats.daily_returns(curve), window_sessions=window)
    return rolling.reindex(curve.index).to_numpy()


def equity_figure(dates: Sequence[str], equity: np.ndarray, benchmark: np.ndarray) -> Figure:
    """Equity against the benchmark, with a linear/log toggle."""
    buttons = [
        {"label": "Linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
        {"label": "Log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
    ]
    return {
        "data": [
            _line("Strategy", dates, equity, STRATEGY_COLOR),
            _line("Benchmark", dates, benchmark, BENCHMARK_COLOR),
        ],
        "layout": figure_layout(
            "Equity vs benchmark",
            yaxis={"gridcolor": "#eceef1", "tickformat": ",.0f", "type": "linear"},
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "right",
                    "buttons": buttons,
                    "x": 0,
                    "xanchor": "left",
                    "y": 1.12,
                    "yanchor": "bottom",
                    "pad": {"l": 200},
                    "showactive": True,
                }
            ],
        ),
    }


def _line(name: str, x: Sequence[Any], y: Iterable[float], color: str, **extra: Any) -> dict:
    trace = {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": list(x),
        "y": rounded(y),
        "line": {"color": color, "width": 1.6},
    }
    trace.update(extra)
    return trace


def drawdown_figure(dates: Sequence[str], equity: np.ndarray, benchmark: np.ndarray) -> Figure:
    """Drawdown of the strategy (filled) and of the benchmark (line), in percent."""
    return {
        "data": [
            _line(
                "Strategy",
                dates,
                drawdown_path(dates, equity),
                STRATEGY_COLOR,
                fill="tozeroy",
                fillcolor="rgba(31,95,168,0.15)",
            ),
            _line("Benchmark", dates, drawdown_path(dates, benchmark), BENCHMARK_COLOR),
        ],
        "layout": figure_layout("Drawdown", yaxis={"gridcolor": "#eceef1", "tickformat": ".0%"}),
    }


def monthly_heatmap_figure(dates: Sequence[str], equity: np.ndarray) -> Figure:
    """Monthly returns as a years x months heatmap, with the year's compounded return last."""
    monthly = stats.monthly_returns(_curve(dates, equity))
    years = sorted({m[:4] for m in monthly.index})
    z = [[None] * 13 for _ in years]
    text = [[""] * 13 for _ in years]
    for month, value in monthly.dropna().items():
        row, col = years.index(month[:4]), int(month[5:7]) - 1
        z[row][col] = rounded([value])[0]
        text[row][col] = f"{value * 100:.1f}%"
    for row, year in enumerate(years):
        in_year = monthly[monthly.index.str.startswith(year)].dropna()
        total = float(np.prod(1.0 + in_year.to_numpy()) - 1.0)
        z[row][12] = rounded([total])[0]
        text[row][12] = f"{total * 100:.1f}%"
    limit = max((abs(v) for r in z for v in r[:12] if v is not None), default=0.01) or 0.01
    return {
        "data": [
            {
                "type": "heatmap",
                "x": MONTHS + ["Year"],
                "y": years,
                "z": z,
                "text": text,
                "texttemplate": "%{text}",
                "hovertemplate": "%{y} %{x}: %{text}<extra></extra>",
                "colorscale": [[0.0, RED], [0.5, "#ffffff"], [1.0, GREEN]],
                "zmin": -limit,
                "zmax": limit,
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
            }
        ],
        "layout": figure_layout(
            "Monthly returns (strategy)",
            height=max(180, 60 + 36 * len(years)),
            hovermode="closest",
            xaxis={"side": "top", "showgrid": False},
            yaxis={"autorange": "reversed", "type": "category", "showgrid": False},
            margin={"l": 60, "r": 20, "t": 64, "b": 16},
        ),
    }


def rolling_sharpe_figure(
    dates: Sequence[str], equity: np.ndarray, benchmark: np.ndarray
) -> Figure:
    """Trailing 63-session annualised Sharpe of the strategy and of the benchmark."""
    return {
        "data": [
            _line("Strategy", dates, rolling_sharpe_path(dates, equity), STRATEGY_COLOR),
            _line("Benchmark", dates, rolling_sharpe_path(dates, benchmark), BENCHMARK_COLOR),
        ],
        "layout": figure_layout(
            f"Rolling Sharpe ({ROLLING_SHARPE_SESSIONS} sessions, annualised)",
            yaxis={"gridcolor": "#eceef1", "tickformat": ".1f"},
        ),
    }


def contribution_figure(tickers: Sequence[str], pnl: Sequence[float]) -> Figure:
    """Profit and loss per ticker, largest first, green for gains and red for losses."""
    order = sorted(range(len(tickers)), key=lambda i: -float(pnl[i]))
    values = [float(pnl[i]) for i in order]
    return {
        "data": [
            {
                "type": "bar",
                "x": [tickers[i] for i in order],
                "y": rounded(values),
                "marker": {"color": [GREEN if v >= 0 else RED for v in values]},
                "hovertemplate": "%{x}: %{y:,.2f}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            "Contribution per ticker (P&L)",
            hovermode="closest",
            xaxis={"type": "category", "tickangle": -45 if len(tickers) > 12 else 0},
            yaxis={"gridcolor": "#eceef1", "tickformat": ",.0f"},
        ),
    }


def monthly_label_counts(date: pd.Series, label: pd.Series) -> pd.DataFrame:
    """``pd.crosstab(date.str.slice(0, 7), label)``: readings per month (rows, sorted) and label
    (columns, sorted), rows without a date or label left out. Counted from the distinct dates'
    months, so a year of minute bars for 500 tickers slices 98k texts, not 49 M."""
    date_code, dates = pd.factorize(date)
    month_of_date, months = pd.factorize(pd.Index(dates).str.slice(0, 7), sort=True)
    label_code, labels = pd.factorize(label, sort=True)
    known = (date_code >= 0) & (label_code >= 0)
    cell = month_of_date[date_code[known]] * len(labels) + label_code[known]
    counts = np.bincount(cell, minlength=len(months) * len(labels))
    table = pd.DataFrame(
        counts.reshape(len(months), len(labels)),
        index=pd.Index(months, name=date.name),
        columns=pd.Index(labels, name=label.name),
    )
    return table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]


def label_share_figure(signals: pd.DataFrame) -> Figure:
    """Share of (session, ticker) readings labelled bull / neutral / bear, per month, stacked."""
    counts = monthly_label_counts(signals["date"], signals["label"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    data = []
    for label in ("bull", "neutral", "bear"):
        values = shares[label] if label in shares.columns else pd.Series(0.0, index=shares.index)
        data.append(
            {
                "type": "bar",
                "name": label,
                "x": list(shares.index),
                "y": rounded(values),
                "marker": {"color": LABEL_COLORS[label]},
                "hovertemplate": "%{x} " + label + ": %{y:.1%}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": figure_layout(
            "Label distribution per month",
            barmode="stack",
            legend={
                "orientation": "h",
                "x": 1,
                "xanchor": "right",
                "y": 1.12,
                "traceorder": "normal",
            },
            bargap=0.1,
            xaxis={"type": "category"},
            yaxis={"gridcolor": "#eceef1", "tickformat": ".0%", "range": [0, 1]},
        ),
    }


def event_study_figure(study: EventStudy, classic: EventStudy | None = None) -> Figure:
    """Average CAR around bull and bear news with 95% bands; event counts in the legend.

    ``study`` is drawn solid from day 0 (measured from the execution price when ``classic`` is
    given, its days before 0 dashed in a shaded "before you could trade" span); ``classic``, the
    close-to-close CAR papers report, is drawn dotted beside it without a band.
    """
    data: list[dict[str, Any]] = []
    tradeable = classic is not None and classic is not study
    for name, curve, color, fill, other in (
        ("Bull news", study.bull, GREEN, "rgba(26,127,55,0.15)", classic and classic.bull),
        ("Bear news", study.bear, RED, "rgba(198,40,40,0.15)", classic and classic.bear),
    ):
        if curve is None:
            continue
        label = f"{name} (n={curve.n_events})"
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": curve.days,
                "y": rounded(curve.upper),
                "line": {"width": 0},
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": name,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": curve.days,
                "y": rounded(curve.lower),
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": fill,
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": name,
            }
        )
        days = np.asarray(curve.days)
        mean = np.asarray(curve.mean, dtype=np.float64)
        segments = [(days >= 0, label, "solid", True)]
        if tradeable:
            segments.append((days <= 0, f"{name}: before you could trade", "dash", False))
        else:
            segments = [(days == days, label, "solid", True)]
        for keep, text, dash, legend in segments:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": text,
                    "x": days[keep].tolist(),
                    "y": rounded(mean[keep]),
                    "line": {"color": color, "width": 2, "dash": dash},
                    "marker": {"size": 4},
                    "legendgroup": name,
                    "showlegend": legend or tradeable,
                    "hovertemplate": "day %{x}: %{y:.2%}<extra>" + text + "</extra>",
                }
            )
        if tradeable and other is not None:
            text = f"{name}, close to close"
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": text,
                    "x": other.days,
                    "y": rounded(other.mean),
                    "line": {"color": color, "width": 1, "dash": "dot"},
                    "legendgroup": name,
                    "hovertemplate": "day %{x}: %{y:.2%}<extra>" + text + "</extra>",
                }
            )
    shapes: list[dict[str, Any]] = [
        {
            "type": "line",
            "x0": 0,
            "x1": 0,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": "#6b7280", "dash": "dot", "width": 1},
        }
    ]
    annotations: list[dict[str, Any]] = []
    if tradeable:
        first = min(c.days[0] for c in (study.bull, study.bear) if c is not None)
        shapes.append(
            {
                "type": "rect",
                "x0": first - 0.5,
                "x1": 0,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(107,114,128,0.08)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "x": first - 0.4,
                "xanchor": "left",
                "yref": "paper",
                "y": 1.0,
                "yanchor": "top",
                "text": "before you could trade",
                "showarrow": False,
                "font": {"color": "#6b7280", "size": 11},
            }
        )
    title = (
        "Average abnormal return from the execution price around news (95% band)"
        if tradeable
        else "Average cumulative abnormal return around news (95% band)"
    )
    return {
        "data": data,
        "layout": figure_layout(
            title,
            hovermode="closest",
            xaxis={"gridcolor": "#eceef1", "dtick": 1, "title": {"text": "sessions from event"}},
            yaxis={"gridcolor": "#eceef1", "tickformat": ".1%"},
            shapes=shapes,
            annotations=annotations,
        ),
    }


def ic_figure(ic: InformationCoefficient) -> Figure:
    """Mean daily information coefficient per month, green above zero and red below."""
    return {
        "data": [
            {
                "type": "bar",
                "x": ic.months,
                "y": rounded(ic.monthly_mean),
                "customdata": ic.monthly_sessions,
                "marker": {"color": [GREEN if v >= 0 else RED for v in ic.monthly_mean]},
                "hovertemplate": "%{x}: IC %{y:.3f} over %{customdata} sessions<extra></extra>",
            }
        ],
        "layout": figure_layout(
            "Information coefficient per month (Spearman, composite vs the return it earns)",
            hovermode="closest",
            xaxis={"type": "category"},
            yaxis={"gridcolor": "#eceef1", "tickformat": ".2f"},
        ),
    }


def link_network_figure(links: Sequence[dict[str, Any]]) -> Figure:
    """The strongest co-mention links as a network: tickers on a circle, one line per pair,
    wider for more stories naming both."""
    names = sorted({str(r["ticker"]) for r in links} | {str(r["peer"]) for r in links})
    angle = {n: 2 * np.pi * i / max(1, len(names)) for i, n in enumerate(names)}
    spot = {n: (float(np.cos(a)), float(np.sin(a))) for n, a in angle.items()}
    most = max((int(r["stories"]) for r in links), default=1)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [spot[str(r["ticker"])][0], spot[str(r["peer"])][0]],
            "y": [spot[str(r["ticker"])][1], spot[str(r["peer"])][1]],
            "line": {"color": STRATEGY_COLOR, "width": 1 + 7 * int(r["stories"]) / most},
            "opacity": 0.6,
            "hoverinfo": "text",
            "text": f"{r['ticker']} & {r['peer']}: {int(r['stories']):,} stories",
            "showlegend": False,
        }
        for r in links
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "markers+text",
            "x": [spot[n][0] for n in names],
            "y": [spot[n][1] for n in names],
            "text": names,
            "textposition": "top center",
            "marker": {"size": 10, "color": BENCHMARK_COLOR},
            "hoverinfo": "text",
            "showlegend": False,
        }
    )
    hidden = {"visible": False, "range": [-1.3, 1.3]}
    return {
        "data": data,
        "layout": figure_layout(
            "Strongest co-mention links", hovermode="closest", xaxis=hidden, yaxis=hidden
        ),
    }


def decay_figure(points: Sequence[dict[str, Any]], halves_at: str | None) -> Figure:
    """Mean trade return per latency with its 95% band, the Sharpe on a second axis, and a
    dashed line where the edge halves (``points``: decay.json's points)."""
    labels = [str(p["latency"]) for p in points]

    def number(value: Any) -> float:
        return math.nan if value is None else float(value)

    bands = [stats.Z_95 * number(p["trade_return_se"]) for p in points]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "mean trade return",
            "x": labels,
            "y": rounded([number(p["mean_trade_return"]) for p in points], 8),
            "error_y": {"type": "data", "array": rounded(bands, 8), "visible": True},
            "line": {"color": STRATEGY_COLOR},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Sharpe",
            "x": labels,
            "y": rounded([number(p["sharpe"]) for p in points], 4),
            "yaxis": "y2",
            "line": {"color": BENCHMARK_COLOR, "dash": "dot"},
        },
    ]
    shapes = []
    if halves_at is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": halves_at,
                "x1": halves_at,
                "y0": 0,
                "y1": 1,
                "line": {"color": RED, "dash": "dash"},
            }
        )
    return {
        "data": data,
        "layout": figure_layout(
            "Edge by latency: mean trade return (95% band) and Sharpe",
            hovermode="x unified",
            xaxis={"type": "category", "title": {"text": "latency"}},
            yaxis={"gridcolor": "#eceef1", "tickformat": ".2%"},
            yaxis2={"overlaying": "y", "side": "right", "title": {"text": "Sharpe"}},
            shapes=shapes,
        ),
    }
