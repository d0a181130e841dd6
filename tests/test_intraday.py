"""Intraday bars: loading, point in time on bars, and planted news that pays only when traded
fast enough.

The planted series jump 5 minutes after each headline in its direction (tests/intraday_data.py).
Traded within a minute the strategy catches the jump; 10 minutes late it buys after the move and
earns nothing but costs. Sessions come from XNYS: one range crosses the 2015-03-08 DST change,
the other holds the 2015-11-27 half day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intraday_data import planted_bars

from backtest.calendar import bar_grid, extended_bar_grid, load_sessions, tradeable_bar
from backtest.data.prices import prices_from_frame
from backtest.decay import decay
from backtest.errors import InputError
from backtest.market import prepare
from backtest.runner import RunResult
from backtest.runner import run as run_strategy

TICKERS = ("AAA", "BBB", "CCC", "DDD")
JUMP = 0.01
INTRADAY_NEWS = {
    "signal.news_weight": 1,
    "signal.momentum_weight": 0,
    "signal.half_life": 10,
    "signal.news_scale": 0.3,
    "execution.hold_sessions": 30,
    "execution.flat_at_close": True,
}
RANGES = [("2015-03-02", "2015-03-20"), ("2015-11-16", "2015-12-04")]


@pytest.fixture(scope="module", params=RANGES, ids=["dst-change", "half-day"])
def planted(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame]:
    start, end = request.param
    return planted_bars(TICKERS, start, end, jump=JUMP, jump_after_minutes=5)


@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
def test_planted_news_pays_within_a_minute_and_not_ten_minutes_late(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    market = prepare(prices=bars, headlines=headlines, overrides=INTRADAY_NEWS)
    result = decay(market, market.config, ["0s", "1min", "10min", "15min", "1h"])
    by = {p.latency: p for p in result.points}
    for fast in ("0s", "1min"):
        assert by[fast].sharpe > 3, by[fast]
        assert by[fast].mean_trade_return > JUMP / 2, by[fast]
    for late in ("10min", "15min", "1h"):
        assert by[late].sharpe < 1, by[late]
        assert by[late].mean_trade_return < JUMP / 10, by[late]
    assert result.halves_at == "10min"


def test_both_directions_pay_and_no_trade_enters_before_its_news(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    result = run_strategy(
        prices=bars, headlines=headlines, overrides={**INTRADAY_NEWS, "execution.latency": "1min"}
    )
    trades = result.trades
    for side in ("long", "short"):
        mine = trades[trades["side"] == side]
        assert len(mine) > 5 and mine["return"].mean() > JUMP / 2, side
    published = pd.to_datetime(headlines["timestamp"], utc=True)
    for _, trade in trades.iterrows():
        entry = pd.Timestamp(trade["entry_time"])
        news = published[headlines["ticker"] == trade["ticker"]]
        assert (news + pd.Timedelta("1min") <= entry).any(), trade


def test_flat_at_close_leaves_no_position_overnight(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    result = run_strategy(prices=bars, headlines=headlines, overrides=INTRADAY_NEWS)
    signals = result.signals
    stamps = pd.to_datetime(signals["date"], utc=True)
    day = stamps.dt.tz_convert("America/New_York").dt.date
    # The period ends at the last headline's bar, so its last day may stop before the close.
    last_bar = (stamps == stamps.groupby(day).transform("max")) & (day != day.iloc[-1])
    assert last_bar.sum() >= 10
    assert (signals.loc[last_bar, "position"] == 0).all()
    closed = result.trades[result.trades["status"] == "closed"]
    exits = pd.to_datetime(closed["exit_time"], utc=True).dt.tz_convert("America/New_York")
    entries = pd.to_datetime(closed["entry_time"], utc=True).dt.tz_convert("America/New_York")
    assert (exits.dt.date == entries.dt.date).all()


def test_outputs_carry_bar_timestamps_with_offsets_and_daily_sharpe(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    result = run_strategy(prices=bars, headlines=headlines, overrides=INTRADAY_NEWS)
    first = result.outputs.signals["date"].iloc[0]
    assert "T" in first and first[-6] in "+-", first
    assert result.outputs.trades["entry_time"].str.contains("T").all()
    equity = result.outputs.equity
    offsets = set(equity["date"].str.slice(-6))
    if result.config.data.start == "" and "2015-03" in equity["date"].iloc[0]:
        assert offsets == {"-05:00", "-04:00"}
    stats = result.summary["stats"]["strategy"]
    daily = (
        pd.Series(equity["equity"].to_numpy(), index=pd.to_datetime(equity["date"], utc=True))
        .groupby(lambda t: t.tz_convert("America/New_York").date())
        .last()
    )
    returns = np.diff(np.r_[result.config.execution.initial_cash, daily.to_numpy()])
    returns = returns / np.r_[result.config.execution.initial_cash, daily.to_numpy()[:-1]]
    sharpe = returns.mean() / returns.std(ddof=1) * np.sqrt(252)
    assert stats["sharpe"] == pytest.approx(sharpe, rel=1e-9)
    assert result.summary["period"]["bars"] == len(equity)


def test_an_intraday_market_releases_its_price_rows_once_the_panel_holds_them(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    market = prepare(prices=bars, headlines=headlines, overrides=INTRADAY_NEWS)
    before = market.data.prices_fingerprint()
    rows = len(market.data.prices)
    panel = market.panel
    assert len(market.data.prices) == 0 and list(market.data.prices.columns) == list(
        prepare(prices=bars, headlines=headlines).data.prices.columns
    )
    assert market.data.prices_fingerprint() == before
    assert before["rows"] == rows == len(bars)
    assert np.isfinite(panel.close).sum() == len(bars)
    assert panel.high is None and panel.quoted_close is panel.close


@settings(max_examples=300, deadline=None)
@given(
    known_offset_s=st.lists(st.integers(-3 * 86400, 12 * 86400), min_size=1, max_size=30),
    bar_minutes=st.sampled_from([1, 5, 15, 60]),
    latency_s=st.integers(0, 3 * 3600),
)
def test_no_headline_trades_at_a_bar_that_started_before_it_was_known_plus_latency(
    known_offset_s: list[int], bar_minutes: int, latency_s: int
) -> None:
    sessions = load_sessions("XNYS", "2015-11-20", "2015-12-04")
    bars = bar_grid(sessions, bar_minutes * 60 * 10**9)
    base = int(sessions.open_ns[0])
    known = base + np.array(known_offset_s, dtype=np.int64) * 10**9
    latency = latency_s * 10**9
    rows = tradeable_bar(known, bars, latency)
    for k, row in zip(known, rows, strict=True):
        if row < len(bars):
            assert bars.start_ns[row] >= k + latency
            session = bars.session[row]
            assert sessions.open_ns[session] <= bars.start_ns[row] < sessions.close_ns[session]
        if row > 0:
            assert bars.start_ns[row - 1] < k + latency


def test_bar_grid_follows_half_days_and_dst() -> None:
    sessions = load_sessions("XNYS", "2015-11-25", "2015-11-30")
    bars = bar_grid(sessions, 5 * 60 * 10**9)
    per_session = np.bincount(bars.session)
    assert list(per_session) == [78, 42, 78]
    march = load_sessions("XNYS", "2015-03-06", "2015-03-09")
    first = pd.DatetimeIndex(bar_grid(march, 60 * 10**9).start_ns.view("datetime64[ns]"))
    opens = first.tz_localize("UTC").tz_convert("America/New_York")
    assert {t.strftime("%H:%M") for t in opens if t.strftime("%H:%M") < "09:31"} == {"09:30"}


def test_bar_loader_reads_naive_stamps_in_prices_tz_and_detects_the_bar() -> None:
    frame = pd.DataFrame(
        {
            "Datetime": ["2015-06-01 09:30", "2015-06-01 09:35", "2015-06-01 09:40"],
            "ticker": "AAA",
            "open": [1.0, 1.1, 1.2],
            "close": [1.1, 1.2, 1.3],
        }
    )
    prices = prices_from_frame(frame, source="bars")
    assert list(prices["timestamp"]) == list(
        pd.to_datetime(["2015-06-01 13:30", "2015-06-01 13:35", "2015-06-01 13:40"])
    )
    market = prepare(
        prices=frame,
        headlines=pd.DataFrame(
            {"timestamp": ["2015-06-01T13:31:00Z"], "ticker": ["AAA"], "headline": ["AAA up"]}
        ),
    )
    assert market.panel.bars is not None and market.panel.bars.interval_ns == 5 * 60 * 10**9
    # Known 09:31 New York, 5 minutes of latency: the first bar starting at or after 09:36.
    assert market.placed(market.config).session_idx.tolist() == [2]


def test_a_date_column_and_a_time_column_are_read_as_bar_starts() -> None:
    """Vendor bar exports split the stamp (Date, Time); a daily export stamped 00:00 on every
    row stays daily."""
    split = pd.DataFrame(
        {
            "Date": ["2015-06-01", "2015-06-01", "2015-06-02"],
            "Time": ["09:30", "09:35:00", "09:30"],
            "Symbol": "AAA",
            "Open": 1.0,
            "Close": 1.0,
        }
    )
    prices = prices_from_frame(split, source="bars")
    assert list(prices["timestamp"]) == list(
        pd.to_datetime(["2015-06-01 13:30", "2015-06-01 13:35", "2015-06-02 13:30"])
    )
    daily = split.assign(Time="00:00")
    assert "timestamp" not in prices_from_frame(daily.iloc[[0, 2]], source="daily").columns


def test_bars_outside_regular_hours_are_dropped_with_a_warning() -> None:
    frame = pd.DataFrame(
        {
            "timestamp": ["2015-06-01T08:00:00-04:00", "2015-06-01T09:30:00-04:00",
                          "2015-06-01T09:31:00-04:00", "2015-06-01T16:30:00-04:00"],
            "ticker": "AAA",
            "open": 1.0,
            "close": 1.0,
        }
    )  # fmt: skip
    news = pd.DataFrame(
        {"timestamp": ["2015-06-01T13:29:00Z"], "ticker": ["AAA"], "headline": ["AAA up"]}
    )
    market = prepare(prices=frame, headlines=news)
    with pytest.warns(UserWarning, match="2 bars fall outside the regular hours"):
        panel = market.panel
    assert np.isfinite(panel.open[:, 0]).sum() == 2


def test_extended_hours_keep_the_bars_before_the_open_and_after_the_close_of_session_days() -> None:
    """2015-11-27 closes at 13:00 (a half day); 11-28 is a Saturday; 03-09 is after the DST
    change. Kept: 08:00 and 09:25 (ending by the open), 13:00 and 16:30 on the half day, 19:55;
    dropped: the 09:28 bar overlapping the open and the Saturday bar."""
    sessions = load_sessions("XNYS", "2015-11-25", "2015-11-30")
    regular = bar_grid(sessions, 5 * 60 * 10**9)
    stamps = [
        f"2015-11-{day_time}"
        for day_time in ("27 08:00", "27 09:25", "27 09:28", "27 13:00", "27 16:30", "28 10:00",
                         "30 19:55", "30 10:00")
    ]  # fmt: skip
    starts = pd.DatetimeIndex(stamps).tz_localize("America/New_York").tz_convert("UTC")
    bars = extended_bar_grid(regular, sessions, starts.as_unit("ns").asi8)
    added = np.setdiff1d(bars.start_ns, regular.start_ns)
    local = pd.DatetimeIndex(added.view("datetime64[ns]")).tz_localize("UTC")
    assert [t.strftime("%m-%d %H:%M") for t in local.tz_convert("America/New_York")] == [
        "11-27 08:00", "11-27 09:25", "11-27 13:00", "11-27 16:30", "11-30 19:55"
    ]  # fmt: skip
    assert (np.diff(bars.start_ns) > 0).all() and (np.diff(bars.session) >= 0).all()
    assert list(np.bincount(bars.session)) == [78, 42 + 4, 78 + 1]
    march = load_sessions("XNYS", "2015-03-06", "2015-03-09")
    after_dst = pd.DatetimeIndex(["2015-03-09 08:00"]).tz_localize("America/New_York")
    grid = extended_bar_grid(bar_grid(march, 60 * 10**9), march, after_dst.as_unit("ns").asi8)
    assert grid.session[np.searchsorted(grid.start_ns, after_dst.as_unit("ns").asi8[0])] == 1


def test_with_extended_hours_after_close_news_trades_at_the_next_bar_not_the_next_open() -> None:
    frame = pd.DataFrame(
        {
            "timestamp": ["2015-06-01T15:55:00-04:00", "2015-06-01T16:00:00-04:00",
                          "2015-06-01T16:05:00-04:00", "2015-06-01T16:10:00-04:00",
                          "2015-06-02T09:30:00-04:00", "2015-06-02T09:35:00-04:00"],
            "ticker": "AAA",
            "open": 1.0,
            "close": 1.0,
        }
    )  # fmt: skip
    news = pd.DataFrame(
        {"timestamp": ["2015-06-01T20:01:00Z"], "ticker": ["AAA"], "headline": ["AAA up"]}
    )
    latency = {"execution.latency": "1min"}
    extended = prepare(
        prices=frame, headlines=news, overrides={**latency, "data.extended_hours": True}
    )
    row = extended.placed(extended.config).session_idx.tolist()
    assert extended.panel.dates[row[0]] == pd.Timestamp("2015-06-01T16:05:00-04:00")
    regular = prepare(prices=frame, headlines=news, overrides=latency)
    with pytest.warns(UserWarning, match="extended_hours = true keeps them"):
        row = regular.placed(regular.config).session_idx.tolist()
    assert regular.panel.dates[row[0]] == pd.Timestamp("2015-06-02T09:30:00-04:00")


@pytest.mark.filterwarnings("ignore:.*bars fall outside the regular hours:UserWarning")
@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
def test_with_extended_hours_news_after_the_close_pays_within_minutes_and_without_it_does_not() -> (
    None
):
    """Stories after the close, each followed 5 minutes later by a 1% jump its way: trading
    the after-hours bars catches it; on regular hours the next open already holds it."""
    bars, headlines = planted_bars(TICKERS[:2], *RANGES[0], after_hours_minutes=120)
    overrides = {**INTRADAY_NEWS, "execution.hold": "30min"}
    extended = prepare(
        prices=bars, headlines=headlines, overrides={**overrides, "data.extended_hours": True}
    )
    regular = prepare(prices=bars, headlines=headlines, overrides=overrides)
    (fast,) = decay(extended, extended.config, ["0s"]).points
    (missed,) = decay(regular, regular.config, ["0s"]).points
    assert fast.trades > 20 and fast.mean_trade_return > JUMP / 2 and fast.sharpe > 3, fast
    assert missed.trades > 5 and missed.mean_trade_return < JUMP / 10, missed


def test_a_bar_stamp_without_a_time_is_refused() -> None:
    frame = pd.DataFrame(
        {"timestamp": ["2015-06-01T09:30:00Z", "2015-06-02"], "ticker": "A", "open": 1, "close": 1}
    )
    with pytest.raises(InputError, match="row 2, column 'timestamp'.*no time of day"):
        prices_from_frame(frame, source="bars")


def test_close_execution_on_bars_is_refused(planted: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, headlines = planted
    with pytest.raises(InputError, match="execution.at"):
        run_strategy(prices=bars, headlines=headlines, overrides={"execution.at": "close"})


def test_the_intraday_strategy_holds_thirty_minutes_and_closes_by_the_close(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    strategy = Path(__file__).resolve().parents[1] / "strategies" / "intraday-news.toml"
    result = run_strategy(strategy, prices=bars, headlines=headlines)
    closed = result.trades[result.trades["status"] == "closed"]
    held = pd.to_datetime(closed["exit_time"], utc=True) - pd.to_datetime(
        closed["entry_time"], utc=True
    )
    assert len(closed) > 10
    assert (held <= pd.Timedelta("30min")).all()
    assert (held == pd.Timedelta("30min")).mean() > 0.5
    assert result.summary["stats"]["strategy"]["sharpe"] > 3


def test_a_duration_hold_needs_intraday_prices() -> None:
    with pytest.raises(InputError, match="execution.hold"):
        run_strategy(tickers="AAPL", overrides={"execution.hold": "30min"})


def test_a_duration_half_life_decays_over_that_many_bars() -> None:
    """On 5-minute bars a half-life of "50min" is one of 10 bars: the same signals and trades
    as signal.half_life = 10, and a longer duration changes the news flow."""
    bars, headlines = planted_bars(TICKERS[:2], *RANGES[0], bar_minutes=5)
    as_bars = run_strategy(prices=bars, headlines=headlines, overrides=INTRADAY_NEWS)
    as_duration = run_strategy(
        prices=bars, headlines=headlines, overrides={**INTRADAY_NEWS, "signal.half_life": "50min"}
    )
    pd.testing.assert_frame_equal(as_duration.signals, as_bars.signals)
    pd.testing.assert_frame_equal(as_duration.trades, as_bars.trades)
    longer = run_strategy(
        prices=bars, headlines=headlines, overrides={**INTRADAY_NEWS, "signal.half_life": "1h"}
    )
    assert not longer.signals["news"].equals(as_bars.signals["news"])


def test_a_duration_half_life_needs_intraday_prices() -> None:
    with pytest.raises(InputError, match="signal.half_life"):
        run_strategy(tickers="AAPL", overrides={"signal.half_life": "30min"})


def test_the_report_shows_minutes_after_the_news_and_the_edge_by_latency(
    planted: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, headlines = planted
    result = run_strategy(
        prices=bars, headlines=headlines, overrides={**INTRADAY_NEWS, "execution.latency": "0s"}
    )
    study = result.outputs.stats["intraday_event_study"]
    assert study["horizons"] == ["1", "5", "15", "30", "60", "close"]
    five, fifteen = study["horizons"].index("5"), study["horizons"].index("15")
    # The jump lands in the bar starting 5 minutes after the news: after +5, not before.
    assert study["bull"]["car"][fifteen] > JUMP / 2 > study["bull"]["car"][five]
    assert study["bear"]["car"][fifteen] < -JUMP / 2 < study["bear"]["car"][five]
    decay = result.outputs.stats["decay"]
    assert [p["latency"] for p in decay["points"]][:3] == ["0s", "1min", "5min"]
    page = result.report_html()
    assert 'id="intraday-event-table"' in page and 'data-figure="fig-decay"' in page


def test_the_intraday_event_study_against_a_benchmark_ticker_subtracts_its_return() -> None:
    """Against a benchmark column: each event's return minus the benchmark's over the same
    bars (a plain loop), the benchmark's own events left out, missing benchmark prices drop."""
    from backtest.analytics.intraday import intraday_event_study

    rng = np.random.default_rng(3)
    minute = 60 * 10**9
    start_ns = np.concatenate([np.arange(20) * minute, 10**13 + np.arange(20) * minute])
    session = np.repeat([0, 1], 20)
    open_ = rng.uniform(90, 110, (40, 3))
    close = rng.uniform(90, 110, (40, 3))
    open_[25, 2] = np.nan
    rows = np.array([2, 4, 11, 21, 23, 30, 5])
    columns = np.array([0, 1, 0, 1, 0, 1, 2])
    direction = np.array([1, -1, 1, 1, -1, -1, 1])
    study = intraday_event_study(
        open_, close, start_ns, session, rows, columns, direction, (1, 5), benchmark_column=2
    )

    def price(row: int, column: int, minutes: int | None) -> float:
        last = max(r for r in range(40) if session[r] == session[row])
        if minutes is not None:
            later = [
                r for r in range(row, last + 1) if start_ns[r] >= start_ns[row] + minutes * minute
            ]
            if later:
                return open_[later[0], column]
        return close[last, column]

    for name, side in (("bull", 1), ("bear", -1)):
        expected = []
        for r, c, d in zip(rows, columns, direction, strict=True):
            if d != side or c == 2:
                continue
            moves = [
                (price(r, c, m) / open_[r, c] - 1) - (price(r, 2, m) / open_[r, 2] - 1)
                for m in (1, 5, None)
            ]
            if np.isfinite(moves).all():
                expected.append(moves)
        assert study[name]["events"] == len(expected)
        np.testing.assert_allclose(study[name]["car"], np.mean(expected, axis=0), rtol=1e-12)


@pytest.mark.parametrize("against", [None, 2])
def test_the_intraday_event_study_prices_events_a_block_at_a_time_with_the_same_figures(
    against: int | None,
) -> None:
    from unittest import mock

    from backtest.analytics import blocks, intraday

    rng = np.random.default_rng(5)
    minute = 60 * 10**9
    start_ns = np.concatenate([np.arange(30) * minute, 10**13 + np.arange(30) * minute])
    session = np.repeat([0, 1], 30)
    open_ = np.where(rng.random((60, 4)) < 0.1, np.nan, rng.uniform(90, 110, (60, 4)))
    close = rng.uniform(90, 110, (60, 4))
    rows = rng.integers(0, 60, 25)
    columns = rng.integers(0, 4, 25)
    direction = rng.choice([-1, 1], 25)
    args = (open_, close, start_ns, session, rows, columns, direction, (1, 5, 15))
    whole = intraday.intraday_event_study(*args, benchmark_column=against)
    with mock.patch.object(blocks, "BLOCK_CELLS", 7):
        blocks = intraday.intraday_event_study(*args, benchmark_column=against)
    assert blocks == whole and whole["bull"] is not None and whole["bear"] is not None


def test_the_report_names_its_benchmark_ticker_and_refuses_one_without_prices() -> None:
    bars, headlines = planted_bars(TICKERS, *RANGES[0], jump=JUMP, jump_after_minutes=5)
    overrides = {**INTRADAY_NEWS, "execution.latency": "0s", "report.benchmark_ticker": "ddd"}
    result = run_strategy(prices=bars, headlines=headlines, overrides=overrides)
    study = result.outputs.stats["intraday_event_study"]
    assert study["against"] == "DDD"
    assert study["bull"]["car"][study["horizons"].index("15")] > JUMP / 2
    assert 'the benchmark ticker <span class="mono">DDD</span>' in result.report_html()
    with pytest.raises(InputError, match="report.benchmark_ticker ZZZ has no prices"):
        run_strategy(
            prices=bars,
            headlines=headlines,
            overrides={**overrides, "report.benchmark_ticker": "ZZZ"},
        )


def peer_news_on_bars() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Minute bars of AAA (no jumps) and BBB (a 1% jump 5 minutes after each story), with
    every story filed under AAA alone: only a link AAA -> BBB can trade BBB on them."""
    bars_b, news = planted_bars(("BBB",), *RANGES[0], jump=JUMP)
    bars_a, _ = planted_bars(("AAA",), *RANGES[0], stories_per_session=0, seed=8)
    news = news.assign(ticker="AAA", headline=news["headline"].str.replace("BBB", "AAA"))
    return pd.concat([bars_a, bars_b], ignore_index=True), news


def bbb_trades(result: RunResult) -> pd.DataFrame:
    trades = result.trades
    return trades[trades["ticker"] == "BBB"]


@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
def test_news_about_a_ticker_trades_its_peer_on_bars_through_a_peers_link(
    tmp_path: Path,
) -> None:
    bars, news = peer_news_on_bars()
    peers = tmp_path / "peers.csv"
    peers.write_text("ticker,peer,weight\nAAA,BBB,1\n", encoding="utf-8")
    fast = {**INTRADAY_NEWS, "execution.latency": "0s"}
    linked = run_strategy(
        prices=bars,
        headlines=news,
        overrides={
            **fast,
            "signal.spillover": 1.0,
            "signal.links": "peers",
            "data.peers": str(peers),
            "data.peers_directed": True,
        },
    )
    traded = bbb_trades(linked)
    assert len(traded) > 20 and traded["return"].mean() > JUMP / 2, traded["return"].describe()
    assert (linked.signals["spillover"].abs() > 0).any()
    peer_study = linked.outputs.stats["spillover"]["peer_event_study"]
    assert peer_study["bull"]["events"] > 0 and peer_study["bear"]["events"] > 0
    assert bbb_trades(run_strategy(prices=bars, headlines=news, overrides=fast)).empty


@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
def test_comention_links_on_bars_are_learned_by_session_and_only_after_their_stories() -> None:
    """Three stories naming AAA and BBB, one in each of the first three sessions, and
    comention_min = 3: the link holds from the fourth session's first bar, never before."""
    bars, news = peer_news_on_bars()
    days = load_sessions("XNYS", *RANGES[0]).dates[:3]
    noon = pd.DatetimeIndex(days) + pd.Timedelta("12:00:00")
    both = pd.DataFrame(
        {
            "timestamp": noon.tz_localize("America/New_York").strftime("%Y-%m-%dT%H:%M:%S%z"),
            "ticker": "AAA,BBB",
            "headline": "AAA and BBB executives are scheduled to attend the conference",
        }
    )
    result = run_strategy(
        prices=bars,
        headlines=pd.concat([news, both], ignore_index=True),
        overrides={
            **INTRADAY_NEWS,
            "execution.latency": "0s",
            "signal.spillover": 1.0,
            "signal.comention_min": 3,
        },
    )
    traded = bbb_trades(result)
    entries = pd.to_datetime(traded["entry_time"], utc=True).dt.tz_convert("America/New_York")
    fourth = load_sessions("XNYS", *RANGES[0]).dates[3]
    assert len(traded) > 10 and traded["return"].mean() > JUMP / 2
    assert (entries.dt.tz_localize(None).dt.normalize() >= fourth).all()
    block = result.outputs.stats["spillover"]
    assert block["stories"] >= 3 and block["top_comentions"][0]["stories"] == 3


def test_the_bar_size_is_detected_the_same_from_rows_in_any_order() -> None:
    from backtest.data.panel import detect_bar_ns

    day = pd.Timestamp("2015-03-02 14:30", tz="UTC")
    rows = []
    for ticker, step_min in (("AAA", 5), ("BBB", 5), ("CCC", 1)):
        for k in range(12):
            rows.append((ticker, day + pd.Timedelta(minutes=step_min * k)))
    frame = pd.DataFrame(rows, columns=["ticker", "timestamp"])
    frame["date"] = frame["timestamp"].dt.tz_localize(None).dt.normalize()
    start_ns = frame["timestamp"].to_numpy("datetime64[ns]").view(np.int64)
    assert detect_bar_ns(frame, start_ns, "bars") == 5 * 60 * 10**9
    latest_first = np.arange(len(frame))[::-1]
    assert (
        detect_bar_ns(frame.iloc[latest_first].reset_index(drop=True), start_ns[latest_first], "")
        == 5 * 60 * 10**9
    )
