"""The bench report's verdict on "one-row V2 within 3 % of one-row /models", from block medians."""

from __future__ import annotations

from bench.load.alternate import Alternated
from bench.load.report import target_rows
from bench.load.results import Results

NAMES = ("iris-1-v2", "iris-1")


def verdict(v2_over_models: list[float]) -> tuple[str, str, bool]:
    """(goal, measured, met) of the one-row V2 target for blocks whose V2 latency is these multiples
    of the /models latency."""
    blocks = [(300.0 * ratio, 300.0) for ratio in v2_over_models]
    results = Results(command="test", facts=[], scenarios=[], alternated=Alternated(NAMES, blocks))
    (row,) = [row for row in target_rows(results) if row[0].startswith("iris-1-v2 vs iris-1")]
    return row[1], row[2], row[3]


def test_v2_within_three_percent_of_models_passes() -> None:
    goal, measured, met = verdict([1.02, 1.01, 1.025, 0.99, 1.0])
    assert met
    assert goal == "≤ 1.03×"
    assert measured == "1.01× (0.99–1.02)"


def test_v2_slower_by_more_than_three_percent_misses() -> None:
    assert not verdict([1.04, 1.035, 1.05, 1.02, 1.06])[2]


def test_the_median_block_decides() -> None:
    assert verdict([1.2, 1.02, 0.9])[2]  # one slow block among equal ones does not fail it
    assert not verdict([1.0, 1.031, 1.04])[2]
