"""The connections a worker holds open, and which to close first when there are too many.

gevent's pool stops accepting once a worker holds ``worker_connections`` connections, so clients
that only open sockets (and re-open them as the server closes them) could keep a worker from ever
seeing a real request. Each connection is registered here as it is accepted; once more than the
high-water mark are open, the ones waiting longest for a request (idle kept-alive ones and those
that never sent complete headers) are closed first, then the requests stalled longest in their
I/O, so a new connection always finds room and is served.

One table per worker process (installed by api.server.worker); without one (the Flask test client, batch
scoring) nothing is tracked.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent

WAITING = "waiting"  # for the headers of the connection's next request
BUSY = "busy"  # in a request: reading its body, predicting, or sending its answer


class ConnectionShed(BaseException):
    """Raised in a request's greenlet to close its connection. A BaseException, like
    ``gevent.Timeout``, so that no ``except Exception`` in gunicorn or the app answers it."""


@dataclass(eq=False)
class Connection:
    """One accepted socket and the greenlet serving it."""

    sock: Any
    greenlet: Any
    phase: str = WAITING
    since: float = 0.0  # when the phase began, or the request's I/O last made progress
    held: int = 0  # bytes reserved in the buffer budget (api.server.buffers)
    shed: bool = False
    close_after: bool = False  # close once the request is answered (its body was left unread)


class ConnectionTable:
    """Open connections of one worker, keyed by the greenlet serving each."""

    def __init__(self, high_water: int, count_shed: Callable[[str], None] = lambda reason: None) -> None:
        self.high_water = high_water
        self.count_shed = count_shed
        self._open: dict[Any, Connection] = {}  # in the order their phases began

    def __len__(self) -> int:
        return len(self._open)

    def open(self, sock: Any) -> Connection:
        """Register the current greenlet's new connection, making room first when needed."""
        conn = Connection(sock, gevent.getcurrent(), since=time.monotonic())
        self._open[conn.greenlet] = conn
        self.make_room()
        return conn

    def close(self, conn: Connection) -> None:
        self._open.pop(conn.greenlet, None)

    def held(self) -> int:
        """Bytes the open connections hold reserved in the buffer budget."""
        return sum(c.held for c in self._open.values())

    def current(self) -> Connection | None:
        """The connection the running greenlet serves, if any."""
        return self._open.get(gevent.getcurrent())

    def enter(self, phase: str) -> None:
        """Mark the current connection as entering ``phase`` now."""
        conn = self._open.pop(gevent.getcurrent(), None)
        if conn is not None:  # to the end: the table stays in the order the phases began
            conn.phase, conn.since = phase, time.monotonic()
            self._open[conn.greenlet] = conn

    def make_room(self) -> int:
        """Close connections until no more than the high-water mark are open: those waiting
        longest for a request first, then the requests whose I/O stalled longest. Returns how
        many were closed."""
        excess = len(self._open) - self.high_water
        if excess <= 0:
            return 0
        me = gevent.getcurrent()
        victims = []
        for conn in self._open.values():  # oldest first: usually the first one or two will do
            if conn.phase == WAITING and conn.greenlet is not me:
                victims.append(conn)
                if len(victims) == excess:
                    break
        if len(victims) < excess:  # progress moves a request's ``since`` but not its place
            busy = [c for c in self._open.values() if c.phase == BUSY and c.greenlet is not me]
            victims += sorted(busy, key=lambda c: c.since)[: excess - len(victims)]
        for conn in victims:
            self.shed(conn, "idle" if conn.phase == WAITING else "busy")
        return len(victims)

    def stalled(self, older_than: float) -> list[Connection]:
        """Other connections holding buffered bytes whose I/O made no progress since
        ``older_than`` (a monotonic time), the longest stalled first."""
        me = gevent.getcurrent()
        found = [c for c in self._open.values() if c.held and c.greenlet is not me and c.since <= older_than]
        return sorted(found, key=lambda c: c.since)

    def holders(self) -> list[Connection]:
        """Other connections holding buffered bytes, the longest since progress first."""
        return self.stalled(float("inf"))

    def shed(self, conn: Connection, reason: str) -> None:
        """Close ``conn`` (no longer counted as open): a connection waiting for headers sees the
        end of its stream, a request gets ``ConnectionShed`` where it waits for I/O."""
        self._open.pop(conn.greenlet, None)
        conn.shed = True
        self.count_shed(reason)
        if conn.phase == WAITING:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
        else:
            conn.greenlet.kill(ConnectionShed, block=False)


_table: ConnectionTable | None = None


def install(table: ConnectionTable | None) -> None:
    """Make ``table`` this process's connection table (a worker's)."""
    global _table
    _table = table


def table() -> ConnectionTable | None:
    """This process's table, or None outside a worker."""
    return _table
