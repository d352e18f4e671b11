"""SIGTERM stops a real `model-registry serve` promptly at any moment: while it imports and loads,
and while a worker boots (a window gunicorn's own handlers leave open)."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time

import pytest

from api.server.worker import STOP_SIGNALS, RegistryWorker
from tests.conftest import EXAMPLE_CONFIG
from tests.live import COMMAND, catches, free_port

GRACEFUL_TIMEOUT = 30  # what a lost SIGTERM would cost: the master waits this long for a worker
PROMPT = 10


def start(*args: str) -> subprocess.Popen[str]:
    command = [str(COMMAND), "serve", "--config", str(EXAMPLE_CONFIG), "--port", str(free_port()), *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def read_lines(process: subprocess.Popen[str]) -> queue.SimpleQueue[str | None]:
    """The process's stderr lines as they come, then None, read by a thread so that waiting for
    one can time out."""
    lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def stop_time(process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=GRACEFUL_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.monotonic() - started


def test_sigterm_while_starting_ends_it_at_once() -> None:
    """The command takes SIGTERM before importing anything heavy. In a container, where the server
    is PID 1 and the kernel drops signals it has no handler for, this is what makes a pod deleted
    while it starts stop (test_container checks it there); here it shows as the status, 128 + 15,
    instead of death by the signal."""
    process = start("--workers", "1")
    deadline = time.monotonic() + 10
    while not catches(process.pid, signal.SIGTERM):
        assert process.poll() is None and time.monotonic() < deadline, "SIGTERM never got a handler"
        time.sleep(0.002)
    elapsed = stop_time(process)
    log = process.stderr.read() if process.stderr else ""
    assert "Starting gunicorn" not in log, "too late: the server had started before the signal"
    assert process.returncode == 128 + signal.SIGTERM, log[-2000:]
    assert elapsed < PROMPT, f"took {elapsed:.1f} s"


def test_sigterm_while_a_worker_boots_stops_the_server_promptly() -> None:
    """SIGTTIN makes gunicorn fork one more worker; the SIGTERM follows as soon as it says so, while
    the new worker is still booting (monkey-patching, loading the app). A worker that lost it would
    keep the master waiting the whole graceful timeout. Two rounds: the window is tens of ms."""
    for _ in range(2):
        process = start("--workers", "1", "--timeout", str(GRACEFUL_TIMEOUT))
        try:
            stop_a_booting_worker(process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def stop_a_booting_worker(process: subprocess.Popen[str]) -> None:
    lines = read_lines(process)
    seen: list[str] = []
    booting = 0
    while booting < 2:
        line = lines.get(timeout=30)  # queue.Empty fails the test rather than hanging it
        assert line is not None, "".join(seen[-20:])
        seen.append(line)
        if "Booting worker" in line:
            booting += 1
            if booting == 1:
                process.send_signal(signal.SIGTTIN)
    elapsed = stop_time(process)
    log = "".join(seen + list(iter(lines.get, None)))
    assert process.returncode == 0, log[-2000:]
    assert elapsed < PROMPT, f"took {elapsed:.1f} s: a booting worker lost the SIGTERM\n{log[-2000:]}"
    assert "Shutting down: Master" in log


@pytest.mark.parametrize(
    ("queued", "stops"),
    [
        ((signal.SIGHUP, signal.SIGTERM), True),
        ((signal.SIGQUIT,), True),
        ((signal.SIGHUP, signal.SIGCHLD), False),
    ],
)
def test_a_stop_signal_queued_since_the_fork_stops_the_worker_once_booted(queued: tuple, stops: bool) -> None:
    """What the master's handler queued in the new worker's copy of its queue: a stop signal there
    makes the worker leave its loop at once; a reload, a child's exit and the like do not."""
    worker = RegistryWorker.__new__(RegistryWorker)  # this method needs no gunicorn config
    worker.alive = True
    inherited: queue.SimpleQueue[int] = queue.SimpleQueue()
    for sig in queued:
        inherited.put(sig)
    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        worker.heed_stop_signals_while_booting(inherited)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert worker.alive is not stops
    assert inherited.empty()
