"""Faults injected before a reload, on a real server, under SIGHUP and under --watch: whatever the
fault, the master lives, the old set keeps serving, and the error is visible over HTTP.

Also at start-up: an artifact that cannot be read for any reason marks its version failed and the
server starts.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.live import LiveServer, request, serving, wait_until

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}


def add_iris_version(config: Path, artifact: str) -> None:
    """Declare iris/2 like iris/1, with ``artifact`` (which may hold any character) and no sha256."""
    data = yaml.safe_load(config.read_text())
    version = dict(data["models"]["iris"]["versions"]["1"], artifact=artifact)
    version.pop("sha256")
    data["models"]["iris"]["versions"]["2"] = version
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=False))


def latin1_config(config: Path) -> str:
    text = config.read_text().replace("Iris species", "Iris espèces")
    config.write_bytes(text.encode("latin-1"))
    return "cannot read the file as UTF-8 text"


def nul_in_artifact_path(config: Path) -> str:
    add_iris_version(config, "iris/1/mo\0del.joblib")
    return "iris/2: artifact"


def fifo_artifact(config: Path) -> str:
    fifo = config.parent / "model_store" / "iris" / "fifo.joblib"
    os.mkfifo(fifo)
    add_iris_version(config, "iris/fifo.joblib")
    return "iris/2: artifact"


def symlink_loop_artifact(config: Path) -> str:
    loop = config.parent / "model_store" / "iris" / "loop.joblib"
    loop.symlink_to(loop)
    add_iris_version(config, "iris/loop.joblib")
    return "iris/2: artifact"


def unreadable_replacement(config: Path) -> str:
    """iris/1's file replaced by one the server cannot open (a directory: EISDIR, even for root)."""
    path = config.parent / "model_store" / "iris" / "1" / "model.joblib"
    path.unlink()
    path.mkdir()
    return "iris/1"


FAULTS: dict[str, Callable[[Path], str]] = {
    "config saved as latin-1": latin1_config,
    "NUL byte in an artifact path": nul_in_artifact_path,
    "a FIFO where the artifact should be": fifo_artifact,
    "a symlink loop as the artifact": symlink_loop_artifact,
    "an artifact replaced by something unreadable": unreadable_replacement,
}


def visible_error(server: LiveServer) -> str:
    """Everything /health/ready says went wrong, as one string."""
    _, ready = request(f"{server.url}/health/ready")
    return " ".join([*ready["failed"], *ready["reload_errors"], ready["reload_error"] or ""])


@pytest.mark.parametrize("trigger", ["sighup", "watch"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_before_a_reload_leaves_the_old_set_serving(
    store_copy: Path, tmp_path: Path, fault: str, trigger: str
) -> None:
    args = ["--watch"] if trigger == "watch" else []
    with serving(store_copy, tmp_path, workers=1, args=args) as server:
        assert request(f"{server.url}/models/iris/1/predict", IRIS)[0] == 200
        expected = FAULTS[fault](store_copy)
        if trigger == "sighup":
            server.process.send_signal(signal.SIGHUP)
        else:  # --watch reloads when the config file changes: touch it, whatever the fault changed
            with store_copy.open("ab") as config:
                config.write(b"\n# touched\n")
        wait_until(lambda: expected in visible_error(server), 30, f"no error visible; see {server.log}")
        assert server.process.poll() is None, "the master died"
        status, answer = request(f"{server.url}/models/iris/1/predict", IRIS)
        assert status == 200 and answer["predictions"][0]["label"] == "setosa"
        assert "Unhandled exception" not in server.log.read_text()


@pytest.mark.parametrize("fault", ["a FIFO where the artifact should be", "a symlink loop as the artifact"])
def test_an_unreadable_artifact_at_start_up_fails_its_version_only(
    store_copy: Path, tmp_path: Path, fault: str
) -> None:
    FAULTS[fault](store_copy)
    with serving(store_copy, tmp_path, workers=1) as server:
        _, model = request(f"{server.url}/models/iris")
        statuses = {v["version"]: (v["status"], v["reason"]) for v in model["versions"]}
        assert statuses["1"] == ("available", None)
        assert statuses["2"][0] == "failed" and statuses["2"][1].startswith("artifact:")
        assert request(f"{server.url}/models/iris/2/predict", IRIS)[0] == 503
        assert "failed to load: artifact" in server.log.read_text()  # logged at WARNING with the reason
