"""``backtest run`` end to end through the real console script, on a slice of the real data,
and an independent recomputation of its equity from signals.csv and the prices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SLICE_END, SLICE_START, run_cli

RUN_FILES = {
    "report.html",
    "stats.json",
    "equity.csv",
    "trades.csv",
    "signals.csv",
    "config.toml",
}


@pytest.fixture(scope="module")
def run_dir(slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    prices, headlines = slice_files
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli(
        "run",
        "--prices",
        str(prices),
        "--headlines",
        str(headlines),
        "--start",
        SLICE_START,
        "--end",
        SLICE_END,
        "--set",
        "execution.fees=0.001",
        "--set",
        "execution.slippage=0.0005",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"Run folder: {out}" in result.stdout
    assert "Sharpe" in result.stdout
    return out


def test_run_writes_every_file_of_the_contract(run_dir: Path) -> None:
    assert {p.name for p in run_dir.iterdir()} >= RUN_FILES
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".partial")]


def test_equity_csv_spans_the_requested_period(run_dir: Path) -> None:
    equity = pd.read_csv(run_dir / "equity.csv")
    assert list(equity.columns) == ["date", "equity", "benchmark"]
    assert equity["date"].iloc[0] >= SLICE_START and equity["date"].iloc[-1] <= SLICE_END
    stats = json.loads((run_dir / "stats.json").read_text())
    assert stats["period"]["sessions"] == len(equity)
    initial_cash = stats["config"]["execution"]["initial_cash"]
    assert equity["equity"].iloc[-1] / initial_cash - 1 == pytest.approx(
        stats["stats"]["strategy"]["total_return"], rel=1e-9, abs=1e-12
    )


def test_signals_csv_has_the_documented_columns_and_labels(run_dir: Path) -> None:
    signals = pd.read_csv(run_dir / "signals.csv")
    assert list(signals.columns) == [
        "date",
        "ticker",
        "news",
        "momentum",
        "composite",
        "label",
        "position",
        "weight",
    ]
    assert set(signals["label"]) <= {"bull", "neutral", "bear"}
    assert set(signals["position"]) <= {-1, 0, 1}
    composite = signals["composite"].dropna()
    assert ((composite >= 0) & (composite <= 100)).all()


def test_config_toml_reruns_to_the_same_numbers(run_dir: Path, tmp_path: Path) -> None:
    again = run_cli(
        "run", "--strategy", str(run_dir / "config.toml"), "--out", str(tmp_path / "again")
    )
    assert again.returncode == 0, again.stderr
    for name in ("equity.csv", "trades.csv", "signals.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (run_dir / name).read_bytes(), name


def recompute_equity(
    positions: pd.DataFrame,
    price: pd.DataFrame,
    close: pd.DataFrame,
    cash: float,
    fee: float,
    slip: float,
) -> pd.Series:
    """Plain loop over sessions: each sleeve closes its holding, then goes all-in on the new side.

    Written from the engine's documented accounting, independently of vectorbt.
    """
    sleeves = []
    for ticker in positions.columns:
        money, shares, side, mark = cash, 0.0, 0, np.nan
        values = []
        for date in positions.index:
            target = int(positions.at[date, ticker])
            p = price.at[date, ticker]
            if target != side and np.isfinite(p) and p > 0:
                if shares > 0:
                    money += shares * p * (1 - slip) * (1 - fee)
                elif shares < 0:
                    money -= -shares * p * (1 + slip) * (1 + fee)
                shares = 0.0
                if target == 1:
                    shares = money / (p * (1 + slip) * (1 + fee))
                    money = 0.0
                elif target == -1:
                    sold = money / (p * (1 - slip) * (1 + fee))
                    money += sold * p * (1 - slip) * (1 - fee)
                    shares = -sold
                side = target
            c = close.at[date, ticker]
            if np.isfinite(c):
                mark = c
            elif np.isfinite(p):
                mark = p
            values.append(money + (shares * mark if shares else 0.0))
        sleeves.append(pd.Series(values, index=positions.index))
    return pd.concat(sleeves, axis=1).sum(axis=1)


def test_equity_is_reproduced_from_signals_and_prices(
    run_dir: Path, slice_files: tuple[Path, Path]
) -> None:
    stats = json.loads((run_dir / "stats.json").read_text())
    execution = stats["config"]["execution"]
    signals = pd.read_csv(run_dir / "signals.csv")
    positions = signals.pivot(index="date", columns="ticker", values="position")
    prices = pd.read_csv(slice_files[0])
    prices = prices[prices["date"].isin(positions.index)]
    exec_price = prices.pivot(index="date", columns="ticker", values=execution["at"]).reindex(
        index=positions.index, columns=positions.columns
    )
    close = prices.pivot(index="date", columns="ticker", values="close").reindex(
        index=positions.index, columns=positions.columns
    )
    cash = execution["initial_cash"] / positions.shape[1]
    expected = recompute_equity(
        positions, exec_price, close, cash, execution["fees"], execution["slippage"]
    )
    equity = pd.read_csv(run_dir / "equity.csv").set_index("date")["equity"]
    np.testing.assert_allclose(equity.to_numpy(), expected.to_numpy(), rtol=1e-6)
    assert (positions != 0).to_numpy().any(), "the slice must trade for this test to mean anything"


def test_bad_ticker_is_one_line_and_exit_2(slice_files: tuple[Path, Path], tmp_path: Path) -> None:
    prices, headlines = slice_files
    result = run_cli(
        "run",
        "--prices",
        str(prices),
        "--headlines",
        str(headlines),
        "--tickers",
        "AAPL,KOO",
        "--out",
        str(tmp_path / "never"),
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and "KOO" in lines[-1] and "did you mean KO?" in lines[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "never").exists()
