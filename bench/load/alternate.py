"""Things to compare, alternated one by one and each timed: requests on kept-alive connections, or
a request and an in-process call.

wrk's runs of two scenarios are seconds apart, and this machine's speed drifts from one second to
the next by more than the differences compared; alternating single calls puts every kind in the
same moments. The client is a plain socket: it adds the same small cost to every request.
"""

from __future__ import annotations

import functools
import socket
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.load.canned import content_length

_HEAD_END = b"\r\n\r\n"


class AlternateError(RuntimeError):
    """The server answered something other than a whole 200."""


@dataclass(frozen=True)
class Alternated:
    """Median seconds per call of each kind, per block of rounds (blocks show the spread)."""

    names: tuple[str, ...]
    block_medians: list[tuple[float, ...]]

    def medians(self, name: str) -> list[float]:
        """``name``'s median seconds per call, one per block."""
        index = self.names.index(name)
        return [block[index] for block in self.block_medians]

    def ratios(self, numerator: str, denominator: str) -> list[float]:
        """``numerator``'s median ÷ ``denominator``'s, one per block."""
        pairs = zip(self.medians(numerator), self.medians(denominator), strict=True)
        return [top / bottom for top, bottom in pairs]


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
    """Send each of ``requests`` once per round on one kept-alive connection to ``port``, as
    ``alternate_calls`` does; every answer must be a 200."""
    connection = KeptAlive(port)
    try:
        calls = {name: functools.partial(connection.roundtrip, request) for name, request in requests.items()}
        return alternate_calls(calls, rounds, blocks, warmup_rounds)
    finally:
        connection.close()


def alternate_calls(
    calls: dict[str, Callable[[], object]],
    rounds: int,
    blocks: int = 5,
    warmup_rounds: int = 200,
    burst: int = 1,
    settle: int = 0,
) -> Alternated:
    """Make each of ``calls`` ``settle`` + ``burst`` times in a row per round (the first ``settle``
    not timed), their order rotating from round to round, for ``rounds`` rounds split as evenly as
    they go into ``blocks`` blocks; the median wall time of each call per block. What a call
    raises stops it."""
    names = tuple(calls)
    for _ in range(warmup_rounds):
        for name in names:
            calls[name]()
    medians, round_index = [], 0
    for block in range(blocks):
        times: list[list[float]] = [[] for _ in names]
        for _ in range(max(1, rounds // blocks + (block < rounds % blocks))):
            order, round_index = _rotated(len(names), round_index), round_index + 1
            for k in order:
                call, kept = calls[names[k]], times[k]
                for _ in range(settle):
                    call()
                for _ in range(burst):
                    started = time.perf_counter()
                    call()
                    kept.append(time.perf_counter() - started)
        medians.append(tuple(statistics.median(t) for t in times))
    return Alternated(names, medians)


def _rotated(count: int, shift: int) -> Sequence[int]:
    order = list(range(count))
    shift %= count
    return order[shift:] + order[:shift]
