"""CLI start-up: ``backtest --help`` against ``python -c "import typer"`` (target <= 3x), and a
reading, ``backtest signal AAPL --asof 2015-06-01`` on the embedded data, against
``python -c "import pandas, numba"`` (target <= 2x, warm numba cache).

Each pair runs in fresh processes, interleaved, so that a burst of load on a shared machine
hits both alike; the figure is the ratio of the medians. The reading runs once untimed first
(its kernels then load from numba's cache). Also records which heavy packages
``import backtest.cli`` pulls in (none should be).

    python -m bench.bench_startup [--repeats 10]
"""

from __future__ import annotations

from bench.common import (
    PYTHON,
    Section,
    Target,
    backtest_command,
    interleaved,
    markdown_table,
    mib,
    python_script,
    ratio,
    repeats_main,
    run_once,
    seconds,
    times,
)

TARGET_RATIO = 3.0
SIGNAL_TARGET = 2.0
SIGNAL_ARGS = ("signal", "AAPL", "--asof", "2015-06-01")
HEAVY_MODULES = ("vectorbt", "numba", "pandas", "plotly", "dask", "numpy", "scipy")
IMPORTED_PROBE = (
    "import sys, backtest.cli\nprint(','.join(m for m in sys.argv[1:] if m in sys.modules))"
)


def heavy_imports() -> list[str]:
    """Heavy packages present in sys.modules after ``import backtest.cli`` (fresh process)."""
    run = run_once([PYTHON, "-c", IMPORTED_PROBE, *HEAVY_MODULES])
    return [m for m in run.stdout.strip().split(",") if m]


def run(repeats: int = 10) -> Section:
    """Measure and return the RESULTS.md section."""
    commands = {
        'python -c "import typer" (baseline)': python_script("import typer"),
        "python -c pass (interpreter alone)": python_script("pass"),
        "backtest --help": [*backtest_command(), "--help"],
    }
    results = interleaved(commands, repeats)
    base = results['python -c "import typer" (baseline)']
    cli = results["backtest --help"]
    reading = f"backtest {' '.join(SIGNAL_ARGS)}"
    run_once([*backtest_command(), *SIGNAL_ARGS])  # warm numba's cache for the reading
    reading_results = interleaved(
        {
            'python -c "import pandas, numba" (baseline)': python_script("import pandas, numba"),
            reading: [*backtest_command(), *SIGNAL_ARGS],
        },
        max(3, repeats // 2),
    )
    reading_base = reading_results['python -c "import pandas, numba" (baseline)']
    rows = [
        [
            label,
            seconds(m.median_s),
            seconds(m.min_s),
            mib(m.peak_rss_mib),
            times(ratio(m.median_s, base.median_s)),
        ]
        for label, m in results.items()
    ]
    body = markdown_table(
        ["command", f"median of {repeats}", "fastest", "peak RSS", "vs import typer"], rows
    )
    reading_rows = [
        [
            label,
            seconds(m.median_s),
            seconds(m.min_s),
            mib(m.peak_rss_mib),
            times(ratio(m.median_s, reading_base.median_s)),
        ]
        for label, m in reading_results.items()
    ]
    body += "\n\nA reading, warm numba cache:\n\n" + markdown_table(
        [
            "command",
            f"median of {max(3, repeats // 2)}",
            "fastest",
            "peak RSS",
            "vs import pandas, numba",
        ],
        reading_rows,
    )
    target = Target(
        "`backtest --help` vs `import typer`", ratio(cli.median_s, base.median_s), TARGET_RATIO
    )
    signal_target = Target(
        f'`{reading}` vs `python -c "import pandas, numba"`',
        ratio(reading_results[reading].median_s, reading_base.median_s),
        SIGNAL_TARGET,
    )
    heavy = heavy_imports()
    notes = [
        target.describe(),
        signal_target.describe(),
        "`import backtest.cli` imports "
        + (", ".join(heavy) if heavy else f"none of {', '.join(HEAVY_MODULES)}"),
    ]
    return Section("CLI start-up and a reading", body, notes, [target, signal_target])


def main() -> None:
    repeats_main(run, __doc__, default_repeats=10)


if __name__ == "__main__":
    main()
