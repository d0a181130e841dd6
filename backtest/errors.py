"""The one error type users see: bad input they can fix, reported in one line, exit status 2."""

from __future__ import annotations

from pathlib import Path


class BacktestError(Exception):
    """Bad input or an impossible request; the CLI prints it as one line and exits with status 2."""


class InputError(BacktestError):
    """A problem in a data or strategy file, located by file, row and column, with what to do.

    ``row`` is the 1-based data record (the header is not counted), so it names the same record
    whatever the file format.
    """

    def __init__(
        self,
        what: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.what = what
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.what.rstrip(".")
        if self.hint:
            text += f". {self.hint.rstrip('.')}"
        return text if text.endswith(("?", "!")) else text + "."
