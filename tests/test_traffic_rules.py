"""The traffic rule without a server: config mistakes, the split's proportions, stable keys, and the
keys that move when a weight grows."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from registry.traffic import Split, effective_split
from spec.config import read_config
from spec.errors import ConfigError
from spec.traffic import DEFAULT_SHADOW_TOLERANCE

KEYS = [f"user-{i}" for i in range(20_000)]


def _flowers(**keys: Any) -> Callable[[dict[str, Any]], None]:
    def edit(models: dict[str, Any]) -> None:
        models["flowers"].update(keys)

    return edit


def test_reads_traffic_shadow_and_tolerance(make_store: Callable[..., Path]) -> None:
    config = read_config(make_store(_flowers(traffic={"1": 90, 2: 10}, shadow=2, shadow_tolerance=0.01)))
    traffic = config.models[0].traffic
    assert traffic.weights == {"1": 90, "2": 10}
    assert (traffic.shadow, traffic.shadow_tolerance) == ("2", 0.01)
    assert config.models[1].traffic.weights == {}
    assert config.models[1].traffic.shadow_tolerance == DEFAULT_SHADOW_TOLERANCE


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"traffic": {"1": 90, "7": 10}}, "flowers: traffic: 7: '7' is not one of its versions"),
        ({"traffic": {"1": -1, "2": 10}}, "flowers: traffic: 1: the weight must not be negative (-1)"),
        ({"traffic": {"1": 0, "2": 0}}, "flowers: traffic: the weights must not all be 0"),
        ({"traffic": {"1": 0.5, "2": 10}}, "flowers: traffic: 1: the weight must be a whole number, not 0.5"),
        ({"traffic": {"1": "90"}}, "flowers: traffic: 1: the weight must be a whole number, not '90'"),
        ({"traffic": {"1": True}}, "flowers: traffic: 1: the weight must be a whole number, not True"),
        ({"traffic": [90, 10]}, "flowers: traffic: must map versions to integer weights"),
        ({"shadow": "9"}, "flowers: shadow: '9' is not one of its versions"),
        ({"shadow_tolerance": -0.1}, "flowers: shadow_tolerance: must not be negative"),
        ({"shadow_tolerance": "small"}, "flowers: shadow_tolerance: must be a number"),
    ],
)
def test_traffic_mistakes_name_model_and_key(
    make_store: Callable[..., Path], keys: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as error:
        read_config(make_store(_flowers(**keys)))
    assert any(p.startswith(problem) for p in error.value.problems), error.value.problems


@pytest.mark.parametrize("weights", [{"1": 90, "2": 10}, {"1": 50, "2": 50}, {"1": 1, "2": 2, "3": 7}])
def test_draws_and_keys_follow_the_weights(weights: dict[str, int]) -> None:
    split = Split("penguins", weights)
    random.seed(7)
    drawn = Counter(split.pick() for _ in range(20_000))
    keyed = Counter(split.pick(key) for key in KEYS)
    for version, weight in weights.items():
        share = weight / sum(weights.values())
        assert drawn[version] / 20_000 == pytest.approx(share, abs=0.015)
        assert keyed[version] / len(KEYS) == pytest.approx(share, abs=0.015)


def test_a_key_gets_the_same_version_from_every_split_built_alike() -> None:
    first, second = Split("penguins", {"1": 90, "2": 10}), Split("penguins", {"2": 10, "1": 90})
    assert [first.pick(key) for key in KEYS[:2000]] == [second.pick(key) for key in KEYS[:2000]]
    other_model = Split("iris", {"1": 90, "2": 10})
    assert [first.pick(key) for key in KEYS[:2000]] != [other_model.pick(key) for key in KEYS[:2000]]


@pytest.mark.parametrize("grown", [20, 50, 100])
def test_growing_the_canary_only_moves_keys_onto_it(grown: int) -> None:
    before = {key: Split("penguins", {"1": 90, "2": 10}).pick(key) for key in KEYS}
    after_split = Split("penguins", {"1": 100 - grown, "2": grown})
    after = {key: after_split.pick(key) for key in KEYS}
    moved = [key for key in KEYS if before[key] != after[key]]
    assert all(before[key] == "1" and after[key] == "2" for key in moved)
    assert len(moved) / len(KEYS) == pytest.approx((grown - 10) / 100, abs=0.015)


def test_a_third_version_taking_a_share_moves_keys_onto_it_only() -> None:
    before_split = Split("penguins", {"1": 80, "2": 20})
    after_split = Split("penguins", {"1": 80, "2": 20, "3": 10})
    moved = [key for key in KEYS if before_split.pick(key) != after_split.pick(key)]
    assert all(after_split.pick(key) == "3" for key in moved)


def test_failed_versions_get_no_share_and_the_others_keep_their_proportions() -> None:
    split = effective_split("penguins", {"1": 60, "2": 30, "3": 10}, available={"1", "3"})
    assert split is not None and split.shares() == {"1": 85.71428571428571, "3": 14.285714285714286}
    assert {split.pick(key) for key in KEYS[:500]} == {"1", "3"}
    assert effective_split("penguins", {"2": 10}, available={"1"}) is None
