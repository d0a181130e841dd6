"""Event study (CAR around news) and information coefficient on tiny hand-computed examples."""

from __future__ import annotations

import math
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_fixtures import build_run_folder

from backtest.analytics import blocks
from backtest.analytics.events import (
    average_ranks,
    cross_sectional_ic,
    equal_weight_returns,
    event_study,
    event_study_by_group,
    news_events,
    news_groups,
    spearman,
    spearman_by_row,
    wide_table,
)
from backtest.analytics.stats import Z_95
from backtest.report.figures import monthly_label_counts
from backtest.report.html import render_report


def _long(dates: list[str], tickers: list[str], values: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, t, values[i][j]) for i, d in enumerate(dates) for j, t in enumerate(tickers)],
        columns=["date", "ticker", "return"],
    )


def test_benchmark_is_the_mean_of_the_available_returns() -> None:
    wide = np.array([[0.01, 0.03, np.nan], [0.02, 0.00, -0.02], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(equal_weight_returns(wide), [0.02, 0.0, np.nan], atol=1e-15)


DATES = ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"]
# A, B returns per session; the equal-weight mean is 0.01, 0, 0.02, 0, 0.01
RETURNS = [[0.02, 0.00], [0.01, -0.01], [0.04, 0.00], [-0.02, 0.02], [0.03, -0.01]]
# so A's abnormal returns are 0.01, 0.01, 0.02, -0.02, 0.02 and B's their negatives


def test_event_study_on_a_tiny_panel_matches_hand_computation() -> None:
    headlines = pd.DataFrame(
        {
            "session": ["2020-01-03", "2020-01-03", "2020-01-02", "2020-01-01", "2020-01-06"],
            "ticker": ["A", "A", "B", "B", "A"],
            "score": [0.5, -0.2, -0.4, 0.9, -0.3],
        }
    )
    study = event_study(_long(DATES, ["A", "B"], RETURNS), headlines, pre=1, post=1)
    assert study.bull is not None and study.bear is not None
    assert study.bull.days == [-1, 0, 1]
    # bull: A on 01-03 (0.5 - 0.2 > 0), ARs 0.01, 0.02, -0.02; B on 01-01 has no day -1: left out
    np.testing.assert_allclose(study.bull.mean, [0.01, 0.03, 0.01])
    assert (study.bull.n_events, study.bull.n_dropped) == (1, 1)
    assert all(math.isnan(v) for v in study.bull.upper)  # one event: no band
    # bear: B on 01-02 (ARs -0.01, -0.01, -0.02) and A on 01-06 (0.02, -0.02, 0.02)
    paths = np.array([[-0.01, -0.02, -0.04], [0.02, 0.00, 0.02]])
    mean = paths.mean(axis=0)
    half = Z_95 * paths.std(axis=0, ddof=1) / math.sqrt(2)
    np.testing.assert_allclose(study.bear.mean, mean, atol=1e-15)
    np.testing.assert_allclose(study.bear.lower, mean - half, atol=1e-15)
    np.testing.assert_allclose(study.bear.upper, mean + half, atol=1e-15)
    assert (study.bear.n_events, study.bear.n_dropped) == (2, 0)


def test_event_with_a_missing_return_counts_it_as_zero_abnormal() -> None:
    returns = _long(DATES, ["A", "B"], RETURNS)
    returns.loc[(returns["date"] == "2020-01-03") & (returns["ticker"] == "A"), "return"] = np.nan
    headlines = pd.DataFrame({"session": ["2020-01-03"], "ticker": ["A"], "score": [1.0]})
    study = event_study(returns, headlines, pre=1, post=1)
    assert study.bull is not None and study.bear is None
    # day 0: A has no return (adds 0); day 1: A -0.02 against a mean of 0
    np.testing.assert_allclose(study.bull.mean, [0.01, 0.01, -0.01], atol=1e-15)


def test_headlines_summing_to_zero_are_no_event() -> None:
    headlines = pd.DataFrame(
        {"session": ["d1", "d1", "d2"], "ticker": ["A", "A", "A"], "score": [0.5, -0.5, -0.1]}
    )
    events = news_events(headlines)
    assert list(events["session"]) == ["d2"]
    assert list(events["direction"]) == [-1]


def test_perfect_rank_agreement_gives_ic_one_and_reversal_minus_one() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 30.0, 20.0, np.nan]])
    np.testing.assert_allclose(spearman_by_row(x, x * 7 + 1), [1.0, 1.0])
    np.testing.assert_allclose(spearman_by_row(x, -(x**3)), [-1.0, -1.0])


def test_spearman_matches_pearson_of_average_ranks_with_ties() -> None:
    x = np.array([[1.0, 2.0, 2.0, 5.0]])
    y = np.array([[0.3, 0.1, 0.2, 0.4]])
    rx, ry = np.array([1.0, 2.5, 2.5, 4.0]), np.array([3.0, 1.0, 2.0, 4.0])
    assert spearman_by_row(x, y)[0] == pytest.approx(np.corrcoef(rx, ry)[0, 1])


def test_spearman_by_row_ranks_a_chunk_of_rows_at_a_time_with_the_same_result() -> None:
    rng = np.random.default_rng(7)
    x = np.where(rng.random((50, 6)) < 0.3, np.nan, rng.normal(size=(50, 6)))
    y = np.where(rng.random((50, 6)) < 0.3, np.nan, np.round(rng.normal(size=(50, 6)), 1))
    whole = spearman_by_row(x, y)
    with mock.patch.object(blocks, "BLOCK_CELLS", 40):
        chunked = spearman_by_row(x, y)
    np.testing.assert_array_equal(chunked, whole)
    assert np.isfinite(whole).sum() > 10


def test_spearman_of_a_long_pair_of_series_is_one_number() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=40_000)
    y = x + rng.normal(size=40_000)
    rho = spearman(x, y)
    assert isinstance(rho, float)
    ranks = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    assert rho == pytest.approx(np.corrcoef(*ranks)[0, 1], rel=1e-12)


def test_ic_pairs_composite_with_the_next_sessions_return() -> None:
    dates = ["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04"]
    tickers = ["A", "B", "C"]
    # returns dated t+1 rank like the composite at t: +1 on every session that has a next one
    rets = [[0.0, 0.0, 0.0], [0.01, 0.02, 0.03], [0.03, 0.02, 0.01], [0.01, 0.02, 0.03]]
    composite = [[10.0, 20.0, 30.0], [90.0, 50.0, 10.0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]
    returns = _long(dates, tickers, rets)
    signals = _long(dates, tickers, composite).rename(columns={"return": "composite"})
    ic = cross_sectional_ic(signals, returns)
    assert ic.months == ["2020-01", "2020-02"]
    assert ic.monthly_mean == pytest.approx([1.0, 1.0])
    assert ic.monthly_sessions == [2, 1]
    assert ic.mean == pytest.approx(1.0) and ic.n_sessions == 3
    assert ic.t_stat is None  # zero dispersion: no t-statistic


def test_ic_needs_three_tickers() -> None:
    dates = ["2020-01-01", "2020-01-02"]
    returns = _long(dates, ["A", "B"], [[0.0, 0.0], [0.01, 0.02]])
    signals = _long(dates, ["A", "B"], [[1.0, 2.0], [1.0, 2.0]]).rename(
        columns={"return": "composite"}
    )
    ic = cross_sectional_ic(signals, returns)
    assert ic.mean is None and ic.months == []


def test_run_without_news_events_says_so(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    headlines = pd.read_csv(run_dir / "headlines.csv")
    headlines.iloc[0:0].to_csv(run_dir / "headlines.csv", index=False)
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert 'id="no-events"' in html
    assert 'data-figure="fig-event-study"' not in html


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, math.inf, -math.inf]),
            st.floats(allow_nan=False, allow_infinity=True, width=16),
        ),
        max_size=60,
    )
)
def test_average_ranks_are_pandas_ranks_exactly(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    expected = pd.Series(array, dtype=np.float64).rank().to_numpy()
    np.testing.assert_array_equal(average_ranks(array), expected)


def test_split_event_study_builds_each_groups_events_from_its_own_headlines() -> None:
    headlines = pd.DataFrame(
        {
            "session": ["2020-01-03", "2020-01-03", "2020-01-02", "2020-01-06"],
            "ticker": ["A", "A", "B", "A"],
            "score": [0.5, -0.9, -0.4, 0.3],
            "novelty": [0.1, 0.9, 0.8, 0.05],
            "relevance": [1.0, 1.0, 1.0, 1.0],
            "counted": [True, True, True, False],
            "weight": [1.0, 1.0, 1.0, 1.0],
        }
    )
    returns = _long(DATES, ["A", "B"], RETURNS)
    split = event_study_by_group(
        returns, headlines, news_groups(headlines), measure="close_to_close", pre=1, post=1
    )
    (stale_rows, stale), (fresh_rows, fresh) = (
        split["stale (novelty < 0.2)"],
        split["fresh (novelty >= 0.2)"],
    )
    # the uncounted 01-06 row is in no group. Alone, A's stale 01-03 story is a bull event,
    # though with its fresh -0.9 neighbour that (session, ticker) sums to a bear one.
    assert (stale_rows, fresh_rows) == (1, 2)
    everything = event_study(returns, headlines, pre=1, post=1, measure="close_to_close")
    assert everything.bull is None
    assert stale.bull is not None and stale.bear is None
    np.testing.assert_allclose(stale.bull.mean, [0.01, 0.03, 0.01])
    assert fresh.bull is None and fresh.bear is not None
    # fresh bear: A on 01-03 (cum 0.01, 0.03, 0.01) and B on 01-02 (cum -0.01, -0.02, -0.04)
    np.testing.assert_allclose(fresh.bear.mean, [0.0, 0.005, -0.015])
    assert fresh.bear.n_events == 2


def test_news_terciles_keep_ties_together_and_cover_the_counted_rows_once() -> None:
    novelty = [1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.3, 0.2, 1.0]
    headlines = pd.DataFrame(
        {
            "novelty": novelty,
            "relevance": np.linspace(0.1, 0.9, len(novelty)),
            "counted": [True] * 8 + [False],
        }
    )
    groups = news_groups(headlines)
    counted = headlines["counted"].to_numpy(bool)
    for family in ("novelty", "relevance"):
        masks = [m for name, m in groups.items() if name.startswith(f"{family}:")]
        assert len(masks) == 3
        np.testing.assert_array_equal(np.sum(masks, axis=0), counted.astype(int))
    tercile = {name.split(" (")[0]: m for name, m in groups.items()}
    assert tercile["novelty: high tercile"].sum() == 5  # every tied 1.0 in one group
    assert not tercile["novelty: middle tercile"].any()
    assert tercile["relevance: middle tercile"].sum() >= 1


@settings(max_examples=60, deadline=None)
@given(
    n_dates=st.integers(1, 5),
    n_tickers=st.integers(1, 4),
    order=st.sampled_from(["grid", "shuffled", "dropped", "repeated"]),
    seed=st.integers(0, 2**16),
    check_cells=st.sampled_from([1, 3, blocks.BLOCK_CELLS]),
)
def test_wide_table_is_pivot_table_on_grids_and_off_them(
    n_dates: int, n_tickers: int, order: str, seed: int, check_cells: int
) -> None:
    """A run's own (date-major, sorted) tables are reshaped; any other order, a missing or a
    repeated row goes through pivot_table; both give pivot_table's frame exactly, however many
    rows the grid check compares at a time."""
    rng = np.random.default_rng(seed)
    dates = [f"2020-01-{d + 1:02d}" for d in range(n_dates)]
    tickers = [f"T{k}" for k in range(n_tickers)]
    values = np.where(
        rng.random((n_dates, n_tickers)) < 0.2, np.nan, rng.normal(size=(n_dates, n_tickers))
    )
    table = _long(dates, tickers, values.tolist())
    if order == "shuffled":
        table = table.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    elif order == "dropped" and len(table) > 1:
        table = table.drop(index=int(rng.integers(len(table)))).reset_index(drop=True)
    elif order == "repeated":
        table = pd.concat([table, table.iloc[:1]], ignore_index=True)
    expected = table.pivot_table(index="date", columns="ticker", values="return", dropna=False)
    expected = expected.sort_index().sort_index(axis=1)
    with mock.patch.object(blocks, "BLOCK_CELLS", check_cells):
        wide = wide_table(table, "return")
    pd.testing.assert_frame_equal(wide, expected, check_exact=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["2015-01-02", "2015-01-30T15:59:00-05:00", "2015-02-02", None]),
            st.sampled_from(["bull", "neutral", "bear", None]),
        ),
        max_size=40,
    )
)
def test_monthly_label_counts_are_crosstab_of_the_month_and_label(
    rows: list[tuple[str | None, str | None]],
) -> None:
    table = pd.DataFrame(rows, columns=["date", "label"], dtype="str")
    expected = pd.crosstab(table["date"].str.slice(0, 7), table["label"])
    counts = monthly_label_counts(table["date"], table["label"])
    pd.testing.assert_frame_equal(counts, expected, check_dtype=False, check_index_type=False)


@given(n_rows=st.integers(0, 50), n_columns=st.integers(0, 9), cells=st.integers(1, 30))
def test_row_blocks_cover_the_rows_in_order_within_the_cell_budget(
    n_rows: int, n_columns: int, cells: int
) -> None:
    with mock.patch.object(blocks, "BLOCK_CELLS", cells):
        slices = list(blocks.row_blocks(n_rows, n_columns))
    assert [i for s in slices for i in range(n_rows)[s]] == list(range(n_rows))
    assert all(s.stop > s.start for s in slices)
    assert all((s.stop - s.start) * n_columns <= cells or s.stop - s.start == 1 for s in slices)


@settings(max_examples=40, deadline=None)
@given(
    n_dates=st.integers(1, 30),
    n_tickers=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    drop=st.booleans(),
)
def test_categorical_run_tables_reshape_as_their_texts_do(
    n_dates: int, n_tickers: int, seed: int, drop: bool
) -> None:
    """A run keeps date and ticker as categoricals: wide_table gives the frame the same
    table with texts gives, and a table that is not the whole grid is pivoted, not reshaped."""
    from backtest.analytics.events import grid_shape, wide_table
    from backtest.outputs import grid_labels

    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-08 09:30", periods=n_dates, freq="min", tz="America/New_York")
    tickers = sorted(f"T{k:02d}" for k in rng.choice(100, n_tickers, replace=False))
    date, ticker = grid_labels(dates, tickers)
    table = pd.DataFrame({"date": date, "ticker": ticker, "x": rng.normal(size=len(date))})
    if drop and len(table) > 1:
        table = table.drop(index=int(rng.integers(len(table)))).reset_index(drop=True)
    texts = table.astype({"date": "str", "ticker": "str"})
    assert isinstance(table["date"].dtype, pd.CategoricalDtype)
    if drop and n_dates * n_tickers > 1:
        assert grid_shape(table) is None  # a category without its rows
    else:
        assert grid_shape(table) == grid_shape(texts) == (n_dates, n_tickers)
    expected = wide_table(texts, "x")
    got = wide_table(table, "x")
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert list(got.index.astype(str)) == list(expected.index)
    assert list(got.columns.astype(str)) == list(expected.columns)
