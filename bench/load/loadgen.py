"""wrk as the load generator: a closed loop of POSTs, with wrk's own CPU use measured from its rusage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("post.lua")
RESULT_PREFIX = "BENCH_RESULT "
REQUEST_TIMEOUT_S = 60


class WrkMissing(RuntimeError):
    """wrk is not installed."""


@dataclass(frozen=True)
class Load:
    """One wrk run: where to POST which body, for how long, over how many connections."""

    url: str
    body_file: Path
    duration_s: int
    connections: int
    threads: int = 1


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured, and the CPU seconds (user + system) wrk itself used."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_s: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s


def find_wrk() -> str:
    """The path of wrk; raises ``WrkMissing`` with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(
            "wrk is not installed, and the benchmark measures with it: install Debian's package "
            "(apt-get install wrk, as root) and run make bench again."
        )
    return path


def wrk_version(wrk: str) -> str:
    """wrk's version line (``wrk -v`` prints it first, then its usage)."""
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    return (result.stdout or result.stderr).splitlines()[0].split(" Copyright")[0].strip()


def run_wrk(wrk: str, load: Load) -> WrkResult:
    """Run wrk once with the POST script and parse its result line; raises ``RuntimeError`` if it fails."""
    command = [
        wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.duration_s}s",
        f"--timeout={REQUEST_TIMEOUT_S}s",
        "-s",
        str(LUA_SCRIPT),
        load.url,
        "--",
        str(load.body_file),
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        status, cpu_s = _wait_with_cpu(process, limit_s=load.duration_s + REQUEST_TIMEOUT_S + 10)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if status != 0:
        raise RuntimeError(f"wrk exited with status {status}: {' '.join(command)}\n{text}")
    return _parse(text, cpu_s)


def _wait_with_cpu(process: subprocess.Popen[bytes], limit_s: float) -> tuple[int, float]:
    """Reap ``process`` (killed by PID after ``limit_s``); its exit status and user + system CPU seconds."""
    deadline = time.monotonic() + limit_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGKILL)
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _parse(text: str, cpu_s: float) -> WrkResult:
    """The numbers on the line ``post.lua`` printed in its ``done`` hook."""
    lines = [line for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"wrk printed no {RESULT_PREFIX.strip()} line:\n{text}")
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])
    errors = data["errors"]
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        p50_ms=data["latency_us"]["p50"] / 1000,
        p99_ms=data["latency_us"]["p99"] / 1000,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        cpu_s=cpu_s,
    )
