"""Phrase layer of the headline scorer: ratings, numbers that changed, stance context.

Runs after the lexicon items of one text are matched and scored (``kernels.scoring``) and
works on the same tokens, their byte spans in the text and the items' contributions. It adds
*phrases* (each with a rule code, a token span, the new and old value and a contribution) and
may set an item's contribution to zero or scale it, recording which phrase did so
(``it_by``). The text's raw sum is the items' contributions plus the phrases', both summed in
order. Rules, applied in this order:

1. **Context** (``RULE_CONTEXT``): a ``past`` item ("after", "shakes off") followed within
   ``CONTEXT_WINDOW_TOKENS`` tokens by a ``stance`` item ("view", "call") multiplies every item
   between the two (a rating's phrase, in rule 2) by the past item's weight: "after a
   seven-year bearish view" voids "bearish" (weight 0), "shakes off a bear call" flips
   "bear" (weight -1).
2. **Ratings** (``rating`` items, weight = the level on the scale: buy 2, outperform 1,
   hold 0, underperform -1, sell -2), left to right:
   ``to X from Y`` and ``from Y to X`` (``RULE_RATING_CHANGE``) add
   ``(level X - level Y) x RATING_STEP_WEIGHT`` and absorb a direction verb (``rating_up``,
   ``rating_down``, ``up``, ``down``) ending within ``RATING_WINDOW_TOKENS`` tokens before;
   a ``maintain`` item within that window before or after (``RULE_RATING_MAINTAINED``: "buy
   rating maintained", "reiterates Overweight") adds ``level x RATING_MAINTAINED_WEIGHT``
   (half a new rating's news: a reiterated Overweight stays neutral); ``from Y`` alone with a verb
   before (``RULE_RATING_FROM``: "upgraded from sell") adds the verb's sign x
   ``RATING_STEP_WEIGHT`` in place of the verb; a verb before (``RULE_RATING_VERB``:
   "downgraded to Sell") leaves the verb's own contribution and the rating adds nothing;
   otherwise (``RULE_RATING_ALONE``: "initiated at Outperform") the rating adds
   ``level x RATING_ALONE_WEIGHT x`` its negation ("don't buy the stock"). A rating term that
   starts with "to" ("to buy") counts only in a ``to X from Y`` / ``from Y to X`` frame:
   elsewhere it is a verb ("Lockheed to buy Sikorsky", "stocks to buy") and adds nothing.
3. **Numeric frames** (``RULE_NUMBERS``): two values in ``A ... from B`` (at most 2 tokens
   between), ``from B ... to A`` (at most 2 tokens before ``to``) or ``A ... vs|versus|was B``
   (at most 2 tokens before the marker). A value is a number token (``110``, ``2.10``,
   ``3,000``, ``435k``, ``1.5bn``) or a range of two joined by ``-`` (``2.10-2.20``, its
   midpoint), or, when both sides are, a letter grade (``from B to A``, ``AAA`` .. ``D``). The
   frame speaks for the nearest ``good_thing`` / ``bad_thing`` ending at most
   ``FRAME_THING_WINDOW_TOKENS`` tokens before it (else starting at most
   ``FRAME_AFTER_WINDOW_TOKENS`` after it): it adds ``sign(A - B) x (+1 good | -1 bad) x
   min(NUMBER_MAX_WEIGHT, NUMBER_BASE_WEIGHT + NUMBER_SLOPE x |A - B| / |B|)`` and absorbs
   that thing and every ``up`` / ``down`` item between the thing and the frame's end. A frame
   without a thing adds nothing ("call moved to 9 a.m. from 8 a.m.").
4. **Signed percentages** (``RULE_PERCENT``): a number right after ``+`` or ``-`` (itself at
   the text start or after whitespace) and right before ``%``, next to ``shares`` / ``stock``
   (only whitespace between) or a ``$CASHTAG`` (only whitespace between): adds
   ``sign x min(PERCENT_MAX_WEIGHT, PERCENT_BASE_WEIGHT + PERCENT_SLOPE x |value|)``.

The scoring kernel calls ``apply_phrases`` only on texts that hold a rating, a past stance and
a stance word, a frame marker and a good or bad thing, or a signed number before ``%`` (a
minority of embedded tweets). Every function here is inlined into its caller
(``inline="always"``): called on so many texts, the calls with their two dozen array arguments
cost as much as the rules themselves.
"""

from __future__ import annotations

import numba
import numpy as np

KIND_UP = 5
KIND_DOWN = 6
KIND_GOOD_THING = 7
KIND_BAD_THING = 8
KIND_RATING = 9
KIND_RATING_UP = 10
KIND_RATING_DOWN = 11
KIND_MAINTAIN = 12
KIND_EXPECTATION = 13
KIND_PAST = 14
KIND_STANCE = 15

RULE_CONTEXT = 1
RULE_RATING_CHANGE = 2
RULE_RATING_MAINTAINED = 3
RULE_RATING_FROM = 4
RULE_RATING_VERB = 5
RULE_RATING_ALONE = 6
RULE_NUMBERS = 7
RULE_PERCENT = 8

CONTEXT_WINDOW_TOKENS = 5
RATING_WINDOW_TOKENS = 4
RATING_STEP_WEIGHT = 2.0
RATING_ALONE_WEIGHT = 1.0
RATING_MAINTAINED_WEIGHT = 0.5
FRAME_GAP_TOKENS = 2
FRAME_THING_WINDOW_TOKENS = 6
FRAME_AFTER_WINDOW_TOKENS = 3
NUMBER_BASE_WEIGHT = 2.0
NUMBER_SLOPE = 3.0
NUMBER_MAX_WEIGHT = 3.5
PERCENT_BASE_WEIGHT = 1.0
PERCENT_SLOPE = 0.25
PERCENT_MAX_WEIGHT = 3.0

_POWERS_OF_TEN = np.array([10.0**k for k in range(309)])
"""``10.0 ** k`` looked up (a ``pow`` call per number token cost more than the rest of it)."""

GRADES = ("d", "c", "cc", "ccc", "b", "bb", "bbb", "a", "aa", "aaa")
"""Letter grades, worst first: a grade's value is its index + 1."""


def _fnv(word: str) -> np.uint64:
    h = 0xCBF29CE484222325
    for byte in word.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(h)


H_TO = _fnv("to")
H_FROM = _fnv("from")
H_VS = _fnv("vs")
H_VERSUS = _fnv("versus")
H_WAS = _fnv("was")
H_SHARES = _fnv("shares")
H_STOCK = _fnv("stock")
_GRADE_HASHES = np.array([_fnv(g) for g in GRADES], dtype=np.uint64)


@numba.njit(cache=True, inline="always")
def _space(b: int) -> bool:
    return b == 32 or b == 0 or (9 <= b <= 13)


@numba.njit(cache=True, inline="always")
def number_value(norm: np.ndarray, s: int, e: int) -> float:
    """The value of the token ``norm[s:e]`` when it is a number, else NaN.

    A number starts with a digit: digits and thousands commas, an optional ``.`` and digits,
    then an optional suffix ``k`` (x 1e3), ``m`` / ``mn`` (x 1e6) or ``b`` / ``bn`` (x 1e9).
    """
    if e <= s or not 48 <= norm[s] <= 57:
        return np.nan
    mantissa = 0.0
    decimals = 0
    seen_dot = False
    i = s
    while i < e:
        c = norm[i]
        if 48 <= c <= 57:
            mantissa = mantissa * 10.0 + (c - 48)
            if seen_dot:
                decimals += 1
        elif c == 44 and not seen_dot:
            pass
        elif c == 46 and not seen_dot:
            seen_dot = True
        else:
            break
        i += 1
    rest = e - i
    scale = 1.0
    if rest == 1 and norm[i] == 107:
        scale = 1e3
    elif (rest == 1 and norm[i] == 109) or (rest == 2 and norm[i] == 109 and norm[i + 1] == 110):
        scale = 1e6
    elif (rest == 1 and norm[i] == 98) or (rest == 2 and norm[i] == 98 and norm[i + 1] == 110):
        scale = 1e9
    elif rest != 0:
        return np.nan
    power = _POWERS_OF_TEN[decimals] if decimals < _POWERS_OF_TEN.shape[0] else np.inf
    return mantissa / power * scale


@numba.njit(cache=True, inline="always")
def _grade(h: np.uint64) -> float:
    for g in range(_GRADE_HASHES.shape[0]):
        if _GRADE_HASHES[g] == h:
            return float(g + 1)
    return np.nan


@numba.njit(cache=True, inline="always")
def _joined(buf: np.ndarray, src_start: np.ndarray, src_end: np.ndarray, p: int) -> bool:
    """Whether token ``p`` and token ``p + 1`` are written ``A-B`` (a range)."""
    return buf[src_end[p]] == 45 and src_start[p + 1] == src_end[p] + 1


@numba.njit(cache=True, inline="always")
def _slot_from(
    p: int, n_tokens: int, values: np.ndarray, grades: np.ndarray, buf, src_start, src_end
) -> tuple[int, float, bool]:
    """The value starting at token ``p``: (last token, value, is a grade); last -1 if none."""
    if p < 0 or p >= n_tokens:
        return -1, 0.0, False
    if not np.isnan(values[p]):
        if p + 1 < n_tokens and not np.isnan(values[p + 1]) and _joined(buf, src_start, src_end, p):
            return p + 1, 0.5 * (values[p] + values[p + 1]), False
        return p, values[p], False
    if not np.isnan(grades[p]):
        return p, grades[p], True
    return -1, 0.0, False


@numba.njit(cache=True, inline="always")
def _slot_before(
    stop: int, floor: int, grade: bool, values: np.ndarray, grades: np.ndarray, buf, src_start,
    src_end,
) -> tuple[int, float, bool]:  # fmt: skip
    """The value ending at the nearest number (or, when ``grade``, grade) token before
    ``stop`` and after ``floor``, at most ``FRAME_GAP_TOKENS`` tokens before ``stop``: (first
    token, value, is a grade); first -1 if none. Only the old value's type is looked for, so
    the "a" of "$2.10-2.20 a share from $1.90-2.00" is not taken for a grade."""
    q = stop - 1
    while q > floor and stop - 1 - q <= FRAME_GAP_TOKENS:
        if not grade and not np.isnan(values[q]):
            if (
                q - 1 > floor
                and not np.isnan(values[q - 1])
                and _joined(buf, src_start, src_end, q - 1)
            ):
                return q - 1, 0.5 * (values[q - 1] + values[q]), False
            return q, values[q], False
        if grade and not np.isnan(grades[q]):
            return q, grades[q], True
        q -= 1
    return -1, 0.0, False


@numba.njit(cache=True, inline="always")
def _context(n_items, it_pos, it_end, it_term, kinds, weights, it_contrib, it_by, ph) -> int:
    """Rule 1: past stance words scale the items between them and the stance noun."""
    n_ph = 0
    for s in range(n_items):
        if kinds[it_term[s]] != KIND_STANCE:
            continue
        for p in range(s - 1, -1, -1):
            if it_pos[s] - it_end[p] > CONTEXT_WINDOW_TOKENS:
                break
            if kinds[it_term[p]] == KIND_PAST:
                for k in range(p + 1, s):
                    if it_contrib[k] != 0.0 or kinds[it_term[k]] == KIND_RATING:
                        it_contrib[k] *= weights[it_term[p]]
                        it_by[k] = n_ph
                n_ph = _record(
                    ph, n_ph, RULE_CONTEXT, it_pos[p], it_end[s], weights[it_term[p]], 0.0, 0.0
                )
                break
    return n_ph


@numba.njit(cache=True, inline="always")
def _record(
    ph, n_ph: int, rule: int, first: int, last: int, new: float, old: float, c: float
) -> int:
    """Append one phrase as column ``n_ph`` of ``ph``; return the new count."""
    ph[0, n_ph] = rule
    ph[1, n_ph] = first
    ph[2, n_ph] = last
    ph[3, n_ph] = new
    ph[4, n_ph] = old
    ph[5, n_ph] = c
    return n_ph + 1


@numba.njit(cache=True, inline="always")
def _item_at(tok_item: np.ndarray, p: int, n_tokens: int) -> int:
    if 0 <= p < n_tokens:
        return tok_item[p]
    return -1


@numba.njit(cache=True, inline="always")
def _verb_before(first: int, k: int, it_end, it_term, kinds, it_contrib) -> int:
    """The nearest direction item before item ``k`` ending within the rating window of token
    ``first`` and still counted, or -1."""
    for j in range(k - 1, -1, -1):
        if first - it_end[j] > RATING_WINDOW_TOKENS:
            return -1
        kind = kinds[it_term[j]]
        if kind in (KIND_RATING_UP, KIND_RATING_DOWN, KIND_UP, KIND_DOWN) and it_contrib[j] != 0.0:
            return j
    return -1


@numba.njit(cache=True, inline="always")
def _maintained(first: int, last: int, n_items, it_pos, it_end, it_term, kinds) -> bool:
    for j in range(n_items):
        if kinds[it_term[j]] != KIND_MAINTAIN:
            continue
        if (
            0 <= first - it_end[j] <= RATING_WINDOW_TOKENS
            or 0 <= it_pos[j] - last <= RATING_WINDOW_TOKENS
        ):
            return True
    return False


@numba.njit(cache=True, inline="always")
def _ratings(
    n_tokens, tok_hash, tok_item, n_items, it_pos, it_end, it_term, kinds, weights, it_neg,
    it_contrib, it_by, ph, n_ph,
) -> int:  # fmt: skip
    """Rule 2: rating changes by their order, maintained ratings, ratings alone."""
    k = 0
    while k < n_items:
        if kinds[it_term[k]] != KIND_RATING:
            k += 1
            continue
        level = weights[it_term[k]]
        factor = ph[3, it_by[k]] if it_by[k] >= 0 else 1.0  # inside a past stance
        first = it_pos[k]
        to_before = tok_hash[first] == H_TO or (first > 0 and tok_hash[first - 1] == H_TO)
        from_before = first > 0 and tok_hash[first - 1] == H_FROM
        after = it_end[k] + 1
        other = -1
        new, old = level, level
        if to_before and after < n_tokens and tok_hash[after] == H_FROM:
            other = _item_at(tok_item, after + 1, n_tokens)
            if other >= 0 and kinds[it_term[other]] == KIND_RATING:
                old = weights[it_term[other]]
            else:
                other = -1
        elif from_before:
            other = _item_at(tok_item, after, n_tokens)
            if other < 0 or kinds[it_term[other]] != KIND_RATING or tok_hash[after] != H_TO:
                other = -1
                if after < n_tokens and tok_hash[after] == H_TO:
                    other = _item_at(tok_item, after + 1, n_tokens)
                    if other >= 0 and kinds[it_term[other]] != KIND_RATING:
                        other = -1
            if other >= 0:
                new = weights[it_term[other]]
        span_first = first - 1 if from_before or (to_before and tok_hash[first] != H_TO) else first
        last = it_end[other] if other >= 0 else it_end[k]
        verb = _verb_before(span_first, k, it_end, it_term, kinds, it_contrib)
        if other >= 0:
            c = (new - old) * RATING_STEP_WEIGHT
            rule = RULE_RATING_CHANGE
        elif tok_hash[first] == H_TO:  # "to buy" outside a frame is a verb ("X to buy Y")
            c = 0.0
            rule = RULE_RATING_VERB
            verb = -1
        elif _maintained(span_first, last, n_items, it_pos, it_end, it_term, kinds):
            c = level * RATING_MAINTAINED_WEIGHT
            rule = RULE_RATING_MAINTAINED
            verb = -1
        elif verb >= 0 and from_before:
            c = (1.0 if weights[it_term[verb]] > 0 else -1.0) * RATING_STEP_WEIGHT
            rule = RULE_RATING_FROM
            new = old + (1.0 if c > 0 else -1.0)
        elif verb >= 0:
            c = 0.0
            rule = RULE_RATING_VERB
        else:
            c = level * RATING_ALONE_WEIGHT * it_neg[k]  # "don't buy the stock"
            rule = RULE_RATING_ALONE
        c *= factor
        if verb >= 0 and rule in (RULE_RATING_CHANGE, RULE_RATING_FROM):
            it_contrib[verb] = 0.0
            it_by[verb] = n_ph
        it_by[k] = n_ph
        if other >= 0:
            it_by[other] = n_ph
        n_ph = _record(ph, n_ph, rule, span_first, last, new, old, c)
        k = other + 1 if other > k else k + 1
    return n_ph


@numba.njit(cache=True, inline="always")
def _frame_thing(first: int, last: int, n_items, it_pos, it_end, it_term, kinds) -> int:
    """The thing a numeric frame over tokens ``first..last`` speaks for, or -1."""
    for j in range(n_items - 1, -1, -1):
        if it_end[j] < first and kinds[it_term[j]] in (KIND_GOOD_THING, KIND_BAD_THING):
            if first - it_end[j] <= FRAME_THING_WINDOW_TOKENS:
                return j
            break
    for j in range(n_items):
        if it_pos[j] > last and kinds[it_term[j]] in (KIND_GOOD_THING, KIND_BAD_THING):
            if it_pos[j] - last <= FRAME_AFTER_WINDOW_TOKENS:
                return j
            break
    return -1


@numba.njit(cache=True, inline="always")
def _numbers(
    buf, n_tokens, tok_hash, src_start, src_end, values, grades, n_items, it_pos, it_end,
    it_term, kinds, it_pair, it_contrib, it_by, ph, n_ph,
) -> int:  # fmt: skip
    """Rule 3: two values in a to/from/vs frame change the thing they quantify."""
    floor = -1
    for m in range(n_tokens):
        h = tok_hash[m]
        if m <= floor or h not in (H_FROM, H_VS, H_VERSUS, H_WAS):
            continue
        old_last, old, old_grade = _slot_from(
            m + 1, n_tokens, values, grades, buf, src_start, src_end
        )
        if old_last < 0:
            continue
        new_first, new, new_grade = _slot_before(
            m, floor, old_grade, values, grades, buf, src_start, src_end
        )
        first, last = new_first, old_last
        if new_first < 0 and h == H_FROM:
            for t in range(old_last + 1, min(old_last + 2 + FRAME_GAP_TOKENS, n_tokens)):
                if tok_hash[t] == H_TO:
                    new_last, new, new_grade = _slot_from(
                        t + 1, n_tokens, values, grades, buf, src_start, src_end
                    )
                    if new_last >= 0:
                        first, last = m, new_last
                    break
            if first < 0:
                continue
        elif new_first < 0:
            continue
        if new_grade != old_grade:
            continue
        floor = last
        thing = _frame_thing(first, last, n_items, it_pos, it_end, it_term, kinds)
        if thing < 0:
            continue
        sign = 1.0 if kinds[it_term[thing]] == KIND_GOOD_THING else -1.0
        scale = abs(old)
        if not scale > 1e-9:
            scale = 1e-9
        size = abs(new - old) / scale
        weight = NUMBER_BASE_WEIGHT + NUMBER_SLOPE * size
        if not weight < NUMBER_MAX_WEIGHT:  # also NaN and inf from absurdly long digit runs
            weight = NUMBER_MAX_WEIGHT
        direction = 1.0 if new > old else (-1.0 if new < old else 0.0)
        for k in range(n_items):
            direction_item = kinds[it_term[k]] in (KIND_UP, KIND_DOWN)
            if k == thing or (direction_item and (
                it_pair[k] == thing or it_end[thing] < it_pos[k] <= last
            )):  # fmt: skip
                it_contrib[k] = 0.0
                it_by[k] = n_ph
        n_ph = _record(ph, n_ph, RULE_NUMBERS, first, last, new, old, direction * sign * weight)
    return n_ph


@numba.njit(cache=True, inline="always")
def _after_ticker(buf: np.ndarray, text_start: int, i: int) -> bool:
    """Whether ``buf[..i]`` ends with a ``$CASHTAG`` then only whitespace (``i`` exclusive)."""
    k = i - 1
    while k >= text_start and _space(buf[k]):
        k -= 1
    if k == i - 1:
        return False
    run_end = k
    while k >= text_start and (
        48 <= buf[k] <= 57 or 65 <= buf[k] <= 90 or 97 <= buf[k] <= 122 or buf[k] == 95
    ):
        k -= 1
    if k == run_end or k < text_start or buf[k] != 36:
        return False
    c = buf[k + 1]
    return 65 <= c <= 90 or 97 <= c <= 122


@numba.njit(cache=True, inline="always")
def _percents(
    buf, text_start, text_end, n_tokens, tok_hash, src_start, src_end, values, ph, n_ph
) -> int:
    """Rule 4: a signed percentage next to ``shares`` / ``stock`` or a cashtag."""
    for p in range(n_tokens):
        if np.isnan(values[p]):
            continue
        s, e = src_start[p], src_end[p]
        if e >= text_end or buf[e] != 37 or s - 1 < text_start:
            continue
        sign_byte = buf[s - 1]
        if sign_byte != 43 and sign_byte != 45:
            continue
        if s - 2 >= text_start and not _space(buf[s - 2]):
            continue
        near = False
        if p > 0 and (tok_hash[p - 1] == H_SHARES or tok_hash[p - 1] == H_STOCK):
            near = src_end[p - 1] < s - 1
            for b in range(src_end[p - 1], s - 1):
                near = near and _space(buf[b])
        if not near:
            near = _after_ticker(buf, text_start, s - 1)
        if not near:
            continue
        weight = PERCENT_BASE_WEIGHT + PERCENT_SLOPE * values[p]
        if not weight < PERCENT_MAX_WEIGHT:
            weight = PERCENT_MAX_WEIGHT
        c = weight if sign_byte == 43 else -weight
        n_ph = _record(ph, n_ph, RULE_PERCENT, p, p, values[p] if c > 0 else -values[p], 0.0, c)
    return n_ph


@numba.njit(cache=True, inline="always")
def apply_phrases(
    buf, text_start, text_end, n_tokens, norm, tok_start, tok_end, tok_hash, src_start,
    src_end, n_items, it_pos, it_end, it_term, kinds, weights, it_pair, it_neg, it_contrib,
    it_by, tok_item, values, grades, ph,
) -> int:  # fmt: skip
    """Run the four rules over one text's tokens and scored items; return the phrase count.

    ``it_contrib`` is changed in place; ``it_by[k]`` is the phrase that changed item ``k``
    (or -1). ``ph`` is a float64 (6, n) array whose column ``j`` is phrase ``j``: rule, first
    token, last token, new value, old value, contribution (one array, not a tuple of six:
    unpacking a tuple of arrays costs a reference count each, per text). ``tok_item``,
    ``values`` and ``grades`` are scratch of ``n_tokens``.
    """
    any_digit = False
    any_marker = False
    for p in range(n_tokens):
        c = norm[tok_start[p]]
        any_digit = any_digit or 48 <= c <= 57
        if c == 102 or c == 118 or c == 119:  # f, v, w: from, vs, versus, was
            h = tok_hash[p]
            any_marker = any_marker or h in (H_FROM, H_VS, H_VERSUS, H_WAS)
    if any_digit or any_marker:
        for p in range(n_tokens):
            values[p] = number_value(norm, tok_start[p], tok_end[p]) if any_digit else np.nan
            grades[p] = np.nan
            if any_marker and tok_end[p] - tok_start[p] <= 3 and 97 <= norm[tok_start[p]] <= 100:
                grades[p] = _grade(tok_hash[p])
    any_phrase_kind = False
    for k in range(n_items):
        it_by[k] = -1
        any_phrase_kind = any_phrase_kind or kinds[it_term[k]] >= KIND_RATING
    n_ph = 0
    if any_phrase_kind:
        for p in range(n_tokens):
            tok_item[p] = -1
        for k in range(n_items):
            tok_item[it_pos[k]] = k
        n_ph = _context(n_items, it_pos, it_end, it_term, kinds, weights, it_contrib, it_by, ph)
        n_ph = _ratings(
            n_tokens, tok_hash, tok_item, n_items, it_pos, it_end, it_term, kinds, weights,
            it_neg, it_contrib, it_by, ph, n_ph,
        )  # fmt: skip
    if any_marker:
        n_ph = _numbers(
            buf, n_tokens, tok_hash, src_start, src_end, values, grades, n_items, it_pos,
            it_end, it_term, kinds, it_pair, it_contrib, it_by, ph, n_ph,
        )  # fmt: skip
    if any_digit:
        n_ph = _percents(
            buf, text_start, text_end, n_tokens, tok_hash, src_start, src_end, values, ph, n_ph
        )
    return n_ph
