"""The bench report's verdict on "one-row V2 no slower than one-row /models", from block medians."""

from __future__ import annotations

import pytest

from bench.alternate import Alternated
from bench.report import MAX_EQUALITY_MARGIN, equality_margin, target_rows
from bench.results import Results

NAMES = ("iris-1-v2", "iris-1", "iris-1-v2 again", "iris-1 again")


def verdict(blocks: list[tuple[float, float, float, float]]) -> tuple[str, bool]:
    """(measured, met) of the one-row V2 target for these per-block median latencies (µs), in NAMES' order."""
    results = Results(command="test", facts=[], scenarios=[], alternated=Alternated(NAMES, blocks))
    (row,) = [row for row in target_rows(results) if row[0].startswith("iris-1-v2 vs iris-1")]
    return row[2], row[3]


def test_the_margin_is_half_the_spread_of_the_control_capped() -> None:
    assert equality_margin([0.992, 1.0, 1.004]) == pytest.approx(0.006)
    assert equality_margin([1.0, 1.0]) == 0.0
    assert equality_margin([0.9, 1.1]) == MAX_EQUALITY_MARGIN


def test_equal_requests_pass_when_the_ratio_is_a_hair_under_one() -> None:
    # V2 0.1 % slower than /models, while two identical /models requests read 0.8 % apart
    blocks = [(301.0, 300.0, 301.0, 300.0 * r) for r in (0.996, 1.0, 1.004, 1.0, 1.0)]
    measured, met = verdict(blocks)
    assert met
    assert "0.997× (0.995–0.999); A/A control 1.000× (0.996–1.004), so slower means below 0.996×" in measured


def test_a_request_slower_than_the_control_can_tell_apart_misses() -> None:
    # V2 2 % slower: beyond the 0.8 % the control spans
    blocks = [(306.0, 300.0, 306.0, 300.0 * r) for r in (0.996, 1.0, 1.004, 1.0, 1.0)]
    assert not verdict(blocks)[1]


def test_a_noisy_control_excuses_at_most_one_percent() -> None:
    # the control spans 10 %, V2 reads 1.5 % slower: too much for any run to call equal
    blocks = [(304.5, 300.0, 304.5, 300.0 * r) for r in (0.95, 1.0, 1.05, 1.0, 1.0)]
    assert not verdict(blocks)[1]
    blocks = [(302.4, 300.0, 302.4, 300.0 * r) for r in (0.95, 1.0, 1.05, 1.0, 1.0)]
    assert verdict(blocks)[1]  # 0.8 % slower, within the 1 % cap
