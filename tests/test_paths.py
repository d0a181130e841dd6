"""Every on-disk cache moves with its environment variable and otherwise has its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest import paths


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(paths.CACHE_ENV_VAR, raising=False)
    monkeypatch.delenv(paths.NEWS_CACHE_ENV_VAR, raising=False)
    return monkeypatch


def test_unset_each_cache_has_its_own_folder_in_the_user_cache(unset: pytest.MonkeyPatch) -> None:
    folders = {
        "prices": paths.prices_cache_dir(),
        "calendars": paths.cache_subdir("calendars"),
        "news": paths.news_cache_dir(),
        "news-quality": paths.news_features_cache_dir(),
    }
    for name, folder in folders.items():
        assert folder.parts[-2:] == ("news-backtest", name)
    assert len({folder.parent for folder in folders.values()}) == 1


def test_the_cache_variable_moves_prices_to_its_top_and_the_rest_below_it(
    unset: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unset.setenv(paths.CACHE_ENV_VAR, str(tmp_path / "mine"))
    assert paths.prices_cache_dir() == tmp_path / "mine"
    assert paths.cache_subdir("report") == tmp_path / "mine" / "report"
    assert paths.news_cache_dir().parts[-2:] == ("news-backtest", "news")


def test_the_news_cache_variable_moves_the_news_and_its_features_only(
    unset: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unset.setenv(paths.NEWS_CACHE_ENV_VAR, str(tmp_path / "news"))
    assert paths.news_cache_dir() == tmp_path / "news"
    assert paths.news_features_cache_dir() == tmp_path / "news"
    assert paths.prices_cache_dir().parts[-2:] == ("news-backtest", "prices")
