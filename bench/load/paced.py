"""Load for the traffic bench: closed loops (saturation) and paced sends (a fixed rate), each
connection a thread with one kept-alive socket (bench.load.alternate.KeptAlive), every answer a 200.

A paced connection sends its k-th request at ``start + k * interval`` (at once when it is late)
and times it from the send, so what is measured is the server's answer to a steady rate.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.load.alternate import KeptAlive


@dataclass(frozen=True)
class LoadResult:
    """What one run of ``connections`` connections did in ``seconds``."""

    requests: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of the latencies, in seconds."""
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[round(q * 10) - 1]


def run(port: int, request: bytes, connections: int, seconds: float, rate: float | None = None) -> LoadResult:
    """Send ``request`` for ``seconds`` on ``connections`` connections, as fast as answers come
    (``rate`` None) or at ``rate`` requests per second in all, spread evenly over them."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    started = time.perf_counter() + 0.05
    deadline = started + seconds
    interval = connections / rate if rate else 0.0
    workers = [
        threading.Thread(
            target=_connection,
            args=(port, request, deadline, latencies[i], _schedule(started, interval, i, connections)),
        )
        for i in range(connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [latency for kept in latencies for latency in kept]
    return LoadResult(len(every), seconds, every)


def _schedule(started: float, interval: float, index: int, connections: int) -> Callable[[int], float]:
    """When connection ``index`` sends its k-th request (0 apart when closed-loop)."""
    offset = started + index * interval / connections
    return lambda k: offset + k * interval


def _connection(
    port: int, request: bytes, deadline: float, kept: list[float], due: Callable[[int], float]
) -> None:
    connection = KeptAlive(port, buffer_bytes=1 << 20)
    try:
        k = 0
        while True:
            now = time.perf_counter()
            wait = due(k) - now
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            if sent >= deadline:
                return
            connection.roundtrip(request)
            kept.append(time.perf_counter() - sent)
            k += 1
    finally:
        connection.close()
