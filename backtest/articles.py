"""Articles: which tickers an article names, how it reads for each, and their readings.

``article_reading`` finds the tickers (backtest.data.tickers' rules; a parenthesised symbol
counts when it has prices in the data or is in the symbol table), scores the article per
ticker as the average of ``backtest.scoring.score_headlines`` over the sentences that name the
ticker (any mention form, the symbol written bare, the name written before "(TICKER)", and
with ``names`` the symbol table's company name), and reads every ticker that has prices exactly
as ``backtest signal --asof D`` reads session D (``reading.signal_readings``). ``asof``
defaults to the date the article states, else the data's last session.

``article_headlines`` turns a folder of articles into headline rows, one per (article,
ticker), for ``backtest data import-articles``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.config import StrategyConfig
from backtest.data.articles import (
    ARTICLE_SUFFIXES,
    Article,
    read_article,
    sentences,
    stated_or_mtime,
)
from backtest.data.tickers import Mention, company_names, find_tickers, ticker_words
from backtest.errors import InputError
from backtest.reading import Reading

TOP_SENTENCES = 3


@dataclass(frozen=True)
class ScoredSentence:
    score: float
    text: str


@dataclass(frozen=True)
class TickerInArticle:
    ticker: str
    forms: tuple[str, ...]
    mentions: int
    has_prices: bool
    score: float | None
    sentences: int
    top_sentences: tuple[ScoredSentence, ...]
    reading: Reading | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reading"] = self.reading.to_dict() if self.reading else None
        return out


@dataclass(frozen=True)
class ArticleReading:
    path: str
    title: str
    stated_date: str | None
    asof: str | None
    asof_from: str
    tickers: tuple[TickerInArticle, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tickers"] = [t.to_dict() for t in self.tickers]
        return out

    def render(self, *, emoji: bool = True, explain: bool = False) -> str:
        names = ", ".join(t.ticker for t in self.tickers) or "none"
        lines = [
            f"Article: {self.title}  ({self.path})",
            f"Tickers named: {names}. Reading as of {self.asof or 'the last session'} "
            f"({self.asof_from}).",
        ]
        for item in self.tickers:
            lines.append("")
            score = "n/a" if item.score is None else f"{item.score:+.2f}"
            plural = "sentence" if item.sentences == 1 else "sentences"
            lines.append(
                f"{item.ticker}: named {item.mentions}x as {', '.join(item.forms)}; "
                f"article scores {score} over {item.sentences} {plural}."
            )
            if item.reading is not None:
                lines.append(item.reading.render(emoji=emoji))
            else:
                lines.append(f"{item.ticker}: no prices in the data, no reading.")
            if explain and item.top_sentences:
                lines.append("Top sentences:")
                for top in item.top_sentences:
                    text = top.text if len(top.text) <= 110 else top.text[:109] + "…"
                    lines.append(f"  {top.score:+.2f}  {text}")
        return "\n".join(lines)


def price_tickers(config: StrategyConfig) -> frozenset[str]:
    """Tickers with prices in the strategy's data."""
    from backtest.market import load_inputs

    return frozenset(load_inputs(config).prices["ticker"].unique())


def _aliases(text: str, mentions: list[Mention]) -> dict[str, set[str]]:
    """Names written right before "(TICKER)" or "(NYSE: TICKER)": "Alibaba (BABA)" -> Alibaba."""
    aliases: dict[str, set[str]] = {}
    for mention in mentions:
        if mention.how == "name":
            aliases.setdefault(mention.ticker, set()).add(text[mention.start : mention.end])
            continue
        before = text[max(0, mention.start - 60) : mention.start]
        found = re.search(r"((?:[A-Z][\w&.'-]*\s){0,2}[A-Z][\w&.'-]*)\s*\(?\s*$", before)
        if found and mention.how in ("parenthesis", "exchange"):
            name = found.group(1).strip()
            if len(name) >= 3 and name.upper() != mention.ticker:
                aliases.setdefault(mention.ticker, set()).add(name)
    return aliases


def score_article(
    article: Article, *, known: frozenset[str], names: bool = False
) -> list[TickerInArticle]:
    """Each ticker the article names, with its sentence-averaged score (module docstring)."""
    from backtest.scoring import score_headlines

    mentions = find_tickers(article.text, known=known, names=names)
    order: list[str] = []
    forms: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for mention in mentions:
        if mention.ticker not in order:
            order.append(mention.ticker)
        shown = article.text[mention.start : mention.end]
        forms.setdefault(mention.ticker, [])
        if shown not in forms[mention.ticker]:
            forms[mention.ticker].append(shown)
        counts[mention.ticker] = counts.get(mention.ticker, 0) + 1
    aliases = _aliases(article.text, mentions)
    if names:
        table = company_names()
        for name, ticker in table.items():
            if ticker in order:
                aliases.setdefault(ticker, set()).add(name)
    parts = [s for s in sentences(article.text) if s.text != article.title]
    scores = score_headlines([s.text for s in parts]) if parts else []
    out = []
    for ticker in order:
        patterns = [ticker_words(ticker)] + [
            re.compile(r"(?<![\w&])" + re.escape(a) + r"(?![\w&])")
            for a in sorted(aliases.get(ticker, ()))
        ]
        spans = [(m.start, m.end) for m in mentions if m.ticker == ticker]
        chosen = [
            ScoredSentence(round(float(scores[i]), 4), s.text)
            for i, s in enumerate(parts)
            if any(s.start <= a < s.end for a, _ in spans)
            or any(p.search(s.text) for p in patterns)
        ]
        average = sum(c.score for c in chosen) / len(chosen) if chosen else None
        top = sorted(chosen, key=lambda c: -abs(c.score))[:TOP_SENTENCES]
        out.append(
            TickerInArticle(
                ticker=ticker,
                forms=tuple(forms[ticker]),
                mentions=counts[ticker],
                has_prices=ticker in known,
                score=None if average is None else round(average, 4),
                sentences=len(chosen),
                top_sentences=tuple(top),
            )
        )
    return out


def article_reading(
    config: StrategyConfig,
    path: str | Path,
    *,
    asof: str | None = None,
    names: bool = False,
) -> ArticleReading:
    """The article's tickers, scores and readings (module docstring)."""
    from backtest.reading import signal_readings

    article = read_article(path, config.data.headlines_tz)
    known = price_tickers(config)
    found = score_article(article, known=known, names=names)
    stated = article.stated_date
    if asof is not None:
        asof_from = "--asof"
    elif stated is not None:
        asof, asof_from = (
            stated.isoformat(),
            f"the date the article states, line {article.stated.line}",
        )
    else:
        asof_from = "the article states no date: the data's last session"
    priced = [t.ticker for t in found if t.has_prices]
    readings: dict[str, Reading] = {}
    if priced:
        try:
            readings = {r.ticker: r for r in signal_readings(config, priced, asof)}
        except InputError as exc:
            if asof_from == "--asof" or "outside the data" not in exc.what:
                raise
            asof_from = f"the article's date {asof} is outside the data: the data's last session"
            asof = None
            readings = {r.ticker: r for r in signal_readings(config, priced, None)}
        if asof is None and readings:
            asof = next(iter(readings.values())).asof
    found = [
        TickerInArticle(
            **{**asdict(t), "top_sentences": t.top_sentences, "reading": readings.get(t.ticker)}
        )
        for t in found
    ]
    return ArticleReading(
        path=str(path),
        title=article.title,
        stated_date=None if stated is None else stated.isoformat(),
        asof=asof,
        asof_from=asof_from,
        tickers=tuple(found),
    )


def article_files(folder: str | Path) -> list[Path]:
    """The article files in ``folder`` (``ARTICLE_SUFFIXES``), sorted; none is an InputError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder of articles", file=folder, hint="give a folder path")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
    )
    if not files:
        raise InputError(
            "no articles in the folder",
            file=folder,
            hint=f"put text or Markdown files ({', '.join(ARTICLE_SUFFIXES)}) there",
        )
    return files


def article_headlines(
    folder: str | Path,
    *,
    known: frozenset[str] = frozenset(),
    names: bool = False,
    tz: str = "America/New_York",
) -> tuple[pd.DataFrame, list[str]]:
    """Headline rows, one per (article, ticker), and one note per article (time, tickers).

    Columns: timestamp (ISO 8601 with offset, or YYYY-MM-DD when the article states a date
    only: "time unknown"), ticker, headline (the title), source ("article"), url (the file),
    article_score (the per-ticker sentence average), time_from (where the time came from).
    """
    rows, notes = [], []
    for path in article_files(folder):
        article = read_article(path, tz)
        when, date_only, where = stated_or_mtime(article)
        stamp = f"{when:%Y-%m-%d}" if date_only else when.isoformat()
        found = score_article(article, known=known, names=names)
        named = ", ".join(t.ticker for t in found) or "no tickers"
        notes.append(f"{path.name}: {stamp} ({where}); {named}")
        for item in found:
            rows.append(
                {
                    "timestamp": stamp,
                    "ticker": item.ticker,
                    "headline": article.title,
                    "source": "article",
                    "url": str(path.resolve()),
                    "article_score": item.score if item.score is not None else 0.0,
                    "time_from": where,
                }
            )
    columns = ["timestamp", "ticker", "headline", "source", "url", "article_score", "time_from"]
    return pd.DataFrame(rows, columns=columns), notes
