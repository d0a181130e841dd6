"""The wheel stands alone: built with ``pip wheel .``, installed in a fresh venv, it runs
``backtest run`` on the embedded data from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from cli_helpers import REPO


def test_wheel_in_a_fresh_venv_runs_backtest_from_an_empty_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(wheels.glob("news_backtest-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for shipped in (
        "backtest/datasets/stocknet/prices.csv.gz",
        "backtest/datasets/stocknet/headlines.csv.gz",
        "backtest/datasets/stocknet/SOURCES.md",
        "backtest/lexicon/finance.csv",
        "backtest/report/templates/report.html.j2",
        "backtest/strategies/default.toml",
    ):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = next((venv / "lib").glob("python*/site-packages"))
    # The dependencies come from this test environment, listed after the fresh venv's own
    # site-packages (a .pth adds folders without running their .pth files, so no editable
    # install of this checkout can shadow the wheel).
    dependencies = [p for p in sys.path if p.endswith("site-packages") and Path(p) != site]
    (site / "test-dependencies.pth").write_text("\n".join(dependencies) + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEWS_BACKTEST_DATA")}
    result = subprocess.run(
        [str(venv / "bin" / "backtest"), "run", "--tickers", "AAPL,MSFT", "--out", "run"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Run folder: run" in result.stdout
    stats = json.loads((empty / "run" / "stats.json").read_text(encoding="utf-8"))
    installed = site / "backtest" / "datasets" / "stocknet"
    assert stats["data"]["prices"]["path"] == str(installed / "prices.csv.gz")
    assert stats["tickers"] == ["AAPL", "MSFT"]
    assert sorted(p.name for p in empty.iterdir()) == ["run"]
