"""Target positions against a plain-Python reference, and the trading rules they encode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.kernels.positions import target_positions, target_positions_flat_at


def reference_positions(
    labels: list[list[int]],
    tradable: list[list[bool]],
    allow_short: bool,
    hold_on_neutral: bool,
    hold_sessions: int,
    flat_rows: list[bool] | None = None,
) -> list[list[int]]:
    """The documented rules with explicit entry and timed-exit bars, one column at a time;
    a forced exit (``flat_rows``) counts as a timed exit for the fresh-signal rule."""
    n_sessions = len(labels)
    n_tickers = len(labels[0]) if labels else 0
    out = [[0] * n_tickers for _ in range(n_sessions)]
    for k in range(n_tickers):
        position = 0
        entry_bar = -1
        timed_exit_bar = -1
        timed_exit_direction = 0
        for t in range(n_sessions):
            label = labels[t][k]
            if label == 1:
                wanted = 1
            elif label == -1:
                wanted = -1 if allow_short else 0
            else:
                wanted = position if hold_on_neutral else 0
            if tradable[t][k] and flat_rows is not None and flat_rows[t]:
                if position != 0:
                    timed_exit_bar = t
                    timed_exit_direction = position if label == position else 0
                position = 0
            elif tradable[t][k]:
                held_for = t - entry_bar
                if position != 0 and wanted == position and 0 < hold_sessions <= held_for:
                    wanted = 0
                    timed_exit_bar = t
                    timed_exit_direction = position if label == position else 0
                elif (
                    wanted != 0
                    and wanted == timed_exit_direction
                    and all(labels[s][k] == wanted for s in range(timed_exit_bar, t))
                ):
                    wanted = 0
                if wanted != position and wanted != 0:
                    entry_bar = t
                position = wanted
            out[t][k] = position
    return out


def run(labels, tradable=None, allow_short=True, hold_on_neutral=False, hold_sessions=0):
    labels_array = np.array(labels, dtype=np.int8).reshape(len(labels), -1)
    if tradable is None:
        tradable_array = np.ones(labels_array.shape, dtype=np.bool_)
    else:
        tradable_array = np.array(tradable, dtype=np.bool_).reshape(labels_array.shape)
    got = target_positions(
        labels_array, tradable_array, allow_short, hold_on_neutral, hold_sessions
    )
    assert got.dtype == np.int8
    return got[:, 0].tolist() if got.shape[1] == 1 else got.tolist()


@st.composite
def label_panels(draw):
    n_sessions = draw(st.integers(min_value=1, max_value=40))
    n_tickers = draw(st.integers(min_value=1, max_value=3))
    sticky = draw(st.booleans())
    labels = []
    previous = [0] * n_tickers
    for _ in range(n_sessions):
        row = []
        for k in range(n_tickers):
            keep = sticky and draw(st.integers(min_value=0, max_value=3)) > 0
            row.append(previous[k] if keep else draw(st.sampled_from([-1, 0, 1])))
        previous = row
        labels.append(row)
    all_tradable = draw(st.booleans())
    tradable = [
        [all_tradable or draw(st.integers(min_value=0, max_value=3)) > 0 for _ in range(n_tickers)]
        for _ in range(n_sessions)
    ]
    return labels, tradable


@settings(max_examples=300, deadline=None)
@given(
    label_panels(),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=0, max_value=6),
)
def test_positions_agree_with_reference(panel, allow_short, hold_on_neutral, hold_sessions) -> None:
    labels, tradable = panel
    got = target_positions(
        np.array(labels, dtype=np.int8),
        np.array(tradable, dtype=np.bool_),
        allow_short,
        hold_on_neutral,
        hold_sessions,
    )
    assert got.dtype == np.int8
    assert got.tolist() == reference_positions(
        labels, tradable, allow_short, hold_on_neutral, hold_sessions
    )


def test_bull_goes_long_and_bear_goes_short() -> None:
    assert run([[0], [1], [1], [-1], [-1], [1]]) == [0, 1, 1, -1, -1, 1]


def test_no_short_when_shorting_disabled() -> None:
    assert run([[1], [-1], [-1], [1]], allow_short=False) == [1, 0, 0, 1]


def test_neutral_exits_by_default() -> None:
    assert run([[1], [0], [-1], [0]]) == [1, 0, -1, 0]


def test_hold_on_neutral_keeps_position() -> None:
    assert run([[1], [0], [0], [-1], [0], [1]], hold_on_neutral=True) == [1, 1, 1, -1, -1, 1]


def test_hold_on_neutral_does_not_open_a_position() -> None:
    assert run([[0], [0]], hold_on_neutral=True) == [0, 0]


def test_bear_exits_long_when_shorting_disabled_even_holding_on_neutral() -> None:
    assert run([[1], [0], [-1]], allow_short=False, hold_on_neutral=True) == [1, 1, 0]


def test_hold_sessions_exits_after_n_sessions() -> None:
    assert run([[1]] * 6, hold_sessions=3) == [1, 1, 1, 0, 0, 0]


def test_hold_sessions_re_enters_only_after_a_fresh_signal() -> None:
    labels = [[1], [1], [1], [1], [0], [1], [1]]
    assert run(labels, hold_sessions=2) == [1, 1, 0, 0, 0, 1, 1]


def test_hold_sessions_allows_a_flip_at_once_and_restarts_the_count() -> None:
    assert run([[1], [1], [-1], [-1], [-1]], hold_sessions=2) == [1, 1, -1, -1, 0]
    assert run([[-1], [-1], [-1], [1]], hold_sessions=2) == [-1, -1, 0, 1]


def test_hold_sessions_with_hold_on_neutral_needs_no_extra_fresh_signal() -> None:
    labels = [[1], [0], [0], [1]]
    assert run(labels, hold_on_neutral=True, hold_sessions=2) == [1, 1, 0, 1]


def test_no_trade_on_missing_price() -> None:
    labels = [[1], [1], [0], [0], [-1]]
    tradable = [True, False, True, False, True]
    assert run(labels, tradable) == [1, 1, 0, 0, -1]
    assert run([[0], [1], [1]], [True, False, True]) == [0, 0, 1]
    assert run([[1], [0], [0]], [True, False, True]) == [1, 1, 0]


def test_timed_exit_waits_for_a_tradable_session_and_counts_missing_ones() -> None:
    labels = [[1]] * 5
    assert run(labels, [True, False, True, False, True], hold_sessions=2) == [1, 1, 0, 0, 0]
    assert run(labels, [True, True, False, True, True], hold_sessions=2) == [1, 1, 1, 0, 0]


def test_tickers_are_independent() -> None:
    labels = [[1, -1], [0, -1], [1, 0]]
    assert run(labels) == [[1, -1], [0, -1], [1, 0]]


def test_positions_start_flat_on_an_empty_panel() -> None:
    got = target_positions(np.zeros((0, 3), np.int8), np.zeros((0, 3), np.bool_), True, False, 0)
    assert got.shape == (0, 3)


@pytest.mark.parametrize(
    ("labels", "hold_sessions", "message"),
    [([[2]], 0, "labels"), ([[1]], -1, "hold_sessions")],
)
def test_positions_reject_bad_input(labels, hold_sessions: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(labels, hold_sessions=hold_sessions)


@settings(max_examples=300, deadline=None)
@given(
    label_panels(),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=0, max_value=6),
    st.data(),
)
def test_forced_exits_agree_with_reference(
    panel, allow_short, hold_on_neutral, hold_sessions, data
) -> None:
    labels, tradable = panel
    flat_rows = data.draw(st.lists(st.booleans(), min_size=len(labels), max_size=len(labels)))
    got = target_positions_flat_at(
        np.array(labels, dtype=np.int8),
        np.array(tradable, dtype=np.bool_),
        allow_short,
        hold_on_neutral,
        hold_sessions,
        np.array(flat_rows, dtype=np.bool_),
    )
    assert got.tolist() == reference_positions(
        labels, tradable, allow_short, hold_on_neutral, hold_sessions, flat_rows
    )


def test_a_forced_exit_needs_a_fresh_signal_to_reenter() -> None:
    labels = np.array([[1], [1], [1], [0], [1]], dtype=np.int8)
    tradable = np.ones(labels.shape, dtype=np.bool_)
    flat = np.array([False, True, False, False, False])
    got = target_positions_flat_at(labels, tradable, True, False, 0, flat)
    assert got[:, 0].tolist() == [1, 0, 0, 0, 1]
