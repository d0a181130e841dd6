"""Build a small, synthetic but realistic run folder (per notes/RUNFOLDER.md) for report tests.

The folder has every file the pipeline writes, with text that tries to break the page: a
script/img injection headline, literal ``&amp;`` entities and a lone carriage return.
stats.json's figures come from backtest.analytics.stats.compute_stats on the synthetic equity, as in
a real run; the report only reads them.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.analytics.stats import compute_stats

HOSTILE_HEADLINE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ENTITY_HEADLINE = "AT&amp;T and Verizon &amp; friends rally on 5G hopes"
CR_HEADLINE = "Shares jump\rafter record quarter"
INITIAL_CASH = 100_000.0

_BULL_WORDS = ["beats estimates", "upgraded to buy", "record revenue", "wins contract"]
_BEAR_WORDS = ["misses estimates", "downgraded to sell", "faces probe", "cuts guidance"]


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")


def _runs(position: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end_exclusive, side) for each run of a constant non-zero position."""
    runs = []
    start = None
    for i, p in enumerate(position):
        if start is not None and p != position[start]:
            runs.append((start, i, int(position[start])))
            start = None
        if start is None and p != 0:
            start = i
    if start is not None:
        runs.append((start, len(position), int(position[start])))
    return runs


def build_run_folder(
    root: Path,
    *,
    n_tickers: int = 3,
    n_sessions: int = 300,
    seed: int = 7,
    headlines_per_session: float = 0.6,
    flip_probability: float = 0.12,
) -> Path:
    """Write a complete run folder under ``root`` and return its path.

    ``flip_probability`` is the chance a ticker's label changes each session (more flips, more
    trades); ``headlines_per_session`` the mean number of headlines per ticker and session.
    """
    rng = np.random.default_rng(seed)
    run_dir = root / "20240102-030405-fixture"
    run_dir.mkdir(parents=True)
    base = ["AAA", "BBB", "CCC"]
    tickers = (base + [f"T{i:02d}" for i in range(n_tickers)])[:n_tickers]
    sessions = pd.bdate_range("2015-01-02", periods=n_sessions + 1)
    dates = [d.strftime("%Y-%m-%d") for d in sessions]

    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (n_sessions + 1, n_tickers)), 0))
    opens = closes * np.exp(rng.normal(0.0, 0.004, closes.shape))
    simple = closes[1:] / closes[:-1] - 1.0
    rets = np.vstack([np.full((1, n_tickers), np.nan), simple])
    rets[40, 1 % n_tickers] = np.nan  # a missing price: returns.csv must carry an empty field

    labels = np.empty((n_sessions + 1, n_tickers), dtype=object)
    positions = np.zeros((n_sessions + 1, n_tickers), dtype=int)
    composite = np.empty((n_sessions + 1, n_tickers))
    news = np.empty_like(composite)
    momentum = np.empty_like(composite)
    state = rng.choice(["bull", "neutral", "bear"], n_tickers)
    for t in range(n_sessions + 1):
        flips = rng.random(n_tickers) < flip_probability
        state = np.where(flips, rng.choice(["bull", "neutral", "bear"], n_tickers), state)
        labels[t] = state
        centre = np.select([state == "bull", state == "bear"], [70.0, 30.0], 50.0)
        composite[t] = np.clip(centre + rng.normal(0, 4, n_tickers), 0, 100)
        news[t] = np.clip(composite[t] + rng.normal(0, 5, n_tickers), 0, 100)
        momentum[t] = np.clip(2 * composite[t] - news[t], 0, 100)
        positions[t] = np.select([state == "bull", state == "bear"], [1, -1], 0)
    composite[:5, 0] = np.nan  # warm-up: the composite may be empty

    sleeve_cash = INITIAL_CASH / n_tickers
    sleeves = np.full(n_tickers, sleeve_cash)
    equity = [INITIAL_CASH]
    for t in range(1, n_sessions + 1):
        step = np.nan_to_num(rets[t]) * positions[t - 1]
        sleeves = sleeves * (1.0 + step)
        equity.append(float(sleeves.sum()))
    equity_arr = np.array(equity)
    benchmark = (sleeve_cash * closes / closes[0]).sum(axis=1)

    # headlines: random news flow, scores leaning with the label; three planted hostile texts
    headline_rows = []
    for t in range(n_sessions + 1):
        for j, ticker in enumerate(tickers):
            for _ in range(rng.poisson(headlines_per_session)):
                lean = {"bull": 0.4, "bear": -0.4}.get(labels[t, j], 0.0)
                score = float(np.clip(lean + rng.normal(0, 0.4), -1, 1))
                words = _BULL_WORDS if score >= 0 else _BEAR_WORDS
                text = (
                    f"{ticker} {words[int(rng.integers(len(words)))]} (item {len(headline_rows)})"
                )
                label = "bull" if score > 0.05 else "bear" if score < -0.05 else "neutral"
                stamp = f"{dates[t]}T12:{int(rng.integers(60)):02d}:00+00:00"
                headline_rows.append((stamp, dates[t], ticker, score, label, text))
    planted = [(HOSTILE_HEADLINE, 0.9), (ENTITY_HEADLINE, 0.5), (CR_HEADLINE, 0.7)]
    for k, (text, score) in enumerate(planted):
        t = 60 + 10 * k
        headline_rows.append(
            (f"{dates[t]}T13:00:00+00:00", dates[t], tickers[0], score, "bull", text)
        )
    headlines = pd.DataFrame(
        headline_rows, columns=["published_at", "session", "ticker", "score", "label", "headline"]
    ).sort_values(["published_at", "ticker", "headline"], kind="stable")
    headlines["source"] = "Fixture Wire"
    headlines["url"] = [f"https://example.com/n/{i}?a=1&b=2" for i in range(len(headlines))]

    by_key = {
        key: list(group.sort_values("score", key=abs, ascending=False)["headline"])
        for key, group in headlines.groupby(["session", "ticker"])
    }
    trade_rows = []
    for j, ticker in enumerate(tickers):
        for start, end, side in _runs(positions[:, j]):
            entry_price = float(opens[start, j])
            open_trade = end >= n_sessions + 1
            exit_price = float(closes[-1, j]) if open_trade else float(opens[end, j])
            size = sleeve_cash / entry_price
            ret = side * (exit_price / entry_price - 1.0)
            texts = by_key.get((dates[start], ticker), [])[:5]
            trade_rows.append(
                {
                    "ticker": ticker,
                    "side": "long" if side > 0 else "short",
                    "entry_time": dates[start],
                    "entry_price": entry_price,
                    "exit_time": "" if open_trade else dates[end],
                    "exit_price": np.nan if open_trade else exit_price,
                    "size": size,
                    "pnl": side * size * (exit_price - entry_price),
                    "return": ret,
                    "status": "open" if open_trade else "closed",
                    "n_headlines": len(texts),
                    "headlines": " || ".join(texts),
                }
            )
    trades = pd.DataFrame(trade_rows).sort_values(["entry_time", "ticker"], kind="stable")
    best = int(trades["pnl"].idxmax())
    trades.loc[best, "headlines"] = " || ".join([HOSTILE_HEADLINE, ENTITY_HEADLINE, CR_HEADLINE])
    trades.loc[best, "n_headlines"] = 3

    signals = pd.DataFrame(
        {
            "date": np.repeat(dates, n_tickers),
            "ticker": np.tile(tickers, n_sessions + 1),
            "news": news.ravel(),
            "momentum": momentum.ravel(),
            "composite": composite.ravel(),
            "label": labels.ravel().astype(str),
            "position": positions.ravel(),
        }
    )
    returns = pd.DataFrame(
        {
            "date": np.repeat(dates, n_tickers),
            "ticker": np.tile(tickers, n_sessions + 1),
            "return": rets.ravel(),
        }
    )
    equity_frame = pd.DataFrame({"date": dates, "equity": equity_arr, "benchmark": benchmark})

    _write_csv(equity_frame, run_dir / "equity.csv")
    _write_csv(trades, run_dir / "trades.csv")
    _write_csv(signals, run_dir / "signals.csv")
    _write_csv(headlines, run_dir / "headlines.csv")
    _write_csv(returns, run_dir / "returns.csv")

    config_toml = (
        'name = "fixture"\n\n[data]\nprices = "datasets/stocknet/prices.csv.gz"\n'
        'headlines = "datasets/stocknet/headlines.csv.gz"\nheadlines_tz = "America/New_York"\n'
        'adjust = "none"\n\n[signal]\nhalf_life = 2.0\nmomentum_lookback = 20\n'
        "news_weight = 0.6\nmomentum_weight = 0.4\nbull_above = 60.0\nbear_below = 40.0\n\n"
        '[execution]\nat = "open"\nlatency = "5min"\nshort = true\non_neutral = "exit"\n'
        "fees = 0.0005\nslippage = 0.0005\n"
    )
    (run_dir / "config.toml").write_text(config_toml, encoding="utf-8")

    closed = trades[trades["status"] == "closed"]
    index = pd.DatetimeIndex(sessions)
    figures = compute_stats(
        pd.Series(equity_arr, index=index),
        pd.Series(benchmark, index=index),
        positions,
        trades,
    )
    per_ticker = {}
    for j, ticker in enumerate(tickers):
        mine = closed[closed["ticker"] == ticker]
        per_ticker[ticker] = {
            "total_return": float(np.prod(1 + np.nan_to_num(rets[1:, j]) * positions[:-1, j]) - 1),
            "pnl": float(trades.loc[trades["ticker"] == ticker, "pnl"].sum()),
            "trades": int((trades["ticker"] == ticker).sum()),
            "hit_rate": float((mine["pnl"] > 0).mean()) if len(mine) else None,
            "exposure": float((positions[1:, j] != 0).mean()),
            "headlines": int((headlines["ticker"] == ticker).sum()),
        }
    digest = hashlib.sha256(b"fixture prices").hexdigest()
    stats = {
        "name": "fixture",
        "created_at": "2024-01-02T03:04:05+00:00",
        "command": "backtest run --strategy strategies/fixture.toml --tickers AAA,BBB,CCC",
        "period": {
            "start": dates[0],
            "end": dates[-1],
            "sessions": n_sessions + 1,
            "calendar": "XNYS",
        },
        "tickers": tickers,
        "stats": figures,
        "per_ticker": per_ticker,
        "config": {
            "name": "fixture",
            "signal": {"half_life": 2.0, "bull_above": 60.0, "bear_below": 40.0},
            "execution": {"at": "open", "short": True},
        },
        "data": {
            "prices": {
                "path": "datasets/stocknet/prices.csv.gz",
                "sha256": digest,
                "rows": (n_sessions + 1) * n_tickers,
                "tickers": n_tickers,
                "start": dates[0],
                "end": dates[-1],
            },
            "headlines": {
                "path": "datasets/stocknet/headlines.csv.gz",
                "sha256": hashlib.sha256(b"fixture headlines").hexdigest(),
                "rows": len(headlines) + 17,
                "rows_in_period": len(headlines),
                "start": dates[0],
                "end": dates[-1],
            },
        },
        "versions": {
            "news-backtest": "0.1.0",
            "python": "3.11.7",
            "vectorbt": "1.2.0",
            "numba": "0.68.1",
            "pandas": "3.1.1",
            "numpy": "2.4.6",
            "exchange_calendars": "4.13.2",
        },
        "timings_s": {
            "load": 0.41,
            "align": 0.12,
            "score": 0.05,
            "signals": 0.2,
            "simulate": 1.3,
            "report": 0.0,
        },
    }
    (run_dir / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    return run_dir
