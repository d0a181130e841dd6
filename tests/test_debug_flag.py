"""``--debug`` is for bug reports: it adds the traceback. Without it, bad input is one line and
exit 2, and an unexpected internal error is one line ending "run with --debug for details" and
exit 1, whatever the exception's message looks like."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import run_cli

DETAILS = "(run with --debug for details)"


def run_with_broken_pipeline(*args: str, message: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real ``backtest.cli.main`` with ``backtest.runner.run`` replaced by one that raises."""
    code = textwrap.dedent(
        f"""
        import sys
        import backtest.runner

        def run(*args, **kwargs):
            raise ZeroDivisionError({message!r})

        backtest.runner.run = run
        sys.argv = ["backtest", *{list(args)!r}]
        from backtest.cli import main
        main()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_bad_input_without_debug_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_cli("run", "--prices", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.csv" in lines[0] and "not found" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    print(f"  {lines[0]}")


@pytest.mark.parametrize("where", ["after the command", "before the command"])
def test_debug_shows_the_traceback_of_bad_input(tmp_path: Path, where: str) -> None:
    args = ["run", "--prices", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]
    args = [*args, "--debug"] if where == "after the command" else ["--debug", *args]
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "InputError" in result.stderr and "load_prices" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: "), result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "message",
    ["division by zero in the sleeve weights", "first line\nsecond line\r\nthird", ""],
    ids=["plain", "multi-line", "empty"],
)
def test_internal_error_without_debug_is_one_line_and_exit_1(tmp_path: Path, message: str) -> None:
    result = run_with_broken_pipeline(
        "run", "--out", str(tmp_path / "o"), message=message, cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("internal error: ZeroDivisionError"), lines[0]
    assert lines[0].endswith(DETAILS), lines[0]
    for part in message.split():
        assert part in lines[0]
    print(f"  {lines[0]}")


def test_internal_error_with_debug_shows_where_it_happened(tmp_path: Path) -> None:
    result = run_with_broken_pipeline(
        "run", "--debug", "--out", str(tmp_path / "o"), message="sleeve weights", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "in run" in result.stderr and "ZeroDivisionError: sleeve weights" in (result.stderr)
    assert DETAILS not in result.stderr
