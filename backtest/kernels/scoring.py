"""Headline scoring kernel: finance-lexicon sentiment over one UTF-8 buffer, no Python per text.

Texts arrive as one ``uint8`` buffer plus ``int64`` offsets (text ``i`` is
``buf[offsets[i]:offsets[i + 1]]``). For each text the kernel:

1. tokenises: ASCII letters are lower-cased; tokens are runs of ``[a-z0-9]`` that may hold an
   apostrophe between two such characters (``don't``) and ``.`` or ``,`` between two digits
   (``5.2``, ``3,000``). HTML entities ``&amp; &lt; &gt; &quot; &#39;`` are decoded and curly
   apostrophes read as ``'``. Links (``http...``, ``t.co/...``, ``www....`` up to the next
   whitespace), ``$CASHTAGS`` and ``@users`` are dropped, as is ``RT`` before an ``@user``.
   ``#`` is a separator, so hashtags keep their word. Everything else (punctuation, non-ASCII
   bytes, emoji) separates tokens. NUL counts as whitespace (it ends a link).
2. looks terms up, longest match first (3, then 2, then 1 tokens), in an open-addressing table
   of FNV-1a 64-bit hashes of the tokens joined by one space. A token ending in ``n't`` that is
   not itself a term reads as the ``n't`` term (a negator), if the lexicon has one.
3. scores the matched items: a negator multiplies by its weight every item starting within
   ``NEGATION_WINDOW_TOKENS`` tokens after it; an intensifier or dampener multiplies by its
   weight the items starting within ``MODIFIER_WINDOW_TOKENS`` tokens after it and the item
   ending right before it ("rose sharply"). A direction (``up`` / ``down``) pairs with the
   nearest thing (``good_thing`` / ``bad_thing``) within ``PAIR_WINDOW_TOKENS`` tokens (on a
   tie the preceding one, unless only the following one is still unpaired: "cuts costs,
   raises guidance") and contributes ``weight x (+1 good | -1 bad) x modifiers of both x
   negation of the direction``; the paired thing adds nothing itself. Unpaired directions,
   unpaired things and words contribute ``weight x modifiers x negation``.
4. normalises the sum like VADER's compound score: ``s / sqrt(s * s + alpha)``.

``score_texts`` splits the texts into up to ``TEXTS_CHUNKS`` chunks scored on numba's threads;
each chunk reuses one set of scratch arrays, so nothing is allocated per text. ``score_range``
is the same work on the calling thread (what small inputs and one-thread runs use).
"""

from __future__ import annotations

import numba
import numpy as np

from backtest.kernels.phrases import (
    H_FROM,
    H_VERSUS,
    H_VS,
    H_WAS,
    KIND_BAD_THING,
    KIND_DOWN,
    KIND_EXPECTATION,
    KIND_GOOD_THING,
    KIND_PAST,
    KIND_RATING,
    KIND_RATING_DOWN,
    KIND_RATING_UP,
    KIND_STANCE,
    KIND_UP,
    apply_phrases,
)

KIND_NEUTRAL = 0
KIND_WORD = 1
KIND_NEGATOR = 2
KIND_INTENSIFIER = 3
KIND_DAMPENER = 4

NEGATION_WINDOW_TOKENS = 3
MODIFIER_WINDOW_TOKENS = 2
PAIR_WINDOW_TOKENS = 5
TEXTS_CHUNKS = 256
HINT_MARKER = 1
HINT_PERCENT = 2

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
_SPACE = np.uint64(32)


@numba.njit(cache=True)
def _is_space(b: int) -> bool:
    return b == 32 or b == 0 or (9 <= b <= 13)


@numba.njit(cache=True)
def _lower(b: int) -> int:
    if 65 <= b <= 90:
        return b + 32
    return b


@numba.njit(cache=True)
def _starts_link(buf: np.ndarray, i: int, end: int) -> bool:
    """True when the lower-cased bytes at ``buf[i:end]`` start with ``http``, ``t.co/`` or
    ``www.``. (Written out byte by byte: a generic pattern-tuple matcher cost a compile per
    pattern length on a first run.)"""
    c = _lower(buf[i])
    if c == 104:  # http
        return (
            i + 4 <= end
            and _lower(buf[i + 1]) == 116
            and _lower(buf[i + 2]) == 116
            and _lower(buf[i + 3]) == 112
        )
    if c == 116:  # t.co/
        return (
            i + 5 <= end
            and buf[i + 1] == 46
            and _lower(buf[i + 2]) == 99
            and _lower(buf[i + 3]) == 111
            and buf[i + 4] == 47
        )
    if c == 119:  # www.
        return (
            i + 4 <= end
            and _lower(buf[i + 1]) == 119
            and _lower(buf[i + 2]) == 119
            and buf[i + 3] == 46
        )
    return False


@numba.njit(cache=True)
def _decode(buf: np.ndarray, i: int, end: int) -> tuple[int, int]:
    """The normalised character at byte ``i`` and how many bytes it spans."""
    b = int(buf[i])
    if b == 38:  # '&': the five HTML entities Twitter emits
        if (
            i + 5 <= end
            and buf[i + 1] == 97
            and buf[i + 2] == 109
            and buf[i + 3] == 112
            and buf[i + 4] == 59
        ):  # &amp;
            return 38, 5
        if i + 4 <= end and buf[i + 2] == 116 and buf[i + 3] == 59:
            if buf[i + 1] == 108:  # &lt;
                return 60, 4
            if buf[i + 1] == 103:  # &gt;
                return 62, 4
        if (
            i + 6 <= end
            and buf[i + 1] == 113
            and buf[i + 2] == 117
            and buf[i + 3] == 111
            and buf[i + 4] == 116
            and buf[i + 5] == 59
        ):  # &quot;
            return 34, 6
        if (
            i + 5 <= end
            and buf[i + 1] == 35
            and buf[i + 2] == 51
            and buf[i + 3] == 57
            and buf[i + 4] == 59
        ):  # &#39;
            return 39, 5
        return 38, 1
    if (
        b == 0xE2
        and i + 3 <= end
        and buf[i + 1] == 0x80
        and (buf[i + 2] == 0x98 or buf[i + 2] == 0x99)
    ):
        return 39, 3  # curly apostrophes
    return _lower(b), 1


def _alnum_table() -> np.ndarray:
    """Byte -> lower-cased byte if it is an ASCII letter or digit, else 0."""
    table = np.zeros(256, dtype=np.uint8)
    for b in range(256):
        if 48 <= b <= 57 or 97 <= b <= 122:
            table[b] = b
        elif 65 <= b <= 90:
            table[b] = b + 32
    return table


_ALNUM = _alnum_table()


@numba.njit(cache=True)
def _tokenize(
    buf: np.ndarray,
    start: int,
    end: int,
    norm: np.ndarray,
    tok_start: np.ndarray,
    tok_end: np.ndarray,
    tok_hash: np.ndarray,
    src_start: np.ndarray,
    src_end: np.ndarray,
) -> tuple[int, int]:
    """Write normalised token bytes to ``norm``, their spans there and in ``buf`` (``src_start``,
    ``src_end``) and their hashes; return the count and the phrase layer's token-level
    triggers as bits (noted here to spare it a pass over the tokens): ``HINT_MARKER`` a frame
    marker (from, vs, versus, was), ``HINT_PERCENT`` a number between ``+`` / ``-`` and ``%``."""
    hint = 0
    n_tokens = 0
    w = 0
    i = start
    while i < end:
        c = _ALNUM[buf[i]]
        if c == 0:
            b = buf[i]
            if b == 38 or b == 0xE2:
                i += _decode(buf, i, end)[1]
            elif (b == 36 or b == 64) and i + 1 < end:  # $cashtag, @user
                nxt = _ALNUM[buf[i + 1]]
                if nxt >= 97 or (b == 64 and (nxt != 0 or buf[i + 1] == 95)):
                    i += 1
                    while i < end and (_ALNUM[buf[i]] != 0 or buf[i] == 95):
                        i += 1
                else:
                    i += 1
            else:
                i += 1
            continue
        if (c == 104 or c == 116 or c == 119) and _starts_link(buf, i, end):
            while i < end and not _is_space(buf[i]):
                i += 1
            continue
        first = w
        h = FNV_OFFSET
        j = i
        source = i
        while j < end:
            c = _ALNUM[buf[j]]
            if c != 0:
                norm[w] = c
                w += 1
                h = (h ^ np.uint64(c)) * FNV_PRIME
                j += 1
                continue
            b = buf[j]
            if b == 39 or b == 38 or b == 0xE2:
                c, n = _decode(buf, j, end)
                if c == 39 and j + n < end and _ALNUM[buf[j + n]] != 0:
                    norm[w] = 39
                    w += 1
                    h = (h ^ np.uint64(39)) * FNV_PRIME
                    j += n
                    continue
            elif (
                (b == 46 or b == 44)
                and j + 1 < end
                and 48 <= norm[w - 1] <= 57
                and 48 <= buf[j + 1] <= 57
            ):
                norm[w] = b
                w += 1
                h = (h ^ np.uint64(b)) * FNV_PRIME
                j += 1
                continue
            break
        i = j
        if w - first == 2 and norm[first] == 114 and norm[first + 1] == 116:  # "rt"
            k = j
            while k < end and buf[k] == 32:
                k += 1
            if k < end and buf[k] == 64:
                w = first
                continue
        lead = norm[first]
        if 48 <= lead <= 57:
            signed = source > start and (buf[source - 1] == 43 or buf[source - 1] == 45)
            if signed and j < end and buf[j] == 37:
                hint |= HINT_PERCENT
        elif (lead == 102 or lead == 118 or lead == 119) and (
            h == H_FROM or h == H_VS or h == H_VERSUS or h == H_WAS  # noqa: SIM109
        ):
            hint |= HINT_MARKER
        tok_start[n_tokens] = first
        tok_end[n_tokens] = w
        tok_hash[n_tokens] = h
        src_start[n_tokens] = source
        src_end[n_tokens] = j
        n_tokens += 1
    return n_tokens, hint


@numba.njit(cache=True)
def _lookup(table_keys: np.ndarray, h: np.uint64) -> int:
    """Slot of hash ``h`` in the open-addressing table, or -1."""
    mask = np.uint64(table_keys.shape[0] - 1)
    slot = (h ^ (h >> np.uint64(32))) & mask
    while True:
        key = table_keys[slot]
        if key == h:
            return np.int64(slot)
        if key == 0:
            return -1
        slot = (slot + np.uint64(1)) & mask


@numba.njit(cache=True)
def _extend(h: np.uint64, norm: np.ndarray, first: int, stop: int) -> np.uint64:
    """FNV-1a hash ``h`` continued with a space and the token bytes ``norm[first:stop]``."""
    h = (h ^ _SPACE) * FNV_PRIME
    for k in range(first, stop):
        h = (h ^ np.uint64(norm[k])) * FNV_PRIME
    return h


@numba.njit(cache=True)
def _match(
    n_tokens: int,
    norm: np.ndarray,
    tok_start: np.ndarray,
    tok_end: np.ndarray,
    tok_hash: np.ndarray,
    table_keys: np.ndarray,
    table_terms: np.ndarray,
    table_flags: np.ndarray,
    nt_term: int,
    it_pos: np.ndarray,
    it_end: np.ndarray,
    it_term: np.ndarray,
) -> int:
    """Longest-match lexicon terms left to right; return the number of matched items."""
    n_items = 0
    p = 0
    while p < n_tokens:
        best = -1
        length = 0
        slot = _lookup(table_keys, tok_hash[p])
        if slot >= 0:
            if table_terms[slot] >= 0:
                best = table_terms[slot]
                length = 1
            if table_flags[slot] != 0 and p + 1 < n_tokens:
                h2 = _extend(tok_hash[p], norm, tok_start[p + 1], tok_end[p + 1])
                slot2 = _lookup(table_keys, h2)
                if slot2 >= 0:
                    if table_terms[slot2] >= 0:
                        best = table_terms[slot2]
                        length = 2
                    if table_flags[slot2] != 0 and p + 2 < n_tokens:
                        h3 = _extend(h2, norm, tok_start[p + 2], tok_end[p + 2])
                        slot3 = _lookup(table_keys, h3)
                        if slot3 >= 0 and table_terms[slot3] >= 0:
                            best = table_terms[slot3]
                            length = 3
        if length == 0 and nt_term >= 0:
            e = tok_end[p]
            if (
                e - tok_start[p] > 3
                and norm[e - 1] == 116
                and norm[e - 2] == 39
                and norm[e - 3] == 110
            ):
                best = nt_term
                length = 1
        if length == 0:
            p += 1
            continue
        it_pos[n_items] = p
        it_end[n_items] = p + length - 1
        it_term[n_items] = best
        n_items += 1
        p += length
    return n_items


@numba.njit(cache=True)
def _is_thing(kind: int) -> bool:
    return kind in (KIND_GOOD_THING, KIND_BAD_THING)


@numba.njit(cache=True)
def _score_items(
    n_tokens: int,
    n_items: int,
    it_pos: np.ndarray,
    it_end: np.ndarray,
    it_term: np.ndarray,
    weights: np.ndarray,
    kinds: np.ndarray,
    neg_at: np.ndarray,
    mod_before: np.ndarray,
    mod_after: np.ndarray,
    it_mult: np.ndarray,
    it_neg: np.ndarray,
    it_pair: np.ndarray,
    it_contrib: np.ndarray,
) -> float:
    """Apply negation, modifiers and change pairing to matched items; return the raw sum."""
    for q in range(n_tokens):
        neg_at[q] = 1.0
        mod_before[q] = 1.0
        mod_after[q] = 1.0
    for k in range(n_items):
        kind = kinds[it_term[k]]
        w = weights[it_term[k]]
        e = it_end[k]
        if kind == KIND_NEGATOR:
            stop = min(e + 1 + NEGATION_WINDOW_TOKENS, n_tokens)
            for j in range(k + 1, n_items):
                if it_pos[j] >= stop:
                    break
                if kinds[it_term[j]] == KIND_EXPECTATION:
                    stop = max(stop, min(it_end[j] + 1 + NEGATION_WINDOW_TOKENS, n_tokens))
            for q in range(e + 1, stop):
                neg_at[q] *= w
        elif kind in (KIND_INTENSIFIER, KIND_DAMPENER):
            for q in range(e + 1, min(e + 1 + MODIFIER_WINDOW_TOKENS, n_tokens)):
                mod_before[q] *= w
            if it_pos[k] > 0:
                mod_after[it_pos[k] - 1] *= w
    for k in range(n_items):
        it_mult[k] = mod_before[it_pos[k]] * mod_after[it_end[k]]
        it_neg[k] = neg_at[it_pos[k]]
        it_pair[k] = -1
        it_contrib[k] = 0.0
    for k in range(n_items):
        kind = kinds[it_term[k]]
        if kind != KIND_UP and kind != KIND_DOWN:
            continue
        before = -1
        before_distance = PAIR_WINDOW_TOKENS + 1
        j = k - 1
        while j >= 0:
            d = it_pos[k] - it_end[j]
            if d > PAIR_WINDOW_TOKENS:
                break
            if _is_thing(kinds[it_term[j]]):
                before = j
                before_distance = d
                break
            j -= 1
        after = -1
        after_distance = PAIR_WINDOW_TOKENS + 1
        j = k + 1
        while j < n_items:
            d = it_pos[j] - it_end[k]
            if d > PAIR_WINDOW_TOKENS:
                break
            if _is_thing(kinds[it_term[j]]):
                after = j
                after_distance = d
                break
            j += 1
        best = before
        if after >= 0 and (
            after_distance < before_distance
            or (after_distance == before_distance and it_pair[before] >= 0 and it_pair[after] < 0)
        ):
            best = after
        it_pair[k] = best
        if best >= 0:
            it_pair[best] = k
    total = 0.0
    for k in range(n_items):
        kind = kinds[it_term[k]]
        w = weights[it_term[k]]
        c = 0.0
        if kind == KIND_WORD or kind in (KIND_RATING_UP, KIND_RATING_DOWN, KIND_EXPECTATION):
            c = w * it_mult[k] * it_neg[k]
        elif kind in (KIND_UP, KIND_DOWN):
            j = it_pair[k]
            if j >= 0:
                sign = 1.0 if kinds[it_term[j]] == KIND_GOOD_THING else -1.0
                c = w * sign * it_mult[k] * it_mult[j] * it_neg[k]
            else:
                c = w * it_mult[k] * it_neg[k]
        elif _is_thing(kind) and it_pair[k] < 0:
            c = w * it_mult[k] * it_neg[k]
        it_contrib[k] = c
        total += c
    return total


@numba.njit(cache=True)
def _normalise(total: float, alpha: float) -> float:
    if total == 0.0:
        return 0.0
    return total / np.sqrt(total * total + alpha)


@numba.njit(cache=True)
def nul_offsets(buf: np.ndarray, n_texts: int) -> np.ndarray:
    """Offsets of ``n_texts`` texts joined by NUL (text ``i`` keeps its trailing NUL).

    Returns an empty array when ``buf`` does not hold exactly ``n_texts - 1`` NULs (a text
    contained one), so the caller can fall back to lengths.
    """
    offsets = np.empty(n_texts + 1, dtype=np.int64)
    offsets[0] = 0
    found = 0
    for i in range(buf.shape[0]):
        if buf[i] == 0:
            found += 1
            if found >= n_texts:
                return np.empty(0, dtype=np.int64)
            offsets[found] = i + 1
    if found != n_texts - 1 and n_texts > 0:
        return np.empty(0, dtype=np.int64)
    offsets[n_texts] = buf.shape[0]
    return offsets


@numba.njit(cache=True)
def _needs_phrases(hint: int, n_items: int, it_term: np.ndarray, kinds: np.ndarray) -> bool:
    """Whether the phrase layer can change this text: a signed number before ``%``, a rating,
    a past stance marker and a stance word, or a frame marker and a good or bad thing (a
    numeric frame speaks only for a thing). Most texts have none and skip the layer; the test
    is a superset of what any rule needs, so skipping never changes a score."""
    if hint & HINT_PERCENT:
        return True
    marker = (hint & HINT_MARKER) != 0
    past = False
    stance = False
    for k in range(n_items):
        kind = kinds[it_term[k]]
        thing = kind == KIND_GOOD_THING or kind == KIND_BAD_THING  # noqa: SIM109
        if kind == KIND_RATING or (marker and thing):
            return True
        past = past or kind == KIND_PAST
        stance = stance or kind == KIND_STANCE
    return past and stance


@numba.njit(cache=True)
def _phrase_total(n_items: int, it_contrib: np.ndarray, n_ph: int, ph: np.ndarray) -> float:
    """The raw sum after the phrase layer: items' contributions, then phrases', in order."""
    total = 0.0
    for k in range(n_items):
        total += it_contrib[k]
    for k in range(n_ph):
        total += ph[5, k]
    return total


@numba.njit(cache=True)
def score_range(
    buf: np.ndarray,
    offsets: np.ndarray,
    first_text: int,
    stop_text: int,
    table_keys: np.ndarray,
    table_terms: np.ndarray,
    table_flags: np.ndarray,
    weights: np.ndarray,
    kinds: np.ndarray,
    nt_term: int,
    alpha: float,
    scores: np.ndarray,
) -> None:
    """Score texts ``first_text``..``stop_text - 1`` into ``scores``, reusing one set of scratch.

    The serial kernel: ``score_range(buf, offsets, 0, n, ..., scores)`` scores everything on
    the calling thread, and is all a first call compiles (``score_texts`` adds numba's parallel
    machinery: 1-3 s more to compile here, and a thread pool to start). The phrase layer runs
    only on texts ``_needs_phrases`` picks (arrays stay plain locals: passing them around in
    tuples cost a refcount per array per text, half the speed).
    """
    longest = 1
    for i in range(first_text, stop_text):
        longest = max(longest, offsets[i + 1] - offsets[i])
    size = longest // 2 + 1
    norm = np.empty(longest, dtype=np.uint8)
    tok_start = np.empty(size, dtype=np.int64)
    tok_end = np.empty(size, dtype=np.int64)
    tok_hash = np.empty(size, dtype=np.uint64)
    src_start = np.empty(size, dtype=np.int64)
    src_end = np.empty(size, dtype=np.int64)
    tok_item = np.empty(size, dtype=np.int64)
    values = np.empty(size, dtype=np.float64)
    grades = np.empty(size, dtype=np.float64)
    it_pos = np.empty(size, dtype=np.int64)
    it_end = np.empty(size, dtype=np.int64)
    it_term = np.empty(size, dtype=np.int64)
    neg_at = np.empty(size, dtype=np.float64)
    mod_before = np.empty(size, dtype=np.float64)
    mod_after = np.empty(size, dtype=np.float64)
    it_mult = np.empty(size, dtype=np.float64)
    it_neg = np.empty(size, dtype=np.float64)
    it_pair = np.empty(size, dtype=np.int64)
    it_contrib = np.empty(size, dtype=np.float64)
    it_by = np.empty(size, dtype=np.int64)
    ph = _phrase_arrays(size)
    for i in range(first_text, stop_text):
        start, end = offsets[i], offsets[i + 1]
        n_tokens, hint = _tokenize(
            buf, start, end, norm, tok_start, tok_end, tok_hash, src_start, src_end
        )
        if n_tokens == 0:
            continue
        n_items = _match(
            n_tokens, norm, tok_start, tok_end, tok_hash, table_keys, table_terms, table_flags,
            nt_term, it_pos, it_end, it_term,
        )  # fmt: skip
        total = 0.0
        if n_items > 0:
            total = _score_items(
                n_tokens, n_items, it_pos, it_end, it_term, weights, kinds, neg_at, mod_before,
                mod_after, it_mult, it_neg, it_pair, it_contrib,
            )  # fmt: skip
        if _needs_phrases(hint, n_items, it_term, kinds):
            n_ph = apply_phrases(
                buf, start, end, n_tokens, norm, tok_start, tok_end, tok_hash, src_start,
                src_end, n_items, it_pos, it_end, it_term, kinds, weights, it_pair, it_neg,
                it_contrib, it_by, tok_item, values, grades, ph,
            )  # fmt: skip
            if n_ph > 0:
                total = _phrase_total(n_items, it_contrib, n_ph, ph)
        scores[i] = _normalise(total, alpha)


@numba.njit(cache=True)
def _phrase_arrays(size: int) -> np.ndarray:
    """The phrase layer's output for up to ``3 * size`` phrases (every rule claims tokens or
    items), one column a phrase: rule, first token, last token, new value, old value,
    contribution."""
    return np.empty((6, 3 * size), dtype=np.float64)


@numba.njit(cache=True, parallel=True)
def score_texts(
    buf: np.ndarray,
    offsets: np.ndarray,
    table_keys: np.ndarray,
    table_terms: np.ndarray,
    table_flags: np.ndarray,
    weights: np.ndarray,
    kinds: np.ndarray,
    nt_term: int,
    alpha: float,
) -> np.ndarray:
    """Score every text ``buf[offsets[i]:offsets[i + 1]]``; float64 scores in [-1, 1].

    Texts are split into up to ``TEXTS_CHUNKS`` chunks scored in parallel (numba threads).
    """
    n_texts = offsets.shape[0] - 1
    scores = np.zeros(n_texts, dtype=np.float64)
    n_chunks = min(n_texts, TEXTS_CHUNKS)
    for chunk in numba.prange(n_chunks):
        score_range(
            buf, offsets, chunk * n_texts // n_chunks, (chunk + 1) * n_texts // n_chunks,
            table_keys, table_terms, table_flags, weights, kinds, nt_term, alpha, scores,
        )  # fmt: skip
    return scores


@numba.njit(cache=True)
def explain_text(
    buf: np.ndarray,
    table_keys: np.ndarray,
    table_terms: np.ndarray,
    table_flags: np.ndarray,
    weights: np.ndarray,
    kinds: np.ndarray,
    nt_term: int,
    alpha: float,
):
    """Every step of scoring one text: normalised tokens, matched items, phrases, contributions.

    Returns ``(norm, tok_start, tok_end, it_pos, it_end, it_term, it_mult, it_neg, it_pair,
    it_contrib, it_by, phrases, raw_sum, score)``, arrays trimmed to the token, item and phrase
    counts; ``phrases`` is (6, n_phrases): rule, first token, last token, new value, old value,
    contribution. The phrase layer always runs here: on a text ``score_range`` skips it for,
    it finds nothing, so the sum is the same.
    """
    size = buf.shape[0] // 2 + 1
    norm = np.empty(max(buf.shape[0], 1), dtype=np.uint8)
    tok_start = np.empty(size, dtype=np.int64)
    tok_end = np.empty(size, dtype=np.int64)
    tok_hash = np.empty(size, dtype=np.uint64)
    src_start = np.empty(size, dtype=np.int64)
    src_end = np.empty(size, dtype=np.int64)
    tok_item = np.empty(size, dtype=np.int64)
    values = np.empty(size, dtype=np.float64)
    grades = np.empty(size, dtype=np.float64)
    it_pos = np.empty(size, dtype=np.int64)
    it_end = np.empty(size, dtype=np.int64)
    it_term = np.empty(size, dtype=np.int64)
    neg_at = np.empty(size, dtype=np.float64)
    mod_before = np.empty(size, dtype=np.float64)
    mod_after = np.empty(size, dtype=np.float64)
    it_mult = np.empty(size, dtype=np.float64)
    it_neg = np.empty(size, dtype=np.float64)
    it_pair = np.empty(size, dtype=np.int64)
    it_contrib = np.empty(size, dtype=np.float64)
    it_by = np.empty(size, dtype=np.int64)
    ph = _phrase_arrays(size)
    n_tokens = _tokenize(
        buf, 0, buf.shape[0], norm, tok_start, tok_end, tok_hash, src_start, src_end
    )[0]
    n_items = _match(
        n_tokens, norm, tok_start, tok_end, tok_hash, table_keys, table_terms, table_flags,
        nt_term, it_pos, it_end, it_term,
    )  # fmt: skip
    total = _score_items(
        n_tokens, n_items, it_pos, it_end, it_term, weights, kinds, neg_at, mod_before,
        mod_after, it_mult, it_neg, it_pair, it_contrib,
    )  # fmt: skip
    n_ph = apply_phrases(
        buf, 0, buf.shape[0], n_tokens, norm, tok_start, tok_end, tok_hash, src_start, src_end,
        n_items, it_pos, it_end, it_term, kinds, weights, it_pair, it_neg, it_contrib, it_by,
        tok_item, values, grades, ph,
    )  # fmt: skip
    if n_ph > 0:
        total = _phrase_total(n_items, it_contrib, n_ph, ph)
    n_bytes = tok_end[n_tokens - 1] if n_tokens > 0 else 0
    return (
        norm[:n_bytes].copy(),
        tok_start[:n_tokens].copy(),
        tok_end[:n_tokens].copy(),
        it_pos[:n_items].copy(),
        it_end[:n_items].copy(),
        it_term[:n_items].copy(),
        it_mult[:n_items].copy(),
        it_neg[:n_items].copy(),
        it_pair[:n_items].copy(),
        it_contrib[:n_items].copy(),
        it_by[:n_items].copy(),
        ph[:, :n_ph].copy(),
        total,
        _normalise(total, alpha),
    )
