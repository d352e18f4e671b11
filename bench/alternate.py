"""Two kinds of request alternated one by one on one kept-alive connection, each timed.

wrk's runs of two scenarios are seconds apart, and this machine's speed moves by more than 10 %
from one second to the next: paired 5 s runs of one-row V2 and one-row /models gave ratios from
0.79 to 1.24 within one bench. Alternating single requests puts both kinds in the same moments,
so a difference of 1 % shows (five runs of 5,000 pairs here agreed within 0.6 %). The client is a
plain socket: it adds the same few microseconds to both kinds.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.canned import content_length

_HEAD_END = b"\r\n\r\n"


class AlternateError(RuntimeError):
    """The server answered something other than a whole 200."""


@dataclass(frozen=True)
class Alternated:
    """Median seconds per request of each kind, per block of rounds (blocks show the spread)."""

    names: tuple[str, ...]
    block_medians: list[tuple[float, ...]]

    def ratios(self, numerator: str, denominator: str) -> list[float]:
        """``numerator``'s median ÷ ``denominator``'s, one per block."""
        a, b = self.names.index(numerator), self.names.index(denominator)
        return [block[a] / block[b] for block in self.block_medians]


def post_request(path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of an HTTP/1.1 POST of a JSON ``body`` to ``path`` (kept alive unless ``headers``
    say otherwise)."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class KeptAlive:
    """One connection to 127.0.0.1:``port`` that sends a request and reads its whole answer."""

    def __init__(self, port: int, buffer_bytes: int = 8 << 20) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray(buffer_bytes)

    def roundtrip(self, request: bytes) -> None:
        """Send ``request`` and read its answer; raises ``AlternateError`` unless it is a 200."""
        self.sock.sendall(request)
        view, got, end = memoryview(self.buffer), 0, -1
        while end < 0:
            got += self._recv(view[got:])
            end = self.buffer.find(_HEAD_END, 0, got)
        head = bytes(self.buffer[:end])
        if not head.startswith(b"HTTP/1.1 200"):
            raise AlternateError(f"the server answered {head[:200]!r}")
        if b"\r\nconnection: close" in head.lower():
            raise AlternateError("the server closes the connection after each answer")
        total = end + len(_HEAD_END) + content_length(head)
        if total > len(self.buffer):
            raise AlternateError(f"an answer of {total} bytes is more than the client holds")
        while got < total:
            got += self._recv(view[got:])

    def _recv(self, into: memoryview) -> int:
        count = self.sock.recv_into(into)
        if not count:
            raise AlternateError("the server closed the connection")
        return count

    def close(self) -> None:
        self.sock.close()


def alternate(
    port: int, requests: dict[str, bytes], rounds: int, blocks: int = 5, warmup_rounds: int = 200
) -> Alternated:
    """Send each of ``requests`` once per round, their order rotating from round to round, for
    ``rounds`` rounds split as evenly as they go into ``blocks`` blocks; every answer must be a 200."""
    names = tuple(requests)
    connection = KeptAlive(port)
    try:
        for _ in range(warmup_rounds):
            for name in names:
                connection.roundtrip(requests[name])
        medians = []
        for block in range(blocks):
            times: list[list[float]] = [[] for _ in names]
            for round_index in range(max(1, rounds // blocks + (block < rounds % blocks))):
                for k in _rotated(len(names), round_index):
                    started = time.perf_counter()
                    connection.roundtrip(requests[names[k]])
                    times[k].append(time.perf_counter() - started)
            medians.append(tuple(statistics.median(t) for t in times))
    finally:
        connection.close()
    return Alternated(names, medians)


def _rotated(count: int, shift: int) -> Sequence[int]:
    order = list(range(count))
    shift %= count
    return order[shift:] + order[:shift]
