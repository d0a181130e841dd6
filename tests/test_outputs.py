"""trades.csv's "headlines behind a trade", checked against a plain per-trade loop."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.config import NewsConfig
from backtest.outputs import (
    HEADLINE_SEPARATOR,
    TRADE_HEADLINES,
    iso_dates,
    iso_utc_seconds,
    row_labels,
    trades_with_headlines,
)


def reference(trades: pd.DataFrame, frame: pd.DataFrame, dates: pd.DatetimeIndex, tickers, hl):
    """For each trade, loop over its ticker's headlines in the window and rank by hand; the
    listed headlines' mean novelty and relevance (nan when none is listed)."""
    window = max(1, math.ceil(6 * hl))
    texts, counts, means = [], [], []
    for _, trade in trades.iterrows():
        e = int(dates.searchsorted(pd.Timestamp(trade["entry_time"])))
        k = tickers.index(trade["ticker"])
        sign = 1.0 if trade["side"] == "long" else -1.0
        rows = []
        for position, (_, h) in enumerate(
            frame.sort_values(["ticker_idx", "session_idx"], kind="stable").iterrows()
        ):
            if h["ticker_idx"] == k and e - window <= h["session_idx"] <= e:
                weight = sign * h["score"] * 0.5 ** ((e - h["session_idx"]) / hl)
                rows.append(
                    (-weight, position, weight, h["headline"], h["novelty"], h["relevance"])
                )
        counts.append(len(rows))
        top = [r for r in sorted(rows)[:TRADE_HEADLINES] if r[2] > 0]
        texts.append(HEADLINE_SEPARATOR.join(" ".join(r[3].split()) for r in top))
        means.append(
            (sum(r[4] for r in top) / len(top), sum(r[5] for r in top) / len(top))
            if top
            else (math.nan, math.nan)
        )
    return texts, counts, means


@settings(max_examples=60, deadline=None)
@given(
    n_headlines=st.integers(0, 40),
    n_trades=st.integers(1, 8),
    half_life=st.sampled_from([0.3, 1.0, 2.0, 3.7]),
    seed=st.integers(0, 10_000),
)
def test_headlines_behind_trades_match_a_plain_loop(
    n_headlines: int, n_trades: int, half_life: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=30)
    tickers = ["AAA", "BBB", "CCC"]
    frame = pd.DataFrame(
        {
            "ticker_idx": rng.integers(0, 3, n_headlines),
            "session_idx": rng.integers(0, 30, n_headlines),
            "score": rng.choice([-0.8, -0.2, 0.0, 0.2, 0.5, 0.8], n_headlines),
            "headline": [f"news  {i}\r\nline" for i in range(n_headlines)],
            "novelty": rng.random(n_headlines),
            "relevance": rng.random(n_headlines),
        }
    )
    trades = pd.DataFrame(
        {
            "ticker": rng.choice(tickers, n_trades),
            "side": rng.choice(["long", "short"], n_trades),
            "entry_time": dates[rng.integers(0, 30, n_trades)],
            "exit_time": dates[-1],
        }
    )
    placed = SimpleNamespace(frame=frame)
    panel = SimpleNamespace(dates=dates, tickers=tuple(tickers))
    out = trades_with_headlines(trades, placed, panel, half_life, NewsConfig(dedupe=False))
    texts, counts, means = reference(trades, frame, dates, tickers, half_life)
    assert out["headlines"].tolist() == texts
    assert out["n_headlines"].tolist() == counts
    np.testing.assert_allclose(
        out[["novelty", "relevance"]].to_numpy(), np.array(means).reshape(-1, 2)
    )


STAMPS = st.one_of(
    st.datetimes(
        min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2262, 4, 1), allow_imaginary=False
    ),
    st.sampled_from(
        [
            dt.datetime(1969, 12, 31, 23, 59, 59, 999_999),
            dt.datetime(1970, 1, 1),
            dt.datetime(1999, 12, 31, 23, 59, 59, 999_999),
            dt.datetime(2015, 6, 1, 13, 30, 0, 500_000),
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    stamps=st.lists(st.one_of(STAMPS, st.none()), max_size=12),
    zone=st.sampled_from([None, "UTC", "America/New_York", "Asia/Kolkata"]),
    nanos=st.integers(0, 999),
)
def test_iso_formatting_is_strftime(stamps: list, zone: str | None, nanos: int) -> None:
    values = pd.DatetimeIndex(stamps) + pd.Timedelta(nanos, unit="ns")
    if zone is not None:
        values = values.tz_localize("UTC").tz_convert(zone)
    for ours, fmt in ((iso_dates, "%Y-%m-%d"), (iso_utc_seconds, "%Y-%m-%dT%H:%M:%S+00:00")):
        got = ours(pd.Series(values))
        want = np.asarray(values.strftime(fmt), dtype=object)
        assert got.dtype == object
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want]


@settings(max_examples=200, deadline=None)
@given(
    stamps=st.lists(st.one_of(STAMPS, st.none()), max_size=12),
    zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Africa/Monrovia"]),
)
def test_bar_row_labels_are_strftime_with_a_colon_in_the_offset(stamps: list, zone: str) -> None:
    values = pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(zone)
    want = [
        None if pd.isna(v) else f"{v:%Y-%m-%dT%H:%M:%S%z}"[:-2] + ":" + f"{v:%z}"[-2:]
        for v in values
    ]
    assert [None if pd.isna(v) else v for v in row_labels(values)] == want
