"""The report's cache folder: plotly.js compressed once and read back, templates compiled once;
a missing, unwritable or stale cache changes nothing on the page."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest

from backtest import paths
from backtest.report import figures, html


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.CACHE_ENV_VAR, str(tmp_path / "cache"))
    figures.plotly_js_gzip_base64.cache_clear()
    yield tmp_path / "cache" / "report"
    figures.plotly_js_gzip_base64.cache_clear()


def test_compressed_plotly_is_written_once_then_read_back(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = figures.plotly_js_gzip_base64()
    assert gzip.decompress(base64.b64decode(first)).decode("utf-8") == figures.plotly_js()
    files = list(cache.glob("plotly-*.js.gz.b64"))
    assert len(files) == 1
    assert files[0].read_text(encoding="ascii") == first
    figures.plotly_js_gzip_base64.cache_clear()

    def no_compressing(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("compressed again although the cache holds it")

    monkeypatch.setattr(figures.gzip, "compress", no_compressing)
    assert figures.plotly_js_gzip_base64() == first
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []


def test_a_cache_file_of_another_bundle_is_not_used(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = figures.plotly_js_gzip_base64()
    figures.plotly_js_gzip_base64.cache_clear()
    monkeypatch.setattr(figures, "plotly_js", lambda: "/* another plotly.js */")
    other = figures.plotly_js_gzip_base64()
    assert other != first
    assert gzip.decompress(base64.b64decode(other)) == b"/* another plotly.js */"
    assert len(list(cache.glob("plotly-*.js.gz.b64"))) == 2


def test_a_cache_path_that_is_a_file_still_gives_the_page_bytes(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("not a folder")
    packed = figures.plotly_js_gzip_base64()
    assert gzip.decompress(base64.b64decode(packed)).decode("utf-8") == figures.plotly_js()
    assert html.environment().bytecode_cache is None


def test_templates_compile_into_the_cache_once(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = html.environment().get_template("report.html.j2")
    compiled = sorted((cache / "templates").iterdir())
    assert len(compiled) == 1
    env = html.environment()

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again although the cache holds it")

    monkeypatch.setattr(env, "compile", no_compiling)
    again = env.get_template("report.html.j2")
    assert again.blocks.keys() == first.blocks.keys()
    assert sorted((cache / "templates").iterdir()) == compiled
