"""The gunicorn worker: gevent's event loop, so no slow or idle client can hold a worker.

gunicorn's sync workers read each request inside the worker: two idle sockets stop a two-worker
server (bench/attack.py measures it). Here every connection is a greenlet that waits in the event
loop while it has nothing to say, and a request reaches the app only once its headers are in.
Predictions are CPU-bound and never yield, so a worker still predicts one request at a time; no
request code runs concurrently with another, which is why process-global state such as
``warnings.catch_warnings()`` around a prediction stays safe.

Two deadlines bound what a client can hold:

* the headers of each request must arrive within ``keepalive`` seconds (gunicorn's own rule for
  async workers, applied to the first request of a connection as to the next ones);
* reading the body and writing the answer must end within ``timeout`` seconds, or the connection
  is closed (a client sending one byte a second, or never reading a large answer).

Too many connections cannot stop it either: gevent's pool stops accepting at
``worker_connections``, so past a high-water mark below it each new connection closes the ones
that waited longest for a request, or whose request stalled longest (api.server.connections); and the
bytes of bodies and answers waiting on clients have a budget (api.server.buffers).

gunicorn writes its own errors (a request line too long, headers too large) as HTML; this worker
answers them as every other error, in the JSON body of the request path's protocol
(api.server.http_errors). It sends an answer's headers and body in one system call
(api.server.one_write).

A worker told to stop while it boots stops: until gunicorn installs the worker's signal handlers,
a forked worker runs the master's, which only queue the signal for a loop the worker never runs.
A SIGTERM in that window (a pod stopped while a worker starts) was lost, and the master waited
``graceful_timeout`` for a worker that would never exit. So the master forks with the stop signals
blocked (a signal that reaches a child before Python's after-fork code runs is dropped), and the
child unblocks them once its own handlers are in place; one sent meanwhile waits, pending.
"""

from __future__ import annotations

import logging
import queue
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

import gevent
from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

from api.observability.metrics import record_refused, record_shed
from api.server import buffers, connections, http_errors, one_write
from api.server.connections import BUSY, WAITING, ConnectionShed, ConnectionTable

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class RequestDeadline(BaseException):
    """A request's I/O outlived its deadline. A BaseException, like ``gevent.Timeout``, so that no
    ``except Exception`` in gunicorn or the app swallows it or answers it."""


class RegistryWorker(GeventWorker):
    """gevent worker with a deadline on each request's I/O and JSON for gunicorn's own errors."""

    def heed_stop_signals_while_booting(self, inherited: queue.SimpleQueue[Any]) -> None:
        """Called in the new worker right after the fork: stop once booted if told to stop before.

        ``inherited`` is this process's copy of the master's signal queue, where the master's
        handler put whatever arrived since the fork. A stop signal the master had queued for
        itself means the master is stopping too, so heeding it is right either way.
        """
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.handle_exit)
        while True:
            try:
                if inherited.get_nowait() in STOP_SIGNALS:
                    self.alive = False
            except queue.Empty:
                break
        unblock_stop_signals()  # one sent since the fork is delivered now, to handle_exit

    def init_process(self) -> None:
        self.error_writer = http_errors.install()
        one_write.install()
        connections.install(ConnectionTable(high_water(self.cfg.worker_connections), record_shed))
        super().init_process()

    def limit_buffers(self, max_bytes: int) -> None:
        """Give this worker's bodies and answers waiting on clients a budget of ``max_bytes``."""
        buffers.install(buffers.Budget(max_bytes, count_refused=record_refused))

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        table = connections.table()
        conn = table.open(client) if table is not None else None
        try:
            super().handle(listener, client, addr)
        finally:
            if table is not None and conn is not None:
                table.close(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, ConnectionShed):  # shed between two requests: nothing to answer
            util.close(client)
            return
        self.error_writer.expect(client, http_errors.error_path(req, exc))
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            self.error_writer.forget(client)

    def patch(self) -> None:
        # gevent looks for plugins before and after patching each module: 25 scans of every
        # installed package's entry points, a visible part of a worker's start. They are read once.
        with entry_points_read_once():
            super().patch()

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
        deadline = gevent.Timeout(self.cfg.timeout, RequestDeadline)
        deadline.start()
        table = connections.table()
        if table is not None:
            table.enter(BUSY)
        try:
            super().handle_request(listener_name, req, sock, addr)
            conn = table.current() if table is not None else None
            if conn is not None and conn.close_after:  # the answer's FIN goes before the close
                shut_writes(sock)
                raise StopIteration
            # Let every other connection with a request waiting have its turn before this one
            # reads its next: without it a client on a kept-alive connection that answers fast
            # can be served again and again while another waits (a long p99 under wrk -c2).
            gevent.sleep(0)
        except RequestDeadline:
            log.warning(
                "closed a connection from %s: %s %s took over %s s of I/O",
                addr[0] if addr else "?",
                req.method,
                req.path,
                self.cfg.timeout,
            )
            util.close(sock)
            raise StopIteration from None
        except ConnectionShed:
            log.debug("closed a connection from %s to make room", addr[0] if addr else "?")
            util.close(sock)
            raise StopIteration from None
        finally:
            deadline.close()
            if table is not None:
                table.enter(WAITING)


def shut_writes(sock: Any) -> None:
    """End our side of ``sock`` (the client reads the answer, then the end of the stream)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def high_water(worker_connections: int) -> int:
    """How many connections a worker keeps open before closing the idle ones: a tenth of its
    limit (at least one) stays free for new connections and the requests on them."""
    return max(1, worker_connections - max(1, worker_connections // 10))


@contextmanager
def entry_points_read_once() -> Iterator[None]:
    """Within the block, ``importlib.metadata.entry_points`` reads the installed packages once
    and answers every later call (with or without a ``group``) from that reading."""
    read = metadata.entry_points
    every = read()

    def entry_points(**selection: Any) -> metadata.EntryPoints:
        return every.select(**selection) if selection else every

    metadata.entry_points = entry_points  # type: ignore[assignment]
    try:
        yield
    finally:
        metadata.entry_points = read


def block_stop_signals() -> None:
    """Hold SIGTERM, SIGINT and SIGQUIT pending in this process (the master, about to fork)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def unblock_stop_signals() -> None:
    """Deliver the stop signals again, any held one first."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
