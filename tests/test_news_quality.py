"""Which headlines count: reprints once, stale news flagged, off-topic lists dropped, all point
in time; the novelty kernel against a plain-Python reference."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backtest
from backtest.kernels.novelty import novelty_scores
from backtest.news_quality import reprints
from backtest.scoring import normalise_text

DAYS = pd.bdate_range("2015-03-02", "2015-04-30").drop(pd.Timestamp("2015-04-03"))  # Good Friday
TICKERS = ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH", "III", "JJJ")


def write_prices(path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for ticker in TICKERS:
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS))))
        for day, c in zip(DAYS, close, strict=True):
            rows.append((f"{day:%Y-%m-%d}", ticker, c * 0.999, c))
    pd.DataFrame(rows, columns=["date", "ticker", "open", "close"]).to_csv(path, index=False)
    return path


def write_headlines(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    frame = pd.DataFrame(rows, columns=["timestamp", "ticker", "headline"])
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


BASE = ("AAA shares jump after record quarter beats estimates", "AAA")


def news_of(tmp_path: Path, rows: list[tuple[str, str, str]], *overrides: str) -> pd.DataFrame:
    prices = write_prices(tmp_path / "prices.csv")
    headlines = write_headlines(tmp_path / "headlines.csv", rows)
    result = backtest.run(
        prices=prices,
        headlines=headlines,
        start="2015-03-09",
        end="2015-04-30",
        overrides=list(overrides),
    )
    return result.signals.pivot(index="date", columns="ticker", values="news")


def test_a_story_reprinted_30_times_moves_the_news_score_as_one_copy(tmp_path: Path) -> None:
    text = "AAA shares jump after record quarter beats estimates"
    one = [("2015-03-16T12:00:00Z", "AAA", text)]
    copies = [
        (f"2015-03-16T12:{m:02d}:00Z", "AAA", variant)
        for m, variant in enumerate(
            [text] * 10
            + [f"RT @desk{i}: {text}" for i in range(10)]
            + [f"{text} https://t.co/x{i} $AAA" for i in range(10)]
        )
    ]
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    alone = news_of(tmp_path / "one", one)
    reprinted = news_of(tmp_path / "many", copies)
    assert alone.loc["2015-03-16", "AAA"] > 60
    pd.testing.assert_frame_equal(alone, reprinted)
    counted_once = news_of(tmp_path / "many", copies, "news.dedupe=false")
    assert counted_once.loc["2015-03-16", "AAA"] > alone.loc["2015-03-16", "AAA"]


def test_the_earlier_published_copy_is_the_novel_one_whatever_the_file_order(
    tmp_path: Path,
) -> None:
    prices = write_prices(tmp_path / "prices.csv")
    text = "AAA wins a large government contract for its new radar"
    rows = [
        ("2015-03-17T15:00:00Z", "AAA", text),  # later, first in the file
        ("2015-03-17T14:00:00Z", "AAA", text),
        (
            "2015-03-18T14:00:00Z",
            "AAA",
            "AAA wins large government contract for new radar, shares up",
        ),
        ("2015-03-18T14:30:00Z", "AAA", "AAA chief executive to retire at the end of the year"),
    ]
    headlines = write_headlines(tmp_path / "headlines.csv", rows)
    table = backtest.run(prices=prices, headlines=headlines, start="2015-03-09").headlines
    by_time = table.set_index("published_at")["novelty"]
    assert by_time["2015-03-17T14:00:00+00:00"] == 1.0
    assert by_time["2015-03-17T15:00:00+00:00"] == pytest.approx(0.0)
    rewrite, fresh = by_time["2015-03-18T14:00:00+00:00"], by_time["2015-03-18T14:30:00+00:00"]
    assert rewrite < 0.7 and fresh > 0.9 and rewrite < fresh
    reprint = table.loc[table["published_at"] == "2015-03-17T15:00:00+00:00"].iloc[0]
    original = table.loc[table["published_at"] == "2015-03-17T14:00:00+00:00"].iloc[0]
    assert reprint["duplicate_of"] == original["record"] and not reprint["counted"]
    assert original["reprints"] == 1 and original["counted"]


def test_a_ten_cashtag_story_is_dropped_by_max_tickers_from_every_flow(tmp_path: Path) -> None:
    tags = " ".join(f"${t}" for t in TICKERS)
    rows = [("2015-03-16T13:00:00Z", t, f"Stocks surge to record highs {tags}") for t in TICKERS]
    rows.append(("2015-03-20T13:00:00Z", "BBB", "BBB beats estimates and raises guidance"))
    kept = news_of(tmp_path, rows)
    dropped = news_of(tmp_path, rows, "news.max_tickers=3")
    assert (kept.loc["2015-03-16"] > 50).all()
    assert (dropped.loc["2015-03-16"] == 50).all()
    assert dropped.loc["2015-03-20", "BBB"] > 50


def test_no_dedupe_and_default_filters_count_every_headline(tmp_path: Path) -> None:
    from backtest.kernels.news import news_count

    text = "AAA shares jump after record quarter beats estimates"
    rows = [(f"2015-03-16T13:0{m}:00Z", "AAA", text) for m in range(5)]
    prices = write_prices(tmp_path / "prices.csv")
    headlines = write_headlines(tmp_path / "headlines.csv", rows)
    market = backtest.prepare(prices=prices, headlines=headlines, overrides=["news.dedupe=false"])
    placed = market.placed(market.config)
    from backtest.signals import compute_signals

    config = market.config
    signals = compute_signals(market.panel, placed, config.signal, config.execution, config.news)
    n_sessions, n_tickers = market.panel.close.shape
    every = news_count(
        placed.session_idx, placed.ticker_idx, n_sessions, n_tickers, config.signal.half_life
    )
    np.testing.assert_array_equal(signals.news_count, every)


def test_normalised_text_strips_what_is_not_the_story() -> None:
    assert normalise_text("RT @desk: $AAPL beats &amp; raises https://t.co/x #tech") == (
        "beats raises"
    )
    assert normalise_text("Apple's (AAPL) profit rose 20%!") == "apple's aapl profit rose 20"


def reference_novelty(ticker, day, published, sets, window):
    out = []
    for i in range(len(ticker)):
        best = 0.0
        for j in range(len(ticker)):
            if ticker[j] != ticker[i] or not published[j] < published[i]:
                continue
            if not day[i] - window < day[j] <= day[i] or not sets[i]:
                continue
            union = len(sets[i] | sets[j])
            best = max(best, len(sets[i] & sets[j]) / union if union else 0.0)
        out.append(1.0 - best)
    return out


@settings(max_examples=120, deadline=None)
@given(
    stories=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 6),
            st.integers(0, 40),
            st.frozensets(st.integers(0, 12), max_size=6),
        ),
        max_size=25,
    ),
    window=st.integers(1, 4),
)
def test_novelty_kernel_matches_a_plain_python_reference(stories, window) -> None:
    stories = sorted(stories, key=lambda s: (s[0], s[1] * 100 + s[2]))
    ticker = np.array([s[0] for s in stories], dtype=np.int64)
    day = np.array([s[1] for s in stories], dtype=np.int64)
    published = day * 100 + np.array([s[2] for s in stories], dtype=np.int64)
    sets = [s[3] for s in stories]
    offsets = np.zeros(len(stories) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=offsets[1:])
    hashes = np.array([h for s in sets for h in sorted(s)], dtype=np.int64)
    got = novelty_scores(ticker, day, published, offsets, hashes, window)
    expected = reference_novelty(ticker, day, published, sets, window)
    np.testing.assert_allclose(got, expected, atol=1e-15)


def test_reprints_chain_to_the_first_story_within_the_window() -> None:
    ticker = np.array([0, 0, 0, 0, 1])
    text = np.array([7, 7, 7, 0, 7])
    published = np.array([10, 20, 30, 40, 50])
    session = np.array([0, 0, 2, 2, 2])
    is_reprint, original = reprints(ticker, text, published, session, 1)
    assert is_reprint.tolist() == [False, True, False, False, False]
    assert original.tolist() == [0, 0, 2, 3, 4]
    is_reprint, original = reprints(ticker, text, published, session, 3)
    assert is_reprint.tolist() == [False, True, True, False, False]
    assert original.tolist() == [0, 0, 0, 3, 4]


def test_story_features_read_from_the_cache_equal_a_fresh_computation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_files: tuple[Path, Path]
) -> None:
    from dataclasses import asdict

    from backtest.data.headlines import load_headlines
    from backtest.news_quality import cached_story_features, content_key, story_features

    monkeypatch.setenv("NEWS_BACKTEST_NEWS_CACHE", str(tmp_path / "cache"))
    headlines = load_headlines(slice_files[1])
    written = cached_story_features(headlines)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    read = cached_story_features(headlines)
    fresh = story_features(headlines)
    for name, values in asdict(fresh).items():
        np.testing.assert_array_equal(getattr(read, name), values, err_msg=name)
        np.testing.assert_array_equal(getattr(written, name), values, err_msg=name)
    edited = headlines.assign(headline=headlines["headline"].str.replace("a", "b", n=1))
    assert content_key(edited, "features") != content_key(headlines, "features")


def test_the_report_splits_the_event_study_by_novelty_and_relevance(tmp_path: Path) -> None:
    fresh = [
        (f"2015-03-{d:02d}T14:00:00Z", "AAA", f"AAA beats estimates story {d}") for d in (16, 23)
    ]
    stale = [
        ("2015-03-24T14:00:00Z", "AAA", "AAA beats estimates story 23 again"),
        ("2015-03-25T14:00:00Z", "BBB", "BBB misses estimates, shares plunge"),
        ("2015-03-26T14:00:00Z", "BBB", "BBB misses estimates, shares plunge again"),
    ]
    prices = write_prices(tmp_path / "prices.csv")
    headlines = write_headlines(tmp_path / "headlines.csv", fresh + stale)
    result = backtest.run(prices=prices, headlines=headlines, start="2015-03-09", end="2015-04-30")
    split = result.outputs.stats["event_study_by_news"]
    table = result.outputs.headlines
    counted = table["counted"].to_numpy(bool)
    stale_rows = int((counted & (table["novelty"] < 0.2)).sum())
    assert stale_rows >= 1
    assert split["stale (novelty < 0.2)"]["headlines"] == stale_rows
    assert split["fresh (novelty >= 0.2)"]["headlines"] == int(counted.sum()) - stale_rows
    page = result.report_html()
    assert 'id="news-split-table"' in page
    assert "stale (novelty &lt; 0.2)" in page and "relevance: high tercile" in page


def test_data_validate_prints_reprint_stale_and_multi_ticker_shares(tmp_path: Path) -> None:
    from cli_helpers import run_cli

    rows = [
        ("2015-03-16T14:00:00Z", "AAA", "AAA signs a supply deal with a carmaker"),
        ("2015-03-16T14:05:00Z", "AAA", "RT @desk: AAA signs a supply deal with a carmaker"),
        ("2015-03-16T14:09:00Z", "AAA", "AAA signs a supply deal with a carmaker https://t.co/z"),
        ("2015-03-17T14:00:00Z", "BBB", "$BBB $CCC $DDD $EEE $FFF movers this morning"),
        ("2015-03-18T14:00:00Z", "CCC", "CCC names a new chief financial officer"),
        ("2015-03-19T14:00:00Z", "DDD", "DDD opens a plant in Ohio"),
    ]
    prices = write_prices(tmp_path / "prices.csv")
    headlines = write_headlines(tmp_path / "headlines.csv", rows)
    done = run_cli("data", "validate", "--prices", str(prices), "--headlines", str(headlines))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "news quality of the 6 headlines placed on a session:" in out
    assert "reprints 2 (33.3%)" in out
    assert "stale 2 (33.3%)" in out
    assert "naming more than 3 tickers 1 (16.7%)" in out
    assert "counted under the strategy's [news] settings: 4 (66.7%)" in out
    with_copies = run_cli(
        "data", "validate", "--prices", str(prices), "--headlines", str(headlines),
        "--set", "news.dedupe=false",
    )  # fmt: skip
    assert "counted under the strategy's [news] settings: 6 (100.0%)" in " ".join(
        with_copies.stdout.split()
    )
