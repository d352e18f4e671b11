"""The hostile clients of ``make attack``: each holds a connection the way a slow or hostile client
does, until ``stop`` is set, and comes back when the server cuts it off."""

from __future__ import annotations

import json
import socket
import threading

IRIS_ROW = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
PROBE_PATH = "/models/iris/1/predict"
BIG_ROWS = 60_000  # a columnar request whose answer (about 7 MB) outgrows the socket buffers
STALLED_BODY_BYTES = 8 * 1024 * 1024 - 1024  # just under the default max_body_bytes


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small, so a server's send fills it
    return sock


def idle(host: str, port: int, stop: threading.Event) -> None:
    """Connect and send nothing; reconnect when the server closes, as an attacker would."""
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.settimeout(0.5)
                while not stop.is_set():
                    try:
                        if sock.recv(1024) == b"":
                            break  # closed by the server: come back
                    except TimeoutError:
                        continue
        except OSError:
            stop.wait(0.2)


def _drip(host: str, port: int, stop: threading.Event, head: bytes, drip: bytes) -> None:
    """Send ``head`` at once, then ``drip`` one byte a second; reconnect when cut off."""
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.sendall(head)
                for byte in drip:
                    if stop.wait(1.0):
                        return
                    sock.sendall(bytes([byte]))
        except OSError:
            stop.wait(0.2)


def _post_head(host: str, length: int) -> bytes:
    """The head of a JSON POST of ``length`` bytes to the probe's path."""
    return (
        f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def slow_headers(host: str, port: int, stop: threading.Event) -> None:
    """Send a request's headers one byte a second."""
    request = f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\n" + "X-Pad: a\r\n" * 200
    _drip(host, port, stop, b"", request.encode())


def slow_body(host: str, port: int, stop: threading.Event) -> None:
    """Send a request's headers at once and its body one byte a second."""
    body = json.dumps(IRIS_ROW).encode() * 10
    _drip(host, port, stop, _post_head(host, len(body)), body)


def big_request(host: str) -> bytes:
    """A valid columnar iris predict of ``BIG_ROWS`` rows, whose answer is several megabytes."""
    columns = {name: [value] * BIG_ROWS for name, value in IRIS_ROW.items()}
    body = json.dumps({"inputs": columns}).encode()
    return _post_head(host, len(body)) + body


def never_read(host: str, port: int, stop: threading.Event) -> None:
    """Ask for a large answer and never read a byte of it."""
    request = big_request(host)
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.sendall(request)
                stop.wait()  # hold the connection, reading nothing
                return
        except OSError:
            stop.wait(0.5)


def stalled_body(host: str, port: int, stop: threading.Event) -> None:
    """Announce a body just under 8 MB, send all of it but the last 1,024 bytes, and stall;
    reconnect when cut off or answered."""
    head = _post_head(host, STALLED_BODY_BYTES)
    sent = b" " * (STALLED_BODY_BYTES - 1024)
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.sendall(head)
                sock.settimeout(0.5)
                for start in range(0, len(sent), 65536):  # stop sending once the server answers
                    if stop.is_set():
                        return
                    sock.sendall(sent[start : start + 65536])
                while not stop.is_set():
                    try:
                        if sock.recv(65536) == b"":
                            break
                    except TimeoutError:
                        continue
        except OSError:
            stop.wait(0.2)
