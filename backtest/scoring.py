"""Headline scores in [-1, 1], bull / neutral / bear calls, and explanations of both.

The lexicon is a CSV (``backtest/lexicon/finance.csv`` by default, see its README); the
scoring itself is the numba kernel in ``backtest.kernels.scoring``. numpy and numba are
imported lazily so that importing this module stays cheap.

Example::

    >>> from backtest.scoring import score_headlines, label_scores
    >>> scores = score_headlines(["Profit rose 12%", "Loss widened", "Board meets Tuesday"])
    >>> label_scores(scores).tolist()
    ['bull', 'bear', 'neutral']
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.errors import InputError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent / "lexicon" / "finance.csv"

ALPHA = 15.0
"""VADER's normalisation constant: a raw sum s maps to s / sqrt(s*s + ALPHA)."""

BULL_AT = 0.22
"""Default score at or above which a headline reads bull (chosen on the dev set)."""

BEAR_AT = -0.22
"""Default score at or below which a headline reads bear (chosen on the dev set)."""

KINDS: dict[str, int] = {
    "neutral": 0,
    "word": 1,
    "negator": 2,
    "intensifier": 3,
    "dampener": 4,
    "up": 5,
    "down": 6,
    "good_thing": 7,
    "bad_thing": 8,
    "rating": 9,
    "rating_up": 10,
    "rating_down": 11,
    "maintain": 12,
    "expectation": 13,
    "past": 14,
    "stance": 15,
}
"""Kind name -> code. Kinds 9-15 (issue 22) drive the phrase layer (``kernels.phrases``); a
lexicon written before them simply has none, and scores as it did except for numeric frames
and signed percentages, which need no lexicon term beyond the ``good_thing`` / ``bad_thing``
rows every lexicon had."""

_WEIGHT_RANGES: dict[str, tuple[float, float, str]] = {
    "neutral": (0.0, 0.0, "must be 0"),
    "word": (-4.0, 4.0, "must be within [-4, 4]"),
    "negator": (-1.0, -1e-9, "must be within [-1, 0)"),
    "intensifier": (1.0 + 1e-9, 3.0, "must be within (1, 3]"),
    "dampener": (1e-9, 1.0 - 1e-9, "must be within (0, 1)"),
    "up": (1e-9, 4.0, "must be within (0, 4]"),
    "down": (-4.0, -1e-9, "must be within [-4, 0)"),
    "good_thing": (0.0, 4.0, "must be within [0, 4]"),
    "bad_thing": (-4.0, 0.0, "must be within [-4, 0]"),
    "rating": (-3.0, 3.0, "is a level on the rating scale, within [-3, 3]"),
    "rating_up": (1e-9, 4.0, "must be within (0, 4]"),
    "rating_down": (-4.0, -1e-9, "must be within [-4, 0)"),
    "maintain": (0.0, 0.0, "must be 0"),
    "expectation": (-4.0, 4.0, "must be within [-4, 4]"),
    "past": (-1.0, 0.0, "must be within [-1, 0]"),
    "stance": (0.0, 0.0, "must be 0"),
}

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MAX_TERM_TOKENS = 3


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RETWEET = re.compile(r"^(?:\s*rt\s+@\w+:?)+", re.IGNORECASE)
_TAGS = re.compile(r"[$@#]\w+(?:\.\w+)?")


def tokenize(text: str) -> list[str]:
    """The scorer's tokens of ``text``: lower case words and numbers (apostrophes kept inside
    a word), exactly what the lexicon kernel matches terms against."""
    return _TOKEN.findall(str(text).lower())


def normalise_text(text: Any) -> str:
    """Text for comparing stories: HTML entities decoded, lower case, URLs, leading ``RT @user:``
    prefixes, cashtags, handles and hashtags and punctuation stripped; tokens joined by spaces.

    >>> normalise_text("RT @desk: $AAPL beats &amp; raises https://t.co/x")
    'beats raises'
    """
    plain = str(text)
    if "&" in plain:
        import html

        plain = html.unescape(plain)
    if plain[:3].lower().startswith("rt"):
        plain = _RETWEET.sub(" ", plain)
    return " ".join(_TOKEN.findall(_TAGS.sub(" ", _URL.sub(" ", plain)).lower()))


def fnv1a_64(data: bytes) -> int:
    """FNV-1a 64-bit hash of ``data``, the key the kernel looks terms up by."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A loaded, validated lexicon plus the hash table the kernel searches.

    ``terms[i]`` is the normalised term (tokens joined by one space) with ``weights[i]`` and
    ``kinds[i]`` (codes in ``KINDS``). ``table_keys`` / ``table_terms`` / ``table_flags`` form an
    open-addressing table keyed by FNV-1a hashes of terms and of their proper prefixes
    (``table_terms`` is -1 for a prefix that is not a term; ``table_flags`` is 1 when a longer
    term starts with the key).
    """

    path: str
    terms: tuple[str, ...]
    weights: np.ndarray
    kinds: np.ndarray
    table_keys: np.ndarray
    table_terms: np.ndarray
    table_flags: np.ndarray
    nt_term: int

    def kind_name(self, index: int) -> str:
        """The kind of term ``index`` as written in the CSV."""
        return _KIND_NAMES[int(self.kinds[index])]


_KIND_NAMES = {code: name for name, code in KINDS.items()}


@dataclass(frozen=True)
class Contribution:
    """One matched lexicon term and what it added to the raw sum."""

    term: str
    kind: str
    base_weight: float
    rule: str
    contribution: float


@dataclass(frozen=True)
class Explanation:
    """Why a text scored what it did: normalised tokens, matched terms, sum, score and call."""

    text: str
    tokens: tuple[str, ...]
    contributions: tuple[Contribution, ...]
    raw_sum: float
    score: float
    label: str

    def __str__(self) -> str:
        lines = [
            f"text:   {self.text}",
            f"tokens: {' '.join(self.tokens) if self.tokens else '(none)'}",
        ]
        if self.contributions:
            width = max(len(c.term) for c in self.contributions)
            for c in self.contributions:
                lines.append(
                    f"  {c.term:<{width}}  {c.kind:<11} {c.base_weight:+5.2f}  "
                    f"{c.contribution:+6.3f}  {c.rule}"
                )
        else:
            lines.append("  (no lexicon terms)")
        lines.append(
            f"sum {self.raw_sum:+.3f} -> score {self.score:+.3f} "
            f"(s / sqrt(s^2 + {ALPHA:g})) -> {self.label}"
        )
        return "\n".join(lines)


def _normalise_term(term: str) -> list[str] | None:
    """Split a lexicon term into kernel tokens, or None if the kernel would read it differently."""
    parts = term.strip().lower().replace("-", " ").split()
    if not parts or not all(_TOKEN.fullmatch(p) for p in parts):
        return None
    if any(p.startswith("http") for p in parts) or (parts[0] == "rt" and len(parts) == 1):
        return None
    return parts


def _parse_rows(path: Path) -> list[tuple[int, str, float, str]]:
    """Read and validate the CSV rows as (record number, normalised term, weight, kind)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            "lexicon file not found", file=path, hint="pass a CSV with columns term,weight,kind"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read lexicon ({exc.__class__.__name__})",
            file=path,
            hint="save it as a UTF-8 CSV with columns term,weight,kind",
        ) from None
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputError(
            "lexicon has no header and no rows",
            file=path,
            hint="start with the line term,weight,kind",
        )
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    for column in ("term", "weight", "kind"):
        if column not in header:
            raise InputError(
                "lexicon header lacks this column",
                file=path,
                column=column,
                hint="the header must be term,weight,kind",
            )
    at = {column: header.index(column) for column in ("term", "weight", "kind")}
    rows: list[tuple[int, str, float, str]] = []
    first_row_of: dict[str, int] = {}
    for record, fields in enumerate(csv.reader(lines[1:]), start=1):
        if len(fields) < len(header):
            raise InputError(
                f"expected {len(header)} fields, found {len(fields)}",
                file=path,
                row=record,
                hint="write each row as term,weight,kind",
            )
        raw_term = fields[at["term"]]
        tokens = _normalise_term(raw_term)
        if tokens is None or len(tokens) > _MAX_TERM_TOKENS:
            raise InputError(
                f"term {raw_term!r} is not 1 to {_MAX_TERM_TOKENS} plain words",
                file=path,
                row=record,
                column="term",
                hint="use letters, digits, spaces, hyphens and apostrophes inside words",
            )
        term = " ".join(tokens)
        kind = fields[at["kind"]].strip().lower()
        if kind not in KINDS:
            raise InputError(
                f"unknown kind {kind!r}",
                file=path,
                row=record,
                column="kind",
                hint="use one of " + ", ".join(KINDS),
            )
        try:
            weight = float(fields[at["weight"]])
        except ValueError:
            weight = math.nan
        low, high, rule = _WEIGHT_RANGES[kind]
        if not math.isfinite(weight) or not low <= weight <= high:
            raise InputError(
                f"weight {fields[at['weight']]!r} for a {kind} {rule}",
                file=path,
                row=record,
                column="weight",
                hint="see the kinds documented at the top of backtest/lexicon/finance.csv",
            )
        if term in first_row_of:
            raise InputError(
                f"term {term!r} repeats row {first_row_of[term]}",
                file=path,
                row=record,
                column="term",
                hint="keep one row per term",
            )
        first_row_of[term] = record
        rows.append((record, term, weight, kind))
    if not rows:
        raise InputError("lexicon has no rows", file=path, hint="add rows term,weight,kind")
    return rows


def _build_lexicon(path: Path) -> Lexicon:
    """Validate the CSV at ``path`` and build the kernel's hash table."""
    import numpy as np

    rows = _parse_rows(path)
    terms = tuple(term for _, term, _, _ in rows)
    keys: dict[int, list[int]] = {}  # hash -> [term index or -1, prefix flag]
    for index, (record, term, _, _) in enumerate(rows):
        h = fnv1a_64(term.encode())
        entry = keys.setdefault(h, [-1, 0])
        if entry[0] >= 0 or h == 0:
            raise InputError(
                f"term {term!r} collides with another term's hash",
                file=path,
                row=record,
                column="term",
                hint="rename or drop the term",
            )
        entry[0] = index
        tokens = term.split(" ")
        for n in range(1, len(tokens)):
            keys.setdefault(fnv1a_64(" ".join(tokens[:n]).encode()), [-1, 0])[1] = 1
    size = 1 << max(4, (4 * len(keys) - 1).bit_length())
    table_keys = np.zeros(size, dtype=np.uint64)
    table_terms = np.full(size, -1, dtype=np.int64)
    table_flags = np.zeros(size, dtype=np.uint8)
    mask = size - 1
    for h, (term_index, flag) in keys.items():
        slot = (h ^ (h >> 32)) & mask
        while table_keys[slot] != 0:
            slot = (slot + 1) & mask
        table_keys[slot] = h
        table_terms[slot] = term_index
        table_flags[slot] = flag
    return Lexicon(
        path=str(path),
        terms=terms,
        weights=np.array([weight for _, _, weight, _ in rows], dtype=np.float64),
        kinds=np.array([KINDS[kind] for _, _, _, kind in rows], dtype=np.int8),
        table_keys=table_keys,
        table_terms=table_terms,
        table_flags=table_flags,
        nt_term=terms.index("n't") if "n't" in terms else -1,
    )


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return _build_lexicon(DEFAULT_LEXICON_PATH)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and validate a lexicon CSV (None: the packaged finance lexicon, loaded once).

    Raises ``InputError`` naming the file, the 1-based data row and the column of the first
    bad entry.
    """
    if path is None:
        return _default_lexicon()
    return _build_lexicon(Path(path))


def encode_texts(texts: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All texts as one UTF-8 ``uint8`` buffer plus ``int64`` offsets (len(texts) + 1).

    Each text is encoded on its own (so one emoji does not widen a joined string to 4 bytes a
    character) and joined with NUL, which the kernel reads as whitespace: text ``i`` is
    ``buf[offsets[i]:offsets[i + 1]]`` including its trailing separator. Anything that is not a
    ``str`` (None, NaN, numbers) becomes the empty text.
    """
    import numpy as np

    from backtest.kernels.scoring import nul_offsets

    if isinstance(texts, str | bytes):
        raise InputError(
            "score_headlines expects a sequence of texts, got a single string",
            hint="wrap it in a list: score_headlines([text])",
        )
    items = texts.tolist() if isinstance(texts, np.ndarray) else texts
    try:
        encoded = list(map(str.encode, items))
    except (TypeError, UnicodeEncodeError):
        encoded = [
            item.encode("utf-8", "surrogatepass") if isinstance(item, str) else b""
            for item in items
        ]
    buf = np.frombuffer(b"\x00".join(encoded), dtype=np.uint8)
    offsets = nul_offsets(buf, len(encoded)) if encoded else np.zeros(1, dtype=np.int64)
    if len(offsets) == 0:  # some text holds a NUL: count bytes instead
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) + 1 for e in encoded], out=offsets[1:])
        offsets[-1] -= 1
    return buf, offsets


def arrow_text_chunks(texts: Any) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Texts as Arrow UTF-8 chunks: ``(data, int64 offsets, null mask or None)`` per chunk.

    A pyarrow (Chunked)Array of strings or anything exporting ``__arrow_c_stream__`` (a pandas
    3 string Series) is read without copying the text; a list of str goes through
    ``pyarrow.array`` (C++, no Python per text). NaN and None become nulls. Raises
    ``LookupError`` when the input cannot be read this way (numbers among the texts, lone
    surrogates, no pyarrow), so the caller can fall back to ``encode_texts``.
    """
    import numpy as np

    try:
        import pyarrow as pa
    except ImportError:
        raise LookupError("pyarrow is not installed") from None
    try:
        if isinstance(texts, pa.ChunkedArray):
            chunked = texts
        elif isinstance(texts, pa.Array):
            chunked = pa.chunked_array([texts])
        elif hasattr(texts, "__arrow_c_stream__") and not isinstance(texts, np.ndarray):
            chunked = pa.chunked_array(texts)
        else:
            items = texts.tolist() if isinstance(texts, np.ndarray) else texts
            array = pa.array(items, type=pa.string(), from_pandas=True)
            chunked = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        raise LookupError("texts are not all strings") from None
    if not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        raise LookupError(f"texts have Arrow type {chunked.type}")
    chunks = []
    for chunk in chunked.chunks:
        _, offsets_buffer, data_buffer = chunk.buffers()
        offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets_buffer, dtype=offset_type)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64)
        data = (
            np.frombuffer(data_buffer, dtype=np.uint8)
            if data_buffer is not None
            else np.zeros(0, dtype=np.uint8)
        )
        nulls = chunk.is_null().to_numpy(zero_copy_only=False) if chunk.null_count else None
        chunks.append((data, offsets, nulls))
    return chunks


ARROW_MIN_TEXTS = 20_000
"""Lists at least this long go through pyarrow even when pandas is not loaded yet."""


def _worth_arrow(texts: Any) -> bool:
    """Whether to convert through pyarrow: always for Arrow and pandas input; for a list only
    when pandas is already loaded (``pyarrow.array`` imports it, ~0.5 s) or the list is long
    enough for the faster conversion to win that back."""
    import sys

    import numpy as np

    if not isinstance(texts, list | tuple | np.ndarray):
        return True
    return "pandas" in sys.modules or len(texts) >= ARROW_MIN_TEXTS


PARALLEL_MIN_TEXTS = 200_000
"""Fewer texts are scored on the calling thread (``kernels.scoring.score_range``): the default
run's 95k headlines take ~0.1 s that way, and a process that never scores this many never
compiles or starts numba's parallel kernel (1-3 s of a first run's compile here)."""


def _score_buffer(data: np.ndarray, offsets: np.ndarray, tables: tuple) -> np.ndarray:
    """Scores of the texts in one buffer: in parallel for many texts and more than one numba
    thread, else serially. Both give the same numbers (each text is scored on its own)."""
    import numba
    import numpy as np

    from backtest.kernels.scoring import score_range, score_texts

    n_texts = len(offsets) - 1
    if n_texts >= PARALLEL_MIN_TEXTS and numba.get_num_threads() > 1:
        return score_texts(data, offsets, *tables)
    scores = np.zeros(max(n_texts, 0), dtype=np.float64)
    score_range(data, offsets, 0, n_texts, *tables, scores)
    return scores


def score_headlines(
    texts: Sequence[Any] | np.ndarray, lexicon: Lexicon | None = None
) -> np.ndarray:
    """Score each text in [-1, 1] (float64, one per text; 0.0 for empty, None or NaN).

    Accepts any iterable of texts: a list or tuple of str, a numpy array of str, a pyarrow
    string array or a pandas string Series (read without copying). Scoring a short list in a
    process without pandas does not import pandas.

    >>> bool(score_headlines(["Apple shares plunge after probe"])[0] < -0.5)
    True
    """
    import numpy as np

    if isinstance(texts, str | bytes):
        raise InputError(
            "score_headlines expects a sequence of texts, got a single string",
            hint="wrap it in a list: score_headlines([text])",
        )
    if not isinstance(texts, list | tuple | np.ndarray) and not hasattr(
        texts, "__arrow_c_stream__"
    ):
        texts = texts if type(texts).__module__.startswith("pyarrow") else list(texts)
    lex = lexicon if lexicon is not None else _default_lexicon()
    tables = (
        lex.table_keys,
        lex.table_terms,
        lex.table_flags,
        lex.weights,
        lex.kinds,
        lex.nt_term,
        ALPHA,
    )
    try:
        if not _worth_arrow(texts):
            raise LookupError("small list without pandas loaded")
        chunks = arrow_text_chunks(texts)
    except LookupError:
        buf, offsets = encode_texts(texts)
        return _score_buffer(buf, offsets, tables)
    parts = []
    for data, offsets, nulls in chunks:
        scores = _score_buffer(data, offsets, tables)
        if nulls is not None:
            scores[nulls] = 0.0
        parts.append(scores)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def label_scores(scores: Any, bull_at: float = BULL_AT, bear_at: float = BEAR_AT) -> np.ndarray:
    """Bull / neutral / bear call per score: bull at or above ``bull_at``, bear at or below
    ``bear_at``, neutral between. Returns a numpy array of str."""
    import numpy as np

    if not bear_at < bull_at:
        raise InputError(
            f"bear threshold {bear_at} must be below bull threshold {bull_at}",
            hint="pick bear_at < bull_at",
        )
    values = np.asarray(scores, dtype=np.float64)
    return np.where(values >= bull_at, "bull", np.where(values <= bear_at, "bear", "neutral"))


def _rule(lex: Lexicon, term_index: int, mult: float, neg: float, paired: str) -> str:
    """Readable description of the rules applied to one matched term."""
    parts = [paired] if paired else []
    kind = lex.kind_name(term_index)
    if kind == "negator":
        parts.append("flips the next 3 tokens")
    elif kind in ("intensifier", "dampener"):
        parts.append("scales neighbouring terms")
    elif kind == "neutral":
        parts.append("finance-neutral")
    if kind not in ("negator", "intensifier", "dampener", "neutral"):
        if mult != 1.0:
            parts.append(("intensified" if mult > 1.0 else "dampened") + f" x{mult:.2f}")
        if neg != 1.0:
            parts.append(f"negated x{neg:+.2f}")
    return ", ".join(parts) if parts else "as listed"


_PHRASE_RULES = {
    1: "context",
    2: "rating change",
    3: "rating maintained",
    4: "rating change",
    5: "rating by its verb",
    6: "rating",
    7: "numbers",
    8: "percent",
}


def _phrase_rule(code: int, new: float, old: float, thing: str) -> str:
    """Readable description of one phrase of the phrase layer, with its numbers."""
    from backtest.kernels import phrases as ph

    if code == ph.RULE_CONTEXT:
        return f"past stance: the words between are scaled x{new:+.2f}"
    if code in (ph.RULE_RATING_CHANGE, ph.RULE_RATING_FROM):
        implied = " (the verb's direction)" if code == ph.RULE_RATING_FROM else ""
        return (
            f"rating {old:+g} -> {new:+g}{implied} on the scale buy +2 .. sell -2, "
            f"x{ph.RATING_STEP_WEIGHT:g} a step; absorbs the verb"
        )
    if code == ph.RULE_RATING_MAINTAINED:
        return (
            f"rating {new:+g} maintained or reiterated, "
            f"x{ph.RATING_MAINTAINED_WEIGHT:g} of a new rating"
        )
    if code == ph.RULE_RATING_VERB:
        return f"rating {new:+g} after a direction verb: the verb counts, the rating adds nothing"
    if code == ph.RULE_RATING_ALONE:
        return f"rating {new:+g} on its own, x{ph.RATING_ALONE_WEIGHT:g}"
    if code == ph.RULE_NUMBERS:
        change = (new - old) / abs(old) * 100 if old else math.inf
        return (
            f"numbers: {new:g} from {old:g} ({change:+.1f}%) for '{thing}', weight "
            f"min({ph.NUMBER_MAX_WEIGHT:g}, {ph.NUMBER_BASE_WEIGHT:g} + "
            f"{ph.NUMBER_SLOPE:g} x |change|); absorbs the thing and its verbs"
        )
    return (
        f"signed percentage {new:+g}% next to shares or a ticker, weight "
        f"min({ph.PERCENT_MAX_WEIGHT:g}, {ph.PERCENT_BASE_WEIGHT:g} + {ph.PERCENT_SLOPE:g} x |%|)"
    )


def explain(text: str, lexicon: Lexicon | None = None) -> Explanation:
    """The tokens, matched terms, phrases and rules behind ``score_headlines([text])[0]``."""
    import numpy as np

    from backtest.kernels.scoring import explain_text

    lex = lexicon if lexicon is not None else _default_lexicon()
    text = text if isinstance(text, str) else ""
    buf = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    (norm, tok_start, tok_end, it_pos, it_end, it_term, it_mult, it_neg, it_pair, it_contrib,
     it_by, phrases, raw_sum, score) = explain_text(
        buf, lex.table_keys, lex.table_terms, lex.table_flags, lex.weights, lex.kinds,
        lex.nt_term, ALPHA,
    )  # fmt: skip
    raw = norm.tobytes()
    tokens = tuple(raw[s:e].decode("ascii") for s, e in zip(tok_start, tok_end, strict=True))
    ph_rule, ph_pos, ph_end = (phrases[row].astype(np.int64) for row in range(3))
    ph_new, ph_old, ph_contrib = phrases[3], phrases[4], phrases[5]
    shown_phrase = [" ".join(tokens[ph_pos[j] : ph_end[j] + 1]) for j in range(len(ph_rule))]
    contributions = []
    things = {}
    for k in range(len(it_term)):
        index = int(it_term[k])
        kind = lex.kind_name(index)
        shown = " ".join(tokens[it_pos[k] : it_end[k] + 1])
        paired = ""
        j = int(it_pair[k])
        if j >= 0:
            other = " ".join(tokens[it_pos[j] : it_end[j] + 1])
            if kind in ("up", "down"):
                thing = lex.kind_name(int(it_term[j]))
                paired = f"change: {other} {shown} ({kind} x {thing.replace('_thing', '')})"
            else:
                paired = f"counted in change with '{other}'"
        rule = _rule(lex, index, float(it_mult[k]), float(it_neg[k]), paired)
        by = int(it_by[k])
        if by >= 0:
            name = _PHRASE_RULES[int(ph_rule[by])]
            rule += f"; {name} phrase '{shown_phrase[by]}'"
            if kind in ("good_thing", "bad_thing"):
                things.setdefault(by, shown)
        contributions.append(
            Contribution(
                term=shown,
                kind=kind,
                base_weight=float(lex.weights[index]),
                rule=rule,
                contribution=float(it_contrib[k]),
            )
        )
    for j in range(len(ph_rule)):
        contributions.append(
            Contribution(
                term=shown_phrase[j],
                kind=_PHRASE_RULES[int(ph_rule[j])],
                base_weight=0.0,
                rule=_phrase_rule(
                    int(ph_rule[j]), float(ph_new[j]), float(ph_old[j]), things.get(j, "")
                ),
                contribution=float(ph_contrib[j]),
            )
        )
    return Explanation(
        text=text,
        tokens=tokens,
        contributions=tuple(contributions),
        raw_sum=float(raw_sum),
        score=float(score),
        label=str(label_scores([score])[0]),
    )


# ---- learned lexicons' comment block ---------------------------------------------------------

LEARNED_TITLE = "news-backtest learned lexicon"
"""The first comment line of every learned lexicon: how a report tells one from a hand-written."""
_TRAINING_LINE = re.compile(
    r"^#\s*training window:\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})"
)


@dataclass(frozen=True)
class TrainingWindow:
    """The training window a learned lexicon's comment block records (ISO dates, inclusive)."""

    start: str
    end: str

    def overlaps(self, first: str, last: str) -> bool:
        """Whether [first, last] (ISO dates) shares a day with the training window."""
        return first <= self.end and last >= self.start


def read_training_window(text: str) -> TrainingWindow | None:
    """The training window of a lexicon CSV's text, or None when it is not a learned lexicon
    (its leading comment block does not open with ``LEARNED_TITLE``)."""
    comments = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.lstrip().startswith("#"):
            break
        comments.append(line.strip())
    if not comments or not comments[0].lstrip("# ").startswith(LEARNED_TITLE):
        return None
    for line in comments:
        match = _TRAINING_LINE.match(line)
        if match:
            return TrainingWindow(start=match.group(1), end=match.group(2))
    return None
