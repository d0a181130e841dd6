"""Learn a lexicon from headlines and the returns that followed them (SESTM-style), point in time.

Ke, Kelly and Xiu ("Predicting Returns with Text Data", 2019) learn word sentiment from which
words co-occur with subsequent returns. This module does it inside a training window only:

1. Window. Headlines published on a day in [train_start, train_end] (their day in
   ``data.headlines_tz``) and price rows dated in the window. Prices are cut BEFORE the panel is
   built, so a later price cannot leak even by accident.
2. Label. Each headline gets its tradeable session s exactly as ``backtest run`` places it
   (``place_headlines``); its label is the return from s's execution price to session s+1's
   (open -> next open, or close -> next close), minus the equal-weight mean of the tickers'
   returns over the same two sessions ("abnormal", the default) or as is ("raw"). Headlines
   whose s+1 is not a session of the window (the label would need a later price) are dropped.
3. Screen (SESTM step 1). Terms are the scorer's own tokens (its kernel tokeniser) and adjacent
   token pairs, counted once per headline; tokens holding digits are left out. ``f_j`` is the
   share of positive labels among the headlines holding term j. Keep terms in at least
   ``min_count`` labelled headlines and, on each side, the ``top_k`` furthest from the base rate
   ``pi`` (the share of positive labels overall) after shrinking ``f_j`` toward ``pi`` by
   ``prior_headlines`` pseudo-headlines, so that a rare term needs a larger gap to be kept.
4. Weigh (SESTM step 2, the topic step). Regress the screened-term frequencies of each headline
   on ``[p_i, 1 - p_i]`` (p_i = the label's rank in (0, 1)) to estimate the positive and negative
   term distributions O+ and O-; negative estimates are set to 0 and each column sums to 1.
   The term's weight is ``WEIGHT_SCALE * (O+ - O-) / (O+ + O-)``, so in [-3, 3]. A term whose
   weight sign disagrees with its screening side is dropped.
5. Write. ``LearnedLexicon.to_csv`` writes ``word`` rows in the format ``load_lexicon`` reads,
   behind a comment block recording window, data fingerprints, counts and parameters.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import LEXICON_MIN_COUNT, LEXICON_TOP_K
from backtest.data.files import file_sha256
from backtest.errors import InputError
from backtest.scoring import LEARNED_TITLE

if TYPE_CHECKING:
    from backtest.config import StrategyConfig
    from backtest.market import LoadedData, Market

LABELS = ("abnormal", "raw")
"""Label returns: minus the tickers' equal-weight mean over the same sessions, or as is."""

WEIGHT_SCALE = 3.0
"""A term whose headlines all fall in the top (bottom) third of returns weighs +3 (-3)."""

DEFAULT_PRIOR_HEADLINES = 50.0


@dataclass(frozen=True)
class LabelledHeadlines:
    """Headlines of a window with their tradeable session and label return (all finite)."""

    frame: pd.DataFrame
    """The loader's columns plus session_idx, ticker_idx and label (the return, a fraction)."""
    dates: pd.DatetimeIndex
    """Session dates of the window's grid (session_idx indexes it)."""
    in_window: int
    """Headlines published in the window with a ticker that has prices."""
    dropped_needs_later_price: int
    """Dropped: their label would need a price after the window's last session."""
    dropped_missing_price: int
    """Dropped: a price of the label's two sessions is missing."""


@dataclass(frozen=True)
class LearnedTerm:
    """One learned lexicon row and the statistics it came from."""

    term: str
    weight: float
    labels: int
    """Ticker-session labels (non-zero return) whose headlines hold the term."""
    positive_share: float
    """f_j: share of those labels that are positive."""


@dataclass(frozen=True)
class LearnedLexicon:
    """A learned lexicon: its terms (weight descending, then term) and how it was learned."""

    terms: tuple[LearnedTerm, ...]
    train_start: str
    train_end: str
    parameters: dict[str, Any]
    counts: dict[str, Any]
    sources: tuple[tuple[str, str], ...]
    """(data source, sha256 of the file or "n/a") for prices and headlines."""
    created: str = field(default_factory=lambda: dt.date.today().isoformat())
    training: LabelledHeadlines | None = field(default=None, compare=False, repr=False)
    """The labelled training headlines (not written; for in-sample diagnostics)."""

    def top(self, n: int, side: int) -> list[LearnedTerm]:
        """The ``n`` strongest terms of one side (+1 positive, -1 negative), strongest first."""
        chosen = [t for t in self.terms if t.weight * side > 0]
        return sorted(chosen, key=lambda t: (-abs(t.weight), t.term))[:n]

    def header_lines(self) -> list[str]:
        """The comment block written above the CSV header."""
        lines = [
            f"{LEARNED_TITLE} (SESTM-style; backtest lexicon learn).",
            f"created: {self.created}",
            f"training window: {self.train_start} .. {self.train_end} (nothing later was read)",
        ]
        lines += [f"data: {source} sha256={digest}" for source, digest in self.sources]
        lines.append("counts: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.counts.items()))
        lines.append(
            "parameters: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.parameters.items())
        )
        lines.append(
            "method: screen terms by positive-label share vs the base rate, weigh by SESTM's "
            "topic step; see docs/LEXICON-LEARNING.md"
        )
        return lines

    def to_csv(self, path: str | Path) -> Path:
        """Write the lexicon atomically (temp file + rename); returns the path."""
        path = Path(path)
        body = [f"# {line}" for line in self.header_lines()]
        body.append("term,weight,kind")
        body += [f"{t.term},{t.weight:.3f},word" for t in self.terms]
        text = "\n".join(body) + "\n"
        folder = path.parent if str(path.parent) else Path(".")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(
                f"cannot write the lexicon ({exc.__class__.__name__}: {exc.strerror})",
                file=path,
                hint="choose a writable --out path",
            ) from None
        return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parse_day(value: str | dt.date, flag: str) -> dt.date:
    """A YYYY-MM-DD option value as a date, or an InputError naming the option."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{flag} {value!r} is not a date", hint="use YYYY-MM-DD") from None


# ---- tokens and terms -------------------------------------------------------------------------


def tokenize_texts(texts: Sequence[Any] | np.ndarray) -> list[tuple[str, ...]]:
    """The scorer's tokens of each text: its own kernel tokeniser (lower-case; links, $CASHTAGS,
    @users, RT and HTML entities handled exactly as when scoring). Non-strings give ()."""
    from backtest.kernels.scoring import _tokenize
    from backtest.scoring import encode_texts

    items = list(texts.tolist() if isinstance(texts, np.ndarray) else texts)
    codes, uniques = pd.factorize(pd.Series(items, dtype=object), use_na_sentinel=True)
    unique_texts = [u if isinstance(u, str) else "" for u in uniques]
    buf, offsets = encode_texts(unique_texts)
    longest = int(np.diff(offsets).max()) + 1 if len(unique_texts) else 1
    norm = np.empty(longest, dtype=np.uint8)
    tok_start = np.empty(longest, dtype=np.int64)
    tok_end = np.empty(longest, dtype=np.int64)
    tok_hash = np.empty(longest, dtype=np.uint64)
    src_start = np.empty(longest, dtype=np.int64)
    src_end = np.empty(longest, dtype=np.int64)
    unique_tokens: list[tuple[str, ...]] = []
    for i in range(len(unique_texts)):
        n = _tokenize(
            buf, offsets[i], offsets[i + 1], norm, tok_start, tok_end, tok_hash, src_start, src_end
        )[0]
        if n == 0:
            unique_tokens.append(())
            continue
        raw = norm[: tok_end[n - 1]].tobytes().decode("ascii")
        unique_tokens.append(
            tuple(
                raw[s:e] for s, e in zip(tok_start[:n].tolist(), tok_end[:n].tolist(), strict=True)
            )
        )
    return [unique_tokens[c] if c >= 0 else () for c in codes.tolist()]


def _usable(token: str) -> bool:
    """Tokens worth a lexicon row: no digits (prices, dates, counts) and not a lone 'rt'."""
    return token != "rt" and not any(ch.isdigit() for ch in token)


def headline_terms(tokens: Sequence[str], phrases: bool) -> set[str]:
    """The distinct terms of one headline: usable tokens and, with ``phrases``, adjacent pairs
    of usable tokens (as the scorer sees them: adjacent after links and cashtags are dropped)."""
    terms = {t for t in tokens if _usable(t)}
    if phrases:
        terms.update(
            f"{a} {b}"
            for a, b in zip(tokens, tokens[1:], strict=False)
            if _usable(a) and _usable(b)
        )
    return terms


@dataclass(frozen=True)
class TermIncidence:
    """Which headline holds which term, as parallel (doc, term) index arrays (one per pair)."""

    vocabulary: tuple[str, ...]
    doc_idx: np.ndarray
    term_idx: np.ndarray


def term_incidence(token_lists: Sequence[Sequence[str]], phrases: bool) -> TermIncidence:
    """Each headline's distinct terms as (doc, term) pairs; vocabulary ids in sorted term order."""
    per_doc = [headline_terms(tokens, phrases) for tokens in token_lists]
    vocabulary = tuple(sorted(set().union(*per_doc))) if per_doc else ()
    term_id = {term: i for i, term in enumerate(vocabulary)}
    lengths = np.fromiter((len(terms) for terms in per_doc), dtype=np.int64, count=len(per_doc))
    doc_idx = np.repeat(np.arange(len(per_doc), dtype=np.int64), lengths)
    term_idx = np.fromiter(
        (term_id[t] for terms in per_doc for t in sorted(terms)),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    return TermIncidence(vocabulary=vocabulary, doc_idx=doc_idx, term_idx=term_idx)


def merge_documents(incidence: TermIncidence, group_of_doc: np.ndarray) -> TermIncidence:
    """The incidence of groups of documents: a term counts once per group (``group_of_doc[d]``
    is document d's group id, 0..n_groups-1). Pairs come out sorted by (group, term)."""
    n_terms = max(len(incidence.vocabulary), 1)
    groups = np.asarray(group_of_doc, dtype=np.int64)[incidence.doc_idx]
    keys = np.unique(groups * n_terms + incidence.term_idx)
    return TermIncidence(
        vocabulary=incidence.vocabulary, doc_idx=keys // n_terms, term_idx=keys % n_terms
    )


# ---- labels -----------------------------------------------------------------------------------


def next_session_returns(exec_price: np.ndarray, abnormal: bool) -> np.ndarray:
    """(n_sessions, n_tickers) return from session t's execution price to t+1's; NaN on the last
    row and where a price is missing. ``abnormal`` subtracts the row's mean over the finite
    tickers (NaN when fewer than two tickers have a return that session)."""
    price = np.asarray(exec_price, dtype=np.float64)
    returns = np.full(price.shape, np.nan)
    if price.shape[0] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            step = price[1:] / price[:-1] - 1.0
        returns[:-1] = np.where(np.isfinite(step) & (price[:-1] > 0), step, np.nan)
    if abnormal:
        finite = np.isfinite(returns)
        n = finite.sum(axis=1)
        total = np.where(finite, returns, 0.0).sum(axis=1)
        mean = np.where(n >= 2, total / np.maximum(n, 1), np.nan)
        returns = returns - mean[:, None]
    return returns


def window_inputs(
    data: LoadedData, start: dt.date, end: dt.date, headlines_tz: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Headlines published on a day in [start, end] (in ``headlines_tz``) and prices dated in it."""
    prices = data.prices
    dates = prices["date"]
    prices = prices.loc[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    headlines = data.headlines
    day = headlines["published_at"].dt.tz_convert(headlines_tz).dt.tz_localize(None).dt.normalize()
    keep = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    return prices.reset_index(drop=True), headlines.loc[keep].reset_index(drop=True)


def label_headlines(
    config: StrategyConfig,
    start: str | dt.date,
    end: str | dt.date,
    *,
    label: str = "abnormal",
    market: Market | None = None,
) -> LabelledHeadlines:
    """Headlines of [start, end] with their next-session label return, reading nothing after end.

    Prices are cut to the window before the panel is built; headlines are placed with
    ``place_headlines`` (the same rules as ``backtest run``); a headline whose label needs the
    session after the window's last is dropped. ``market`` skips loading (its inputs are cut the
    same way: the window's own panel is built, never the market's, so no later price is read).
    """
    from backtest.calendar import load_sessions
    from backtest.data.panel import build_panel
    from backtest.market import prepare
    from backtest.signals import place_headlines

    first, last = parse_day(start, "--train-start"), parse_day(end, "--train-end")
    if first > last:
        raise InputError(
            f"the window starts ({first}) after it ends ({last})", hint="swap the two dates"
        )
    if label not in LABELS:
        raise InputError(f"unknown label {label!r}", hint="use one of " + ", ".join(LABELS))
    data = (market if market is not None else prepare(config)).data
    if data.released_prices is not None:
        raise InputError(
            "headline labels need the market's price rows, released with its intraday panel",
            file=data.prices_source,
            hint="label headlines with a market whose panel was not built, or on daily prices",
        )
    prices, headlines = window_inputs(data, first, last, config.data.headlines_tz)
    if prices.empty:
        raise InputError(
            f"no prices dated {first}..{last}",
            file=data.prices_source,
            hint="choose a window inside the price data",
        )
    abnormal = label == "abnormal"
    if abnormal and prices["ticker"].nunique() < 2:
        raise InputError(
            "abnormal returns need at least two tickers with prices in the window",
            file=data.prices_source,
            hint="use --label raw for a single ticker",
        )
    sessions = load_sessions(config.data.calendar, first, last)
    panel = build_panel(prices, sessions, adjust=config.data.adjust, source=data.prices_source)
    placed = place_headlines(
        headlines,
        np.zeros(len(headlines)),
        panel,
        headlines_tz=config.data.headlines_tz,
        at=config.execution.at,
        latency_ns=config.execution.latency_ns,
    )
    frame = placed.frame.drop(columns="score")
    returns = next_session_returns(panel.exec_price(config.execution.at), abnormal)
    session_idx = frame["session_idx"].to_numpy(np.int64)
    labels = returns[session_idx, frame["ticker_idx"].to_numpy(np.int64)]
    at_last = session_idx == len(sessions) - 1
    finite = np.isfinite(labels)
    kept = frame.assign(label=labels).loc[finite].reset_index(drop=True)
    return LabelledHeadlines(
        frame=kept,
        dates=panel.dates,
        in_window=len(headlines) - placed.dropped_no_prices,
        dropped_needs_later_price=placed.dropped_after_data + int(at_last.sum()),
        dropped_missing_price=int((~finite & ~at_last).sum()),
    )


# ---- screening and weights (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class Screening:
    """Per-term label counts and the terms kept on each side."""

    labels: np.ndarray
    """k_j: documents with a non-zero label holding term j."""
    positive: np.ndarray
    """Of those, how many had a positive label."""
    base_rate: float
    """pi: share of positive labels among all documents with a non-zero label."""
    kept: np.ndarray
    """Indices of kept terms (ascending)."""
    side: np.ndarray
    """+1 / -1 per kept term."""


def screen_terms(
    incidence: TermIncidence,
    labels: np.ndarray,
    *,
    min_count: int,
    top_k: int,
    prior_headlines: float,
) -> Screening:
    """SESTM step 1 against the base rate: keep the ``top_k`` terms per side whose shrunken
    positive share ``(pos_j + m pi) / (k_j + m)`` is furthest from ``pi`` (ties by term)."""
    labels = np.asarray(labels, dtype=np.float64)
    n_terms = len(incidence.vocabulary)
    signed = np.sign(labels)
    counted = signed[incidence.doc_idx] != 0
    docs, terms = incidence.doc_idx[counted], incidence.term_idx[counted]
    k = np.bincount(terms, minlength=n_terms).astype(np.int64)
    pos = np.bincount(terms, weights=(signed[docs] > 0), minlength=n_terms).astype(np.int64)
    n_signed = int((signed != 0).sum())
    base_rate = float((signed > 0).sum() / n_signed) if n_signed else math.nan
    if not n_signed:
        empty = np.zeros(0, dtype=np.int64)
        return Screening(k, pos, base_rate, empty, empty)
    shrunk = (pos + prior_headlines * base_rate) / (k + prior_headlines)
    gap = shrunk - base_rate
    eligible = k >= min_count
    kept: list[int] = []
    sides: list[int] = []
    for side in (1, -1):
        candidates = np.flatnonzero(eligible & (gap * side > 0))
        # lexsort: last key is primary; the term index breaks ties (vocabulary is sorted)
        order = candidates[np.lexsort((candidates, -np.abs(gap[candidates])))][:top_k]
        kept += order.tolist()
        sides += [side] * len(order)
    order = np.argsort(kept, kind="stable")
    return Screening(
        labels=k,
        positive=pos,
        base_rate=base_rate,
        kept=np.asarray(kept, dtype=np.int64)[order],
        side=np.asarray(sides, dtype=np.int64)[order],
    )


def rank_normalise(values: np.ndarray) -> np.ndarray:
    """Average ranks scaled to (0, 1): (rank - 0.5) / n."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values.copy()
    ranks = pd.Series(values).rank(method="average").to_numpy(np.float64)
    return (ranks - 0.5) / len(values)


def topic_tone(
    doc_idx: np.ndarray, term_idx: np.ndarray, n_terms: int, p: np.ndarray
) -> np.ndarray:
    """SESTM step 2: (O+ - O-) / (O+ + O-) per term, NaN where both are 0.

    ``doc_idx``/``term_idx`` list the (headline, screened term) pairs; each headline's row is
    its term indicators divided by their count; O = D W' (W W')^-1 with W = [p; 1 - p], negative
    entries set to 0 and each column scaled to sum to 1.
    """
    p = np.asarray(p, dtype=np.float64)
    per_doc = np.bincount(doc_idx, minlength=len(p)).astype(np.float64)
    used = per_doc > 0
    share = 1.0 / per_doc[doc_idx]
    dw = np.column_stack(
        [
            np.bincount(term_idx, weights=share * p[doc_idx], minlength=n_terms),
            np.bincount(term_idx, weights=share * (1.0 - p[doc_idx]), minlength=n_terms),
        ]
    )
    w = np.vstack([p[used], 1.0 - p[used]])
    gram = w @ w.T
    if abs(np.linalg.det(gram)) < 1e-12:
        return np.full(n_terms, np.nan)
    topics = np.clip(dw @ np.linalg.inv(gram), 0.0, None)
    sums = topics.sum(axis=0)
    topics = topics / np.where(sums > 0, sums, 1.0)
    total = topics[:, 0] + topics[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (topics[:, 0] - topics[:, 1]) / total, np.nan)


def learned_weights(
    incidence: TermIncidence, labels: np.ndarray, screening: Screening
) -> dict[int, float]:
    """Weight per kept term (vocabulary index -> weight in [-3, 3], rounded to 0.001), keeping
    only terms whose weight sign agrees with their screening side."""
    kept = screening.kept
    if len(kept) == 0:
        return {}
    local = np.full(len(incidence.vocabulary), -1, dtype=np.int64)
    local[kept] = np.arange(len(kept))
    in_set = local[incidence.term_idx] >= 0
    p = rank_normalise(labels)
    tone = topic_tone(incidence.doc_idx[in_set], local[incidence.term_idx[in_set]], len(kept), p)
    weights: dict[int, float] = {}
    for j, side, t in zip(kept.tolist(), screening.side.tolist(), tone.tolist(), strict=True):
        weight = round(WEIGHT_SCALE * t, 3) if math.isfinite(t) else 0.0
        if weight * side > 0:
            weights[j] = weight
    return weights


# ---- the whole learning step ------------------------------------------------------------------


def _sha256_or_na(path: Path | None) -> str:
    """sha256 of an input file ("n/a" when the input was not a single file)."""
    return file_sha256(path) if path is not None and Path(path).is_file() else "n/a"


def learn_lexicon(
    config: StrategyConfig,
    train_start: str | dt.date,
    train_end: str | dt.date,
    *,
    min_count: int = LEXICON_MIN_COUNT,
    top_k: int = LEXICON_TOP_K,
    phrases: bool = True,
    label: str = "abnormal",
    prior_headlines: float = DEFAULT_PRIOR_HEADLINES,
    market: Market | None = None,
) -> LearnedLexicon:
    """Learn a lexicon from the headlines and prices of [train_start, train_end] only.

    ``config`` supplies the data files, tickers, calendar, time zone and execution mode (which
    sets the label: open -> next open or close -> next close). ``market`` reuses already loaded
    inputs (e.g. one load for many walk-forward windows); they are cut to the window here.
    """
    from backtest.market import prepare

    if min_count < 1 or top_k < 1:
        raise InputError(
            "--min-count and --top must be at least 1", hint="for example --min-count 30 --top 100"
        )
    market = market if market is not None else prepare(config)
    data = market.data
    labelled = label_headlines(config, train_start, train_end, label=label, market=market)
    frame = labelled.frame
    cells = frame.groupby(["ticker_idx", "session_idx"], sort=True).ngroup().to_numpy(np.int64)
    labels = np.full(int(cells.max()) + 1 if len(cells) else 0, np.nan)
    labels[cells] = frame["label"].to_numpy(np.float64)
    incidence = merge_documents(
        term_incidence(tokenize_texts(frame["headline"].to_numpy(object)), phrases), cells
    )
    screening = screen_terms(
        incidence, labels, min_count=min_count, top_k=top_k, prior_headlines=prior_headlines
    )
    weights = learned_weights(incidence, labels, screening)
    terms = [
        LearnedTerm(
            term=incidence.vocabulary[j],
            weight=w,
            labels=int(screening.labels[j]),
            positive_share=float(screening.positive[j] / screening.labels[j]),
        )
        for j, w in weights.items()
    ]
    terms.sort(key=lambda t: (-t.weight, t.term))
    if not terms:
        raise InputError(
            f"no term passed the screening in {train_start}..{train_end} "
            f"({len(frame)} labelled headlines)",
            file=data.headlines_source,
            hint="widen the training window or lower --min-count",
        )
    counts: dict[str, Any] = {
        "headlines_in_window": labelled.in_window,
        "labelled": len(frame),
        "labels": len(labels),
        "dropped_label_after_window": labelled.dropped_needs_later_price,
        "dropped_missing_price": labelled.dropped_missing_price,
        "positive_share": screening.base_rate,
        "terms_seen": len(incidence.vocabulary),
        "terms_screened": len(screening.kept),
        "terms_kept": len(terms),
    }
    parameters: dict[str, Any] = {
        "min_count": min_count,
        "top_k": top_k,
        "phrases": phrases,
        "label": label,
        "prior_headlines": prior_headlines,
        "execution.at": config.execution.at,
        "execution.latency": config.execution.latency,
        "calendar": config.data.calendar,
        "headlines_tz": config.data.headlines_tz,
        "adjust": config.data.adjust,
        "tickers": ",".join(config.data.tickers) or "all",
    }
    return LearnedLexicon(
        terms=tuple(terms),
        train_start=parse_day(train_start, "--train-start").isoformat(),
        train_end=parse_day(train_end, "--train-end").isoformat(),
        parameters=parameters,
        counts=counts,
        sources=(
            (data.prices_source, _sha256_or_na(data.prices_file)),
            (data.headlines_source, _sha256_or_na(data.headlines_file)),
        ),
        training=labelled,
    )


def rank_ic(scores: np.ndarray, labels: np.ndarray) -> float:
    """Spearman rank correlation of headline scores with their label returns (NaN if undefined)."""
    from backtest.analytics.events import spearman

    return spearman(scores, labels, min_count=3)


def label_ic(
    scores: np.ndarray, labels: np.ndarray, ticker_idx: np.ndarray, session_idx: np.ndarray
) -> float:
    """Spearman IC with one point per ticker-session label: the mean score of its headlines vs
    the label return (retweet bursts count once, as in the learning step)."""
    cells = pd.DataFrame(
        {
            "ticker": np.asarray(ticker_idx),
            "session": np.asarray(session_idx),
            "score": np.asarray(scores, dtype=np.float64),
            "label": np.asarray(labels, dtype=np.float64),
        }
    )
    grouped = cells.groupby(["ticker", "session"], sort=True).agg(
        score=("score", "mean"), label=("label", "first")
    )
    return rank_ic(grouped["score"].to_numpy(), grouped["label"].to_numpy())
