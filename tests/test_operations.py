"""Operating a real server: Prometheus counts summed over workers (also across a killed worker and
through an alias), reloads counted, JSON logs, request ids. Two workers, as in production."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.load.alternate import post_request
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, request, serving, wait_until, worker_pids

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
BAD = {**IRIS, "sepal_length_cm": -4.0625, "petal_width_cm": "wide"}
TOKEN = "s3cret-token-value"
SENT_ID = "client-id_1.2:3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("ops")
    token = folder / "token"
    token.write_text(TOKEN)
    args = ["--log-format", "json", "--token-file", str(token)]
    with serving(EXAMPLE_CONFIG, folder, workers=2, args=args) as live:
        wait_until(lambda: len(worker_pids(live.process.pid)) == 2, 30, "two workers did not start")
        yield live


def call(server: LiveServer, path: str, body: object = None, headers: dict[str, str] | None = None):
    """(status, headers, parsed body) of a request carrying the token."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", **(headers or {})}
    req = urllib.request.Request(f"{server.url}{path}", data=data, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def scrape(server: LiveServer) -> dict[str, float]:
    """Every sample of /metrics, keyed by its name and labels as printed."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def metric(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = {f'{k}="{v}"' for k, v in labels.items()}
    return sum(
        value
        for key, value in samples.items()
        if key.split("{")[0] == name and wanted <= set(re.findall(r'\w+="[^"]*"', key))
    )


def test_counts_from_every_worker_add_up_exactly_across_a_killed_worker(server: LiveServer) -> None:
    before = scrape(server)
    for i in range(300):
        version = "latest" if i % 2 else "1"  # an alias counts under the version that served
        assert call(server, f"/models/iris/{version}/predict", IRIS)[0] == 200
        if i == 150:
            victim = min(worker_pids(server.process.pid))
            os.kill(victim, signal.SIGKILL)
            wait_until(lambda v=victim: replaced(server, v), 30, "the killed worker was not replaced")
    for _ in range(40):
        assert call(server, "/models/iris/1/predict", {"instances": [BAD]})[0] == 400
    after = scrape(server)

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("model_registry_requests_total", model="iris", version="1", code="200") == 300
    assert grew("model_registry_requests_total", model="iris", version="1", code="400") == 40
    assert metric(after, "model_registry_requests_total", version="latest") == 0
    assert grew("model_registry_rows_total", model="iris", version="1") == 300
    assert grew("model_registry_request_duration_seconds_count", model="iris", version="1") == 340
    for feature in ("sepal_length_cm", "petal_width_cm"):
        assert grew("model_registry_invalid_values_total", model="iris", version="1", feature=feature) == 40
    assert (
        metric(after, "model_registry_version_status", model="penguins", version="2", status="available") == 1
    )
    assert metric(after, "model_registry_version_status", model="penguins", version="2", status="failed") == 0


def test_dead_workers_files_are_folded_into_an_archive(server: LiveServer) -> None:
    folder = metrics_dir(server)
    for _ in range(3):
        victim = min(worker_pids(server.process.pid))
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda v=victim: replaced(server, v), 30, "worker not replaced")
        wait_until(lambda v=victim: not list(folder.glob(f"*_{v}.db")), 30, f"files of {victim} left behind")
    pids = {int(m) for f in folder.glob("*.db") for m in re.findall(r"_(\d+)\.db$", f.name)}
    assert pids <= worker_pids(server.process.pid) | {server.process.pid}
    assert (folder / "counter_archive.db").exists()


def test_a_reload_is_counted(server: LiveServer) -> None:
    before = metric(scrape(server), "model_registry_reloads_total", result="ok")
    server.process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: metric(scrape(server), "model_registry_reloads_total", result="ok") == before + 1,
        30,
        "the reload was not counted",
    )


def test_request_ids_come_back_and_appear_in_one_request_line(server: LiveServer) -> None:
    status, headers, _ = call(server, "/models/iris/1/predict", IRIS, {"X-Request-ID": SENT_ID})
    assert status == 200 and headers["X-Request-ID"] == SENT_ID
    status, headers, _ = call(server, "/models/iris/1/predict", {"x": 1}, {"X-Request-ID": "bad id!"})
    assert status == 400 and re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    generated = headers["X-Request-ID"]
    assert call(server, "/nowhere")[1]["X-Request-ID"]  # errors from Flask carry one too
    unauthorized = urllib.request.Request(f"{server.url}/models", headers={"X-Request-ID": "no-token"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(unauthorized, timeout=10)
    assert caught.value.code == 401 and caught.value.headers["X-Request-ID"] == "no-token"

    def lines() -> list[dict]:
        return [json.loads(line) for line in server.log.read_text().splitlines()]

    wait_until(lambda: any(r.get("request_id") == generated for r in lines()), 10, "no request line")
    records = lines()  # every line the process wrote is one JSON object
    mine = [r for r in records if r.get("request_id") == SENT_ID]
    assert len(mine) == 1
    assert mine[0] | {"duration_ms": 0, "ts": ""} == {
        "level": "INFO",
        "logger": "model_registry.request",
        "message": mine[0]["message"],
        "event": "request",
        "request_id": SENT_ID,
        "method": "POST",
        "path": "/models/iris/1/predict",
        "model": "iris",
        "version": "1",
        "status": 200,
        "rows": 1,
        "duration_ms": 0,
        "ts": "",
    }
    assert not any(r.get("request_id") == "bad id!" for r in records)
    assert all({"ts", "level", "event"} <= r.keys() for r in records)
    assert any(r["event"] == "load" and r.get("model") == "iris" for r in records)


def logged(server: LiveServer, request_id: str) -> list[dict]:
    """The request lines of ``request_id`` in the server's JSON log so far."""
    lines = [json.loads(line) for line in server.log.read_text().splitlines()]
    return [r for r in lines if r.get("event") == "request" and r.get("request_id") == request_id]


def test_logs_hold_no_token_and_no_feature_value(server: LiveServer) -> None:
    call(server, "/models/iris/1/predict", {"instances": [BAD]}, {"X-Request-ID": "no-secrets"})
    wait_until(lambda: logged(server, "no-secrets"), 10, "no request line")  # the line is in the text
    text = server.log.read_text()
    assert TOKEN not in text
    assert "4.0625" not in text and "wide" not in text


def test_a_request_whose_client_left_without_its_answer_is_logged(server: LiveServer) -> None:
    """The line is written after the answer is sent, and also when sending it fails."""
    body = json.dumps({"inputs": {name: [value] * 100_000 for name, value in IRIS.items()}}).encode()
    sock = socket.socket()
    # A small window: the 13 MB cannot all wait in the kernel's buffers, so the send fails.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(10)
    with sock:
        sock.connect(("127.0.0.1", urlsplit(server.url).port))
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Request-ID": "gone-early"}
        sock.sendall(post_request("/models/iris/1/predict", body, headers))
        sock.recv(1)  # the answer has begun; the rest of it is never read
    wait_until(lambda: logged(server, "gone-early"), 30, "no request line for a client that left")
    (line,) = logged(server, "gone-early")
    assert line["status"] == 200 and line["rows"] == 100_000


def test_a_version_that_only_refused_requests_has_no_row_series(server: LiveServer) -> None:
    """Series are created as they are first counted: a version whose every answer was a 400 has
    requests and durations, but predicted no row and shows no row counter."""
    for _ in range(5):
        assert call(server, "/models/penguins/1/predict", {"island": "Biscoe"})[0] == 400
    samples = scrape(server)
    assert metric(samples, "model_registry_requests_total", model="penguins", version="1", code="400") == 5
    assert (
        metric(samples, "model_registry_request_duration_seconds_count", model="penguins", version="1") == 5
    )
    rows = [
        key for key in samples if key.startswith("model_registry_rows_total{") and 'model="penguins"' in key
    ]
    assert rows == []


def test_metrics_and_health_need_no_token(server: LiveServer) -> None:
    assert request(f"{server.url}/health/ready")[0] == 200
    assert scrape(server)


def replaced(server: LiveServer, victim: int) -> bool:
    workers = worker_pids(server.process.pid)
    return victim not in workers and len(workers) == 2


def metrics_dir(server: LiveServer) -> Path:
    """The server's private metrics folder: the one holding its workers' files."""
    workers = worker_pids(server.process.pid)
    for folder in Path(tempfile.gettempdir()).glob("model-registry-metrics-*"):
        if any(next(folder.glob(f"*_{pid}.db"), None) for pid in workers):
            return folder
    raise AssertionError("no metrics folder holds this server's files")
