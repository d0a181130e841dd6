"""The package's layers (DESIGN.md "Architecture") are pinned by import-linter's contract in
pyproject.toml: no cycle or upward import can come back unnoticed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli_helpers import REPO


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package found first on the path under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", "pyproject.toml"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layers_contract_is_kept() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        REPO / "backtest", tmp_path / "backtest", ignore=shutil.ignore_patterns("__pycache__")
    )
    kernel = tmp_path / "backtest" / "kernels" / "news.py"
    kernel.write_text(
        kernel.read_text(encoding="utf-8") + "\n\ndef _upward():\n    import backtest.runner\n",
        encoding="utf-8",
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "backtest.kernels.news -> backtest.runner" in result.stdout
