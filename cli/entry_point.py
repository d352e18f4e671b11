"""The ``model-registry`` command's entry point, imported before anything heavy.

Importing Flask and scikit-learn, then loading the models, takes seconds. In a container the server
is PID 1, and the kernel drops any signal PID 1 has no handler for: a SIGTERM in those seconds (a pod
deleted while it starts) was lost, and the pod waited out its grace period for a SIGKILL. So the
first thing the command does is take SIGTERM; gunicorn's master replaces the handler once it runs.
Best effort: the few milliseconds before this module runs remain, and a SystemExit raised inside a
finalizer is printed and ignored by Python (none runs at start-up here).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def run() -> None:
    """Console-script entry point: run the command line, ending at once on SIGTERM while it starts."""
    signal.signal(signal.SIGTERM, exit_on_signal)
    from cli.main import main

    sys.exit(main())


def exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """End the process as a default handler would, but through SystemExit, so that ``finally``
    blocks and exit hooks (the metrics directory) still run: the status is 128 + signal."""
    raise SystemExit(128 + signum)
