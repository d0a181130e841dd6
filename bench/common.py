"""Timing helpers shared by the benchmarks: fresh processes, median wall time, peak RSS.

Every measurement runs a command in a fresh process (no warm interpreter state leaks between
repeats) and reads that child's own resource usage with ``os.wait4``, so peak RSS is per
process and not a running maximum over the whole benchmark session. Absolute times depend on
the machine and its load; the figures users compare are ratios against a baseline measured in
the same run.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass(frozen=True)
class Run:
    """One process: wall time, peak resident memory and what it printed."""

    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str
    returncode: int


@dataclass(frozen=True)
class Measurement:
    """Repeated runs of one command: the median wall time and the largest peak RSS."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def min_s(self) -> float:
        return min(r.wall_s for r in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return max(r.peak_rss_mib for r in self.runs)

    @property
    def last(self) -> Run:
        return self.runs[-1]


class BenchError(RuntimeError):
    """A benchmarked command failed; the message carries its stderr tail."""


def backtest_command() -> list[str]:
    """The installed ``backtest`` console script next to this interpreter."""
    script = Path(PYTHON).with_name("backtest")
    return [str(script)] if script.exists() else [PYTHON, "-m", "backtest"]


def run_once(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> Run:
    """Run ``cmd`` in a fresh process; wall time and the child's own peak RSS (wait4)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=full_env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    run = Run(wall, usage.ru_maxrss / 1024.0, stdout, stderr, proc.returncode)
    if check and run.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        shown = " ".join(c if len(c) < 80 else c.strip().splitlines()[0][:60] + " ..." for c in cmd)
        raise BenchError(f"{shown} exited {run.returncode}:\n{tail}")
    return run


def repeat(
    label: str,
    cmd: Sequence[str],
    n: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Measurement:
    """Run ``cmd`` ``n`` times, each in a fresh process."""
    return Measurement(label, [run_once(cmd, env=env, cwd=cwd) for _ in range(n)])


def interleaved(
    commands: Mapping[str, Sequence[str]],
    n: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Measurement]:
    """Alternate the commands ``n`` rounds so that load changes hit each of them alike."""
    results = {label: Measurement(label) for label in commands}
    for _ in range(n):
        for label, cmd in commands.items():
            results[label].runs.append(run_once(cmd, env=env, cwd=cwd))
    return results


def python_script(source: str, *args: str) -> list[str]:
    """A command running ``source`` with this interpreter (no site tricks, fresh process)."""
    return [PYTHON, "-c", source, *args]


def ratio(value: float, baseline: float) -> float:
    """value / baseline, NaN when the baseline is zero."""
    return value / baseline if baseline > 0 else float("nan")


def load_average() -> str:
    """The 1/5/15-minute load averages, recorded with each result to judge its noise."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine_info() -> dict[str, str]:
    """Cores, memory, Python and the package versions the figures depend on."""
    mem_total = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    info = {
        "cores (nproc)": str(os.cpu_count()),
        "memory (MemTotal)": mem_total,
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    for package in (
        "news-backtest",
        "vectorbt",
        "numba",
        "numpy",
        "pandas",
        "typer",
        "backtesting",
        "vaderSentiment",
    ):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats are formatted by the caller."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    """Seconds with a precision that suits their size."""
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.1f} s"


def mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def times(value: float) -> str:
    return f"{value:.2f}x"


@dataclass(frozen=True)
class Target:
    """One published target: the measured ratio against its limit."""

    figure: str
    measured: float
    limit: float
    at_most: bool = True

    @property
    def met(self) -> bool:
        return self.measured <= self.limit if self.at_most else self.measured >= self.limit

    def describe(self) -> str:
        sign = "<=" if self.at_most else ">="
        state = "met" if self.met else "MISSED"
        return f"{self.figure}: {self.measured:.2f}x (target {sign} {self.limit:g}x) {state}"


@dataclass
class Section:
    """A benchmark's contribution to RESULTS.md: a titled table, notes and its targets."""

    title: str
    body: str
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    """Raw measurements other benchmarks may reuse (not printed)."""

    def markdown(self) -> str:
        parts = [f"## {self.title}", "", self.body]
        if self.notes:
            parts += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(parts)


def repeats_main(run: Callable[[int], Section], doc: str, default_repeats: int) -> None:
    """The command line of a one-section benchmark: ``--repeats N``, its table on stdout."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=default_repeats)
    print(run(parser.parse_args().repeats).markdown())
