"""The bench's request-by-request comparisons (bench/load/alternate.py, bench/load/latency.py), against a real
server and the real in-process floor."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bench.load.alternate import Alternated, AlternateError, alternate, alternate_calls, post_request
from bench.load.floor import load_version
from bench.load.latency import alternate_with_floor
from bench.load.results import FLOOR
from bench.scenarios import build_scenarios
from tests.conftest import EXAMPLE_CONFIG
from tests.live import serving


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(EXAMPLE_CONFIG, tmp_path_factory.mktemp("alternate"), workers=1) as live:
        port = urlsplit(live.url).port
        assert port is not None
        yield port


def test_one_row_v2_and_models_requests_are_timed_in_blocks(port: int) -> None:
    scenarios = build_scenarios(["iris-1-v2", "iris-1"])
    requests = {s.name: post_request(s.path, s.body()) for s in scenarios}
    measured = alternate(port, requests, rounds=300, blocks=3, warmup_rounds=10)
    assert measured.names == ("iris-1-v2", "iris-1")
    assert len(measured.block_medians) == 3
    assert all(10e-6 < seconds < 1.0 for block in measured.block_medians for seconds in block)
    ratios = measured.ratios("iris-1", "iris-1-v2")
    assert ratios == [block[1] / block[0] for block in measured.block_medians]


def test_an_answer_other_than_200_stops_it(port: int) -> None:
    bad = post_request("/models/iris/1/predict", json.dumps({"sepal_length_cm": "x"}).encode())
    with pytest.raises(AlternateError, match="400"):
        alternate(port, {"bad": bad}, rounds=1, blocks=1, warmup_rounds=0)


def test_calls_come_in_bursts_in_rotating_order() -> None:
    made: list[str] = []
    calls = {name: (lambda name=name: made.append(name)) for name in ("a", "b", "c")}
    measured = alternate_calls(calls, rounds=4, blocks=2, warmup_rounds=1, burst=2)
    assert made[:3] == ["a", "b", "c"]  # the warm-up round
    rounds = ["".join(made[3 + 6 * i : 9 + 6 * i]) for i in range(4)]
    assert rounds == ["aabbcc", "bbccaa", "ccaabb", "aabbcc"]
    assert len(measured.block_medians) == 2
    assert measured.medians("b") == [block[1] for block in measured.block_medians]


def test_the_calls_that_settle_a_burst_are_not_timed() -> None:
    made = {"slow first": 0}

    def slow_first() -> None:  # each burst's first two calls are slow, the third is timed
        if made["slow first"] % 3 != 2:
            time.sleep(0.02)
        made["slow first"] += 1

    measured = alternate_calls({"slow first": slow_first}, rounds=6, blocks=2, warmup_rounds=0, settle=2)
    assert made["slow first"] == 18
    assert all(seconds < 0.01 for seconds in measured.medians("slow first"))


def test_the_floor_and_a_server_are_timed_in_the_same_blocks(port: int) -> None:
    (probe,) = build_scenarios(["iris-1000-v2"])
    version = load_version(EXAMPLE_CONFIG, probe.model, probe.version)
    measured = alternate_with_floor({"ours": port}, probe, version, seconds=0.5, blocks=2, burst=3)
    assert measured.names == (FLOOR, "ours")
    assert len(measured.block_medians) == 2
    # the floor parses, checks, predicts and encodes 1,000 rows: tens of microseconds at least
    assert all(20e-6 < seconds < 1.0 for block in measured.block_medians for seconds in block)
    assert measured.ratios("ours", FLOOR) == [b[1] / b[0] for b in measured.block_medians]


def test_ratios_divide_the_medians_block_by_block() -> None:
    measured = Alternated(("a", "b"), [(1.0, 2.0), (4.0, 2.0)])
    assert measured.ratios("b", "a") == [2.0, 0.5]
    assert measured.ratios("a", "b") == [0.5, 2.0]
