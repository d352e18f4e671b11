"""The outcome of the last poll of a remote config, shared by the master (which polls) with every
worker (which answers /health/ready): a small anonymous shared mapping made before the workers fork.

Written under a sequence number (odd while a write is under way), so a reader never returns a torn
record: it reads again.
"""

from __future__ import annotations

import json
import mmap
import struct
from datetime import UTC, datetime
from typing import Any

_SIZE = 16 * 1024
_HEADER = struct.Struct("<QI")  # sequence number, length of the JSON that follows


class PollBoard:
    """The last poll's ``store_error`` (or None) and the time of the last good poll."""

    def __init__(self, url: str) -> None:
        self._map = mmap.mmap(-1, _SIZE)
        self._sequence = 0
        self.write({"store": url, "store_error": None, "last_good_poll": None})

    def write(self, status: dict[str, Any]) -> None:
        """Publish ``status`` (the master's poll thread is the only writer)."""
        data = json.dumps(status).encode()[: _SIZE - _HEADER.size]
        self._sequence += 1
        self._map[: _HEADER.size] = _HEADER.pack(self._sequence, 0)
        self._map[_HEADER.size : _HEADER.size + len(data)] = data
        self._sequence += 1
        self._map[: _HEADER.size] = _HEADER.pack(self._sequence, len(data))

    def read(self) -> dict[str, Any]:
        """The last status published."""
        while True:
            sequence, length = _HEADER.unpack(self._map[: _HEADER.size])
            data = self._map[_HEADER.size : _HEADER.size + length]
            if sequence % 2 == 0 and _HEADER.unpack(self._map[: _HEADER.size])[0] == sequence:
                return json.loads(data)

    def record(self, error: str | None) -> None:
        """Publish one poll's outcome: a good poll clears the error and stamps the time."""
        status = self.read()
        if error is None:
            status.update(store_error=None, last_good_poll=datetime.now(UTC).isoformat(timespec="seconds"))
        else:
            status["store_error"] = error
        self.write(status)


_board: PollBoard | None = None


def open_board(url: str) -> PollBoard:
    """Make the shared board (in the master, before any worker forks)."""
    global _board
    _board = PollBoard(url)
    return _board


def poll_status() -> dict[str, Any] | None:
    """The last poll's status, or None when this server polls nothing."""
    return _board.read() if _board is not None else None
