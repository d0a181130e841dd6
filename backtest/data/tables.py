"""Read one tabular file (CSV, CSV.GZ, TSV, Parquet, JSONL) into a frame of raw text columns.

The loaders (prices.py, headlines.py) validate and convert; this module only gets the cells out
of the file without guessing at types, and turns every way a file can be unreadable into one
``InputError`` naming the file, the record and what to do.

Formats, chosen by suffix (a trailing ``.gz`` is allowed on every text format; compression is
decided by the gzip magic bytes, so a mislabelled ``.csv`` that is really gzip still reads):

- ``.csv``, ``.txt``: comma, semicolon or tab separated, whichever of the three occurs most
  often outside quotes in the header line (ties: comma; see ``sniff_delimiter``), so European
  exports (``date;ticker;open``) read; ``.tsv``, ``.tab``: tab separated. Standard
  double-quote quoting, so quoted fields may hold delimiters, ``\\r`` and ``\\n``. Every cell
  is read as a string (nothing is silently coerced; "NA" stays "NA"); empty cells become "".
  Arrow's CSV reader runs first (3-5x faster on a million rows); if it objects to anything
  (bytes that are not UTF-8, a ragged row), pandas' C engine reads the file instead,
  tolerating bad bytes and naming the bad record.
- ``.parquet``, ``.pq``: columns keep their stored types (the loaders accept numbers, datetimes
  and strings).
- ``.jsonl``, ``.ndjson``: one JSON object per line. Values become strings like CSV cells; a
  JSON list (``"tickers": ["AAPL", "MSFT"]``) becomes its Python text form, which the headline
  loader splits; null becomes "".

Non-UTF-8 bytes in a text file are tolerated: they are decoded as U+FFFD (the replacement
character) and one ``DataWarning`` names the file and how many bytes were replaced. Real vendor
files often carry a stray Latin-1 byte in a headline; refusing the whole file for it would help
nobody. A file whose first 64 KiB contain a NUL byte or are over 25% undecodable is binary and is
refused.

Column names are normalised: stripped, lower-cased, runs of spaces, dots and hyphens become one
underscore. Then these aliases are renamed to the canonical name (unless the canonical name is
already present; among several aliases of one name the first listed wins):

- date: day, trade_date, trading_day, session, session_date
- ticker: symbol, symbols, tickers, stock, stocks
- adj_close: adjclose, adjusted_close, adj_close_price, adjusted_close_price
- volume: vol
- timestamp: published_at, published, datetime, date_time, time, created_at, publish_time,
  timestamp_utc
- headline: title, text, headline_text, tweet
- source: publisher, provider
- url: link

A file that splits its stamps into a date column and a time-of-day column (``Date,Time,...``
as many vendors export bars: ``2015-06-01`` and ``09:30``) gets one ``timestamp``, the date
and the time joined, and no ``date``. For prices the time column must vary: a time that is the
same on every row (daily exports stamped ``00:00``) is dropped and the rows stay daily.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import warnings
import zlib
from pathlib import Path

import pandas as pd

from backtest.errors import InputError

__all__ = [
    "DataWarning",
    "as_text",
    "normalise_column_name",
    "normalise_columns",
    "read_table",
    "read_table_with_delimiter",
    "sniff_delimiter",
    "table_stem",
]


class DataWarning(UserWarning):
    """Input that was tolerated but changed on load (dropped duplicates, replaced bytes...)."""


_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_BINARY_REPLACED_FRACTION = 0.25

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_SUPPORTED = "CSV (.csv, .csv.gz), TSV (.tsv), Parquet (.parquet) or JSON lines (.jsonl, .jsonl.gz)"

_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("day", "trade_date", "trading_day", "session", "session_date"),
    "ticker": ("symbol", "symbols", "tickers", "stock", "stocks"),
    "adj_close": ("adjclose", "adjusted_close", "adj_close_price", "adjusted_close_price"),
    "volume": ("vol",),
    "timestamp": (
        "published_at",
        "published",
        "datetime",
        "date_time",
        "time",
        "created_at",
        "publish_time",
        "timestamp_utc",
    ),
    "headline": ("title", "text", "headline_text", "tweet"),
    "source": ("publisher", "provider"),
    "url": ("link",),
}


def read_table(path: str | Path, *, what: str) -> pd.DataFrame:
    """Read ``path`` into a frame with normalised column names and a fresh RangeIndex.

    Row ``i`` of the frame is data record ``i + 1`` of the file (the header is not counted).
    ``what`` ("prices", "headlines") names the file's role in error messages.
    """
    return read_table_with_delimiter(path, what=what)[0]


def read_table_with_delimiter(path: str | Path, *, what: str) -> tuple[pd.DataFrame, str | None]:
    """``read_table`` and the field delimiter it used (None for Parquet and JSON lines).

    The price loader needs the delimiter: in a semicolon file a comma in a number is the
    decimal mark.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{what} file not found", file=path, hint="check the path, or leave the option out"
        )
    if not path.is_file():
        raise InputError(f"{what} path is not a file", file=path, hint="pass a file, not a folder")
    fmt = _format_of(path, what)
    head = _read_head(path, what)
    delimiter = None
    if fmt == "parquet":
        frame = _read_parquet(path, head, what)
    else:
        compression = "gzip" if head[:2] == _GZIP_MAGIC else None
        sample = _check_text_sample(path, head, compression, what)
        if fmt == "jsonl":
            frame = _read_jsonl(path, compression, what)
        else:
            delimiter = "\t" if fmt == "tsv" else sniff_delimiter(sample)
            frame = _read_delimited(path, delimiter, compression, what)
    return normalise_columns(frame, source=str(path), what=what), delimiter


def sniff_delimiter(sample: bytes) -> str:
    """The delimiter of a .csv file: whichever of comma, semicolon and tab occurs most often
    outside double quotes in its header (the first non-blank line); ties and none go to comma.

    Only these three are candidates, so a header like ``date|ticker`` stays one comma-separated
    column (and is refused for the columns it lacks, naming what was found).
    """
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = started = False
    for char in sample.decode("utf-8", errors="replace").removeprefix("\ufeff"):
        if char == '"':
            quoted = not quoted
            started = True
        elif quoted:
            continue
        elif char in "\r\n":
            if started:
                break
        elif char in counts:
            counts[char] += 1
            started = True
        elif not char.isspace():
            started = True
    return max(counts, key=lambda delimiter: counts[delimiter])


def table_stem(path: str | Path) -> str:
    """The file name without its format suffix and any ``.gz``: ``BRK-B.csv.gz`` -> ``BRK-B``."""
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix.lower() in _SUFFIX_FORMATS:
        name = name[: -len(suffix)]
    return name


def normalise_columns(frame: pd.DataFrame, *, source: str, what: str) -> pd.DataFrame:
    """``frame`` (not modified) with canonical column names and a fresh RangeIndex.

    The names are normalised and aliases renamed as for files (module docstring); two columns
    that normalise to one name are an ``InputError`` naming ``source``. Idempotent.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, not {type(frame).__name__}")
    renamed = frame.reset_index(drop=True)
    renamed.columns = _canonical_columns(list(frame.columns), source, what)
    return _joined_date_and_time(renamed, what)


_TIME_OF_DAY = r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$"


def _joined_date_and_time(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """A date column and a time-of-day ``timestamp`` column become one ``timestamp``
    (module docstring); any other frame is returned as it is."""
    if "date" not in frame.columns or "timestamp" not in frame.columns or what == "peers":
        return frame
    time = as_text(frame["timestamp"])
    filled = time[time != ""]
    if len(filled) == 0 or not filled.str.fullmatch(_TIME_OF_DAY).all():
        return frame
    if what == "prices" and filled.str.strip().nunique() == 1:
        return frame.drop(columns="timestamp")
    date = as_text(frame["date"]).str.strip().str.slice(0, 10)
    joined = (date + "T" + time.str.strip()).where((date != "") & (time != ""), "")
    return frame.drop(columns="date").assign(timestamp=joined)


def as_text(column: pd.Series) -> pd.Series:
    """The column as pandas strings with missing values as "" (for Parquet/JSON typed columns)."""
    if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(
        column.dtype
    ):
        return column.fillna("")
    missing = column.isna().to_numpy()
    text = column.astype(str)
    if missing.any():
        text = text.mask(missing, "")
    return text.astype("str")


def normalise_column_name(name: object) -> str:
    """``" Adj Close "`` -> ``"adj_close"``: strip, lower-case, spaces/dots/hyphens -> "_"."""
    text = re.sub(r"[\s.\-]+", "_", str(name).strip().lower())
    return text.strip("_")


def _format_of(path: Path, what: str) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise InputError(
            f"{what} file has an unsupported format ({''.join(path.suffixes) or 'no suffix'})",
            file=path,
            hint=f"use {_SUPPORTED}",
        )
    return fmt


def _read_head(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as error:
        raise InputError(
            f"cannot read {what} file ({error.strerror})", file=path, hint="check permissions"
        ) from None
    if not head:
        raise InputError(f"{what} file is empty", file=path, hint="export the data again")
    return head


def _check_text_sample(path: Path, head: bytes, compression: str | None, what: str) -> bytes:
    """Refuse binary files early (NUL bytes or mostly undecodable) so errors stay readable.

    Returns the first bytes of the (decompressed) text, for sniffing the delimiter.
    """
    sample = head
    if compression == "gzip":
        try:
            with gzip.open(path, "rb") as handle:
                sample = handle.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error):
            raise InputError(
                f"{what} file is not a valid gzip file", file=path, hint="compress it again"
            ) from None
        if not sample.strip():
            raise InputError(f"{what} file is empty", file=path, hint="export the data again")
    if not sample.strip():
        raise InputError(f"{what} file is empty", file=path, hint="export the data again")
    decoded = sample.decode("utf-8", errors="replace")
    replaced = decoded.count("\ufffd") - sample.count("\ufffd".encode())
    if b"\x00" in sample or replaced > _BINARY_REPLACED_FRACTION * max(len(decoded), 1):
        raise InputError(
            f"{what} file is not a text table (binary data)", file=path, hint=f"use {_SUPPORTED}"
        )
    return sample


def _read_bytes(path: Path, compression: str | None, what: str) -> bytes:
    try:
        if compression == "gzip":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error):
        raise InputError(
            f"{what} file is not a valid gzip file", file=path, hint="compress it again"
        ) from None


def _decode_replacing(path: Path, compression: str | None, what: str) -> str:
    """Decode with U+FFFD for bad bytes, warning once with the count (the rare slow path)."""
    raw = _read_bytes(path, compression, what)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - raw.count("\ufffd".encode())
    warnings.warn(
        f"{path}: {replaced} byte(s) are not UTF-8; they were replaced by U+FFFD "
        "(save the file as UTF-8 to keep them)",
        DataWarning,
        stacklevel=4,
    )
    return text


def _read_delimited(path: Path, sep: str, compression: str | None, what: str) -> pd.DataFrame:
    fast = _read_delimited_with_arrow(path, sep, compression)
    if fast is not None:
        return fast
    options = dict(sep=sep, dtype=str, keep_default_na=False, na_filter=False, engine="c")
    try:
        try:
            return pd.read_csv(path, compression=compression, encoding="utf-8-sig", **options)
        except UnicodeDecodeError:
            text = _decode_replacing(path, compression, what)
            return pd.read_csv(io.StringIO(text), **options)
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file is empty", file=path, hint="export the data again") from None
    except pd.errors.ParserError as error:
        raise _malformed(error, path, what) from None
    except (OSError, EOFError, zlib.error):
        raise InputError(
            f"{what} file is not a valid gzip file", file=path, hint="compress it again"
        ) from None


def _read_delimited_with_arrow(
    path: Path, sep: str, compression: str | None
) -> pd.DataFrame | None:
    """Arrow's multi-threaded reader, 3-5x faster than the C engine, every column as text.

    Any trouble (bytes that are not UTF-8, ragged rows, odd headers) returns None, and the C
    engine, which tolerates bad bytes and locates bad rows, reads the file instead.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        header = pd.read_csv(
            path, sep=sep, compression=compression, nrows=0, encoding="utf-8-sig", engine="c"
        ).columns
        names = [str(name) for name in header]
        stream = pa.input_stream(str(path), compression=compression)
        table = pa_csv.read_csv(
            stream,
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError, OSError, EOFError, zlib.error):
        return None
    if table.column_names != names or any(t != pa.string() for t in table.schema.types):
        return None
    return table.to_pandas()


def _malformed(error: Exception, path: Path, what: str) -> InputError:
    """Turn the C parser's message into a record number (its 'line' counts the header as 1)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable row"
    row = None
    if match := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = (int(g) for g in match.groups())
        row = line - 1
        detail = f"has {saw} fields where the header has {expected}"
    elif match := re.search(r"EOF inside string starting at row (\d+)", message):
        row = int(match.group(1))
        detail = "opens a quoted field that never closes"
    else:
        detail = f"cannot be parsed ({message.removeprefix('Error tokenizing data. C error: ')})"
    return InputError(
        f"malformed {what} row: it {detail}",
        file=path,
        row=row,
        hint="quote fields that contain commas or line breaks with double quotes",
    )


def _read_jsonl(path: Path, compression: str | None, what: str) -> pd.DataFrame:
    options = dict(lines=True, dtype=False, convert_axes=False)
    try:
        with warnings.catch_warnings():
            # pandas warns (and will raise) on ragged JSON arrays: a malformed record here.
            warnings.simplefilter("error", FutureWarning)
            warnings.simplefilter("error", DeprecationWarning)
            try:
                frame = pd.read_json(path, compression=compression, encoding="utf-8", **options)
            except UnicodeDecodeError:
                text = _decode_replacing(path, compression, what)
                frame = pd.read_json(io.StringIO(text), **options)
    except (ValueError, TypeError, FutureWarning, DeprecationWarning):
        # TypeError: pandas cannot build a frame from null, numbers or arrays mixed with objects.
        raise _bad_json_line(path, compression, what) from None
    if any(not isinstance(name, str) for name in frame.columns):
        # Records that are JSON arrays or scalars, not objects: pandas numbers the columns.
        raise _bad_json_line(path, compression, what)
    if frame.empty and len(frame.columns) == 0:
        raise InputError(f"{what} file is empty", file=path, hint="export the data again")
    return pd.DataFrame({name: as_text(frame[name]) for name in frame.columns})


def _bad_json_line(path: Path, compression: str | None, what: str) -> InputError:
    """Find the first record that is not a JSON object (only runs once the fast path failed)."""
    text = _read_bytes(path, compression, what).decode("utf-8", errors="replace")
    record = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        record += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            return InputError(
                f"malformed {what} record: not valid JSON ({error.msg})",
                file=path,
                row=record,
                hint="write one JSON object per line",
            )
        if not isinstance(value, dict):
            return InputError(
                f"malformed {what} record: expected a JSON object, got {type(value).__name__}",
                file=path,
                row=record,
                hint="write one JSON object per line",
            )
    return InputError(
        f"{what} file is not valid JSON lines", file=path, hint="write one JSON object per line"
    )


def _read_parquet(path: Path, head: bytes, what: str) -> pd.DataFrame:
    if head[:4] != _PARQUET_MAGIC:
        raise InputError(f"{what} file is not a Parquet file", file=path, hint=f"use {_SUPPORTED}")
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for damaged files
        raise InputError(
            f"cannot read {what} Parquet file ({type(error).__name__}: {error})",
            file=path,
            hint="write the file again",
        ) from None


def _canonical_columns(columns: list[object], source: str, what: str) -> list[str]:
    names = [normalise_column_name(c) for c in columns]
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            first = columns[seen[name]]
            raise InputError(
                f"{what} file has two columns named '{name}' ({str(first)!r} and "
                f"{str(columns[position])!r})",
                file=source,
                column=name,
                hint="rename or remove one of them",
            )
        seen[name] = position
    present = set(names)
    renames: dict[str, str] = {}
    for canonical, aliases in _ALIASES.items():
        if canonical in present:
            continue
        for alias in aliases:
            if alias in present and alias not in renames:
                renames[alias] = canonical
                present.add(canonical)
                break
    return [renames.get(name, name) for name in names]
