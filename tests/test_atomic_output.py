"""A run folder appears complete or not at all: an exception or Ctrl-C mid-write leaves no run
folder and no hidden ``.partial-run-*`` folder, and concurrent runs never share a folder.

(``--out`` into a non-empty folder without ``--force`` is pinned in test_hostile_input.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_helpers import backtest_command

from backtest.config import load_config
from backtest.report import html, run_folder
from backtest.runner import run as run_strategy

SLICE_PERIOD = ("2014-10-01", "2014-12-31")


def slice_config(slice_files: tuple[Path, Path]):
    prices, headlines = slice_files
    return load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{headlines}"',
            f'data.start="{SLICE_PERIOD[0]}"',
            f'data.end="{SLICE_PERIOD[1]}"',
        ],
    )


def leftovers(folder: Path) -> list[str]:
    """Names in ``folder`` a failed run must not leave: hidden staging or trash folders."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".partial", ".replaced")))


class Boom(RuntimeError):
    """The injected failure."""


# ---------------------------------------------------------------- exceptions, in process


def test_exception_while_rendering_leaves_no_out_folder(
    slice_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_render(run: html.RunFolder) -> Path:
        assert (run.path / "stats.json").exists(), "the files were being written"
        raise Boom("render failed")

    monkeypatch.setattr(html, "render_run", broken_render)
    out = tmp_path / "run"
    with pytest.raises(Boom):
        run_strategy(slice_config(slice_files)).save(out)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_exception_in_the_third_csv_leaves_no_timestamped_folder(
    slice_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_write_csv = run_folder.write_csv

    def failing_write_csv(frame, path: Path) -> None:
        if len(written) == 2:
            raise Boom(f"disk full while writing {path.name}")
        real_write_csv(frame, path)
        written.append(path.name)

    monkeypatch.setattr(run_folder, "write_csv", failing_write_csv)
    reports = tmp_path / "reports"
    with pytest.raises(Boom):
        run_strategy(slice_config(slice_files)).save(reports_dir=reports)
    assert len(written) == 2
    assert not reports.exists() or list(reports.iterdir()) == []


def test_failed_forced_run_keeps_the_old_out_folder(
    slice_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "previous"
    previous = run_folder.RunFolderWriter.prepare(
        "old", out_dir=out, reports_dir=tmp_path / "reports", force=False
    )
    previous.commit_with(lambda folder: (folder / "keep.txt").write_text("the last good run"))
    monkeypatch.setattr(html, "render_run", lambda run: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        run_strategy(slice_config(slice_files)).save(out, force=True)
    assert (out / "keep.txt").read_text() == "the last good run"
    assert sorted(p.name for p in out.iterdir()) == [run_folder.MARKER, "keep.txt"]
    assert leftovers(tmp_path) == []


def test_runs_in_the_same_second_get_numbered_folders(
    slice_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_folder.time, "strftime", lambda fmt, *a: "20260102-030405")
    config = slice_config(slice_files)
    reports = tmp_path / "reports"
    first = run_strategy(config).save(reports_dir=reports)
    second = run_strategy(config).save(reports_dir=reports)
    assert first.name == f"20260102-030405-{config.name}"
    assert second.name == f"20260102-030405-{config.name}-2"
    assert (first / "stats.json").exists() and (second / "stats.json").exists()
    assert leftovers(reports) == []


# ---------------------------------------------------------------- signals and races, real CLI

# A child inherits an ignored SIGINT (a suite started as a background job ignores it) and
# Python then never raises KeyboardInterrupt; the launcher restores the default, then execs.
WITH_DEFAULT_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
]


def interruptible(command: list[str], cwd: Path) -> subprocess.Popen:
    """``command`` started with SIGINT at its default disposition, whatever this process has."""
    return subprocess.Popen(
        [*WITH_DEFAULT_SIGINT, *command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def slow_render_run(*args: str, cwd: Path) -> subprocess.Popen:
    """The real ``backtest.cli.main`` with report rendering stuck, so a signal lands mid-write."""
    code = textwrap.dedent(
        f"""
        import sys, time
        import backtest.report.html as html

        def stuck_render(run):
            (run.path / "render-started").write_text("")
            time.sleep(120)

        html.render_run = stuck_render
        sys.argv = ["backtest", *{list(args)!r}]
        from backtest.cli import main
        main()
        """
    )
    return interruptible([sys.executable, "-c", code], cwd=cwd)


def wait_for(predicate, process: subprocess.Popen, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if process.poll() is not None:
            pytest.fail(f"the run ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the run never reached the write stage")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "status", "words"),
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_signal_while_writing_leaves_nothing(
    signum: int, status: int, words: str, slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = slice_files
    reports = tmp_path / "reports"
    process = slow_render_run(
        "run", "--prices", str(prices), "--headlines", str(headlines),
        "--reports-dir", str(reports), "--quiet", cwd=tmp_path,
    )  # fmt: skip
    wait_for(lambda: any(reports.glob(".partial-run-*/render-started")), process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], stderr
    assert "Traceback" not in stderr
    assert list(reports.iterdir()) == []


def test_ctrl_c_during_a_real_run_leaves_nothing(tmp_path: Path) -> None:
    """The unmodified console script on the embedded data (a run of several seconds),
    interrupted while it works: when its staging folder appears, or 2 s in at the latest."""
    reports = tmp_path / "reports"
    process = interruptible(
        [*backtest_command(), "run", "--reports-dir", str(reports), "--quiet"], cwd=tmp_path
    )
    started = time.monotonic()
    wait_for(lambda: any(reports.glob(".partial-run-*")) or time.monotonic() - started > 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Interrupted; no partial run folder" in lines[0], stderr
    assert not reports.exists() or list(reports.iterdir()) == []


def test_ctrl_c_after_the_folder_is_published_names_the_finished_folder(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """A Ctrl-C that lands once the run folder is in place must not claim nothing was left."""
    prices, headlines = slice_files
    reports = tmp_path / "reports"
    code = textwrap.dedent(
        f"""
        import sys, time
        import backtest.report.index as index

        def stuck_index(folder, reports_dir):
            (folder.parent / "index-started").write_text("")
            time.sleep(120)

        index.update_index_for = stuck_index
        sys.argv = ["backtest", "run", "--prices", {str(prices)!r}, "--headlines",
                    {str(headlines)!r}, "--reports-dir", {str(reports)!r}, "--quiet"]
        from backtest.cli import main
        main()
        """
    )
    process = interruptible([sys.executable, "-c", code], cwd=tmp_path)
    wait_for(lambda: (reports / "index-started").exists(), process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    (folder,) = [p for p in reports.iterdir() if p.is_dir()]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"Interrupted after the work was done: {folder}" in lines[0], stderr
    assert (folder / "stats.json").exists() and (folder / "report.html").exists()
    assert (folder / run_folder.MARKER).exists()
    assert leftovers(reports) == []


def test_two_runs_at_once_into_one_reports_folder_both_land(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = slice_files
    reports = tmp_path / "reports"
    args = [*backtest_command(), "run", "--prices", str(prices), "--headlines", str(headlines),
            "--start", SLICE_PERIOD[0], "--end", SLICE_PERIOD[1],
            "--reports-dir", str(reports), "--quiet"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NEWS_BACKTEST_DATA"}
    processes = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
        for _ in range(2)
    ]  # fmt: skip
    results = [(p, *p.communicate(timeout=300)) for p in processes]
    for process, _, stderr in results:
        assert process.returncode == 0, stderr
    folders = sorted(p for p in reports.iterdir() if p.is_dir())
    assert len(folders) == 2, folders
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f"{f.name}/report.html" in index for f in folders)
    printed = sorted(stdout.rsplit("Run folder: ", 1)[1].strip() for _, stdout, _ in results)
    assert printed == [str(f) for f in folders]
    for folder in folders:
        assert (folder / "stats.json").exists() and (folder / "report.html").exists()
    equity = [(f / "equity.csv").read_bytes() for f in folders]
    assert equity[0] == equity[1]
    assert leftovers(reports) == []
