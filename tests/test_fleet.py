"""A fleet following one config on S3 (a real S3 API: moto's server): two replicas with --watch serve
a version added from the command line within three poll intervals, with no failed request; the store
stopped under traffic changes nothing that serves, is reported on /health/ready and in the metrics,
and a change made once it is back is picked up. No credential appears in any output."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import joblib
import pytest

from bench.harness import MODEL_REGISTRY, free_port, serve_command, start_server, stop_server
from bench.s3 import SECRET_KEY, S3Server
from tests.live import request, wait_until
from tests.s3_server import get, new_bucket, s3fs_client, upload_config
from tests.slow_proxy import SlowProxy
from tests.test_store_urls import ROW, remote_models

POLL_S = 0.5
pytestmark = pytest.mark.slow


class Traffic:
    """Predictions sent to every replica in turn until stopped; every answer that was not 200 kept."""

    def __init__(self, urls: list[str]) -> None:
        self.urls, self.failures, self.sent = urls, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for url in self.urls:
                try:
                    status, body = request(f"{url}/models/flowers/predict", {"instances": [ROW]})
                except OSError as exc:
                    status, body = 0, {"error": str(exc)}
                self.sent += 1
                if status != 200:
                    self.failures.append((url, status, body))
            time.sleep(0.02)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def replicas(
    s3: S3Server, url: str, tmp_path: Path, count: int, endpoint: str | None = None
) -> Iterator[list[Any]]:
    with ExitStack() as stack:
        servers = []
        for i in range(count):
            port = free_port()
            args = ["--watch", "--poll-interval", str(POLL_S), "--cache-dir", str(tmp_path / f"cache{i}")]
            command = serve_command(url, port, 1, args)  # type: ignore[arg-type]
            env = {**s3.env(), **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {})}
            server = start_server(f"replica{i}", command, port, tmp_path / f"replica{i}.log", 1, env=env)
            stack.callback(stop_server, server)
            servers.append(server)
        yield servers


def serves(server: Any, model: str, version: str) -> bool:
    status, _ = request(f"{server.url}/models/{model}/{version}/predict", {"instances": [ROW]})
    return status == 200


def add_version(s3: S3Server, url: str, tmp_path: Path, model: Any) -> None:
    artifact = tmp_path / "flowers-new.joblib"
    joblib.dump(model, artifact)
    command = [str(MODEL_REGISTRY), "add", str(artifact), "--model", "flowers", "--config", url]
    done = subprocess.run(command, env=s3.env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert SECRET_KEY not in done.stdout + done.stderr


def metric(server: Any, result: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    prefix = f'model_registry_store_polls_total{{result="{result}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def assert_no_credential(servers: list[Any]) -> None:
    for server in servers:
        assert SECRET_KEY not in server.log.read_text(errors="replace")


def test_two_replicas_follow_one_config(
    s3: S3Server, trained: dict[str, Any], tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    store = new_bucket("fleet") + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    with replicas(s3, url, tmp_path, 2) as servers, Traffic([s.url for s in servers]) as traffic:
        add_version(s3, url, tmp_path, trained["flowers"])
        added = time.monotonic()
        # three intervals, plus the load, which takes seconds with a trial load in a child
        wait_until(lambda: all(serves(s, "flowers", "2") for s in servers), 3 * POLL_S + 20, "not followed")
        followed = time.monotonic() - added
        time.sleep(1)
        assert all(metric(s, "changed") >= 1 and metric(s, "unchanged") >= 1 for s in servers)
        assert_no_credential(servers)
    assert traffic.sent > 20 and not traffic.failures, traffic.failures[:3]
    print(f"both replicas served the new version {followed:.1f} s after add returned")


def test_a_store_outage_changes_nothing_that_serves(
    s3: S3Server, trained: dict[str, Any], tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    store = new_bucket("outage") + "/model_store"
    models = remote_models(store, tiny_models, tmp_path)
    url = upload_config(store, models)
    saved = {path: get(f"{store.rsplit('/', 1)[0]}/{path}") for path in ("config.yaml",)}
    try:
        with replicas(s3, url, tmp_path, 1) as (server,), Traffic([server.url]) as traffic:
            s3.stop()
            wait_until(lambda: metric(server, "error") >= 2, 30, "no failed poll counted")
            status, health = request(f"{server.url}/health/ready")
            assert status == 200 and health["store_error"] and url in health["store_error"]
            assert health["last_good_poll"] and health["versions_available"] == 3
            time.sleep(1)
            s3.start()  # an empty store: the config and artifacts are put back, then a version added
            s3fs_client().mkdir(store.split("/")[2])
            assert upload_config(store, remote_models(store, tiny_models, tmp_path)) == url
            assert get(url) == saved["config.yaml"]
            add_version(s3, url, tmp_path, trained["flowers"])
            wait_until(lambda: serves(server, "flowers", "2"), 60, "the change after the outage was missed")
            wait_until(
                lambda: request(f"{server.url}/health/ready")[1]["store_error"] is None, 10, "error kept"
            )
        assert traffic.sent > 20 and not traffic.failures, traffic.failures[:3]
        assert_no_credential([server])
    finally:
        if s3.process is None or s3.process.poll() is not None:
            s3.start()


def test_an_unreachable_store_at_start_up_exits_naming_it(s3: S3Server, tmp_path: Path) -> None:
    env = {**s3.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    url = "s3://fleet/config.yaml"
    command = serve_command(url, free_port(), 1, ["--cache-dir", str(tmp_path)])  # type: ignore[arg-type]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert url in done.stderr and "Traceback" not in done.stderr
    assert SECRET_KEY not in done.stdout + done.stderr


def test_a_slow_store_slows_start_up_and_polls_but_no_answer(
    s3: S3Server, trained: dict[str, Any], tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    store = new_bucket("slow") + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    proxy = SlowProxy(s3.port, delay_s=0.3)
    with replicas(s3, url, tmp_path, 1, proxy.endpoint) as (server,), Traffic([server.url]) as traffic:
        proxy.delay_s = 3.0  # each poll now takes seconds
        before = metric(server, "unchanged")
        wait_until(lambda: metric(server, "unchanged") >= before + 2, 60, "slow polls never completed")
        add_version(s3, url, tmp_path, trained["flowers"])
        wait_until(lambda: serves(server, "flowers", "2"), 90, "the change through a slow store was missed")
        assert metric(server, "error") == 0
    assert traffic.sent > 20 and not traffic.failures, traffic.failures[:3]
