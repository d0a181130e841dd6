"""[portfolio], [baselines] and execution.borrow_bps: defaults, bad values, and where they show.

Bad values are one clear line naming the key and exit status 2, like every other key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SLICE_END, SLICE_START, run_cli

from backtest.config import load_config
from backtest.errors import InputError
from backtest.signals import rebalance_candidates


def test_defaults_keep_todays_sleeves_and_turn_the_baselines_on():
    config = load_config(None)
    assert config.portfolio.construction == "sleeves"
    assert (config.portfolio.long, config.portfolio.short) == (0.2, 0.2)
    assert (config.portfolio.gross, config.portfolio.net) == (1.0, 0.0)
    assert config.portfolio.rebalance == "session"
    assert config.execution.borrow_bps == 0.0
    assert config.baselines.random_runs == 200 and config.baselines.bootstrap_runs == 1000
    assert "[portfolio]" in config.to_toml() and "[baselines]" in config.to_toml()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("portfolio.construction=quantile", "portfolio.construction"),
        ("portfolio.long=-0.1", "portfolio.long"),
        ("portfolio.short=2.5", "portfolio.short"),
        ("portfolio.gross=0", "portfolio.gross"),
        ("portfolio.net=1.5", "portfolio.net"),
        ("portfolio.max_weight=-1", "portfolio.max_weight"),
        ("portfolio.rebalance=daily", "portfolio.rebalance"),
        ("execution.borrow_bps=-5", "execution.borrow_bps"),
        ("baselines.random_runs=-1", "baselines.random_runs"),
        ("baselines.block_sessions=0.5", "baselines.block_sessions"),
        ("baselines.seed=1.5", "baselines.seed"),
        ("portfolio.lon=0.2", "did you mean portfolio.long?"),
        ("execution.stop_loss=1.5", "execution.stop_loss"),
        ("portfolio.vol_target=-0.1", "portfolio.vol_target"),
        ("portfolio.vol_lookback=1", "portfolio.vol_lookback"),
        ("execution.take_profit=-0.1", "execution.take_profit"),
    ],
)
def test_bad_values_name_the_key(override: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected.replace("?", r"\?")):
        load_config(None, [override])


def test_a_book_never_borrows_cash() -> None:
    with pytest.raises(InputError, match="borrowed cash"):
        load_config(None, ["portfolio.gross=3", "portfolio.net=2"])
    assert load_config(None, ["portfolio.gross=3"]).portfolio.gross == 3.0


def test_stops_apply_to_sleeves_only() -> None:
    with pytest.raises(InputError, match="sleeves only"):
        load_config(None, ['portfolio.construction="rank"', "execution.stop_loss=0.05"])


def test_a_run_with_stops_names_each_exit(slice_files) -> None:
    import backtest

    prices, headlines = slice_files
    result = backtest.run(
        prices=prices,
        headlines=headlines,
        start=SLICE_START,
        end=SLICE_END,
        overrides={"execution.stop_loss": 0.02, "execution.take_profit": 0.03},
    )
    reasons = set(result.trades["exit_reason"].fillna(""))
    assert {"stop_loss", "take_profit"} <= reasons <= {"signal", "stop_loss", "take_profit", ""}
    plain = backtest.run(
        prices=prices, headlines=headlines, start=SLICE_START, end=SLICE_END, market=None
    )
    assert set(plain.trades["exit_reason"].fillna("")) <= {"signal", ""}


def test_a_bad_value_on_the_command_line_is_one_line_and_exit_2() -> None:
    result = run_cli("run", "--set", "portfolio.net=3")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("portfolio.net" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_a_sweep_refuses_a_book_instead_of_simulating_sleeves(slice_files) -> None:
    prices, headlines = slice_files
    result = run_cli(
        "sweep",
        "--prices",
        str(prices),
        "--headlines",
        str(headlines),
        "--set",
        'portfolio.construction="rank"',
        "--grid",
        "signal.half_life=1,2",
    )
    assert result.returncode == 2
    assert "sweeps and walk-forwards simulate sleeves only" in result.stderr


def test_rebalance_calendars() -> None:
    dates = pd.DatetimeIndex(["2015-01-29", "2015-01-30", "2015-02-02", "2015-02-03", "2015-02-09"])
    np.testing.assert_array_equal(rebalance_candidates(dates, "session"), [True] * 5)
    np.testing.assert_array_equal(
        rebalance_candidates(dates, "weekly"), [True, False, True, False, True]
    )
    np.testing.assert_array_equal(
        rebalance_candidates(dates, "monthly"), [True, False, True, False, False]
    )


@pytest.fixture(scope="module")
def rank_run(slice_files, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import backtest

    prices, headlines = slice_files
    result = backtest.run(
        prices=prices,
        headlines=headlines,
        start=SLICE_START,
        end=SLICE_END,
        overrides={
            "portfolio.construction": "rank",
            "portfolio.long": 1,
            "portfolio.short": 1,
            "portfolio.rebalance": "weekly",
            "execution.borrow_bps": 50,
            "baselines.random_runs": 50,
        },
    )
    return result.save(tmp_path_factory.mktemp("rank") / "run")


def test_a_rank_run_writes_its_book_and_baselines(rank_run: Path) -> None:
    import json

    stats = json.loads((rank_run / "stats.json").read_text())
    book = stats["portfolio"]
    assert book["construction"] == "rank"
    assert book["names_long"] == pytest.approx(1.0) and book["names_short"] == pytest.approx(1.0)
    assert book["gross_exposure"] == pytest.approx(1.0)
    assert book["net_exposure"] == pytest.approx(0.0, abs=1e-12)
    assert stats["baselines"]["random_timing"]["runs"] == 50
    assert 0 <= stats["baselines"]["random_timing"]["percentile"] <= 100
    assert stats["quantile_returns"]["quantiles"] == 5
    assert stats["ic_decay"]["horizons"] == [1, 2, 5, 10]
    signals = pd.read_csv(rank_run / "signals.csv")
    net = signals.groupby("date")["weight"].sum()
    gross = signals.assign(size=signals["weight"].abs()).groupby("date")["size"].sum()
    assert np.allclose(net, 0.0) and np.allclose(gross, 1.0)
    np.testing.assert_array_equal(np.sign(signals["weight"]), signals["position"])


def test_the_report_shows_legs_quantiles_ic_decay_and_baselines(rank_run: Path) -> None:
    page = (rank_run / "report.html").read_text()
    for marker in (
        'id="portfolio-legs"',
        'id="quantile-table"',
        'id="ic-decay-table"',
        'data-key="random_timing_percentile"',
        'data-key="bootstrap_sharpe"',
        'data-key="bootstrap_excess_sharpe"',
        'data-key="spread"',
    ):
        assert marker in page, marker


def test_vol_target_window_holds_only_returns_known_at_decision_time() -> None:
    from backtest.signals import known_returns_window

    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(40, 3)), axis=0))
    window = known_returns_window(close, slice(10, 40), 5, "open")
    future = close.copy()
    future[25:] *= 1.5
    changed = known_returns_window(future, slice(10, 40), 5, "open")
    np.testing.assert_array_equal(window[: 25 - 10], changed[: 25 - 10])
    assert not np.array_equal(window[25 - 10 + 1], changed[25 - 10 + 1])
    np.testing.assert_allclose(window[0, -1], close[9] / close[8] - 1)
    at_close = known_returns_window(close, slice(10, 40), 5, "close")
    np.testing.assert_allclose(at_close[0, -1], close[10] / close[9] - 1)


def test_vol_target_only_delevers_to_the_target() -> None:
    from backtest.signals import vol_scaled

    rng = np.random.default_rng(4)
    known = rng.normal(0, 0.02, size=(6, 30, 2))
    weights = np.tile([0.5, -0.5], (6, 1))
    rebalanced = np.array([True, False, True, False, False, True])
    scaled = vol_scaled(weights, rebalanced, known, vol_target=0.05)
    for t in (0, 2, 5):
        sigma = np.std(known[t] @ weights[t], ddof=1) * np.sqrt(252)
        np.testing.assert_allclose(scaled[t], weights[t] * min(1.0, 0.05 / sigma))
    np.testing.assert_allclose(scaled[1], scaled[0])
    loose = vol_scaled(weights, rebalanced, known, vol_target=10.0)
    np.testing.assert_allclose(loose, weights)


def test_a_vol_targeted_rank_run_is_quieter(slice_files) -> None:
    import backtest

    prices, headlines = slice_files
    base = {
        "portfolio.construction": "rank",
        "portfolio.long": 1,
        "portfolio.short": 1,
        "baselines.random_runs": 0,
        "baselines.bootstrap_runs": 0,
    }
    free = backtest.run(prices=prices, headlines=headlines, overrides=base)
    calm = backtest.run(
        prices=prices, headlines=headlines, overrides={**base, "portfolio.vol_target": 0.05}
    )
    assert calm.stats.loc["volatility", "strategy"] < free.stats.loc["volatility", "strategy"]
    gross = calm.signals.assign(size=calm.signals["weight"].abs()).groupby("date")["size"].sum()
    assert (gross <= 1.0 + 1e-12).all() and (gross < 1.0).any()


@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"portfolio.construction": "rank"}, "portfolio.construction"),
        ({"execution.stop_loss": 0.02}, "execution.stop_loss"),
        ({"execution.borrow_bps": 10}, "execution.borrow_bps"),
    ],
)
def test_daily_only_features_are_refused_on_intraday_bars(override, key) -> None:
    from intraday_data import planted_bars

    import backtest

    bars, headlines = planted_bars(("AAA", "BBB", "CCC"), "2015-03-02", "2015-03-04")
    with pytest.raises(InputError, match=f"{key}: needs daily prices"):
        backtest.run(prices=bars, headlines=headlines, overrides=override)


@pytest.mark.filterwarnings("ignore:.*tradeable only after the last session:UserWarning")
def test_an_intraday_run_leaves_the_daily_research_blocks_out() -> None:
    from intraday_data import planted_bars

    import backtest

    bars, headlines = planted_bars(("AAA", "BBB", "CCC"), "2015-03-02", "2015-03-04")
    result = backtest.run(prices=bars, headlines=headlines)
    assert result.summary["baselines"] is None
    assert "quantile_returns" not in result.summary and "portfolio" not in result.summary
    assert "weight" in result.signals.columns
