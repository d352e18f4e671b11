"""A live server reloads configs whose new artifact exits, kills itself or hangs while it is
unpickled: the master lives, requests are answered throughout, the version is reported failed with
the reason, and a later good reload is still applied."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
import yaml

from tests.hostile_artifacts import REASONS, dump_hostile, importable_env
from tests.live import LiveServer, request, serving, wait_until, worker_pids
from tests.test_reload_faults import IRIS, add_iris_version


class Probe:
    """Sends a prediction to iris/1 again and again in a thread, and keeps what went wrong."""

    def __init__(self, server: LiveServer) -> None:
        self.server, self.answered, self.problems = server, 0, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                status, answer = request(f"{self.server.url}/models/iris/1/predict", IRIS, timeout=10)
                if status != 200 or answer["predictions"][0]["label"] != "setosa":
                    self.problems.append(f"{status}: {answer}")
            except OSError as exc:
                self.problems.append(repr(exc))
            self.answered += 1

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=20)


def iris_2(server: LiveServer) -> tuple[str, str | None]:
    """iris/2's status and reason, as GET /models/iris says."""
    _, model = request(f"{server.url}/models/iris")
    version = next((v for v in model["versions"] if v["version"] == "2"), None)
    return (version["status"], version["reason"]) if version else ("absent", None)


def reload(server: LiveServer) -> None:
    """SIGHUP, then wait until the workers that served before are gone (until then, either the old
    or the new set may answer)."""
    master = server.process.pid
    old = worker_pids(master)

    def replaced() -> bool:
        assert server.process.poll() is None, f"the master died; see {server.log}"
        now = worker_pids(master)
        return len(now) == 1 and now.isdisjoint(old)

    server.process.send_signal(signal.SIGHUP)
    wait_until(replaced, 30, f"the workers were not replaced; see {server.log}")


def test_hostile_artifacts_fail_their_version_and_a_later_reload_still_works(
    store_copy: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load(store_copy.read_text())
    data.setdefault("server", {})["load_timeout_s"] = 1
    store_copy.write_text(yaml.safe_dump(data, sort_keys=False))
    store = store_copy.parent / "model_store"
    with serving(store_copy, tmp_path, workers=1, env=importable_env()) as server, Probe(server) as probe:
        for function, reason in REASONS.items():
            dump_hostile(store / "iris" / "hostile" / f"{function}.joblib", function)
            add_iris_version(store_copy, f"iris/hostile/{function}.joblib")
            reload(server)
            assert server.process.poll() is None, f"the master died loading {function}"
            assert iris_2(server) == ("failed", reason), function
            assert f"iris/2: {reason}" in request(f"{server.url}/health/ready")[1]["failed"]
        add_iris_version(store_copy, "iris/1/model.joblib")
        server.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: iris_2(server) == ("available", None), 30, f"good reload not applied: {server.log}"
        )
        status, answer = request(f"{server.url}/models/iris/2/predict", IRIS)
        assert status == 200 and answer["predictions"][0]["label"] == "setosa"
    assert probe.answered > 10 and probe.problems == [], probe.problems[:3]


@pytest.mark.parametrize("function", ["raise_system_exit", "hard_exit"])
def test_a_hostile_artifact_at_start_up_fails_its_version_only(
    store_copy: Path, tmp_path: Path, function: str
) -> None:
    dump_hostile(store_copy.parent / "model_store" / "iris" / "evil.joblib", function)
    add_iris_version(store_copy, "iris/evil.joblib")
    with serving(store_copy, tmp_path, workers=1, env=importable_env()) as server:
        assert iris_2(server) == ("failed", REASONS[function])
        assert request(f"{server.url}/models/iris/1/predict", IRIS)[0] == 200
        assert f"iris/2 failed to load: {REASONS[function]}" in server.log.read_text()
