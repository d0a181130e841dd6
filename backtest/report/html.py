"""Render report.html from a run folder's files (and nothing else).

Steps:
1. Read the run folder (stats.json, config.toml, equity/trades/signals/headlines/returns CSVs);
   a missing or malformed file raises InputError naming it. Right after ``backtest run`` wrote
   the folder, ``in_memory_run_folder`` hands over the tables it just wrote instead, each
   exactly as reading its CSV back would give it (a table that could read back differently is
   read from the file), so the page is the one ``backtest report RUN_DIR`` renders.
2. Build the view model: headline figures formatted from stats.json (never recomputed), the
   figures (report/figures.py), the event study and IC (report/events.py), the trades and
   per-ticker tables, the reproducibility block.
3. Render the Jinja2 template with autoescape on. Data text is never marked safe; figure JSON
   goes into <script type="application/json"> with '<', '>' and '&' escaped as \\u003c etc.
4. Write report.html atomically (temporary file, then rename). Same folder, same bytes.

The page embeds plotly.js once, inline, so it opens offline. A tiny window.onerror handler in
the page lists any JavaScript error in a visible #js-errors box (hidden when there is none); the
browser test reads that box from the DOM.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
)
from markupsafe import Markup, escape

from backtest.analytics.events import (
    MEASURES,
    Z_BAND,
    cross_sectional_ic,
    event_study,
    has_measure,
)
from backtest.analytics.stats import STAT_DEFINITIONS
from backtest.errors import InputError
from backtest.paths import cache_subdir
from backtest.report import figures as fig
from backtest.report.formatting import DASH, format_value, is_missing
from backtest.report.research_view import baseline_rows, factor_view, portfolio_view
from backtest.scoring import TrainingWindow, read_training_window

TEMPLATES = Path(__file__).parent / "templates"
MEASURE_LABELS = {"tradeable": "from the execution price", "close_to_close": "close to close"}
TOP_TRADES = 50
"""Best and worst trades by P&L shown by default; the rest are one click (or a filter) away."""
MAX_TRADES_IN_PAGE = 5_000
"""Above this many trades the page keeps the best and worst halves; trades.csv has them all
(a 500-ticker, ten-year run has ~160k trades: 60 MB of HTML otherwise)."""
TOP_LEARNED_TERMS = 15
"""Strongest words per side shown for a run's learned lexicon."""
TOP_WINDOW_TERMS = 10
"""Strongest words per side shown for each walk-forward window's relearned lexicon."""
WALKFORWARD_FILE = "walkforward.csv"
WINDOW_COLUMNS = (
    "window",
    "is_start",
    "is_end",
    "oos_start",
    "oos_end",
    "is_sessions",
    "oos_sessions",
    "set",
    "oos_sharpe",
    "oos_return",
)
"""walkforward.csv's fixed columns; the others are the chosen parameters and is_<objective>."""
HEADLINE_SEPARATOR = " || "

TEXT_COLUMNS = {
    "equity.csv": ["date"],
    "trades.csv": [
        "ticker",
        "side",
        "entry_time",
        "exit_time",
        "status",
        "exit_reason",
        "headlines",
    ],
    "signals.csv": ["date", "ticker", "label"],
    "headlines.csv": ["published_at", "session", "ticker", "label", "headline", "source", "url"],
    "returns.csv": ["date", "ticker"],
}
REQUIRED_COLUMNS = {
    "equity.csv": ["date", "equity", "benchmark"],
    "trades.csv": [
        "ticker",
        "side",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "size",
        "pnl",
        "return",
        "status",
        "n_headlines",
        "headlines",
    ],
    "signals.csv": ["date", "ticker", "composite", "label", "position"],
    "headlines.csv": ["session", "ticker", "score", "headline"],
    "returns.csv": ["date", "ticker", "return"],
}

# How each stats.json figure is shown: (kind, signed). kind picks the format; signed colours
# the value green or red. Labels and definitions come from stats.STAT_DEFINITIONS, so stats.json
# and the page name and define every figure the same way.
FIGURE_FORMATS: dict[str, tuple[str, bool]] = {
    "total_return": ("pct", True),
    "annual_return": ("pct", True),
    "volatility": ("pct", False),
    "sharpe": ("ratio", True),
    "sortino": ("ratio", True),
    "calmar": ("ratio", True),
    "max_drawdown": ("pct", True),
    "max_drawdown_start": ("date", False),
    "max_drawdown_trough": ("date", False),
    "max_drawdown_end": ("date", False),
    "hit_rate": ("pct", False),
    "profit_factor": ("ratio", False),
    "exposure": ("pct", False),
    "turnover": ("times", False),
    "trades": ("int", False),
    "avg_holding_sessions": ("float1", False),
}


@dataclass(frozen=True)
class RunFolder:
    """The files of one run folder, read and checked."""

    path: Path
    stats: dict[str, Any]
    config_toml: str
    equity: pd.DataFrame
    trades: pd.DataFrame
    signals: pd.DataFrame
    headlines: pd.DataFrame
    returns: pd.DataFrame
    walkforward: pd.DataFrame | None = None
    """walkforward.csv when the run is a walk-forward's stitched out-of-sample run."""
    lexicons: dict[str, LexiconFile] = field(default_factory=dict)
    """Lexicon files copied into the run folder (lexicon.csv, lexicons/window-NN.csv) by name."""


@dataclass(frozen=True)
class LexiconFile:
    """A lexicon CSV of the run folder: its terms and, when learned, its training window."""

    terms: tuple[str, ...]
    weights: tuple[float, ...]
    training: TrainingWindow | None

    def top(self, n: int, side: int) -> list[tuple[str, float]]:
        """The ``n`` strongest terms of one side (+1 / -1), strongest first, ties by term."""
        chosen = [(t, w) for t, w in zip(self.terms, self.weights, strict=True) if w * side > 0]
        return sorted(chosen, key=lambda tw: (-abs(tw[1]), tw[0]))[:n]


@dataclass(frozen=True)
class Cell:
    """One formatted table value: its text and a css class (pos/neg/na).

    Tables sort on the text itself (the page's script strips ',', '%' and '×'), so rows carry no
    extra sort keys: with thousands of trades every byte a row counts.
    """

    text: str
    css: str = ""


def cell(value: Any, kind: str, signed: bool = False) -> Cell:
    """A table cell; signed values get 'pos' or 'neg' so the page colours them green or red."""
    text = format_value(value, kind)
    if text == DASH:
        return Cell(text, "na")
    css = ""
    if signed and kind != "date":
        css = "pos" if float(value) > 0 else "neg" if float(value) < 0 else ""
    return Cell(text, css)


def script_json(figure: dict[str, Any]) -> Markup:
    """Figure JSON for a <script type="application/json"> element.

    Safe because figure_json escapes '<', '>' and '&' as \\u003c, \\u003e, \\u0026, so no data
    text can close the script element or open a comment; JSON.parse restores the characters.
    """
    return Markup(fig.figure_json(figure))  # noqa: S704 - escaped for the script context above


def _read_csv(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / name
    if not path.is_file():
        raise InputError(
            "missing run folder file",
            file=path,
            hint="Re-run `backtest run`, or point `backtest report` at a complete run folder",
        )
    text_columns = TEXT_COLUMNS[name]
    try:
        frame = pd.read_csv(
            path,
            keep_default_na=False,
            na_values=[""],
            dtype={c: str for c in text_columns},
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"cannot read CSV ({e})", file=path) from e
    for column in REQUIRED_COLUMNS[name]:
        if column not in frame.columns:
            raise InputError("missing column", file=path, column=column)
    for column in text_columns:
        if column in frame.columns:
            frame[column] = frame[column].fillna("")
    return frame


def read_run_folder(run_dir: Path) -> RunFolder:
    """Read and check every file the report needs from ``run_dir``."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("run folder not found", file=run_dir, hint="pass a folder under reports/")
    stats_path = run_dir / "stats.json"
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError("missing run folder file", file=stats_path) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON ({e})", file=stats_path) from e
    for key in ("name", "stats", "period", "tickers"):
        if key not in stats:
            raise InputError(f"missing key '{key}'", file=stats_path)
    config_path = run_dir / "config.toml"
    config_toml = config_path.read_text(encoding="utf-8") if config_path.is_file() else ""
    walkforward = None
    if (run_dir / WALKFORWARD_FILE).is_file():
        walkforward = _read_walkforward_csv(run_dir / WALKFORWARD_FILE)
    return RunFolder(
        path=run_dir,
        stats=stats,
        config_toml=config_toml,
        equity=_read_csv(run_dir, "equity.csv"),
        trades=_read_csv(run_dir, "trades.csv"),
        signals=_read_csv(run_dir, "signals.csv"),
        headlines=_read_csv(run_dir, "headlines.csv"),
        returns=_read_csv(run_dir, "returns.csv"),
        walkforward=walkforward,
        lexicons={name: read_lexicon_file(run_dir, name) for name in lexicon_files(stats)},
    )


RUN_TABLES = ("equity", "trades", "signals", "headlines", "returns")
"""The RunFolder fields read from CSVs, each from ``<name>.csv``."""


def in_memory_run_folder(
    run_dir: Path, *, stats_text: str, config_toml: str, tables: dict[str, pd.DataFrame]
) -> RunFolder:
    """The RunFolder of a folder whose files were just written from these contents.

    ``stats_text`` and ``config_toml`` are the texts written to stats.json and config.toml,
    ``tables`` the frames written to the five CSVs (by name, see RUN_TABLES). Each table is
    converted to what ``read_run_folder`` reads back from its CSV (``as_read_back``); a table
    that does not convert exactly, the walk-forward table and the lexicon copies are read from
    the folder. Checks and errors are those of ``read_run_folder``.
    """
    run_dir = Path(run_dir)
    stats_path = run_dir / "stats.json"
    try:
        stats = json.loads(stats_text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e})", file=stats_path) from e
    for key in ("name", "stats", "period", "tickers"):
        if key not in stats:
            raise InputError(f"missing key '{key}'", file=stats_path)
    frames = {}
    for name in RUN_TABLES:
        frame = as_read_back(tables[name], f"{name}.csv")
        frames[name] = frame if frame is not None else _read_csv(run_dir, f"{name}.csv")
    walkforward = None
    if (run_dir / WALKFORWARD_FILE).is_file():
        walkforward = _read_walkforward_csv(run_dir / WALKFORWARD_FILE)
    return RunFolder(
        path=run_dir,
        stats=stats,
        # Path.read_text reads with universal newlines: the same text as read_run_folder's.
        config_toml=config_toml.replace("\r\n", "\n").replace("\r", "\n"),
        walkforward=walkforward,
        lexicons={name: read_lexicon_file(run_dir, name) for name in lexicon_files(stats)},
        **frames,
    )


def as_read_back(frame: pd.DataFrame, name: str) -> pd.DataFrame | None:
    """``frame`` as ``_read_csv`` reads it back from the CSV ``write_csv`` makes of it, or None
    when that is not certain (then read the file).

    Text columns (TEXT_COLUMNS) become str with missing values as "" (categoricals of texts
    stay categorical, with missing values as ""); float64, integer and bool
    columns keep their values (floats are written by repr and read back exactly; integers as
    int64). Anything else - another dtype, a text holding NUL, an empty table (whose columns
    read back as text), a missing required column - returns None.
    """
    text_columns = TEXT_COLUMNS[name]
    columns = list(frame.columns)
    if (
        len(frame) == 0
        or not all(isinstance(c, str) for c in columns)
        or len(set(columns)) != len(columns)
        or not set(REQUIRED_COLUMNS[name]) <= set(columns)
    ):
        return None
    out: dict[str, Any] = {}
    for column in columns:
        values = frame[column]
        dtype = values.dtype
        if column in text_columns and isinstance(dtype, pd.CategoricalDtype):
            text = _categorical_read_back(values)
            if text is None:
                return None
            out[column] = text
        elif column in text_columns:
            if not (
                isinstance(dtype, pd.StringDtype)
                or (
                    dtype.kind == "O"
                    and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
                )
            ):
                return None
            text = values.astype("str").fillna("")
            if _holds_nul(text):
                return None
            out[column] = text
        elif not isinstance(dtype, np.dtype):
            return None
        elif dtype == np.float64 or dtype.kind == "b":
            out[column] = values
        elif dtype.kind in "iu" and (dtype.kind == "i" or values.max() <= np.iinfo(np.int64).max):
            out[column] = values.astype(np.int64)
        else:
            return None
    result = pd.DataFrame(out, copy=False)
    result.index = pd.RangeIndex(len(result))
    return result


def _categorical_read_back(values: pd.Series) -> pd.Series | None:
    """A categorical text column as its CSV reads back, kept categorical (a run's date, ticker
    and label: texts of 49 M rows would take gigabytes): missing cells become "", and None
    when the categories are not texts or one holds NUL."""
    categories = values.cat.categories
    if not pd.api.types.is_string_dtype(categories) or _holds_nul(
        pd.Series(categories, dtype="str")
    ):
        return None
    if values.cat.codes.min() < 0:
        if "" not in categories:
            values = values.cat.add_categories([""])
        values = values.fillna("")
    return values


def _holds_nul(text: pd.Series) -> bool:
    """Whether any text of a str Series holds a NUL character (scanning its Arrow buffers)."""
    import pyarrow as pa

    for chunk in pa.chunked_array(text).chunks:
        _, offsets, data = chunk.buffers()
        if data is None or len(chunk) == 0:
            continue
        wide = pa.types.is_large_string(chunk.type)
        bounds = np.frombuffer(offsets, dtype=np.int64 if wide else np.int32)
        first, last = bounds[chunk.offset], bounds[chunk.offset + len(chunk)]
        if not np.all(np.frombuffer(data, dtype=np.uint8)[first:last]):
            return True
    return False


def _read_walkforward_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"cannot read CSV ({e})", file=path) from e
    for column in WINDOW_COLUMNS:
        if column not in frame.columns:
            raise InputError("missing column", file=path, column=column)
    return frame


def lexicon_files(stats: dict[str, Any]) -> list[str]:
    """Run-folder names of the lexicon copies stats.json lists: data.lexicon's copy and each
    walk-forward window's relearned lexicon."""
    names = []
    copied = ((stats.get("data") or {}).get("lexicon") or {}).get("copy")
    if copied:
        names.append(str(copied))
    relearn = (stats.get("walkforward") or {}).get("relearn_lexicon") or {}
    names += [str(entry.get("file", "")) for entry in relearn.get("lexicons") or []]
    return names


def read_lexicon_file(run_dir: Path, name: str) -> LexiconFile:
    """Load a lexicon copy of the run folder (validated as the scorer does); InputError names it."""
    from backtest.scoring import load_lexicon

    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise InputError(
            f"lexicon file {name!r} is not a path inside the run folder",
            file=run_dir / "stats.json",
        )
    path = run_dir.joinpath(*relative.parts)
    if not path.is_file():
        raise InputError(
            "missing run folder file (stats.json lists it)",
            file=path,
            hint="Re-run the command, or point `backtest report` at a complete run folder",
        )
    lexicon = load_lexicon(path)
    return LexiconFile(
        terms=lexicon.terms,
        weights=tuple(float(w) for w in lexicon.weights),
        training=read_training_window(path.read_text(encoding="utf-8")),
    )


def headline_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Strategy and benchmark figures, formatted straight from stats.json's "stats".

    Figures follow stats.STAT_DEFINITIONS' order; a figure it does not know yet is still shown,
    after the others, under its key.
    """
    strategy = stats["stats"].get("strategy", {}) or {}
    benchmark = stats["stats"].get("benchmark", {}) or {}
    keys = list(STAT_DEFINITIONS) + [k for k in strategy if k not in STAT_DEFINITIONS]
    rows = []
    for key in keys:
        label, definition = STAT_DEFINITIONS.get(key, (key.replace("_", " ").capitalize(), ""))
        value = strategy.get(key)
        kind, signed = FIGURE_FORMATS.get(
            key, ("ratio" if isinstance(value, int | float) else "text", False)
        )
        rows.append(
            {
                "key": key,
                "label": label,
                "definition": definition,
                "strategy": cell(value, kind, signed),
                "benchmark": cell(benchmark.get(key), kind, signed),
            }
        )
    return rows


def trade_rows(trades: pd.DataFrame, top: int = TOP_TRADES) -> list[dict[str, Any]]:
    """Trades best P&L first (at most MAX_TRADES_IN_PAGE: the best and worst halves); ``shown``
    marks the best and worst ``top`` shown by default."""
    order = trades.assign(_pnl=trades["pnl"].fillna(0.0)).sort_values(
        ["_pnl", "entry_time", "ticker"], ascending=[False, True, True], kind="stable"
    )
    if len(order) > MAX_TRADES_IN_PAGE:
        half = MAX_TRADES_IN_PAGE // 2
        order = pd.concat([order.head(half), order.tail(half)])
    n = len(order)
    rows = []
    for rank, rec in enumerate(order.to_dict("records")):
        texts = [t for t in str(rec["headlines"]).split(HEADLINE_SEPARATOR) if t.strip()]
        rows.append(
            {
                "shown": rank < top or rank >= n - top,
                "ticker": rec["ticker"],
                "side": rec["side"],
                "entry_time": rec["entry_time"],
                "exit_time": rec["exit_time"] or DASH,
                "entry_price": cell(rec["entry_price"], "money"),
                "exit_price": cell(rec["exit_price"], "money"),
                "pnl": cell(rec["pnl"], "money", signed=True),
                "ret": cell(rec["return"], "pct", signed=True),
                "status": rec["status"],
                "exit_reason": str(rec.get("exit_reason") or ""),
                "n_headlines": int(rec["n_headlines"]) if not is_missing(rec["n_headlines"]) else 0,
                "novelty": cell(rec.get("novelty"), "ratio"),
                "relevance": cell(rec.get("relevance"), "ratio"),
                "headlines": texts,
            }
        )
    return rows


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(text: Any) -> str:
    """Text on one line: each run of line breaks (and the spaces around it) becomes a space."""
    text = str(text)
    if "\n" not in text and "\r" not in text:
        return text
    return _LINE_BREAKS.sub(" ", text)


STOP_NOTES = {"stop_loss": " (stop loss)", "take_profit": " (take profit)"}
"""How the trades table marks an exit a stop made (trades.csv's exit_reason)."""


def trades_tbody(rows: list[dict[str, Any]]) -> Markup:
    """The trades table's rows as HTML, every data text escaped (markupsafe.escape, as the
    template's autoescape does).

    Written out here rather than as a template loop: with thousands of trades a Jinja2 loop
    costs ~0.3 s, this ~0.03 s. The markup is what the loop produced, byte for byte: one
    ``<tr>`` a line, indented by six spaces.
    """
    esc = escape
    parts = []
    for t in rows:
        if t["headlines"]:
            items = "".join(f"<li>{esc(one_line(h))}</li>" for h in t["headlines"])
            headlines = f'<ul class="hl">{items}</ul>'
        else:
            headlines = '<span class="na">&ndash;</span>'
        side = esc(t["side"])
        opened = (
            " (open)" if t["status"] == "open" else STOP_NOTES.get(t.get("exit_reason", ""), "")
        )
        pnl, ret = t["pnl"], t["ret"]
        shown = ' data-top="1"' if t["shown"] else " hidden"
        parts.append(
            f"      <tr{shown}>"
            f'<td>{esc(t["ticker"])}</td><td class="side-{side}">{side}</td>'
            f"<td>{esc(t['entry_time'])}</td><td>{esc(t['exit_time'])}{opened}</td>"
            f'<td class="num">{esc(t["entry_price"].text)}</td>'
            f'<td class="num">{esc(t["exit_price"].text)}</td>'
            f'<td class="num {esc(pnl.css)}">{esc(pnl.text)}</td>'
            f'<td class="num {esc(ret.css)}">{esc(ret.text)}</td>'
            f'<td class="num">{esc(t["n_headlines"])}</td>'
            f'<td class="num">{esc(t["novelty"].text)}</td>'
            f'<td class="num">{esc(t["relevance"].text)}</td><td>{headlines}</td></tr>\n'
        )
    return Markup("".join(parts))  # noqa: S704 - every data text above is escaped


def per_ticker_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """stats.json's per_ticker block as formatted rows, largest P&L first."""
    per = stats.get("per_ticker", {}) or {}
    ordered = sorted(per.items(), key=lambda kv: -(kv[1].get("pnl") or 0.0))
    return [
        {
            "ticker": ticker,
            "total_return": cell(v.get("total_return"), "pct", signed=True),
            "pnl": cell(v.get("pnl"), "money", signed=True),
            "trades": cell(v.get("trades"), "int"),
            "hit_rate": cell(v.get("hit_rate"), "pct"),
            "exposure": cell(v.get("exposure"), "pct"),
            "headlines": cell(v.get("headlines"), "int"),
        }
        for ticker, v in ordered
    ]


def reproducibility(run: RunFolder) -> dict[str, Any]:
    """The config text, data fingerprints, versions, timings and command line."""
    stats = run.stats
    data_rows = []
    for name, info in (stats.get("data") or {}).items():
        data_rows.append(
            {
                "name": name,
                "path": str(info.get("path", "")),
                "sha256": str(info.get("sha256", "")),
                "rows": format_value(info.get("rows"), "int"),
                "rows_in_period": format_value(info.get("rows_in_period"), "int"),
                "tickers": format_value(info.get("tickers"), "int"),
                "range": f"{info.get('start', DASH)} to {info.get('end', DASH)}",
            }
        )
    timings = stats.get("timings_s") or {}
    total = sum(float(v) for v in timings.values() if not is_missing(v))
    return {
        "config_toml": run.config_toml,
        "command": str(stats.get("command", "")),
        "created_at": str(stats.get("created_at", "")),
        "data": data_rows,
        "versions": [(str(k), str(v)) for k, v in (stats.get("versions") or {}).items()],
        "timings": [(str(k), f"{float(v):.2f} s") for k, v in timings.items()],
        "total_time": f"{total:.2f} s",
        "files": {
            "equity.csv": len(run.equity),
            "trades.csv": len(run.trades),
            "signals.csv": len(run.signals),
            "headlines.csv": len(run.headlines),
            "returns.csv": len(run.returns),
        },
    }


def _pct_or_dash(value: float | None) -> str:
    return format_value(value, "pct")


def _car_rows(name: str, measure: str, curve: Any) -> dict[str, Any]:
    at = {d: i for i, d in enumerate(curve.days)}
    return {
        "name": name,
        "measure": MEASURE_LABELS[measure],
        "n_events": curve.n_events,
        "n_dropped": curve.n_dropped,
        "points": [
            {
                "day": d,
                "car": cell(curve.mean[at[d]], "pct", signed=True),
                "band": f"{_pct_or_dash(curve.lower[at[d]])} to {_pct_or_dash(curve.upper[at[d]])}",
            }
            for d in (-1, 0, 1, 5, 10)
            if d in at
        ],
    }


def event_view(run: RunFolder) -> dict[str, Any]:
    """The event study and IC, measured from the execution price a trader could get and close
    to close (folders written before returns.csv had traded_return: close to close only)."""
    measures = [m for m in MEASURES if has_measure(run.returns, m)]
    studies = {m: event_study(run.returns, run.headlines, measure=m) for m in measures}
    curves = [
        _car_rows(name, m, getattr(studies[m], side))
        for name, side in (("Bull", "bull"), ("Bear", "bear"))
        for m in measures
        if getattr(studies[m], side) is not None
    ]
    tradeable = studies.get("tradeable")
    classic = studies["close_to_close"]
    ics = {m: cross_sectional_ic(run.signals, run.returns, measure=m) for m in measures}
    ic = ics[measures[0]]
    other = ics["close_to_close"] if len(measures) > 1 else None
    at = str((run.stats.get("config") or {}).get("execution", {}).get("at", "open"))
    return {
        "has_events": bool(curves),
        "curves": curves,
        "execution_price": at,
        "tradeable": tradeable is not None,
        "event_figure": script_json(fig.event_study_figure(tradeable or classic, classic))
        if curves
        else None,
        "has_ic": ic.mean is not None,
        "ic_measure": MEASURE_LABELS[measures[0]],
        "ic_mean": format_value(ic.mean, "ratio3"),
        "ic_mean_css": "pos" if (ic.mean or 0) > 0 else "neg" if (ic.mean or 0) < 0 else "",
        "ic_t": format_value(ic.t_stat, "ratio"),
        "ic_sessions": format_value(ic.n_sessions, "int"),
        "ic_months": len(ic.months),
        "ic_close_to_close": None
        if other is None or other.mean is None
        else {
            "mean": format_value(other.mean, "ratio3"),
            "t": format_value(other.t_stat, "ratio"),
            "sessions": format_value(other.n_sessions, "int"),
        },
        "ic_figure": script_json(fig.ic_figure(ic)) if ic.mean is not None else None,
    }


def walkforward_view(run: RunFolder) -> dict[str, Any] | None:
    """Walk-forward settings and one row per window (stats.json's block, else walkforward.csv);
    None for a plain run."""
    block = run.stats.get("walkforward")
    if not isinstance(block, dict):
        block = None
    if block is None and run.walkforward is None:
        return None
    if block is not None and block.get("windows"):
        records = list(block["windows"])
    elif run.walkforward is not None:
        records = run.walkforward.to_dict("records")
    else:
        records = []
    objective = str((block or {}).get("objective") or "")
    if not objective:
        found = [
            k for r in records[:1] for k in r if k.startswith("is_") and k not in WINDOW_COLUMNS
        ]
        objective = found[0][3:] if found else "sharpe"
    objective_key = f"is_{objective}"
    fixed = set(WINDOW_COLUMNS) | {objective_key}
    keys = [k for k in (records[0] if records else {}) if k not in fixed]
    objective_kind = "ratio" if objective == "sharpe" else "pct"
    rows = [
        {
            "window": format_value(r.get("window"), "int"),
            "in_sample": f"{r.get('is_start', DASH)} to {r.get('is_end', DASH)}",
            "out_of_sample": f"{r.get('oos_start', DASH)} to {r.get('oos_end', DASH)}",
            "set": format_value(r.get("set"), "int"),
            "params": [_parameter_text(r.get(k)) for k in keys],
            "is_objective": cell(r.get(objective_key), objective_kind, signed=True),
            "oos_sharpe": cell(r.get("oos_sharpe"), "ratio", signed=True),
            "oos_return": cell(r.get("oos_return"), "pct", signed=True),
        }
        for r in records
    ]
    settings: list[tuple[str, str]] = []
    if block is not None:
        settings = [
            ("In-sample window", f"{format_value(block.get('train_sessions'), 'int')} sessions"),
            (
                "Out-of-sample window (and step)",
                f"{format_value(block.get('test_sessions'), 'int')} sessions",
            ),
            ("Objective (in-sample)", objective),
            ("Parameter sets per window", format_value(block.get("n_sets"), "int")),
            ("Skipped combinations", format_value(block.get("skipped_sets"), "int")),
        ]
        for key, values in (block.get("grid") or {}).items():
            shown = ", ".join(_parameter_text(v) for v in values or [])
            settings.append((f"Grid {key}", shown))
        relearn = block.get("relearn_lexicon")
        if isinstance(relearn, dict):
            settings.append(
                (
                    "Lexicon",
                    "relearned on each in-sample window (min count "
                    f"{format_value(relearn.get('min_count'), 'int')}, top "
                    f"{format_value(relearn.get('top_k'), 'int')} a side)",
                )
            )
    return {
        "settings": settings,
        "objective": objective.replace("_", " "),
        "parameters": keys,
        "rows": rows,
    }


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return DASH if is_missing(value) else str(value)


def _term_rows(lexicon: LexiconFile, n: int) -> list[dict[str, Any]]:
    """Side by side: the i-th strongest positive and negative term (blank when a side is short)."""
    positive, negative = lexicon.top(n, 1), lexicon.top(n, -1)
    rows = []
    for i in range(max(len(positive), len(negative))):
        pos = positive[i] if i < len(positive) else ("", None)
        neg = negative[i] if i < len(negative) else ("", None)
        rows.append(
            {
                "positive": pos[0],
                "positive_weight": cell(pos[1], "ratio3", signed=True) if pos[0] else Cell(""),
                "negative": neg[0],
                "negative_weight": cell(neg[1], "ratio3", signed=True) if neg[0] else Cell(""),
            }
        )
    return rows


def learned_lexicon_view(run: RunFolder) -> dict[str, Any] | None:
    """The learned lexicon(s) a run scored with: top words per side with weights, training
    windows, and a warning when a training window overlaps the dates it was traded on.
    None when the run used no learned lexicon."""
    stats = run.stats
    period = stats.get("period") or {}
    first, last = str(period.get("start", "")), str(period.get("end", ""))
    entry = (stats.get("data") or {}).get("lexicon") or {}
    run_lexicon = None
    copied = run.lexicons.get(str(entry.get("copy", "")))
    if copied is not None and copied.training is not None:
        training = copied.training
        overlap = training.overlaps(first, last)
        run_lexicon = {
            "path": str(entry.get("path", "")),
            "file": str(entry.get("copy", "")),
            "terms": len(copied.terms),
            "train_start": training.start,
            "train_end": training.end,
            "overlap": overlap,
            "overlap_start": max(first, training.start) if overlap else "",
            "overlap_end": min(last, training.end) if overlap else "",
            "rows": _term_rows(copied, TOP_LEARNED_TERMS),
        }
    block = stats.get("walkforward") or {}
    relearn = block.get("relearn_lexicon") if isinstance(block, dict) else None
    out_of_sample = {
        int(r["window"]): (str(r.get("oos_start", "")), str(r.get("oos_end", "")))
        for r in (block.get("windows") or [] if isinstance(block, dict) else [])
        if not is_missing(r.get("window"))
    }
    windows = []
    for item in (relearn or {}).get("lexicons") or []:
        lexicon = run.lexicons.get(str(item.get("file", "")))
        if lexicon is None:
            continue
        training = lexicon.training
        oos_start, oos_end = out_of_sample.get(int(item.get("window") or 0), ("", ""))
        leaks = training is None or (bool(oos_start) and training.overlaps(oos_start, oos_end))
        windows.append(
            {
                "window": format_value(item.get("window"), "int"),
                "file": str(item.get("file", "")),
                "terms": len(lexicon.terms),
                "training": f"{training.start} to {training.end}" if training else DASH,
                "traded": f"{oos_start or DASH} to {oos_end or DASH}",
                "leaks": leaks,
                "rows": _term_rows(lexicon, TOP_WINDOW_TERMS),
            }
        )
    if run_lexicon is None and not windows:
        return None
    return {
        "run": run_lexicon,
        "windows": windows,
        "top_learned": TOP_LEARNED_TERMS,
        "top_window": TOP_WINDOW_TERMS,
        "any_leak": any(w["leaks"] for w in windows),
    }


def daily_curve(equity: pd.DataFrame) -> pd.DataFrame:
    """equity.csv as one row per session: intraday runs (ISO timestamps with an offset) keep
    each session's last bar, dated by its day, so the curves and the stats agree."""
    dates = equity["date"].astype(str)
    if not dates.str.contains("T", regex=False).any():
        return equity
    day = dates.str.slice(0, 10)
    last = ~day.duplicated(keep="last").to_numpy()
    return equity.loc[last].assign(date=day[last].to_numpy()).reset_index(drop=True)


def chart_figures(run: RunFolder) -> dict[str, Markup]:
    """Every chart of the page as script-safe JSON, keyed by its element id."""
    curve = daily_curve(run.equity)
    dates = list(curve["date"])
    equity = curve["equity"].to_numpy(dtype=float)
    benchmark = curve["benchmark"].to_numpy(dtype=float)
    per = run.stats.get("per_ticker", {}) or {}
    tickers = list(per)
    pnl = [float(per[t].get("pnl") or 0.0) for t in tickers]
    specs = {
        "fig-equity": fig.equity_figure(dates, equity, benchmark),
        "fig-drawdown": fig.drawdown_figure(dates, equity, benchmark),
        "fig-monthly": fig.monthly_heatmap_figure(dates, equity),
        "fig-rolling-sharpe": fig.rolling_sharpe_figure(dates, equity, benchmark),
        "fig-contribution": fig.contribution_figure(tickers, pnl),
        "fig-labels": fig.label_share_figure(run.signals),
    }
    decay = run.stats.get("decay")
    if decay and decay.get("points"):
        specs["fig-decay"] = fig.decay_figure(decay["points"], decay.get("halves_at"))
    top_links = (run.stats.get("spillover") or {}).get("top_comentions")
    if top_links:
        specs["fig-links"] = fig.link_network_figure(top_links)
    return {key: script_json(spec) for key, spec in specs.items()}


def news_view(stats: dict[str, Any]) -> dict[str, Any] | None:
    """'Which headlines counted': stats.json's news block and the [news] settings, formatted;
    None for run folders written before the block existed."""
    block = stats.get("news")
    if not block:
        return None
    rows = max(1, int(block["rows"]))

    def share(n: int) -> str:
        return f"{n:,} ({format_value(n / rows, 'pct')})"

    settings = (stats.get("config") or {}).get("news") or {}
    return {
        "rows": f"{int(block['rows']):,}",
        "counted": share(int(block["counted"])),
        "reprints": share(int(block["reprints"])),
        "stale": share(int(block["stale_below_0_2"])),
        "multi_ticker": share(int(block["multi_ticker_over_3"])),
        "settings": [(str(k), _parameter_text(v)) for k, v in settings.items()],
        "sources": [
            (str(name), f"{int(v['rows']):,}", f"{int(v['counted']):,}")
            for name, v in sorted(block.get("by_source", {}).items())
        ],
        "split_days": SPLIT_EVENT_DAYS,
        "split": [
            {
                "group": str(group),
                "headlines": f"{int(v['headlines']):,}",
                "bull": _split_side(v.get("bull")),
                "bear": _split_side(v.get("bear")),
            }
            for group, v in (stats.get("event_study_by_news") or {}).items()
        ],
    }


SPLIT_EVENT_DAYS = (1, 2, 5)
"""The event days the split event study shows (tradeable CAR is 0 at day 0 by definition)."""


def _split_side(side: dict[str, Any] | None) -> dict[str, Any]:
    """Events and the tradeable CAR +- 1.96 standard errors at SPLIT_EVENT_DAYS, formatted."""
    return _days_side(side, SPLIT_EVENT_DAYS)


def _days_side(side: dict[str, Any] | None, days: tuple[int, ...]) -> dict[str, Any]:
    """Events and the tradeable CAR +- 1.96 standard errors at ``days``, formatted."""
    if not side:
        return {"events": DASH, "cars": [DASH] * len(days)}
    at = {int(d): i for i, d in enumerate(side["days"])}
    cars = []
    for day in days:
        if day not in at:
            cars.append(DASH)
            continue
        mean, se = side["car_tradeable"][at[day]], side["se_tradeable"][at[day]]
        band = "" if is_missing(se) else f" \u00b1 {format_value(Z_BAND * se, 'pct')}"
        cars.append(format_value(mean, "pct") + band)
    return {"events": f"{int(side['events']):,}", "cars": cars}


PEER_EVENT_DAYS = (1, 2, 3, 4, 5)
"""The event days the peer event study shows."""


def spillover_view(stats: dict[str, Any]) -> dict[str, Any] | None:
    """'Spillover': stats.json's spillover block formatted; None for folders without one."""
    block = stats.get("spillover")
    if not block:
        return None
    ic = block.get("ic") or {}
    traded = ic.get("traded") or {}
    return {
        "spillover": format_value(float(block["spillover"]), "ratio"),
        "links": str(block["links"]),
        "window": int(block["comention_window"]),
        "min": int(block["comention_min"]),
        "stories": f"{int(block['stories']):,}",
        "points": format_value(float(block.get("news_points_mean_abs") or 0.0), "ratio"),
        "top": [
            {
                "ticker": str(r["ticker"]),
                "peer": str(r["peer"]),
                "stories": f"{int(r['stories']):,}",
                "share": format_value(float(r["share"]), "pct"),
                "share_back": format_value(float(r["share_back"]), "pct"),
            }
            for r in block.get("top_comentions") or []
        ],
        "peers": [
            {
                "ticker": str(r["ticker"]),
                "peer": str(r["peer"]),
                "weight": format_value(float(r["weight"]), "ratio"),
                "relation": str(r.get("relation") or ""),
            }
            for r in block.get("peers") or []
        ],
        "event_days": PEER_EVENT_DAYS,
        "events": [
            {"side": side, **_days_side(block["peer_event_study"].get(side), PEER_EVENT_DAYS)}
            for side in ("bull", "bear")
        ],
        "ic_mean": DASH if traded.get("mean") is None else format_value(traded["mean"], "ratio3"),
        "ic_t": DASH if traded.get("t_stat") is None else format_value(traded["t_stat"], "ratio"),
        "ic_sessions": f"{int(traded.get('sessions') or 0):,}",
    }


def intraday_view(stats: dict[str, Any]) -> dict[str, Any] | None:
    """'Minutes after the news' and 'Edge by latency' (intraday runs); None otherwise."""
    study = stats.get("intraday_event_study")
    decay = stats.get("decay")
    if not study and not decay:
        return None
    horizons = [str(h) for h in (study or {}).get("horizons", [])]
    sides = []
    for side in ("bull", "bear"):
        block = (study or {}).get(side)
        if not block:
            sides.append({"side": side, "events": DASH, "cars": [DASH] * len(horizons)})
            continue
        cars = []
        for mean, se in zip(block["car"], block["se"], strict=True):
            band = "" if is_missing(se) else f" \u00b1 {format_value(Z_BAND * se, 'pct')}"
            cars.append(format_value(mean, "pct") + band)
        sides.append({"side": side, "events": f"{int(block['events']):,}", "cars": cars})
    points = (decay or {}).get("points") or []
    against = str((study or {}).get("against") or "equal-weight")
    return {
        "horizons": [h if h == "close" else f"+{h} min" for h in horizons],
        "sides": sides,
        "against": None if against == "equal-weight" else against,
        "halves_at": (decay or {}).get("halves_at"),
        "decay_rows": [
            {
                "latency": str(p["latency"]),
                "trades": f"{int(p['trades']):,}",
                "mean": format_value(p["mean_trade_return"], "pct"),
                "hit_rate": format_value(p["hit_rate"], "pct"),
                "sharpe": format_value(p["sharpe"], "ratio"),
                "total_return": format_value(p["total_return"], "pct"),
            }
            for p in points
        ],
    }


def build_view(run: RunFolder) -> dict[str, Any]:
    """Everything the template shows, formatted; no statistic is computed here."""
    stats = run.stats
    trades = trade_rows(run.trades)
    return {
        "name": str(stats["name"]),
        "period": stats["period"],
        "tickers": [str(t) for t in stats["tickers"]],
        "headline": headline_rows(stats) + baseline_rows(stats),
        "charts": chart_figures(run),
        "events": event_view(run),
        "factor": factor_view(stats),
        "book": portfolio_view(stats),
        "news": news_view(stats),
        "spillover": spillover_view(stats),
        "intraday": intraday_view(stats),
        "trades": trades,
        "trades_tbody": trades_tbody(trades),
        "n_trades": len(run.trades),
        "n_in_page": len(trades),
        "n_shown": sum(1 for t in trades if t["shown"]),
        "top_trades": TOP_TRADES,
        "per_ticker": per_ticker_rows(stats),
        "walkforward": walkforward_view(run),
        "lexicon": learned_lexicon_view(run),
        "repro": reproducibility(run),
        "plot_config": Markup(fig.figure_json(fig.PLOT_CONFIG)),  # noqa: S704 - our constant
        "plotly_js_gz": fig.plotly_js_gzip_base64(),
    }


def environment() -> Environment:
    """Jinja2 environment with autoescape on for every template.

    Compiled templates are kept in the report cache folder (Jinja2's bytecode cache, keyed by
    the template's source), which saves ~0.1 s of compiling report.html.j2 per process.
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["one_line"] = one_line
    return env


def _bytecode_cache() -> BytecodeCache | None:
    folder = cache_subdir("report") / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder)) if os.access(folder, os.W_OK) else None


def render_html(run: RunFolder) -> str:
    """The report page as text."""
    return environment().get_template("report.html.j2").render(**build_view(run))


def render_report(run_dir: Path) -> Path:
    """Render ``run_dir/report.html`` from the run folder's files and return its path."""
    return render_run(read_run_folder(Path(run_dir)))


def render_run(run: RunFolder) -> Path:
    """Write ``run.path/report.html`` (atomically: a temporary file, then a rename)."""
    html = render_html(run)
    target = run.path / "report.html"
    staging = run.path / ".report.html.partial"
    staging.write_text(html, encoding="utf-8", newline="\n")
    os.replace(staging, target)
    return target


def report_size_breakdown(html_path: Path) -> dict[str, int]:
    """Bytes of report.html by part: plotly.js, figure JSON, trades table, rest of the page."""
    text = Path(html_path).read_text(encoding="utf-8")
    total = len(text.encode("utf-8"))

    def between(pattern: str) -> int:
        return sum(len(m.group(0).encode("utf-8")) for m in re.finditer(pattern, text, re.S))

    plotly = between(r'<script type="application/gzip;base64" id="plotly-js-gz">.*?</script>')
    figures = between(r'<script type="application/json"[^>]*>.*?</script>')
    trades = between(r'<table id="trades-table".*?</table>')
    return {
        "total": total,
        "plotly_js": plotly,
        "figures_json": figures,
        "trades_table": trades,
        "rest": total - plotly - figures - trades,
    }
