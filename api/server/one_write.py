"""gunicorn's response, sending its headers and a body given whole in one system call.

gunicorn writes a response's headers, then its body, as two sends. Over loopback or a LAN each
send is a packet the client wakes up for: a one-row answer took two wake-ups where one does
(docs/performance.md). Our answers always come whole, with their Content-Length, so this class
gathers the two into one ``sendmsg`` (the body is not copied). Anything else (a body in parts,
chunked, no body allowed) takes gunicorn's own path unchanged.

While an answer waits on its client it is reserved against the worker's buffer budget
(api.server.buffers): an answer that does not fit closes the connections whose answers stalled longest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.http import wsgi

from api.server import buffers


class OneWriteResponse(wsgi.Response):
    """A ``gunicorn.http.wsgi.Response`` whose first write, when it is the whole body, also carries
    the headers."""

    def write(self, arg: bytes) -> None:
        if self.headers_sent or not self._is_whole_body(arg):
            super().write(arg)
            return
        sock, headers = self.sock, _Gathered()
        self.sock = headers  # gunicorn's own code builds the header bytes, into this
        try:
            self.send_headers()
        finally:
            self.sock = sock
        self.sent += len(arg)
        if len(arg) <= buffers.SMALL:  # not counted: spare the common answer the bookkeeping
            send_both(sock, headers.data, arg)
            return
        with buffers.holding(refuse=False) as grow_to:
            grow_to(len(arg))
            send_both(sock, headers.data, arg, lambda: grow_to(0))

    def _is_whole_body(self, arg: Any) -> bool:
        return (
            type(arg) is bytes
            and not self.chunked
            and self.response_length == len(arg)
            # HEAD, 1xx, 204, 304: gunicorn decides (releases before 27 lack the attribute, so
            # there every answer takes gunicorn's path)
            and not getattr(self, "_omits_body", True)
            and not self.cfg.is_ssl  # an SSL socket has no sendmsg
        )


class _Gathered:
    """Stands in for the socket while gunicorn writes the headers: keeps what it is given."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


def send_both(sock: Any, head: bytes, body: bytes, progress: Callable[[], None] = lambda: None) -> None:
    """Send ``head`` then ``body`` on ``sock`` with one ``sendmsg`` when the socket takes them,
    finishing with further sends when it takes only part (a full send buffer), calling
    ``progress`` after each of them."""
    sent = sock.sendmsg([head, body])
    if sent < len(head):
        sock.sendall(head[sent:])
        sent = len(head)
    rest = memoryview(body)[sent - len(head) :]
    while rest:
        progress()
        rest = rest[sock.send(rest) :]


def install() -> None:
    """Make gunicorn build this response for every request of this process (a worker's)."""
    wsgi.Response = OneWriteResponse
