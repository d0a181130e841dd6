"""The library surface: ``backtest.run`` in memory equals the CLI's run folder, one prepared
market serves many runs, and every workflow loads and scores its inputs once."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SLICE_END, SLICE_START, SLICE_TICKERS, run_cli

import backtest
from backtest import scoring
from backtest.data import headlines as headlines_module
from backtest.data import prices as prices_module

RUN_CSVS = ("equity.csv", "trades.csv", "signals.csv", "headlines.csv", "returns.csv")
PERIOD = {"start": SLICE_START, "end": SLICE_END}


@pytest.fixture(scope="module")
def cli_run(slice_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    prices, headlines = slice_files
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines),
        "--start", SLICE_START, "--end", SLICE_END, "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as the run folder writes it (report/run_folder.write_csv)."""
    return frame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")


def test_run_on_dataframes_equals_the_cli_run_folder_and_writes_nothing(
    slice_files: tuple[Path, Path],
    cli_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prices = pd.read_csv(slice_files[0])
    headlines = pd.read_csv(slice_files[1], keep_default_na=False)
    monkeypatch.chdir(tmp_path)
    result = backtest.run(prices=prices, headlines=headlines, **PERIOD)
    assert list(tmp_path.iterdir()) == []
    for name, frame in (
        ("trades.csv", result.trades),
        ("signals.csv", result.signals),
        ("headlines.csv", result.headlines),
    ):
        assert csv_text(frame) == (cli_run / name).read_text(encoding="utf-8"), name
    written = pd.read_csv(cli_run / "equity.csv")
    assert list(result.equity.index.strftime("%Y-%m-%d")) == list(written["date"])
    np.testing.assert_array_equal(result.equity["equity"].to_numpy(), written["equity"])
    np.testing.assert_array_equal(result.equity["benchmark"].to_numpy(), written["benchmark"])


def test_save_writes_exactly_the_cli_run_folder(
    slice_files: tuple[Path, Path], cli_run: Path, tmp_path: Path
) -> None:
    result = backtest.run(prices=slice_files[0], headlines=slice_files[1], **PERIOD)
    folder = result.save(tmp_path / "saved")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in cli_run.iterdir())
    for name in (*RUN_CSVS, "config.toml"):
        assert (folder / name).read_bytes() == (cli_run / name).read_bytes(), name
    assert result.report_html() == (folder / "report.html").read_text(encoding="utf-8")


def test_run_result_exposes_stats_and_the_vectorbt_portfolio(
    slice_files: tuple[Path, Path],
) -> None:
    result = backtest.run(prices=slice_files[0], headlines=slice_files[1], **PERIOD)
    assert list(result.stats.columns) == ["strategy", "benchmark"]
    assert result.stats.loc["sharpe", "strategy"] == result.summary["stats"]["strategy"]["sharpe"]
    value = np.asarray(result.portfolio.value()).sum(axis=1)
    np.testing.assert_allclose(value, result.equity["equity"].to_numpy(), rtol=1e-12)
    assert tuple(result.config.data.tickers) == ()
    assert result.config.data.start == SLICE_START


def test_one_market_serves_runs_that_differ_in_signal_and_execution(
    slice_files: tuple[Path, Path],
) -> None:
    market = backtest.prepare(prices=slice_files[0], headlines=slice_files[1], **PERIOD)
    overrides = {"signal.half_life": 3.5, "execution.at": "close"}
    reused = backtest.run(market=market, overrides=overrides)
    fresh = backtest.run(
        prices=slice_files[0], headlines=slice_files[1], overrides=overrides, **PERIOD
    )
    assert csv_text(reused.signals) == csv_text(fresh.signals)
    assert csv_text(reused.trades) == csv_text(fresh.trades)
    with pytest.raises(backtest.InputError, match="prepared for other data"):
        backtest.run(market=market, overrides={"data.adjust": "total_return"})


def test_dataframe_input_errors_name_the_frame_and_row(slice_files: tuple[Path, Path]) -> None:
    prices = pd.read_csv(slice_files[0], dtype=str)
    prices.loc[5, "close"] = "abc"
    with pytest.raises(backtest.InputError, match=r"prices DataFrame.*row 6.*close"):
        backtest.prepare(prices=prices, headlines=slice_files[1])


class CallCounter:
    """Wraps the loaders and the scorer, counting calls (the functions still run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {"prices": 0, "headlines": 0, "score": 0}
        for module, name, key in (
            (prices_module, "load_prices", "prices"),
            (headlines_module, "load_headlines", "headlines"),
            (scoring, "score_headlines", "score"),
        ):
            monkeypatch.setattr(module, name, self._counting(getattr(module, name), key))

    def _counting(self, function, key: str):
        def wrapper(*args, **kwargs):
            self.calls[key] += 1
            return function(*args, **kwargs)

        return wrapper


def test_sweep_loads_each_input_once_and_scores_once_per_lexicon(
    slice_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = CallCounter(monkeypatch)
    config = backtest.load_config(
        None, [f'data.prices="{slice_files[0]}"', f'data.headlines="{slice_files[1]}"']
    )
    result = backtest.sweep(
        config,
        {"signal.half_life": [1, 2], "execution.at": ["open", "close"]},
    )
    assert result.n_sets == 4
    assert counter.calls == {"prices": 1, "headlines": 1, "score": 1}


def test_walk_forward_with_relearned_lexicons_loads_once(
    slice_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest.walkforward import LexiconRelearning

    counter = CallCounter(monkeypatch)
    config = backtest.load_config(
        None,
        [
            f'data.prices="{slice_files[0]}"',
            f'data.headlines="{slice_files[1]}"',
            'data.start="2014-06-02"',
            'data.end="2015-09-30"',
        ],
    )
    result = backtest.walk_forward(
        config,
        {"signal.half_life": [1.0, 3.0]},
        train_sessions=126,
        test_sessions=63,
        relearn=LexiconRelearning(min_count=5, top_k=30),
    )
    assert counter.calls["prices"] == 1 and counter.calls["headlines"] == 1
    # One scoring pass per lexicon: each window's learned lexicon, nothing else.
    assert counter.calls["score"] == len(result.lexicons)
    from backtest.walkforward import write_walkforward_folder

    before = dict(counter.calls)
    write_walkforward_folder(result, out_dir=tmp_path / "wf")
    assert counter.calls == before


def test_signal_reading_loads_and_scores_once(
    slice_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest.reading import signal_readings

    counter = CallCounter(monkeypatch)
    config = backtest.load_config(
        None, [f'data.prices="{slice_files[0]}"', f'data.headlines="{slice_files[1]}"']
    )
    readings = signal_readings(config, list(SLICE_TICKERS[:2]), "2015-03-02")
    assert [r.ticker for r in readings] == list(SLICE_TICKERS[:2])
    assert counter.calls == {"prices": 1, "headlines": 1, "score": 1}


def test_public_functions_are_not_shadowed_by_submodules() -> None:
    import backtest.market  # noqa: F401
    import backtest.runner  # noqa: F401
    import backtest.sweeps  # noqa: F401
    import backtest.walkforward  # noqa: F401

    for name in ("prepare", "run", "sweep", "walk_forward", "learn_lexicon"):
        assert callable(getattr(backtest, name)) and not isinstance(
            getattr(backtest, name), type(backtest)
        ), name
    assert set(dir(backtest)) == set(backtest.__all__)
