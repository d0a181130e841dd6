"""reports/index.html: one row per folder under the reports folder, rewritten atomically.

1. Every non-hidden sub-folder is read: a run or walk-forward folder by its stats.json, a sweep
   by its sweep.json, a comparison by its compare.json, a decay by its decay.json (its row
   shows the first latency's figures). A folder that fails to read is listed
   as unreadable with the reason, never skipped.
2. The page is one sortable, filterable table (the report's conventions: offline, every text
   escaped by Jinja's autoescape), each row linking to the folder's page.
3. It is written to a temporary file and renamed over index.html.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.report.formatting import DASH, format_value

INDEX_FILE = "index.html"
PAGES = {
    "run": "report.html",
    "walkforward": "report.html",
    "sweep": "sweep.html",
    "compare": "compare.html",
    "decay": "decay.html",
}
"""The page each kind of folder opens with."""


@dataclass(frozen=True)
class IndexRow:
    """One folder, formatted for the page (texts are escaped by the template)."""

    name: str
    kind: str
    link: str | None
    created: str
    command: str
    period: str
    tickers: str
    total_return: str
    sharpe: str
    max_drawdown: str
    trades: str
    deflated_sharpe: str
    pbo: str
    problem: str = ""


def _read_json(path: Path) -> dict[str, Any]:
    content = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return content


def folder_row(folder: Path) -> IndexRow | None:
    """The index row of one folder, None when it is no folder of this tool at all."""
    candidates = [
        ("stats.json", "run"),
        ("sweep.json", "sweep"),
        ("compare.json", "compare"),
        ("decay.json", "decay"),
    ]
    found = [(name, kind) for name, kind in candidates if (folder / name).exists()]
    if not found:
        return None
    name, kind = found[0]
    try:
        content = _read_json(folder / name)
        if kind == "run" and "walkforward" in content:
            kind = "walkforward"
        return _row(folder, kind, content)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return IndexRow(
            folder.name, kind, None, DASH, "", DASH, DASH, DASH, DASH, DASH, DASH, DASH, DASH,
            problem=f"unreadable: {name}: {reason}",
        )  # fmt: skip


def _row(folder: Path, kind: str, content: dict[str, Any]) -> IndexRow:
    period = content.get("period") or {}
    tickers = content.get("tickers") or []
    if kind == "sweep":
        figures = (content.get("best") or {}).get("figures") or {}
        guards = content.get("guards") or {}
        dsr = (guards.get("deflated_sharpe") or {}).get("dsr")
        pbo = (guards.get("pbo") or {}).get("pbo")
    elif kind == "compare":
        figures, dsr, pbo = {}, None, None
    elif kind == "decay":
        figures, dsr, pbo = (content.get("points") or [{}])[0], None, None
    else:
        figures = (content.get("stats") or {}).get("strategy") or {}
        dsr = pbo = None
    page = folder / PAGES[kind]
    return IndexRow(
        name=folder.name,
        kind=kind,
        link=f"{folder.name}/{PAGES[kind]}" if page.is_file() else None,
        created=str(content.get("created_at") or DASH),
        command=str(content.get("command") or ""),
        period=f"{period.get('start', DASH)} to {period.get('end', DASH)}" if period else DASH,
        tickers=format_value(len(tickers), "int") if tickers else DASH,
        total_return=format_value(figures.get("total_return"), "pct"),
        sharpe=format_value(figures.get("sharpe"), "ratio"),
        max_drawdown=format_value(figures.get("max_drawdown"), "pct"),
        trades=format_value(figures.get("trades"), "int"),
        deflated_sharpe=format_value(dsr, "ratio"),
        pbo=format_value(pbo, "pct"),
    )


def index_rows(reports_dir: Path) -> list[IndexRow]:
    """Rows of every folder under ``reports_dir``, newest first (by name: folders are stamped)."""
    if not reports_dir.is_dir():
        return []
    rows = []
    for folder in sorted(reports_dir.iterdir(), key=lambda p: p.name, reverse=True):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        row = folder_row(folder)
        if row is not None:
            rows.append(row)
    return rows


def write_index(reports_dir: Path) -> Path:
    """Rewrite ``reports_dir/index.html`` atomically; returns its path."""
    from backtest.report.html import environment

    reports_dir = Path(reports_dir)
    rows = index_rows(reports_dir)
    html = (
        environment()
        .get_template("index.html.j2")
        .render(rows=rows, folder=str(reports_dir.resolve()))
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / INDEX_FILE
    staging = reports_dir / f".{INDEX_FILE}.partial-{os.getpid()}"
    staging.write_text(html, encoding="utf-8", newline="\n")
    os.replace(staging, target)
    return target


def update_index_for(folder: Path, reports_dir: Path) -> Path | None:
    """Rewrite the index when ``folder`` was published directly under ``reports_dir``."""
    if Path(folder).resolve().parent != Path(reports_dir).resolve():
        return None
    return write_index(Path(reports_dir))
