"""``backtest --help`` stays fast: the CLI module and every command's help load no heavy package.

Each check runs in a fresh interpreter, because this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_helpers import run_cli

HEAVY = ("vectorbt", "numba", "pandas", "plotly", "dask")

PROBE = """
import json, sys
import backtest.cli
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""

HELP_PROBE = """
import contextlib, io, json, sys
import typer.main
from backtest.cli import app
group = typer.main.get_command(app)

def paths(cmd, prefix):
    yield prefix
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from paths(sub, [*prefix, name])

loaded = {}
for path in paths(group, []):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            group.main([*path, "--help"], prog_name="backtest", standalone_mode=False)
        except SystemExit:
            pass
    loaded[" ".join(path) or "(root)"] = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps(loaded))
"""


def _top_level_modules(source: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_the_cli_loads_no_heavy_package() -> None:
    loaded = set(_top_level_modules(PROBE))
    assert not loaded & set(HEAVY), f"import backtest.cli loads {sorted(loaded & set(HEAVY))}"


def test_importing_the_cli_loads_no_numpy() -> None:
    assert "numpy" not in set(_top_level_modules(PROBE))


def test_every_commands_help_loads_no_heavy_package() -> None:
    loaded = _top_level_modules(HELP_PROBE)
    assert isinstance(loaded, dict)
    assert "run" in loaded, f"the probe did not reach the run command: {sorted(loaded)}"
    offenders = {path: sorted(set(mods) & set(HEAVY)) for path, mods in loaded.items()}
    assert not any(offenders.values()), {p: m for p, m in offenders.items() if m}


@pytest.mark.parametrize("args", [("--help",), ("run", "--help")])
def test_help_exits_zero_and_names_the_command(args: tuple[str, ...]) -> None:
    result = run_cli(*args, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
