"""The strategy TOML -> frozen config contract: one default per key, errors that name the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from backtest.config import StrategyConfig, load_config
from backtest.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_default_toml_is_exactly_the_builtin_defaults() -> None:
    assert load_config(REPO / "strategies" / "default.toml") == StrategyConfig()


@pytest.mark.parametrize("name", ["default", "news-only", "momentum-only", "intraday-news"])
def test_shipped_strategies_load_and_round_trip(name: str, tmp_path: Path) -> None:
    config = load_config(REPO / "strategies" / f"{name}.toml")
    assert config.name == name
    written = tmp_path / "config.toml"
    written.write_text(config.to_toml())
    assert load_config(written) == config


def test_config_is_frozen() -> None:
    config = StrategyConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.signal.half_life = 3.0  # type: ignore[misc]


def test_set_override_is_type_checked_and_applied() -> None:
    config = load_config(
        None, ["signal.half_life=3", "execution.at=close", "data.tickers=aapl,msft"]
    )
    assert config.signal.half_life == 3.0
    assert config.execution.at == "close"
    assert config.data.tickers == ("AAPL", "MSFT")


def test_half_life_is_a_number_of_rows_or_a_duration() -> None:
    assert load_config(None, ['signal.half_life="2.5"']).signal.half_life == 2.5
    assert load_config(None, ["signal.half_life=30min"]).signal.half_life == "30min"
    assert load_config(None, ['signal.half_life=" 1h "']).signal.half_life == "1h"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("signal.half_life=abc", "signal.half_life"),
        ("signal.half_lif=2", "did you mean signal.half_life?"),
        ("signals.half_life=2", "did you mean [signal]?"),
        ("signal.bull_above=40", "signal.bull_above"),
        ("execution.fees=-0.01", "execution.fees"),
        ("execution.at=noon", "execution.at"),
        ("execution.hold_sessions=1.5", "execution.hold_sessions"),
        ("signal.half_life=0", "signal.half_life"),
        ("signal.half_life=0min", "signal.half_life"),
        ("signal.half_life=true", "signal.half_life"),
        ('signal.half_life="-3"', "signal.half_life"),
        ("execution.latency=soon", "execution.latency"),
        ("half_life=2", "section.key=value"),
    ],
)
def test_bad_override_names_the_key(override: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected.replace("[", r"\[").replace("?", r"\?")):
        load_config(None, [override])


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[signal]\nhalf_life = = 2\n')
    with pytest.raises(InputError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)


def test_unknown_key_in_file_suggests_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[execution]\nslipage = 0.001\n")
    with pytest.raises(InputError, match=r"execution.slipage.*did you mean execution.slippage\?"):
        load_config(path)


def test_relative_paths_resolve_against_the_strategy_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "s.toml"
    path.write_text('[data]\nprices = "p.csv"\n')
    assert load_config(path).data.prices == str((tmp_path / "sub" / "p.csv").resolve())


def test_latency_accepts_minutes_and_units() -> None:
    assert load_config(None, ['execution.latency="90s"']).execution.latency_ns == 90 * 10**9
    assert load_config(None, ["execution.latency=2"]).execution.latency_ns == 120 * 10**9
