"""The phrase layer (issue 22): each family on examples, the kernel against the plain-Python
reference on phrase-heavy random text, number parsing, explanations and old lexicon files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phrase_reference import reference_number
from test_scoring import (
    _TERMS,
    REFERENCE_LEXICON,
    _same,
    reference_lexicon,
    reference_raw_sum,
    reference_score,
)

from backtest.errors import InputError
from backtest.kernels.scoring import KIND_STANCE
from backtest.scoring import explain, load_lexicon, score_headlines

OLD_LEXICON = Path(__file__).parent / "data" / "lexicon-before-issue22.csv"


def _score(text: str) -> float:
    return float(score_headlines([text])[0])


def _rules(text: str) -> str:
    return "\n".join(f"{c.kind}: {c.term}: {c.rule}" for c in explain(text).contributions)


# ---------------------------------------------------------------- families on examples

BULL = [
    "Acme upgraded from sell at Big Bank",
    "Acme upgraded from sell to hold",
    "Acme upped to Buy",
    "Keller initiated at Outperform",
    "From Hold to Buy: Fulton flips on Juniper Rail",
    "Palisade moves $AMD to Overweight from Equal Weight",
    "Granite Bank raises price target to $95 from $82",
    "Guidance raised to $2.10-2.20 from $1.90-2.00",
    "Loss narrows to $40 million from $210 million",
    "Credit rating raised from B to A",
    "$NVDA +4.1% on the open",
    "$PYPL shakes off a bear call",
    "After a seven-year bearish view, Corbin says buy",
    "Drug meets primary endpoint",
]
BEAR = [
    "Acme downgraded to neutral from buy at Big Bank",
    "Weller cuts $BA to Underperform from Market Perform",
    "From Buy to Hold: Fulton flips on Osprey Media",
    "Price target lowered to $110 from $120 at Dunmore; buy rating maintained",
    "$SNAP PT cut to $18 vs $25",
    "Analysts' targets trimmed after the quarter",
    "Company cuts EPS guidance to $1.40-1.50 from $1.70-1.80",
    "Dividend lowered to $0.50 from $0.90",
    "Q3 EPS $1.80 vs $2.05 est.",
    "$SNAP shares -2.7% premarket",
    "Shares -6% after hours",
    "Company doesn't see a quick rebound",
    "Trial failed to meet its main goal",
    "Vireo pulls outlook",
    "Vireo withdraws its guidance",
    "Intel misses estimates",
    "Drink the coffee, don't buy the stock",
    "Losses mount as bookings slow",
]
NEUTRAL = [
    "Lockheed to buy Sikorsky for $8 billion",
    "#Stocks to buy $WFC $BIIB",
    "Lakeside reiterates Overweight on $MSFT",
    "Rating maintained at hold",
    "Corbin initiates $ROKU at Neutral",
    "EPS $0.93 vs $0.93 est",
    "Conference call moved to 9 a.m. from 8 a.m.",
    "Rebalancing to 60/40 from 70/30",
    "Daily:-0.24% Weekly:-0.57%",
]


@pytest.mark.parametrize("text", BULL)
def test_bullish_phrases_read_bull(text: str) -> None:
    assert explain(text).label == "bull", _rules(text)


@pytest.mark.parametrize("text", BEAR)
def test_bearish_phrases_read_bear(text: str) -> None:
    assert explain(text).label == "bear", _rules(text)


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_phrases_read_neutral(text: str) -> None:
    assert explain(text).label == "neutral", _rules(text)


def test_rating_change_size_follows_the_scale() -> None:
    one_step = _score("Acme moved to Hold from Sell")
    two_steps = _score("Acme moved to Buy from Sell")
    assert 0 < one_step < two_steps
    assert _score("Acme moved to Sell from Buy") == -two_steps


def test_numeric_change_weight_grows_with_the_size_of_the_change() -> None:
    small = _score("Price target raised to $101 from $100")
    large = _score("Price target raised to $150 from $100")
    capped = _score("Price target raised to $900 from $100")
    assert 0.22 < small < large <= capped
    assert _score("Price target raised to $1,000 from $100") == capped


def test_numbers_decide_against_the_verb_and_absorb_it() -> None:
    explanation = explain("US GDP grew 1.1% vs 2.0% expected")
    assert explanation.label == "bear"
    grew = next(c for c in explanation.contributions if c.term == "grew")
    assert grew.contribution == 0.0 and "numbers phrase" in grew.rule


def test_signed_percentage_needs_shares_or_a_ticker_next_to_it() -> None:
    assert _score("$AAPL -3%") < -0.22
    assert _score("shares +3%") > 0.22
    assert _score("margin -3%") == 0.0
    assert _score("$AAPL, -3%") == 0.0
    assert _score("shares x-3%") == 0.0


def test_expectation_words_widen_the_negation() -> None:
    assert _score("does not see a quick rebound") < 0 < _score("sees a quick rebound")
    assert _score("not a very quick rebound") > 0  # no expectation word: window of 3


def test_past_stance_voids_or_flips_only_before_a_stance_noun() -> None:
    assert _score("after a bearish view") == 0.0
    assert _score("shakes off a bear call") > 0
    assert _score("shares fall after probe") == _score("shares fall probe")


# ---------------------------------------------------------------- explain


def test_explain_names_the_rule_and_the_numbers_of_each_family() -> None:
    assert "rating +2 -> +0" in _rules("Acme downgraded to neutral from buy")
    assert "110 from 120 (-8.3%) for 'price target'" in _rules("price target cut to $110 from $120")
    assert "2.15 from 1.95" in _rules("guidance raised to $2.10-2.20 from $1.90-2.00")
    assert "2.15 from 1.95" in _rules("raises profit outlook to $2.10-2.20 a share from $1.90-2.00")
    assert "8 from 5" in _rules("credit rating raised from B to A")
    assert "signed percentage -2.7%" in _rules("$SNAP shares -2.7%")
    assert "maintained" in _rules("buy rating maintained")
    assert "past stance" in _rules("after a seven-year bearish view, says buy")
    assert "negated" in _rules("doesn't see a quick rebound")


# ---------------------------------------------------------------- kernel == reference

_PHRASE_PIECES = [
    "to", "from", "vs", "versus", "was", "shares", "stock", "$110", "110", "2.10-2.20",
    "1.90-2.00", "435k", "1.5bn", "3,000", "0.93", "+2.5%", "-3%", "+", "-", "%", "b", "a",
    "aa", "bbb", "d", "$AAPL", "hold", "buy", "sell", "to buy", "neutral", "upgraded",
    "downgraded", "reiterated", "maintained", "price target", "guidance", "loss", "raised",
    "cut", "after", "shakes off", "view", "call", "bearish", "doesn't", "see", "fails to",
    "meet", "main goal", "rebound", "1.5.7", "12x", "99999999999999999999",
]  # fmt: skip
_JOINERS = [" ", " ", " ", "", "-", ", ", "%", " $"]

_RATINGS = ["buy", "Buy", "hold", "sell", "neutral", "outperform", "underweight", "equal weight",
            "market perform", "strong buy", "in line", "to buy", "to sell"]  # fmt: skip
_VERBS = ["", "upgraded", "downgraded", "upped", "cut", "raised", "moves", "reiterated",
          "maintained", "keeps", "double upgrades"]  # fmt: skip
_VALUES = ["$110", "120", "2.10-2.20", "$1.90-2.00", "435k", "0.93", "3,000", "1.5bn", "0",
           "B", "A", "AA", "d", "99999999999999999999", "5.5.5"]  # fmt: skip
_THINGS = ["", "price target", "PT", "guidance", "loss", "dividend", "costs", "EPS", "rates"]
_FILL = ["", "a", "the", "its", "seven-year", "very", "quick", "million"]


def _joined(parts: tuple[str, ...]) -> str:
    return " ".join(p for p in parts if p)


_s = st.sampled_from
rating_fragment = st.tuples(
    _s(_VERBS), _s(["to", "from", "at", "", "to"]), _s(_RATINGS), _s(["from", "to", "", "rating"]),
    _s(_RATINGS + [""]), _s(_VERBS),
).map(_joined)  # fmt: skip
number_fragment = st.tuples(
    _s(_THINGS), _s(_VERBS), _s(["to", "", "at"]), _s(_VALUES), _s(_FILL),
    _s(["from", "vs", "versus", "was", "to", "from"]), _s(_VALUES), _s(_FILL + ["to"]),
    _s(_VALUES + [""]), _s(_THINGS),
).map(_joined)  # fmt: skip
percent_fragment = st.tuples(
    _s(["shares", "stock", "$AAPL", "$BRK.B", "margin", "", "shares,", "$5"]),
    _s([" ", "  ", "", "\n", " -", "x"]),
    _s(["+", "-", ""]),
    _s(_VALUES),
    _s(["%", "", " %"]),
).map(lambda parts: "".join(parts))
context_fragment = st.tuples(
    _s(["after", "shakes off", "abandons", ""]), _s(_FILL), _s(_FILL),
    _s(["bearish", "bear", "bullish", "buy", "sell", "good", ""]),
    _s(["view", "call", "stance", ""]),
).map(_joined)  # fmt: skip
expectation_fragment = st.tuples(
    _s(["not", "doesn't", "fails to", "no", ""]), _s(["see", "expects", "meet", ""]),
    _s(_FILL), _s(["sees", "expect", ""]), _s(_FILL),
    _s(["rebound", "main goal", "growth", "profit rose", "loss"]),
).map(_joined)  # fmt: skip

phrase_text = st.lists(
    st.tuples(
        st.one_of(
            rating_fragment, number_fragment, percent_fragment, context_fragment,
            expectation_fragment, _s(_PHRASE_PIECES), _s(_TERMS),
        ),
        _s(_JOINERS),
    ),
    max_size=12,
).map(lambda parts: "".join(p + s for p, s in parts))  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(phrase_text, max_size=8))
def test_kernel_matches_reference_on_phrase_heavy_text(texts: list[str]) -> None:
    scores = score_headlines(texts)
    for text, score in zip(texts, scores, strict=True):
        assert _same(score, reference_score(text, REFERENCE_LEXICON)), text


@settings(max_examples=200, deadline=None)
@given(phrase_text)
def test_explain_sums_to_the_reference_on_phrase_heavy_text(text: str) -> None:
    explanation = explain(text)
    assert abs(explanation.raw_sum - reference_raw_sum(text, REFERENCE_LEXICON)) <= 1e-9
    assert abs(sum(c.contribution for c in explanation.contributions) - explanation.raw_sum) < 1e-9


number_token = st.one_of(
    st.from_regex(r"[0-9]{1,12}(,[0-9]{3}){0,2}(\.[0-9]{1,6})?(k|m|mn|b|bn|x|q)?", fullmatch=True),
    st.from_regex(r"[0-9][0-9a-z.,]{0,10}", fullmatch=True),
    st.text(alphabet="0123456789.,kmbn", min_size=1, max_size=12),
)


@settings(max_examples=500, deadline=None)
@given(number_token)
def test_number_values_match_the_reference(token: str) -> None:
    from backtest.kernels.phrases import number_value

    norm = np.frombuffer(token.encode(), dtype=np.uint8)
    kernel = number_value(norm, 0, len(norm))
    reference = reference_number(token)
    if reference is None:
        assert np.isnan(kernel), token
    else:
        assert kernel == reference, token


# ---------------------------------------------------------------- lexicon files


def test_a_lexicon_written_before_the_phrase_layer_still_loads_and_scores() -> None:
    old = load_lexicon(OLD_LEXICON)
    assert len(old.terms) > 1000
    assert int(old.kinds.max()) < 9  # none of the phrase kinds
    old_reference = reference_lexicon(OLD_LEXICON)
    texts = ["Acme downgraded to neutral from buy", "profit rose", "price target to $1 from $2"]
    for text, score in zip(texts, score_headlines(texts, old), strict=True):
        assert _same(score, reference_score(text, old_reference)), text
    assert score_headlines(["Upgrade to buy"], old)[0] > 0.2


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lex.csv"
    path.write_text("term,weight,kind\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "body",
    [
        "buy,4,rating\n",
        "upgraded,-1,rating_up\n",
        "downgraded,1,rating_down\n",
        "keeps,1,maintain\n",
        "after,0.5,past\n",
        "view,1,stance\n",
        "sees,5,expectation\n",
    ],
)
def test_phrase_kinds_are_validated(tmp_path: Path, body: str) -> None:
    with pytest.raises(InputError) as info:
        load_lexicon(_write(tmp_path, body))
    assert info.value.column == "weight"


def test_phrase_kinds_in_a_custom_lexicon_drive_the_phrase_layer(tmp_path: Path) -> None:
    lexicon = load_lexicon(
        _write(tmp_path, "top,2,rating\nbottom,-2,rating\nopinion,0,stance\nbefore,0,past\n")
    )
    assert int(lexicon.kinds.max()) == KIND_STANCE
    scores = score_headlines(["to top from bottom", "before a top opinion"], lexicon)
    assert scores[0] > 0.5 and scores[1] == 0.0
