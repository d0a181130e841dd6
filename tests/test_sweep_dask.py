"""A sweep on a Dask LocalCluster gives the serial sweep's table and returns to the last digit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SLICE_END, SLICE_START, SLICE_TICKERS

from backtest.config import load_config
from backtest.errors import BacktestError
from backtest.sweep_dask import dask_executor
from backtest.sweeps import parse_grid, prepare_sweep, run_sweep


def test_local_cluster_sweep_is_identical_to_serial(slice_files: tuple[Path, Path]) -> None:
    prices, headlines = slice_files
    config = load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{headlines}"',
            f'data.tickers="{",".join(SLICE_TICKERS)}"',
            f'data.start="{SLICE_START}"',
            f'data.end="{SLICE_END}"',
        ],
    )
    grid = parse_grid(
        [
            "execution.at=open,close",
            "signal.half_life=1,3",
            "signal.bull_above=55,60,65",
        ]
    )
    data = prepare_sweep(config, grid)
    serial = run_sweep(data, chunk_size=5)
    seen: list[tuple[int, int]] = []
    with dask_executor(workers=2) as executor:
        assert executor.n_workers == 2
        distributed = run_sweep(
            data, chunk_size=3, executor=executor, progress=lambda d, n: seen.append((d, n))
        )
    pd.testing.assert_frame_equal(distributed.table, serial.table, check_exact=True)
    np.testing.assert_array_equal(distributed.returns, serial.returns)
    np.testing.assert_array_equal(distributed.benchmark_returns, serial.benchmark_returns)
    assert distributed.executor == "dask" and distributed.n_chunks == 4
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_workers_and_scheduler_are_exclusive() -> None:
    executor = dask_executor(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(BacktestError, match="either --workers N or --scheduler"):
        executor.__enter__()


def _worker_log_passes() -> tuple[bool, bool]:
    """On a worker: does its log pass a dead peer's fetch traceback, and any other error?"""
    import logging

    log = logging.getLogger("distributed.worker")

    def passes(message: str) -> bool:
        record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, (), None)
        return bool(log.filter(record))

    return (
        passes("Worker stream died during communication: tcp://127.0.0.1:1"),
        passes("Compute Failed"),
    )


def test_workers_drop_only_the_traceback_of_a_fetch_from_a_dead_worker() -> None:
    with dask_executor(workers=1) as executor:
        seen = executor.client.run(_worker_log_passes)
    assert list(seen.values()) == [(False, True)]
