"""Point-in-time rules: which session's open or close may first use a headline.

Expected sessions are worked out by hand from the NYSE calendar (holidays, the 2015-11-27 half
day, the DST switches), never copied from the implementation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.calendar import Sessions, known_at_ns, load_sessions, tradeable_session
from backtest.data import load_headlines
from backtest.errors import InputError

MINUTE_NS = 60 * 10**9
SESSIONS = load_sessions("XNYS", "2014-12-01", "2016-01-29")


def ns(stamp: str) -> int:
    """UTC epoch nanoseconds of an offset-carrying ISO stamp."""
    instant = pd.Timestamp(stamp)
    assert instant.tzinfo is not None, "test stamps must carry an offset"
    return instant.value


def session_for(stamp: str, at: str = "open", latency_minutes: float = 5) -> str:
    index = tradeable_session(
        np.array([ns(stamp)]), SESSIONS, at=at, latency_ns=int(latency_minutes * MINUTE_NS)
    )[0]
    return f"{pd.Timestamp(SESSIONS.dates[index]):%Y-%m-%d}"


def date_only_session(day: str, at: str, tz: str = "America/New_York") -> str:
    published = np.array([pd.Timestamp(day).tz_localize(tz).value])
    known = known_at_ns(published, np.array([True]), SESSIONS, tz)
    index = tradeable_session(known, SESSIONS, at=at)[0]
    return f"{pd.Timestamp(SESSIONS.dates[index]):%Y-%m-%d}"


def test_sessions_skip_weekends_and_holidays() -> None:
    dates = {f"{pd.Timestamp(d):%Y-%m-%d}" for d in SESSIONS.dates}
    assert "2015-07-02" in dates and "2015-07-06" in dates
    assert "2015-07-03" not in dates  # Independence Day observed
    assert "2015-07-04" not in dates and "2015-12-25" not in dates
    assert len(SESSIONS) == len(SESSIONS.open_ns) == len(SESSIONS.close_ns)
    assert np.all(np.diff(SESSIONS.open_ns) > 0) and np.all(SESSIONS.close_ns > SESSIONS.open_ns)


def test_pre_open_news_trades_same_open() -> None:
    assert session_for("2015-06-03T09:00:00-04:00") == "2015-06-03"


def test_in_session_news_trades_next_open() -> None:
    assert session_for("2015-06-03T10:00:00-04:00") == "2015-06-04"


def test_after_close_news_trades_next_open() -> None:
    assert session_for("2015-06-03T16:05:00-04:00") == "2015-06-04"


def test_news_exactly_at_open_counts_as_after_the_open() -> None:
    assert session_for("2015-06-03T09:30:00-04:00", latency_minutes=0) == "2015-06-04"
    one_ns_before = np.array([ns("2015-06-03T09:30:00-04:00") - 1])
    index = tradeable_session(one_ns_before, SESSIONS, at="open", latency_ns=0)[0]
    assert f"{pd.Timestamp(SESSIONS.dates[index]):%Y-%m-%d}" == "2015-06-03"


def test_open_news_must_precede_the_open_by_the_latency() -> None:
    assert session_for("2015-06-03T09:24:59-04:00") == "2015-06-03"
    assert session_for("2015-06-03T09:25:00-04:00") == "2015-06-04"
    assert session_for("2015-06-03T09:27:00-04:00") == "2015-06-04"
    assert session_for("2015-06-03T09:29:59-04:00", latency_minutes=0) == "2015-06-03"


def test_weekend_news_trades_monday() -> None:
    assert session_for("2015-06-06T12:00:00-04:00") == "2015-06-08"
    assert session_for("2015-06-07T23:00:00Z") == "2015-06-08"
    assert session_for("2015-06-05T16:30:00-04:00") == "2015-06-08"
    assert session_for("2015-06-06T12:00:00-04:00", at="close") == "2015-06-08"


def test_holiday_news_trades_next_session() -> None:
    assert session_for("2015-07-03T12:00:00-04:00") == "2015-07-06"
    assert session_for("2015-07-03T12:00:00-04:00", at="close") == "2015-07-06"
    assert session_for("2015-07-02T16:30:00-04:00") == "2015-07-06"


def test_half_day_closes_at_13_new_york() -> None:
    index = int(np.searchsorted(SESSIONS.dates, np.datetime64("2015-11-27")))
    assert SESSIONS.close_ns[index] == ns("2015-11-27T18:00:00Z")
    assert SESSIONS.open_ns[index] == ns("2015-11-27T14:30:00Z")


def test_half_day_news_before_close_minus_latency_trades_that_close() -> None:
    assert session_for("2015-11-27T12:50:00-05:00", at="close") == "2015-11-27"
    assert session_for("2015-11-27T12:55:00-05:00", at="close") == "2015-11-27"


def test_half_day_news_inside_the_latency_or_after_close_trades_next_close() -> None:
    assert session_for("2015-11-27T12:57:00-05:00", at="close") == "2015-11-30"
    assert session_for("2015-11-27T13:30:00-05:00", at="close") == "2015-11-30"
    assert session_for("2015-11-27T13:30:00-05:00", at="open") == "2015-11-30"


def test_close_mode_latency_is_inclusive_and_configurable() -> None:
    assert session_for("2015-06-03T15:55:00-04:00", at="close") == "2015-06-03"
    assert session_for("2015-06-03T15:55:01-04:00", at="close") == "2015-06-04"
    assert session_for("2015-06-03T15:59:00-04:00", at="close", latency_minutes=0) == "2015-06-03"
    assert session_for("2015-06-03T15:59:00-04:00", at="close", latency_minutes=2) == "2015-06-04"
    assert session_for("2015-06-03T16:00:00-04:00", at="close", latency_minutes=0) == "2015-06-03"


def test_dst_spring_forward_moves_the_open_an_hour_earlier_in_utc() -> None:
    friday = int(np.searchsorted(SESSIONS.dates, np.datetime64("2015-03-06")))
    monday = int(np.searchsorted(SESSIONS.dates, np.datetime64("2015-03-09")))
    assert SESSIONS.open_ns[friday] == ns("2015-03-06T14:30:00Z")
    assert SESSIONS.open_ns[monday] == ns("2015-03-09T13:30:00Z")
    # 13:45 UTC is before the open in winter (08:45 EST) but after it in summer (09:45 EDT).
    assert session_for("2015-03-06T13:45:00Z") == "2015-03-06"
    assert session_for("2015-03-09T13:45:00Z") == "2015-03-10"
    assert session_for("2015-03-06T09:15:00-05:00") == "2015-03-06"
    assert session_for("2015-03-09T09:15:00-04:00") == "2015-03-09"
    assert session_for("2015-03-09T09:45:00-04:00") == "2015-03-10"


def test_dst_fall_back_moves_the_open_an_hour_later_in_utc() -> None:
    monday = int(np.searchsorted(SESSIONS.dates, np.datetime64("2015-11-02")))
    assert SESSIONS.open_ns[monday] == ns("2015-11-02T14:30:00Z")
    assert session_for("2015-11-02T14:00:00Z") == "2015-11-02"  # 09:00 EST
    assert session_for("2015-10-30T14:00:00Z") == "2015-11-02"  # 10:00 EDT, in session
    assert session_for("2015-11-02T09:15:00-05:00") == "2015-11-02"
    assert session_for("2015-11-02T20:50:00Z", at="close") == "2015-11-02"  # 15:50 EST
    assert session_for("2015-10-30T20:50:00Z", at="close") == "2015-11-02"  # 16:50 EDT


def test_date_only_stamp_trades_next_session_open_in_open_mode() -> None:
    assert date_only_session("2015-06-03", "open") == "2015-06-04"
    assert date_only_session("2015-06-05", "open") == "2015-06-08"


def test_date_only_stamp_trades_next_session_close_in_close_mode() -> None:
    assert date_only_session("2015-06-03", "close") == "2015-06-04"


def test_date_only_stamp_on_a_closed_day_trades_the_following_session() -> None:
    assert date_only_session("2015-07-03", "open") == "2015-07-06"
    assert date_only_session("2015-07-03", "close") == "2015-07-06"
    assert date_only_session("2015-06-06", "open") == "2015-06-08"
    assert date_only_session("2015-06-06", "close") == "2015-06-08"


def test_date_only_known_at_is_the_close_or_the_end_of_the_day() -> None:
    published = np.array(
        [pd.Timestamp("2015-11-27", tz="America/New_York").value, ns("2015-07-03T00:00-04:00")]
    )
    known = known_at_ns(published, np.array([True, True]), SESSIONS)
    assert known[0] == ns("2015-11-27T18:00:00Z")  # the half day's close
    assert known[1] == ns("2015-07-04T00:00:00-04:00")  # midnight after the holiday


def test_date_only_day_is_read_in_the_headlines_time_zone() -> None:
    # Midnight in Tokyo on June 3 is still June 2 in New York.
    assert date_only_session("2015-06-03", "open", tz="Asia/Tokyo") == "2015-06-04"


def test_date_only_headline_from_west_of_the_exchange_waits_for_its_own_day_to_end() -> None:
    tokyo = load_sessions("XTKS", "2015-06-01", "2015-06-10")
    # New York's June 3 ends at 04:00 UTC on June 4, after Tokyo's June 4 open (00:00 UTC).
    published = np.array([pd.Timestamp("2015-06-03", tz="America/New_York").value])
    known = known_at_ns(published, np.array([True]), tokyo, "America/New_York")
    assert known[0] == ns("2015-06-04T00:00:00-04:00")
    index = tradeable_session(known, tokyo, at="open")[0]
    assert f"{pd.Timestamp(tokyo.dates[index]):%Y-%m-%d}" == "2015-06-05"


def test_exact_stamps_are_known_as_given() -> None:
    published = np.array([ns("2015-06-03T10:00:00Z"), ns("2015-07-03T00:00:00Z")])
    known = known_at_ns(published, np.array([False, False]), SESSIONS)
    assert np.array_equal(known, published)


def write_headlines(path: Path, stamps: list[str]) -> Path:
    rows = ["timestamp,ticker,headline"] + [f"{s},AAPL,news {i}" for i, s in enumerate(stamps)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def sessions_of_file(path: Path, headlines_tz: str, at: str = "open") -> list[str]:
    frame = load_headlines(path, headlines_tz=headlines_tz).sort_values("record")
    published = frame["published_at"].to_numpy("datetime64[ns]").view(np.int64)
    known = known_at_ns(published, frame["date_only"].to_numpy(), SESSIONS, headlines_tz)
    index = tradeable_session(known, SESSIONS, at=at)
    return [f"{pd.Timestamp(SESSIONS.dates[i]):%Y-%m-%d}" for i in index]


def test_naive_stamps_are_read_in_the_headlines_time_zone(tmp_path: Path) -> None:
    path = write_headlines(tmp_path / "h.csv", ["2015-06-03 09:00", "2015-06-03 14:00"])
    assert sessions_of_file(path, "America/New_York") == ["2015-06-03", "2015-06-04"]
    # 14:00 in London is 09:00 in New York: before the open.
    assert sessions_of_file(path, "Europe/London") == ["2015-06-03", "2015-06-03"]


def test_mixed_offsets_across_dst_load_and_place_correctly(tmp_path: Path) -> None:
    stamps = ["2015-03-09T13:45:00Z", "2015-03-09T09:15:00-04:00", "2015-11-02T09:15:00-05:00"]
    path = write_headlines(tmp_path / "h.csv", [*stamps, "2015-06-03"])
    assert sessions_of_file(path, "America/New_York") == [
        "2015-03-10",
        "2015-03-09",
        "2015-11-02",
        "2015-06-04",
    ]
    assert sessions_of_file(path, "America/New_York", at="close")[3] == "2015-06-04"


def test_news_before_the_first_session_maps_to_index_zero_and_after_the_last_to_len() -> None:
    early = np.array([ns("2014-01-01T00:00:00Z")])
    late = np.array([ns("2016-06-01T00:00:00Z")])
    for at in ("open", "close"):
        assert tradeable_session(early, SESSIONS, at=at)[0] == 0
        assert tradeable_session(late, SESSIONS, at=at)[0] == len(SESSIONS)


def test_unknown_calendar_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown exchange calendar 'NOPE'"):
        load_sessions("NOPE", "2015-01-01", "2015-12-31")


def test_unknown_execution_time_and_negative_latency_are_input_errors() -> None:
    with pytest.raises(InputError, match="execution.at"):
        tradeable_session(np.array([0]), SESSIONS, at="noon")
    with pytest.raises(InputError, match="latency"):
        tradeable_session(np.array([0]), SESSIONS, at="close", latency_ns=-1)


def test_other_calendars_use_their_own_hours() -> None:
    london = load_sessions("XLON", "2015-06-01", "2015-06-05")
    assert london.tz == "Europe/London"
    assert london.open_ns[0] == ns("2015-06-01T08:00:00+01:00")


# Plain-Python references: one headline at a time, walking the sessions.


def reference_known_at(published: int, date_only: bool, sessions: Sessions, tz: str) -> int:
    if not date_only:
        return published
    day = dt.datetime.fromtimestamp(published / 1e9, tz=ZoneInfo(tz)).date()
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
    own_day_end = pd.Timestamp(next_midnight, tz=tz).value
    exchange_day_end = pd.Timestamp(next_midnight, tz=sessions.tz).value
    if own_day_end > exchange_day_end:
        return own_day_end
    for date, close in zip(sessions.dates, sessions.close_ns, strict=True):
        if pd.Timestamp(date).date() == day:
            return int(close)
    return exchange_day_end


def reference_session(known: int, sessions: Sessions, at: str, latency_ns: int) -> int:
    for index in range(len(sessions)):
        if at == "open" and sessions.open_ns[index] - latency_ns > known:
            return index
        if at == "close" and known <= sessions.close_ns[index] - latency_ns:
            return index
    return len(sessions)


SMALL = load_sessions("XNYS", "2015-02-20", "2015-04-10")
_EDGES = [int(x) for x in np.concatenate([SMALL.open_ns, SMALL.close_ns])]
_instants = st.one_of(
    st.integers(SMALL.open_ns[0] - 3 * 86_400 * 10**9, SMALL.close_ns[-1] + 3 * 86_400 * 10**9),
    st.tuples(st.sampled_from(_EDGES), st.integers(-MINUTE_NS * 6, MINUTE_NS * 6)).map(sum),
    st.tuples(st.sampled_from(_EDGES), st.integers(-2, 2)).map(sum),
)
_days = st.dates(dt.date(2015, 2, 15), dt.date(2015, 4, 15))
_zones = st.sampled_from(
    ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "UTC"]
)


@settings(max_examples=150, deadline=None)
@given(
    instants=st.lists(_instants, min_size=1, max_size=20),
    latency_ns=st.sampled_from([0, 1, 5 * MINUTE_NS, 90 * MINUTE_NS]),
)
def test_tradeable_session_matches_a_per_headline_reference(
    instants: list[int], latency_ns: int
) -> None:
    known = np.array(instants, dtype=np.int64)
    for at in ("open", "close"):
        got = tradeable_session(known, SMALL, at=at, latency_ns=latency_ns)
        expected = [reference_session(k, SMALL, at, latency_ns) for k in instants]
        assert got.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(_days, min_size=1, max_size=8),
    instants=st.lists(_instants, min_size=1, max_size=8),
    tz=_zones,
)
def test_known_at_matches_a_per_headline_reference(
    days: list[dt.date], instants: list[int], tz: str
) -> None:
    date_stamps = [pd.Timestamp(day).tz_localize(tz).value for day in days]
    published = np.array(date_stamps + instants, dtype=np.int64)
    date_only = np.array([True] * len(days) + [False] * len(instants))
    got = known_at_ns(published, date_only, SMALL, tz)
    expected = [
        reference_known_at(int(p), bool(d), SMALL, tz)
        for p, d in zip(published, date_only, strict=True)
    ]
    assert got.tolist() == expected


def test_a_one_day_range_holds_that_session_and_a_weekend_range_none() -> None:
    assert len(load_sessions("XNYS", "2015-01-02", "2015-01-02")) == 1
    assert len(load_sessions("XNYS", "2015-01-03", "2015-01-04")) == 0
    with pytest.raises(InputError, match="starts"):
        load_sessions("XNYS", "2015-01-05", "2015-01-02")


def test_a_schedule_read_back_from_the_disk_cache_equals_the_one_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest import calendar, paths

    monkeypatch.setenv(paths.CACHE_ENV_VAR, str(tmp_path))
    first, last = pd.Timestamp("2015-11-20"), pd.Timestamp("2016-03-20")
    (built_arrays, built_tz) = calendar._build_schedule("XNYS", first, last)
    calendar._schedule.cache_clear()
    stored = calendar._schedule("XNYS", first, last)
    assert len(list((tmp_path / "calendars").glob("XNYS-*.npz"))) == 1
    calendar._schedule.cache_clear()
    read_back = calendar._schedule("XNYS", first, last)
    calendar._schedule.cache_clear()
    for fresh, first_call, second_call in zip(built_arrays, stored[:3], read_back[:3], strict=True):
        np.testing.assert_array_equal(first_call, fresh)
        np.testing.assert_array_equal(second_call, fresh)
        assert second_call.dtype == fresh.dtype and not second_call.flags.writeable
    assert stored[3] == read_back[3] == built_tz == "America/New_York"


def test_a_corrupt_schedule_cache_file_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest import calendar, paths

    monkeypatch.setenv(paths.CACHE_ENV_VAR, str(tmp_path))
    first, last = pd.Timestamp("2015-11-20"), pd.Timestamp("2016-03-20")
    calendar._schedule.cache_clear()
    good = calendar._schedule("XNYS", first, last)
    (cached,) = (tmp_path / "calendars").glob("XNYS-*.npz")
    cached.write_bytes(b"not a zip file")
    calendar._schedule.cache_clear()
    rebuilt = calendar._schedule("XNYS", first, last)
    calendar._schedule.cache_clear()
    for before, after in zip(good[:3], rebuilt[:3], strict=True):
        np.testing.assert_array_equal(before, after)
    assert cached.read_bytes()[:2] == b"PK"
