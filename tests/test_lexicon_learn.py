"""Lexicon learning (backtest.lexicon_learn): point in time, planted words, determinism, format.

A synthetic world of four tickers on real XNYS sessions: small seeded noise returns, plus
planted headlines published at 08:00 New York (so they trade at that session's open) whose
next open-to-open move is planted: "quuxrise" before +4%, "quuxfall" before -4%, and
"quuxfuture" before +6% but only after the training window's end.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import EMBEDDED, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.calendar import load_sessions
from backtest.config import load_config
from backtest.lexicon_learn import (
    TermIncidence,
    headline_terms,
    label_headlines,
    label_ic,
    learn_lexicon,
    next_session_returns,
    rank_normalise,
    screen_terms,
    tokenize_texts,
    topic_tone,
)
from backtest.runner import run as run_strategy
from backtest.scoring import explain, load_lexicon

TICKERS = ("AAA", "BBB", "CCC", "DDD")
FIRST_DAY, TRAIN_END, LAST_DAY = "2021-01-04", "2021-04-30", "2021-06-30"
FILLER = tuple(
    f"{a}{b}" for a in ("blo", "fra", "gni", "plu", "tre") for b in ("ck", "mp", "rt", "sh")
)
PLANTED_MOVE = {"quuxrise": 0.04, "quuxfall": -0.04, "quuxfuture": 0.06}


@dataclass(frozen=True)
class World:
    prices: Path
    headlines: Path
    dates: pd.DatetimeIndex
    open_: np.ndarray
    last_train_row: int


def _write_world(folder: Path, *, scramble_after_train: bool = False) -> World:
    """Write prices.csv and headlines.csv of the synthetic world into ``folder``."""
    sessions = load_sessions("XNYS", FIRST_DAY, LAST_DAY)
    dates = pd.DatetimeIndex(sessions.dates)
    n, k = len(dates), len(TICKERS)
    rng = np.random.default_rng(7)
    step = rng.normal(0.0, 0.004, size=(n, k))
    last_train_row = int(dates.searchsorted(pd.Timestamp(TRAIN_END), side="right")) - 1
    rows: list[tuple[int, int, str]] = []
    for s in range(n - 1):
        word = "quuxfuture" if s > last_train_row else ("quuxrise", "quuxfall")[s % 2]
        if s == last_train_row:
            word = "quuxedge"
        ticker = s % k
        filler = " ".join(rng.choice(FILLER, size=3))
        rows.append((s, ticker, f"{filler} {word} today"))
        if word in PLANTED_MOVE:
            step[s, ticker] = PLANTED_MOVE[word]
        elif word == "quuxedge":
            step[s, ticker] = 0.08
        other = (ticker + 2) % k
        rows.append((s, other, " ".join(rng.choice(FILLER, size=4))))
    if scramble_after_train:
        late = slice(last_train_row, None)
        step[late] = np.random.default_rng(99).normal(0.0, 0.05, size=step[late].shape)
        rows += [(s, 0, "quuxrise crash") for s in range(last_train_row + 1, n - 1)]
    open_ = 100.0 * np.vstack([np.ones(k), np.cumprod(1.0 + step[:-1], axis=0)])
    close = open_ * 1.001
    prices = pd.DataFrame(
        {
            "date": np.repeat(dates.strftime("%Y-%m-%d"), k),
            "ticker": np.tile(TICKERS, n),
            "open": open_.ravel().round(6),
            "close": close.ravel().round(6),
        }
    )
    prices_path = folder / "prices.csv"
    prices.to_csv(prices_path, index=False)
    stamps = [
        (dates[s] + pd.Timedelta(hours=8)).tz_localize("America/New_York").isoformat()
        for s, _, _ in rows
    ]
    headlines = pd.DataFrame(
        {
            "timestamp": stamps,
            "ticker": [TICKERS[t] for _, t, _ in rows],
            "headline": [text for _, _, text in rows],
        }
    )
    headlines_path = folder / "headlines.csv"
    headlines.to_csv(headlines_path, index=False, quoting=csv.QUOTE_ALL)
    return World(prices_path, headlines_path, dates, open_, last_train_row)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _write_world(tmp_path_factory.mktemp("lexicon_world"))


def _config(world: World, *sets: str):
    return load_config(
        None,
        [f'data.prices="{world.prices}"', f'data.headlines="{world.headlines}"', *sets],
    )


def _learn(world: World, **kwargs):
    options = {"min_count": 5, "top_k": 10, "phrases": True, **kwargs}
    return learn_lexicon(_config(world), FIRST_DAY, TRAIN_END, **options)


def _weights(learned) -> dict[str, float]:
    return {t.term: t.weight for t in learned.terms}


def test_word_preceding_rises_learns_positive_and_falls_negative(world: World) -> None:
    weights = _weights(_learn(world))
    assert weights["quuxrise"] >= 1.5
    assert weights["quuxfall"] <= -1.5


def test_word_seen_only_after_train_end_never_enters_the_lexicon(world: World) -> None:
    learned = _learn(world, min_count=1, top_k=1000)
    assert not any("quuxfuture" in term for term in _weights(learned))


def test_headline_whose_label_needs_a_price_after_train_end_is_dropped(world: World) -> None:
    labelled = label_headlines(_config(world), FIRST_DAY, TRAIN_END)
    texts = labelled.frame["headline"]
    assert not texts.str.contains("quuxedge").any()
    assert labelled.dropped_needs_later_price == 2  # both headlines at the last session
    learned = _learn(world, min_count=1, top_k=1000)
    assert not any("quuxedge" in term for term in _weights(learned))


def test_label_is_next_open_return_minus_the_session_mean(world: World) -> None:
    labelled = label_headlines(_config(world), FIRST_DAY, TRAIN_END)
    frame = labelled.frame
    row = frame.loc[frame["headline"].str.contains("quuxrise")].iloc[0]
    s, k = int(row["session_idx"]), int(row["ticker_idx"])
    moves = world.open_[s + 1] / world.open_[s] - 1.0
    assert row["label"] == pytest.approx(moves[k] - moves.mean(), abs=1e-6)
    assert labelled.dates[-1] <= pd.Timestamp(TRAIN_END)


def test_nothing_after_train_end_changes_what_is_learned(world: World, tmp_path: Path) -> None:
    scrambled = _write_world(tmp_path, scramble_after_train=True)
    assert _weights(_learn(world)) == _weights(_learn(scrambled))


def test_learning_is_deterministic(world: World, tmp_path: Path) -> None:
    first = _learn(world).to_csv(tmp_path / "a.csv")
    second = _learn(world).to_csv(tmp_path / "b.csv")
    assert first.read_bytes() == second.read_bytes()


def test_output_loads_with_load_lexicon_and_records_the_window(
    world: World, tmp_path: Path
) -> None:
    learned = _learn(world)
    path = learned.to_csv(tmp_path / "learned.csv")
    lexicon = load_lexicon(path)
    assert set(lexicon.terms) == set(_weights(learned))
    assert {lexicon.kind_name(i) for i in range(len(lexicon.terms))} == {"word"}
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    text = "\n".join(header)
    assert f"{FIRST_DAY} .. {TRAIN_END}" in text
    assert text.count("sha256=") == 2 and "sha256=n/a" not in text


def test_tokens_are_the_scorers_own() -> None:
    texts = pd.read_csv(EMBEDDED / "headlines.csv.gz", nrows=400)["headline"].tolist()
    texts += ["RT @user: $AAPL &amp; Apple’s iPhone up 5.2% http://t.co/x", "", "#Stocks don't"]
    assert tokenize_texts(texts) == [explain(text).tokens for text in texts]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab $@#&;:'.,/-\nRTt0é\u2019", max_size=40))
def test_tokens_match_explain_on_arbitrary_text(text: str) -> None:
    assert tokenize_texts([text]) == [explain(text).tokens]


def test_terms_skip_digits_and_pair_adjacent_tokens() -> None:
    terms = headline_terms(("profit", "up", "5.2", "rt", "beats", "views"), phrases=True)
    assert terms == {"profit", "up", "beats", "views", "profit up", "beats views"}
    assert headline_terms(("beats", "views"), phrases=False) == {"beats", "views"}


def test_screening_keeps_top_k_per_side_above_min_count() -> None:
    # term 0 in 4 docs all positive, term 1 in 4 docs all negative, term 2 in 2 docs positive
    # (below min_count), term 3 in 6 docs evenly split.
    pairs = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (7, 1), (0, 2), (1, 2)]
    pairs += [(d, 3) for d in range(2, 8)]
    doc_idx = np.array([d for d, _ in pairs])
    term_idx = np.array([t for _, t in pairs])
    incidence = TermIncidence(("a", "b", "c", "d"), doc_idx, term_idx)
    labels = np.array([0.01, 0.02, 0.03, 0.04, -0.01, -0.02, -0.03, -0.04])
    screening = screen_terms(incidence, labels, min_count=3, top_k=1, prior_headlines=1.0)
    assert screening.base_rate == 0.5
    assert screening.kept.tolist() == [0, 1]
    assert screening.side.tolist() == [1, -1]
    assert screening.labels.tolist() == [4, 4, 2, 6]


def test_topic_tone_signs_follow_the_returns_ranks() -> None:
    labels = np.linspace(-0.05, 0.05, 90)
    p = rank_normalise(labels)
    docs = np.arange(90)
    # term 0 in the top third of returns, term 1 in the bottom third, term 2 everywhere
    term = np.where(p > 2 / 3, 0, np.where(p < 1 / 3, 1, 2))
    tone = topic_tone(docs, term, 3, p)
    assert tone[0] == pytest.approx(1.0)
    assert tone[1] == pytest.approx(-1.0)
    assert abs(tone[2]) < 0.05


def test_abnormal_returns_subtract_the_session_mean() -> None:
    price = np.array([[10.0, 20.0, 40.0], [11.0, 20.0, np.nan], [12.1, 22.0, 40.0]])
    raw = next_session_returns(price, abnormal=False)
    assert raw[0].tolist()[:2] == pytest.approx([0.1, 0.0])
    assert np.isnan(raw[0, 2]) and np.isnan(raw[2]).all()
    abnormal = next_session_returns(price, abnormal=True)
    assert abnormal[0, :2].tolist() == pytest.approx([0.05, -0.05])


def test_label_ic_counts_a_burst_of_repeated_headlines_once() -> None:
    scores = np.array([1.0, -1.0, 0.5, 0.2])
    labels = np.array([0.03, -0.02, -0.01, 0.01])
    tickers, sessions = np.arange(4), np.zeros(4, dtype=np.int64)
    single = label_ic(scores, labels, tickers, sessions)
    burst = np.r_[np.zeros(50, dtype=np.int64), np.arange(4)]
    repeated = label_ic(
        np.r_[np.full(50, 1.0), scores],
        np.r_[np.full(50, 0.03), labels],
        burst,
        np.r_[np.zeros(50, dtype=np.int64), sessions],
    )
    assert single == pytest.approx(0.8)
    assert repeated == pytest.approx(single)


def test_cli_learns_a_lexicon_that_run_can_use(world: World, tmp_path: Path) -> None:
    out = tmp_path / "learned.csv"
    common = ["--prices", str(world.prices), "--headlines", str(world.headlines)]
    result = run_cli(
        "lexicon", "learn", *common, "--train-start", FIRST_DAY, "--train-end", TRAIN_END,
        "--min-count", "5", "--top", "10", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "quuxrise" in result.stdout
    assert (
        "In-sample IC" in result.stdout
        and "out of sample with `backtest lexicon ic" in result.stdout
    )
    assert "quuxrise" in load_lexicon(out).terms
    ic = run_cli(
        "lexicon", "ic", *common, "--start", FIRST_DAY, "--end", TRAIN_END,
        "--lexicon", "default", "--lexicon", str(out),
    )  # fmt: skip
    assert ic.returncode == 0, ic.stderr
    assert str(out) in ic.stdout
    config = _config(world, f'signal.lexicon="{out}"', 'data.start="2021-05-03"')
    run_dir = run_strategy(config).save(tmp_path / "run")
    assert (run_dir / "stats.json").is_file()


def test_run_with_a_learned_lexicon_keeps_a_copy_and_warns_when_in_sample(
    world: World, tmp_path: Path
) -> None:
    learned = _learn(world).to_csv(tmp_path / "learned.csv")
    after = run_strategy(
        _config(world, f'signal.lexicon="{learned}"', 'data.start="2021-05-03"')
    ).save(tmp_path / "after")
    copy = after / "lexicon.csv"
    assert copy.read_bytes() == learned.read_bytes()
    entry = json.loads((after / "stats.json").read_text(encoding="utf-8"))["data"]["lexicon"]
    assert entry["sha256"] == hashlib.sha256(learned.read_bytes()).hexdigest()
    assert (entry["learned"], entry["start"], entry["end"]) == (True, FIRST_DAY, TRAIN_END)
    html = (after / "report.html").read_text(encoding="utf-8")
    assert '<section id="learned-lexicon">' in html and "quuxrise" in html
    assert "lexicon-in-sample-warning" not in html
    overlapping = run_strategy(
        _config(world, f'signal.lexicon="{learned}"', 'data.start="2021-04-01"')
    ).save(tmp_path / "overlapping")
    html = (overlapping / "report.html").read_text(encoding="utf-8")
    assert 'id="lexicon-in-sample-warning"' in html
    assert f"overlaps this run's period on 2021-04-01 to {TRAIN_END}" in html


def test_cli_rejects_a_window_that_ends_before_it_starts(world: World, tmp_path: Path) -> None:
    result = run_cli(
        "lexicon", "learn", "--prices", str(world.prices), "--headlines", str(world.headlines),
        "--train-start", TRAIN_END, "--train-end", FIRST_DAY, "--out", str(tmp_path / "x.csv"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "after it ends" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.csv").exists()
