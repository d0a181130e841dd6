"""news-backtest: would trading on these headlines have made money?

The library first; the ``backtest`` command is one client of it::

    import backtest
    market = backtest.prepare(tickers="AAPL,MSFT")         # load, validate, align once
    result = backtest.run(market=market, overrides={"signal.half_life": 3})
    result.stats                                            # figures x strategy/benchmark
    result.save("reports/my-run")                           # the run folder `backtest run` writes

The public API is re-exported lazily, so ``import backtest`` stays cheap (no numba, pandas or
vectorbt until a function is used). No submodule shares a public function's name, so
``backtest.run`` is always the function.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "prepare": "backtest.market",
    "Market": "backtest.market",
    "run": "backtest.runner",
    "RunResult": "backtest.runner",
    "sweep": "backtest.sweeps",
    "walk_forward": "backtest.walkforward",
    "learn_lexicon": "backtest.lexicon_learn",
    "score_headlines": "backtest.scoring",
    "explain": "backtest.scoring",
    "load_lexicon": "backtest.scoring",
    "label_scores": "backtest.scoring",
    "load_config": "backtest.config",
    "StrategyConfig": "backtest.config",
    "BacktestError": "backtest.errors",
    "InputError": "backtest.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'backtest' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, for tab completion."""
    return list(__all__)
