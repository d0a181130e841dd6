"""docs/API.md's notebook example runs as written, on the embedded data."""

from __future__ import annotations

import doctest

from cli_helpers import REPO


def test_api_notebook_example_runs_as_written() -> None:
    result = doctest.testfile(
        str(REPO / "docs" / "API.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 8
    assert result.failed == 0
