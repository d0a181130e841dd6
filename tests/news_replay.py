"""Recorded news responses injected at the fetch boundary of a real ``backtest`` process.

``replay_env(tmp_path, {"AAPL": "yf_flat_aapl.json"})`` returns an environment whose
``sitecustomize`` replaces ``backtest.data.news_sources.yfinance.yfinance_news`` (and, for
``offline=True``, yfinance, feed and price fetches; ``prices="synthetic"`` serves made-up daily
bars and a running-session price) before the CLI runs, so CLI tests go through
the real entry point and never touch the network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

NEWS_DATA = Path(__file__).resolve().parent / "data" / "news"

_SITECUSTOMIZE = """
import json, os
from backtest.data.news_sources import yfinance as _yf, rss as _rss
from backtest.errors import InputError

_plan = json.loads(os.environ["NEWS_REPLAY_PLAN"])

def _recorded(ticker):
    if _plan.get("offline"):
        raise OSError("network unreachable (replayed)")
    name = _plan["yfinance"].get(ticker)
    if name is None:
        return []
    with open(os.path.join(_plan["folder"], name), encoding="utf-8") as handle:
        return json.load(handle)

_real_feed = _rss.read_feed

def _feed(location):
    if _plan.get("offline"):
        raise InputError("could not fetch the feed " + location + " (no network or bad address)")
    if location.startswith(("http://", "https://")):
        raise AssertionError("a test reached the network: " + location)
    return _real_feed(location)

_yf.yfinance_news = _recorded
_rss.read_feed = _feed

if _plan.get("prices") == "synthetic":
    import numpy as _np
    import pandas as _pd
    from backtest import live as _live
    from backtest.data import fetch as _fetch

    def _synthetic(tickers, start, end):
        from backtest.calendar import load_sessions

        days = _pd.DatetimeIndex(load_sessions("XNYS", start, end).dates)
        close = 100 * _np.cumprod(1 + 0.003 * _np.sin(_np.arange(len(days)) / 3))
        return _pd.concat(
            [
                _pd.DataFrame({"date": days, "ticker": t, "open": close, "high": close,
                               "low": close, "close": close, "adj_close": close, "volume": 1})
                for t in tickers
            ],
            ignore_index=True,
        )

    _fetch.yfinance_download = _synthetic
    _live.yfinance_last_price = lambda ticker: 101.0
elif _plan.get("offline"):
    from backtest.data import fetch as _fetch

    def _offline_prices(tickers, start, end):
        raise InputError("could not download prices (no network)")

    _fetch.yfinance_download = _offline_prices
"""


def replay_env(
    tmp_path: Path,
    yfinance: dict[str, str] | None = None,
    *,
    offline: bool = False,
    prices: str | None = None,
) -> dict[str, str]:
    """Environment for ``run_cli(env=...)`` replaying the recorded files named per ticker."""
    site = tmp_path / "replay_site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    env["NEWS_REPLAY_PLAN"] = json.dumps(
        {
            "folder": str(NEWS_DATA),
            "yfinance": yfinance or {},
            "offline": offline,
            "prices": prices,
        }
    )
    env.pop("NEWS_BACKTEST_DATA", None)
    return env
