"""The bench's request-by-request comparison (bench/alternate.py), against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bench.alternate import AlternateError, alternate, post_request
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
