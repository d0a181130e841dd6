"""How figures read, in the terminal summary and in the HTML report alike (one place)."""

from __future__ import annotations

import math
from typing import Any

DASH = "\u2013"
"""What a missing or undefined figure reads as."""


def is_missing(value: Any) -> bool:
    """None, NaN and infinities are missing figures."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(value: Any, kind: str) -> str:
    """Format a figure: pct '12.34%', pct3 '0.012%', ratio '1.23', times '3.40×', int '1,234',
    float1 '4.5'."""
    if is_missing(value) or value == "":
        return DASH
    if kind == "pct":
        return f"{float(value) * 100:,.2f}%"
    if kind == "pct3":
        return f"{float(value) * 100:,.3f}%"
    if kind == "ratio":
        return f"{float(value):,.2f}"
    if kind == "times":
        return f"{float(value):,.2f}\u00d7"
    if kind == "ratio3":
        return f"{float(value):,.3f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float1":
        return f"{float(value):,.1f}"
    if kind == "money":
        return f"{float(value):,.2f}"
    return str(value)
