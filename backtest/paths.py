"""Where news-backtest keeps its on-disk caches: the environment variables and the folders.

``$NEWS_BACKTEST_CACHE`` moves the price cache (daily prices at its top, intraday bars in
``<interval>/``) and the small caches in its subfolders (``calendars``, ``report``);
``$NEWS_BACKTEST_NEWS_CACHE`` moves the collected news and the story features kept beside it.
Unset, each cache has its own folder in the user cache folder (platformdirs).
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV_VAR = "NEWS_BACKTEST_CACHE"
NEWS_CACHE_ENV_VAR = "NEWS_BACKTEST_NEWS_CACHE"
APP_NAME = "news-backtest"


def user_cache_subdir(name: str) -> Path:
    """``name`` in this package's user cache folder (``~/.cache/news-backtest`` on Linux)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME)) / name


def _override(env_var: str) -> Path | None:
    value = os.environ.get(env_var)
    return Path(value).expanduser() if value else None


def prices_cache_dir() -> Path:
    """Cached prices: ``$NEWS_BACKTEST_CACHE`` itself, else the user cache's ``prices``."""
    return _override(CACHE_ENV_VAR) or user_cache_subdir("prices")


def cache_subdir(name: str) -> Path:
    """``$NEWS_BACKTEST_CACHE/<name>``, else ``<name>`` in the user cache folder."""
    root = _override(CACHE_ENV_VAR)
    return root / name if root is not None else user_cache_subdir(name)


def news_cache_dir() -> Path:
    """Collected news: ``$NEWS_BACKTEST_NEWS_CACHE``, else the user cache's ``news``."""
    return _override(NEWS_CACHE_ENV_VAR) or user_cache_subdir("news")


def news_features_cache_dir() -> Path:
    """Story features (news_quality): ``$NEWS_BACKTEST_NEWS_CACHE``, else ``news-quality``."""
    return _override(NEWS_CACHE_ENV_VAR) or user_cache_subdir("news-quality")
