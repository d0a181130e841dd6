"""Run a sweep's chunks on Dask distributed: a local cluster, or one that already runs.

1. ``dask_executor(workers=N)`` starts ``LocalCluster(n_workers=N, threads_per_worker=1,
   processes=True)`` (no dashboard) and closes it afterwards; ``dask_executor(scheduler=
   "tcp://host:port")`` connects to an existing scheduler and leaves it running.
2. ``DaskExecutor.map`` scatters the ``SweepData`` once to every worker
   (``client.scatter(..., broadcast=True)``), submits one task per chunk, collects each
   chunk's result as it finishes (reporting progress) and returns them in task order. The
   chunks are pure functions of the data and their set range, so the table is identical to a
   serial run to the last digit.
3. Every worker process pays vectorbt's uncached ``from_signals`` compile once (~9-15 s), so
   Dask pays off when the sweep takes minutes, not seconds.
4. A worker that dies mid-sweep (killed, out of memory) costs only time. Its nanny starts a new
   worker process, and the scheduler runs the chunks the dead worker held again elsewhere, up
   to ``ALLOWED_FAILURES`` deaths per chunk (the scheduler's ``allowed-failures``; set on the
   LocalCluster, a remote scheduler keeps its own). The scattered data survives on the other
   workers' copies; when the last copy dies with its worker the chunks still waiting are
   cancelled, and ``map`` scatters the data again and resubmits them, at most
   ``MAX_DATA_LOSSES`` times. Chunks that raise are not retried (``retries`` stays 0): a chunk
   is a pure function of its inputs, so it would raise again. The finished chunks' results
   are kept, so the table is the serial one whatever died. (Two log lines that read as
   failures are dropped, since both are recovered: the local scheduler's that the scattered
   data "can't be recovered", and a surviving worker's traceback when a copy it was fetching
   died with the killed worker; distributed fetches it from another holder or recomputes.)

The workers import ``backtest`` themselves: with a remote scheduler, install the same version
of news-backtest in the workers' environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from backtest.errors import BacktestError

if TYPE_CHECKING:
    from distributed import Client

    from backtest.sweeps import Progress, SweepData

R = TypeVar("R")

CONNECT_TIMEOUT_S = 15
ALLOWED_FAILURES = 3
"""Workers that may die while running one chunk before the sweep fails (Dask's default)."""
MAX_DATA_LOSSES = 3
"""Times the scattered data may be lost with every worker holding it before the sweep fails."""


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
        """``fn(data, *task)`` for every task on the workers, results in task order.

        Survives dying workers (module docstring, step 4): results come back one chunk at a
        time as they finish, and chunks cancelled because the scattered data was lost are
        submitted again on a fresh scatter.
        """
        from concurrent.futures import CancelledError

        from distributed import KilledWorker, as_completed

        results: dict[int, R] = {}
        losses = 0
        while len(results) < len(tasks):
            shared = self._scatter(data)
            waiting = {
                self.client.submit(fn, shared, *task, pure=False): index
                for index, task in enumerate(tasks)
                if index not in results
            }
            try:
                for future in as_completed(waiting):
                    results[waiting[future]] = future.result()
                    if progress is not None:
                        progress(len(results), len(tasks))
            except CancelledError:
                # distributed cancels a task whose scattered input died with the last worker
                # holding it; nothing else cancels these futures while map runs.
                losses += 1
                self.client.cancel(list(waiting))
                self._scattered.pop(id(data), None)
                if losses > MAX_DATA_LOSSES:
                    raise BacktestError(
                        f"the Dask workers lost the sweep's data {losses} times as they died "
                        f"({len(tasks) - len(results)} of {len(tasks)} chunks not done); "
                        "check the workers' memory, or try a smaller --chunk-size"
                    ) from None
            except KilledWorker as exc:
                deaths = exc.allowed_failures + 1
                times = "once" if deaths == 1 else f"{deaths} times"
                raise BacktestError(
                    f"Dask workers died {times} while running the same chunk of the sweep "
                    "(out of memory?); try a smaller --chunk-size or fewer --workers"
                ) from None
        return [results[index] for index in range(len(tasks))]

    def _scatter(self, data: SweepData) -> Any:
        """The data's future on the workers, sent the first time it is used."""
        entry = self._scattered.get(id(data))
        if entry is None or entry[0] is not data:
            future = self.client.scatter(data, broadcast=True, hash=False)
            entry = (data, future)
            self._scattered[id(data)] = entry
        return entry[1]


class _RecoveredDataLoss(logging.Filter):
    """Drops the scheduler's error that scattered data was lost for good: ``map`` sends it
    again (module docstring, step 4)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "lose scattered data" not in record.getMessage()


class _RecoveredFetch(logging.Filter):
    """Drops a worker's traceback for a fetch from a worker that died: distributed asks
    another holder or recomputes the value (module docstring, step 4)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Worker stream died during communication" not in record.getMessage()


class QuietRecoveredFetches(WorkerPlugin):
    """Installs ``_RecoveredFetch`` on every worker, including the ones nannies restart."""

    idempotent = True

    def setup(self, worker: Any) -> None:
        logging.getLogger("distributed.worker").addFilter(_RecoveredFetch())


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
            client.register_plugin(QuietRecoveredFetches())
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
        scheduler_kwargs={"allowed_failures": ALLOWED_FAILURES},
    )
    quiet = _RecoveredDataLoss()
    scheduler_log = logging.getLogger("distributed.scheduler")
    scheduler_log.addFilter(quiet)
    try:
        client = Client(cluster)
        try:
            client.wait_for_workers(workers)  # so the broadcast scatter reaches every worker
            client.register_plugin(QuietRecoveredFetches())
            yield DaskExecutor(client)
        finally:
            client.close()
    finally:
        cluster.close()
        scheduler_log.removeFilter(quiet)
