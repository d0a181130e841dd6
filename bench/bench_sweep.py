"""Sweeps: cost per parameter set against bare vectorbt on the same signals.

Targets: <= 3x at 10 sets and <= 1.5x from 100 sets on (a small sweep carries its fixed
costs: loading and scoring the data once, the benchmark, the overfitting guards, the folder).

1. Prepare (untimed): the product computes every set's positions for the largest grid (10,000
   sets: 10 half-lives x 10 momentum lookbacks x 10 bull x 10 bear thresholds on the embedded
   data) and saves them as one sessions x (sets x tickers) int8 array, with the fill prices
   and valuation marks the engine uses. Smaller grids are the first 10, 100, 1,000 sets of it
   (the last grid key varies fastest), so both sides see the same sets.
2. For each size, two fresh processes: the real ``backtest sweep`` command run in-process
   through the Typer app (prepare once, chunks of signals, positions, grouped
   ``from_orders``, trades, figures, overfitting guards, sweep.csv/json/html), and a bare
   script turning the precomputed positions into orders with numpy (one order where the
   target changes on a session with a price) and running ``Portfolio.from_orders`` with
   ``group_by`` in chunks of the same size, as the engine does, then each set's value and
   total return. Each process first
   runs two sets untimed (numba and vectorbt compile), then times a two-set and the n-set
   sweep. Cost per set = the n-set sweep / n (the target); the price of each extra set,
   (n-set - two-set) / (n - 2), is shown next to it. Peak RSS is the whole process's.
3. Growth: the 100-set grid on seeded synthetic data with the sessions, then the tickers,
   doubled; the ratio of sweep times shows how the cost scales.

    python -m bench.bench_sweep [--sizes 10,100,1000,10000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    Run,
    Section,
    Target,
    markdown_table,
    mib,
    python_script,
    ratio,
    run_once,
    seconds,
    times,
)

TARGET_RATIO = 1.5
TARGETS = {10: 3.0}
"""Per-size targets where they differ from TARGET_RATIO."""
SIZES = (10, 100, 1_000, 10_000)
GRID: tuple[tuple[str, list[Any]], ...] = (
    ("signal.half_life", [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]),
    ("signal.momentum_lookback", [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]),
    ("signal.bull_above", [55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0, 64.0]),
    ("signal.bear_below", [36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0]),
)
GROWTH_SETS = 100
GROWTH_SHAPES = (("base", 1000, 40), ("2x sessions", 2000, 40), ("2x tickers", 1000, 80))
GROWTH_REPEATS = 3
"""Timed sweeps per growth process (median), after the untimed warm-up."""


def timed_repeats(n_sets: int) -> int:
    """Sweeps timed in one process (median): small sweeps are short enough to be noisy."""
    return 3 if n_sets <= 1_000 else 1


def grid_for(n_sets: int) -> tuple[list[str], list[str]]:
    """(--set overrides, --grid items) whose product is the first ``n_sets`` sets of GRID."""
    varied = {10: 1, 100: 2, 1_000: 3, 10_000: 4}[n_sets]
    fixed, swept = GRID[: len(GRID) - varied], GRID[len(GRID) - varied :]
    sets = [f"{key}={values[0]!r}" for key, values in fixed]
    items = [f"{key}={','.join(repr(v) for v in values)}" for key, values in swept]
    return sets, items


PREPARE = """
import json, sys
import numpy as np
from backtest.config import load_config
from backtest.engine import tradeable_price, valuation_price
from backtest.signals import period_positions
from backtest.sweeps import parse_grid, prepare_sweep, set_labels

folder, overrides, items = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
data = prepare_sweep(load_config(None, overrides), parse_grid(items))
rows = data.rows
configs = data.expansion.configs
exec_price = data.panel.exec_price(configs[0].execution.at)[rows]
n_sessions, n_tickers = exec_price.shape
out = np.lib.format.open_memmap(
    f"{folder}/positions.npy", mode="w+", dtype=np.int8,
    shape=(n_sessions, len(configs) * n_tickers),
)
cache = {}
for j, config in enumerate(configs):
    labels = set_labels(data, config, cache)
    out[:, j * n_tickers:(j + 1) * n_tickers] = period_positions(
        labels[rows], exec_price, config.execution
    )
out.flush()
mark = valuation_price(exec_price, data.panel.close[rows])
np.save(f"{folder}/price.npy", tradeable_price(exec_price))
np.save(f"{folder}/close.npy", np.where(np.isnan(mark), 1.0, mark))
e = configs[0].execution
print(json.dumps({"cash": e.initial_cash / n_tickers, "fees": e.fees, "slippage": e.slippage,
                  "tickers": n_tickers, "sessions": n_sessions}))
"""

PRODUCT = """
import json, statistics, sys, tempfile, time
started = time.perf_counter()
from backtest.cli import app

overrides, items = json.loads(sys.argv[1]), json.loads(sys.argv[2])
timed_repeats = int(sys.argv[3])


def head(item, count):
    key, values = item.split("=")
    return key + "=" + ",".join(values.split(",")[:count])


first_two = [head(item, 1) for item in items[:-1]] + [head(items[-1], 2)]
out = tempfile.mkdtemp(prefix="bench-sweep-out-") + "/sweep"


def invoke(grid):
    args = ["sweep", "--quiet", "--out", out, "--force"]
    for item in overrides:
        args += ["--set", item]
    for item in grid:
        args += ["--grid", item]
    begin = time.perf_counter()
    app(args, standalone_mode=False)
    wall = time.perf_counter() - begin
    summary = json.load(open(out + "/sweep.json"))
    timings = summary["timings_s"]
    return wall, timings["simulate"], timings


invoke(first_two)
warm = time.perf_counter()
two = [invoke(first_two) for _ in range(timed_repeats)]
every = [invoke(items) for _ in range(timed_repeats)]
summary = json.load(open(out + "/sweep.json"))
with open(out + "/sweep.csv") as f:
    import csv
    total_return = [float(row["total_return"]) for row in csv.DictReader(f)]
print(json.dumps({
    "startup": warm - started,
    "two": statistics.median(t[0] for t in two),
    "all": statistics.median(t[0] for t in every),
    "simulate": statistics.median(t[1] for t in every),
    "stages": {k: statistics.median(t[2].get(k, 0.0) for t in every) for k in every[-1][2]},
    "chunk": summary["execution"]["chunk_size"], "total_return": total_return,
}))
"""


BARE = """
import json, sys, time, warnings
started = time.perf_counter()
import numpy as np
import vectorbt as vbt

folder, n_sets, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cash, fees, slippage = (float(x) for x in sys.argv[4:7])
timed_repeats = int(sys.argv[7])
warnings.filterwarnings("ignore", message=r".*inplace keyword")
positions = np.load(f"{folder}/positions.npy", mmap_mode="r")
price = np.load(f"{folder}/price.npy")
close = np.load(f"{folder}/close.npy")
n_tickers = price.shape[1]


def orders(pos, price):
    # One order where the target differs from the side held and the price is usable:
    # +inf / -inf shares (all in, reversals included) or a target of 0 shares (flat).
    usable = np.isfinite(price) & (price > 0)
    rows = np.arange(pos.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(usable, rows, -1), axis=0)
    held = np.where(last >= 0, np.take_along_axis(pos, np.maximum(last, 0), axis=0), 0)
    before = np.vstack([np.zeros((1, pos.shape[1]), dtype=pos.dtype), held[:-1]])
    change = usable & (pos != before)
    size = np.where(change, np.where(pos > 0, np.inf, np.where(pos < 0, -np.inf, 0.0)), np.nan)
    return size, np.where(change & (pos == 0), 3, 0).astype(np.int8)


def total_returns(first, stop):
    m = stop - first
    pos = np.asarray(positions[:, first * n_tickers:stop * n_tickers])
    prices = np.tile(price, (1, m))
    size, size_type = orders(pos, prices)
    pf = vbt.Portfolio.from_orders(
        np.tile(close, (1, m)), size=size, size_type=size_type, direction="both",
        price=prices, fees=fees, slippage=slippage, val_price=np.inf, init_cash=cash,
        cash_sharing=False, group_by=np.repeat(np.arange(m), n_tickers),
        max_orders=int(np.count_nonzero(~np.isnan(size))),
    )
    value = np.asarray(pf.value())
    return value[-1] / (cash * n_tickers) - 1


def timed(fn):
    begin = time.perf_counter()
    result = fn()
    return time.perf_counter() - begin, result


def sweep():
    return [total_returns(a, min(a + chunk, n_sets)) for a in range(0, n_sets, chunk)]


total_returns(0, 2)
warm = time.perf_counter()
t_two = sorted(timed(lambda: total_returns(0, 2))[0] for _ in range(timed_repeats))
runs = [timed(sweep) for _ in range(timed_repeats)]
t_all = sorted(t for t, _ in runs)
print(json.dumps({"startup": warm - started, "two": t_two[len(t_two) // 2],
                  "all": t_all[len(t_all) // 2], "simulate": t_all[len(t_all) // 2],
                  "stages": {}, "chunk": chunk,
                  "total_return": np.concatenate(runs[-1][1]).tolist()}))
"""


def _json(run: Run) -> dict[str, Any]:
    return json.loads(run.stdout.strip().splitlines()[-1])


def measure_sizes(sizes: tuple[int, ...], repeats: int, work: Path) -> list[dict[str, Any]]:
    """Product and bare sweep at each size; medians of ``repeats`` fresh processes."""
    overrides, items = grid_for(max(sizes))
    facts = json.loads(
        run_once(
            python_script(PREPARE, str(work), json.dumps(overrides), json.dumps(items))
        ).stdout.splitlines()[-1]
    )
    results = []
    for n in sizes:
        overrides, items = grid_for(n)
        product_runs, bare_runs = [], []
        for _ in range(repeats):
            inner = str(timed_repeats(n))
            product_runs.append(
                run_once(python_script(PRODUCT, json.dumps(overrides), json.dumps(items), inner))
            )
            chunk = _json(product_runs[-1])["chunk"]
            bare_cmd = python_script(
                BARE,
                str(work),
                str(n),
                str(chunk),
                str(facts["cash"]),
                str(facts["fees"]),
                str(facts["slippage"]),
                inner,
            )
            bare_runs.append(run_once(bare_cmd))
        results.append(
            {
                "sets": n,
                "product": _summary(product_runs, n),
                "bare": _summary(bare_runs, n),
                "facts": facts,
                "agree": _agree(_json(product_runs[-1]), _json(bare_runs[-1])),
            }
        )
    return results


def _summary(runs: list[Run], n_sets: int) -> dict[str, Any]:
    """Medians over processes; the marginal cost per set is (n sets - two sets) / (n - 2).

    Two sets, not one, are the reference because the overfitting guards need at least two
    sets: their fixed cost then stays out of the per-set figure."""
    parsed = [_json(r) for r in runs]

    def median(key: str) -> float:
        return statistics.median(p[key] for p in parsed)

    two, every = median("two"), median("all")
    return {
        "two": two,
        "all": every,
        "per_set": (every - two) / (n_sets - 2) if n_sets > 2 else every / n_sets,
        "simulate": median("simulate"),
        "stages": {
            k: statistics.median(p["stages"].get(k, 0.0) for p in parsed)
            for k in parsed[-1]["stages"]
        },
        "startup": median("startup"),
        "wall": statistics.median(r.wall_s for r in runs),
        "rss": max(r.peak_rss_mib for r in runs),
        "chunk": parsed[-1]["chunk"],
    }


def _once_per_sweep(product: dict[str, Any]) -> float:
    """Seconds of the sweep's stages that are not simulation or guards (grid, load, score...)."""
    return sum(v for k, v in product["stages"].items() if k not in ("simulate", "guards"))


def _agree(product: dict[str, Any], bare: dict[str, Any]) -> bool:
    a, b = product["total_return"], bare["total_return"]
    return len(a) == len(b) and all(
        abs(x - y) <= 1e-9 * max(1.0, abs(x)) for x, y in zip(a, b, strict=True)
    )


SYNTHETIC = """
import sys
import numpy as np
import pandas as pd
import exchange_calendars as xcals

folder, n_sessions, n_tickers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(20261129)
calendar = xcals.get_calendar("XNYS")
sessions = calendar.sessions_in_range("2010-01-04", "2024-12-31")[:n_sessions]
tickers = [f"T{i:03d}" for i in range(n_tickers)]
close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, (n_sessions, n_tickers)), axis=0))
open_ = close * np.exp(rng.normal(0, 0.005, close.shape))
frame = pd.DataFrame({
    "date": np.repeat(sessions.strftime("%Y-%m-%d"), n_tickers),
    "ticker": np.tile(tickers, n_sessions),
    "open": open_.ravel(), "high": np.maximum(open_, close).ravel() * 1.01,
    "low": np.minimum(open_, close).ravel() * 0.99, "close": close.ravel(),
    "volume": rng.integers(100_000, 10_000_000, close.size),
})
frame.to_csv(f"{folder}/prices.csv", index=False)
phrases = ["shares surge after strong earnings", "stock plunges on weak outlook",
           "company beats estimates and raises guidance", "shares fall after downgrade",
           "company announces quarterly dividend", "regulator opens probe into company"]
n_news = n_sessions * n_tickers // 2
day = rng.integers(0, n_sessions, n_news)
stamp = sessions[day] + pd.to_timedelta(rng.integers(0, 24 * 60, n_news), unit="min")
pd.DataFrame({
    "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:00+00:00"),
    "ticker": np.asarray(tickers)[rng.integers(0, n_tickers, n_news)],
    "headline": np.asarray(phrases)[rng.integers(0, len(phrases), n_news)],
}).to_csv(f"{folder}/headlines.csv", index=False)
"""


def measure_growth(work: Path) -> list[dict[str, Any]]:
    """The GROWTH_SETS sweep on synthetic data of growing shape (sessions, tickers)."""
    base_sets, items = grid_for(GROWTH_SETS)
    out = []
    for label, n_sessions, n_tickers in GROWTH_SHAPES:
        folder = work / f"synthetic-{n_sessions}x{n_tickers}"
        folder.mkdir()
        run_once(python_script(SYNTHETIC, str(folder), str(n_sessions), str(n_tickers)))
        overrides = [
            *base_sets,
            f'data.prices="{folder / "prices.csv"}"',
            f'data.headlines="{folder / "headlines.csv"}"',
        ]
        run = run_once(
            python_script(PRODUCT, json.dumps(overrides), json.dumps(items), str(GROWTH_REPEATS))
        )
        parsed = _json(run)
        out.append(
            {
                "label": label,
                "sessions": n_sessions,
                "tickers": n_tickers,
                "all": parsed["all"],
                "simulate": parsed["simulate"],
                "rss": run.peak_rss_mib,
            }
        )
    return out


def run(sizes: tuple[int, ...] = SIZES, repeats: int = 1) -> Section:
    """Measure and return the RESULTS.md section."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        work = Path(tmp)
        by_size = measure_sizes(sizes, repeats, work)
        growth = measure_growth(work)
    return _section(by_size, growth, repeats)


def _section(by_size: list[dict[str, Any]], growth: list[dict[str, Any]], repeats: int) -> Section:
    facts = by_size[0]["facts"]
    rows = []
    targets = []
    for item in by_size:
        n, p, b = item["sets"], item["product"], item["bare"]
        per_set_ratio = ratio(p["all"], b["all"])
        rows.append(
            [
                f"{n:,}",
                seconds(p["all"] / n),
                seconds(b["all"] / n),
                times(per_set_ratio),
                f"{seconds(p['per_set'])} / {seconds(b['per_set'])}",
                times(ratio(p["per_set"], b["per_set"])) if n > 2 else "-",
                seconds(_once_per_sweep(p)),
                f"{seconds(p['wall'])} / {seconds(b['wall'])}",
                f"{mib(p['rss'])} / {mib(b['rss'])}",
                f"{p['chunk']:,}",
                "yes" if item["agree"] else "NO",
            ]
        )
        targets.append(
            Target(
                f"`backtest sweep` cost per set vs bare vectorbt, {n:,} sets",
                per_set_ratio,
                TARGETS.get(n, TARGET_RATIO),
            )
        )
    body = (
        f"Embedded data, {facts['tickers']} tickers x {facts['sessions']} sessions per set. "
        f"{repeats} fresh process(es) per size and side; inside each, after an untimed two-set "
        f"warm-up, the two-set and the n-set sweep are timed {timed_repeats(1)} times up to 1,000 "
        "sets and once above (median). Per set = the warm n-set sweep / n (the target); per "
        "extra set = (n-set - two-set) / (n - 2), what one more set adds once the sweep's fixed "
        "costs are paid (below the timer noise at 10 sets).\n\n"
    )
    body += markdown_table(
        [
            "sets",
            "ours per set",
            "bare vectorbt per set",
            "ratio",
            "per extra set: ours / bare",
            "ratio",
            "ours: grid, load, score, place (once)",
            "process wall: ours / bare",
            "peak RSS: ours / bare",
            "sets per chunk",
            "same total returns",
        ],
        rows,
    )
    base = growth[0]
    growth_rows = [
        [
            g["label"],
            f"{g['sessions']:,} x {g['tickers']}",
            seconds(g["all"]),
            times(ratio(g["all"], base["all"])),
            seconds(g["simulate"]),
            times(ratio(g["simulate"], base["simulate"])),
            mib(g["rss"]),
        ]
        for g in growth
    ]
    body += (
        f"\n\nGrowth: {GROWTH_SETS} sets on seeded synthetic prices and headlines "
        f"(median of {GROWTH_REPEATS} warm sweeps in one process):\n\n"
    )
    body += markdown_table(
        [
            "shape",
            "sessions x tickers",
            "`backtest sweep`",
            "vs base",
            "of which simulation",
            "vs base",
            "peak RSS",
        ],
        growth_rows,
    )
    notes = [t.describe() for t in targets]
    for item, target in zip(by_size, targets, strict=True):
        if not target.met:
            p, b = item["product"], item["bare"]
            stages = ", ".join(f"{k} {seconds(v)}" for k, v in p["stages"].items())
            outputs = p["all"] - sum(p["stages"].values())
            notes.append(
                f"{item['sets']:,} sets miss the target. Ours' {seconds(p['all'])}: {stages}, "
                f"writing sweep.csv/json/html {seconds(max(outputs, 0.0))}; bare vectorbt "
                f"{seconds(b['all'])}, simulation only."
            )
    notes.append(
        "Ours is the real `backtest "
        "sweep` command run in-process (signals, positions, grouped from_orders, trades, "
        "figures per set, overfitting guards, sweep.csv/json/html); bare vectorbt gets the "
        "positions precomputed, turns them into orders with numpy, runs from_orders with "
        "group_by in chunks of the same size and returns each set's total return. Process "
        "wall includes imports and the first numba and vectorbt compilation."
    )
    return Section("Sweeps: cost per parameter set", body, notes, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(run(sizes, args.repeats).markdown())


if __name__ == "__main__":
    main()
