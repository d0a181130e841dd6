"""Where the embedded StockNet data set lives (prices, headlines and their SOURCES.md).

The data sits in the repository at ``datasets/stocknet/``, and the wheel carries a copy inside
the package (``backtest/datasets/stocknet``, hatchling force-include). The folder is looked up
in this order, first hit wins:

1. the folder named by the environment variable ``NEWS_BACKTEST_DATA`` (an explicit choice, so
   it must exist and hold the files, otherwise it is an error);
2. ``backtest/datasets/stocknet`` inside the installed package (``pip install .`` or a wheel,
   run from any folder);
3. ``<repo>/datasets/stocknet`` next to the package (editable installs, CI, a source checkout).

``EMBEDDED_PRICES``, ``EMBEDDED_HEADLINES`` and ``EMBEDDED_SOURCES`` are resolved when first
read, so importing this module never fails; reading them when no folder is found raises
``InputError`` saying to pass ``--prices``/``--headlines`` or set ``NEWS_BACKTEST_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

from backtest.errors import InputError

__all__ = ["EMBEDDED_HEADLINES", "EMBEDDED_PRICES", "EMBEDDED_SOURCES", "embedded_dir"]

DATA_ENV_VAR = "NEWS_BACKTEST_DATA"

# Resolved on first access by the module __getattr__ below (annotations only, no values).
EMBEDDED_PRICES: Path
EMBEDDED_HEADLINES: Path
EMBEDDED_SOURCES: Path
_FILES = {
    "EMBEDDED_PRICES": "prices.csv.gz",
    "EMBEDDED_HEADLINES": "headlines.csv.gz",
    "EMBEDDED_SOURCES": "SOURCES.md",
}
_HINT = f"pass --prices and --headlines, or set {DATA_ENV_VAR} to a folder holding " + ", ".join(
    _FILES.values()
)


def embedded_dir() -> Path:
    """The folder holding the embedded data set (see the module docstring for the search order)."""
    explicit = os.environ.get(DATA_ENV_VAR)
    if explicit:
        folder = Path(explicit).expanduser()
        if not _holds_data(folder):
            raise InputError(
                f"{DATA_ENV_VAR} points at a folder without the embedded data",
                file=folder,
                hint=_HINT,
            )
        return folder
    package = Path(__file__).resolve().parents[1]
    candidates = (
        package / "datasets" / "stocknet",
        package.parent / "datasets" / "stocknet",
    )
    for folder in candidates:
        if _holds_data(folder):
            return folder
    raise InputError(
        "the embedded data set (datasets/stocknet) was not found", file=candidates[0], hint=_HINT
    )


def _holds_data(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _FILES.values())


def __getattr__(name: str) -> Path:
    if name in _FILES:
        return embedded_dir() / _FILES[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
