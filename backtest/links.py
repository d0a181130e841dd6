"""Links between tickers: who names whom in the news, who is whose peer, point in time.

1. Named tickers: each loaded row's text names symbols ($CASHTAG, (TICKER); news_quality's
   story features); those with prices become panel columns (``LinkInputs.named_*``).
2. Stories: the counted rows of one text at one instant are one story (a tweet filed under
   AAPL and GOOG is one story), naming its rows' tickers and the tickers its text names.
3. Co-mention weight A -> B at session t: the share of A's stories that also name B, over
   the stories tradeable in the ``signal.comention_window`` sessions before t, once at least
   ``signal.comention_min`` stories name both (kernels.links).
4. Peers: a fixed signed matrix from ``data.peers`` (data.peers), each row both ways unless
   ``data.peers_directed`` or the file has its own row for the way back.
5. Spillover flow of B = sum over A of (co-mention + peer weight A -> B) x A's own normalised
   news flow; signals.py adds ``signal.spillover`` times it to B's own.
6. Intraday bars: stories are placed at bars but learned by session (their ``trading_day``),
   so windows count sessions; a bar's links are those of its session.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.config import SignalConfig
from backtest.data.tables import DataWarning
from backtest.kernels.links import comention_counts, comention_weights, spillover_flow


@dataclass(frozen=True)
class LinkInputs:
    """What links are learned from, on one market's panel columns."""

    named_offsets: np.ndarray
    named_columns: np.ndarray
    """Panel columns each loaded row's text names: named_columns[offsets[i]:offsets[i + 1]]."""
    peer_weights: np.ndarray
    """(n_tickers, n_tickers) signed peers weights A -> B; zeros without a peers file."""
    peers: pd.DataFrame
    """The peers rows between tickers with prices (ticker, peer, weight, relation)."""


@dataclass(frozen=True)
class Stories:
    """Stories sorted by tradeable session, each with its distinct ticker columns (CSR);
    ``session`` counts sessions (not bars) on intraday prices too."""

    session: np.ndarray
    offsets: np.ndarray
    tickers: np.ndarray

    def __len__(self) -> int:
        return len(self.session)


def named_columns(
    text_code: np.ndarray,
    named_offsets: np.ndarray,
    named_symbols: np.ndarray,
    tickers: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Per loaded row, the panel columns its text names (symbols without prices dropped)."""
    column_of = {t: i for i, t in enumerate(tickers)}
    text_columns = np.array([column_of.get(str(s), -1) for s in named_symbols], dtype=np.int64)
    text_keep = text_columns >= 0
    n_texts = len(named_offsets) - 1
    text_of_symbol = np.repeat(np.arange(n_texts), np.diff(named_offsets))
    kept_per_text = np.bincount(text_of_symbol[text_keep], minlength=n_texts)
    kept_columns = text_columns[text_keep]
    text_start = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(kept_per_text, out=text_start[1:])
    lengths = kept_per_text[text_code]
    offsets = np.zeros(len(text_code) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    take = np.repeat(text_start[:-1][text_code] - offsets[:-1], lengths) + np.arange(offsets[-1])
    return offsets, kept_columns[take]


def peer_matrix(
    peers: pd.DataFrame, tickers: tuple[str, ...], *, directed: bool, source: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """The (n, n) signed weights of the peers rows between tickers with prices.

    A row is a link ticker -> peer; unless ``directed`` it also links peer -> ticker where the
    file has no row for that way. Rows naming a ticker without prices are left out with one
    warning.
    """
    column_of = {t: i for i, t in enumerate(tickers)}
    known = peers["ticker"].isin(column_of) & peers["peer"].isin(column_of)
    if not known.all():
        unknown = sorted(
            set(peers.loc[~known, "ticker"]) | set(peers.loc[~known, "peer"]) - set(column_of)
        )
        unknown = [t for t in unknown if t not in column_of]
        warnings.warn(
            f"{source}: {int((~known).sum())} peers rows name tickers without prices "
            f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}); they are ignored",
            DataWarning,
            stacklevel=2,
        )
    kept = peers.loc[known].reset_index(drop=True)
    a = kept["ticker"].map(column_of).to_numpy(np.int64)
    b = kept["peer"].map(column_of).to_numpy(np.int64)
    weights = np.zeros((len(tickers), len(tickers)), dtype=np.float64)
    if not directed:
        weights[b, a] = kept["weight"].to_numpy(np.float64)
    weights[a, b] = kept["weight"].to_numpy(np.float64)
    return weights, kept


def stories(frame: pd.DataFrame, inputs: LinkInputs) -> Stories:
    """The stories of placed rows (columns row, ticker_idx, session_idx, text_hash,
    published_at, and trading_day on bars): one per (text, instant), naming its rows' tickers
    and its text's, at the session it became tradeable in."""
    if frame.empty:
        empty = np.zeros(0, dtype=np.int64)
        return Stories(empty, np.zeros(1, dtype=np.int64), empty)
    story_id = _story_ids(
        frame["text_hash"].to_numpy(np.int64),
        frame["published_at"].to_numpy("datetime64[ns]").view(np.int64),
    )
    rows = frame["row"].to_numpy(np.int64)
    lo, hi = inputs.named_offsets[rows], inputs.named_offsets[rows + 1]
    lengths = hi - lo
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    take = np.repeat(lo - starts[:-1], lengths) + np.arange(starts[-1])
    members = np.concatenate([frame["ticker_idx"].to_numpy(np.int64), inputs.named_columns[take]])
    owners = np.concatenate([story_id, np.repeat(story_id, lengths)])
    n_tickers = inputs.peer_weights.shape[0]
    pairs = np.unique(owners * n_tickers + members)
    owner, member = pairs // n_tickers, pairs % n_tickers
    session = np.zeros(story_id.max() + 1, dtype=np.int64)
    day = "trading_day" if "trading_day" in frame.columns else "session_idx"
    np.maximum.at(session, story_id, frame[day].to_numpy(np.int64))
    order = np.argsort(session, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    by_rank = np.lexsort((member, rank[owner]))
    counts = np.bincount(rank[owner], minlength=len(order))
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Stories(session[order], offsets, member[by_rank])


def _story_ids(text_hash: np.ndarray, published_ns: np.ndarray) -> np.ndarray:
    """0-based ids, one per distinct (text, instant) pair."""
    order = np.lexsort((published_ns, text_hash))
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (np.diff(text_hash[order]) != 0) | (np.diff(published_ns[order]) != 0)
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.cumsum(starts) - 1
    return ids


def link_spillover(
    own_flow: np.ndarray,
    story_set: Stories,
    inputs: LinkInputs,
    signal: SignalConfig,
    row_session: np.ndarray,
) -> np.ndarray:
    """The (n_rows, n_tickers) flow that reaches each ticker through ``signal.links``;
    ``row_session`` is each row's session (PricePanel.row_session)."""
    peers = inputs.peer_weights if signal.links != "comentions" else _no_peers(own_flow.shape[1])
    return spillover_flow(
        story_set.session,
        story_set.offsets,
        story_set.tickers,
        np.ascontiguousarray(own_flow, dtype=np.float64),
        np.ascontiguousarray(row_session, dtype=np.int64),
        np.ascontiguousarray(peers),
        signal.links != "peers",
        signal.comention_window,
        signal.comention_min,
    )


def links_at(
    session: int, story_set: Stories, inputs: LinkInputs, signal: SignalConfig
) -> np.ndarray:
    """The (n, n) weights A -> B of ``signal.links`` in force at ``session`` (a session
    index: on bars, the session of the row read)."""
    n = inputs.peer_weights.shape[0]
    weights = _no_peers(n) if signal.links == "comentions" else inputs.peer_weights.copy()
    if signal.links != "peers":
        weights += comention_weights(
            story_set.session,
            story_set.offsets,
            story_set.tickers,
            n,
            int(session),
            signal.comention_window,
            signal.comention_min,
        )
    np.fill_diagonal(weights, 0.0)
    return weights


def _no_peers(n_tickers: int) -> np.ndarray:
    return np.zeros((n_tickers, n_tickers), dtype=np.float64)


def top_comentions(
    story_set: Stories, tickers: tuple[str, ...], rows: slice, min_stories: int, limit: int = 15
) -> pd.DataFrame:
    """The pairs named together most often in stories tradeable in ``rows`` (the period, in
    sessions).

    Columns: ticker, peer, stories (naming both), share (of the ticker's stories that name
    the peer), share_back (of the peer's that name the ticker). Pairs below ``min_stories``
    are left out; one row per unordered pair, the ticker being the one with fewer stories.
    """
    n = len(tickers)
    first = rows.start or 0
    last = (rows.stop if rows.stop is not None else int(story_set.session.max(initial=0)) + 1) - 1
    together, per_ticker = comention_counts(
        story_set.session, story_set.offsets, story_set.tickers, n, first, last
    )
    a, b = np.nonzero(np.triu(together >= max(1, min_stories), 1))
    frame = pd.DataFrame({"a": a, "b": b, "stories": together[a, b]})
    if frame.empty:
        return pd.DataFrame(columns=["ticker", "peer", "stories", "share", "share_back"])
    smaller_first = per_ticker[frame["a"]] <= per_ticker[frame["b"]]
    ticker = np.where(smaller_first, frame["a"], frame["b"])
    peer = np.where(smaller_first, frame["b"], frame["a"])
    out = pd.DataFrame(
        {
            "ticker": np.asarray(tickers, dtype=object)[ticker],
            "peer": np.asarray(tickers, dtype=object)[peer],
            "stories": frame["stories"].to_numpy(),
            "share": frame["stories"].to_numpy() / per_ticker[ticker],
            "share_back": frame["stories"].to_numpy() / per_ticker[peer],
        }
    )
    return out.sort_values(["stories", "share"], ascending=False, kind="stable").head(limit)
