"""``python -m bench``: run every benchmark, print the results and write bench/RESULTS.md.

Every figure is a ratio against a baseline measured in the same run, in fresh processes, so
that it carries over between machines better than absolute seconds do.

    python -m bench                 # everything (about 15 minutes on 2 busy cores)

The targets table at the top of RESULTS.md is the issue's ("a run at the speed of its
imports"): warm ``backtest run`` / ``import vectorbt``, a warm reading / ``import pandas,
numba``, cold first run / warm run, sweep cost per set / bare vectorbt at 10 and 100 sets,
``score_headlines(list_of_str)`` on one thread / VADER, plus the earlier ones.
    python -m bench --quick         # fewer repeats, sweeps up to 1,000 sets
    python -m bench --only startup,end_to_end --out /tmp/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import bench_end_to_end, bench_startup, bench_sweep, bench_vs_backtesting_py
from bench.common import (
    PYTHON,
    REPO,
    BenchError,
    Section,
    Target,
    load_average,
    machine_info,
    markdown_table,
    mib,
    run_once,
    seconds,
)

SECTIONS = ("scoring", "startup", "end_to_end", "backtesting_py", "sweep")
SCORING_TARGET = 100.0
SCORING_GOAL = 200.0


SCORING_TARGET_ROW = "score_headlines(list of str), 1 thread"
"""The issue's figure: a plain list of str scored on one thread, against VADER."""


def scoring_section(quick: bool) -> Section:
    """bench/bench_scoring.py (the scoring helper's script) run as is; its table forwarded."""
    script = REPO / "bench" / "bench_scoring.py"
    args = ["--n", "200000", "--repeats", "2"] if quick else []
    run = run_once([PYTHON, str(script), *args])
    text = run.stdout.strip()
    ratios = scoring_ratios(text)
    targets = []
    notes = []
    if SCORING_TARGET_ROW in ratios:
        wall, cpu = ratios[SCORING_TARGET_ROW]
        figure = "`score_headlines(list_of_str)` one thread vs VADER"
        targets.append(Target(figure, wall, SCORING_TARGET, at_most=False))
        notes.append(targets[0].describe())
        if cpu is not None:
            notes.append(f"the same in CPU time: {cpu:,.0f}x (less sensitive to machine load)")
        row, best = max(ratios.items(), key=lambda item: item[1][0])
        goal = "met" if best[0] >= SCORING_GOAL else "not met"
        notes.append(f"best row: {row}, {best[0]:,.0f}x; goal >= {SCORING_GOAL:g}x: {goal}")
    else:
        notes.append(f"no {SCORING_TARGET_ROW!r} row found in the script's table")
    notes.append(
        f"Whole benchmark process: {seconds(run.wall_s)} wall, {mib(run.peak_rss_mib)} peak RSS."
    )
    return Section("Scoring: `score_headlines` vs VADER", text, notes, targets)


def scoring_ratios(text: str) -> dict[str, tuple[float, float | None]]:
    """Table rows about score_headlines -> (wall-clock ratio to VADER, CPU-time ratio or None).

    The ratios are the cells of the form ``42x``, in column order (wall-clock first)."""
    found: dict[str, tuple[float, float | None]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not cells or not cells[0].startswith("score_headlines"):
            continue
        values = [float(c[:-1].replace(",", "")) for c in cells[1:] if re.fullmatch(r"[\d,.]+x", c)]
        if values:
            found[cells[0]] = (values[0], values[1] if len(values) > 1 else None)
    return found


def _header(info: dict[str, str], command: str, started: dt.datetime) -> str:
    rows = [[key, value] for key, value in info.items()]
    return "\n".join(
        [
            "# Benchmarks",
            "",
            f"Generated {started:%Y-%m-%d %H:%M} UTC by `{command}` "
            "(from the repository root, in the project's venv).",
            "",
            "Every figure is a ratio against a baseline measured in the same run, each command "
            "in fresh processes. The machine is shared: absolute times are noisy, so timings are "
            "medians and baselines are interleaved with what they are compared to. Peak memory "
            "is each process's own peak RSS (`os.wait4`).",
            "",
            markdown_table(["machine", ""], rows),
        ]
    )


def _targets_table(sections: list[Section]) -> str:
    rows = []
    for section in sections:
        for target in section.targets:
            sign = "<=" if target.at_most else ">="
            rows.append(
                [
                    target.figure,
                    f"{target.measured:,.2f}x",
                    f"{sign} {target.limit:g}x",
                    "met" if target.met else "**MISSED**",
                ]
            )
    return "## Targets\n\n" + markdown_table(["figure", "measured", "target", ""], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sweeps")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {unknown[0]}; choose from {', '.join(SECTIONS)}")
    command = "python -m bench" + (
        " " + " ".join(sys.argv[1:]) if argv is None and sys.argv[1:] else ""
    )
    started = dt.datetime.now(dt.UTC)
    info = machine_info()
    info["load average at start"] = load_average()
    repeats = 2 if args.quick else 3
    sections: list[Section] = []
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        e2e: Section | None = None
        steps: dict[str, Callable[[], Section]] = {
            "scoring": lambda: scoring_section(args.quick),
            "startup": lambda: bench_startup.run(5 if args.quick else 10),
            "end_to_end": lambda: bench_end_to_end.run(repeats, work),
            "backtesting_py": lambda: bench_vs_backtesting_py.run(
                repeats,
                run_dir=e2e.measured.get("run_dir") if e2e else None,
                ours=e2e.measured.get("warm") if e2e else None,
            ),
            "sweep": lambda: bench_sweep.run(
                bench_sweep.SIZES[:3] if args.quick else bench_sweep.SIZES, 1
            ),
        }
        for name in SECTIONS:
            if name not in only:
                continue
            print(f"... {name} (load {load_average()})", file=sys.stderr, flush=True)
            try:
                section = steps[name]()
            except BenchError as exc:
                section = Section(name, f"FAILED: {exc}")
            if name == "end_to_end":
                e2e = section
            sections.append(section)
            print(section.markdown() + "\n", flush=True)
    info["load average at end"] = load_average()
    info["benchmark wall time"] = seconds(time.perf_counter() - clock)
    text = "\n\n".join(
        [
            _header(info, command, started),
            _targets_table(sections),
            *(s.markdown() for s in sections),
        ]
    )
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"Wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
