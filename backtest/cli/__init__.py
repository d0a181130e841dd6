"""The ``backtest`` command: parse, call the library, print.

One Typer app (cli/app.py); each module below adds its commands with decorators. Heavy imports
stay inside the commands, so ``backtest --help`` answers without pandas, numba or vectorbt.
"""

from __future__ import annotations

import sys
import traceback
from importlib import import_module
from typing import Any

from backtest.cli.app import PUBLISHED, app, say

COMMAND_MODULES = (
    "run",
    "readings",
    "sweep",
    "walkforward",
    "decay",
    "compare",
    "lexicon",
    "data",
)
"""Modules under backtest.cli whose decorators add commands, in ``--help`` order."""
for _name in COMMAND_MODULES:
    import_module(f"backtest.cli.{_name}")

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: one line and exit 2 for bad input, exit 1 for internal errors,
    one line and 128 + signal number for Ctrl-C (SIGINT) or SIGTERM (the run folder is atomic)."""
    import os
    import signal
    import threading
    import warnings

    import typer
    from typer.exceptions import TyperException

    debug = "--debug" in sys.argv[1:]
    if not debug:
        warnings.formatwarning = lambda message, *_args, **_kwargs: f"warning: {message}\n"
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # Typer turns KeyboardInterrupt into a silent exit 130, so remember the signal here;
        # a repeated signal is ignored so the clean-up of the staging folder can finish.
        stopped_by.append(signum)
        signal.signal(signum, signal.SIG_IGN)
        raise KeyboardInterrupt

    default_unraisable = sys.unraisablehook

    def unraisable(hook: Any) -> None:
        # A signal that lands in a callback Python cannot raise from (importlib's module-lock
        # callback, a __del__) would be swallowed as "Exception ignored" and the run would go
        # on: re-arm the handler and deliver the signal again a moment later instead.
        if isinstance(hook.exc_value, KeyboardInterrupt) and stopped_by:
            signum = stopped_by.pop()
            signal.signal(signum, stop)
            threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
            return
        default_unraisable(hook)

    sys.unraisablehook = unraisable
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stop)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stop)
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        say("Aborted.")
        sys.exit(130)
    except KeyboardInterrupt:
        stopped_by.append(signal.SIGINT)
        code = 130
    except TyperException as exc:
        # Usage errors (unknown command or option, a missing value): Typer's usage line and
        # message, exit 2, as any command-line tool does.
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        from backtest.errors import BacktestError

        if debug:
            traceback.print_exc()
        # One line whatever the message holds (a pandas error can span several).
        detail = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        if isinstance(exc, BacktestError):
            say(f"error: {detail}")
            sys.exit(2)
        line = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
        say(line if debug else f"{line} (run with --debug for details)")
        sys.exit(1)
    if stopped_by:
        what = "Terminated" if stopped_by[0] == signal.SIGTERM else "Interrupted"
        if PUBLISHED:
            say(
                f"{what} after the work was done: {PUBLISHED[-1]} is complete; the reports "
                "index may not list it yet (`backtest index` rebuilds it)."
            )
        else:
            say(f"{what}; no partial run folder was left behind.")
        sys.exit(128 + int(stopped_by[0]))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
