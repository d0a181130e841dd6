"""Planted news that knows the future must not profit unless it was published in time.

From the embedded real prices, one headline per ticker and session states the direction of the
very move a position entered at that session would earn (open to next open for open execution,
close to next close for close execution). Published in time (08:00 New York for open, 15:00 for
close) the strategy must earn a huge Sharpe; published after the decision point (16:05 New
York, inside the latency before the open or the close, or as a date-only stamp) it must earn
nothing. Stamps mix
UTC ``Z`` and local ``-04:00``/``-05:00`` offsets across DST changes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import EMBEDDED

from backtest.config import load_config
from backtest.runner import run as run_strategy
from backtest.scoring import score_headlines

TICKERS = ("AAPL", "BA", "CVX", "JNJ", "KO", "MSFT", "PG", "WMT")
BULLISH = "{t} shares soar to record high as profit beats estimates and guidance is raised"
BEARISH = "{t} shares plunge as profit misses estimates, guidance is cut and a probe is opened"
NEWS_ONLY = [
    "signal.news_weight=1",
    "signal.momentum_weight=0",
    "signal.half_life=0.5",
    "signal.news_scale=0.3",
]


@pytest.fixture(scope="module")
def real_prices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Five years of embedded real prices for eight tickers, written as a CSV input file."""
    prices = pd.read_csv(EMBEDDED / "prices.csv.gz")
    prices = prices[prices["ticker"].isin(TICKERS)].reset_index(drop=True)
    path = tmp_path_factory.mktemp("planted") / "prices.csv"
    prices.to_csv(path, index=False)
    return path, prices


def test_planted_texts_score_in_opposite_directions() -> None:
    bull, bear = score_headlines([BULLISH.format(t="X"), BEARISH.format(t="X")])
    assert bull > 0.5 and bear < -0.5


def _stamp(local_wall: pd.Series, style: np.ndarray) -> list[str]:
    """New York wall times -> ISO strings, alternately as UTC 'Z' and with the local offset."""
    local = pd.DatetimeIndex(local_wall).tz_localize("America/New_York")
    utc = local.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    offset = local.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(
        r"(\d{2})(\d{2})$", r"\1:\2", regex=True
    )
    return [u if s else o for u, o, s in zip(utc, offset, style, strict=True)]


def plant_headlines(
    prices: pd.DataFrame, *, price: str, publish: str, path: Path, date_only: bool = False
) -> Path:
    """One headline per ticker and session s telling the sign of price[s+1] / price[s] - 1.

    ``publish`` is the New York wall-clock time on session s's date.
    """
    rows = []
    for ticker, group in prices.groupby("ticker"):
        group = group.sort_values("date")
        move = group[price].shift(-1).to_numpy() / group[price].to_numpy() - 1.0
        dates = group["date"].to_numpy()
        keep = np.isfinite(move) & (move != 0)
        wall = pd.Series(pd.to_datetime(dates[keep]) + pd.Timedelta(publish))
        style = np.arange(keep.sum()) % 2 == 0
        stamps = list(dates[keep]) if date_only else _stamp(wall, style)
        for stamp, up in zip(stamps, move[keep] > 0, strict=True):
            text = (BULLISH if up else BEARISH).format(t=ticker)
            rows.append((stamp, ticker, text))
    frame = pd.DataFrame(rows, columns=["timestamp", "ticker", "headline"])
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


def sharpe_of_run(
    prices_path: Path, headlines_path: Path, out: Path, overrides: list[str]
) -> float:
    config = load_config(
        None,
        [
            f'data.prices="{prices_path}"',
            f'data.headlines="{headlines_path}"',
            *NEWS_ONLY,
            *overrides,
        ],
    )
    result = run_strategy(config)
    result.save(out)
    return float(result.summary["stats"]["strategy"]["sharpe"])


@pytest.mark.parametrize(
    ("at", "latency", "in_time", "too_late"),
    [
        ("open", "5min", "08:00:00", "16:05:00"),
        # The default 5 minutes is NYSE's market-on-open cut-off (09:28) with a margin: a
        # headline at 09:27 that knows open(t) -> open(t+1) must not profit.
        ("open", "5min", "09:24:00", "09:27:00"),
        ("open", "0", "09:29:00", "09:30:00"),
        ("close", "5min", "15:00:00", "16:05:00"),
        ("close", "5min", "15:54:00", "15:56:00"),
    ],
)
def test_news_that_knows_the_future_profits_only_when_published_in_time(
    real_prices: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    at: str,
    latency: str,
    in_time: str,
    too_late: str,
) -> None:
    prices_path, prices = real_prices
    on_time = plant_headlines(prices, price=at, publish=in_time, path=tmp_path / "on.csv")
    late = plant_headlines(prices, price=at, publish=too_late, path=tmp_path / "late.csv")
    overrides = [f"execution.at={at}", f'execution.latency="{latency}"']
    sharpe_on_time = sharpe_of_run(prices_path, on_time, tmp_path / "run-on", overrides)
    sharpe_late = sharpe_of_run(prices_path, late, tmp_path / "run-late", overrides)
    assert sharpe_on_time > 3, f"in-time news should be exploitable, Sharpe {sharpe_on_time:.2f}"
    assert sharpe_late < 1, f"late news must not profit, Sharpe {sharpe_late:.2f}"


@pytest.mark.parametrize("at", ["open", "close"])
def test_date_only_news_counts_only_after_that_days_close(
    real_prices: tuple[Path, pd.DataFrame], tmp_path: Path, at: str
) -> None:
    prices_path, prices = real_prices
    planted = plant_headlines(
        prices, price=at, publish="00:00:00", path=tmp_path / "dates.csv", date_only=True
    )
    sharpe = sharpe_of_run(prices_path, planted, tmp_path / "run", [f"execution.at={at}"])
    assert sharpe < 1, f"date-only news is known after the close only, Sharpe {sharpe:.2f}"
