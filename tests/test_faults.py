"""Faults survived (issue 20): a Dask worker killed mid-sweep, an --out folder that cannot be
written, and two price fetches into one cache at once.

The faults are real where the machine allows it: the worker gets SIGKILL from outside; the full
and read-only disks are tmpfs mounts in a private mount namespace (``unshare --mount``, skipped
where that is not permitted); "permission denied" is a chmod 0o555 folder, with root's
CAP_DAC_OVERRIDE dropped (``setpriv``) since root writes through file modes. The write errors
raised after the work (a disk filling up, a folder turned read-only meanwhile) are also injected
in process, one per errno, through ``commit_with``'s ``write_files`` and ``os.rename``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_helpers import EMBEDDED, SLICE_END, SLICE_START, SLICE_TICKERS, backtest_command, run_cli

from backtest.errors import BacktestError
from backtest.report import run_folder
from backtest.report.run_folder import RunFolderWriter

GRID = ("--grid", "signal.half_life=1,3", "--grid", "signal.bull_above=55,60,65")
N_SETS = 6


def data_args(slice_files: tuple[Path, Path]) -> list[str]:
    prices, headlines = slice_files
    return [
        "--prices", str(prices), "--headlines", str(headlines),
        "--tickers", ",".join(SLICE_TICKERS), "--start", SLICE_START, "--end", SLICE_END,
    ]  # fmt: skip


def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "NEWS_BACKTEST_DATA"}


def staging_leftovers(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".partial", ".replaced")))


# ---------------------------------------------------------------- 1. a Dask worker killed

TRACED_SWEEP = textwrap.dedent(
    """
    import sys

    import backtest.sweeps

    TRACE = sys.argv[1]


    def traced_chunk(data, start, stop, *rest):
        # Runs on a worker, where backtest.sweeps.simulate_chunk is the real one.
        import os

        import backtest.sweeps

        with open(TRACE, "a") as trace:
            trace.write(f"start {os.getpid()} {start} {stop}\\n")
        result = backtest.sweeps.simulate_chunk(data, start, stop, *rest)
        with open(TRACE, "a") as trace:
            trace.write(f"done {os.getpid()} {start} {stop}\\n")
        return result


    backtest.sweeps.simulate_chunk = traced_chunk
    sys.argv = ["backtest", *sys.argv[2:]]
    from backtest.cli import main

    main()
    """
)
"""The real ``backtest.cli.main`` with each chunk logging "start|done PID START STOP" to a file,
so the test knows which worker process runs a chunk right now. The numbers are untouched."""


def read_trace(path: Path) -> list[tuple[str, int, int, int]]:
    """The complete lines of the chunk log as (start|done, pid, start, stop)."""
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().split("\n")[:-1]]
    return [(what, int(pid), int(start), int(stop)) for what, pid, start, stop in lines]


@pytest.fixture(scope="module")
def serial_sweep_csv(slice_files: tuple[Path, Path], tmp_path_factory) -> bytes:
    """sweep.csv of the serial ``backtest sweep`` of GRID."""
    out = tmp_path_factory.mktemp("serial") / "sweep"
    serial = run_cli("sweep", *data_args(slice_files), *GRID, "--out", str(out))
    assert serial.returncode == 0, serial.stderr
    return (out / "sweep.csv").read_bytes()


@pytest.mark.parametrize("workers", [2, 1], ids=["2-workers", "the-only-worker"])
def test_a_worker_killed_mid_sweep_gives_the_serial_sweep_csv(
    workers: int, serial_sweep_csv: bytes, slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL from outside to the worker running the first chunk. With two workers the data
    survives on the other one's copy; with one it dies too and is scattered again."""
    import psutil

    trace = tmp_path / "chunks.log"
    out = tmp_path / "dask"
    process = subprocess.Popen(
        [sys.executable, "-c", TRACED_SWEEP, str(trace), "sweep", *data_args(slice_files),
         *GRID, "--workers", str(workers), "--chunk-size", "1", "--out", str(out)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not read_trace(trace):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no chunk started on a Dask worker"
            time.sleep(0.02)
        _, victim, start, stop = read_trace(trace)[0]
        # A worker process of this CLI (a nanny's spawned child), busy with its first chunk
        # (that chunk also compiles vectorbt's simulation, seconds on any machine).
        worker = psutil.Process(victim)
        assert worker in psutil.Process(process.pid).children(recursive=True)
        assert "spawn_main" in " ".join(worker.cmdline())
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "error" not in stderr.lower(), stderr
    assert f"{N_SETS} chunks of up to 1 sets" in stdout, stdout
    assert f"({workers} Dask workers" in stdout, stdout
    assert (out / "sweep.csv").read_bytes() == serial_sweep_csv
    events = read_trace(trace)
    # The kill landed inside the chunk: the victim never finished it, another worker (or the
    # nanny's new worker process) did.
    assert ("done", victim, start, stop) not in events
    assert [e for e in events if e[0] == "done" and e[2:] == (start, stop)] != []
    done = sorted((a, b) for what, _, a, b in events if what == "done")
    assert done == [(i, i + 1) for i in range(N_SETS)], events
    assert staging_leftovers(tmp_path) == []


def kill_own_worker_once(data: SimpleNamespace, index: int, marker: str) -> tuple[int, int]:
    """A chunk that SIGKILLs the worker running it the first time task 1 runs."""
    if index == 1 and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return index, data.value * index


def kill_own_worker_always(data: SimpleNamespace, index: int) -> int:
    """A chunk that SIGKILLs every worker that runs task 0."""
    if index == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return index


def test_the_only_worker_killed_loses_the_scattered_data_and_map_scatters_it_again(
    tmp_path: Path,
) -> None:
    from backtest.sweep_dask import dask_executor

    marker = tmp_path / "killed"
    seen: list[tuple[int, int]] = []
    with dask_executor(workers=1) as executor:
        results = executor.map(
            kill_own_worker_once,
            SimpleNamespace(value=7),  # type: ignore[arg-type]
            [(i, str(marker)) for i in range(4)],
            progress=lambda done, total: seen.append((done, total)),
        )
    assert marker.exists(), "the worker was not killed"
    assert results == [(0, 0), (1, 7), (2, 14), (3, 21)]
    assert [done for done, _ in seen] == [1, 2, 3, 4] and {total for _, total in seen} == {4}


def test_a_chunk_that_kills_every_worker_it_runs_on_is_one_line(tmp_path: Path) -> None:
    import logging

    from distributed import Client, LocalCluster

    from backtest.sweep_dask import DaskExecutor

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            scheduler_kwargs={"allowed_failures": 0},
        ) as cluster,
        Client(cluster) as client,
        pytest.raises(BacktestError) as caught,
    ):
        client.wait_for_workers(2)  # the data on both: only the chunk's deaths count
        tasks = [(i,) for i in range(3)]
        DaskExecutor(client).map(kill_own_worker_always, SimpleNamespace(), tasks)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Dask workers died once while running the same chunk of the sweep (out of memory?); "
        "try a smaller --chunk-size or fewer --workers"
    )


# ---------------------------------------------------------------- 2. --out cannot be written

HINTS = {
    errno.ENOSPC: "free some space on that disk or choose another folder with --out",
    errno.EDQUOT: "free some space within your disk quota or choose another folder with --out",
    errno.EACCES: "choose a folder you can write to with --out",
    errno.EROFS: "choose a folder on a writable disk with --out",
}


def expected_line(out: Path, code: int, *, after_work: bool, kind: str = "run") -> str:
    reason = os.strerror(code).lower()
    done = "; no partial folder was left behind" if after_work else ""
    return f"--out {out}: cannot write the {kind} folder ({reason}){done}. {HINTS[code]}."


@pytest.mark.parametrize("code", sorted(HINTS), ids=lambda c: errno.errorcode[c])
def test_a_write_error_while_staging_is_one_line_and_leaves_nothing(
    code: int, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    writer = RunFolderWriter.prepare("x", out_dir=out, reports_dir=tmp_path / "r", force=False)

    def write_files(staging: Path) -> None:
        (staging / "stats.json").write_text("{}")
        raise OSError(code, os.strerror(code), str(staging / "trades.csv"))

    with pytest.raises(BacktestError) as caught:
        writer.commit_with(write_files)
    assert str(caught.value) == expected_line(out, code, after_work=True)
    assert isinstance(caught.value.__cause__, OSError)
    assert not out.exists()
    assert staging_leftovers(tmp_path) == []


def test_a_write_error_in_a_timestamped_folder_names_the_reports_folder(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    writer = RunFolderWriter.prepare("x", out_dir=None, reports_dir=reports, force=False)

    def write_files(staging: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(BacktestError) as caught:
        writer.commit_with(write_files)
    assert str(caught.value) == (
        f"reports folder {reports}: cannot write the run folder (no space left on device); "
        "no partial folder was left behind. free some space on that disk or choose another "
        "folder with --reports-dir or --out."
    )
    assert list(reports.iterdir()) == []


def test_a_publish_refused_by_the_file_system_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    writer = RunFolderWriter.prepare("x", out_dir=out, reports_dir=tmp_path / "r", force=False)

    def refused(source: str, target: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(source), str(target))

    monkeypatch.setattr(run_folder.os, "rename", refused)
    with pytest.raises(BacktestError) as caught:
        writer.commit_with(lambda staging: (staging / "sweep.csv").write_text("set\n"))
    assert str(caught.value) == expected_line(out, errno.EACCES, after_work=True)
    assert not out.exists()
    assert staging_leftovers(tmp_path) == []


def test_a_failed_forced_replace_puts_the_previous_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    first = RunFolderWriter.prepare("x", out_dir=out, reports_dir=tmp_path / "r", force=False)
    first.commit_with(lambda staging: (staging / "sweep.csv").write_text("the last good one\n"))
    writer = RunFolderWriter.prepare("x", out_dir=out, reports_dir=tmp_path / "r", force=True)
    real_rename = os.rename

    def staging_refused(source: str, target: str) -> None:
        if Path(source).name.startswith(".partial-run-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_rename(source, target)

    monkeypatch.setattr(run_folder.os, "rename", staging_refused)
    with pytest.raises(BacktestError) as caught:
        writer.commit_with(lambda staging: (staging / "sweep.csv").write_text("new\n"))
    assert str(caught.value) == expected_line(out, errno.ENOSPC, after_work=True)
    assert (out / "sweep.csv").read_text() == "the last good one\n"
    assert staging_leftovers(tmp_path) == []


def test_other_errors_while_writing_are_not_reworded(tmp_path: Path) -> None:
    writer = RunFolderWriter.prepare(
        "x", out_dir=tmp_path / "run", reports_dir=tmp_path / "r", force=False
    )

    def write_files(staging: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        writer.commit_with(write_files)
    assert staging_leftovers(tmp_path) == []


def private_mount_command(options: str, folder: Path, listing: Path, *command: str) -> list[str]:
    """``command`` run with a fresh tmpfs (mount ``options``) on ``folder``, seen only by it;
    what the tmpfs holds afterwards is written to ``listing``. Exit 97: mounting failed."""
    script = (
        'mount -t tmpfs -o "$1" news-backtest-test "$2" || exit 97; d="$2"; l="$3"; shift 3; '
        '"$@"; rc=$?; ls -A "$d" > "$l"; exit $rc'
    )
    return [
        "unshare", "--mount", "--propagation", "private", "--",
        "sh", "-c", script, "sh", options, str(folder), str(listing), *command,
    ]  # fmt: skip


def run_in_private_mount(options: str, tmp_path: Path, *args: str) -> tuple[Path, object]:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    disk = tmp_path / "disk"
    disk.mkdir()
    listing = tmp_path / "listing.txt"
    out = disk / "run"
    command = private_mount_command(
        options, disk, listing, *backtest_command(), *args, "--out", str(out), "--quiet"
    )
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=cli_env(), cwd=tmp_path
        )
    except OSError as exc:
        pytest.skip(f"cannot run unshare: {exc}")
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"no private tmpfs mount here: {done.stderr.strip()}")
    assert listing.read_text() == "", "the tmpfs was left holding files"
    return out, done


def test_run_out_on_a_full_disk_fails_in_one_line_and_leaves_nothing(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out, done = run_in_private_mount("size=64k", tmp_path, "run", *data_args(slice_files))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: " + expected_line(out, errno.ENOSPC, after_work=True)
    ]


def test_run_out_on_a_read_only_disk_is_refused_before_the_work(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    started = time.monotonic()
    out, done = run_in_private_mount("ro", tmp_path, "run", *data_args(slice_files))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: " + expected_line(out, errno.EROFS, after_work=False)
    ]
    assert time.monotonic() - started < 60


def test_sweep_out_in_a_read_only_folder_is_permission_denied_in_one_line(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    out = locked / "sweep"
    command = [*backtest_command(), "sweep", *data_args(slice_files), *GRID, "--out", str(out)]
    if os.geteuid() == 0:
        # Root writes through file modes; without CAP_DAC_OVERRIDE it is held to them.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=cli_env(), cwd=tmp_path
        )
    finally:
        locked.chmod(0o755)
    if "setpriv:" in done.stderr:
        pytest.skip(f"cannot drop capabilities here: {done.stderr.strip()}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: " + expected_line(out, errno.EACCES, after_work=False, kind="sweep")
    ]
    assert list(locked.iterdir()) == []


# ---------------------------------------------------------------- 3. the price cache

RECORDED_ROWS = "2015-05-01", "2015-05-29"


def embedded_aapl():
    import pandas as pd

    rows = pd.read_csv(EMBEDDED / "prices.csv.gz", parse_dates=["date"])
    rows = rows[rows["ticker"] == "AAPL"].copy()
    rows["date"] = rows["date"].astype("datetime64[ns]")
    return rows.reset_index(drop=True)


def serve(rows):
    def download(tickers: list[str], first, last):
        inside = rows["date"].between(str(first), str(last))
        return rows[rows["ticker"].isin(tickers) & inside].copy()

    return download


def test_a_full_disk_while_writing_the_cache_is_one_line_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    import pyarrow.parquet

    from backtest.data.fetch import fetch_prices
    from backtest.errors import InputError

    rows = embedded_aapl()
    fetch_prices(["AAPL"], date(2015, 5, 1), date(2015, 5, 29), cache_dir=tmp_path,
                 download=serve(rows))  # fmt: skip
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyarrow.parquet, "write_table", disk_full)
    with pytest.raises(InputError) as caught:
        fetch_prices(["AAPL"], date(2015, 5, 1), date(2015, 6, 30), cache_dir=tmp_path,
                     download=serve(rows))  # fmt: skip
    assert str(caught.value) == (
        f"{tmp_path / 'AAPL.parquet'}: cannot write cached prices (no space left on device); "
        "the cache file was left as it was. free some space, or set NEWS_BACKTEST_CACHE to a "
        "folder you can write to."
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


FETCHER = textwrap.dedent(
    """
    import json
    import sys
    import time
    from datetime import date
    from pathlib import Path

    import pandas as pd

    from backtest.data.fetch import fetch_prices

    prices, cache, start, end, ready, go, report = sys.argv[1:]
    rows = pd.read_csv(prices, parse_dates=["date"])
    rows = rows[rows["ticker"] == "AAPL"].copy()
    rows["date"] = rows["date"].astype("datetime64[ns]")
    calls = []


    def slow_yahoo(tickers, first, last):
        # Slow enough that both processes are inside fetch_prices at once.
        calls.append([first.isoformat(), last.isoformat(), time.time()])
        time.sleep(1.5)
        inside = rows["date"].between(pd.Timestamp(first), pd.Timestamp(last))
        return rows[rows["ticker"].isin(tickers) & inside].copy()


    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    result = fetch_prices(
        ["AAPL"], date.fromisoformat(start), date.fromisoformat(end),
        cache_dir=Path(cache), download=slow_yahoo,
    )
    Path(report).write_text(json.dumps({"calls": calls, "rows": len(result.frame)}))
    """
)


def test_two_fetches_of_one_ticker_at_once_lose_no_rows(tmp_path: Path) -> None:
    import pandas as pd

    from backtest.data.fetch import load_cached_prices

    cache = tmp_path / "cache"
    go = tmp_path / "go"
    ranges = [("2015-01-01", "2015-06-30"), ("2015-04-01", "2015-09-30")]
    processes = []
    for i, (start, end) in enumerate(ranges):
        ready, report = tmp_path / f"ready-{i}", tmp_path / f"report-{i}.json"
        argv = [EMBEDDED / "prices.csv.gz", cache, start, end, ready, go, report]
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", FETCHER, *map(str, argv)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=cli_env(),
            )
        )
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready-{i}").exists() for i in range(2)):
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        go.touch()  # both start fetching within milliseconds
        outcomes = [p.communicate(timeout=120) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for p, (_, stderr) in zip(processes, outcomes, strict=True):
        assert p.returncode == 0, stderr

    embedded = pd.read_csv(EMBEDDED / "prices.csv.gz", parse_dates=["date"])
    aapl = embedded[embedded["ticker"] == "AAPL"]
    union = aapl[aapl["date"].between("2015-01-01", "2015-09-30")]
    cached = load_cached_prices(["AAPL"], cache_dir=cache)
    assert list(cached["date"]) == list(union["date"])
    assert cached["close"].to_numpy().tolist() == union["close"].to_numpy().tolist()
    assert sorted(p.name for p in cache.iterdir()) == ["AAPL.parquet"]  # no lock file left
    reports = [json.loads((tmp_path / f"report-{i}.json").read_text()) for i in range(2)]
    for report, (start, end) in zip(reports, ranges, strict=True):
        expected = aapl[aapl["date"].between(start, end)]
        assert report["rows"] == len(expected)
