"""Sub-commands that live in their own modules; each exposes ``register(app)``.

Modules here import only typer at import time (heavy imports go inside the commands), so
``backtest --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module

import typer

COMMAND_MODULES: tuple[str, ...] = ("lexicon", "walkforward", "sweep")
"""Module names under backtest.commands whose register(app) adds commands to ``backtest``."""


def register_all(app: typer.Typer) -> None:
    """Let every command module add its commands to the root app."""
    for name in COMMAND_MODULES:
        import_module(f"backtest.commands.{name}").register(app)
