"""A server that computes nothing: every request gets the same canned answer, read from a file.

The bench sets our single-connection latency on a large request against what moving the same
request and answer over this machine's loopback costs by itself: the canned server is given our
own answer to the probe's body, so the bytes on the wire are the same and only the work differs.

Run as ``python -m bench.load.canned PORT ANSWER_FILE``. HTTP/1.1 with keep-alive, one thread per
connection; a request's body (``Content-Length``) is read in full and ignored. Standard library only.
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024
RECV_BYTES = 1024 * 1024


def response_bytes(answer: bytes) -> bytes:
    """The whole HTTP response carrying ``answer`` as JSON, sent with one ``sendall``."""
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n\r\n"
    ).encode("latin-1")
    return head + answer


def content_length(head: bytes) -> int:
    """The ``Content-Length`` of a request's or an answer's head (0 when there is none)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def serve_connection(conn: socket.socket, response: bytes) -> None:
    """Answer every request on ``conn`` with ``response`` until the client closes it."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    with conn:
        while True:
            while HEAD_END not in pending:
                if len(pending) > MAX_HEAD_BYTES:
                    return
                data = conn.recv(RECV_BYTES)
                if not data:
                    return
                pending += data
            head, _, pending = pending.partition(HEAD_END)
            needed = content_length(head)
            while len(pending) < needed:
                data = conn.recv(RECV_BYTES)
                if not data:
                    return
                pending += data
            pending = pending[needed:]
            conn.sendall(response)


def serve(port: int, answer: bytes) -> None:
    """Listen on 127.0.0.1:``port`` and answer every request with ``answer``, forever."""
    response = response_bytes(answer)
    with socket.create_server(("127.0.0.1", port), backlog=64) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_serve_quietly, args=(conn, response), daemon=True).start()


def _serve_quietly(conn: socket.socket, response: bytes) -> None:
    try:
        serve_connection(conn, response)
    except (OSError, ValueError):  # a client gone mid-request, or a malformed Content-Length
        conn.close()


def main(argv: list[str]) -> int:
    """``bench.load.canned PORT ANSWER_FILE``."""
    if len(argv) != 2:
        print("usage: python -m bench.load.canned PORT ANSWER_FILE", file=sys.stderr)
        return 2
    serve(int(argv[0]), Path(argv[1]).read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
