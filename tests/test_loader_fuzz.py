"""Fuzzing the price and headline loaders: whatever the bytes, they load correctly or raise
``InputError`` (one line), never another exception, never a warning other than ``DataWarning``.

Structured cases carry their own expected outcome (a small model of the data contract), so a
successful load is checked value by value, not only for its types.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import math
import warnings
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.data.headlines import HEADLINE_COLUMNS, load_headlines
from backtest.data.prices import PRICE_COLUMNS, load_prices
from backtest.data.tables import DataWarning
from backtest.errors import InputError

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIME_ZONES = sorted(zoneinfo.available_timezones())
TEXT_FORMATS = (".csv", ".tsv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")
_NS_FIRST, _NS_LAST = dt.date(1678, 1, 1), dt.date(2261, 12, 31)


@dataclass
class Outcome:
    frame: pd.DataFrame | None
    error: InputError | None
    warned: list[warnings.WarningMessage]


def attempt(load: Callable[[], pd.DataFrame]) -> Outcome:
    """Call a loader; anything but a frame or an InputError fails the test (by propagating)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame, error = load(), None
        except InputError as raised:
            frame, error = None, raised
    for warning in caught:
        assert issubclass(warning.category, DataWarning), (warning.category, warning.message)
        assert "\n" not in str(warning.message), warning.message
    if error is not None:
        message = str(error)
        assert message and "\n" not in message and "\r" not in message, message
    return Outcome(frame, error, list(caught))


def write_table(path_stem: Path, suffix: str, header: list[str], rows: list[list[str]]) -> Path:
    """Write text cells in one of the supported formats (every cell a string)."""
    path = path_stem.with_name(path_stem.name + suffix)
    if suffix == ".parquet":
        columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
        pd.DataFrame(columns, columns=header, dtype="str").to_parquet(path)
        return path
    if suffix.startswith(".jsonl"):
        text = "".join(json.dumps(dict(zip(header, row, strict=True))) + "\n" for row in rows)
    else:
        buffer = io.StringIO()
        sep = "\t" if suffix == ".tsv" else ","
        writer = csv.writer(buffer, delimiter=sep, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        text = buffer.getvalue()
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    return path


# ---------------------------------------------------------------- invariants of a loaded frame


def is_upper_case(text: str) -> bool:
    """No character with a one-character upper case left in lower case (Arrow upper-cases per
    code point, so 'ß' stays one character; Python's special casing would make it 'SS')."""
    return all(len(c.upper()) != 1 or c.upper() == c for c in text)


def check_price_invariants(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    assert str(frame["date"].dtype) == "datetime64[ns]"
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert pd.api.types.is_string_dtype(frame["ticker"].dtype)
    tickers = frame["ticker"].astype(object)
    assert all(t and t == t.strip() and is_upper_case(t) for t in tickers)
    for name in ("open", "high", "low", "close", "volume", "adj_close"):
        assert frame[name].dtype == np.float64, name
    for name in ("open", "close"):
        values = frame[name].to_numpy()
        assert np.isfinite(values).all() and (values > 0).all(), name
    for name in ("high", "low", "adj_close"):
        values = frame[name].to_numpy()
        assert (np.isnan(values) | (np.isfinite(values) & (values > 0))).all(), name
    volume = frame["volume"].to_numpy()
    assert (np.isnan(volume) | (np.isfinite(volume) & (volume >= 0))).all()
    assert frame["record"].dtype == np.int64 and frame["record"].is_unique
    keys = list(zip(tickers, frame["date"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys), "sorted, one row per key"


def check_headline_invariants(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(HEADLINE_COLUMNS)
    assert str(frame["published_at"].dtype) == "datetime64[ns, UTC]"
    assert not frame["published_at"].isna().any()
    assert frame["date_only"].dtype == bool
    for name in ("ticker", "headline", "source", "url"):
        assert pd.api.types.is_string_dtype(frame[name].dtype), name
    tickers = frame["ticker"].astype(object)
    assert all(t and is_upper_case(t) and "," not in t and t == t.strip() for t in tickers)
    assert (frame["headline"].str.strip() != "").all()
    assert frame["record"].dtype == np.int64 and (frame["record"] >= 1).all()
    keys = list(zip(frame["published_at"], tickers, strict=True))
    assert keys == sorted(keys), "sorted by published_at then ticker"


# ---------------------------------------------------------------- anything at all


@FUZZ
@given(
    data=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".tsv", ".csv.gz", ".jsonl", ".parquet", ".txt"]),
    gzip_it=st.booleans(),
    tz=st.sampled_from(TIME_ZONES),
)
def test_random_bytes_load_or_raise_input_error(
    tmp_path: Path, data: bytes, suffix: str, gzip_it: bool, tz: str
) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(gzip.compress(data) if gzip_it else data)
    prices = attempt(lambda: load_prices(path))
    if prices.frame is not None:
        check_price_invariants(prices.frame)
    headlines = attempt(lambda: load_headlines(path, headlines_tz=tz))
    if headlines.frame is not None:
        check_headline_invariants(headlines.frame)


_CSV_ALPHABET = st.sampled_from(list("abcXYZ019.,;:-+ \"'\t\r\n$é€😀\ufeff\x00\x7f"))
_CSVISH = st.lists(
    st.one_of(
        st.text(_CSV_ALPHABET, max_size=12),
        st.sampled_from(
            [
                "date,ticker,open,close",
                "timestamp,ticker,headline",
                "2015-03-02",
                "2015-03-02T14:30:00Z",
                "AAPL",
                "12.5",
                "-1",
                "nan",
                '"',
                '""',
            ]
        ),
    ),
    max_size=25,
)


@FUZZ
@given(pieces=_CSVISH, suffix=st.sampled_from([".csv", ".tsv", ".csv.gz"]))
def test_csvish_text_loads_or_raises_input_error(
    tmp_path: Path, pieces: list[str], suffix: str
) -> None:
    text = "".join(pieces)
    header = "date,ticker,open,close,timestamp,headline\n" if len(pieces) % 2 else ""
    data = (header + text).encode("utf-8", errors="surrogatepass")
    path = tmp_path / f"csvish{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    prices = attempt(lambda: load_prices(path))
    if prices.frame is not None:
        check_price_invariants(prices.frame)
    headlines = attempt(lambda: load_headlines(path))
    if headlines.frame is not None:
        check_headline_invariants(headlines.frame)


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(["2015-03-02", "2015-03-02T14:30:00+05:45", "AAPL,MSFT", "12.5", "-3"]),
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_JSON_KEYS = st.sampled_from(
    ["date", "ticker", "open", "close", "high", "volume", "timestamp", "headline", "tickers", "x"]
)


@FUZZ
@given(
    records=st.lists(
        st.one_of(st.dictionaries(_JSON_KEYS, _JSON_VALUES, max_size=7), _JSON_VALUES),
        max_size=6,
    ),
    blank_lines=st.booleans(),
    gzip_it=st.booleans(),
)
def test_random_json_lines_load_or_raise_input_error(
    tmp_path: Path, records: list[object], blank_lines: bool, gzip_it: bool
) -> None:
    joiner = "\n\n" if blank_lines else "\n"
    data = joiner.join(json.dumps(r) for r in records).encode()
    path = tmp_path / ("random.jsonl.gz" if gzip_it else "random.jsonl")
    path.write_bytes(gzip.compress(data) if gzip_it else data)
    prices = attempt(lambda: load_prices(path))
    if prices.frame is not None:
        check_price_invariants(prices.frame)
    headlines = attempt(lambda: load_headlines(path))
    if headlines.frame is not None:
        check_headline_invariants(headlines.frame)


_PARQUET_COLUMNS = st.one_of(
    st.lists(st.floats(), min_size=3, max_size=3),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.lists(st.one_of(st.none(), st.text(max_size=8)), min_size=3, max_size=3),
    st.lists(
        st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)),
        min_size=3,
        max_size=3,
    ),
    st.lists(
        st.datetimes(
            min_value=dt.datetime(1700, 1, 1),
            max_value=dt.datetime(2250, 1, 1),
            timezones=st.sampled_from([dt.UTC, zoneinfo.ZoneInfo("Asia/Kathmandu")]),
        ),
        min_size=3,
        max_size=3,
    ),
)


@FUZZ
@given(
    columns=st.dictionaries(
        st.sampled_from(["date", "ticker", "open", "close", "volume", "timestamp", "headline"]),
        _PARQUET_COLUMNS,
        min_size=1,
    ),
    tz=st.sampled_from(TIME_ZONES),
)
def test_typed_parquet_columns_load_or_raise_input_error(
    tmp_path: Path, columns: dict[str, list[object]], tz: str
) -> None:
    path = tmp_path / "typed.parquet"
    frame = pd.DataFrame(columns)
    try:
        frame.to_parquet(path)
    except (ValueError, TypeError, OverflowError, ImportError) as error:
        pytest.skip(f"pyarrow cannot write this frame: {error}")
    prices = attempt(lambda: load_prices(path))
    if prices.frame is not None:
        check_price_invariants(prices.frame)
    headlines = attempt(lambda: load_headlines(path, headlines_tz=tz))
    if headlines.frame is not None:
        check_headline_invariants(headlines.frame)


# ---------------------------------------------------------------- prices with a known outcome

BAD = object()
"""Marks a cell the loader must refuse."""


@st.composite
def number_cell(draw: st.DrawFn, *, positive: bool = True) -> tuple[str, float | object]:
    """A price cell and the value it means (NaN for blank, BAD for not acceptable)."""
    kind = draw(st.sampled_from(["float", "int", "sci", "padded", "blank", "bad"]))
    if kind == "float":
        value = draw(st.floats(min_value=1e-6, max_value=1e9))
        return repr(value), value
    if kind == "int":
        value = draw(st.integers(1, 10**9))
        return str(value), float(value)
    if kind == "sci":
        value = draw(st.floats(min_value=1e-6, max_value=1e9))
        text = f"{value:.6e}"
        return text, float(text)
    if kind == "padded":
        value = draw(st.integers(1, 10**6))
        return f"  {value}.5 ", value + 0.5
    if kind == "blank":
        return draw(st.sampled_from(["", "NaN", "nan", "NA", "null", "N/A", "-", " "])), math.nan
    bad = ["abc", "1,234.5", "$12", "12..5", "inf", "-inf", "1e400", "0x1A", "--3", "1 2"]
    bad += ["-1.5", "0", "0.0"] if positive else ["-1.5"]
    return draw(st.sampled_from(bad)), BAD


@st.composite
def date_cell(draw: st.DrawFn) -> tuple[str, pd.Timestamp | object]:
    kind = draw(st.sampled_from(["iso", "iso", "iso_time", "bad"]))
    if kind == "bad":
        bad = ["2015-13-01", "2015-02-30", "03/05/2015", "20150305", "", "yesterday", "2015-3-5"]
        return draw(st.sampled_from(bad)), BAD
    day = draw(st.dates(min_value=_NS_FIRST, max_value=_NS_LAST))
    text = day.isoformat()
    if kind == "iso_time":
        text += draw(st.sampled_from(["T09:30:00", " 16:00", "T00:00:00Z", "T23:59:59-05:00"]))
    return text, pd.Timestamp(day)


TICKER_TEXT = st.one_of(
    st.sampled_from(["aapl", "AAPL", " msft ", "BRK.B", "ko", "7203.T", "Ünï"]),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=5,
    ).filter(lambda t: all(len(c.upper()) == 1 for c in t)),
)
PRICE_HEADERS = {
    "date": ["date", "Date", "DATE", "Trade Date", "session"],
    "ticker": ["ticker", "Ticker", "Symbol", " stock "],
    "open": ["open", "Open"],
    "high": ["high", "High"],
    "low": ["low", "LOW"],
    "close": ["close", "Close"],
    "volume": ["volume", "Vol"],
    "adj_close": ["adj_close", "Adj Close", "adjusted-close"],
}
EXTRA_COLUMNS = ["notes", "Exchange", "currency", "isin"]
OPTIONAL_PRICES = ("high", "low", "volume", "adj_close")


@st.composite
def price_tables(draw: st.DrawFn) -> dict[str, object]:
    """A price table with its expected outcome: rows by record, and whether it must fail."""
    optional = draw(st.lists(st.sampled_from(OPTIONAL_PRICES), unique=True))
    extras = draw(st.lists(st.sampled_from(EXTRA_COLUMNS), unique=True, max_size=2))
    columns = ["date", "ticker", "open", "close", *optional]
    order = draw(st.permutations(columns + extras))
    header = [
        draw(st.sampled_from(PRICE_HEADERS[name])) if name in PRICE_HEADERS else name
        for name in order
    ]
    n_rows = draw(st.integers(1, 8))
    rows, expected = [], []
    for _ in range(n_rows):
        cells: dict[str, str] = {}
        meaning: dict[str, object] = {}
        cells["date"], meaning["date"] = draw(date_cell())
        ticker = draw(TICKER_TEXT)
        cells["ticker"] = ticker
        meaning["ticker"] = ticker.strip().upper() or BAD
        for name in ("open", "close", *optional):
            cells[name], meaning[name] = draw(number_cell(positive=name != "volume"))
        for name in extras:
            cells[name] = draw(st.text(max_size=6).filter(lambda s: "\x00" not in s))
        rows.append([cells[name] for name in order])
        expected.append(meaning)
    if draw(st.booleans()):
        copy = draw(st.integers(0, n_rows - 1))
        rows.append(list(rows[copy]))
        expected.append(dict(expected[copy]))
    return {"header": header, "rows": rows, "expected": expected, "optional": optional}


def price_refusal_expected(expected: list[dict[str, object]], optional: list[str]) -> bool:
    """The contract: any bad cell, a blank open/close, or two different rows for one key."""
    seen: dict[tuple[str, pd.Timestamp], tuple[float, ...]] = {}
    numbers = ("open", "close", *optional)
    for meaning in expected:
        if any(value is BAD for value in meaning.values()):
            return True
        if math.isnan(meaning["open"]) or math.isnan(meaning["close"]):
            return True
        key = (meaning["ticker"], meaning["date"])
        values = tuple(meaning[name] for name in numbers)
        if key in seen and not all(
            a == b or (math.isnan(a) and math.isnan(b))
            for a, b in zip(values, seen[key], strict=True)
        ):
            return True
        seen.setdefault(key, values)
    return False


def check_prices_against_model(
    frame: pd.DataFrame, expected: list[dict[str, object]], optional: list[str]
) -> None:
    firsts: dict[tuple[object, object], int] = {}
    for record, meaning in enumerate(expected, start=1):
        firsts.setdefault((meaning["ticker"], meaning["date"]), record)
    assert sorted(frame["record"]) == sorted(firsts.values()), "first of each key is kept"
    for row in frame.itertuples(index=False):
        meaning = expected[row.record - 1]
        assert row.ticker == meaning["ticker"]
        assert row.date == meaning["date"]
        for name in ("open", "close", *optional):
            got, want = getattr(row, name), meaning[name]
            assert got == want or (math.isnan(got) and math.isnan(want)), (name, got, want)
        for name in set(OPTIONAL_PRICES) - set(optional):
            assert math.isnan(getattr(row, name)), name


@FUZZ
@given(table=price_tables(), suffix=st.sampled_from(TEXT_FORMATS))
def test_price_tables_load_exactly_what_they_say_or_are_refused(
    tmp_path: Path, table: dict[str, object], suffix: str
) -> None:
    path = write_table(tmp_path / "prices", suffix, table["header"], table["rows"])
    outcome = attempt(lambda: load_prices(path))
    must_fail = price_refusal_expected(table["expected"], table["optional"])
    if must_fail:
        assert outcome.error is not None, "a bad cell or conflicting duplicate was accepted"
        assert str(path) in str(outcome.error)
        if outcome.error.row is not None:
            assert 1 <= outcome.error.row <= len(table["rows"]), str(outcome.error)
        return
    assert outcome.error is None, str(outcome.error)
    check_price_invariants(outcome.frame)
    check_prices_against_model(outcome.frame, table["expected"], table["optional"])
    duplicates = len(table["rows"]) - len(outcome.frame)
    assert bool(duplicates) == bool(outcome.warned), [str(w.message) for w in outcome.warned]


# ---------------------------------------------------------------- headlines with a known outcome


def wall_to_utc(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The documented reading of a naive wall time: repeated times take the later instant,
    times in a DST gap move forward to the first valid instant (plain-Python reference)."""
    candidates = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            candidates.append(instant)
    if candidates:
        return max(candidates)
    low = min(wall.replace(tzinfo=zone, fold=f).astimezone(dt.UTC) for f in (0, 1))
    high = max(wall.replace(tzinfo=zone, fold=f).astimezone(dt.UTC) for f in (0, 1))
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        middle = (lo + hi) // 2
        local = (low + dt.timedelta(seconds=middle)).astimezone(zone).replace(tzinfo=None)
        if local >= wall:
            hi = middle
        else:
            lo = middle + 1
    return low + dt.timedelta(seconds=lo)


OFFSETS = st.builds(
    lambda sign, hours, minutes: (sign, hours, minutes),
    st.sampled_from([1, -1]),
    st.integers(0, 14),
    st.sampled_from([0, 15, 30, 45]),
)


@st.composite
def stamp_cell(draw: st.DrawFn, zone: zoneinfo.ZoneInfo) -> tuple[str, object]:
    """A timestamp cell and its (UTC instant, date_only) meaning, or BAD."""
    kind = draw(st.sampled_from(["offset", "zulu", "naive", "date", "epoch", "utc_word", "bad"]))
    wall = draw(
        st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2037, 12, 30)).map(
            lambda d: d.replace(microsecond=0)
        )
    )
    if kind == "bad":
        bad = ["", "yesterday", "2015-13-01T10:00:00Z", "2015-02-30", "10:00", "1/2/2015", "12345"]
        return draw(st.sampled_from(bad)), BAD
    if kind == "offset":
        sign, hours, minutes = draw(OFFSETS)
        offset = dt.timedelta(hours=hours, minutes=minutes) * sign
        colon = draw(st.booleans())
        text = f"{'+' if sign > 0 else '-'}{hours:02d}{':' if colon else ''}{minutes:02d}"
        instant = wall.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)
        return wall.isoformat(sep=draw(st.sampled_from("T "))) + text, (instant, False)
    if kind == "zulu":
        return wall.isoformat() + "Z", (wall.replace(tzinfo=dt.UTC), False)
    if kind == "utc_word":
        return f"{wall:%Y-%m-%d %H:%M:%S} UTC", (wall.replace(tzinfo=dt.UTC), False)
    if kind == "epoch":
        seconds = int(wall.replace(tzinfo=dt.UTC).timestamp())
        if seconds < 10**8:
            return wall.isoformat() + "Z", (wall.replace(tzinfo=dt.UTC), False)
        return str(seconds), (wall.replace(tzinfo=dt.UTC), False)
    if kind == "date":
        midnight = dt.datetime.combine(wall.date(), dt.time())
        return wall.date().isoformat(), (wall_to_utc(midnight, zone), True)
    return wall.isoformat(sep=draw(st.sampled_from("T "))), (wall_to_utc(wall, zone), False)


HEADLINE_HEADERS = {
    "timestamp": ["timestamp", "Timestamp", "published_at", "Date Time", "created_at"],
    "ticker": ["ticker", "Tickers", "symbol"],
    "headline": ["headline", "Title", "text"],
    "source": ["source", "Publisher"],
    "url": ["url", "link"],
}
HEADLINE_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
    st.sampled_from(
        [
            "AAPL beats estimates, raises guidance",
            'He said "sell", then\r\nbought',
            "lone\rcarriage return",
            'Ünïcödé 😀 profits, "quoted"',
            "   ",
        ]
    ),
)
TICKER_CELLS = st.sampled_from(
    ["AAPL", "aapl", " MSFT ", "AAPL,MSFT", "$TSLA", "AAPL MSFT", "['AAPL', 'KO']", "", ","]
)


def split_tickers(cell: str) -> list[str]:
    """Plain-Python reading of a ticker cell (separators , ; | space, decoration $ [ ] ' ")."""
    cleaned = cell.upper()
    for mark in "$[]'\"":
        cleaned = cleaned.replace(mark, " ")
    for separator in ",;|":
        cleaned = cleaned.replace(separator, " ")
    return cleaned.split()


@st.composite
def headline_tables(draw: st.DrawFn) -> dict[str, object]:
    tz = draw(st.sampled_from(TIME_ZONES))
    zone = zoneinfo.ZoneInfo(tz)
    optional = draw(st.lists(st.sampled_from(["source", "url"]), unique=True))
    columns = ["timestamp", "ticker", "headline", *optional]
    order = draw(st.permutations([*columns, *draw(st.lists(st.just("extra"), max_size=1))]))
    header = [draw(st.sampled_from(HEADLINE_HEADERS.get(name, [name]))) for name in order]
    rows, expected = [], []
    for _ in range(draw(st.integers(1, 6))):
        cells = {
            "timestamp": None,
            "ticker": draw(TICKER_CELLS),
            "headline": draw(HEADLINE_TEXT),
            "source": draw(st.sampled_from(["", "Reuters", "Dow Jones"])),
            "url": draw(st.sampled_from(["", "https://example.com/a?b=1,2"])),
            "extra": "x",
        }
        cells["timestamp"], stamp = draw(stamp_cell(zone))
        rows.append([cells[name] for name in order])
        expected.append({**cells, "stamp": stamp})
    return {"header": header, "rows": rows, "expected": expected, "tz": tz, "optional": optional}


@FUZZ
@given(table=headline_tables(), suffix=st.sampled_from(TEXT_FORMATS))
def test_headline_tables_load_exactly_what_they_say_or_are_refused(
    tmp_path: Path, table: dict[str, object], suffix: str
) -> None:
    path = write_table(tmp_path / "headlines", suffix, table["header"], table["rows"])
    outcome = attempt(lambda: load_headlines(path, headlines_tz=table["tz"]))
    expected = table["expected"]
    must_fail = any(
        e["stamp"] is BAD or (e["headline"].strip() and not split_tickers(e["ticker"]))
        for e in expected
    )
    if must_fail:
        assert outcome.error is not None, "a bad timestamp or empty ticker was accepted"
        if outcome.error.row is not None:
            assert 1 <= outcome.error.row <= len(expected), str(outcome.error)
        return
    assert outcome.error is None, str(outcome.error)
    frame = outcome.frame
    check_headline_invariants(frame)
    want = set()
    for e in expected:
        if e["headline"].strip():
            instant, date_only = e["stamp"]
            for ticker in split_tickers(e["ticker"]):
                source = e["source"] if "source" in table["optional"] else ""
                url = e["url"] if "url" in table["optional"] else ""
                want.add((pd.Timestamp(instant), date_only, ticker, e["headline"], source, url))
    got = {
        (row.published_at, bool(row.date_only), row.ticker, row.headline, row.source, row.url)
        for row in frame.itertuples(index=False)
    }
    assert got == want, (table["tz"], got ^ want)
    for row in frame.itertuples(index=False):
        e = expected[row.record - 1]
        assert row.headline == e["headline"] and row.ticker in split_tickers(e["ticker"])


@FUZZ
@given(
    tz=st.sampled_from(TIME_ZONES),
    wall=st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2036, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
def test_naive_stamps_in_any_zone_follow_the_documented_reading(
    tmp_path: Path, tz: str, wall: dt.datetime
) -> None:
    path = tmp_path / "naive.csv"
    path.write_text(f"timestamp,ticker,headline\n{wall:%Y-%m-%d %H:%M:%S},AAA,text\n")
    frame = load_headlines(path, headlines_tz=tz)
    assert frame["published_at"].iloc[0] == pd.Timestamp(wall_to_utc(wall, zoneinfo.ZoneInfo(tz)))


@FUZZ
@given(
    name=st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            ["US/Eastern ", "america/new_york", "../etc/passwd", "UTC+5", "/", "", "America", "Etc"]
        ),
    )
)
def test_any_time_zone_name_is_accepted_or_an_input_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text("timestamp,ticker,headline\n2015-03-02 10:00,AAA,text\n")
    outcome = attempt(lambda: load_headlines(path, headlines_tz=name))
    if outcome.frame is not None:
        zoneinfo.ZoneInfo(name)


# ---------------------------------------------------------------- encodings


@FUZZ
@given(
    texts=st.lists(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), min_size=1, max_size=15),
        min_size=1,
        max_size=5,
    ),
    gzip_it=st.booleans(),
)
def test_latin1_files_load_with_replacement_characters_or_are_refused_as_binary(
    tmp_path: Path, texts: list[str], gzip_it: bool
) -> None:
    lines = ["timestamp,ticker,headline"]
    for index, text in enumerate(texts):
        cell = '"' + text.replace('"', '""') + '"'
        lines.append(f"2015-03-0{index + 2}T14:00:00Z,AAA,{cell}")
    data = ("\n".join(lines) + "\n").encode("latin-1")
    path = tmp_path / ("latin1.csv.gz" if gzip_it else "latin1.csv")
    path.write_bytes(gzip.compress(data) if gzip_it else data)
    outcome = attempt(lambda: load_headlines(path))
    if outcome.error is not None:
        assert "binary" in str(outcome.error), str(outcome.error)
        return
    decoded = data.decode("utf-8", errors="replace")
    replaced = "\ufffd" in decoded
    # A text of blanks only is dropped with its own warning; this test pins the bytes warning.
    about_bytes = [w for w in outcome.warned if "empty headline" not in str(w.message)]
    assert bool(about_bytes) == replaced, [str(w.message) for w in outcome.warned]
    wanted = [
        text.encode("latin-1").decode("utf-8", errors="replace")
        for text in texts
        if text.encode("latin-1").decode("utf-8", errors="replace").strip()
    ]
    assert sorted(outcome.frame["headline"]) == sorted(wanted)


@pytest.mark.parametrize("stamp", ["99999999999", "9223372037", "9999999999.5"])
def test_epoch_seconds_past_2262_are_refused_not_wrapped(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "epoch.csv"
    path.write_text(f"timestamp,ticker,headline\n2015-03-02T10:00:00Z,AAA,fine\n{stamp},AAA,x\n")
    outcome = attempt(lambda: load_headlines(path))
    assert outcome.error is not None and outcome.error.row == 2, outcome
    assert stamp in str(outcome.error)
