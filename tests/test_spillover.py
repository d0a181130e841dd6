"""Spillover: news about one ticker reaches its linked tickers, and only point in time.

Planted news about A that knows B's next move must make a strategy on B profit once a link
A -> B carries it, and leave B flat without one. Co-mention links are learned only from stories
tradeable before the session: stories after the period create no link in it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import EMBEDDED, run_cli

from backtest.runner import RunResult
from backtest.runner import run as run_strategy

A, B, C = "AAPL", "MSFT", "KO"
BULLISH = "{t} shares soar to record high as profit beats estimates and guidance is raised"
BEARISH = "{t} shares plunge as profit misses estimates, guidance is cut and a probe is opened"
NEUTRAL = "{a} and {b} executives are scheduled to attend the conference"
NEWS_ONLY = {
    "signal.news_weight": 1,
    "signal.momentum_weight": 0,
    "signal.half_life": 0.5,
    "signal.news_scale": 0.3,
}
START, END = "2014-06-02", "2015-06-30"


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    frame = pd.read_csv(EMBEDDED / "prices.csv.gz")
    return frame[frame["ticker"].isin((A, B, C))].reset_index(drop=True)


def news_about_a_knowing_b(prices: pd.DataFrame) -> pd.DataFrame:
    """Each session at 08:00 New York, a story filed under A alone telling the sign of B's
    open(t) -> open(t+1): the move a position in B entered at t's open earns."""
    b = prices[prices["ticker"] == B].sort_values("date")
    move = b["open"].shift(-1).to_numpy() / b["open"].to_numpy() - 1.0
    keep = np.isfinite(move) & (move != 0)
    wall = pd.DatetimeIndex(pd.to_datetime(b["date"].to_numpy()[keep])) + pd.Timedelta("08:00:00")
    stamps = wall.tz_localize("America/New_York").strftime("%Y-%m-%dT%H:%M:%S%z")
    texts = [(BULLISH if up else BEARISH).format(t=A) for up in move[keep] > 0]
    return pd.DataFrame({"timestamp": stamps, "ticker": A, "headline": texts})


def comention_stories(when: list[str]) -> pd.DataFrame:
    """Neutral stories filed under both A and B (one story, two tickers) at noon New York."""
    wall = pd.DatetimeIndex(pd.to_datetime(when)) + pd.Timedelta("12:00:00")
    stamps = wall.tz_localize("America/New_York").strftime("%Y-%m-%dT%H:%M:%S%z")
    return pd.DataFrame(
        {"timestamp": stamps, "ticker": f"{A},{B}", "headline": NEUTRAL.format(a=A, b=B)}
    )


def sleeve_sharpe(result: RunResult, ticker: str) -> float:
    returns = result.portfolio.value()[ticker].pct_change().dropna()
    return float(returns.mean() / returns.std() * math.sqrt(252)) if returns.std() > 0 else 0.0


def positions_of(result: RunResult, ticker: str) -> np.ndarray:
    return result.signals.loc[result.signals["ticker"] == ticker, "position"].to_numpy()


def run_with(prices: pd.DataFrame, headlines: pd.DataFrame, **overrides: object) -> RunResult:
    return run_strategy(
        prices=prices,
        headlines=headlines,
        start=START,
        end=END,
        overrides={**NEWS_ONLY, **overrides},
    )


def test_planted_news_about_a_profits_on_b_through_a_peers_link(
    prices: pd.DataFrame, tmp_path: Path
) -> None:
    peers = tmp_path / "peers.csv"
    peers.write_text(f"ticker,peer,weight,relation\n{A},{B},1,supplier\n", encoding="utf-8")
    headlines = news_about_a_knowing_b(prices)
    linked = run_with(
        prices,
        headlines,
        **{
            "signal.spillover": 1.0,
            "signal.links": "peers",
            "data.peers": str(peers),
            "data.peers_directed": True,
        },
    )
    assert sleeve_sharpe(linked, B) > 2, sleeve_sharpe(linked, B)
    assert np.any(positions_of(linked, B) != 0)
    assert (linked.signals["spillover"].abs() > 0).any()
    unlinked = run_with(prices, headlines)
    assert np.all(positions_of(unlinked, B) == 0)
    assert "spillover" not in unlinked.signals.columns


def test_comentions_after_the_period_create_no_link_in_it(prices: pd.DataFrame) -> None:
    news = news_about_a_knowing_b(prices)
    after = comention_stories(["2015-09-01", "2015-09-02", "2015-09-03", "2015-09-04"])
    result = run_with(
        prices,
        pd.concat([news, after]),
        **{"signal.spillover": 1.0, "signal.comention_window": 5000},
    )
    assert np.all(positions_of(result, B) == 0)
    np.testing.assert_array_equal(
        result.signals.loc[result.signals["ticker"] == B, "spillover"].to_numpy(), 0.0
    )


def test_comentions_before_the_period_link_through_it(prices: pd.DataFrame) -> None:
    news = news_about_a_knowing_b(prices)
    news = news[news["timestamp"] >= START]
    before = comention_stories(["2014-05-01", "2014-05-02", "2014-05-05", "2014-05-06"])
    result = run_with(
        prices,
        pd.concat([before, news]),
        **{"signal.spillover": 1.0, "signal.comention_window": 5000},
    )
    assert np.any(positions_of(result, B) != 0)
    assert sleeve_sharpe(result, B) > 2, sleeve_sharpe(result, B)
    block = result.outputs.stats["spillover"]
    assert block["stories"] >= 4
    assert block["top_comentions"] == []


def test_fewer_comentions_than_comention_min_make_no_link(prices: pd.DataFrame) -> None:
    news = news_about_a_knowing_b(prices)
    news = news[news["timestamp"] >= START]
    before = comention_stories(["2014-05-01", "2014-05-02"])
    result = run_with(
        prices,
        pd.concat([before, news]),
        **{"signal.spillover": 1.0, "signal.comention_window": 5000, "signal.comention_min": 3},
    )
    assert np.all(positions_of(result, B) == 0)


def test_spillover_zero_gives_the_signals_of_a_run_without_links(prices: pd.DataFrame) -> None:
    from backtest.market import prepare
    from backtest.signals import compute_signals

    news = pd.concat(
        [news_about_a_knowing_b(prices), comention_stories(["2014-07-01", "2014-07-02"])]
    )
    market = prepare(prices=prices, headlines=news, overrides={"signal.comention_min": 1})
    config = market.config
    placed = market.placed(config)
    args = (market.panel, placed, config.signal, config.execution, config.news)
    without = compute_signals(*args)
    with_links = compute_signals(*args, market.links(config))
    for name in ("news", "momentum", "composite", "labels"):
        np.testing.assert_array_equal(getattr(without, name), getattr(with_links, name))
    assert with_links.spillover_flow is not None and np.any(with_links.spillover_flow != 0)


def test_signal_lists_the_linked_tickers_and_their_points(tmp_path: Path) -> None:
    done = run_cli(
        "signal", "AMZN", "--asof", "2015-06-01", "--set", "signal.spillover=1", "--json"
    )
    assert done.returncode == 0, done.stderr
    (reading,) = json.loads(done.stdout)
    assert reading["spillover_points"] != 0
    assert reading["linked"], reading
    for link in reading["linked"]:
        assert link["ticker"] != "AMZN"
        assert link["contribution"] == pytest.approx(link["weight"] * link["own_flow"], abs=2e-4)
    text = run_cli("signal", "AMZN", "--asof", "2015-06-01", "--set", "signal.spillover=1")
    assert "Through links:" in text.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("ticker,peer,weight\nAAPL,MSFT,lots\n", "row 1, column 'weight'"),
        ("ticker,peer,weight\nAAPL,MSFT,0.5\nAAPL,AAPL,1\n", "row 2"),
        ("ticker,peer\nAAPL,MSFT\n", "no 'weight' column"),
        ("ticker,peer,weight\nAAPL,MSFT,0.5\nAAPL,MSFT,0.2\n", "listed twice"),
    ],
)
def test_a_bad_peers_file_is_one_line_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    peers = tmp_path / "peers.csv"
    peers.write_text(content, encoding="utf-8")
    done = run_cli(
        "run",
        "--tickers",
        "AAPL,MSFT",
        "--set",
        f'data.peers="{peers}"',
        "--set",
        'signal.links="peers"',
        "--set",
        "signal.spillover=1",
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(peers) in lines[0] and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_links_peers_without_a_peers_file_is_a_config_error(tmp_path: Path) -> None:
    done = run_cli("run", "--set", 'signal.links="peers"', "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "signal.links" in done.stderr and "data.peers" in done.stderr


def test_peers_rows_of_tickers_without_prices_are_ignored_with_a_warning(
    prices: pd.DataFrame, tmp_path: Path
) -> None:
    peers = tmp_path / "peers.csv"
    peers.write_text("ticker,peer,weight\nAAPL,MSFT,0.5\nAAPL,ZZZZ,1\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="1 peers rows name tickers without prices .*ZZZZ"):
        result = run_with(
            prices,
            news_about_a_knowing_b(prices),
            **{"signal.spillover": 1.0, "signal.links": "both", "data.peers": str(peers)},
        )
    assert result.outputs.stats["spillover"]["peers"] == [
        {"ticker": "AAPL", "peer": "MSFT", "weight": 0.5, "relation": ""}
    ]


def test_report_shows_the_spillover_section_and_escapes_peer_relations(
    prices: pd.DataFrame, tmp_path: Path
) -> None:
    peers = tmp_path / "peers.csv"
    peers.write_text(
        'ticker,peer,weight,relation\nAAPL,MSFT,0.5,"<script>alert(1)</script>"\n',
        encoding="utf-8",
    )
    news = pd.concat(
        [
            news_about_a_knowing_b(prices),
            comention_stories([f"2015-0{m}-0{d}" for m in (3, 4) for d in (2, 3, 4)]),
        ]
    )
    result = run_with(
        prices,
        news,
        **{"signal.spillover": 0.5, "signal.links": "both", "data.peers": str(peers)},
    )
    page = result.report_html()
    section = page[page.index('<section id="spillover">') :]
    section = section[: section.index("</section>")]
    assert 'id="links-table"' in section and 'id="fig-links"' in section
    assert "<td>AAPL</td><td>MSFT</td>" in section
    assert "<script>alert(1)</script>" not in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert 'id="peer-event-table"' in section


def test_data_validate_checks_the_peers_file(tmp_path: Path) -> None:
    peers = tmp_path / "peers.csv"
    peers.write_text("ticker,peer,weight\nAAPL,MSFT,0.5\nAAPL,ZZZZ,-1\n", encoding="utf-8")
    done = run_cli("data", "validate", "--set", f'data.peers="{peers}"')
    assert done.returncode == 0, done.stderr
    assert "2 rows, 1 between tickers with prices, weights -1 to +0.5" in done.stdout
    assert "peers name 1 tickers without prices (ZZZZ)" in done.stdout
    peers.write_text("ticker,peer,weight\nAAPL,MSFT,\n", encoding="utf-8")
    bad = run_cli("data", "validate", "--set", f'data.peers="{peers}"')
    assert bad.returncode == 2 and "row 1, column 'weight'" in bad.stderr
