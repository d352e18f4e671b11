"""The container image, built with deploy/build_image.py and run with podman.

Skipped where podman is missing, except under CI (CI=true), where .ci/run installs it: there a
missing podman fails the run instead of hiding the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.build_image import BASE_IMAGE, RUN_OPTIONS, image_name
from tests.live import catches, free_port, request, wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SETOSA = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
BUILD_TIMEOUT = 900
READY_SECONDS = 60


@dataclass
class Container:
    id: str
    url: str


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (Debian: apt-get install podman runc mmdebstrap)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; .ci/run should have installed it")
    pytest.skip(reason)


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    require_tools("podman")
    if podman("image", "exists", BASE_IMAGE).returncode != 0:
        require_tools("mmdebstrap")
    log = tmp_path_factory.mktemp("image") / "build.log"
    with log.open("w") as out:
        built = subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "build_image.py")],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT,
        )
    tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
    assert built.returncode == 0, f"image build failed; see {log}:\n{tail}"
    return image_name()


def start(image: str) -> Container:
    """Run the image as Kubernetes would: read-only root (podman adds a tmpfs /tmp), loopback port."""
    port = free_port()
    run = podman("run", "--detach", *RUN_OPTIONS, "--read-only", "--publish", f"127.0.0.1:{port}:8000", image)
    assert run.returncode == 0, run.stderr
    return Container(run.stdout.strip(), f"http://127.0.0.1:{port}")


def logs(container: Container) -> str:
    result = podman("logs", container.id)
    return result.stdout + result.stderr


def is_ready(container: Container) -> bool:
    state = podman("inspect", "--format", "{{.State.Running}}", container.id).stdout.strip()
    assert state == "true", f"container exited:\n{logs(container)[-3000:]}"
    try:
        return request(f"{container.url}/health/ready", timeout=2)[0] == 200
    except OSError:
        return False


def remove(container: Container) -> None:
    podman("rm", "--force", "--time", "0", container.id)


@pytest.fixture
def running(image: str) -> Iterator[Container]:
    container = start(image)
    try:
        wait_until(lambda: is_ready(container), READY_SECONDS, f"not ready in {READY_SECONDS} s")
        yield container
    finally:
        remove(container)


def predicted_label(container: Container) -> str:
    status, body = request(f"{container.url}/models/iris/1/predict", SETOSA)
    assert status == 200, body
    return body["predictions"][0]["label"]


def test_serves_predictions_as_a_non_root_user(running: Container) -> None:
    assert predicted_label(running) == "setosa"
    uid = podman("exec", running.id, "id", "-u")
    assert uid.stdout.strip() == "10001", uid.stderr
    pid1_user = podman("top", running.id, "pid", "user").stdout.split()
    assert pid1_user[2:4] == ["1", "app"], pid1_user


def test_healthcheck_probes_readiness(running: Container) -> None:
    """No systemd here, so podman schedules no checks by itself; running one by hand works."""
    inspected = json.loads(podman("inspect", "--format", "{{json .Config.Healthcheck}}", running.id).stdout)
    assert any("/health/ready" in part for part in inspected["Test"])
    check = podman("healthcheck", "run", running.id)
    assert check.returncode == 0, check.stdout + check.stderr


def test_sighup_reloads_and_keeps_serving(running: Container) -> None:
    before = logs(running).count("reloaded /srv/config.yaml")
    assert podman("kill", "--signal", "HUP", running.id).returncode == 0
    wait_until(
        lambda: logs(running).count("reloaded /srv/config.yaml") > before, 30, "no reload logged in 30 s"
    )
    wait_until(lambda: is_ready(running), 10, "not ready again after the reload")
    assert predicted_label(running) == "setosa"


def test_sigterm_stops_it_promptly_and_cleanly(running: Container) -> None:
    started = time.monotonic()
    stop = podman("stop", "--time", "10", running.id)
    elapsed = time.monotonic() - started
    assert stop.returncode == 0, stop.stderr
    assert elapsed < 8, f"podman stop took {elapsed:.1f} s: SIGTERM did not reach the server"
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", running.id).stdout.strip()
    assert exit_code == "0", logs(running)[-3000:]
    assert "Shutting down: Master" in logs(running)


def test_sigterm_while_starting_stops_it_promptly(image: str) -> None:
    """PID 1 gets no default action for a signal: the command takes SIGTERM before its seconds of
    imports and loading, so a pod deleted while it starts stops at once, with status 128 + 15."""
    container = start(image)
    try:
        pid = int(podman("inspect", "--format", "{{.State.Pid}}", container.id).stdout)
        wait_until(lambda: catches(pid, signal.SIGTERM), 10, "the server never took SIGTERM")
        started = time.monotonic()
        stop = podman("stop", "--time", "10", container.id)
        elapsed = time.monotonic() - started
        assert stop.returncode == 0, stop.stderr
        assert "Starting gunicorn" not in logs(container), "too late: it had started before the signal"
        assert elapsed < 8, f"podman stop took {elapsed:.1f} s: the SIGTERM was lost"
        exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", container.id).stdout.strip()
        assert exit_code == str(128 + signal.SIGTERM), logs(container)[-3000:]
    finally:
        remove(container)
