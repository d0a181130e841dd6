"""Plain-Python reference of the scorer's phrase layer (``backtest.kernels.phrases``).

Written from the rules in that module's docstring, on token strings, their byte spans in the
entity-decoded text and the items' contributions, with none of the kernel's arrays: the tests
check the kernel against it on random and adversarial text.
"""

from __future__ import annotations

import math

CONTEXT_WINDOW = 5
RATING_WINDOW = 4
RATING_STEP = 2.0
RATING_ALONE = 1.0
RATING_MAINTAINED = 0.5
FRAME_GAP = 2
THING_BEFORE = 6
THING_AFTER = 3
NUMBER_BASE, NUMBER_SLOPE, NUMBER_MAX = 2.0, 3.0, 3.5
PERCENT_BASE, PERCENT_SLOPE, PERCENT_MAX = 1.0, 0.25, 3.0
GRADES = ("d", "c", "cc", "ccc", "b", "bb", "bbb", "a", "aa", "aaa")
SUFFIX_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}
SPACE = b" \x00\t\n\x0b\x0c\r"
DIRECTION_VERBS = ("rating_up", "rating_down", "up", "down")

Item = tuple[int, int, float, str]
Phrase = tuple[str, int, int, float, float, float]


def reference_number(token: str) -> float | None:
    """The value of a number token (digits, thousands commas, one decimal point, a k / m / mn /
    b / bn suffix), accumulated digit by digit; None for anything else."""
    if not token or not token[0].isdigit():
        return None
    mantissa, decimals, seen_dot, i = 0.0, 0, False, 0
    while i < len(token):
        ch = token[i]
        if ch.isdigit():
            mantissa = mantissa * 10.0 + int(ch)
            decimals += seen_dot
        elif ch == "." and not seen_dot:
            seen_dot = True
        elif ch != "," or seen_dot:
            break
        i += 1
    if token[i:] not in SUFFIX_SCALE:
        return None
    power = math.inf if decimals > 308 else 10.0**decimals
    value = mantissa / power * SUFFIX_SCALE[token[i:]]
    return None if math.isnan(value) else value


def _capped(weight: float, cap: float) -> float:
    return weight if weight < cap else cap


class _Text:
    """One text's tokens, spans and values, with the slot readers the frames need."""

    def __init__(self, tokens: list[str], spans: list[tuple[int, int]], decoded: bytes) -> None:
        self.tokens, self.spans, self.decoded = tokens, spans, decoded
        self.values = [reference_number(t) for t in tokens]
        self.grades = [float(GRADES.index(t) + 1) if t in GRADES else None for t in tokens]

    def joined(self, p: int) -> bool:
        end = self.spans[p][1]
        return self.decoded[end : end + 1] == b"-" and self.spans[p + 1][0] == end + 1

    def slot_from(self, p: int) -> tuple[int, float, bool] | None:
        """(last token, value, is a grade) of the value starting at token ``p``."""
        if not 0 <= p < len(self.tokens):
            return None
        if self.values[p] is not None:
            if p + 1 < len(self.tokens) and self.values[p + 1] is not None and self.joined(p):
                return p + 1, 0.5 * (self.values[p] + self.values[p + 1]), False
            return p, self.values[p], False
        if self.grades[p] is not None:
            return p, self.grades[p], True
        return None

    def slot_before(self, stop: int, floor: int, grade: bool) -> tuple[int, float, bool] | None:
        """(first token, value, is a grade) of the nearest value of the wanted type (number,
        or grade when ``grade``) ending before ``stop``."""
        for q in range(stop - 1, max(floor, stop - 2 - FRAME_GAP), -1):
            if not grade and self.values[q] is not None:
                if q - 1 > floor and self.values[q - 1] is not None and self.joined(q - 1):
                    return q - 1, 0.5 * (self.values[q - 1] + self.values[q]), False
                return q, self.values[q], False
            if grade and self.grades[q] is not None:
                return q, self.grades[q], True
        return None


def _context(items: list[Item], contrib: list[float], phrases: list[Phrase]) -> dict[int, float]:
    """Scale the items inside past stances; return rating item -> the last such weight."""
    factors = {}
    for s, (s_first, s_last, _, s_kind) in enumerate(items):
        if s_kind != "stance":
            continue
        for p in range(s - 1, -1, -1):
            if s_first - items[p][1] > CONTEXT_WINDOW:
                break
            if items[p][3] == "past":
                for k in range(p + 1, s):
                    if contrib[k] != 0.0:
                        contrib[k] *= items[p][2]
                    if items[k][3] == "rating":
                        factors[k] = items[p][2]
                phrases.append(("context", items[p][0], s_last, items[p][2], 0.0, 0.0))
                break
    return factors


def _ratings(
    text: _Text,
    items: list[Item],
    contrib: list[float],
    phrases: list[Phrase],
    factors: dict[int, float],
    negations: list[float],
) -> None:
    """Ratings by their order, maintained, after a verb, or alone (rule 2)."""
    tokens = text.tokens
    n = len(tokens)
    starting = {first: k for k, (first, *_rest) in enumerate(items)}

    def rating_at(p: int) -> int:
        k = starting.get(p, -1)
        return k if k >= 0 and items[k][3] == "rating" else -1

    k = 0
    while k < len(items):
        first, last, level, kind = items[k]
        if kind != "rating":
            k += 1
            continue
        to_before = tokens[first] == "to" or (first > 0 and tokens[first - 1] == "to")
        from_before = first > 0 and tokens[first - 1] == "from"
        after = last + 1
        other, new, old = -1, level, level
        if to_before and after < n and tokens[after] == "from":
            other = rating_at(after + 1)
            if other >= 0:
                old = items[other][2]
        elif from_before:
            if after < n and tokens[after] == "to":
                other = rating_at(after)
                if other < 0:
                    other = rating_at(after + 1)
            if other >= 0:
                new = items[other][2]
        span_first = first - 1 if from_before or (to_before and tokens[first] != "to") else first
        span_last = items[other][1] if other >= 0 else last
        verb = -1
        for j in range(k - 1, -1, -1):
            if span_first - items[j][1] > RATING_WINDOW:
                break
            if items[j][3] in DIRECTION_VERBS and contrib[j] != 0.0:
                verb = j
                break
        maintained = any(
            kind_j == "maintain"
            and (
                0 <= span_first - last_j <= RATING_WINDOW
                or 0 <= first_j - span_last <= RATING_WINDOW
            )
            for first_j, last_j, _, kind_j in items
        )
        if other >= 0:
            rule, c = "change", (new - old) * RATING_STEP
        elif tokens[first] == "to":
            rule, c, verb = "verb", 0.0, -1
        elif maintained:
            rule, c, verb = "maintained", level * RATING_MAINTAINED, -1
        elif verb >= 0 and from_before:
            step = 1.0 if items[verb][2] > 0 else -1.0
            rule, c, new = "from", step * RATING_STEP, old + step
        elif verb >= 0:
            rule, c, verb = "verb", 0.0, -1
        else:
            rule, c = "alone", level * RATING_ALONE * negations[k]
        if verb >= 0:
            contrib[verb] = 0.0
        phrases.append((rule, span_first, span_last, new, old, c * factors.get(k, 1.0)))
        k = other + 1 if other > k else k + 1


def _frame_thing(items: list[Item], first: int, last: int) -> int:
    before = [j for j, item in enumerate(items) if item[1] < first and item[3].endswith("_thing")]
    if before and first - items[before[-1]][1] <= THING_BEFORE:
        return before[-1]
    after = [j for j, item in enumerate(items) if item[0] > last and item[3].endswith("_thing")]
    if after and items[after[0]][0] - last <= THING_AFTER:
        return after[0]
    return -1


def _frame_at(text: _Text, m: int, floor: int) -> tuple[int, int, float, float] | None:
    """(first, last, new, old) of a numeric frame around the marker token ``m``."""
    old_slot = text.slot_from(m + 1)
    if old_slot is None:
        return None
    old_last, old, old_grade = old_slot
    new_slot = text.slot_before(m, floor, old_grade)
    if new_slot is not None:
        first, new, new_grade = new_slot
        last = old_last
    elif text.tokens[m] == "from":
        found = None
        for t in range(old_last + 1, min(old_last + 2 + FRAME_GAP, len(text.tokens))):
            if text.tokens[t] == "to":
                found = text.slot_from(t + 1)
                break
        if found is None:
            return None
        last, new, new_grade = found
        first = m
    else:
        return None
    return (first, last, new, old) if new_grade == old_grade else None


def _numbers(
    text: _Text,
    items: list[Item],
    contrib: list[float],
    partner: dict[int, int],
    phrases: list[Phrase],
) -> None:
    floor = -1
    for m, token in enumerate(text.tokens):
        if m <= floor or token not in ("from", "vs", "versus", "was"):
            continue
        frame = _frame_at(text, m, floor)
        if frame is None:
            continue
        first, last, new, old = frame
        floor = last
        thing = _frame_thing(items, first, last)
        if thing < 0:
            continue
        sign = 1.0 if items[thing][3] == "good_thing" else -1.0
        size = abs(new - old) / (abs(old) if abs(old) > 1e-9 else 1e-9)
        weight = _capped(NUMBER_BASE + NUMBER_SLOPE * size, NUMBER_MAX)
        direction = 1.0 if new > old else (-1.0 if new < old else 0.0)
        for k, (k_first, _, _, kind) in enumerate(items):
            inside = items[thing][1] < k_first <= last
            if k == thing or (kind in ("up", "down") and (partner.get(k) == thing or inside)):
                contrib[k] = 0.0
        phrases.append(("numbers", first, last, new, old, direction * sign * weight))


def _after_ticker(decoded: bytes, i: int) -> bool:
    """Whether ``decoded[:i]`` ends with a $cashtag then at least one whitespace byte."""
    head = decoded[:i]
    stripped = head.rstrip(SPACE)
    if len(stripped) == len(head):
        return False
    k = len(stripped)
    while k > 0 and (
        chr(stripped[k - 1]).isalnum() and stripped[k - 1] < 128 or stripped[k - 1] == 95
    ):
        k -= 1
    if k == len(stripped) or k == 0 or stripped[k - 1] != 36:
        return False
    return chr(stripped[k]).isalpha()


def _percents(text: _Text, phrases: list[Phrase]) -> None:
    decoded = text.decoded
    for p, value in enumerate(text.values):
        if value is None:
            continue
        start, end = text.spans[p]
        if decoded[end : end + 1] != b"%" or start < 1 or decoded[start - 1] not in b"+-":
            continue
        if start >= 2 and decoded[start - 2] not in SPACE:
            continue
        gap = decoded[text.spans[p - 1][1] : start - 1] if p > 0 else b""
        near = p > 0 and text.tokens[p - 1] in ("shares", "stock") and gap and not gap.strip(SPACE)
        if not (near or _after_ticker(decoded, start - 1)):
            continue
        weight = _capped(PERCENT_BASE + PERCENT_SLOPE * value, PERCENT_MAX)
        up = decoded[start - 1] == 43
        phrases.append(("percent", p, p, value if up else -value, 0.0, weight if up else -weight))


def reference_phrases(
    tokens: list[str],
    spans: list[tuple[int, int]],
    decoded: bytes,
    items: list[Item],
    contrib: list[float],
    partner: dict[int, int],
    negations: list[float],
) -> list[Phrase]:
    """The phrases of one text as (rule, first, last, new, old, contribution), in the kernel's
    order (context, ratings, numbers, percentages); ``contrib`` is changed in place."""
    text = _Text(tokens, spans, decoded)
    phrases: list[Phrase] = []
    factors = _context(items, contrib, phrases)
    _ratings(text, items, contrib, phrases, factors, negations)
    _numbers(text, items, contrib, partner, phrases)
    _percents(text, phrases)
    return phrases
