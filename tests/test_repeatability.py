"""Same inputs, same numbers: two runs give byte-identical CSVs and a stats.json that differs only
in the named volatile fields; every CSV the product writes reads back to the frame it wrote.

Volatile stats.json fields: ``backtest.outputs.VOLATILE_STATS_FIELDS`` (when the run
started, how long its stages took) and ``command``, which records how this run was invoked: it
differs exactly where the invocation differs (here only the ``--out`` folder), so the test pins
that it is the same command line apart from that argument.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.config import load_config
from backtest.outputs import VOLATILE_STATS_FIELDS
from backtest.report import run_folder
from backtest.report.html import TEXT_COLUMNS, read_run_folder
from backtest.runner import run as run_strategy

RUN_CSVS = ("equity.csv", "trades.csv", "signals.csv", "headlines.csv", "returns.csv")
PERIOD = ("2014-09-01", "2015-06-30")
HOSTILE_TEXTS = (
    "KO shares plunge after probe,\r then recover",
    'JPM says "record profit"\nanalysts cheer',
    "XOM 😀 beats estimates; café résumé naïve",
    '""',
    "NA",
    "123",
    "  leading and trailing spaces  ",
    "a\r\n\r\nb",
    ",,,",
)


@pytest.fixture(scope="module")
def two_runs(
    slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    prices, headlines = slice_files
    base = tmp_path_factory.mktemp("repeat")
    folders = []
    for name in ("first", "second"):
        out = base / name
        result = run_cli(
            "run", "--prices", str(prices), "--headlines", str(headlines),
            "--start", PERIOD[0], "--end", PERIOD[1], "--out", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        folders.append(out)
    return folders[0], folders[1]


@pytest.mark.parametrize("name", [*RUN_CSVS, "config.toml"])
def test_two_runs_write_byte_identical_files(two_runs: tuple[Path, Path], name: str) -> None:
    first, second = (folder / name for folder in two_runs)
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_size > 0


def test_two_runs_differ_only_in_the_volatile_stats_fields(two_runs: tuple[Path, Path]) -> None:
    first, second = (json.loads((f / "stats.json").read_text()) for f in two_runs)
    assert set(VOLATILE_STATS_FIELDS) <= set(first)
    commands = [stats.pop("command") for stats in (first, second)]
    for stats in (first, second):
        for field in VOLATILE_STATS_FIELDS:
            stats.pop(field, None)
    assert first == second
    without_out = []
    for command, folder in zip(commands, two_runs, strict=True):
        words = shlex.split(command)
        at = words.index("--out")
        assert Path(words[at + 1]).resolve() == folder.resolve()
        without_out.append(words[:at] + words[at + 2 :])
    assert without_out[0] == without_out[1], "command differs only in --out"


def test_stats_json_is_strict_json_with_no_nan(two_runs: tuple[Path, Path]) -> None:
    text = (two_runs[0] / "stats.json").read_text()

    def refuse(constant: str) -> None:
        raise AssertionError(f"stats.json holds {constant}")

    json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------- CSV round trips


def assert_same_frame(read: pd.DataFrame, written: pd.DataFrame, name: str) -> None:
    assert list(read.columns) == list(written.columns), name
    assert len(read) == len(written), name
    for column in written.columns:
        want, got = written[column], read[column]
        if column in TEXT_COLUMNS.get(name, ()) or not pd.api.types.is_numeric_dtype(want.dtype):
            expected = want.astype(object).where(want.notna(), "").astype(str)
            assert got.astype(str).tolist() == expected.tolist(), (name, column)
        else:
            np.testing.assert_array_equal(
                got.to_numpy(np.float64), want.to_numpy(np.float64), err_msg=f"{name} {column}"
            )


@pytest.fixture(scope="module")
def hostile_run(
    slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, pd.DataFrame]]:
    """A run on the slice plus headlines with line breaks, quotes, commas and emoji, recording
    every frame handed to write_csv."""
    prices, headlines = slice_files
    folder = tmp_path_factory.mktemp("hostile")
    frame = pd.read_csv(headlines, dtype=str, keep_default_na=False)
    extra = pd.DataFrame(
        {
            "timestamp": [
                f"2015-0{1 + i % 5}-1{i % 9}T15:00:00Z" for i in range(len(HOSTILE_TEXTS))
            ],
            "ticker": ["KO", "JPM", "XOM", "AAPL", "KO", "JPM", "XOM", "AAPL", "KO"],
            "headline": list(HOSTILE_TEXTS),
        }
    )
    mixed = pd.concat([frame, extra], ignore_index=True)
    mixed_path = folder / "headlines.csv"
    run_folder.write_csv(mixed, mixed_path)
    config = load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{mixed_path}"',
            f'data.start="{PERIOD[0]}"',
            f'data.end="{PERIOD[1]}"',
        ],
    )
    written: dict[str, pd.DataFrame] = {}
    real_write_csv = run_folder.write_csv

    def recording_write_csv(table: pd.DataFrame, path: Path) -> None:
        written[path.name] = table.copy()
        real_write_csv(table, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_folder, "write_csv", recording_write_csv)
        run_dir = run_strategy(config).save(folder / "run")
    return run_dir, written


def test_every_csv_reads_back_to_the_frame_written(
    hostile_run: tuple[Path, dict[str, pd.DataFrame]],
) -> None:
    run_dir, written = hostile_run
    assert set(written) == set(RUN_CSVS)
    folder = read_run_folder(run_dir)
    for name in RUN_CSVS:
        read = getattr(folder, name.removesuffix(".csv"))
        assert_same_frame(read, written[name], name)


def test_hostile_headline_texts_survive_verbatim(
    hostile_run: tuple[Path, dict[str, pd.DataFrame]],
) -> None:
    run_dir, _ = hostile_run
    headlines = read_run_folder(run_dir).headlines
    kept = set(headlines["headline"])
    for text in HOSTILE_TEXTS:
        assert text in kept, repr(text)


CELL_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\r", "\n", "\r\n", '"', '""', ",", "NA", "nan", "None", "1e5", " ", "😀"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            CELL_TEXT,
            st.floats(allow_infinity=True),
            st.integers(-(2**53), 2**53),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_write_csv_round_trips_any_text_and_float(
    rows: list[tuple[str, float, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    frame = pd.DataFrame(rows, columns=["headline", "score", "n"])
    frame["headline"] = frame["headline"].astype("str")
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    run_folder.write_csv(frame, path)
    read = pd.read_csv(
        path, keep_default_na=False, na_values=[""], dtype={"headline": str}, encoding="utf-8"
    )
    read["headline"] = read["headline"].fillna("")
    assert read["headline"].tolist() == frame["headline"].tolist()
    np.testing.assert_array_equal(read["score"].to_numpy(np.float64), frame["score"].to_numpy())
    assert read["n"].tolist() == frame["n"].tolist()
