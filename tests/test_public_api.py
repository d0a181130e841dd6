"""The public API is small, pinned, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import backtest

PUBLIC = [
    "BacktestError",
    "InputError",
    "Market",
    "RunResult",
    "StrategyConfig",
    "__version__",
    "explain",
    "label_scores",
    "learn_lexicon",
    "load_config",
    "load_lexicon",
    "prepare",
    "run",
    "score_headlines",
    "sweep",
    "walk_forward",
]


def test_public_names_are_pinned() -> None:
    assert sorted(backtest.__all__) == PUBLIC


def test_every_public_name_resolves() -> None:
    for name in PUBLIC:
        assert getattr(backtest, name) is not None


def test_import_backtest_loads_no_heavy_library() -> None:
    code = (
        "import sys, backtest; "
        "print(sorted(m for m in ('numba', 'pandas', 'vectorbt', 'numpy', 'plotly', 'dask') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_score_headlines_from_the_package_root() -> None:
    scores = backtest.score_headlines(["Profit rose 20% and beat estimates", "Loss widened"])
    assert scores[0] > 0 > scores[1]
    assert list(backtest.label_scores(scores)) == ["bull", "bear"]
