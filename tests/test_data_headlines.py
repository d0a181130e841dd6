"""Headline loading: formats, timestamp rules, ticker explosion, refusals and the embedded file."""

from __future__ import annotations

import csv
import gzip
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.data import EMBEDDED_HEADLINES, EMBEDDED_SOURCES, DataWarning, load_headlines
from backtest.errors import InputError

TRICKY_TEXT = 'Apple, Inc. "beats"\r\nestimates\rby 5%'
ROWS = [
    {
        "timestamp": "2015-06-03T14:00:00Z",
        "ticker": "AAPL",
        "headline": TRICKY_TEXT,
        "source": "Wire",
        "url": "https://example.com/1",
    },
    {
        "timestamp": "2015-06-03T09:00:00-04:00",
        "ticker": "MSFT",
        "headline": "Microsoft & co. &amp; friends",
        "source": "",
        "url": "",
    },
]


def utc(stamp: str) -> pd.Timestamp:
    return pd.Timestamp(stamp).tz_convert("UTC")


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


def write_rows(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def stamps_of(path: Path, headlines_tz: str = "America/New_York") -> list[pd.Timestamp]:
    frame = load_headlines(path, headlines_tz=headlines_tz).sort_values("record")
    return list(frame["published_at"])


def write_in_format(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"h{suffix}"
    frame = pd.DataFrame(ROWS)
    if suffix == ".csv":
        write_csv(path, ROWS)
    elif suffix == ".csv.gz":
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL, compression="gzip")
    elif suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix in (".jsonl", ".jsonl.gz"):
        data = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz"])
def test_every_format_loads_the_same_headlines(tmp_path: Path, suffix: str) -> None:
    frame = load_headlines(write_in_format(tmp_path, suffix))
    assert list(frame.columns) == [
        "published_at",
        "date_only",
        "ticker",
        "headline",
        "source",
        "url",
        "record",
    ]
    assert str(frame["published_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["date_only"].dtype == bool and frame["record"].dtype == np.int64
    # Sorted by instant: the MSFT row (13:00 UTC) comes first.
    assert frame["ticker"].tolist() == ["MSFT", "AAPL"]
    assert frame["record"].tolist() == [2, 1]
    assert list(frame["published_at"]) == [utc("2015-06-03T13:00Z"), utc("2015-06-03T14:00Z")]
    assert frame["headline"].tolist() == [ROWS[1]["headline"], TRICKY_TEXT]
    assert frame["source"].tolist() == ["", "Wire"] and frame["url"].iloc[0] == ""


def test_source_and_url_default_to_empty(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", "time,symbol,title", ["2015-06-03T14:00:00Z,aapl,Up"])
    frame = load_headlines(path)
    assert frame[["ticker", "headline", "source", "url"]].iloc[0].tolist() == ["AAPL", "Up", "", ""]


def test_offset_and_z_stamps_are_exact(tmp_path: Path) -> None:
    lines = [
        "2015-01-02T10:00:00Z,A,x",
        "2015-01-02T10:00:00+01:00,A,x",
        "2015-01-02 10:00:00-0500,A,x",
        "2015-01-02T10:00:00.250-05:00,A,x",
        "2015-01-02 10:00:00 UTC,B,x",
    ]
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", lines)
    assert stamps_of(path, "Asia/Tokyo") == [
        utc("2015-01-02T10:00:00Z"),
        utc("2015-01-02T09:00:00Z"),
        utc("2015-01-02T15:00:00Z"),
        utc("2015-01-02T15:00:00.250Z"),
        utc("2015-01-02T10:00:00Z"),
    ]


def test_naive_stamps_are_wall_time_in_headlines_tz(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv",
        "timestamp,ticker,headline",
        ["2015-01-02 10:00,A,x", "2015-07-02T10:00:00,A,x"],
    )
    assert stamps_of(path) == [utc("2015-01-02T15:00Z"), utc("2015-07-02T14:00Z")]
    assert stamps_of(path, "Europe/London") == [utc("2015-01-02T10:00Z"), utc("2015-07-02T09:00Z")]


def test_a_date_column_and_a_time_column_are_one_stamp_in_headlines_tz(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv",
        "Date,Time,Ticker,Headline",
        ["2015-06-03,09:00,AAPL,Up", "2015-06-03,09:00:30,MSFT,Down"],
    )
    assert stamps_of(path) == [utc("2015-06-03T09:00:00-04:00"), utc("2015-06-03T09:00:30-04:00")]


def test_ambiguous_fall_back_time_takes_the_later_instant(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", ["2015-11-01 01:30,A,x"])
    # 01:30 happens twice in New York; EST (-05:00) is the later instant.
    assert stamps_of(path) == [utc("2015-11-01T06:30Z")]


def test_nonexistent_spring_forward_time_moves_forward(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", ["2015-03-08 02:30,A,x"])
    assert stamps_of(path) == [utc("2015-03-08T03:00:00-04:00")]


def test_date_only_stamps_are_flagged_and_start_at_local_midnight(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv", "timestamp,ticker,headline", ["2015-06-03,A,x", "2015-06-03T00:00Z,A,y"]
    )
    frame = load_headlines(path).sort_values("record")
    assert frame["date_only"].tolist() == [True, False]
    assert frame["published_at"].iloc[0] == utc("2015-06-03T00:00:00-04:00")


def test_a_date_column_stands_in_for_a_missing_timestamp_column(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", "Date,Ticker,Text", ["2015-06-03,AAPL,x"])
    frame = load_headlines(path)
    assert frame["date_only"].tolist() == [True]


def test_epoch_seconds_are_exact_utc(tmp_path: Path) -> None:
    instant = utc("2015-06-03T14:00:05Z")
    seconds = instant.value // 10**9
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", [f"{seconds},A,x"])
    assert stamps_of(path) == [instant]


def test_epoch_milliseconds_are_exact_utc_and_past_2262_refused(tmp_path: Path) -> None:
    instant = utc("2015-06-03T14:00:05.250Z")
    millis = instant.value // 10**6
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", [f"{millis},A,x"])
    assert stamps_of(path) == [instant]
    late = write_rows(tmp_path / "late.csv", "timestamp,ticker,headline", ["9999999999999,A,x"])
    with pytest.raises(InputError, match="row 1"):
        load_headlines(late)


def test_parquet_datetime_columns_keep_their_meaning(tmp_path: Path) -> None:
    aware = tmp_path / "aware.parquet"
    pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2015-06-03T10:00:00-04:00"], utc=True),
            "ticker": ["A"],
            "headline": ["x"],
        }
    ).to_parquet(aware)
    assert stamps_of(aware) == [utc("2015-06-03T14:00Z")]
    naive = tmp_path / "naive.parquet"
    pd.DataFrame(
        {"timestamp": pd.to_datetime(["2015-06-03T10:00:00"]), "ticker": ["A"], "headline": ["x"]}
    ).to_parquet(naive)
    assert stamps_of(naive) == [utc("2015-06-03T14:00Z")]


@pytest.mark.parametrize("cell", ['"AAPL,MSFT"', "AAPL MSFT", "$aapl;$msft", '" AAPL | $MSFT "'])
def test_several_tickers_in_one_row_count_for_each(tmp_path: Path, cell: str) -> None:
    path = write_rows(
        tmp_path / "h.csv", "timestamp,ticker,headline", [f"2015-06-03T14:00:00Z,{cell},Both up"]
    )
    frame = load_headlines(path)
    assert sorted(frame["ticker"]) == ["AAPL", "MSFT"]
    assert frame["record"].tolist() == [1, 1] and frame["headline"].tolist() == ["Both up"] * 2


def test_json_list_of_tickers_is_exploded(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    row = {"published_at": "2015-06-03T14:00:00Z", "tickers": ["AAPL", "MSFT"], "title": "x"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert sorted(load_headlines(path)["ticker"]) == ["AAPL", "MSFT"]


def test_blank_headlines_are_dropped_with_a_warning(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv",
        "timestamp,ticker,headline",
        ["2015-06-03T14:00:00Z,A,x", '2015-06-03T14:00:00Z,B,"  "', "2015-06-03T14:00:00Z,C,"],
    )
    with pytest.warns(DataWarning, match=r"dropped 2 row\(s\) with an empty headline.*row 2"):
        frame = load_headlines(path)
    assert frame["ticker"].tolist() == ["A"]


def test_exact_duplicate_headlines_are_dropped_with_a_warning(tmp_path: Path) -> None:
    line = "2015-06-03T14:00:00Z,A,same"
    path = write_rows(
        tmp_path / "h.csv",
        "timestamp,ticker,headline",
        [line, "2015-06-03T10:00:00-04:00,A,same", "2015-06-03T14:00:00Z,B,same"],
    )
    with pytest.warns(DataWarning, match=r"dropped 1 exact duplicate headline.*row 2"):
        frame = load_headlines(path)
    assert frame["record"].tolist() == [1, 3]


def error_for(path: Path, headlines_tz: str = "America/New_York") -> InputError:
    with pytest.raises(InputError) as caught:
        load_headlines(path, headlines_tz=headlines_tz)
    return caught.value


@pytest.mark.parametrize("missing", ["timestamp", "ticker", "headline"])
def test_missing_required_column_names_the_columns_found(tmp_path: Path, missing: str) -> None:
    columns = [c for c in ("timestamp", "ticker", "headline", "url") if c != missing]
    path = write_rows(tmp_path / "h.csv", ",".join(columns), [",".join(["x"] * len(columns))])
    error = error_for(path)
    assert error.column == missing and str(path) in str(error)
    assert f"columns found: {', '.join(columns)}" in error.what


@pytest.mark.parametrize(
    "bad", ["yesterday", "2015-02-30T10:00:00Z", "2015-06-03T25:00", "03/06/2015 10:00", "2015-6-3"]
)
def test_unparseable_timestamp_names_row_and_value(tmp_path: Path, bad: str) -> None:
    path = write_rows(
        tmp_path / "h.csv", "timestamp,ticker,headline", ["2015-06-03T14:00:00Z,A,x", f"{bad},A,y"]
    )
    error = error_for(path)
    assert (error.row, error.column) == (2, "timestamp")
    assert repr(bad) in error.what and str(path) in str(error)
    assert "ISO 8601" in (error.hint or "")


def test_empty_timestamp_names_the_row(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "h.csv", "timestamp,ticker,headline", [",A,x"])
    error = error_for(path)
    assert error.row == 1 and "missing timestamp" in error.what


def test_empty_ticker_names_the_row(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv",
        "timestamp,ticker,headline",
        ["2015-06-03T14:00:00Z,A,x", "2015-06-03T14:00:00Z,,y", '2015-06-03T14:00:00Z,"$ ;",z'],
    )
    error = error_for(path)
    assert (error.row, error.column) == (2, "ticker")


def test_ticker_of_only_separators_names_the_row(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "h.csv", "timestamp,ticker,headline", ['2015-06-03T14:00:00Z,"$ ;",z']
    )
    assert error_for(path).row == 1


def test_unknown_time_zone_hints_at_iana_names(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", ROWS)
    error = error_for(path, headlines_tz="Eastern Standard Time")
    assert "Eastern Standard Time" in error.what and "America/New_York" in (error.hint or "")


def test_empty_and_header_only_files_are_input_errors(tmp_path: Path) -> None:
    assert "empty" in error_for(write_rows(tmp_path / "a.csv", "", [])).what
    assert (
        "no data rows"
        in error_for(write_rows(tmp_path / "b.csv", "timestamp,ticker,headline", [])).what
    )


def test_non_utf8_headline_bytes_are_replaced_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(
        b"timestamp,ticker,headline\n2015-06-03T14:00:00Z,A,Soci\xe9t\xe9 G\xe9n\xe9rale up\n"
    )
    with pytest.warns(DataWarning, match="4 byte"):
        frame = load_headlines(path)
    assert frame["headline"].iloc[0] == "Soci\ufffdt\ufffd G\ufffdn\ufffdrale up"


_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_stamps = st.one_of(
    _cells,
    st.sampled_from(["2015-06-03T14:00:00Z", "2015-06-03", "2015-06-03 10:00", "1433340000"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_stamps, _cells, _cells), min_size=0, max_size=5),
    order=st.permutations(["timestamp", "ticker", "headline"]),
    tz=st.sampled_from(["America/New_York", "Asia/Kolkata", "UTC", "Not/AZone"]),
    raw_tail=st.binary(max_size=20),
)
def test_fuzzed_files_load_or_raise_input_error(
    tmp_path: Path, rows: list[tuple[str, str, str]], order: list[str], tz: str, raw_tail: bytes
) -> None:
    frame = pd.DataFrame(rows, columns=["timestamp", "ticker", "headline"])[order]
    path = tmp_path / "fuzz.csv"
    path.write_bytes(frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode() + raw_tail)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            loaded = load_headlines(path, headlines_tz=tz)
    except InputError:
        return
    assert str(loaded["published_at"].dtype) == "datetime64[ns, UTC]"
    assert (loaded["ticker"] != "").all()


def sources_count() -> int:
    text = EMBEDDED_SOURCES.read_text(encoding="utf-8").split("## headlines.csv.gz", 1)[1]
    return int(re.search(r"\*\*Rows:\*\* ([\d,]+)", text).group(1).replace(",", ""))


def test_embedded_headlines_load_with_the_documented_row_count() -> None:
    frame = load_headlines(EMBEDDED_HEADLINES)
    assert len(frame) == sources_count() == 95_059
    assert frame["ticker"].nunique() == 40 and not frame["date_only"].any()
    assert frame["published_at"].min() == utc("2013-12-31T23:10:08Z")
    assert frame["published_at"].max() == utc("2016-03-31T21:34:37Z")
    assert frame["published_at"].is_monotonic_increasing
    assert (frame["ticker"] == "AAPL").sum() == 20_823
    assert frame["headline"].str.contains("\n").sum() > 1000
