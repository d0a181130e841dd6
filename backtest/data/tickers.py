"""Tickers named in free text (articles, RSS items), and the symbol table behind the decision.

Forms and the rule for each (the false-positive rule of issue 17):

- ``$AAPL`` (cashtag) and ``NYSE: AAPL`` / ``(NASDAQ: AAPL)`` (an exchange prefix) are explicit:
  always a ticker, whatever the symbol table says.
- ``(AAPL)`` and ``Apple (AAPL)``: a parenthesised all-caps word is a ticker only if it is
  ``known`` (has prices in the data at hand), is in the symbol table (pytickersymbols' listed
  stocks), the same text also names it explicitly ($BABA or NYSE: BABA), or it follows a
  capitalised name (``Alibaba (BABA)``: a company named, then its symbol). So a bare
  ``(CEO)``, ``(AI)``, ``(USA)`` is not a ticker. A parenthesised word whose letters are the
  initials of the words right before it ("initial public offering (IPO)", "Chief Executive
  Officer (CEO)", "Bank of England (BOE)") is an abbreviation being defined and never a
  ticker.
- Company names (``names=True``): the pytickersymbols company names ("Apple Inc." -> "Apple"),
  matched as whole, capitalised words. No hand-typed list.

Bare all-caps words ("AAPL rose") are not read as tickers: too many are ordinary abbreviations.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

__all__ = ["Mention", "company_names", "find_tickers", "symbol_table"]

EXCHANGES = ("NYSE", "NASDAQ", "Nasdaq", "NYSEARCA", "NYSEAMERICAN", "AMEX", "OTC", "LSE", "TSX")
_SYMBOL = r"[A-Z]{1,5}(?:[.\-][A-Z])?"
_CASHTAG = re.compile(r"(?<![\w$])\$(" + _SYMBOL + r")\b")
_EXCHANGE = re.compile(
    r"\b(?:" + "|".join(EXCHANGES) + r")\s?:\s?(" + _SYMBOL + r")\b", re.IGNORECASE
)
_PAREN = re.compile(r"\((" + _SYMBOL + r")\)")
_NAME_SUFFIXES = re.compile(
    r"[,\s]+(?:Inc\.?|Incorporated|Corp\.?|Corporation|Company|Co\.?|plc|PLC|AG|SE|N\.V\.|NV|"
    r"S\.A\.|SA|Ltd\.?|Limited|Holdings?|Group|Class [A-C]|& Co\.?)$"
)


@dataclass(frozen=True)
class Mention:
    """One place a text names a ticker: how ("cashtag", "exchange", "parenthesis", "name")."""

    ticker: str
    how: str
    start: int
    end: int


@functools.cache
def _stocks() -> tuple[dict, ...]:
    from pytickersymbols import PyTickerSymbols

    return tuple(PyTickerSymbols().get_all_stocks())


@functools.cache
def symbol_table() -> frozenset[str]:
    """Listed symbols known to pytickersymbols (its own symbols and plain Yahoo symbols)."""
    symbols: set[str] = set()
    for stock in _stocks():
        if stock.get("symbol"):
            symbols.add(str(stock["symbol"]).upper())
        for listing in stock.get("symbols", []):
            yahoo = str(listing.get("yahoo", ""))
            if yahoo and "." not in yahoo:
                symbols.add(yahoo.upper())
    return frozenset(symbols)


@functools.cache
def company_names() -> dict[str, str]:
    """Company short name -> ticker, from pytickersymbols ("Apple Inc." -> "Apple": "AAPL").

    Only stocks with a plain (US-style) symbol; a name shared by two symbols keeps the first.
    Names shorter than 3 letters are left out (too easy to meet by chance).
    """
    names: dict[str, str] = {}
    for stock in _stocks():
        symbol = str(stock.get("symbol") or "").upper()
        if not symbol or not re.fullmatch(_SYMBOL, symbol):
            continue
        name = str(stock.get("name") or "").strip()
        name = re.sub(r"^The\s+", "", name)
        previous = None
        while previous != name:
            previous, name = name, _NAME_SUFFIXES.sub("", name).strip()
        if len(name) >= 3 and name not in names:
            names[name] = symbol
    return names


def _is_defined_abbreviation(text: str, start: int, token: str) -> bool:
    """Whether ``token`` spells the initials of the words right before ``start``."""
    words = re.findall(r"[A-Za-z][\w'-]*", text[max(0, start - 120) : start])
    letters = token.replace(".", "").replace("-", "")
    if len(words) < len(letters) or len(letters) < 2:
        return False
    if "".join(w[0] for w in words[-len(letters) :]).upper() == letters:
        return True  # every word counts: Bank of England (BOE)
    for skip in range(0, 3):  # or "of", "the", "and" skipped: United States of America (USA)
        chosen = [w for w in words[-(len(letters) + skip) :] if w.lower() not in _SMALL]
        if "".join(w[0] for w in chosen).upper() == letters:
            return True
    return False


_NAME_BEFORE = re.compile(r"(?<![\w.])[A-Z][a-z][\w&'-]*[.,]?\s*$")
"""A capitalised word (Alibaba, Moderna's) right before a parenthesis: ``Name (TICKER)``."""


_SMALL = frozenset({"of", "the", "and", "for", "a", "an", "in", "on", "to"})
_NOT_A_NAME = _SMALL | frozenset(
    {"at", "by", "with", "from", "as", "is", "are", "was", "our", "its", "their", "this",
     "that", "these", "those", "new", "see", "also", "but", "or", "if", "when", "while"}
)  # fmt: skip
"""Capitalised words that start a sentence rather than name a company: ``In (AI) news``."""


def find_tickers(
    text: str, *, known: frozenset[str] | set[str] = frozenset(), names: bool = False
) -> list[Mention]:
    """Every ticker mention in ``text`` under the module's rules, in text order."""
    mentions: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def add(ticker: str, how: str, start: int, end: int) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        mentions.append(Mention(ticker.upper(), how, start, end))

    for match in _EXCHANGE.finditer(text):
        add(match.group(1), "exchange", match.start(), match.end())
    for match in _CASHTAG.finditer(text):
        add(match.group(1), "cashtag", match.start(), match.end())
    table = symbol_table()
    explicit = {m.ticker for m in mentions}
    for match in _PAREN.finditer(text):
        token = match.group(1)
        named_before = _NAME_BEFORE.search(text, max(0, match.start() - 60), match.start())
        if named_before and named_before.group().strip(" .,").lower() in _NOT_A_NAME:
            named_before = None
        if (
            token not in known
            and token not in table
            and token not in explicit
            and named_before is None
        ):
            continue
        if _is_defined_abbreviation(text, match.start(), token):
            continue
        add(token, "parenthesis", match.start(), match.end())
    if names:
        for name, ticker in company_names().items():
            for match in re.finditer(r"(?<![\w&])" + re.escape(name) + r"(?![\w&])", text):
                add(ticker, "name", match.start(), match.end())
    return sorted(mentions, key=lambda m: m.start)


def ticker_words(ticker: str) -> re.Pattern[str]:
    """A pattern for a ticker written bare ("AAPL"), as a whole word."""
    return re.compile(r"(?<![\w$])\$?" + re.escape(ticker) + r"\b")
