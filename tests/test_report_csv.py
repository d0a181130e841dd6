"""The run folder's CSV writer writes exactly the bytes pandas' to_csv (QUOTE_NONNUMERIC) does.

``report/csv_writer.py`` formats whole columns instead of fields; these tests hold it to the
pandas writer byte for byte on random frames (text with quotes, line breaks, NUL and emoji,
missing values, floats of every magnitude, integers, bools), on chunk boundaries, and check
that frames it does not handle still reach the same bytes through ``run_folder.write_csv``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.report import csv_writer, run_folder


def pandas_bytes(frame: pd.DataFrame) -> bytes:
    """The contract: what pandas writes (run_folder.write_csv before the column-wise writer)."""
    return frame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").encode(
        "utf-8"
    )


def fast_bytes(frame: pd.DataFrame, chunk_rows: int = csv_writer.CHUNK_ROWS) -> bytes:
    return b"".join(bytes(c) for c in csv_writer.frame_csv_chunks(frame, chunk_rows))


TEXT = st.one_of(
    st.text(max_size=10),
    st.sampled_from(['"', '""', '"a"', ",", "\r", "\n", "\r\n", "\x00", "", " ", "NA", "😀", "é"]),
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-4, 9.999e-5, 1e16, 9999999999999998.0, 5e-324, 0.1, 1e22]),
)
MISSING_TEXT = st.one_of(TEXT, st.none(), st.just(math.nan))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    kinds = draw(
        st.lists(
            st.sampled_from(
                ["str", "object", "float", "int", "uint8", "bool", "category", "object category"]
            ),
            min_size=1,
            max_size=5,
        )
    )
    names = draw(st.lists(TEXT, min_size=len(kinds), max_size=len(kinds), unique=True))
    data = {}
    for name, kind in zip(names, kinds, strict=True):
        if kind == "str":
            values = draw(st.lists(st.one_of(TEXT, st.none()), min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype="str")
        elif kind == "object":
            values = draw(st.lists(MISSING_TEXT, min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype=object)
        elif kind in ("category", "object category"):
            # Texts with repeats and missing cells, unused and unsorted categories too.
            pool = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
            values = draw(
                st.lists(st.one_of(st.sampled_from(pool), st.none()), min_size=n, max_size=n)
            )
            categories = pd.Index(pool, dtype="str" if kind == "category" else object)
            data[name] = pd.Categorical(values, categories=categories)
        elif kind == "float":
            data[name] = np.array(draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype=float)
        elif kind == "int":
            values = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
            data[name] = np.array(values, dtype=np.int64)
        elif kind == "uint8":
            values = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
            data[name] = np.array(values, dtype=np.uint8)
        else:
            data[name] = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return pd.DataFrame(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), chunk_rows=st.sampled_from([1, 2, 5, csv_writer.CHUNK_ROWS]))
def test_column_wise_writer_matches_pandas_byte_for_byte(
    frame: pd.DataFrame, chunk_rows: int
) -> None:
    assert fast_bytes(frame, chunk_rows) == pandas_bytes(frame)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(FLOATS, min_size=1, max_size=50))
def test_floats_are_written_as_python_repr(values: list[float]) -> None:
    frame = pd.DataFrame({"x": np.array(values, dtype=float)})
    assert fast_bytes(frame) == pandas_bytes(frame)


def test_quotes_in_a_sliced_column_are_doubled_at_the_right_rows() -> None:
    frame = pd.DataFrame(
        {"t": pd.Series(['a"b', "", None, '"', 'x""y', "plain"] * 7, dtype="str"), "n": range(42)}
    )
    for chunk_rows in (1, 4, 5, 100):
        assert fast_bytes(frame.iloc[3:], chunk_rows) == pandas_bytes(frame.iloc[3:])


UNSUPPORTED = {
    "datetime": pd.DataFrame({"d": pd.to_datetime(["2015-01-02", None])}),
    "float32": pd.DataFrame({"x": np.array([8.57, 0.1], dtype=np.float32)}),
    "mixed object": pd.DataFrame({"x": pd.Series(["a", 1, 2.5, b"b"], dtype=object)}),
    "bytes object": pd.DataFrame({"x": pd.Series([b"a", b"b"], dtype=object)}),
    "nullable int": pd.DataFrame({"x": pd.array([1, None], dtype="Int64")}),
    "numeric category": pd.DataFrame({"x": pd.Categorical([1.5, 2.0, 1.5])}),
    "int column name": pd.DataFrame({0: [1.0, 2.0]}),
    "duplicate names": pd.DataFrame([[1, 2]], columns=["a", "a"]),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_frames_it_does_not_reproduce_are_refused_and_written_by_pandas(
    name: str, tmp_path: Path
) -> None:
    frame = UNSUPPORTED[name]
    with pytest.raises(csv_writer.Unsupported):
        fast_bytes(frame)
    run_folder.write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == pandas_bytes(frame)


def test_lone_surrogates_fail_as_pandas_fails(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t": pd.Series(["ok", "bad \ud800 text"], dtype=object)})
    with pytest.raises(csv_writer.Unsupported):
        fast_bytes(frame)
    with pytest.raises(UnicodeEncodeError):
        frame.to_csv(tmp_path / "pandas.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    with pytest.raises(UnicodeEncodeError):
        run_folder.write_csv(frame, tmp_path / "t.csv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_write_csv_writes_the_pandas_bytes(
    frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    run_folder.write_csv(frame, path)
    assert path.read_bytes() == pandas_bytes(frame)


def test_repeated_floats_keep_their_own_repr() -> None:
    values = np.array([0.0, -0.0, math.nan, 0.1, 1e-05, -math.inf, 0.30000000000000004] * 50)
    nan_bits = np.array([0x7FF8000000000001, 0xFFF8000000000000], dtype=np.uint64).view(float)
    frame = pd.DataFrame({"x": np.concatenate([values, nan_bits])})
    assert fast_bytes(frame) == pandas_bytes(frame)


def test_floats_of_every_magnitude_and_the_format_boundaries_are_repr() -> None:
    """pyarrow's text is used only where it is repr's: checked on both sides of 1e-4 and
    1e16 (where repr switches to exponents), whole numbers, and a million random values."""
    rng = np.random.default_rng(7)
    edges = np.array([1e-4, 1e-5, 1e15, 1e16, 9999999999999998.0, 0.5, 2.0, 123456789.0])
    edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf)])
    values = np.concatenate(
        [
            edges,
            -edges,
            10.0 ** rng.uniform(-8, 20, 400_000) * rng.choice([-1.0, 1.0], 400_000),
            rng.normal(0, 5e-4, 400_000),
            np.round(rng.uniform(0, 1e6, 200_000), 2),
            rng.integers(-(10**6), 10**6, 200_000) / 8.0,
        ]
    )
    texts = csv_writer._float_texts(values).to_pylist()
    assert texts == [repr(v) for v in values.tolist()]
