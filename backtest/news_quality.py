"""Which headlines count: reprints, novelty, relevance and source weights, point in time.

Computed once per data set (the market) and applied per strategy (``counted``):

1. Normalised text (``scoring.normalise_text``): entities decoded, lower case, URLs,
   ``RT @user:`` prefixes, cashtags, handles and punctuation stripped. Its hash identifies a
   story's text; an empty text (a bare link) is never anybody's reprint.
2. Reprints: a story whose normalised text equals the same ticker's previous story with that
   text (by publication time; at the same instant, by file order) and is tradeable at most
   ``news.duplicate_window - 1`` sessions after it is a reprint of that chain's first story.
   Reprints add to neither the score sum nor the headline count of the news flow.
3. Novelty (kernels/novelty.py): 1 - the highest Jaccard similarity of word-pair shingles with
   the same ticker's stories published strictly earlier in the last ``news.novelty_window``
   sessions. A story's session here is its *news day*: the first session whose open follows
   its publication, whatever the strategy's execution, so novelty is one number per story.
4. Relevance of a (story, ticker): (0.5 + 0.5 m) / sqrt(n), with n the tickers the story names
   (its ticker column plus the cashtags and "(TICKER)" in its text; the text never adds a
   ticker to a story) and m = 1 - (position of the ticker's first mention / text length) when
   the text mentions it ($TICKER, (TICKER) or the bare upper-case symbol), else 0. A story
   about one ticker that names it first reads 1; a ten-ticker list reads at most 0.32.
5. Source weights: ``news.source_weights`` glob patterns on the source column, "*" for the
   rest, 1 when no pattern matches and there is no "*".

Steps 1, 3 and 4 cost seconds on 10^5 headlines, so their arrays are kept on disk
(``cached``): one .npz per content, named by the sha256 of the headlines (time, ticker, text,
record), of the news days (novelty) and of this module's code, so a changed input or a changed
rule never reads an old file. ``$NEWS_BACKTEST_NEWS_CACHE`` moves the folder; an unwritable
folder only means computing again.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.config import NewsConfig
from backtest.paths import news_features_cache_dir

STALE_BELOW_NOVELTY = 0.2
"""A story with novelty below this is 'stale' in the report, validate and the split event study."""
MULTI_TICKER_OVER = 3
"""A story naming more tickers than this is a 'multi-ticker' list in the report and validate."""

_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z0-9.\-]{0,9})(?![A-Za-z0-9])")
_PAREN = re.compile(r"\(([A-Z][A-Z0-9.\-]{0,9})\)")


@dataclass(frozen=True)
class StoryFeatures:
    """Per loaded headline row (aligned with the loader's frame)."""

    text_hash: np.ndarray
    """int64 hash of the normalised text; 0 for an empty text."""
    n_named: np.ndarray
    """int64: tickers the story names."""
    relevance: np.ndarray
    """float64 in [0, 1]: how much the story is about the row's ticker."""
    shingle_offsets: np.ndarray
    shingle_hashes: np.ndarray
    """Each row's sorted unique word-pair hashes: hashes[offsets[i]:offsets[i + 1]]."""
    text_code: np.ndarray
    """int64: each row's distinct text (rows of one story across tickers share it)."""
    named_offsets: np.ndarray
    named_symbols: np.ndarray
    """Symbols each distinct text names as $CASHTAG or (TICKER), sorted:
    named_symbols[named_offsets[c]:named_offsets[c + 1]] for text code c."""


def story_features(headlines: pd.DataFrame) -> StoryFeatures:
    """Text hashes, shingles, named tickers and relevance of every loaded headline row.

    Each distinct text is normalised and shingled once (reprints and multi-ticker rows repeat
    texts), then mapped back to the rows.
    """
    from backtest.scoring import normalise_text

    codes, texts = pd.factorize(headlines["headline"].to_numpy(object))
    normalised = [normalise_text(t) for t in texts]
    text_hash = _hash_strings(normalised)
    text_hash[np.array([not t for t in normalised], dtype=bool)] = 0
    offsets, hashes = shingles(normalised)
    lengths = np.diff(offsets)[codes]
    row_offsets = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=row_offsets[1:])
    take = np.repeat(offsets[:-1][codes] - row_offsets[:-1], lengths) + np.arange(row_offsets[-1])
    tagged = [symbols_named(str(t)) for t in texts]
    n_named, relevance = named_tickers(headlines, codes, texts, tagged)
    named_offsets = np.zeros(len(tagged) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in tagged], out=named_offsets[1:])
    named_symbols = np.array([s for t in tagged for s in t], dtype=str)
    return StoryFeatures(
        text_hash[codes],
        n_named,
        relevance,
        row_offsets,
        hashes[take],
        codes.astype(np.int64),
        named_offsets,
        named_symbols,
    )


def symbols_named(text: str) -> list[str]:
    """The symbols a text names as $CASHTAG (any case) or (TICKER), upper-cased and sorted."""
    return sorted({m.upper() for m in _CASHTAG.findall(text)} | set(_PAREN.findall(text)))


def _hash_strings(values: list[str]) -> np.ndarray:
    if not values:
        return np.zeros(0, dtype=np.int64)
    hashed = pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)
    return hashed.view(np.int64).copy()


def shingles(normalised: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique hashes of each text's adjacent word pairs (a one-word text: the word)."""
    pieces: list[str] = []
    lengths = np.zeros(len(normalised), dtype=np.int64)
    for i, text in enumerate(normalised):
        words = text.split()
        grams = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
        if len(words) == 1:
            grams = {words[0]}
        pieces.extend(sorted(grams))
        lengths[i] = len(grams)
    hashes = _hash_strings(pieces)
    offsets = np.zeros(len(normalised) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    for i in range(len(normalised)):
        hashes[offsets[i] : offsets[i + 1]].sort()
    return offsets, hashes


def named_tickers(
    headlines: pd.DataFrame, codes: np.ndarray, texts: np.ndarray, tagged: list[list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """(tickers named, relevance) per row; rows of one input record are one story.

    ``codes``/``texts`` factorize the headline column, ``tagged`` lists each text's symbols.
    """
    records = headlines["record"].to_numpy(np.int64)
    first_code = pd.Series(codes).groupby(records).first()
    from_text = pd.DataFrame(
        {
            "record": np.repeat(first_code.index.to_numpy(), [len(tagged[c]) for c in first_code]),
            "symbol": [s for c in first_code for s in tagged[c]],
        }
    )
    names = pd.concat(
        [
            pd.DataFrame({"record": records, "symbol": headlines["ticker"].to_numpy(object)}),
            from_text,
        ]
    ).drop_duplicates()
    per_record = names.groupby("record").size()
    n_named = per_record.reindex(records).to_numpy(np.int64)
    row_tickers = headlines["ticker"].to_numpy(object)
    pairs = pd.DataFrame({"code": codes, "ticker": row_tickers})
    unique_pairs = pairs.drop_duplicates()
    positions = {
        (code, ticker): _first_mention(str(texts[code]), str(ticker))
        for code, ticker in zip(
            unique_pairs["code"].to_numpy(), unique_pairs["ticker"].to_numpy(object), strict=True
        )
    }
    lengths = np.array([max(1, len(str(t))) for t in texts], dtype=np.float64)[codes]
    mention = np.array(
        [positions[k] for k in zip(codes, row_tickers, strict=True)], dtype=np.float64
    )
    m = np.where(mention < 0, 0.0, 1.0 - mention / lengths)
    relevance = (0.5 + 0.5 * m) / np.sqrt(np.maximum(1, n_named))
    return n_named, relevance


def _first_mention(text: str, ticker: str) -> int:
    """Index of the first $TICKER, (TICKER) or bare upper-case TICKER in ``text``; -1 if none."""
    symbol = re.escape(ticker)
    found = re.search(
        rf"\${symbol}(?![A-Za-z0-9])|\({symbol}\)|(?<![A-Za-z0-9$]){symbol}(?![A-Za-z0-9])",
        text,
        flags=re.IGNORECASE if len(ticker) > 3 else 0,
    )
    return -1 if found is None else found.start()


def news_days(published_ns: np.ndarray, open_ns: np.ndarray) -> np.ndarray:
    """Each story's news day: the first session whose open follows its publication."""
    return np.searchsorted(open_ns, published_ns, side="right").astype(np.int64)


def novelty(
    ticker_idx: np.ndarray,
    day: np.ndarray,
    published_ns: np.ndarray,
    features: StoryFeatures,
    window_sessions: int,
) -> np.ndarray:
    """Novelty per row (module docstring, step 3), in the rows' order."""
    from backtest.kernels.novelty import novelty_scores

    order = np.lexsort((np.arange(len(day)), published_ns, ticker_idx))
    lengths = np.diff(features.shingle_offsets)[order]
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = features.shingle_offsets[:-1][order]
    take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    scores = novelty_scores(
        np.ascontiguousarray(ticker_idx[order], dtype=np.int64),
        np.ascontiguousarray(day[order], dtype=np.int64),
        np.ascontiguousarray(published_ns[order], dtype=np.int64),
        offsets,
        np.ascontiguousarray(features.shingle_hashes[take]),
        int(window_sessions),
    )
    out = np.empty(len(order), dtype=np.float64)
    out[order] = scores
    return out


def reprints(
    ticker_idx: np.ndarray,
    text_hash: np.ndarray,
    published_ns: np.ndarray,
    session_idx: np.ndarray,
    window_sessions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(is_reprint, original) per row: ``original`` is the position of the chain's first story
    (the row itself when it is not a reprint). Module docstring, step 2."""
    n = len(ticker_idx)
    order = np.lexsort((np.arange(n), published_ns, text_hash, ticker_idx))
    t, h, s = (a[order] for a in (ticker_idx, text_hash, session_idx))
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = (t[1:] == t[:-1]) & (h[1:] == h[:-1]) & (h[1:] != 0)
        same[1:] &= s[1:] - s[:-1] <= window_sessions - 1
    root = np.maximum.accumulate(np.where(same, 0, np.arange(n)))
    is_reprint = np.empty(n, dtype=bool)
    original = np.empty(n, dtype=np.int64)
    is_reprint[order] = same
    original[order] = order[root]
    return is_reprint, original


def reprints_of(frame: pd.DataFrame, window_sessions: int) -> tuple[np.ndarray, np.ndarray]:
    """``reprints`` of a placed-headlines frame (ticker_idx, text_hash, published_at,
    session_idx; on intraday bars ``trading_day``, so the window stays in sessions)."""
    day = "trading_day" if "trading_day" in frame.columns else "session_idx"
    return reprints(
        frame["ticker_idx"].to_numpy(np.int64),
        frame["text_hash"].to_numpy(np.int64),
        published_ns_of(frame),
        frame[day].to_numpy(np.int64),
        window_sessions,
    )


def source_weights(sources: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """Weight of each row's source (module docstring, step 5)."""
    if not weights:
        return np.ones(len(sources), dtype=np.float64)
    patterns = [(k, v) for k, v in weights.items() if k != "*"]
    fallback = weights.get("*", 1.0)
    by_source: dict[str, float] = {}
    for source in pd.unique(sources):
        text = str(source)
        by_source[text] = next((v for k, v in patterns if fnmatch.fnmatchcase(text, k)), fallback)
    return np.array([by_source[str(s)] for s in sources], dtype=np.float64)


def counted(frame: pd.DataFrame, news: NewsConfig) -> tuple[np.ndarray, np.ndarray]:
    """(counts, weight) per placed headline: whether it enters the news flow, and the factor
    on its score. ``frame`` holds ticker_idx, session_idx, published_at, text_hash, n_named,
    relevance, novelty and source (placed headlines)."""
    n = len(frame)
    keep = np.ones(n, dtype=bool)
    weight = np.ones(n, dtype=np.float64)
    if n == 0:
        return keep, weight
    if news.dedupe:
        is_reprint, _ = reprints_of(frame, news.duplicate_window)
        keep &= ~is_reprint
    if news.min_novelty > 0:
        keep &= frame["novelty"].to_numpy(np.float64) >= news.min_novelty
    if news.max_tickers > 0:
        keep &= frame["n_named"].to_numpy(np.int64) <= news.max_tickers
    if news.min_relevance > 0:
        keep &= frame["relevance"].to_numpy(np.float64) >= news.min_relevance
    if news.novelty_weight:
        weight *= frame["novelty"].to_numpy(np.float64)
    if news.source_weights:
        weight *= source_weights(frame["source"].to_numpy(object), news.source_weights)
    return keep, weight


def published_ns_of(frame: pd.DataFrame) -> np.ndarray:
    """UTC epoch nanoseconds of a frame's published_at column."""
    return frame["published_at"].to_numpy("datetime64[ns]").view(np.int64)


_CODE_FILES = ("news_quality.py", "scoring.py", "kernels/novelty.py")


def content_key(headlines: pd.DataFrame, *extra: np.ndarray | str) -> str:
    """sha256 of the headlines' time, ticker, text and record, of ``extra`` and of the code."""
    digest = hashlib.sha256()
    columns = headlines[["published_at", "ticker", "headline", "record"]]
    digest.update(pd.util.hash_pandas_object(columns, index=False).to_numpy().tobytes())
    package = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        digest.update((package / name).read_bytes())
    for item in extra:
        digest.update(item.tobytes() if isinstance(item, np.ndarray) else item.encode())
    return digest.hexdigest()


def cached(key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute()``'s arrays, read from the cache file ``key`` when it is there."""
    folder = news_features_cache_dir()
    path = folder / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, KeyError):
        pass
    arrays = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=".partial-", suffix=".npz", dir=folder)
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(staging, path)
    except OSError:
        pass
    return arrays


def cached_story_features(headlines: pd.DataFrame) -> StoryFeatures:
    """``story_features``, kept on disk by content (module docstring)."""
    arrays = cached(content_key(headlines, "features"), lambda: asdict(story_features(headlines)))
    return StoryFeatures(**arrays)


def quality_shares(frame: pd.DataFrame, news: NewsConfig) -> dict[str, int]:
    """Counts of placed headlines that are reprints (within ``news.duplicate_window``), stale
    (novelty below STALE_BELOW_NOVELTY), multi-ticker (over MULTI_TICKER_OVER named) and
    counted under ``news``: what ``backtest data validate`` prints and the report's news block
    shows for the run's period."""
    is_reprint, _ = reprints_of(frame, news.duplicate_window)
    keep, _ = counted(frame, news)
    return {
        "rows": len(frame),
        "reprints": int(is_reprint.sum()),
        "stale": int((frame["novelty"].to_numpy(np.float64) < STALE_BELOW_NOVELTY).sum()),
        "multi_ticker": int((frame["n_named"].to_numpy(np.int64) > MULTI_TICKER_OVER).sum()),
        "counted": int(keep.sum()),
    }
