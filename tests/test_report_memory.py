"""The report a run renders from its tables in memory is the page ``backtest report RUN_DIR``
renders from the files: ``as_read_back`` gives exactly the frames ``read_run_folder`` reads,
or declines (and the file is read)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_fixtures import HOSTILE_HEADLINE, build_run_folder

from backtest.config import load_config
from backtest.report import html, run_folder
from backtest.runner import run as run_strategy

PERIOD = ("2014-10-01", "2014-12-31")
HOSTILE = ['a "quoted"\r\nline', "NA", "  spaced  ", "😀 é", "123", HOSTILE_HEADLINE]


@pytest.fixture(scope="module")
def saved_run(
    slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, object]:
    prices, headlines = slice_files
    folder = tmp_path_factory.mktemp("memory")
    frame = pd.read_csv(headlines, dtype=str, keep_default_na=False)
    extra = pd.DataFrame(
        {
            "timestamp": [f"2014-11-{10 + i}T15:00:00Z" for i in range(len(HOSTILE))],
            "ticker": ["AAPL"] * len(HOSTILE),
            "headline": HOSTILE,
        }
    )
    mixed = folder / "headlines.csv"
    run_folder.write_csv(pd.concat([frame, extra], ignore_index=True), mixed)
    config = load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{mixed}"',
            f'data.start="{PERIOD[0]}"',
            f'data.end="{PERIOD[1]}"',
        ],
    )
    result = run_strategy(config)
    return result.save(folder / "run"), result.outputs


def test_saved_report_is_the_page_rendered_from_the_folder(saved_run) -> None:
    run_dir, _ = saved_run
    written = (run_dir / "report.html").read_bytes()
    assert html.render_report(run_dir).read_bytes() == written


def test_tables_in_memory_equal_the_tables_read_back(saved_run) -> None:
    run_dir, outputs = saved_run
    from_disk = html.read_run_folder(run_dir)
    for name in html.RUN_TABLES:
        converted = html.as_read_back(getattr(outputs, name), f"{name}.csv")
        assert converted is not None, name
        # A run's categorical texts stay categorical; their cells are the texts read back.
        kept = [c for c in converted.columns if isinstance(converted[c].dtype, pd.CategoricalDtype)]
        assert set(kept) == {
            "signals": {"date", "ticker", "label"},
            "returns": {"date", "ticker"},
        }.get(name, set())
        as_text = converted.astype({c: "str" for c in kept})
        pd.testing.assert_frame_equal(as_text, getattr(from_disk, name), check_exact=True)


def test_in_memory_folder_renders_the_same_html_as_the_files(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    from_disk = html.read_run_folder(run_dir)
    tables = {
        name: pd.read_csv(run_dir / f"{name}.csv", keep_default_na=True) for name in html.RUN_TABLES
    }
    in_memory = html.in_memory_run_folder(
        run_dir,
        stats_text=(run_dir / "stats.json").read_text(encoding="utf-8"),
        config_toml=(run_dir / "config.toml").read_text(encoding="utf-8"),
        tables=tables,
    )
    assert html.render_html(in_memory) == html.render_html(from_disk)


EMPTY_TRADES = pd.DataFrame(
    {c: pd.Series([], dtype=float) for c in html.REQUIRED_COLUMNS["trades.csv"]}
)


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        (EMPTY_TRADES, "trades.csv"),
        (pd.DataFrame({"date": ["2015-01-02"], "equity": [1.0]}), "equity.csv"),
        (pd.DataFrame({"date": ["a\x00b"], "equity": [1.0], "benchmark": [1.0]}), "equity.csv"),
        (
            pd.DataFrame(
                {"date": pd.to_datetime(["2015-01-02"]), "equity": [1.0], "benchmark": [1.0]}
            ),
            "equity.csv",
        ),
        (pd.DataFrame({"date": ["d"], "equity": ["1.0"], "benchmark": [1.0]}), "equity.csv"),
        (pd.DataFrame({"date": [1], "equity": [1.0], "benchmark": [1.0]}), "equity.csv"),
        (
            pd.DataFrame({"date": ["d"], "equity": np.float32([1.5]), "benchmark": [1.0]}),
            "equity.csv",
        ),
    ],
    ids=["no rows", "missing column", "NUL", "datetime text", "text number", "int text", "float32"],
)
def test_tables_that_might_read_back_differently_are_read_from_the_file(
    frame: pd.DataFrame, name: str
) -> None:
    assert html.as_read_back(frame, name) is None


TEXT = st.one_of(
    st.text(max_size=8).filter(lambda s: "\x00" not in s),
    st.sampled_from(['"', ",", "\r", "\n", "\r\n", "", " ", "NA", "nan", "1e5", "-", "😀"]),
)
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e308, 0.1, math.nan]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.one_of(TEXT, st.none()), NUMBER, st.integers(-(2**63), 2**63 - 1)),
        min_size=1,
        max_size=8,
    ),
    extra_kind=st.sampled_from(["float", "int", "bool"]),
)
def test_any_trades_table_reads_back_as_converted(
    rows: list[tuple[str | None, float, int]],
    extra_kind: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    texts = pd.Series([r[0] for r in rows], dtype=object)
    numbers = np.array([r[1] for r in rows], dtype=float)
    integers = np.array([r[2] for r in rows], dtype=np.int64)
    frame = pd.DataFrame({c: texts for c in html.TEXT_COLUMNS["trades.csv"]})
    for column in ("entry_price", "exit_price", "size", "pnl", "return"):
        frame[column] = numbers
    frame["n_headlines"] = integers
    frame["extra"] = {"float": numbers, "int": integers, "bool": integers > 0}[extra_kind]
    folder = tmp_path_factory.mktemp("trades")
    run_folder.write_csv(frame, folder / "trades.csv")
    converted = html.as_read_back(frame, "trades.csv")
    assert converted is not None
    read = html._read_csv(folder, "trades.csv")
    pd.testing.assert_frame_equal(converted, read, check_exact=True)


def test_categorical_texts_read_back_with_missing_cells_as_empty_text() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.Categorical(["2015-01-02", None, "2015-01-05"]),
            "ticker": pd.Categorical(["A", "B", None], categories=["A", "B", ""]),
            "news": [1.0, 2.0, 3.0],
            "momentum": [0.0, 0.0, 0.0],
            "composite": [1.0, 1.0, 1.0],
            "label": pd.Categorical(["bull", "bear", "neutral"]),
            "position": [1, -1, 0],
        }
    )
    converted = html.as_read_back(frame, "signals.csv")
    assert converted is not None
    assert list(converted["date"].astype(str)) == ["2015-01-02", "", "2015-01-05"]
    assert list(converted["ticker"].astype(str)) == ["A", "B", ""]
    numbers = frame.assign(date=pd.Categorical([1, 2, 3]))
    assert html.as_read_back(numbers, "signals.csv") is None
