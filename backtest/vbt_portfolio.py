"""vectorbt's ``Portfolio`` holding its close without copies: one (bars x tickers) array a
portfolio instead of three, and one for portfolios given the same close frame.

vectorbt wraps the close it broadcasts in a new DataFrame, and ``Portfolio.__init__`` wraps it
again (``broadcast_to``); under pandas 3 each wrap copies the array, and ``replace`` (a new
index, a new close) copies it once more. On a year of minute bars for 500 tickers that is
~0.4 GB a copy. ``SharedClosePortfolio`` takes the close it is given as its own: every result
is the same, its close is a frame over the given array. Imported only where vectorbt is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import vectorbt as vbt


class SharedClosePortfolio(vbt.Portfolio):  # type: ignore[misc]
    """A ``vectorbt.Portfolio`` whose close is a frame over the given close's array."""

    def __init__(self, wrapper: Any, close: Any, *args: Any, **kwargs: Any) -> None:
        shared = _frame_over(close, wrapper)
        super().__init__(wrapper, close if shared is None else shared, *args, **kwargs)
        if shared is not None:
            self._close = shared


def _frame_over(close: Any, wrapper: Any) -> pd.DataFrame | None:
    """``close`` as a DataFrame labelled like ``wrapper`` (its ungrouped columns) over the same
    array; None where vectorbt's own broadcast is needed (another shape, a Series, a copy)."""
    if wrapper.ndim != 2:
        return None
    values = close.to_numpy() if isinstance(close, pd.DataFrame) else close
    if not isinstance(values, np.ndarray) or values.shape != wrapper.shape:
        return None
    frame = pd.DataFrame(values, index=wrapper.index, columns=wrapper.columns, copy=False)
    return frame if np.shares_memory(frame.to_numpy(), values) else None
