"""Shadow versions on a real server: agreement counted row by row (the counts the test computes
itself from the pickles), a shadow that fails on every row, and one far slower than the primary."""

from __future__ import annotations

import os
import signal
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from tests.live import LiveServer, serving, wait_until, worker_pids
from tests.traffic_store import Client, build_store, predictions, set_traffic

ROWS_PER_REQUEST = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("shadow"))


def batches(count: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [np.round(rng.random(ROWS_PER_REQUEST), 3).tolist() for _ in range(count)]


def shadow_rows(server: LiveServer, total: int) -> dict[str, int]:
    """The shadow's row counts once all ``total`` rows are accounted for (every worker's)."""
    client = Client(server.port)
    counts: dict[str, int] = {}

    def settled() -> bool:
        counts.update(client.get("/models/coin")["traffic"]["shadow_rows"])
        return sum(counts.values()) >= total

    deadline = time.monotonic() + 30
    while not settled():
        assert time.monotonic() < deadline, f"the shadow accounted for {counts}, not {total} rows"
        time.sleep(0.1)
    client.close()
    return counts


def metric_lines(server: LiveServer, name: str) -> list[str]:
    client = Client(server.port)
    client.connection.request("GET", "/metrics")
    text = client.connection.getresponse().read().decode()
    client.close()
    return [line for line in text.splitlines() if line.startswith(name)]


@pytest.mark.slow
def test_disagreement_is_counted_row_by_row(store: Path, tmp_path: Path) -> None:
    set_traffic(store, {"1": 100}, shadow="2")
    sent = batches(150, seed=1)
    xs = [x for batch in sent for x in batch]
    expected = sum(
        a != b for a, b in zip(predictions(store, "1", xs), predictions(store, "2", xs), strict=True)
    )
    assert 0 < expected < len(xs)  # the stumps differ on the rows between their splits
    with serving(store, tmp_path, workers=2) as server:
        client = Client(server.port)
        for batch in sent:
            status, headers, answer = client.post(
                "/models/coin/predict", {"instances": [{"x": x} for x in batch]}
            )
            assert (status, headers["X-Model-Version"]) == (200, "1")
            assert [p["label"] for p in answer["predictions"]] == predictions(store, "1", batch)
            time.sleep(0.005)  # well below what the workers can take: no shadow is shed
        counts = shadow_rows(server, len(xs))
        assert counts == {"agree": len(xs) - expected, "disagree": expected, "error": 0, "dropped": 0}
        traffic = client.get("/models/coin")["traffic"]
        assert traffic["agreement"] == pytest.approx((len(xs) - expected) / len(xs))
        requests = metric_lines(server, "model_registry_requests_total")
        assert requests == ['model_registry_requests_total{code="200",model="coin",version="1"} 150.0']
        rows = metric_lines(server, "model_registry_shadow_rows_total")
        labels = 'model="coin",result="disagree",shadow="2",version="1"'
        assert f"model_registry_shadow_rows_total{{{labels}}} {expected}.0" in rows
        assert metric_lines(server, 'model_registry_shadow_duration_seconds_count{model="coin",shadow="2"}')
        client.close()


@pytest.mark.slow
def test_a_shadow_that_fails_on_every_row_never_reaches_a_caller(store: Path, tmp_path: Path) -> None:
    set_traffic(store, None, shadow="3")  # "3" needs a feature "1" does not validate
    sent = batches(100, seed=2)
    with serving(store, tmp_path, workers=1) as server:
        client = Client(server.port)
        for batch in sent:
            status, _, answer = client.post("/models/coin/predict", {"instances": [{"x": x} for x in batch]})
            assert status == 200
            assert [p["label"] for p in answer["predictions"]] == predictions(store, "1", batch)
            time.sleep(0.002)
        total = len(sent) * ROWS_PER_REQUEST
        assert shadow_rows(server, total) == {"agree": 0, "disagree": 0, "error": total, "dropped": 0}
        assert client.get("/models/coin")["traffic"]["agreement"] is None
        assert client.get("/health/ready")["status"] == "ready"
        client.close()


def latencies(server: LiveServer, sent: list[list[float]]) -> list[float]:
    client = Client(server.port)
    seconds = []
    for batch in sent:
        started = time.perf_counter()
        status, _, _ = client.post("/models/coin/predict", {"instances": [{"x": x} for x in batch]})
        seconds.append(time.perf_counter() - started)
        assert status == 200
    client.close()
    return seconds


@pytest.mark.slow
def test_a_slow_shadow_is_shed_and_callers_stay_fast(store: Path, tmp_path: Path) -> None:
    set_traffic(store, None, shadow=None)
    slow = min(_timed(lambda: predictions(store, "4", [0.5] * ROWS_PER_REQUEST)) for _ in range(3))
    sent = batches(600, seed=3)
    with serving(store, tmp_path, workers=1) as server:
        latencies(server, sent[:100])  # warm up
        plain = latencies(server, sent)
        set_traffic(store, None, shadow="4")
        before = worker_pids(server.pid)
        os.kill(server.pid, signal.SIGHUP)
        replaced = lambda: len(now := worker_pids(server.pid)) == 1 and not now & before  # noqa: E731
        wait_until(replaced, 60, "the reload did not replace the worker")
        latencies(server, sent[:100])
        shadowed = latencies(server, sent)
        counts = shadow_rows(server, (len(sent) + 100) * ROWS_PER_REQUEST)
    assert statistics.median(shadowed) <= 1.5 * statistics.median(plain) + 0.001
    assert max(shadowed) <= max(plain) + 2 * slow + 0.05  # at worst one shadow ahead of a request
    assert counts["dropped"] > 0 and counts["error"] == 0
    assert counts["agree"] + counts["disagree"] > 0  # the idle moments still ran some


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started
