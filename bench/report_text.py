"""The figures and tables the bench and soak reports are written with."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

DASH = "—"


def number(value: float | None) -> str:
    """A figure with as many decimals as it needs to show about three significant digits."""
    if value is None:
        return DASH
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def ratio_text(values: Sequence[float], digits: int = 2) -> str:
    """``1.23× (1.20–1.25)``: the median, then min–max over repetitions, to ``digits`` decimals."""
    if not values:
        return DASH
    return f"{statistics.median(values):.{digits}f}× ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
