"""Servers started on 127.0.0.1 on a free port, stopped by PID, and what /proc says about them.

The one harness for the bench (`make bench`, `make soak`, `make attack`) and the tests' live servers.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1
READY_PATH = "/health/ready"
MODEL_REGISTRY = Path(sys.executable).parent / "model-registry"


class ServerError(RuntimeError):
    """A server did not start, died, or answered something other than 200."""


@dataclass
class Server:
    """A server we started: its gunicorn master, port, log file, time to ready and worker PIDs."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    startup_s: float = 0.0
    worker_pids: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        """The server's base address; a path is appended to it."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the server's log, to show when something went wrong."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Run in the child before exec: SIGTERM it if the bench dies, so no server outlives the bench."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def serve_command(config: Path, port: int, workers: int | None = None, args: Sequence[str] = ()) -> list[str]:
    """``model-registry serve`` of ``config`` on 127.0.0.1:``port`` with ``workers`` workers (``None``:
    its default count) and ``args``."""
    command = [
        str(MODEL_REGISTRY),
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return [*command, *(["--workers", str(workers)] if workers else []), *args]


def start_server(
    name: str,
    command: Sequence[str],
    port: int,
    log: Path,
    workers: int | None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """Start ``command`` and return once ``/health/ready`` answers 200 and ``workers`` workers exist
    (``None``: however many there are then). ``env``: its environment, else ours.

    ``startup_s`` is the time from just before the process was spawned to that first 200.
    Raises ``ServerError`` (with the log's tail) if it exits or is not ready within 60 s.
    """
    with log.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            preexec_fn=_die_with_parent,
        )
    server = Server(name, process, port, log)
    try:
        server.startup_s = _wait_ready(server, started, timeout_s=60)
        if workers is None:
            server.worker_pids = children(server.pid)
        else:
            server.worker_pids = _wait_workers(server, workers, timeout_s=10)
    except BaseException:
        stop_server(server)
        raise
    return server


def _wait_ready(server: Server, started: float, timeout_s: float) -> float:
    """Seconds from ``started`` to the first 200 on the readiness path."""
    while True:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.name} exited with status {server.process.returncode} before it was ready; "
                f"its log ends:\n{server.log_tail()}"
            )
        if http_status(server.url + READY_PATH) == 200:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout_s:
            raise ServerError(
                f"{server.name} was not ready in {timeout_s} s; its log ends:\n{server.log_tail()}"
            )
        time.sleep(0.01)


def _wait_workers(server: Server, expected: int, timeout_s: float) -> list[int]:
    """The PIDs of the master's ``expected`` worker processes, once they all exist."""
    deadline = time.perf_counter() + timeout_s
    while True:
        pids = children(server.pid)
        if len(pids) == expected:
            return pids
        if time.perf_counter() > deadline:
            raise ServerError(f"{server.name} has {len(pids)} worker processes, expected {expected}")
        time.sleep(0.05)


def stop_server(server: Server, grace_s: float = 20) -> None:
    """SIGTERM the master by PID and wait; SIGKILL its workers and then it if it does not stop."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        for pid in [*children(server.pid), server.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.process.wait()


@contextmanager
def serving(
    config: Path,
    log_dir: Path,
    workers: int | None = 2,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Our server on ``config`` on a free port (``workers=None``: its default count), ready, and
    stopped by PID on the way out; its log goes to ``log_dir``."""
    if not MODEL_REGISTRY.exists():
        raise ServerError(f"{MODEL_REGISTRY} is missing: install the project (make install)")
    port = free_port()
    command = serve_command(config, port, workers, args)
    server = start_server("ours", command, port, log_dir / f"server-{port}.log", None, env=env)
    try:
        yield server
    finally:
        stop_server(server)


def http_status(url: str, timeout_s: float = 2) -> int | None:
    """The status of a GET of ``url``, or ``None`` if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def post_json(url: str, body: bytes, timeout_s: float = 120) -> dict[str, Any]:
    """POST a JSON body and return the parsed answer; raises ``ServerError`` unless it is a 200."""
    return json.loads(post_bytes(url, body, timeout_s))


def post_bytes(url: str, body: bytes, timeout_s: float = 120) -> bytes:
    """POST a JSON body and return the answer's bytes; raises ``ServerError`` unless it is a 200."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise ServerError(f"POST {url} answered {error.code}: {error.read()[:500]!r}") from None


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (the first one is the state)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """PIDs of the live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # the process went away while we looked
    return sorted(found)


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` together (utime + stime from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = stat_fields(pid)
        except OSError:
            raise ServerError(f"process {pid} is gone (a worker died or was restarted)") from None
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat ``cpu`` fields but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS


def memory_mb(pid: int) -> tuple[float, float | None]:
    """Resident set size and proportional set size (PSS, ``None`` if unavailable) of ``pid``, in MB."""
    rss = kb_field(Path(f"/proc/{pid}/status"), "VmRSS:")
    try:
        pss = kb_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
    except (OSError, ValueError):
        pss = None
    return rss / 1024, None if pss is None else pss / 1024


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (0 for a zombie, which has none)."""
    try:
        return kb_field(Path(f"/proc/{pid}/status"), "VmRSS:") / 1024
    except ValueError:
        return 0.0


def catches(pid: int, sig: int) -> bool:
    """Whether the process has a handler for ``sig``."""
    return bool(int(field(Path(f"/proc/{pid}/status"), "SigCgt:"), 16) >> (sig - 1) & 1)


def kb_field(path: Path, key: str) -> int:
    """The kB value on the line of ``path`` that starts with ``key``."""
    return int(field(path, key).split()[0])


def field(path: Path, key: str) -> str:
    """What follows ``key`` on the line of ``path`` (a /proc status-like file) that starts with it."""
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return line[len(key) :].strip()
    raise ValueError(f"{path} has no {key} line")
