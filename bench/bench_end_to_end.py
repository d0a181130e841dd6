"""End to end: ``backtest run`` on the embedded data against a bare vectorbt script (target <= 2x).

1. Prepare (untimed): one ``backtest run`` writes signals.csv; its ``position`` column and the
   embedded prices become .npy arrays (positions, execution price, valuation close).
2. Cold run: ``backtest run --profile`` with NUMBA_CACHE_DIR pointing at a fresh empty folder
   (the package's ``__pycache__`` is left as it is), so every numba kernel compiles.
3. Warm runs, interleaved with the baseline: ``backtest run --profile`` reusing that cache, and
   a bare script that imports vectorbt, loads the arrays and runs the same two
   ``Portfolio.from_signals`` calls the engine makes (strategy and buy-and-hold benchmark) and
   their ``value()``. The baseline is what a researcher hand-rolling vectorbt pays at least;
   everything ``backtest run`` does beyond it (loading and checking data, calendars, scoring,
   signals, statistics, the run folder and report) is the product's own work.

    python -m bench.bench_end_to_end [--repeats 3]
"""

from __future__ import annotations

import re
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

TARGET_RATIO = 2.0
EMBEDDED_PRICES = REPO / "datasets" / "stocknet" / "prices.csv.gz"
STAGES = ("load", "align", "score", "signals", "simulate", "report")

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


def run(repeats: int = 3, work: Path | None = None) -> Section:
    """Measure and return the RESULTS.md section; run folders stay in ``work`` when given
    (``measured["run_dir"]`` and ``measured["warm"]`` let the backtesting.py figure reuse them)."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
            return run(repeats, Path(tmp))
    cold_cache = work / "numba-cold"
    cold_cache.mkdir()
    cold = run_once(product_command(work / "run-cold"), env={"NUMBA_CACHE_DIR": str(cold_cache)})
    facts = prepare_arrays(work / "run-cold", work)
    bare_cmd = python_script(
        BARE_VECTORBT,
        str(work),
        str(facts["cash_per_sleeve"]),
        str(facts["fees"]),
        str(facts["slippage"]),
    )
    bare_cache = work / "numba-bare-cold"
    bare_cache.mkdir()
    bare_cold = run_once(bare_cmd, env={"NUMBA_CACHE_DIR": str(bare_cache)})
    warm = Measurement("backtest run (warm)")
    bare = Measurement("bare vectorbt (warm)")
    for i in range(repeats):
        env = {"NUMBA_CACHE_DIR": str(cold_cache)}
        warm.runs.append(run_once(product_command(work / f"run-{i}"), env=env))
        bare.runs.append(run_once(bare_cmd, env=env))
    bare_final = [float(x) for x in bare.last.stdout.split()]
    section = _section(cold, bare_cold, warm, bare, facts, bare_final, repeats)
    section.measured.update(run_dir=work / "run-0", warm=warm)
    return section


def _section(
    cold: Run,
    bare_cold: Run,
    warm: Measurement,
    bare: Measurement,
    facts: dict[str, float],
    bare_final: list[float],
    repeats: int,
) -> Section:
    base = bare.median_s
    rows = [
        ["bare vectorbt script, warm (baseline)", seconds(base), mib(bare.peak_rss_mib), "1.00x"],
        [
            "bare vectorbt script, cold numba cache",
            seconds(bare_cold.wall_s),
            mib(bare_cold.peak_rss_mib),
            times(ratio(bare_cold.wall_s, base)),
        ],
        [
            "`backtest run`, cold numba cache",
            seconds(cold.wall_s),
            mib(cold.peak_rss_mib),
            times(ratio(cold.wall_s, base)),
        ],
        [
            "`backtest run`, warm",
            seconds(warm.median_s),
            mib(warm.peak_rss_mib),
            times(ratio(warm.median_s, base)),
        ],
    ]
    body = markdown_table(
        ["run", f"wall (median of {repeats} when warm)", "peak RSS", "vs baseline"], rows
    )
    cold_stages = parse_profile(cold.stdout)
    warm_stages = [parse_profile(r.stdout) for r in warm.runs]
    stage_rows = []
    for stage in (*STAGES, *sorted(set(cold_stages) - set(STAGES) - {"total"})):
        warm_values = [s[stage] for s in warm_stages if stage in s]
        stage_rows.append(
            [
                stage,
                seconds(cold_stages[stage]) if stage in cold_stages else "-",
                seconds(statistics.median(warm_values)) if warm_values else "-",
            ]
        )
    body += (
        f"\n\nStage breakdown from `backtest run --profile` "
        f"({int(facts['tickers'])} tickers x {int(facts['sessions'])} sessions):\n\n"
    )
    body += markdown_table(["stage", "cold", f"warm (median of {repeats})"], stage_rows)
    target = Target(
        "`backtest run` warm vs bare vectorbt", ratio(warm.median_s, base), TARGET_RATIO
    )
    same = (
        abs(bare_final[0] - facts["final_equity"]) <= 1e-6 * facts["final_equity"]
        and abs(bare_final[1] - facts["final_benchmark"]) <= 1e-6 * facts["final_benchmark"]
    )
    notes = [
        target.describe(),
        "The baseline runs the same two `from_signals` calls as the engine (strategy and "
        "buy-and-hold benchmark) on the same arrays and values them; vectorbt's signal "
        "simulator is not cached on disk, so both sides compile it in every process.",
        "Baseline reproduces the run's final equity and benchmark: "
        + ("yes" if same else f"NO (bare {bare_final}, run {facts['final_equity']})"),
    ]
    return Section("End to end: `backtest run` on the embedded data", body, notes, [target])


def main() -> None:
    repeats_main(run, __doc__, default_repeats=3)


if __name__ == "__main__":
    main()
