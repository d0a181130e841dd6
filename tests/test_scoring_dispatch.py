"""The serial and parallel scoring kernels give exactly the scores of one another, on either
side of score_headlines' threshold, and every lexicon term alone scores as the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scoring import REFERENCE_LEXICON, _same, any_text, reference_score

from backtest import scoring
from backtest.kernels.scoring import score_range, score_texts
from backtest.scoring import ALPHA, encode_texts, load_lexicon, score_headlines


def tables() -> tuple:
    lex = load_lexicon()
    return (
        lex.table_keys,
        lex.table_terms,
        lex.table_flags,
        lex.weights,
        lex.kinds,
        lex.nt_term,
        ALPHA,
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(any_text, st.none()), max_size=40))
def test_serial_and_parallel_kernels_give_the_same_bits(texts: list[str | None]) -> None:
    buf, offsets = encode_texts(texts)
    parallel = score_texts(buf, offsets, *tables())
    serial = np.zeros(len(texts))
    score_range(buf, offsets, 0, len(texts), *tables(), serial)
    assert np.array_equal(parallel.view(np.int64), serial.view(np.int64))


@pytest.mark.parametrize("threshold", [0, 1, 10**9])
def test_score_headlines_scores_alike_on_either_side_of_the_threshold(
    threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Profit rose", "Loss widened", None, "", "not bad at all", "shares plunge"] * 50
    expected = [reference_score(t or "", REFERENCE_LEXICON) for t in texts]
    monkeypatch.setattr(scoring, "PARALLEL_MIN_TEXTS", threshold)
    scores = score_headlines(texts)
    assert all(_same(s, e) for s, e in zip(scores, expected, strict=True))


def test_every_lexicon_term_alone_scores_as_the_reference() -> None:
    terms = list(load_lexicon().terms)
    scores = score_headlines(terms)
    for term, score in zip(terms, scores, strict=True):
        assert _same(score, reference_score(term, REFERENCE_LEXICON)), term
