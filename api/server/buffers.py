"""The memory a worker's connections may hold: request bodies being received, answers being sent.

Every body and answer over ``SMALL`` bytes reserves its size against the worker's budget
(``server.max_buffered_bytes``) while it waits on its client. When a reservation does not fit,
the connections whose I/O has stalled longest are closed to make room (their bytes go with
them). A body that still does not fit is refused (``BufferFull``, a 503 with Retry-After); an
answer, already computed, closes the oldest pending answers instead, so a client that never
reads holds its answer only until newer ones need the room.

Smaller bodies and answers, the common case, are not counted: a 64 KiB answer fits in a socket's
buffers, and their total is bounded by the connection limit (api.server.connections).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from api.server.connections import ConnectionTable, table

SMALL = 64 * 1024
STALL_S = 1.0  # a reservation whose I/O made no progress for this long may be closed for room


class BufferFull(Exception):
    """A body would take the worker's buffered bytes over its budget."""

    def __init__(self, budget: int) -> None:
        super().__init__(f"the server is holding its limit of {budget} bytes of request bodies and answers")
        self.budget = budget


class Budget:
    """The byte budget of one worker, kept on the connections of its table."""

    def __init__(
        self,
        limit: int,
        connections: Callable[[], ConnectionTable | None] = table,
        count_refused: Callable[[], None] = lambda: None,
    ) -> None:
        self.limit = limit
        self.connections = connections
        self.count_refused = count_refused

    def used(self) -> int:
        conns = self.connections()
        return conns.held() if conns is not None else 0

    @contextmanager
    def holding(self, refuse: bool) -> Iterator[Callable[[int], None]]:
        """A ``grow_to(nbytes)`` for one body or answer of the current connection: it reserves up
        to ``nbytes`` in all (counted once past ``SMALL``) and marks progress. Everything reserved
        is given back when the block ends. With ``refuse``, a reservation that cannot fit raises
        ``BufferFull``; without, it closes pending holders until it fits (or none is left)."""
        conns = self.connections()
        conn = conns.current() if conns is not None else None
        reserved = 0

        def grow_to(nbytes: int) -> None:
            nonlocal reserved
            if conn is None:
                return
            now = conn.since = time.monotonic()
            if nbytes <= reserved or nbytes <= SMALL:
                return
            try:
                self._make_room(conns, nbytes - reserved, now, refuse)  # type: ignore[arg-type]
            except BufferFull:
                conn.close_after = True  # reading the rest of the body only to drop it costs as much
                raise
            conn.held += nbytes - reserved
            reserved = nbytes

        try:
            yield grow_to
        finally:
            if conn is not None:
                conn.held = max(0, conn.held - reserved)

    def _make_room(self, conns: ConnectionTable, nbytes: int, now: float, refuse: bool) -> None:
        over = self.used() + nbytes - self.limit
        if over <= 0:
            return
        candidates = conns.stalled(now - STALL_S) + ([] if refuse else conns.holders())
        for victim in candidates:
            if over <= 0:
                return
            if victim.shed:
                continue
            over -= victim.held
            conns.shed(victim, "buffers")
        if over > 0 and refuse:
            self.count_refused()
            raise BufferFull(self.limit)


_budget: Budget | None = None


def install(budget: Budget | None) -> None:
    """Make ``budget`` this process's (a worker's)."""
    global _budget
    _budget = budget


@contextmanager
def holding(refuse: bool) -> Iterator[Callable[[int], None]]:
    """``Budget.holding`` of this process's budget; outside a worker, a ``grow_to`` that does nothing."""
    if _budget is None:
        yield lambda nbytes: None
        return
    with _budget.holding(refuse) as grow_to:
        yield grow_to
