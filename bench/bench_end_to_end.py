"""End to end: ``backtest run`` on the embedded data, warm and cold.

Targets (the issue "a run at the speed of its imports"):

- warm ``backtest run`` / ``python -c "import vectorbt"`` <= 1.5x: importing vectorbt is the
  floor of any process that simulates; everything above it is the product's own work;
- cold first run / warm run <= 2.5x: the first run after installing, with every numba cache
  empty (ours and vectorbt's).

1. Cold run: ``backtest run --profile`` with NUMBA_CACHE_DIR pointing at a fresh empty folder,
   which relocates every numba cache of that process (ours and vectorbt's), so everything
   compiles. Then the same with a copy of that cache from which only this package's entries
   were removed: a first run of news-backtest in an environment whose vectorbt cache is
   already warm (how much of the cold run is ours).
2. Warm runs, interleaved with the baselines: ``backtest run --profile`` reusing the cache,
   ``python -c "import vectorbt"``, and (the comparison kept from before the engine moved to
   ``from_orders``) a bare script that imports vectorbt, loads the run's positions and prices
   as arrays and runs the ``Portfolio.from_signals`` calls that reproduce the strategy and the
   buy-and-hold benchmark, and their ``value()``. Medians.

    python -m bench.bench_end_to_end [--repeats 3]
"""

from __future__ import annotations

import hashlib
import re
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.common import (
    REPO,
    Measurement,
    Run,
    Section,
    Target,
    backtest_command,
    markdown_table,
    mib,
    python_script,
    ratio,
    repeats_main,
    run_once,
    seconds,
    times,
)

IMPORT_TARGET = 1.5
COLD_TARGET = 2.5
EMBEDDED_PRICES = REPO / "datasets" / "stocknet" / "prices.csv.gz"
STAGES = ("load", "align", "score", "signals", "simulate", "baselines", "report", "write")
IMPORT_VECTORBT = 'python -c "import vectorbt"'
PACKAGE_DIR = "import os, backtest; print(os.path.dirname(os.path.abspath(backtest.__file__)))"

BARE_VECTORBT = """
import sys
import warnings

import numpy as np
import vectorbt as vbt

folder = sys.argv[1]
cash, fees, slippage = (float(x) for x in sys.argv[2:5])
pos = np.load(f"{folder}/positions.npy")
price = np.load(f"{folder}/price.npy")
close = np.load(f"{folder}/close.npy")
warnings.filterwarnings("ignore", message=r".*inplace keyword")


def run(target):
    return vbt.Portfolio.from_signals(
        close, entries=target == 1, exits=target != 1, short_entries=target == -1,
        short_exits=target != -1, price=price, size=np.inf, fees=fees, slippage=slippage,
        upon_opposite_entry="reverse", val_price=np.inf, init_cash=cash, cash_sharing=False,
    )


strategy = np.asarray(run(pos).value()).sum(axis=1)
benchmark = np.asarray(run(np.ones_like(pos)).value()).sum(axis=1)
print(repr(float(strategy[-1])), repr(float(benchmark[-1])))
"""


def prepare_arrays(run_dir: Path, folder: Path) -> dict[str, float]:
    """signals.csv positions + embedded prices -> .npy arrays shaped like the engine's inputs."""
    import json

    import numpy as np
    import pandas as pd

    signals = pd.read_csv(run_dir / "signals.csv", usecols=["date", "ticker", "position"])
    positions = signals.pivot(index="date", columns="ticker", values="position")
    stats = json.loads((run_dir / "stats.json").read_text())
    execution = stats["config"]["execution"]
    prices = pd.read_csv(EMBEDDED_PRICES, usecols=["date", "ticker", "open", "close"])
    prices = prices[prices["ticker"].isin(positions.columns)]
    at = execution["at"]

    def wide(column: str) -> np.ndarray:
        table = prices.pivot(index="date", columns="ticker", values=column)
        table = table.reindex(index=positions.index, columns=positions.columns)
        values = np.array(table.to_numpy(dtype=np.float64), copy=True)
        values[~(np.isfinite(values) & (values > 0))] = np.nan
        return values

    price = wide(at)
    close = wide("close")
    mark = pd.DataFrame(np.where(np.isnan(close), price, close)).ffill().to_numpy()
    np.save(folder / "positions.npy", positions.to_numpy(dtype=np.int8))
    np.save(folder / "price.npy", price)
    np.save(folder / "close.npy", np.where(np.isnan(mark), 1.0, mark))
    equity = pd.read_csv(run_dir / "equity.csv")
    cash = float(execution["initial_cash"]) / positions.shape[1]
    return {
        "cash_per_sleeve": cash,
        "fees": float(execution["fees"]),
        "slippage": float(execution["slippage"]),
        "final_equity": float(equity["equity"].iloc[-1]),
        "final_benchmark": float(equity["benchmark"].iloc[-1]),
        "tickers": float(positions.shape[1]),
        "sessions": float(positions.shape[0]),
    }


def parse_profile(stdout: str) -> dict[str, float]:
    """Stage -> seconds from the table ``backtest run --profile`` prints."""
    found: dict[str, float] = {}
    in_table = False
    for line in stdout.splitlines():
        if re.match(r"^stage\s+seconds\s*$", line):
            in_table = True
            continue
        match = re.match(r"^(\w+)\s+(-?[\d.]+)\s*$", line)
        if in_table and match:
            found[match.group(1)] = float(match.group(2))
        elif in_table and line.strip():
            break
    return found


def product_command(out: Path) -> list[str]:
    return [*backtest_command(), "run", "--profile", "--quiet", "--out", str(out), "--force"]


def without_package_caches(cache: Path, copy: Path) -> int:
    """Copy the numba cache folder ``cache`` to ``copy`` minus this package's entries (numba
    names a cache sub-folder ``<source folder name>_<sha1 of its path>``); returns how many
    sub-folders were left out."""
    package = Path(run_once(python_script(PACKAGE_DIR)).stdout.strip())
    ours = {
        f"{folder.name}_{hashlib.sha1(str(folder).encode()).hexdigest()}"
        for folder in [package, *(p for p in package.rglob("*") if p.is_dir())]
    }
    shutil.copytree(cache, copy, ignore=lambda d, names: [n for n in names if n in ours])
    return sum(1 for p in cache.iterdir() if p.name in ours)


def run(repeats: int = 3, work: Path | None = None) -> Section:
    """Measure and return the RESULTS.md section; run folders stay in ``work`` when given
    (``measured["run_dir"]`` and ``measured["warm"]`` let the backtesting.py figure reuse them)."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
            return run(repeats, Path(tmp))
    cold_cache = work / "numba-cold"
    cold_cache.mkdir()
    cold = run_once(product_command(work / "run-cold"), env={"NUMBA_CACHE_DIR": str(cold_cache)})
    vbt_cache = work / "numba-vectorbt-only"
    removed = without_package_caches(cold_cache, vbt_cache)
    cold_ours = run_once(
        product_command(work / "run-cold-ours"), env={"NUMBA_CACHE_DIR": str(vbt_cache)}
    )
    facts = prepare_arrays(work / "run-cold", work)
    bare_cmd = python_script(
        BARE_VECTORBT,
        str(work),
        str(facts["cash_per_sleeve"]),
        str(facts["fees"]),
        str(facts["slippage"]),
    )
    env = {"NUMBA_CACHE_DIR": str(cold_cache)}
    run_once(bare_cmd, env=env)  # vectorbt's signal simulator: not cached, but its helpers are
    warm = Measurement("backtest run (warm)")
    importing = Measurement(IMPORT_VECTORBT)
    bare = Measurement("bare vectorbt (warm)")
    for i in range(repeats):
        warm.runs.append(run_once(product_command(work / f"run-{i}"), env=env))
        importing.runs.append(run_once(python_script("import vectorbt"), env=env))
        bare.runs.append(run_once(bare_cmd, env=env))
    bare_final = [float(x) for x in bare.last.stdout.split()]
    section = _section(cold, cold_ours, removed, warm, importing, bare, facts, bare_final, repeats)
    section.measured.update(run_dir=work / "run-0", warm=warm)
    return section


def _section(
    cold: Run,
    cold_ours: Run,
    removed: int,
    warm: Measurement,
    importing: Measurement,
    bare: Measurement,
    facts: dict[str, float],
    bare_final: list[float],
    repeats: int,
) -> Section:
    base = importing.median_s
    hot = warm.median_s
    rows = [
        [
            f"`{IMPORT_VECTORBT}` (baseline)",
            seconds(base),
            mib(importing.peak_rss_mib),
            "1.00x",
            "-",
        ],
        [
            "`backtest run`, warm",
            seconds(hot),
            mib(warm.peak_rss_mib),
            times(ratio(hot, base)),
            "1.00x",
        ],
        [
            "`backtest run`, cold: every numba cache empty",
            seconds(cold.wall_s),
            mib(cold.peak_rss_mib),
            times(ratio(cold.wall_s, base)),
            times(ratio(cold.wall_s, hot)),
        ],
        [
            "`backtest run`, cold for news-backtest only (vectorbt's cache warm)",
            seconds(cold_ours.wall_s),
            mib(cold_ours.peak_rss_mib),
            times(ratio(cold_ours.wall_s, base)),
            times(ratio(cold_ours.wall_s, hot)),
        ],
        [
            "bare vectorbt `from_signals` script, warm (the earlier baseline)",
            seconds(bare.median_s),
            mib(bare.peak_rss_mib),
            times(ratio(bare.median_s, base)),
            times(ratio(bare.median_s, hot)),
        ],
    ]
    body = markdown_table(
        [
            "run",
            f"wall (median of {repeats} when warm)",
            "peak RSS",
            "vs import vectorbt",
            "vs warm run",
        ],
        rows,
    )
    cold_stages = parse_profile(cold.stdout)
    ours_stages = parse_profile(cold_ours.stdout)
    warm_stages = [parse_profile(r.stdout) for r in warm.runs]
    stage_rows = []
    extra = sorted((set(cold_stages) | set(ours_stages)) - set(STAGES) - {"total"})
    for stage in (*STAGES, *extra):
        warm_values = [s[stage] for s in warm_stages if stage in s]
        stage_rows.append(
            [
                stage,
                seconds(cold_stages[stage]) if stage in cold_stages else "-",
                seconds(ours_stages[stage]) if stage in ours_stages else "-",
                seconds(statistics.median(warm_values)) if warm_values else "-",
            ]
        )
    body += (
        f"\n\nStage breakdown from `backtest run --profile` "
        f"({int(facts['tickers'])} tickers x {int(facts['sessions'])} sessions):\n\n"
    )
    body += markdown_table(
        ["stage", "cold", "cold, news-backtest only", f"warm (median of {repeats})"],
        stage_rows,
    )
    import_target = Target(
        '`backtest run` warm vs `python -c "import vectorbt"`', ratio(hot, base), IMPORT_TARGET
    )
    cold_target = Target(
        "`backtest run` cold first run vs warm run", ratio(cold.wall_s, hot), COLD_TARGET
    )
    same = (
        abs(bare_final[0] - facts["final_equity"]) <= 1e-6 * facts["final_equity"]
        and abs(bare_final[1] - facts["final_benchmark"]) <= 1e-6 * facts["final_benchmark"]
    )
    notes = [
        import_target.describe(),
        cold_target.describe(),
        f"Without this package's {removed} numba cache folders (vectorbt's kept warm) the first "
        f"run takes {times(ratio(cold_ours.wall_s, hot))} the warm run: the rest of the cold "
        "run is vectorbt compiling its simulator, trade records and helpers.",
        "`backtest run` warm vs the bare `from_signals` script: "
        f"{times(ratio(hot, bare.median_s))} (the earlier comparison, target <= 2x; that "
        "script recompiles vectorbt's signal simulator in every process, ~6 s).",
        "Bare script reproduces the run's final equity and benchmark: "
        + ("yes" if same else f"NO (bare {bare_final}, run {facts['final_equity']})"),
    ]
    return Section(
        "End to end: `backtest run` on the embedded data",
        body,
        notes,
        [import_target, cold_target],
    )


def main() -> None:
    repeats_main(run, __doc__, default_repeats=3)


if __name__ == "__main__":
    main()
