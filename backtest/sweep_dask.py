"""Run a sweep's chunks on Dask distributed: a local cluster, or one that already runs.

1. ``dask_executor(workers=N)`` starts ``LocalCluster(n_workers=N, threads_per_worker=1,
   processes=True)`` (no dashboard) and closes it afterwards; ``dask_executor(scheduler=
   "tcp://host:port")`` connects to an existing scheduler and leaves it running.
2. ``DaskExecutor.map`` scatters the ``SweepData`` once to every worker
   (``client.scatter(..., broadcast=True)``), submits one task per chunk, reports progress as
   chunks finish, and gathers the results in task order. The chunks are pure functions of the
   data and their set range, so the table is identical to a serial run to the last digit.
3. Every worker process pays vectorbt's uncached ``from_signals`` compile once (~9-15 s), so
   Dask pays off when the sweep takes minutes, not seconds.

The workers import ``backtest`` themselves: with a remote scheduler, install the same version
of news-backtest in the workers' environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from backtest.errors import BacktestError

if TYPE_CHECKING:
    from distributed import Client

    from backtest.sweeps import Progress, SweepData

R = TypeVar("R")

CONNECT_TIMEOUT_S = 15


class DaskExecutor:
    """A ``ChunkExecutor`` on a Dask distributed client; scatters each SweepData once."""

    name = "dask"

    def __init__(self, client: Client) -> None:
        self.client = client
        self.n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        self._scattered: dict[int, tuple[Any, Any]] = {}

    def map(
        self,
        fn: Callable[..., R],
        data: SweepData,
        tasks: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> list[R]:
        """``fn(data, *task)`` for every task on the workers, results in task order."""
        from distributed import as_completed

        shared = self._scatter(data)
        futures = [self.client.submit(fn, shared, *task, pure=False) for task in tasks]
        for done, _future in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done, len(futures))
        return self.client.gather(futures)

    def _scatter(self, data: SweepData) -> Any:
        """The data's future on the workers, sent the first time it is used."""
        entry = self._scattered.get(id(data))
        if entry is None or entry[0] is not data:
            future = self.client.scatter(data, broadcast=True, hash=False)
            entry = (data, future)
            self._scattered[id(data)] = entry
        return entry[1]


@contextmanager
def dask_executor(
    *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[DaskExecutor]:
    """A DaskExecutor on a new LocalCluster of ``workers`` processes, or on ``scheduler``."""
    if (workers is None) == (scheduler is None):
        raise BacktestError("give either --workers N or --scheduler tcp://host:port, not both")
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise BacktestError(
                f"could not reach the Dask scheduler at {scheduler} within "
                f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__}); start it with "
                "`dask scheduler` and its workers with `dask worker ADDRESS`, or use --workers N"
            ) from None
        try:
            yield DaskExecutor(client)
        finally:
            client.close()
        return
    assert workers is not None
    if workers < 1:
        raise BacktestError(f"--workers must be at least 1, got {workers}")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster)
        try:
            yield DaskExecutor(client)
        finally:
            client.close()
    finally:
        cluster.close()
