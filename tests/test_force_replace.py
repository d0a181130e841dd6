"""``--force`` replaces only what the tool wrote (issue 20): a marked (or older, recognisable)
run, sweep or walk-forward folder is replaced atomically; any other folder, the working, home
and root folders and a folder holding the reports folder are refused even with --force, before
any work and again at publish time, and are left byte for byte as they were."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import run_cli

from backtest.errors import BacktestError
from backtest.report.run_folder import (
    MARKER,
    RunFolderWriter,
    protected_refusal,
    replace_refusal,
)

REFUSED = "refusing to replace it even with --force. choose an empty or new folder"
SLICE_PERIOD = ("2014-10-01", "2014-12-31")


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders), and the folder's inode."""
    tree: dict[str, bytes | None] = {".": None, "inode": str(folder.stat().st_ino).encode()}
    for path in sorted(folder.rglob("*")):
        tree[str(path.relative_to(folder))] = None if path.is_dir() else path.read_bytes()
    return tree


def user_folder(path: Path) -> Path:
    """A folder of the user's: important.txt and a sub-folder with a file in it."""
    path.mkdir(parents=True)
    (path / "important.txt").write_text("my thesis, no other copy\n")
    (path / "data").mkdir()
    (path / "data" / "raw.csv").write_bytes(b"a,b\n1,2\n")
    return path


def write_demo(folder: Path) -> None:
    """A tiny stand-in for the run's files."""
    (folder / "stats.json").write_text(json.dumps({"config": {}, "versions": {}}))
    (folder / "equity.csv").write_text("date,equity\n")


def prepare(out: Path, *, force: bool, reports: Path | None = None, kind: str = "run"):
    reports = reports if reports is not None else out.parent / "reports"
    return RunFolderWriter.prepare("demo", out_dir=out, reports_dir=reports, force=force, kind=kind)


def previous_run(out: Path, kind: str = "run") -> Path:
    return prepare(out, force=False, kind=kind).commit_with(write_demo)


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".partial", ".replaced")))


# ---------------------------------------------------------------- refused, left untouched


def test_a_folder_of_the_users_is_refused_even_with_force(tmp_path: Path) -> None:
    out = user_folder(tmp_path / "mine")
    before = snapshot(out)
    with pytest.raises(BacktestError) as caught:
        prepare(out, force=True)
    assert str(caught.value) == (
        f"--out {out} holds files this tool did not write (data/, important.txt); {REFUSED}"
    )
    assert snapshot(out) == before


def test_without_force_the_refusal_says_force_would_not_help(tmp_path: Path) -> None:
    out = user_folder(tmp_path / "mine")
    with pytest.raises(BacktestError) as caught:
        prepare(out, force=False)
    assert str(caught.value) == (
        f"--out {out} exists and is not empty; it holds files this tool did not write "
        "(data/, important.txt), so --force would not replace it either. choose an empty or "
        "new folder"
    )


def test_a_run_folder_the_user_added_a_file_to_is_refused(tmp_path: Path) -> None:
    out = previous_run(tmp_path / "run")
    (out / "notes.txt").write_text("my notes on this run")
    before = snapshot(out)
    with pytest.raises(BacktestError, match=r"did not write \(notes\.txt\)"):
        prepare(out, force=True)
    assert snapshot(out) == before


def test_run_folder_names_without_a_marker_or_a_run_summary_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "looks-like-a-run"
    out.mkdir()
    (out / "equity.csv").write_text("my own equity curve")
    (out / "stats.json").write_text('{"config": {}}')  # no "versions": not a run's stats.json
    with pytest.raises(BacktestError) as caught:
        prepare(out, force=True)
    assert str(caught.value) == (
        f"--out {out} does not look like a folder this tool wrote (no {MARKER} file, no run "
        f"stats.json); {REFUSED}"
    )


def test_a_broken_marker_counts_as_no_marker(tmp_path: Path) -> None:
    out = tmp_path / "odd"
    out.mkdir()
    (out / MARKER).write_text("not json")
    (out / "important.txt").write_text("x")
    assert replace_refusal(out) is not None


def test_a_user_file_inside_lexicons_makes_an_old_walkforward_folder_foreign(
    tmp_path: Path,
) -> None:
    out = tmp_path / "wf"
    (out / "lexicons").mkdir(parents=True)
    (out / "stats.json").write_text(json.dumps({"config": {}, "versions": {}}))
    (out / "lexicons" / "window-01.csv").write_text("word,score\n")
    assert replace_refusal(out) is None
    (out / "lexicons" / "my-lexicon.xlsx").write_text("x")
    assert "(lexicons/)" in (replace_refusal(out) or "")


# ---------------------------------------------------------------- protected folders


def test_the_working_folder_is_refused_even_when_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    with pytest.raises(BacktestError) as caught:
        prepare(Path("."), force=True, reports=tmp_path / "reports")
    assert str(caught.value) == f"--out . is the working folder; {REFUSED}"
    (project / "pyproject.toml").write_text("[project]\n")
    before = snapshot(project)
    with pytest.raises(BacktestError, match="is the working folder"):
        prepare(Path("."), force=True, reports=tmp_path / "reports")
    with pytest.raises(BacktestError) as caught:
        prepare(Path(".."), force=True, reports=tmp_path / "reports")
    assert str(caught.value) == f"--out .. contains the working folder ({project}); {REFUSED}"
    assert snapshot(project) == before


def test_the_home_and_root_folders_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    reports = tmp_path / "elsewhere" / "reports"
    with pytest.raises(BacktestError) as caught:
        prepare(home, force=True, reports=reports)
    assert str(caught.value) == f"--out {home} is the home folder; {REFUSED}"
    assert protected_refusal(home.parent, reports) == (
        f"--out {home.parent} contains the home folder ({home}); {REFUSED}"
    )
    assert protected_refusal(Path("/"), reports) == f"--out / is the filesystem root; {REFUSED}"


def test_a_folder_containing_the_reports_folder_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    reports = project / "reports"
    previous_run(reports / "20260101-000000-demo")
    before = snapshot(project)
    with pytest.raises(BacktestError) as caught:
        prepare(project, force=True, reports=reports)
    assert str(caught.value) == (
        f"--out {project} contains the reports folder ({reports}); {REFUSED}"
    )
    with pytest.raises(BacktestError, match="is the reports folder"):
        prepare(reports, force=True, reports=reports)
    assert snapshot(project) == before


# ---------------------------------------------------------------- what may be written


def test_an_empty_folder_is_written_with_or_without_force(tmp_path: Path) -> None:
    for force in (False, True):
        out = tmp_path / f"empty-{force}"
        out.mkdir()
        assert prepare(out, force=force).commit_with(write_demo) == out
        assert sorted(p.name for p in out.iterdir()) == [MARKER, "equity.csv", "stats.json"]
    assert hidden_leftovers(tmp_path) == []


def test_every_folder_gets_a_marker_listing_what_was_written(tmp_path: Path) -> None:
    out = prepare(tmp_path / "sweep", force=False, kind="sweep").commit_with(write_demo)
    marker = json.loads((out / MARKER).read_text())
    assert marker["kind"] == "sweep"
    assert marker["entries"] == ["equity.csv", "stats.json"]
    assert marker["created_at"].endswith("+00:00")
    reports = tmp_path / "reports"
    stamped = RunFolderWriter.prepare(
        "demo", out_dir=None, reports_dir=reports, force=False
    ).commit_with(write_demo)
    assert stamped.parent == reports
    assert json.loads((stamped / MARKER).read_text())["kind"] == "run"


def test_a_previous_run_folder_is_replaced(tmp_path: Path) -> None:
    out = previous_run(tmp_path / "run")
    (out / "trades.csv").write_text("old trades\n")  # a known run file from an older version
    inode = out.stat().st_ino

    def write_new(folder: Path) -> None:
        (folder / "stats.json").write_text(json.dumps({"config": {"new": 1}, "versions": {}}))

    assert prepare(out, force=True).commit_with(write_new) == out
    assert out.stat().st_ino != inode
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "stats.json"]
    assert json.loads((out / "stats.json").read_text())["config"] == {"new": 1}
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "files",
    [
        {
            "stats.json": json.dumps({"name": "x", "config": {}, "versions": {"pandas": "3"}}),
            "report.html": "<html>",
            "equity.csv": "",
            "config.toml": "",
            "lexicons/window-01.csv": "word,score\n",
        },
        {"sweep.json": json.dumps({"grid": {}, "config": {}}), "sweep.csv": "", "sweep.html": ""},
    ],
    ids=["run-or-walkforward", "sweep"],
)
def test_folders_written_before_the_marker_are_replaced(
    tmp_path: Path, files: dict[str, str]
) -> None:
    out = tmp_path / "old"
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    prepare(out, force=True).commit_with(write_demo)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "equity.csv", "stats.json"]


def test_a_file_added_while_the_run_works_is_refused_at_publish_time(tmp_path: Path) -> None:
    out = previous_run(tmp_path / "run")
    writer = prepare(out, force=True)

    def write_while_the_user_saves_a_file(folder: Path) -> None:
        write_demo(folder)
        (out / "saved-meanwhile.txt").write_text("keep me")

    with pytest.raises(BacktestError) as caught:
        writer.commit_with(write_while_the_user_saves_a_file)
    assert str(caught.value) == (
        f"--out {out} holds files this tool did not write (saved-meanwhile.txt); {REFUSED}"
    )
    assert (out / "saved-meanwhile.txt").read_text() == "keep me"
    assert (out / MARKER).is_file()
    assert hidden_leftovers(tmp_path) == []


def test_a_folder_that_appeared_while_the_run_worked_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "later"
    writer = prepare(out, force=True)

    def write_while_the_user_makes_the_folder(folder: Path) -> None:
        write_demo(folder)
        user_folder(out)

    with pytest.raises(BacktestError, match="did not write"):
        writer.commit_with(write_while_the_user_makes_the_folder)
    assert (out / "important.txt").is_file()
    assert hidden_leftovers(tmp_path) == []


# ---------------------------------------------------------------- the real CLI


def cli_run(slice_files: tuple[Path, Path], *args: str, cwd: Path):
    prices, headlines = slice_files
    return run_cli(
        "run", "--prices", str(prices), "--headlines", str(headlines), "--tickers", "AAPL,KO",
        "--start", SLICE_PERIOD[0], "--end", SLICE_PERIOD[1], "--quiet", *args, cwd=cwd,
    )  # fmt: skip


def assert_refused(result, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {message}"], result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_users_folder_and_the_working_folder_leaving_them_untouched(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = user_folder(tmp_path / "mine")
    before = snapshot(out)
    refused = cli_run(slice_files, "--out", str(out), "--force", cwd=tmp_path)
    assert_refused(
        refused,
        f"--out {out} holds files this tool did not write (data/, important.txt); {REFUSED}",
    )
    assert snapshot(out) == before

    refused = cli_run(slice_files, "--out", ".", "--force", cwd=out)
    assert_refused(refused, f"--out . is the working folder; {REFUSED}")
    assert snapshot(out) == before

    project = tmp_path / "project"
    (project / "reports" / "old-run").mkdir(parents=True)
    reports = project / "reports"
    refused = cli_run(
        slice_files, "--out", str(project), "--reports-dir", str(reports), "--force", cwd=tmp_path
    )
    assert_refused(refused, f"--out {project} contains the reports folder ({reports}); {REFUSED}")
    assert (reports / "old-run").is_dir()


def test_cli_writes_an_empty_folder_then_replaces_its_own_run_with_force(
    slice_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    first = cli_run(slice_files, "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (out / "stats.json").is_file() and (out / "report.html").is_file()
    assert json.loads((out / MARKER).read_text())["kind"] == "run"
    inode = os.stat(out).st_ino

    again = cli_run(slice_files, "--out", str(out), cwd=tmp_path)
    assert again.returncode == 2 and "pass --force to replace it" in again.stderr

    forced = cli_run(slice_files, "--out", str(out), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert os.stat(out).st_ino != inode
    assert (out / "stats.json").is_file() and (out / MARKER).is_file()
    assert hidden_leftovers(tmp_path) == []


def test_a_file_added_in_the_last_instant_is_caught_once_the_old_folder_is_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest.report import run_folder

    out = previous_run(tmp_path / "run")
    real_rename = os.rename

    def rename_then_the_user_saves(source, destination) -> None:
        real_rename(source, destination)
        if Path(source) == out and Path(destination).name == "old":
            (Path(destination) / "last-instant.txt").write_text("keep me")

    monkeypatch.setattr(run_folder.os, "rename", rename_then_the_user_saves)
    with pytest.raises(BacktestError, match=r"did not write \(last-instant\.txt\)"):
        prepare(out, force=True).commit_with(write_demo)
    assert (out / "last-instant.txt").read_text() == "keep me"
    assert (out / "stats.json").is_file()
    assert hidden_leftovers(tmp_path) == []
