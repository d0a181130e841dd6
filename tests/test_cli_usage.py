"""Mistyped commands and options are usage errors (Typer's usage line, exit 2), not crashes."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runn",), "No such command 'runn'. Did you mean 'run'?"),
        (("signal", "--artcle", "x", "AAPL"), "No such option: --artcle"),
        (("run", "--tickers"), "Option '--tickers' requires an argument."),
        (("signal",), "name at least one ticker (backtest signal AAPL) or give --article FILE"),
        (("sweep", "--grid"), "Option '--grid' requires an argument."),
    ],
)
def test_usage_errors_exit_2_with_typer_usage_and_no_traceback(
    args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
