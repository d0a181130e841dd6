"""Load a peers file (ticker, peer, weight, optional relation): links that carry news across.

A row says "news about ``ticker`` is news about ``peer``, times ``weight``" (signed: a
competitor can be negative). Files read like every input (CSV, CSV.GZ, JSONL, Parquet);
``$`` signs are removed and tickers upper-cased.

Refused with ``InputError`` (file, row, what to do): a missing ticker, peer or weight column;
an empty ticker or peer; a weight that is not a finite number; a row linking a ticker to
itself; the same (ticker, peer) twice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.tables import as_text, normalise_columns, read_table
from backtest.errors import InputError

__all__ = ["PEER_COLUMNS", "load_peers", "peers_from_frame"]

PEER_COLUMNS = ("ticker", "peer", "weight", "relation")


def load_peers(path: str | Path) -> pd.DataFrame:
    """The validated rows of a peers file: ticker, peer, weight (float), relation (text)."""
    return peers_from_frame(read_table(path, what="peers"), source=str(path))


def peers_from_frame(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Validate a peers table the caller already holds (errors name ``source``)."""
    frame = normalise_columns(raw, source=source, what="peers")
    for column in ("ticker", "peer", "weight"):
        if column not in frame.columns:
            raise InputError(
                f"peers file has no '{column}' column",
                file=source,
                hint="give the columns ticker, peer, weight and optionally relation",
            )
    ticker = _symbols(frame["ticker"])
    peer = _symbols(frame["peer"])
    for name, column in (("ticker", ticker), ("peer", peer)):
        empty = np.flatnonzero(column.eq("").to_numpy())
        if len(empty):
            raise InputError(
                f"empty {name}",
                file=source,
                row=int(empty[0]) + 1,
                column=name,
                hint="name a ticker on every row",
            )
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(weight))
    if len(bad):
        row = int(bad[0])
        raise InputError(
            f"weight {frame['weight'].iloc[row]!r} is not a finite number",
            file=source,
            row=row + 1,
            column="weight",
            hint="give a signed number such as 0.5 or -0.3",
        )
    same = np.flatnonzero((ticker == peer).to_numpy())
    if len(same):
        raise InputError(
            f"{ticker.iloc[same[0]]} is linked to itself",
            file=source,
            row=int(same[0]) + 1,
            hint="a peer must be another ticker",
        )
    repeated = np.flatnonzero(pd.DataFrame({"t": ticker, "p": peer}).duplicated().to_numpy())
    if len(repeated):
        row = int(repeated[0])
        raise InputError(
            f"{ticker.iloc[row]} -> {peer.iloc[row]} is listed twice",
            file=source,
            row=row + 1,
            hint="keep one row per (ticker, peer)",
        )
    relation = as_text(frame["relation"]) if "relation" in frame.columns else ""
    return pd.DataFrame(
        {"ticker": ticker, "peer": peer, "weight": weight, "relation": relation}
    ).reset_index(drop=True)


def _symbols(column: pd.Series) -> pd.Series:
    return as_text(column).str.strip().str.lstrip("$").str.upper()
