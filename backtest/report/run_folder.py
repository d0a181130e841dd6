"""Writing a run folder atomically: everything goes to a hidden temporary folder beside the
target, and one rename makes it visible. An error or Ctrl-C mid-write leaves nothing behind.

Every folder written here holds a marker file (``.news-backtest``), and ``--force`` replaces
only folders this tool wrote: marked ones, and run, walk-forward and sweep folders written
before the marker existed, recognised by their stats.json or sweep.json and their file names.
A folder holding anything else is refused even with --force, before the work starts and again
when the new folder is published; so are the filesystem root, the working and home folders and
any folder containing them or the reports folder. Replacing renames the old folder aside,
renames the new one into place, then deletes the old one (or puts it back if that fails).

A folder that cannot be written (permission denied, read-only file system, no space left on
device, disk quota exceeded) is a ``BacktestError`` naming the folder, the reason and what to
do: checked before the work starts where the system can tell (``os.access``: permissions and
read-only disks), and again for any such ``OSError`` while the folder is staged or published,
once the staging folder is removed."""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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


MARKER = ".news-backtest"
"""The file every folder this tool writes holds: JSON {"kind", "created_at", "entries"}."""

RUN_FOLDER_FILES = frozenset(
    {
        # backtest run (RUNFOLDER contract) and backtest walkforward
        "report.html",
        ".report.html.partial",
        "stats.json",
        "config.toml",
        "equity.csv",
        "trades.csv",
        "signals.csv",
        "headlines.csv",
        "returns.csv",
        "returns.parquet",
        "lexicon.csv",
        "walkforward.csv",
        # backtest sweep
        "sweep.csv",
        "sweep.json",
        "sweep.html",
    }
)
"""Top-level files a folder written before the marker existed may hold."""
RUN_FOLDER_FOLDERS = frozenset({"lexicons"})
"""Sub-folders it may hold (walk-forward's lexicons/window-NN.csv)."""

_REFUSED = "refusing to replace it even with --force. choose an empty or new folder"
_SHOWN_ENTRIES = 5

_UNWRITABLE_HINTS = {
    errno.ENOSPC: "free some space on that disk or choose another folder with {option}",
    errno.EDQUOT: "free some space within your disk quota or choose another folder with {option}",
    errno.EACCES: "choose a folder you can write to with {option}",
    errno.EPERM: "choose a folder you can write to with {option}",
    errno.EROFS: "choose a folder on a writable disk with {option}",
}
"""The OSErrors that mean "this folder cannot take the run", and what to do about each."""


@dataclass(frozen=True)
class RunFolderWriter:
    """Where a run will land; checked before the work starts, committed when it is done.

    ``--out DIR --force`` replaces DIR only if this tool wrote it (``replace_refusal``); any
    other folder, and the working, home and root folders, are refused even with --force.
    """

    target: Path | None
    """An explicit --out folder, or None for a fresh timestamped folder in ``parent``."""
    parent: Path
    name: str
    force: bool
    kind: str = "run"
    """What the folder holds ("run", "sweep", "walkforward"), recorded in its marker file."""
    reports_dir: Path | None = None
    """The reports folder, which --out must not contain (checked again at publish time)."""

    @classmethod
    def prepare(
        cls,
        name: str,
        *,
        out_dir: Path | None,
        reports_dir: Path,
        force: bool,
        kind: str = "run",
    ) -> RunFolderWriter:
        """Refuse an unusable --out folder early, before any work: an existing non-empty one
        without force, and with force one this tool did not write or a protected one."""
        if out_dir is not None:
            out_dir = Path(out_dir)
            if out_dir.exists() and not out_dir.is_dir():
                raise BacktestError(f"--out {out_dir} exists and is not a folder")
            _check_out_folder(out_dir, Path(reports_dir), force)
            writer = cls(
                target=out_dir,
                parent=out_dir.resolve().parent,
                name=name,
                force=force,
                kind=kind,
                reports_dir=Path(reports_dir),
            )
        else:
            writer = cls(target=None, parent=Path(reports_dir), name=name, force=force, kind=kind)
        writer._check_writable()
        return writer

    def commit(self, outputs: RunOutputs) -> Path:
        """Write a run's files into a temporary folder, render the report, rename into place."""
        return self.commit_with(lambda folder: write_run_files(folder, outputs))

    def commit_with(self, write_files: Callable[[Path], None]) -> Path:
        """Let ``write_files`` fill a temporary folder, then rename it into place atomically.

        Any exception (Ctrl-C included) removes the temporary folder and leaves the target as
        it was. Sweeps and walk-forward use this with their own files. The marker file goes in
        last, listing what ``write_files`` wrote.
        """
        staging: Path | None = None
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".partial-run-", dir=self.parent))
            write_files(staging)
            write_marker(staging, self.kind)
            return self._publish(staging)
        except BaseException as exc:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError) and exc.errno in _UNWRITABLE_HINTS:
                raise self._unwritable(exc.errno, after_work=True) from exc
            raise

    def _check_writable(self) -> None:
        """Refuse a folder the system already says cannot be written, before any work."""
        folder = self.parent
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent
        if not folder.is_dir():
            return  # a file in the way: mkdir reports it
        if not os.access(folder, os.W_OK | os.X_OK):
            code = errno.EROFS if _read_only_disk(folder) else errno.EACCES
            raise self._unwritable(code, after_work=False)

    def _unwritable(self, code: int, *, after_work: bool) -> BacktestError:
        """One line: the folder, why it cannot be written, and what to do."""
        if self.target is not None:
            shown, option = f"--out {self.target}", "--out"
        else:
            shown, option = f"reports folder {self.parent}", "--reports-dir or --out"
        reason = os.strerror(code).lower()
        done = "; no partial folder was left behind" if after_work else ""
        hint = _UNWRITABLE_HINTS[code].format(option=option)
        return BacktestError(
            f"{shown}: cannot write the {self.kind} folder ({reason}){done}. {hint}."
        )

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
        if self.reports_dir is not None:
            refusal = protected_refusal(target, self.reports_dir)
            if refusal is not None:
                raise BacktestError(refusal)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if target.exists():
            if not self.force:
                raise BacktestError(
                    f"--out {target} appeared while the run was working; pass --force to replace it"
                )
            refusal = replace_refusal(target)
            if refusal is not None:
                raise BacktestError(refusal)
            trash = Path(tempfile.mkdtemp(prefix=".replaced-run-", dir=self.parent))
            old = trash / "old"
            os.rename(target, old)
            # Checked again once moved aside: nothing saved under --out from now on lands in it.
            refusal = replace_refusal(old, shown=target)
            if refusal is not None:
                os.rename(old, target)
                trash.rmdir()
                raise BacktestError(refusal)
            try:
                os.rename(staging, target)
            except BaseException:
                # Put the previous folder back: a failed run leaves the target as it was.
                with contextlib.suppress(OSError):
                    os.rename(old, target)
                    trash.rmdir()
                raise
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(staging, target)
        return target


def _read_only_disk(folder: Path) -> bool:
    """Whether ``folder`` lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as written by this tool, listing its entries (sub-folders end in /)."""
    marker = {
        "kind": kind,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": sorted(_entry_name(p) for p in folder.iterdir() if p.name != MARKER),
    }
    (folder / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def protected_refusal(out_dir: Path, reports_dir: Path) -> str | None:
    """Why ``out_dir`` may never be replaced (root, working or home folder, or a folder holding
    one of them or the reports folder), or None."""
    shown = f"--out {out_dir}"
    out = Path(out_dir).resolve()
    if out.parent == out:
        return f"{shown} is the filesystem root; {_REFUSED}"
    places = [("working folder", Path.cwd().resolve())]
    with contextlib.suppress(RuntimeError):  # no HOME and no passwd entry
        places.append(("home folder", Path.home().resolve()))
    places.append(("reports folder", Path(reports_dir).resolve()))
    for what, place in places:
        if out == place:
            return f"{shown} is the {what}; {_REFUSED}"
        if out in place.parents:
            return f"{shown} contains the {what} ({place}); {_REFUSED}"
    return None


def replace_refusal(folder: Path, *, shown: Path | None = None) -> str | None:
    """Why ``--force`` may not replace the existing folder ``folder``, or None if it may.

    It may when it is empty, or when this tool wrote it: it holds the marker file and nothing
    but the entries the marker lists (and known run-folder files), or, for folders written
    before the marker existed, a stats.json that is a JSON object with "config" and "versions"
    (a run or walk-forward folder) or a sweep.json with "config" and "grid" (a sweep folder),
    and nothing but known run-folder files and folders.
    """
    foreign = _foreign_entries(folder)
    if foreign is None:
        return None
    return f"--out {folder if shown is None else shown} {_not_ours(foreign)}; {_REFUSED}"


def _check_out_folder(out_dir: Path, reports_dir: Path, force: bool) -> None:
    refusal = protected_refusal(out_dir, reports_dir)
    if refusal is not None:
        raise BacktestError(refusal)
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    foreign = _foreign_entries(out_dir)
    if foreign is not None:
        if force:
            raise BacktestError(f"--out {out_dir} {_not_ours(foreign)}; {_REFUSED}")
        raise BacktestError(
            f"--out {out_dir} exists and is not empty; it {_not_ours(foreign)}, so --force "
            "would not replace it either. choose an empty or new folder"
        )
    if not force:
        raise BacktestError(
            f"--out {out_dir} exists and is not empty; choose another folder "
            "or pass --force to replace it"
        )


def _foreign_entries(folder: Path) -> list[str] | None:
    """None if this tool wrote ``folder`` (or it is empty); else the entries it did not write,
    sorted (an empty list: only run-folder names, but neither a marker nor a run summary)."""
    entries = {p.name: p for p in folder.iterdir()}
    if not entries:
        return None
    listed = _marker_entries(folder / MARKER)
    if listed is not None:
        foreign = [
            _entry_name(p)
            for name, p in entries.items()
            if name != MARKER and _entry_name(p) not in listed and not _known_entry(p)
        ]
    else:
        foreign = [_entry_name(p) for p in entries.values() if not _known_entry(p)]
        if not foreign and not _legacy_summary(folder):
            return []
    return sorted(foreign) if foreign else None


def _not_ours(foreign: list[str]) -> str:
    """What is wrong with a folder this tool did not write, for the refusal messages."""
    if not foreign:
        return f"does not look like a folder this tool wrote (no {MARKER} file, no run stats.json)"
    names = ", ".join(foreign[:_SHOWN_ENTRIES])
    if len(foreign) > _SHOWN_ENTRIES:
        names += f" and {len(foreign) - _SHOWN_ENTRIES} more"
    return f"holds files this tool did not write ({names})"


def _entry_name(path: Path) -> str:
    return path.name + "/" if path.is_dir() and not path.is_symlink() else path.name


def _known_entry(path: Path) -> bool:
    """A file or folder a run, sweep or walk-forward folder holds (lexicons/ holds only CSVs)."""
    if path.is_symlink():
        return False
    if path.is_file():
        return path.name in RUN_FOLDER_FILES
    if path.is_dir() and path.name in RUN_FOLDER_FOLDERS:
        return all(
            p.is_file() and not p.is_symlink() and p.suffix == ".csv" for p in path.iterdir()
        )
    return False


def _marker_entries(path: Path) -> set[str] | None:
    """The entries a valid marker file lists, or None when there is no valid marker."""
    content = _json_object(path)
    if content is None or not isinstance(content.get("kind"), str):
        return None
    entries = content.get("entries", [])
    if not isinstance(entries, list):
        return None
    return {str(entry) for entry in entries}


def _legacy_summary(folder: Path) -> bool:
    """A stats.json or sweep.json as the tool wrote them before folders carried a marker."""
    stats = _json_object(folder / "stats.json")
    if stats is not None and {"config", "versions"} <= stats.keys():
        return True
    sweep = _json_object(folder / "sweep.json")
    return sweep is not None and {"config", "grid"} <= sweep.keys()


def _json_object(path: Path) -> dict | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return content if isinstance(content, dict) else None
