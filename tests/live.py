"""A real `model-registry serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.procs import field, kb_field

COMMAND = Path(sys.executable).parent / "model-registry"


@dataclass
class LiveServer:
    process: subprocess.Popen
    url: str
    log: Path


# Debian's chromium as root in this closed network: no sandbox, no GPU, no calls home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_or_skip(what: str) -> str:
    """The chromium command; skips the test where it is missing, but fails it under CI (CI=true)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"chromium is not installed (apt-get install chromium); {what} was not rendered")
    return browser


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless chromium run with a fresh-enough profile in ``profile`` (a test's tmp dir)."""
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, body: Any = None, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a GET, or of a POST when ``body`` is given."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@contextmanager
def serving(
    config: Path,
    log_dir: Path,
    workers: int | None = 2,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Start the server (``workers=None``: its default count; ``env``: its environment, else
    ours), wait until it is ready, and stop it by PID afterwards."""
    assert COMMAND.exists(), f"{COMMAND} is missing: install the project (make install)"
    port = free_port()
    log = log_dir / f"server-{port}.log"
    with log.open("w") as out:
        command = [
            str(COMMAND),
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            *(["--workers", str(workers)] if workers else []),
        ]
        process = subprocess.Popen([*command, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until(lambda: _ready(server), 30, f"server not ready in 30 s; see {log}")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(server: LiveServer) -> bool:
    assert server.process.poll() is None, f"server exited: see {server.log}"
    try:
        return request(f"{server.url}/health/ready", timeout=2)[0] == 200
    except OSError:
        return False


def wait_until(condition: Any, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def worker_pids(master: int) -> set[int]:
    """The PIDs of a process's children (gunicorn's workers), from /proc."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (0 for a zombie, which has none)."""
    try:
        return kb_field(Path(f"/proc/{pid}/status"), "VmRSS:") / 1024
    except ValueError:
        return 0.0


def catches(pid: int, sig: int) -> bool:
    """Whether the process has a handler for ``sig``."""
    return bool(int(field(Path(f"/proc/{pid}/status"), "SigCgt:"), 16) >> (sig - 1) & 1)
