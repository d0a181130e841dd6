"""``backtest decay``: the edge at each latency, from one prepared market.

Planted news at 09:20 New York knows open(t) -> open(t+1): with a latency of at most 10
minutes it trades at that open and profits; with 15 minutes, or pushed to the next open, it
trades a session late and earns nothing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import EMBEDDED, SLICE_END, SLICE_START, SLICE_TICKERS, run_cli

from backtest.decay import DECAY_COLUMNS, decay, edge_halves_at, parse_latencies
from backtest.errors import InputError
from backtest.market import prepare

TICKERS = ("AAPL", "BA", "CVX", "JNJ", "KO", "MSFT", "PG", "WMT")
BULLISH = "{t} shares soar to record high as profit beats estimates and guidance is raised"
BEARISH = "{t} shares plunge as profit misses estimates, guidance is cut and a probe is opened"
NEWS_ONLY = {
    "signal.news_weight": 1,
    "signal.momentum_weight": 0,
    "signal.half_life": 0.5,
    "signal.news_scale": 0.3,
}


def planted(prices: pd.DataFrame, publish: str) -> pd.DataFrame:
    """One story per ticker and session, at ``publish`` New York time, telling the sign of
    open(t+1) / open(t) - 1."""
    frames = []
    for ticker, group in prices.groupby("ticker"):
        group = group.sort_values("date")
        move = group["open"].shift(-1).to_numpy() / group["open"].to_numpy() - 1.0
        keep = np.isfinite(move) & (move != 0)
        wall = pd.DatetimeIndex(pd.to_datetime(group["date"].to_numpy()[keep]))
        stamps = (wall + pd.Timedelta(publish)).tz_localize("America/New_York")
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "ticker": ticker,
                    "headline": [
                        (BULLISH if up else BEARISH).format(t=ticker) for up in move[keep] > 0
                    ],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    frame = pd.read_csv(EMBEDDED / "prices.csv.gz")
    return frame[frame["ticker"].isin(TICKERS)].reset_index(drop=True)


def test_planted_news_profits_only_at_latencies_that_reach_its_open(prices: pd.DataFrame) -> None:
    market = prepare(prices=prices, headlines=planted(prices, "09:20:00"), overrides=NEWS_ONLY)
    result = decay(market, market.config, ["0s", "5min", "15min", "1h", "next_open"])
    by = {p.latency: p for p in result.points}
    for label in ("0s", "5min"):
        assert by[label].sharpe > 3, (label, by[label])
        assert by[label].mean_trade_return > 0.005, (label, by[label])
    for label in ("15min", "1h", "next_open"):
        assert by[label].sharpe < 1, (label, by[label])
        assert abs(by[label].mean_trade_return) < by["5min"].mean_trade_return / 5, by[label]
    assert result.halves_at == "15min"
    assert list(result.table["latency"]) == ["0s", "5min", "15min", "1h", "next_open"]


def test_next_close_trades_a_full_session_after_the_first_close(prices: pd.DataFrame) -> None:
    market = prepare(prices=prices, headlines=planted(prices, "09:20:00"), overrides=NEWS_ONLY)
    config = market.config
    from backtest.decay import latency_config, pushed

    at_close = market.placed(latency_config(config, "next_close"))
    later = pushed(at_close, 1, len(market.dates))
    kept = at_close.frame["session_idx"].to_numpy() + 1 < len(market.dates)
    np.testing.assert_array_equal(
        later.frame["session_idx"].to_numpy(), at_close.frame["session_idx"].to_numpy()[kept] + 1
    )
    assert later.dropped_after_data == at_close.dropped_after_data + int((~kept).sum())


def test_edge_halves_at_needs_a_positive_first_edge() -> None:
    from backtest.decay import DecayPoint

    def point(label: str, mean: float) -> DecayPoint:
        return DecayPoint(label, 10, mean, 0.001, 0.5, 1.0, 0.1)

    assert edge_halves_at([point("0s", 0.01), point("5min", 0.006), point("1h", 0.005)]) == "1h"
    assert edge_halves_at([point("0s", -0.01), point("5min", -0.02)]) is None
    assert edge_halves_at([point("0s", 0.01), point("5min", 0.009)]) is None


@pytest.mark.parametrize("text", ["0s,soon", "", "5min,5min"])
def test_bad_latencies_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match="--latencies"):
        parse_latencies(text)


def test_cli_writes_decay_csv_json_html_and_its_default_latency_row_is_the_run(
    tmp_path: Path,
) -> None:
    common = [
        "--tickers",
        ",".join(SLICE_TICKERS),
        "--start",
        SLICE_START,
        "--end",
        SLICE_END,
    ]
    done = run_cli(
        "decay",
        *common,
        "--latencies",
        "0,5min,1h,next_open,next_close",
        "--out",
        str(tmp_path / "decay"),
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "decay"
    with (folder / "decay.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(DECAY_COLUMNS)
    assert [r["latency"] for r in rows] == ["0", "5min", "1h", "next_open", "next_close"]
    run = run_cli("run", *common, "--out", str(tmp_path / "run"))
    assert run.returncode == 0, run.stderr
    stats = json.loads((tmp_path / "run" / "stats.json").read_text(encoding="utf-8"))
    strategy = stats["stats"]["strategy"]
    five = rows[1]
    assert int(five["trades"]) == strategy["trades"]
    assert float(five["sharpe"]) == pytest.approx(strategy["sharpe"], rel=1e-9)
    assert float(five["total_return"]) == pytest.approx(strategy["total_return"], rel=1e-9)
    summary = json.loads((folder / "decay.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "decay" and len(summary["points"]) == 5
    page = (folder / "decay.html").read_text(encoding="utf-8")
    assert 'id="decay-table"' in page and 'data-figure="fig-decay"' in page
    assert "next_close" in page


def test_cli_bad_latency_is_one_line_exit_2(tmp_path: Path) -> None:
    done = run_cli("decay", "--latencies", "0s,later", "--out", str(tmp_path / "d"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'later' is not a latency" in lines[0], done.stderr
    assert not (tmp_path / "d").exists()
