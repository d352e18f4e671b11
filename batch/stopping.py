"""Ctrl-C (SIGINT) and SIGTERM stop ``predict`` through its normal clean-up, and are reported as such.

Python's default for SIGTERM is to die on the spot, with no ``finally`` run, and a SIGINT that
arrives while pandas' C parser is reading comes back as a parser error. Here both signals raise
``Stopped`` where the run is, and the signal received is kept, so that whatever error the
interruption surfaces as, the command can tell it was stopped.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """A stop signal arrived (a BaseException, as KeyboardInterrupt is: no ``except Exception`` eats it)."""


class StopSignals:
    """While entered, SIGINT and SIGTERM raise ``Stopped`` and are recorded in ``received``."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}  # the handlers to put back

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            self._previous = {signum: signal.signal(signum, self._stop) for signum in STOP_SIGNALS}
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum)
        raise Stopped
