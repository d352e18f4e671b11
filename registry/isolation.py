"""Run a risky step (unpickling an artifact) in a forked child first, so that whatever the step does
to its process (``sys.exit``, ``os._exit``, a segfault, a SIGKILL, a hang) happens to the child.

The child writes its verdict, a small JSON object, to a pipe and leaves with ``os._exit`` (no atexit
handlers, no flush of the stdio buffers it inherited). The parent trusts only that pipe: in the
gunicorn master a SIGCHLD handler may reap the child with ``waitpid(-1)`` before we do, so its exit
status is a detail for the message, and end of file without a verdict means the child died.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Signals whose handlers the child must not run: the gunicorn master's queue them for the master.
_RESET_SIGNALS = (signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
_MAX_VERDICT_BYTES = 1 << 20
_RAISED = "_raised"  # the key of the verdict of a step that raised instead of returning


class IsolationFailure(Exception):
    """The child gave no verdict: it exited, crashed or ran out of time; the message says which."""


@dataclass(frozen=True)
class Trial:
    """A step running in a forked child since ``start_isolated``; ``finish_isolated`` waits for it."""

    pid: int
    read_end: int
    deadline: float
    timeout_s: float


def run_isolated(step: Callable[[], dict[str, Any]], timeout_s: float) -> dict[str, Any]:
    """What ``step`` returned in a forked child (a JSON-serialisable dict); raises
    ``IsolationFailure`` when the child raised, exited, crashed or hung instead of answering."""
    return finish_isolated(start_isolated(step, timeout_s))


def start_isolated(step: Callable[[], dict[str, Any]], timeout_s: float) -> Trial:
    """Fork a child that runs ``step`` and writes its verdict; its time limit starts now."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(step, write_end)
    os.close(write_end)
    return Trial(pid, read_end, time.monotonic() + timeout_s, timeout_s)


def finish_isolated(trial: Trial) -> dict[str, Any]:
    """The verdict of a started trial, as ``run_isolated`` promises; the child is reaped or killed."""
    try:
        data = _read_verdict(trial.read_end, trial.deadline)
    finally:
        os.close(trial.read_end)
    if data is None:
        _kill(trial.pid)
        raise IsolationFailure(f"did not finish loading within {trial.timeout_s:g} s")
    status = _reap(trial.pid)
    try:
        verdict = json.loads(data)
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict):
        raise IsolationFailure(f"{_describe_end(status)} while loading")
    if _RAISED in verdict:
        raise IsolationFailure(f"raised {verdict[_RAISED]} while loading")
    return verdict


def exception_text(exc: BaseException) -> str:
    """``SystemExit: 3``: an exception's type and message, for a version's reason."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _child(step: Callable[[], dict[str, Any]], write_end: int) -> None:
    try:
        for sig in _RESET_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        try:
            verdict = step()
        except BaseException as exc:  # noqa: B036 - SystemExit and KeyboardInterrupt are verdicts too
            verdict = {_RAISED: exception_text(exc)}
        data = json.dumps(verdict, default=str).encode()
        while data:
            data = data[os.write(write_end, data) :]
    finally:
        os._exit(0)


def _read_verdict(fd: int, deadline: float) -> bytes | None:
    """Everything the child wrote until it closed the pipe; None when the deadline passed first."""
    chunks: list[bytes] = []
    size = 0
    poller = select.poll()  # not select.select: it fails on descriptors numbered 1024 and above
    poller.register(fd, select.POLLIN)
    while True:
        # A verdict already written counts even past the deadline: trials run ahead (loader), and
        # one may have finished while an earlier one was being waited for.
        left = max(deadline - time.monotonic(), 0.0)
        if not poller.poll(left * 1000):
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size <= _MAX_VERDICT_BYTES:  # a child writing without end is read, not kept
            chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)


def _reap(pid: int) -> int | None:
    """The child's wait status, or None when someone else (gunicorn's SIGCHLD handler) reaped it."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def _describe_end(status: int | None) -> str:
    if status is None:
        return "exited"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"was killed by {name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
