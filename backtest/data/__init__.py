"""Loading and validating prices and headlines, and locating the embedded data set.

Public API: ``load_prices``, ``load_headlines``, ``read_table``, ``DataWarning`` and the
embedded data paths ``EMBEDDED_PRICES``, ``EMBEDDED_HEADLINES``, ``EMBEDDED_SOURCES`` (resolved
on first use, so importing this package never fails when the data folder is absent).
"""

from __future__ import annotations

from pathlib import Path

from backtest.data import embedded
from backtest.data.embedded import embedded_dir
from backtest.data.headlines import HEADLINE_COLUMNS, check_time_zone, load_headlines
from backtest.data.prices import PRICE_COLUMNS, load_prices
from backtest.data.tables import DataWarning, read_table

__all__ = [
    "EMBEDDED_HEADLINES",
    "EMBEDDED_PRICES",
    "EMBEDDED_SOURCES",
    "HEADLINE_COLUMNS",
    "PRICE_COLUMNS",
    "DataWarning",
    "check_time_zone",
    "embedded_dir",
    "load_headlines",
    "load_prices",
    "read_table",
]


def __getattr__(name: str) -> Path:
    if name.startswith("EMBEDDED_"):
        return getattr(embedded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
