"""Bad input through the real ``backtest run`` entry point: one clear line, exit 2, no
traceback, no run folder. Tolerated oddities warn and still run."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_cli

GOOD_PRICES = """date,ticker,open,high,low,close,adj_close,volume
2015-03-02,AAA,10.0,10.5,9.5,10.2,10.2,1000
2015-03-03,AAA,10.2,10.6,10.0,10.4,10.4,1000
2015-03-04,AAA,10.4,10.9,10.1,10.8,10.8,1000
2015-03-05,AAA,10.8,11.0,10.5,10.6,10.6,1000
2015-03-06,AAA,10.6,10.7,10.0,10.1,10.1,1000
2015-03-02,BBB,20.0,20.5,19.5,20.2,20.2,1000
2015-03-03,BBB,20.2,20.6,20.0,20.4,20.4,1000
2015-03-04,BBB,20.4,20.9,20.1,20.8,20.8,1000
2015-03-05,BBB,20.8,21.0,20.5,20.6,20.6,1000
2015-03-06,BBB,20.6,20.7,20.0,20.1,20.1,1000
"""
GOOD_HEADLINES = """timestamp,ticker,headline
2015-03-02T08:00:00-05:00,AAA,AAA profit beats estimates
2015-03-03T17:00:00Z,BBB,BBB shares plunge after probe
2015-03-04T12:00:00Z,AAA,AAA raises guidance
"""


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


PRICE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing file": (lambda p: p.unlink(), "not found"),
    "no close column": (
        lambda p: p.write_text(GOOD_PRICES.replace(",close,", ",last,")),
        "close",
    ),
    "non-numeric price": (
        lambda p: p.write_text(_replace(GOOD_PRICES, "10.4,10.4,1000", "abc,10.4,1000")),
        "row 2",
    ),
    "negative price": (
        lambda p: p.write_text(_replace(GOOD_PRICES, "20.4,20.9", "-20.4,20.9")),
        "row 8",
    ),
    "conflicting duplicate": (
        lambda p: p.write_text(GOOD_PRICES + "2015-03-04,AAA,10.4,10.9,10.1,99.0,99.0,1000\n"),
        "rows 3 and 11",
    ),
    "empty file": (lambda p: p.write_text(""), "empty"),
    "binary garbage": (lambda p: p.write_bytes(bytes(range(256)) * 8), "prices.csv"),
    "unparseable date": (
        lambda p: p.write_text(_replace(GOOD_PRICES, "2015-03-05,AAA", "5th of March,AAA")),
        "row 4",
    ),
}

HEADLINE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "no timestamp column": (
        lambda p: p.write_text(GOOD_HEADLINES.replace("timestamp,", "when,")),
        "timestamp",
    ),
    "unparseable timestamp": (
        lambda p: p.write_text(_replace(GOOD_HEADLINES, "2015-03-03T17:00:00Z", "yesterday")),
        "row 2",
    ),
    "empty file": (lambda p: p.write_text(""), "empty"),
    "binary garbage": (lambda p: p.write_bytes(gzip.compress(bytes(range(256)) * 8)), "headlines"),
}


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    prices = tmp_path / "prices.csv"
    headlines = tmp_path / "headlines.csv"
    prices.write_text(GOOD_PRICES)
    headlines.write_text(GOOD_HEADLINES)
    return prices, headlines


def assert_one_line_exit_2(result, out: Path, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".partial")]
    print(f"  {lines[0]}")
    return lines[0]


def test_good_inputs_run(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    prices, headlines = inputs
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--out", str(tmp_path / "ok")
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ok" / "stats.json").exists()


@pytest.mark.parametrize("case", sorted(PRICE_CASES))
def test_bad_prices_file_is_one_line_exit_2(
    case: str, inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = inputs
    damage, needle = PRICE_CASES[case]
    damage(prices)
    out = tmp_path / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--out", str(out)
    )
    assert_one_line_exit_2(result, out, "prices.csv", needle)


@pytest.mark.parametrize("case", sorted(HEADLINE_CASES))
def test_bad_headlines_file_is_one_line_exit_2(
    case: str, inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = inputs
    damage, needle = HEADLINE_CASES[case]
    damage(headlines)
    out = tmp_path / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--out", str(out)
    )
    assert_one_line_exit_2(result, out, "headlines.csv", needle)


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ('name = "x"\n[signal]\nhalf_life = = 2\n', ("bad.toml", "line 3")),
        ("[execution]\nslipage = 0.001\n", ("bad.toml", "did you mean execution.slippage?")),
        ("[signal]\nbull_above = 40\nbear_below = 45\n", ("bad.toml", "signal.bull_above")),
    ],
    ids=["toml syntax", "unknown key", "bull below bear"],
)
def test_bad_strategy_file_is_one_line_exit_2(
    toml: str, needles: tuple[str, ...], inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = inputs
    strategy = tmp_path / "bad.toml"
    strategy.write_text(toml)
    out = tmp_path / "run"
    result = run_cli(
        "run",
        "--strategy",
        str(strategy),
        "--prices",
        str(prices),
        "--headlines",
        str(headlines),
        "--out",
        str(out),
    )
    assert_one_line_exit_2(result, out, *needles)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--set", "signal.half_life=abc"), ("signal.half_life", "expected a number")),
        (("--tickers", "AAA,ZZZ"), ("ZZZ", "prices.csv")),
        (("--set", "execution.at=noon"), ("execution.at",)),
    ],
    ids=["non-numeric set", "unknown ticker", "unknown execution.at"],
)
def test_bad_option_is_one_line_exit_2(
    args: tuple[str, ...], needles: tuple[str, ...], inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = inputs
    out = tmp_path / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), *args, "--out", str(out)
    )
    assert_one_line_exit_2(result, out, *needles)


def test_out_folder_that_is_not_empty_is_refused_without_force(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    prices, headlines = inputs
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ("run", "--prices", str(prices), "--headlines", str(headlines), "--out", str(out))
    refused = run_cli(*args)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (out / "keep.txt").read_text() == "mine"
    forced = run_cli(*args, "--force")
    assert forced.returncode == 2 and "did not write (keep.txt)" in forced.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    previous = tmp_path / "previous-run"
    assert run_cli(*args[:-1], str(previous)).returncode == 0
    (previous / "stats.json").write_text('{"config": {}, "versions": {}, "old": true}\n')
    replaced = run_cli(*args[:-1], str(previous), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert '"old": true' not in (previous / "stats.json").read_text()


def test_tolerated_oddities_warn_and_still_run(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    prices, headlines = inputs
    prices.write_text(GOOD_PRICES + GOOD_PRICES.splitlines()[3] + "\n")
    headlines.write_bytes(
        GOOD_HEADLINES.encode()
        + b"2015-03-04T13:00:00Z,CCC,CCC has no prices\n"
        + b"2015-03-04T14:00:00Z,AAA,caf\xe9 latin-1 bytes\n"
        + b"2019-01-02T14:00:00Z,AAA,after the last price\n"
    )
    out = tmp_path / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) >= 2, result.stderr
    assert "Traceback" not in result.stderr
    stats = pd.read_json(out / "stats.json", typ="series")
    assert stats["data"]["headlines"]["rows"] >= 4


def _jsonl_headlines_with_a_null_record(path: Path) -> Path:
    target = path.with_suffix(".jsonl")
    target.write_text(
        '{"timestamp": "2015-03-02T15:00:00Z", "ticker": "AAA", "headline": "AAA up"}\nnull\n'
    )
    return target


def _epoch_past_2262(path: Path) -> Path:
    path.write_text(GOOD_HEADLINES + "99999999999,AAA,far future\n")
    return path


def _line_break_in_a_header_cell(path: Path) -> Path:
    path.write_text(GOOD_HEADLINES.replace("headline", '"head\nline"', 1))
    return path


@pytest.mark.parametrize(
    ("damage", "extra", "needles"),
    [
        (_jsonl_headlines_with_a_null_record, (), ("headlines.jsonl", "row 2", "JSON object")),
        (_epoch_past_2262, (), ("headlines.csv", "row 4", "99999999999")),
        (_line_break_in_a_header_cell, (), ("headlines.csv", "headline")),
        (lambda p: p, ("--headlines-tz", "America"), ("headlines_tz", "'America'")),
    ],
    ids=["jsonl null record", "epoch past 2262", "line break in header", "tz folder name"],
)
def test_fuzz_found_headline_oddities_are_one_line_exit_2(
    damage: Callable[[Path], Path],
    extra: tuple[str, ...],
    needles: tuple[str, ...],
    inputs: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    prices, headlines = inputs
    headlines = damage(headlines)
    out = tmp_path / "run"
    result = run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), *extra, "--out", str(out)
    )
    assert_one_line_exit_2(result, out, *needles)
