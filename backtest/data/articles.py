"""Articles (plain text or Markdown) as text, title, stated date and sentences.

- Title: the first Markdown heading (``# ...``), else the first non-empty line.
- Stated date: in the first 15 lines, a line ``Date: ...`` (also ``Published:``, ``Updated:``,
  ``Posted:``, ``**Date:**`` or YAML front matter ``date: ...``) or a line that is only a date;
  ISO 8601 (``2015-03-02``, ``2015-03-02T10:30:00-05:00``) or ``March 2, 2015``. A date without
  a time means "time unknown" (known after that day's close, as in the headline contract).
- ``stated_or_mtime`` gives the stated time or, failing that, the file's modification time
  (exact, UTC), and says which.
- Sentences: split at ., ! or ? followed by a space and a capital/quote/digit, and at blank
  lines or Markdown list items; Markdown markers are removed. Each keeps its span in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from backtest.errors import InputError

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt", ".text")
_DATE_KEY = re.compile(
    r"^\W*(?:date|published|updated|posted|dateline)\b(?:\s*[:=]|\s+on\b|\s)\W*?\s*\**\s*"
    r"(?P<value>.+?)\s*\**$",
    re.IGNORECASE,
)
_ISO = re.compile(
    r"^(?P<d>\d{4}-\d{2}-\d{2})(?P<t>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:\s?(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?)?$"
)
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_LONG = re.compile(
    r"^(?:[A-Za-z]+,\s+)?(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})$"
)
_NOT_AN_END = "".join(
    rf"(?<!\b{re.escape(a)})"
    for a in ("Mr.", "Ms.", "Mrs.", "Dr.", "St.", "Inc.", "Co.", "Corp.", "Jr.", "U.S.", "vs.")
)
_SENTENCE_END = re.compile(
    r"(?<=[.!?])" + _NOT_AN_END + r"[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])|\n\s*\n|\n(?=\s*[-*+] )"
)


@dataclass(frozen=True)
class Stated:
    """A time stated in the article: ``when`` (UTC), ``date_only`` and the line it came from."""

    when: pd.Timestamp
    date_only: bool
    line: int
    text: str


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    path: Path
    title: str
    text: str
    stated: Stated | None

    @property
    def stated_date(self) -> date | None:
        if self.stated is None:
            return None
        if self.stated.date_only:
            return self.stated.when.date()
        return self.stated.when.tz_convert("America/New_York").date()


def _parse_when(value: str, tz: str) -> tuple[pd.Timestamp, bool] | None:
    value = value.strip().strip("*_ ").strip()
    iso = _ISO.match(value)
    if iso:
        try:
            stamp = pd.Timestamp(value.replace("UTC", "Z").replace("GMT", "Z").replace(" Z", "Z"))
        except ValueError:
            return None
        if iso.group("t") is None:
            return pd.Timestamp(iso.group("d")).tz_localize("UTC"), True
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
        return stamp.tz_convert("UTC"), False
    long = _LONG.match(value)
    if long:
        name = long.group("month").lower()
        month = next((i + 1 for i, m in enumerate(_MONTHS) if m.startswith(name[:3])), None)
        if month is None:
            return None
        try:
            day = date(int(long.group("year")), month, int(long.group("day")))
        except ValueError:
            return None
        return pd.Timestamp(day).tz_localize("UTC"), True
    return None


def stated_time(text: str, tz: str = "America/New_York") -> Stated | None:
    """The date (and time) the article states near its top, or None (module docstring)."""
    for number, line in enumerate(text.splitlines()[:15], start=1):
        stripped = line.strip().strip("#>").strip()
        if not stripped or stripped == "---":
            continue
        keyed = _DATE_KEY.match(stripped)
        value = keyed.group("value") if keyed else stripped
        parsed = _parse_when(value, tz)
        if parsed is not None:
            return Stated(parsed[0], parsed[1], number, stripped)
    return None


def _title(text: str, fallback: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    for line in lines:
        if line.startswith("#"):
            return line.lstrip("#").strip()
    for line in lines:
        if line and line != "---" and not _DATE_KEY.match(line) and ":" not in line[:12]:
            return line.strip("*_ ")
    return fallback


def read_article(path: str | Path, tz: str = "America/New_York") -> Article:
    """Read an article file (UTF-8 text or Markdown); unreadable or empty is an InputError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such article file", file=path, hint="check the path") from None
    except UnicodeDecodeError:
        raise InputError(
            "article is not UTF-8 text", file=path, hint="save it as plain text or Markdown"
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot read the article ({exc.strerror})", file=path, hint="check the path"
        ) from None
    if not text.strip():
        raise InputError("article is empty", file=path, hint="give a text or Markdown file")
    return Article(path, _title(text, path.stem), text, stated_time(text, tz))


def stated_or_mtime(article: Article) -> tuple[pd.Timestamp, bool, str]:
    """(UTC time, date_only, where it came from) for the article's headline row."""
    if article.stated is not None:
        return (
            article.stated.when,
            article.stated.date_only,
            f"stated on line {article.stated.line}",
        )
    mtime = datetime.fromtimestamp(article.path.stat().st_mtime, UTC)
    return pd.Timestamp(mtime), False, "file modification time"


def sentences(text: str) -> list[Sentence]:
    """The article's sentences with their spans (module docstring)."""
    out: list[Sentence] = []
    start = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        clean = re.sub(r"^[\s#>*+\-]+|[*_`]+", " ", piece)
        clean = " ".join(clean.split())
        if clean:
            out.append(Sentence(clean, start, end))
        start = match.end() if match else len(text)
    return out


def write_headlines_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write headline rows as Parquet, CSV (text quoted) or JSONL, atomically (temp + rename)."""
    import csv
    import os
    import tempfile

    path = Path(path)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".csv.gz", ".jsonl"):
        raise InputError(
            "unknown headlines file type", file=path, hint="end --out in .parquet, .csv or .jsonl"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise InputError(
            f"cannot write the headlines file ({exc.strerror})",
            file=path,
            hint="choose another --out",
        ) from None
    os.close(handle)
    try:
        if suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        elif suffix == ".jsonl":
            frame.to_json(temporary, orient="records", lines=True, force_ascii=False)
        else:
            compression = "gzip" if suffix == ".csv.gz" else None
            frame.to_csv(
                temporary, index=False, quoting=csv.QUOTE_NONNUMERIC, compression=compression
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
