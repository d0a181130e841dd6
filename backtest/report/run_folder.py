"""Writing a run folder atomically: everything goes to a hidden temporary folder beside the
target, and one rename makes it visible. An error or Ctrl-C mid-write leaves nothing behind."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from backtest.errors import BacktestError
from backtest.report.csv_writer import write_frame_csv

if TYPE_CHECKING:
    from backtest.outputs import RunOutputs


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with every text field quoted, so texts with \\r or \\n read back as one row.

    The bytes are pandas' ``to_csv(index=False, quoting=QUOTE_NONNUMERIC, lineterminator="\\n")``;
    report/csv_writer.py writes them column-wise (several times faster), and pandas writes
    the frames it does not reproduce exactly.
    """
    if not write_frame_csv(frame, path):
        frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")


def write_extra_files(folder: Path, files: Mapping[str, pd.DataFrame | str | bytes]) -> None:
    """Write ``RunOutputs.extra_files`` under ``folder``: frames as CSV, text as UTF-8, bytes
    as is. Names are relative paths inside the folder (sub-folders are created)."""
    for name, content in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or not relative.parts or ".." in relative.parts:
            raise BacktestError(f"run folder file name {name!r} must be a path inside the folder")
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            write_csv(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="\n")


def write_run_files(folder: Path, outputs: RunOutputs) -> None:
    """The files of a ``backtest run`` folder (RUNFOLDER contract), the report rendered last,
    from the tables in memory rather than from the CSVs just written (the same page)."""
    from backtest.outputs import gc_paused
    from backtest.report import html

    with gc_paused():
        stats_text = json.dumps(outputs.stats, indent=2, ensure_ascii=False) + "\n"
        (folder / "config.toml").write_text(outputs.config_toml, encoding="utf-8")
        (folder / "stats.json").write_text(stats_text, encoding="utf-8")
        tables = {name: getattr(outputs, name) for name in html.RUN_TABLES}
        for name, frame in tables.items():
            write_csv(frame, folder / f"{name}.csv")
        write_extra_files(folder, outputs.extra_files)
        html.render_run(
            html.in_memory_run_folder(
                folder, stats_text=stats_text, config_toml=outputs.config_toml, tables=tables
            )
        )


@dataclass(frozen=True)
class RunFolderWriter:
    """Where a run will land; checked before the work starts, committed when it is done."""

    target: Path | None
    """An explicit --out folder, or None for a fresh timestamped folder in ``parent``."""
    parent: Path
    name: str
    force: bool

    @classmethod
    def prepare(
        cls, name: str, *, out_dir: Path | None, reports_dir: Path, force: bool
    ) -> RunFolderWriter:
        """Refuse an existing non-empty --out folder early (unless force), before any work."""
        if out_dir is not None:
            out_dir = Path(out_dir)
            if out_dir.exists() and not out_dir.is_dir():
                raise BacktestError(f"--out {out_dir} exists and is not a folder")
            if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
                raise BacktestError(
                    f"--out {out_dir} exists and is not empty; choose another folder "
                    "or pass --force to replace it"
                )
            return cls(target=out_dir, parent=out_dir.resolve().parent, name=name, force=force)
        return cls(target=None, parent=Path(reports_dir), name=name, force=force)

    def commit(self, outputs: RunOutputs) -> Path:
        """Write a run's files into a temporary folder, render the report, rename into place."""
        return self.commit_with(lambda folder: write_run_files(folder, outputs))

    def commit_with(self, write_files: Callable[[Path], None]) -> Path:
        """Let ``write_files`` fill a temporary folder, then rename it into place atomically.

        Any exception (Ctrl-C included) removes the temporary folder and leaves the target as
        it was. Sweeps and walk-forward use this with their own files.
        """
        self.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".partial-run-", dir=self.parent))
        try:
            write_files(staging)
            return self._publish(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _publish(self, staging: Path) -> Path:
        if self.target is not None:
            return self._replace_target(staging, self.target)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            suffix = "" if attempt == 1 else f"-{attempt}"
            final = self.parent / f"{stamp}-{self.name}{suffix}"
            try:
                os.rename(staging, final)
            except OSError:
                if final.exists():
                    continue
                raise
            return final
        raise BacktestError(f"could not find a free run folder name in {self.parent}")

    def _replace_target(self, staging: Path, target: Path) -> Path:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if target.exists():
            if not self.force:
                raise BacktestError(
                    f"--out {target} appeared while the run was working; pass --force to replace it"
                )
            trash = Path(tempfile.mkdtemp(prefix=".replaced-run-", dir=self.parent))
            os.rename(target, trash / "old")
            os.rename(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(staging, target)
        return target
