"""The headline scorer: kernel against a plain-Python reference, finance rules, lexicon loading.

The reference below is written independently of the kernel: it decodes and lower-cases the
whole text first, tokenises with one regular expression, looks n-grams up in a dict of terms
and applies the documented rules item by item.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phrase_reference import reference_phrases

from backtest.errors import InputError
from backtest.scoring import (
    ALPHA,
    DEFAULT_LEXICON_PATH,
    Explanation,
    explain,
    label_scores,
    load_lexicon,
    score_headlines,
)

# ---------------------------------------------------------------- plain-Python reference

NEGATION_WINDOW = 3
MODIFIER_WINDOW = 2
PAIR_WINDOW = 5

_ENTITY = re.compile(rb"&amp;|&lt;|&gt;|&quot;|&#39;|\xe2\x80[\x98\x99]")
_ENTITY_CHAR = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&#39;": b"'"}
_PIECE = re.compile(
    rb"(?P<url>(?:http|t\.co/|www\.)[^ \t\n\r\x0b\x0c\x00]*)"
    rb"|(?P<cashtag>\$[a-z][a-z0-9_]*)"
    rb"|(?P<user>@[a-z0-9_]+)"
    rb"|(?P<token>[a-z0-9](?:[a-z0-9]|'(?=[a-z0-9])|(?<=[0-9])[.,](?=[0-9]))*)"
    rb"|(?P<other>.)",
    re.DOTALL,
)


def reference_pieces(text: str) -> tuple[list[str], list[tuple[int, int]], bytes]:
    """Tokens as documented (entities decoded, ASCII lower-cased, links/cashtags/users
    dropped), their byte spans in the decoded text, and the decoded text."""
    raw = text.encode("utf-8", "surrogatepass")
    decoded = _ENTITY.sub(lambda m: _ENTITY_CHAR.get(m.group(), b"'"), raw).lower()
    tokens, spans = [], []
    for m in _PIECE.finditer(decoded):
        token = m.group("token")
        if token is None:
            continue
        if token == b"rt" and re.match(rb" *@", decoded[m.end() :]):
            continue
        tokens.append(token.decode("ascii"))
        spans.append(m.span("token"))
    return tokens, spans, decoded


def reference_tokens(text: str) -> list[str]:
    """The scorer's tokens of ``text`` (see ``reference_pieces``)."""
    return reference_pieces(text)[0]


def reference_lexicon(path: Path = DEFAULT_LEXICON_PATH) -> dict[str, tuple[float, str]]:
    """term -> (weight, kind), read straight from the CSV."""
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    terms = {}
    for row in csv.DictReader(lines):
        term = " ".join(row["term"].lower().replace("-", " ").split())
        terms[term] = (float(row["weight"]), row["kind"])
    return terms


WORD_LIKE = ("word", "rating_up", "rating_down", "expectation")
THINGS = ("good_thing", "bad_thing")
DIRECTIONS = ("up", "down")


def reference_items(tokens: list[str], lexicon: dict) -> list[tuple[int, int, float, str]]:
    """Longest-match items (first token, last token, weight, kind), left to right."""
    items = []
    p = 0
    while p < len(tokens):
        for n in (3, 2, 1):
            term = " ".join(tokens[p : p + n])
            if p + n <= len(tokens) and term in lexicon:
                items.append((p, p + n - 1, *lexicon[term]))
                p += n
                break
        else:
            token = tokens[p]
            if len(token) > 3 and token.endswith("n't") and "n't" in lexicon:
                items.append((p, p, *lexicon["n't"]))
            p += 1
    return items


def reference_contributions(
    items: list[tuple[int, int, float, str]],
) -> tuple[list[float], dict[int, int], list[float]]:
    """Each item's contribution before the phrase layer, direction -> paired thing, and each
    item's negation factor."""

    def negation(first: int) -> float:
        factor = 1.0
        for k, (_, last, weight, kind) in enumerate(items):
            if kind != "negator":
                continue
            stop = last + 1 + NEGATION_WINDOW
            for other_first, other_last, _, other_kind in items[k + 1 :]:
                if other_first >= stop:
                    break
                if other_kind == "expectation":
                    stop = max(stop, other_last + 1 + NEGATION_WINDOW)
            if last < first < stop:
                factor *= weight
        return factor

    def modifiers(first: int, last: int) -> float:
        factor = 1.0
        for m_first, m_last, weight, kind in items:
            if kind in ("intensifier", "dampener"):
                if m_last < first <= m_last + MODIFIER_WINDOW:
                    factor *= weight
                if m_first == last + 1:
                    factor *= weight
        return factor

    partner: dict[int, int] = {}
    for k, (first, last, _, kind) in enumerate(items):
        if kind not in DIRECTIONS:
            continue
        candidates = []
        for j, (t_first, t_last, _, t_kind) in enumerate(items):
            if t_kind not in THINGS:
                continue
            claimed = j in partner.values()
            if j < k and first - t_last <= PAIR_WINDOW:
                candidates.append((first - t_last, claimed, 0, j))
            elif j > k and t_first - last <= PAIR_WINDOW:
                candidates.append((t_first - last, claimed, 1, j))
        if candidates:
            partner[k] = min(candidates)[3]
    paired_things = set(partner.values())

    contributions = []
    for k, (first, last, weight, kind) in enumerate(items):
        c = 0.0
        if kind in WORD_LIKE or (kind in THINGS and k not in paired_things):
            c = weight * modifiers(first, last) * negation(first)
        elif kind in DIRECTIONS:
            if k in partner:
                t_first, t_last, _, t_kind = items[partner[k]]
                sign = 1.0 if t_kind == "good_thing" else -1.0
                c = weight * sign * modifiers(first, last) * modifiers(t_first, t_last)
                c *= negation(first)
            else:
                c = weight * modifiers(first, last) * negation(first)
        contributions.append(c)
    return contributions, partner, [negation(first) for first, _, _, _ in items]


def reference_raw_sum(text: str, lexicon: dict[str, tuple[float, str]]) -> float:
    """Raw sum computed rule by rule: items, then the phrase layer, summed in that order."""
    tokens, spans, decoded = reference_pieces(text)
    items = reference_items(tokens, lexicon)
    contributions, partner, negations = reference_contributions(items)
    phrases = reference_phrases(tokens, spans, decoded, items, contributions, partner, negations)
    total = 0.0
    for c in contributions:
        total += c
    for phrase in phrases:
        total += phrase[-1]
    return total


def reference_score(text: str, lexicon: dict[str, tuple[float, str]]) -> float:
    total = reference_raw_sum(text, lexicon)
    return 0.0 if total == 0.0 else total / math.sqrt(total * total + ALPHA)


REFERENCE_LEXICON = reference_lexicon()

# ---------------------------------------------------------------- generated input

_TERMS = sorted(REFERENCE_LEXICON)
_NOISE = [
    "&amp;", "&#39;", "&lt;", "&gt;", "&quot;", "&am", "’", "‘", "n't", "don't", "isn’t",
    "http://t.co/AbC1", "https://x.y/z?q=1", "t.co/xy", "www.site.com", "htt", "$AAPL", "$5",
    "$BRK.B", "@user_1", "RT @someone:", "RT", "rt@x", "#bullish", "#", "5.2%", "3,000",
    "1.5.7", "🚀", "📉", "é", "ü", "日本", "\r\n", "\r", "...", "…", "-", "'", "''", ",", ".",
    "!!!", "?", "(", ")", "\t", "\x00", "\ud800",
]  # fmt: skip
_SEPARATORS = [" ", " ", " ", "", "  ", "\n", ", ", ". ", "-", "'"]

piece = st.one_of(
    st.sampled_from(_TERMS),
    st.sampled_from(_TERMS).map(str.upper),
    st.sampled_from(_TERMS).map(str.title),
    st.sampled_from(_NOISE),
    st.text(max_size=6),
)
lexicon_text = st.lists(st.tuples(piece, st.sampled_from(_SEPARATORS)), max_size=40).map(
    lambda parts: "".join(p + s for p, s in parts)
)
any_text = st.one_of(lexicon_text, st.text(max_size=200), st.just(""))


def _same(kernel: float, reference: float) -> bool:
    return abs(kernel - reference) <= 1e-12


# ---------------------------------------------------------------- kernel == reference


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_text, max_size=12))
def test_kernel_matches_reference_on_random_batches(texts: list[str]) -> None:
    scores = score_headlines(texts)
    assert scores.dtype == np.float64 and scores.shape == (len(texts),)
    for text, score in zip(texts, scores, strict=True):
        assert _same(score, reference_score(text, REFERENCE_LEXICON)), text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(any_text, st.none()), max_size=12))
def test_python_and_arrow_encodings_score_alike(texts: list[str | None]) -> None:
    from backtest.kernels.scoring import score_texts
    from backtest.scoring import arrow_text_chunks, encode_texts, load_lexicon

    lex = load_lexicon()
    tables = (lex.table_keys, lex.table_terms, lex.table_flags, lex.weights, lex.kinds)
    via_python = score_texts(*encode_texts(texts), *tables, lex.nt_term, ALPHA)
    try:
        chunks = arrow_text_chunks(texts)
    except LookupError:  # lone surrogates: only the Python path can read them
        return
    via_arrow = np.concatenate(
        [score_texts(data, offsets, *tables, lex.nt_term, ALPHA) for data, offsets, _ in chunks]
    )
    assert np.array_equal(via_python, via_arrow)


@settings(max_examples=100, deadline=None)
@given(lexicon_text)
def test_explain_tokens_and_sum_match_reference(text: str) -> None:
    explanation = explain(text)
    assert list(explanation.tokens) == reference_tokens(text)
    assert abs(explanation.raw_sum - reference_raw_sum(text, REFERENCE_LEXICON)) <= 1e-9
    assert _same(explanation.score, score_headlines([text])[0])
    assert abs(sum(c.contribution for c in explanation.contributions) - explanation.raw_sum) < 1e-9


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(piece, st.sampled_from(_SEPARATORS)), min_size=1, max_size=30))
def test_kernel_matches_reference_on_10kb_texts(parts: list[tuple[str, str]]) -> None:
    chunk = "".join(p + s for p, s in parts) or "x"
    text = (chunk * (10_000 // len(chunk) + 1))[:10_000]
    assert _same(
        score_headlines([text, "", text[:5000]])[0], reference_score(text, REFERENCE_LEXICON)
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!...,,,;;;:::???",
        "🚀🚀🚀 📉",
        "日本語のテキスト",
        "\x00\x00",
        "&amp;&amp;&lt;&gt;&quot;&#39;",
        "http://t.co/abc",
        "$AAPL $MSFT @someone",
        "not not not",
        "very very very",
        "rose rose fell",
    ],
)
def test_adversarial_texts_match_reference(text: str) -> None:
    assert _same(score_headlines([text])[0], reference_score(text, REFERENCE_LEXICON))


def test_nul_inside_a_text_keeps_texts_apart() -> None:
    texts = ["profit rose\x00", "\x00loss widened", "good"]
    scores = score_headlines(texts)
    expected = [reference_score(t, REFERENCE_LEXICON) for t in texts]
    assert np.allclose(scores, expected, atol=1e-12, rtol=0)


# ---------------------------------------------------------------- finance behaviour


def _score(text: str) -> float:
    return float(score_headlines([text])[0])


def test_profit_rose_is_bullish() -> None:
    assert _score("Profit rose 12%") > 0.2


def test_loss_widened_is_bearish() -> None:
    assert _score("Net loss widened in the third quarter") < -0.2


def test_costs_fell_is_bullish() -> None:
    assert _score("Costs fell sharply") > 0.2


def test_loss_narrowed_is_bullish() -> None:
    assert _score("The loss narrowed to $3 million") > 0.2


def test_sales_decreased_is_bearish() -> None:
    assert _score("Sales decreased 4%") < -0.2


def test_shares_down_and_up_follow_the_price() -> None:
    assert _score("Shares down 5%") < -0.2
    assert _score("Up 3% in early trade") > 0.2


def test_guidance_and_dividend_changes_read_by_direction() -> None:
    assert _score("Company raises guidance") > 0.2
    assert _score("Company cuts guidance") < -0.2
    assert _score("Dividend cut") < -0.2
    assert _score("Raises dividend by 10%") > 0.2


def test_cuts_costs_raises_guidance_pairs_each_verb_with_its_object() -> None:
    assert _score("Company cuts costs, raises guidance") > _score("Company cuts costs")
    assert _score("Company cuts costs, raises guidance") > 0.4


def test_beats_and_misses_estimates() -> None:
    assert _score("Intel beats estimates") > 0.2
    assert _score("Intel misses estimates") < -0.2


def test_analyst_actions_and_events_have_the_expected_sign() -> None:
    for text in ["Upgrade to buy", "Outperform rating", "New $10 billion buyback"]:
        assert _score(text) > 0.2, text
    for text in ["Downgrade to sell", "Recall of 1 million cars", "SEC probe", "Lawsuit filed"]:
        assert _score(text) < -0.2, text
    assert _score("Company announces layoffs") < -0.2


def test_not_good_is_negative() -> None:
    assert _score("good") > 0
    assert _score("not good") < 0


def test_contracted_negation_flips() -> None:
    assert _score("Profit didn't rise") < 0
    assert _score("Profit didn’t rise") < 0
    assert _score("Profit didn&#39;t rise") < 0


def test_fails_to_flips_the_next_words() -> None:
    assert _score("fails to beat estimates") < 0


def test_intensifier_and_dampener_scale_the_score() -> None:
    plain, strong, weak = (
        _score("profit rose"),
        _score("profit rose sharply"),
        _score("profit rose slightly"),
    )
    assert strong > plain > weak > 0


def test_tax_alone_is_neutral() -> None:
    for text in ["tax", "liability", "cost", "crude", "vice president"]:
        assert _score(text) == 0.0, text


def test_cashtags_and_links_do_not_score() -> None:
    assert _score("$BEAT $GOOD http://t.co/bullish https://x.com/rally @soar") == 0.0
    assert _score("$AAPL good") == _score("good")


def test_retweet_prefix_and_hashtags_are_normalised() -> None:
    assert explain("RT @trader: #Bullish on $FB").tokens == ("bullish", "on")


def test_scores_stay_within_unit_interval() -> None:
    extremes = ["soar " * 500, "plunge " * 500, "bankruptcy fraud probe lawsuit " * 100]
    scores = score_headlines(extremes)
    assert np.all(np.abs(scores) <= 1.0)
    assert scores[0] > 0.99 and scores[1] < -0.99


def test_empty_none_and_nan_score_zero() -> None:
    scores = score_headlines(["", None, float("nan"), "   "])
    assert scores.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_arrow_pandas_and_mixed_inputs_score_like_lists() -> None:
    import pandas as pd
    import pyarrow as pa

    texts = ["profit rose", None, "loss widened", "", "not good", "rally"]
    expected = score_headlines([t or "" for t in texts])
    assert np.array_equal(score_headlines(pa.array(texts)), expected)
    assert np.array_equal(score_headlines(pa.array(texts)[2:]), expected[2:])
    chunked = pa.chunked_array([texts[:2], texts[2:]], type=pa.large_string())
    assert np.array_equal(score_headlines(chunked), expected)
    assert np.array_equal(score_headlines(pd.Series(texts, dtype="str")), expected)
    assert np.array_equal(
        score_headlines(texts[:2] + [42] + texts[3:]), expected * [1, 1, 0, 1, 1, 1]
    )
    assert np.array_equal(score_headlines(t or "" for t in texts), expected)
    assert np.array_equal(score_headlines(pd.Index(texts[:1] + texts[2:])), np.delete(expected, 1))
    assert score_headlines([]).shape == (0,)
    assert score_headlines(pd.Series([], dtype="str")).shape == (0,)


def test_numpy_array_of_str_is_accepted() -> None:
    texts = np.array(["profit rose", "loss widened"])
    assert np.array_equal(score_headlines(texts), score_headlines(list(texts)))


def test_a_single_string_is_rejected_with_a_hint() -> None:
    with pytest.raises(InputError, match="wrap it in a list"):
        score_headlines("profit rose")


def test_label_scores_thresholds() -> None:
    labels = label_scores([0.5, 0.0, -0.5, 0.1], bull_at=0.1, bear_at=-0.1)
    assert labels.tolist() == ["bull", "neutral", "bear", "bull"]
    with pytest.raises(InputError):
        label_scores([0.0], bull_at=-0.1, bear_at=0.1)


def test_explain_names_the_change_rule() -> None:
    explanation = explain("Profit rose sharply")
    assert isinstance(explanation, Explanation)
    rules = " ".join(c.rule for c in explanation.contributions)
    assert "change: profit rose" in rules and "intensified" in rules
    assert explanation.label == "bull"
    assert "profit" in str(explanation) and "score" in str(explanation)


# ---------------------------------------------------------------- lexicon loading


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lex.csv"
    path.write_text("# comment\nterm,weight,kind\n" + body, encoding="utf-8")
    return path


def test_bad_lexicon_row_names_file_and_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "good,1.5,word\nbad,-1.5,word\n# skipped\nugly,lots,word\n")
    with pytest.raises(InputError) as info:
        load_lexicon(path)
    assert info.value.file == str(path)
    assert info.value.row == 3
    assert info.value.column == "weight"
    assert str(path) in str(info.value) and "row 3" in str(info.value)


@pytest.mark.parametrize(
    ("body", "column"),
    [
        ("good,1.5,wordy\n", "kind"),
        ("good,1.5,word\ngood,2,word\n", "term"),
        ("one two three four,1,word\n", "term"),
        ("p/e,1,word\n", "term"),
        ("not,0.5,negator\n", "weight"),
        ("very,0.5,intensifier\n", "weight"),
        ("rose,-1,up\n", "weight"),
        ("tax,1,neutral\n", "weight"),
        ("good,nan,word\n", "weight"),
    ],
)
def test_bad_lexicon_cell_names_its_column(tmp_path: Path, body: str, column: str) -> None:
    with pytest.raises(InputError) as info:
        load_lexicon(_write(tmp_path, body))
    assert info.value.column == column
    assert info.value.row is not None


def test_missing_lexicon_file_and_header(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_lexicon(tmp_path / "absent.csv")
    path = tmp_path / "noheader.csv"
    path.write_text("term,score\ngood,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_lexicon(path)
    assert info.value.column == "weight"


def test_custom_lexicon_changes_scores(tmp_path: Path) -> None:
    lexicon = load_lexicon(_write(tmp_path, "moon shot,3,word\nnot,-0.74,negator\n"))
    scores = score_headlines(["moon shot", "not moon shot", "profit rose"], lexicon)
    assert scores[0] > 0.5 and scores[1] < 0 and scores[2] == 0.0


def test_default_lexicon_is_loaded_once_and_is_large() -> None:
    assert load_lexicon() is load_lexicon()
    assert len(load_lexicon().terms) >= 500
    assert load_lexicon(DEFAULT_LEXICON_PATH) is not load_lexicon()
