"""The run folder's CSV format, written column-wise: the same bytes as pandas' ``to_csv``.

The contract (RUNFOLDER): ``DataFrame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC,
lineterminator="\\n")`` in UTF-8. Under that quoting the standard library's csv writer, which
pandas drives row by row, writes

- every column name and every text value in double quotes, a ``"`` inside doubled;
- a missing value (NaN, None, NaT) as ``""`` (pandas' ``na_rep`` is the empty *string*);
- a float64 as ``repr(float)`` (``0.1``, ``1e-05``, ``inf``), an integer as ``str(int)``,
  a bool as ``True`` / ``False``, all unquoted;
- ``,`` between fields and ``\\n`` after every row, the header included.

``frame_csv_bytes`` builds the same bytes per column instead of per field: text columns are
quoted by pyarrow's C++ string kernels, floats formatted as ``repr`` would (``_float_reprs``),
integers by ``repr`` in one ``map`` each, and the rows joined by pyarrow. For the default run
that is ~0.1 s instead of ~0.6 s (headlines.csv is 23 MB); a categorical column of texts
quotes each category once and takes them by its codes. Frames it does not know how to
write exactly (other dtypes, non-str objects in a text column, non-str column names, a
MultiIndex, text pyarrow refuses such as lone surrogates) raise ``Unsupported`` and the caller
writes them with pandas. ``tests/test_report_csv.py`` compares both writers byte for byte on
random frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

CHUNK_ROWS = 20_000
"""Rows formatted at once: small enough that the buffers of one chunk are reused by the next
(fresh memory costs page faults), large enough that per-call overheads vanish."""


class Unsupported(Exception):
    """This frame (or one of its values) is not one the column-wise writer reproduces."""


def frame_csv_chunks(frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> Iterator[Any]:
    """The UTF-8 bytes of ``frame.to_csv(index=False, quoting=QUOTE_NONNUMERIC,
    lineterminator="\\n")``, header first, then ``chunk_rows`` rows at a time.

    Raises ``Unsupported`` before yielding anything when a column's dtype or name is not
    supported; a value found unsupported later (a lone surrogate) raises it mid-way, so a
    caller writing the chunks must be ready to start over (``write_frame_csv``).
    """
    import pyarrow as pa

    columns = frame.columns
    if isinstance(columns, pd.MultiIndex) or not all(isinstance(c, str) for c in columns):
        raise Unsupported("column names must be plain strings")
    if columns.has_duplicates or len(columns) == 0:
        raise Unsupported("duplicate or no columns")
    kinds = [_column_kind(frame.iloc[:, i]) for i in range(len(columns))]
    try:
        quoted = {
            i: _quoted_categories(frame.iloc[:, i])
            for i, kind in enumerate(kinds)
            if kind == "category"
        }
        yield (",".join(_quote_text(c) for c in columns) + "\n").encode("utf-8")
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start : start + chunk_rows]
            cells = [
                _taken_categories(part.iloc[:, i], quoted[i])
                if kind == "category"
                else _format_column(part.iloc[:, i], kind)
                for i, kind in enumerate(kinds)
            ]
            yield _join_rows(cells)
    except (pa.ArrowException, UnicodeError) as exc:
        raise Unsupported(str(exc)) from exc


def write_frame_csv(frame: pd.DataFrame, path: Any) -> bool:
    """Write ``frame`` to ``path`` column-wise; False (nothing left behind but an empty or
    partial file the caller overwrites) when ``frame_csv_chunks`` does not support it."""
    try:
        with open(path, "wb") as out:
            for chunk in frame_csv_chunks(frame):
                out.write(chunk)
    except Unsupported:
        return False
    return True


def _quote_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _text(value: str) -> Any:
    import pyarrow as pa

    return pa.scalar(value, type=pa.large_string())


def _column_kind(column: pd.Series) -> str:
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        if isinstance(categories.dtype, pd.StringDtype) or (
            categories.dtype == object
            and pd.api.types.infer_dtype(categories, skipna=False) in ("string", "empty")
        ):
            return "category"
        raise Unsupported(f"column {column.name!r} has categories of dtype {categories.dtype}")
    if isinstance(dtype, np.dtype):
        if dtype == np.float64:
            return "float"
        if dtype.kind in "iu":
            return "int"
        if dtype.kind == "b":
            return "bool"
        if dtype.kind == "O":
            inferred = pd.api.types.infer_dtype(column, skipna=True)
            if inferred in ("string", "empty"):
                return "text"
    raise Unsupported(f"column {column.name!r} has dtype {dtype}")


def _format_column(column: pd.Series, kind: str) -> Any:
    """One column's cells as CSV text: a pyarrow string array without nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "text":
        values = column.array if isinstance(column.dtype, pd.StringDtype) else column.to_numpy()
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        # A missing value and an empty text both read '""': fill, then quote every cell.
        escaped = _double_quotes(pc.fill_null(array, _text("")))
        return pc.binary_join_element_wise(_text('"'), escaped, _text('"'), _text(""))
    values = column.to_numpy()
    if kind == "float":
        return _float_texts(values)
    if kind == "int":
        return pa.array(list(map(int.__repr__, values.tolist())), type=pa.large_string())
    return pa.array(np.where(values, "True", "False").tolist(), type=pa.large_string())


def _quoted_categories(column: pd.Series) -> Any:
    """A categorical column's cells as CSV text, one per category, then '""' (missing)."""
    texts = pd.Series(column.cat.categories, dtype=object).tolist() + [None]
    return _format_column(pd.Series(texts, dtype="str"), "text")


def _taken_categories(column: pd.Series, quoted: Any) -> Any:
    """A categorical column's cells: ``_quoted_categories`` taken by its codes."""
    import pyarrow as pa

    codes = column.cat.codes.to_numpy()
    return quoted.take(pa.array(np.where(codes < 0, len(quoted) - 1, codes)))


def _float_texts(values: np.ndarray) -> Any:
    """repr of each float64 ('""' for NaN) as a large_string array.

    repr costs ~0.5 us a value (most of a large run's CSV writing); columns with many repeats
    (headline scores: ~800 distinct values in 95k) format each distinct bit pattern once (bits,
    so 0.0 and -0.0 stay apart).
    """
    import pyarrow as pa

    bits = values.view(np.int64)
    sample = bits[:: max(1, len(bits) // 2048)]
    if len(np.unique(sample)) * 2 <= len(sample):  # repeats (a sample says): sort them once
        distinct, inverse = np.unique(bits, return_inverse=True)
        if len(distinct) * 2 <= len(bits):
            return _float_reprs(distinct.view(np.float64)).take(pa.array(inverse))
    return _float_reprs(values)


def _float_reprs(values: np.ndarray) -> Any:
    """repr of each float64 ('""' for NaN): pyarrow's shortest round-trip text where it is
    repr's too (positional, a '.' in it: 1e-4 <= |x| < 1e16, not whole), repr elsewhere.
    Both print the shortest digits that read back as the value; pyarrow's cast costs ~0.25
    us a value, repr and the Python strings ~1 us."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pc.cast(pa.array(values, type=pa.float64()), pa.large_string())
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        same = (magnitude >= 1e-4) & (magnitude < 1e16)
    same &= pc.match_substring(texts, ".").to_numpy(zero_copy_only=False)
    same &= ~pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    redo = np.flatnonzero(~same)
    if len(redo) == 0:
        return texts
    fixed = [repr(v) if v == v else '""' for v in values[redo].tolist()]
    return pc.replace_with_mask(texts, ~same, pa.array(fixed, type=pa.large_string()))


def _double_quotes(array: Any) -> Any:
    """Every '"' of a (null-free) large_string array doubled, as one bytes pass over its
    data buffer; the offsets move by the number of quotes before each."""
    import pyarrow as pa

    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    if data_buffer is None or len(array) == 0:
        return array
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    quotes = np.flatnonzero(data == 34)
    if len(quotes) == 0:
        return array
    before = np.searchsorted(quotes, offsets - offsets[0], side="left")
    doubled = data.tobytes().replace(b'"', b'""')
    new_offsets = (offsets - offsets[0]) + before
    return pa.LargeStringArray.from_buffers(
        len(array), pa.py_buffer(new_offsets), pa.py_buffer(doubled)
    )


def _join_rows(cells: list[Any]) -> Any:
    """Fields joined by ',' and each row ended by '\\n': one UTF-8 buffer (a pyarrow Buffer)."""
    import pyarrow.compute as pc

    ended = pc.binary_join_element_wise(cells[-1], _text("\n"), _text(""))
    rows = pc.binary_join_element_wise(*cells[:-1], ended, _text(","))
    if len(rows) == 0:
        return b""
    _, offsets, data = rows.buffers()
    first, last = np.frombuffer(offsets, dtype=np.int64)[[rows.offset, rows.offset + len(rows)]]
    return data.slice(int(first), int(last - first))
