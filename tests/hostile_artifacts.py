"""Artifacts whose unpickling ends, kills or blocks the process that loads them, the way a custom
transformer's module can (one that runs argparse at import raises SystemExit)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import joblib


def raise_system_exit() -> None:
    sys.exit(2)


def raise_keyboard_interrupt() -> None:
    raise KeyboardInterrupt


def hard_exit() -> None:
    os._exit(3)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def hang() -> None:
    time.sleep(3600)


def mark_unpickled(path: str) -> None:
    """Leaves a file behind: proof that the artifact was unpickled (by any process)."""
    Path(path).write_text("unpickled")
    sys.exit(2)


class Hostile:
    """Unpickling it calls ``function(*args)`` of this module."""

    def __init__(self, function: str, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, ...]:
        return getattr(sys.modules[__name__], self.function), self.args


# What each one does, as a version's reason says it.
REASONS = {
    "raise_system_exit": "artifact: cannot be loaded: SystemExit: 2",
    "raise_keyboard_interrupt": "artifact: cannot be loaded: KeyboardInterrupt",
    "hard_exit": "artifact: exited with status 3 while loading",
    "kill_self": "artifact: was killed by SIGKILL while loading",
    "hang": "artifact: did not finish loading within 1 s",
}


def importable_env() -> dict[str, str]:
    """Our environment, with this module importable by a server or CLI process we start."""
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in [root, os.environ.get("PYTHONPATH", "")] if p)
    return {**os.environ, "PYTHONPATH": path}


def dump_hostile(path: Path, function: str, *args: Any) -> Path:
    """Pickle a ``Hostile`` at ``path`` (folders made) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(Hostile(function, *args), path)
    return path
