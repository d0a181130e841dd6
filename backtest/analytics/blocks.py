"""Per-row work on a (rows x columns) grid a block of rows at a time.

A year of minute bars for 500 tickers is 49 M cells: the report's per-row figures (ranks,
returns after each event, turnover) hold several temporaries per cell, so they run on blocks
of about ``BLOCK_CELLS`` cells. Rows are independent in each of them: the figures are the
same as on the whole grid at once.
"""

from __future__ import annotations

from collections.abc import Iterator

BLOCK_CELLS = 1 << 20
"""Cells (rows x columns) a block holds."""


def row_blocks(n_rows: int, n_columns: int) -> Iterator[slice]:
    """Consecutive row slices covering ``range(n_rows)``, each of at most ``BLOCK_CELLS``
    cells (and at least one row)."""
    per_block = max(1, BLOCK_CELLS // max(1, n_columns))
    for first in range(0, n_rows, per_block):
        yield slice(first, min(first + per_block, n_rows))
