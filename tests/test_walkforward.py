"""Walk-forward chooses on in-sample data only and reports the stitched out-of-sample run.

The planted market: one ticker whose price falls for 20 sessions and then rises, with a bearish
headline before every open. Set A (``execution.short=true``) shorts every session, set B
(``execution.short=false``) stays flat. In-sample (the fall) A is best; out-of-sample (the
rise) B is. A walk-forward that never peeks must trade A in the first out-of-sample window.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

from backtest.analytics.overfitting import objective_values
from backtest.calendar import load_sessions
from backtest.config import load_config
from backtest.errors import InputError
from backtest.scoring import load_lexicon, score_headlines
from backtest.walkforward import (
    LexiconRelearning,
    Window,
    choose_sets,
    plan_windows,
    walk_forward,
    write_walkforward_folder,
)

N_SESSIONS = 50
TRAIN, TEST = 20, 10
BEARISH = "ZZZ shares plunge as profit misses estimates, guidance is cut and a probe is opened"
GRID = {"execution.short": [True, False]}
SET_A, SET_B = 0, 1  # product order of GRID
RUN_FILES = (
    "config.toml",
    "stats.json",
    "equity.csv",
    "trades.csv",
    "signals.csv",
    "headlines.csv",
    "returns.csv",
    "report.html",
    "walkforward.csv",
)


def _sessions() -> pd.DatetimeIndex:
    return pd.DatetimeIndex(load_sessions("XNYS", "2020-01-02", "2020-06-30").dates[:N_SESSIONS])


def _prices(crash_from: int | None = None) -> pd.DataFrame:
    """Falls 1% a session for TRAIN sessions, then rises 3% a session; a small zigzag keeps
    the returns from being constant. ``crash_from``: from that session on, prices are halved
    and zigzag wildly (a different future)."""
    t = np.arange(N_SESSIONS)
    trend = np.where(t < TRAIN, 0.99**t, 0.99**TRAIN * 1.03 ** (t - TRAIN))
    close = 100.0 * trend * (1.0 + 0.003 * (-1.0) ** t)
    if crash_from is not None:
        later = t >= crash_from
        close[later] = close[later] * 0.5 * (1.0 + 0.2 * (-1.0) ** t[later])
    open_ = close * (1.0 + 0.001 * (-1.0) ** (t + 1))
    return pd.DataFrame(
        {
            "date": _sessions().strftime("%Y-%m-%d"),
            "ticker": "ZZZ",
            "open": open_,
            "close": close,
        }
    )


def _headlines() -> pd.DataFrame:
    """One bearish headline at 08:00 New York before every session's open."""
    stamps = (pd.DatetimeIndex(_sessions()) + pd.Timedelta(hours=8)).tz_localize("America/New_York")
    return pd.DataFrame(
        {
            "timestamp": stamps.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "ticker": "ZZZ",
            "headline": BEARISH,
        }
    )


def _config(folder: Path, prices: pd.DataFrame):
    folder.mkdir(parents=True, exist_ok=True)
    prices_path = folder / "prices.csv"
    headlines_path = folder / "headlines.csv"
    prices.to_csv(prices_path, index=False)
    _headlines().to_csv(headlines_path, index=False)
    dates = _sessions()
    return load_config(
        None,
        [
            f'data.prices="{prices_path.as_posix()}"',
            f'data.headlines="{headlines_path.as_posix()}"',
            f'data.start="{dates[0]:%Y-%m-%d}"',
            f'data.end="{dates[-1]:%Y-%m-%d}"',
            "signal.news_weight=1",
            "signal.momentum_weight=0",
            "execution.fees=0",
            "execution.slippage=0",
        ],
    )


def _walk(folder: Path, prices: pd.DataFrame):
    return walk_forward(_config(folder, prices), GRID, train_sessions=TRAIN, test_sessions=TEST)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    return _walk(tmp_path_factory.mktemp("planted"), _prices())


def test_windows_step_by_the_test_length_and_clip_the_last():
    assert plan_windows(50, 20, 10) == [
        Window(0, 20, 20, 30),
        Window(10, 30, 30, 40),
        Window(20, 40, 40, 50),
    ]
    assert plan_windows(55, 20, 10)[-1] == Window(30, 50, 50, 55)
    assert plan_windows(20, 20, 10) == []


def test_choice_reads_only_in_sample_rows():
    rng = np.random.default_rng(4)
    returns = rng.normal(0.0, 0.01, size=(60, 5))
    windows = plan_windows(60, 20, 10)
    chosen, values = choose_sets(returns, windows)
    for k, w in enumerate(windows):
        poisoned = returns.copy()
        poisoned[w.oos_start :] = rng.normal(0.5, 0.01, size=poisoned[w.oos_start :].shape)
        poisoned[: w.is_start] = np.nan
        again, again_values = choose_sets(poisoned, windows[: k + 1])
        assert again[k] == chosen[k]
        assert again_values[k] == values[k]
        in_sample = objective_values(returns[w.is_start : w.is_stop])
        assert chosen[k] == int(np.argmax(in_sample))
        assert values[k] == pytest.approx(in_sample.max() * math.sqrt(252))


def test_planted_sets_behave_as_designed(planted):
    returns = planted.sweep.returns
    assert objective_values(returns[:TRAIN])[SET_A] > 0  # short into the fall earns
    np.testing.assert_array_equal(returns[:, SET_B], 0.0)  # long-only on bear news: flat
    assert objective_values(returns[TRAIN : TRAIN + TEST])[SET_A] < 0  # and the rise hurts A
    # so much that a choice peeking at the first OOS window would pick B
    assert objective_values(returns[: TRAIN + TEST])[SET_A] < 0


def test_first_window_trades_the_in_sample_winner_although_it_loses_out_of_sample(planted):
    first = planted.table.iloc[0]
    assert planted.chosen[0] == SET_A
    assert bool(first["execution.short"]) is True
    assert first["is_sharpe"] > 0
    assert first["oos_sharpe"] < 0
    assert first["oos_return"] < 0


def test_changing_out_of_sample_prices_changes_no_earlier_choice(planted, tmp_path):
    for k, window in enumerate(planted.windows):
        other = _walk(tmp_path / f"w{k}", _prices(crash_from=window.oos_start))
        # the future did change: set A's returns differ from this window's first OOS session
        changed = other.sweep.returns[:, SET_A] != planted.sweep.returns[:, SET_A]
        assert changed[window.oos_start] and not changed[: window.oos_start].any()
        np.testing.assert_array_equal(other.chosen[: k + 1], planted.chosen[: k + 1])
        np.testing.assert_array_equal(other.is_objective[: k + 1], planted.is_objective[: k + 1])


def test_report_is_out_of_sample_only_and_stitched(planted):
    dates = planted.dates
    expected_dates = planted.data.dates[TRAIN:]
    assert list(dates) == list(expected_dates)
    assert len(planted.simulation.equity) == N_SESSIONS - TRAIN
    for w, set_number in zip(planted.windows, planted.chosen, strict=True):
        rows = slice(w.oos_start - TRAIN, w.oos_stop - TRAIN)
        short = planted.data.expansion.configs[int(set_number)].execution.short
        # bear news every session: the chosen set is short if it may short, else flat
        np.testing.assert_array_equal(planted.positions[rows], -1 if short else 0)
    # one simulation: the equity starts from the initial cash and never resets at a boundary
    equity = planted.simulation.equity.to_numpy()
    cash = planted.data.config.execution.initial_cash
    assert planted.stats["strategy"]["total_return"] == pytest.approx(equity[-1] / cash - 1)
    assert planted.table["oos_sessions"].sum() == N_SESSIONS - TRAIN


def test_period_shorter_than_the_windows_names_the_numbers(tmp_path):
    config = _config(tmp_path, _prices())
    with pytest.raises(InputError, match=r"50 sessions.*--train 40 \+ --test 20 = 60") as info:
        walk_forward(config, GRID, train_sessions=40, test_sessions=20)
    assert "--train" in str(info.value.hint)


def test_costs_cannot_be_walked_forward(tmp_path):
    config = _config(tmp_path, _prices())
    with pytest.raises(InputError, match="execution.fees cannot be chosen"):
        walk_forward(config, {"execution.fees": [0.0, 0.001]}, train_sessions=20, test_sessions=10)


def test_run_folder_holds_the_out_of_sample_run_and_the_windows(planted, tmp_path):
    run_dir, stats = write_walkforward_folder(planted, out_dir=tmp_path / "wf")

    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    equity = pd.read_csv(run_dir / "equity.csv")
    oos_dates = planted.data.dates[TRAIN:].strftime("%Y-%m-%d")
    assert list(equity["date"]) == list(oos_dates)
    signals = pd.read_csv(run_dir / "signals.csv")
    np.testing.assert_array_equal(signals["position"], planted.positions.reshape(-1))
    windows = pd.read_csv(run_dir / "walkforward.csv")
    assert list(windows["set"]) == list(planted.chosen)
    assert list(windows["oos_start"]) == [oos_dates[w.oos_start - TRAIN] for w in planted.windows]
    saved = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))
    assert saved["period"]["sessions"] == N_SESSIONS - TRAIN
    assert [w["set"] for w in saved["walkforward"]["windows"]] == list(planted.chosen)
    assert saved["walkforward"]["grid"] == {"execution.short": [True, False]}
    assert saved["stats"]["strategy"]["sharpe"] == pytest.approx(
        planted.stats["strategy"]["sharpe"]
    )
    # config.toml is the base strategy and still loads; the grid rides along as comments
    text = (run_dir / "config.toml").read_text(encoding="utf-8")
    assert "# Grid:" in text and "execution.short = [True, False]" in text
    assert load_config(run_dir / "config.toml") == planted.data.config


def _cli_inputs(folder: Path) -> list[str]:
    config = _config(folder, _prices())
    dates = _sessions()
    return [
        "--prices",
        config.data.prices,
        "--headlines",
        config.data.headlines,
        "--start",
        f"{dates[0]:%Y-%m-%d}",
        "--end",
        f"{dates[-1]:%Y-%m-%d}",
        "--set",
        "signal.news_weight=1",
        "--set",
        "signal.momentum_weight=0",
        "--grid",
        "execution.short=true,false",
    ]


def test_cli_default_windows_that_do_not_fit_suggest_shorter_ones(tmp_path):
    result = run_cli("walkforward", *_cli_inputs(tmp_path), "--out", str(tmp_path / "wf"))
    assert result.returncode == 2, result.stderr
    assert "has 50 sessions, fewer than --train 504 + --test 126 = 630" in result.stderr
    assert "--train 31 --test 7" in result.stderr
    assert not (tmp_path / "wf").exists()


def test_cli_writes_the_walkforward_folder_and_prints_the_windows(tmp_path):
    out = tmp_path / "wf"
    result = run_cli(
        "walkforward", *_cli_inputs(tmp_path), "--train", "20", "--test", "10", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "Out-of-sample only: 3 windows" in result.stdout
    assert "Sharpe" in result.stdout and f"Run folder: {out}" in result.stdout
    for name in RUN_FILES:
        assert (out / name).is_file(), name


# Re-learning the lexicon per in-sample window -------------------------------------------------
#
# A second planted market: four tickers; every session "quuxrise" (before a +4% open-to-open
# move) or "quuxfall" (before -4%) on one ticker, and from the first out-of-sample session on a
# new word, "quuxlate", before a +5% move (``late_move``) on another. Window 1's lexicon is
# learned before "quuxlate" exists, so it cannot know it, whatever the later prices say.

LEX_TICKERS = ("AAA", "BBB", "CCC", "DDD")
LEX_SESSIONS, LEX_TRAIN, LEX_TEST = 100, 40, 20
LEX_FILLER = tuple(f"{a}{b}" for a in ("blo", "fra", "gni", "plu") for b in ("ck", "mp", "sh"))
RELEARN_GRID = {"execution.short": [True, False]}


def _lexicon_world(folder: Path, late_move: float):
    """prices.csv and headlines.csv of the planted market, and a news-only config on them."""
    folder.mkdir(parents=True, exist_ok=True)
    dates = pd.DatetimeIndex(load_sessions("XNYS", "2021-01-04", "2021-07-30").dates)
    dates = dates[:LEX_SESSIONS]
    k = len(LEX_TICKERS)
    rng = np.random.default_rng(11)
    step = rng.normal(0.0, 0.004, size=(LEX_SESSIONS, k))
    rows: list[tuple[int, int, str]] = []
    for s in range(LEX_SESSIONS - 1):
        word, move = ("quuxrise", 0.04) if s % 2 == 0 else ("quuxfall", -0.04)
        filler = " ".join(rng.choice(LEX_FILLER, size=3))
        rows.append((s, s % k, f"{filler} {word} today"))
        step[s, s % k] = move
        if s >= LEX_TRAIN:
            rows.append((s, (s + 1) % k, f"{filler} quuxlate now"))
            step[s, (s + 1) % k] = late_move
        rows.append((s, (s + 2) % k, " ".join(rng.choice(LEX_FILLER, size=4))))
    open_ = 100.0 * np.vstack([np.ones(k), np.cumprod(1.0 + step[:-1], axis=0)])
    prices = pd.DataFrame(
        {
            "date": np.repeat(dates.strftime("%Y-%m-%d"), k),
            "ticker": np.tile(LEX_TICKERS, LEX_SESSIONS),
            "open": open_.ravel(),
            "close": (open_ * 1.001).ravel(),
        }
    )
    prices.to_csv(folder / "prices.csv", index=False)
    stamps = [
        (dates[s] + pd.Timedelta(hours=8)).tz_localize("America/New_York") for s, _, _ in rows
    ]
    pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in stamps],
            "ticker": [LEX_TICKERS[t] for _, t, _ in rows],
            "headline": [text for _, _, text in rows],
        }
    ).to_csv(folder / "headlines.csv", index=False)
    return load_config(
        None,
        [
            f'data.prices="{(folder / "prices.csv").as_posix()}"',
            f'data.headlines="{(folder / "headlines.csv").as_posix()}"',
            f'data.start="{dates[0]:%Y-%m-%d}"',
            f'data.end="{dates[-1]:%Y-%m-%d}"',
            "signal.news_weight=1",
            "signal.momentum_weight=0",
            "execution.fees=0",
            "execution.slippage=0",
        ],
    )


def _relearned_walk(folder: Path, late_move: float):
    return walk_forward(
        _lexicon_world(folder, late_move),
        RELEARN_GRID,
        train_sessions=LEX_TRAIN,
        test_sessions=LEX_TEST,
        relearn=LexiconRelearning(min_count=5, top_k=20),
    )


@pytest.fixture(scope="module")
def relearned(tmp_path_factory: pytest.TempPathFactory):
    return _relearned_walk(tmp_path_factory.mktemp("relearn"), late_move=0.05)


def _weights(lexicon_path: Path) -> dict[str, float]:
    lexicon = load_lexicon(lexicon_path)
    return dict(zip(lexicon.terms, lexicon.weights.tolist(), strict=True))


def _rows(content: bytes) -> list[str]:
    return [line for line in content.decode().splitlines() if not line.startswith("#")]


def _window_scores(result, window: int) -> pd.DataFrame:
    """Placed headlines of a window's out-of-sample sessions, scored by its lexicon."""
    w = result.windows[window]
    config = result.config_of(window)
    frame = result.data.placed_for(config).frame
    start = result.data.rows.start
    keep = frame["session_idx"].between(start + w.oos_start, start + w.oos_stop - 1)
    return frame.loc[keep].reset_index(drop=True)


def test_each_window_learns_on_its_in_sample_dates_and_trades_its_own_lexicon(relearned):
    assert len(relearned.lexicons) == len(relearned.windows) == 3
    dates = relearned.data.dates
    for k, (w, lexicon) in enumerate(zip(relearned.windows, relearned.lexicons, strict=True)):
        assert lexicon.name == f"lexicons/window-{k + 1:02d}.csv"
        assert lexicon.train_start == f"{dates[w.is_start]:%Y-%m-%d}"
        assert lexicon.train_end == f"{dates[w.is_stop - 1]:%Y-%m-%d}"
        assert relearned.config_of(k).signal.lexicon == str(lexicon.path)
        assert relearned.table["signal.lexicon"].iloc[k] == lexicon.name
    assert relearned.sets_per_window == len(RELEARN_GRID["execution.short"])
    assert relearned.sweep.n_sets == 3 * relearned.sets_per_window


def test_word_informative_only_after_window_one_is_absent_from_its_lexicon(relearned):
    first = _weights(relearned.lexicons[0].path)
    assert first["quuxrise"] > 0 > first["quuxfall"]  # the window did learn
    assert not any("quuxlate" in term for term in first)
    assert _weights(relearned.lexicons[1].path)["quuxlate"] > 0  # a later window sees it
    scored = _window_scores(relearned, 0)
    lexicon = load_lexicon(relearned.lexicons[0].path)
    late = [f"{' '.join(LEX_FILLER[:3])} quuxlate now", "quuxlate"]
    assert (
        score_headlines(late, lexicon).tolist()
        == score_headlines([f"{' '.join(LEX_FILLER[:3])} now", ""], lexicon).tolist()
    )
    assert len(scored) > 0


def test_window_one_does_not_depend_on_what_the_late_word_foretells(relearned, tmp_path):
    other = _relearned_walk(tmp_path / "opposite", late_move=-0.05)
    # the future differs: window 2 learns the opposite weight for the late word
    assert _weights(other.lexicons[1].path)["quuxlate"] < 0
    # window 1's lexicon rows are the same (the header names other files and their sha256)
    assert _rows(other.lexicons[0].content) == _rows(relearned.lexicons[0].content)
    pd.testing.assert_frame_equal(_window_scores(other, 0), _window_scores(relearned, 0))
    assert other.chosen[0] == relearned.chosen[0]
    assert other.is_objective[0] == relearned.is_objective[0]
    first = relearned.windows[0]
    rows = slice(0, first.oos_stop - first.oos_start)
    np.testing.assert_array_equal(other.positions[rows], relearned.positions[rows])


def test_relearned_run_folder_holds_each_windows_lexicon(relearned, tmp_path):
    run_dir, stats = write_walkforward_folder(relearned, out_dir=tmp_path / "wf")
    block = stats["walkforward"]["relearn_lexicon"]
    assert block["min_count"] == 5 and block["top_k"] == 20
    for entry, lexicon in zip(block["lexicons"], relearned.lexicons, strict=True):
        saved = run_dir / entry["file"]
        assert saved.read_bytes() == lexicon.content
        assert entry["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    windows = pd.read_csv(run_dir / "walkforward.csv")
    assert list(windows["signal.lexicon"]) == [x.name for x in relearned.lexicons]
    assert stats["walkforward"]["grid"] == RELEARN_GRID
    assert load_config(run_dir / "config.toml") == relearned.data.config
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="walkforward"' in html and "quuxrise" in html


def test_relearning_refuses_a_set_or_swept_lexicon(tmp_path):
    config = _config(tmp_path, _prices())
    relearn = LexiconRelearning()
    with pytest.raises(InputError, match="cannot be swept with --relearn-lexicon"):
        walk_forward(config, {"signal.lexicon": ["a.csv"]}, relearn=relearn)
    lexicon = tmp_path / "mine.csv"
    lexicon.write_text("term,weight,kind\nplunge,-2,word\n", encoding="utf-8")
    with pytest.raises(InputError, match="learns one per window"):
        walk_forward(config.with_overrides([f'signal.lexicon="{lexicon}"']), GRID, relearn=relearn)


def test_cli_relearns_the_lexicon_per_window(tmp_path):
    config = _lexicon_world(tmp_path / "world", late_move=0.05)
    out = tmp_path / "wf"
    result = run_cli(
        "walkforward", "--prices", config.data.prices, "--headlines", config.data.headlines,
        "--start", config.data.start, "--end", config.data.end,
        "--set", "signal.news_weight=1", "--set", "signal.momentum_weight=0",
        "--grid", "execution.short=true,false", "--train", str(LEX_TRAIN), "--test", str(LEX_TEST),
        "--relearn-lexicon", "--min-count", "5", "--top", "20", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Lexicon relearned on each in-sample window" in result.stdout
    assert "from 2 sets" in result.stdout
    for k in (1, 2, 3):
        assert "quuxrise" in load_lexicon(out / "lexicons" / f"window-{k:02d}.csv").terms
