"""Sweeps: one set equals ``backtest run``, chunks never change numbers, grids fail clearly.

The run-equality tests compare against ``backtest.run`` (the engine's own path), the figure
tests against ``stats.compute_stats`` and the label tests against ``signals.compute_signals``,
so every shortcut the sweep takes is pinned to the code it replaces.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SLICE_END, SLICE_START, SLICE_TICKERS, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.analytics.stats import compute_stats, sharpe_ratio
from backtest.config import StrategyConfig, load_config
from backtest.errors import InputError
from backtest.runner import run as run_strategy
from backtest.sweeps import (
    FIGURE_COLUMNS,
    SweepData,
    chunk_bounds,
    default_chunk_size,
    expand_grid,
    parse_grid,
    prepare_sweep,
    run_sweep,
    set_figures,
    set_labels,
)

RUN_FIGURES = ("total_return", "sharpe", "max_drawdown", "trades", "sortino", "hit_rate")


@pytest.fixture(scope="module")
def base_config(slice_files: tuple[Path, Path]) -> StrategyConfig:
    prices, headlines = slice_files
    return load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{headlines}"',
            f'data.tickers="{",".join(SLICE_TICKERS)}"',
            f'data.start="{SLICE_START}"',
            f'data.end="{SLICE_END}"',
        ],
    )


@pytest.fixture(scope="module")
def mixed_data(base_config: StrategyConfig) -> SweepData:
    """Six sets that differ in placement (at), kernels (half-life, threshold) and costs."""
    grid = parse_grid(
        [
            "execution.at=open,close",
            "signal.half_life=1.5,4",
            "signal.bull_above=55,65",
            "execution.fees=0.0005,0.002",
        ]
    )
    return prepare_sweep(base_config, grid)


@pytest.fixture(scope="module")
def mixed_serial(mixed_data: SweepData):
    return run_sweep(mixed_data)


# One set == backtest run --------------------------------------------------------------------


@pytest.mark.parametrize(
    "grid",
    [
        ["signal.half_life=3"],
        ["execution.at=close", "execution.short=false", "signal.bear_below=45"],
        ["signal.spillover=0.7", "signal.comention_window=20", "signal.comention_min=2"],
        ["execution.hold=4"],
    ],
)
def test_one_set_sweep_equals_backtest_run(
    base_config: StrategyConfig, grid: list[str], tmp_path: Path
) -> None:
    result = run_sweep(prepare_sweep(base_config, parse_grid(grid)))
    run = run_strategy(base_config.with_overrides(grid))
    run.save(tmp_path / "run")
    strategy, benchmark = run.summary["stats"]["strategy"], run.summary["stats"]["benchmark"]
    row = result.table.iloc[0]
    assert len(result.table) == 1
    for name in RUN_FIGURES:
        assert row[name] == pytest.approx(strategy[name], rel=1e-9, abs=1e-9), name
    assert row["benchmark_sharpe"] == pytest.approx(benchmark["sharpe"], rel=1e-12)
    assert result.benchmark["total_return"] == pytest.approx(benchmark["total_return"], rel=1e-12)
    equity = pd.read_csv(tmp_path / "run" / "equity.csv")
    assert list(result.dates.strftime("%Y-%m-%d")) == list(equity["date"])
    assert result.returns.shape == (len(equity), 1)
    assert sharpe_ratio(result.returns[:, 0]) == pytest.approx(row["sharpe"], rel=1e-12)


# Chunks and sets -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_chunk_boundaries_do_not_change_numbers(
    mixed_data: SweepData, mixed_serial, chunk_size: int
) -> None:
    chunked = run_sweep(mixed_data, chunk_size=chunk_size)
    assert mixed_serial.n_chunks == 1 and chunked.n_chunks == math.ceil(16 / chunk_size)
    pd.testing.assert_frame_equal(chunked.table, mixed_serial.table, check_exact=True)
    np.testing.assert_array_equal(chunked.returns, mixed_serial.returns)


def test_each_set_alone_equals_its_row_in_the_joint_sweep(
    base_config: StrategyConfig, mixed_data: SweepData, mixed_serial
) -> None:
    keys = list(mixed_data.grid)
    for set_number in (0, 5, 10, 15):
        values = mixed_data.expansion.values[set_number]
        alone_grid = {k: [v] for k, v in zip(keys, values, strict=True)}
        alone = run_sweep(prepare_sweep(base_config, alone_grid))
        pd.testing.assert_frame_equal(
            alone.table.reset_index(drop=True),
            mixed_serial.table.iloc[[set_number]].reset_index(drop=True),
            check_exact=True,
        )
        np.testing.assert_array_equal(alone.returns[:, 0], mixed_serial.returns[:, set_number])


def test_table_lists_sets_in_grid_product_order(mixed_data: SweepData, mixed_serial) -> None:
    table = mixed_serial.table
    assert list(table.columns[:4]) == [
        "execution.at",
        "signal.half_life",
        "signal.bull_above",
        "execution.fees",
    ]
    assert list(table.columns[4 : 4 + len(FIGURE_COLUMNS)]) == list(FIGURE_COLUMNS)
    assert list(table["execution.at"]) == ["open"] * 8 + ["close"] * 8
    assert list(table["execution.fees"]) == [0.0005, 0.002] * 8
    # Higher fees on the same signals never help.
    cheap, dear = table.iloc[0::2], table.iloc[1::2]
    assert (dear["total_return"].to_numpy() < cheap["total_return"].to_numpy()).all()
    assert (dear["trades"].to_numpy() == cheap["trades"].to_numpy()).all()


def test_benchmark_follows_each_sets_execution(mixed_serial) -> None:
    table = mixed_serial.table
    by_key = table.groupby(["execution.at", "execution.fees"])["benchmark_total_return"]
    assert (by_key.nunique() == 1).all()
    assert by_key.first().nunique() == 4


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    half_life=st.floats(0.3, 20),
    scale=st.floats(0.05, 3),
    lookback=st.integers(2, 40),
    news_weight=st.floats(0, 1),
    bull=st.floats(50, 80),
    gap=st.floats(0.5, 30),
    normalise=st.sampled_from(["sqrt_count", "none"]),
    at=st.sampled_from(["open", "close"]),
)
def test_cached_labels_equal_compute_signals(
    mixed_data: SweepData,
    half_life: float,
    scale: float,
    lookback: int,
    news_weight: float,
    bull: float,
    gap: float,
    normalise: str,
    at: str,
) -> None:
    from backtest.signals import compute_signals

    config = mixed_data.config.with_overrides(
        [
            f"signal.half_life={half_life!r}",
            f"signal.news_scale={scale!r}",
            f"signal.momentum_lookback={lookback}",
            f"signal.news_weight={news_weight!r}",
            f"signal.momentum_weight={1 - news_weight + 0.01!r}",
            f"signal.bull_above={bull!r}",
            f"signal.bear_below={bull - gap!r}",
            f'signal.news_normalise="{normalise}"',
            f'execution.at="{at}"',
        ]
    )
    expected = compute_signals(
        mixed_data.panel,
        mixed_data.placed_for(config),
        config.signal,
        config.execution,
        config.news,
    ).labels
    cache: dict = {}
    set_labels(mixed_data, config.with_overrides(["signal.bull_above=99"]), cache)
    np.testing.assert_array_equal(set_labels(mixed_data, config, cache), expected)


# Figures -------------------------------------------------------------------------------------


@st.composite
def runs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, float]:
    n_sessions = draw(st.integers(1, 40))
    n_tickers = draw(st.integers(1, 4))
    steps = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(-0.2, 0.2)),
            min_size=n_sessions,
            max_size=n_sessions,
        )
    )
    cash = draw(st.sampled_from([1000.0, 100_000.0]))
    equity = cash * np.cumprod(1 + np.array(steps))
    positions = np.array(
        draw(
            st.lists(
                st.sampled_from([-1, 0, 1]),
                min_size=n_sessions * n_tickers,
                max_size=n_sessions * n_tickers,
            )
        ),
        dtype=np.int8,
    ).reshape(n_sessions, n_tickers)
    n_trades = draw(st.integers(0, 8))
    entries = [draw(st.integers(0, n_sessions - 1)) for _ in range(n_trades)]
    held = [draw(st.integers(0, n_sessions - 1 - e)) for e in entries]
    pnl = [draw(st.one_of(st.just(0.0), st.floats(-50, 50))) for _ in range(n_trades)]
    closed = [draw(st.booleans()) for _ in range(n_trades)]
    dates = pd.bdate_range("2020-01-01", periods=n_sessions)
    trades = pd.DataFrame(
        {
            "status": ["closed" if c else "open" for c in closed],
            "pnl": pnl,
            "entry_time": dates[entries],
            "exit_time": dates[np.array(entries, dtype=int) + np.array(held, dtype=int)],
        }
    )
    return equity, positions, trades, cash


@settings(max_examples=150, deadline=None)
@given(runs())
def test_set_figures_equal_compute_stats(run) -> None:
    equity, positions, trades, cash = run
    dates = pd.bdate_range("2020-01-01", periods=len(equity))
    expected = compute_stats(
        pd.Series(equity, index=dates),
        pd.Series(equity, index=dates),
        positions,
        trades,
        initial_value=cash,
    )["strategy"]
    held = dates.searchsorted(trades["exit_time"]) - dates.searchsorted(trades["entry_time"])
    got = set_figures(
        equity,
        positions,
        trade_pnl=trades["pnl"].to_numpy(np.float64),
        trade_closed=(trades["status"] == "closed").to_numpy(),
        trade_held_sessions=np.asarray(held, dtype=np.int64),
        initial_cash=cash,
    )
    for name in FIGURE_COLUMNS:
        if expected[name] is None:
            assert got[name] is None, name
        else:
            assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


# Grids ----------------------------------------------------------------------------------------


def test_grid_values_take_the_keys_types() -> None:
    grid = parse_grid(
        [
            "signal.half_life=1,2.5",
            "signal.momentum_lookback=10:30:10",
            "signal.news_scale=0.25:0.75:0.25",
            "execution.at=open,close",
            "execution.short=true,false",
        ]
    )
    assert grid == {
        "signal.half_life": [1.0, 2.5],
        "signal.momentum_lookback": [10, 20, 30],
        "signal.news_scale": [0.25, 0.5, 0.75],
        "execution.at": ["open", "close"],
        "execution.short": [True, False],
    }


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ("signal.half_lfe=1,2", "signal.half_lfe"),
        ("signal.half_life=1,abc", "signal.half_life"),
        ("signal.momentum_lookback=10,20.5", "signal.momentum_lookback"),
        ("execution.at=open,noon", "execution.at"),
        ("signal.half_life=1,1", "signal.half_life"),
        ("signal.half_life=", "signal.half_life"),
        ("data.start=2015-01-01", "data.start"),
        ("signal.half_life=5:1:1", "signal.half_life"),
        ("signal.half_life", "signal.half_life"),
    ],
)
def test_grid_errors_name_the_key(item: str, named: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_grid([item])
    assert named in str(caught.value)


def test_a_key_given_twice_is_an_error() -> None:
    with pytest.raises(InputError, match="signal.half_life is given twice"):
        parse_grid(["signal.half_life=1", "signal.half_life=2"])


def test_invalid_combinations_are_skipped_and_counted() -> None:
    grid = parse_grid(["signal.bull_above=50,60", "signal.bear_below=40,50,55"])
    expansion = expand_grid(StrategyConfig(), grid)
    assert expansion.values == ((50.0, 40.0), (60.0, 40.0), (60.0, 50.0), (60.0, 55.0))
    assert [s.values for s in expansion.skipped] == [
        {"signal.bull_above": 50.0, "signal.bear_below": 50.0},
        {"signal.bull_above": 50.0, "signal.bear_below": 55.0},
    ]
    assert all("bull_above" in s.reason for s in expansion.skipped)
    assert [c.signal.bear_below for c in expansion.configs] == [40.0, 40.0, 50.0, 55.0]


def test_a_value_valid_in_no_combination_is_an_error() -> None:
    grid = parse_grid(["signal.half_life=-1,2", "signal.bull_above=55,60"])
    with pytest.raises(InputError, match=r"signal.half_life=-1.0 is valid in no combination"):
        expand_grid(StrategyConfig(), grid)


def test_a_grid_without_a_valid_combination_names_the_first() -> None:
    grid = parse_grid(["signal.bull_above=30", "signal.bear_below=35"])
    with pytest.raises(InputError, match="no combination of the grid is valid"):
        expand_grid(StrategyConfig(), grid)


def test_chunks_cover_every_set_once_and_fit_the_memory() -> None:
    assert chunk_bounds(7, 3) == [(0, 3), (3, 6), (6, 7)]
    size = default_chunk_size(566, 40, 10_000, memory_bytes=8 << 30)
    assert 1 <= size < 10_000
    assert default_chunk_size(566, 40, 10_000, n_workers=2, memory_bytes=8 << 30) <= size
    assert default_chunk_size(566, 40, 10_000, memory_bytes=1 << 20) == 1
    assert default_chunk_size(10, 2, 3, memory_bytes=8 << 30) == 3


# CLI ------------------------------------------------------------------------------------------


def _cli_args(slice_files: tuple[Path, Path], out: Path) -> list[str]:
    prices, headlines = slice_files
    return [
        "sweep",
        "--prices",
        str(prices),
        "--headlines",
        str(headlines),
        "--start",
        SLICE_START,
        "--end",
        SLICE_END,
        "--grid",
        "signal.half_life=1,4",
        "--grid",
        "signal.bull_above=50,55,60",
        "--grid",
        "signal.bear_below=45,50",
        "--out",
        str(out),
    ]


def test_cli_writes_sweep_csv_json_and_html(slice_files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = run_cli(*_cli_args(slice_files, out))
    assert result.returncode == 0, result.stderr
    assert f"Sweep folder: {out}" in result.stdout
    assert "10 parameter sets (2 invalid combinations skipped)" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        "sweep.csv",
        "sweep.json",
        "sweep.html",
        ".news-backtest",
    }
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns[:4]) == [
        "set",
        "signal.half_life",
        "signal.bull_above",
        "signal.bear_below",
    ]
    expected = [
        (h, b, r) for h in (1.0, 4.0) for b in (50.0, 55.0, 60.0) for r in (45.0, 50.0) if b > r
    ]
    assert list(table.iloc[:, 1:4].itertuples(index=False, name=None)) == expected
    assert list(table["set"]) == list(range(10))
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["sets_tried"] == 10 and summary["skipped"] == 2
    best = summary["best"]["set"]
    assert table["sharpe"].idxmax() == best
    assert summary["best"]["figures"]["sharpe"] == pytest.approx(table["sharpe"].max())
    html = (out / "sweep.html").read_text()
    assert "signal.half_life (rows) × signal.bull_above (columns)" in html
    assert "Deflated Sharpe" in html


def test_cli_refuses_a_non_empty_out_and_grid_errors_exit_2(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = run_cli(*_cli_args(slice_files, out))
    assert refused.returncode == 2
    assert "not empty" in refused.stderr and "Traceback" not in refused.stderr
    assert (out / "keep.txt").read_text() == "mine"
    bad = run_cli("sweep", "--grid", "signal.half_lfe=1,2", "--out", str(tmp_path / "new"))
    assert bad.returncode == 2
    assert "signal.half_lfe" in bad.stderr and "signal.half_life" in bad.stderr
    assert not (tmp_path / "new").exists()


# Lexicons and the page ------------------------------------------------------------------------


def test_lexicons_score_once_each_and_page_escapes_their_names(
    base_config: StrategyConfig, tmp_path: Path
) -> None:
    from backtest.report.sweep_html import heatmaps, sweep_outputs

    packaged = Path(__file__).resolve().parents[1] / "backtest" / "lexicon" / "finance.csv"
    hostile = tmp_path / "<img src=x onerror=alert(1)>.csv"
    hostile.write_bytes(packaged.read_bytes())
    grid = parse_grid([f'signal.lexicon="",{hostile}', "signal.half_life=1,3"])
    data = prepare_sweep(base_config, grid)
    assert sorted({key[0] for key in data.placed}) == ["", str(hostile)]
    result = run_sweep(data)
    figures = result.table[list(FIGURE_COLUMNS)]
    pd.testing.assert_frame_equal(
        figures.iloc[:2].reset_index(drop=True), figures.iloc[2:].reset_index(drop=True)
    )
    outputs = sweep_outputs(data, result, objective="sharpe", command="backtest sweep", started=0.0)
    assert "<img src=x" not in outputs.html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in outputs.html
    (heatmap,) = heatmaps(outputs.table, list(grid))
    best = outputs.table.groupby(["signal.lexicon", "signal.half_life"])["sharpe"].max()
    for i, lexicon in enumerate(heatmap.row_values):
        for j, half_life in enumerate(heatmap.column_values):
            assert heatmap.cells[i][j] == pytest.approx(best[(lexicon, half_life)], rel=1e-15)
