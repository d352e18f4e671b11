"""Test-only helpers around the harness in bench/harness.py (a real `model-registry serve` on a free
loopback port, stopped by PID): pytest skips, chromium, JSON requests and waiting on a condition."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench.harness import MODEL_REGISTRY as COMMAND
from bench.harness import Server as LiveServer
from bench.harness import catches, children, free_port, rss_mb, serving

__all__ = ["COMMAND", "LiveServer", "catches", "free_port", "rss_mb", "serving"]

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


def run_command(
    *args: Any, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``model-registry ARGS`` run as a user would, in ``cwd``, with ``env`` (else ours)."""
    command = [str(COMMAND), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def request(url: str, body: Any = None, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of a GET, or of a POST when ``body`` is given."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def wait_until(condition: Any, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def worker_pids(master: int) -> set[int]:
    """The PIDs of a process's children (gunicorn's workers), from /proc."""
    return set(children(master))
