"""Numba-compiled, pure array kernels: no pandas, no files, no network.

Compiled kernels are cached on disk (``cache=True``). When the package folder is read-only
(a system install), numba's cache goes to a per-user cache folder instead.
"""

from __future__ import annotations

import os
from pathlib import Path


def _ensure_writable_numba_cache() -> None:
    """Point numba's cache at a user folder when the package's own folder cannot be written."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    if os.access(here, os.W_OK):
        return
    from backtest.paths import user_cache_subdir

    folder = user_cache_subdir("numba")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    import numba.core.config

    numba.core.config.CACHE_DIR = str(folder)


_ensure_writable_numba_cache()
