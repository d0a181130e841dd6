"""``python -m backtest`` is the same as the ``backtest`` command."""

from backtest.cli import main

main()
