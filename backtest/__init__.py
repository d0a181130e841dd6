"""news-backtest: would trading on these headlines have made money?

The public API is re-exported lazily so that ``import backtest`` stays cheap (no numba,
pandas or vectorbt until a function is used).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "score_headlines": "backtest.scoring",
    "explain": "backtest.scoring",
    "load_lexicon": "backtest.scoring",
    "label_scores": "backtest.scoring",
    "load_config": "backtest.config",
    "StrategyConfig": "backtest.config",
    "run_backtest": "backtest.pipeline",
    "BacktestError": "backtest.errors",
    "InputError": "backtest.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'backtest' has no attribute {name!r}")
    return getattr(import_module(module), name)
