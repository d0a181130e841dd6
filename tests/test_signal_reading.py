"""``backtest signal``: the reading quotes the close as given, and its signal is the row that
``backtest run`` trades (one code path)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import EMBEDDED, run_cli

from backtest.config import load_config
from backtest.reading import signal_readings
from backtest.runner import run as run_strategy


def test_reading_quotes_the_asof_close_and_its_change_from_the_embedded_prices() -> None:
    result = run_cli("signal", "AAPL", "MSFT", "--asof", "2015-06-01", "--json")
    assert result.returncode == 0, result.stderr
    readings = {r["ticker"]: r for r in json.loads(result.stdout)}
    prices = pd.read_csv(EMBEDDED / "prices.csv.gz")
    for ticker in ("AAPL", "MSFT"):
        rows = prices[prices["ticker"] == ticker].set_index("date")["close"]
        assert readings[ticker]["asof"] == "2015-06-01"
        assert readings[ticker]["close"] == rows["2015-06-01"]
        assert readings[ticker]["change"] == pytest.approx(
            rows["2015-06-01"] / rows["2015-05-29"] - 1, rel=1e-12
        )
        assert readings[ticker]["label"] in {"bull", "neutral", "bear"}


def test_plain_reading_has_the_house_lines_and_no_emoji_when_asked() -> None:
    result = run_cli("signal", "AAPL", "--asof", "2015-06-01", "--no-emoji")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "AAPL last traded near $130.54 (+0.20%) on 2015-06-01."
    assert lines[1].startswith("Composite signal reads ")
    assert "blending price momentum and news flow." in lines[1]
    assert lines[2].startswith("Price momentum scores ")
    assert "News flow scores " in lines[2]
    assert not any(mark in result.stdout for mark in ("🟢", "🟡", "🔴"))


def test_reading_is_the_signal_row_that_run_trades(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = slice_files
    config = load_config(
        None,
        [
            f'data.prices="{prices}"',
            f'data.headlines="{headlines}"',
            'data.start="2014-09-02"',
            'data.end="2015-06-30"',
        ],
    )
    run_dir = run_strategy(config).save(tmp_path / "run")
    signals = pd.read_csv(run_dir / "signals.csv")
    for date in ("2014-10-15", "2015-03-02", "2015-06-30"):
        readings = signal_readings(config, ["AAPL", "KO"], date)
        for reading in readings:
            row = signals[(signals["date"] == date) & (signals["ticker"] == reading.ticker)]
            assert reading.composite == pytest.approx(row["composite"].item(), rel=1e-12)
            assert reading.news == pytest.approx(row["news"].item(), rel=1e-12)
            assert reading.label == row["label"].item()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("ZZZZ",), "ZZZZ"),
        (("AAPL", "--asof", "2030-01-01"), "outside the data"),
        (("AAPL", "--asof", "June"), "not a date"),
    ],
    ids=["unknown ticker", "asof after the data", "asof not a date"],
)
def test_bad_reading_request_is_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    result = run_cli("signal", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
