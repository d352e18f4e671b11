"""Reloading a real server while it serves: no request fails, every worker ends on the new set."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.live import LiveServer, request, serving, wait_until

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
PENGUIN = {"island": "Dream", "bill_length_mm": 39.5, "bill_depth_mm": 17.4, "flipper_length_mm": 186}


def edit(config: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(config.read_text())
    change(data["models"])
    config.write_text(yaml.safe_dump(data, sort_keys=False))


@contextmanager
def load(server: LiveServer, seconds: float = 60) -> Iterator[Counter]:
    """Two clients posting good requests back to back until the block ends (at most ``seconds``)."""
    outcomes: Counter = Counter()
    stop = threading.Event()
    deadline = time.monotonic() + seconds

    def client(path: str, body: dict[str, Any]) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status, _ = request(f"{server.url}{path}", body)
                outcomes[status] += 1
            except (OSError, http.client.HTTPException) as error:  # refused, reset or cut: dropped
                outcomes[type(error).__name__] += 1

    threads = [
        threading.Thread(target=client, args=("/models/iris/1/predict", IRIS)),
        threading.Thread(target=client, args=("/models/penguins/stable/predict", PENGUIN)),
    ]
    for thread in threads:
        thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def every_worker(server: LiveServer, path: str, check: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether 20 answers in a row (spread over the workers) pass ``check``."""
    return all(check(request(f"{server.url}{path}")[1]) for _ in range(20))


def test_sighup_reload_under_load_drops_nothing(store_copy: Path, tmp_path: Path) -> None:
    with serving(store_copy, tmp_path, workers=2) as server, load(server) as outcomes:
        time.sleep(1)

        def add_iris_2(models: dict[str, Any]) -> None:
            models["iris"]["versions"]["2"] = models["iris"]["versions"]["1"]

        edit(store_copy, add_iris_2)
        server.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: every_worker(
                server, "/models/iris", lambda b: [v["version"] for v in b["versions"]] == ["1", "2"]
            ),
            30,
            "workers did not all move to the new set",
        )
        assert request(f"{server.url}/models/iris/2/predict", IRIS)[0] == 200
        time.sleep(1)
    assert set(outcomes) == {200}, outcomes
    assert outcomes[200] > 20


def test_broken_reload_keeps_the_old_set_serving(store_copy: Path, tmp_path: Path) -> None:
    with serving(store_copy, tmp_path, workers=2) as server, load(server) as outcomes:
        time.sleep(0.5)
        store_copy.write_text(store_copy.read_text() + "\n  - this is: [not valid\n")
        server.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: every_worker(server, "/health/ready", lambda b: b["reload_error"] is not None),
            30,
            "the failed reload was not reported",
        )
        ready = request(f"{server.url}/health/ready")[1]
        assert "not valid YAML" in ready["reload_error"]
        assert ready["versions_available"] == 4
        time.sleep(0.5)
    assert set(outcomes) == {200}, outcomes


def test_watch_reloads_when_the_file_changes(store_copy: Path, tmp_path: Path) -> None:
    with serving(store_copy, tmp_path, workers=2, args=["--watch"]) as server:

        def bad_checksum(models: dict[str, Any]) -> None:
            models["penguins"]["versions"]["1"]["sha256"] = "0" * 64

        edit(store_copy, bad_checksum)
        wait_until(
            lambda: every_worker(
                server,
                "/models/penguins",
                lambda b: (b["versions"][0]["reload_error"] or "").startswith("sha256"),
            ),
            30,
            "--watch did not reload",
        )
        # the version whose new checksum fails keeps serving its previous load
        assert request(f"{server.url}/models/penguins/1/predict", PENGUIN)[0] == 200


def _reload_error(model: dict[str, Any]) -> str:
    return model["versions"][0]["reload_error"] or ""


def _versions(model: dict[str, Any]) -> list[str]:
    return [v["version"] for v in model["versions"]]


def worker_pids(server: LiveServer) -> set[int]:
    """The gunicorn workers: the children of the master (the server process)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


def test_a_worker_that_dies_is_replaced_and_the_other_keeps_serving(store_copy: Path, tmp_path: Path) -> None:
    with serving(store_copy, tmp_path, workers=2) as server:
        wait_until(lambda: len(worker_pids(server)) == 2, 10, "two workers did not start")
        before = worker_pids(server)
        with load(server) as outcomes:
            time.sleep(0.5)
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
            wait_until(
                lambda: len(worker_pids(server)) == 2 and victim not in worker_pids(server),
                15,
                "the killed worker was not replaced",
            )
            served_before = outcomes[200]
            time.sleep(1)
        # at most the requests the killed worker was answering are lost (one per client)
        failures = sum(n for status, n in outcomes.items() if status != 200)
        assert failures <= 2, outcomes
        assert outcomes[200] > served_before
