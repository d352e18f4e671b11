"""gunicorn's own errors (a malformed request, a request line too long, headers too large) answered
as every other error is: through the one mapping of api.wsgi.errors, in the protocol of the
request's path (api.wsgi.routes), rather than as gunicorn's HTML page.

gunicorn raises these while it parses a request, so the worker's ``handle_error`` gets no request to
read the path from. ``PathKeepingRequest`` keeps the bytes read so far and, when parsing fails, puts
the path on the exception; when even the request line is cut short (a 414), its path is the
beginning that was read, which is enough to tell ``/v2`` from the rest. A request whose path cannot
be read at all is answered with our API's body.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from gunicorn import util
from gunicorn.http import parser
from gunicorn.http.message import Request
from werkzeug.exceptions import HTTPException, default_exceptions

from api.wsgi.dispatch import canonical_path
from api.wsgi.errors import error_answer
from api.wsgi.routes import render_error_for

PATH_ATTRIBUTE = "model_registry_path"  # set on a parse error: the request's path, or None


class PathKeepingRequest(Request):
    """gunicorn's request, putting what it read of the path on any error it raises while parsing."""

    head: bytearray | None = None

    def read_into(self, unreader: Any, buf: bytearray, stop: bool = False) -> None:
        self.head = buf  # the very buffer the parser fills, not a copy
        super().read_into(unreader, buf, stop)

    def parse(self, unreader: Any) -> Any:
        try:
            return super().parse(unreader)
        except Exception as error:
            setattr(error, PATH_ATTRIBUTE, self.path if self.path is not None else path_read(self.head))
            raise


def path_read(head: bytearray | None) -> str | None:
    """The path of the request line's target as far as ``head`` has it, or ``None`` without one."""
    if not head:
        return None
    line = bytes(head[: head.find(b"\r\n")] if b"\r\n" in head else head)
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[1]:
        return None
    return urlsplit(parts[1].decode("latin-1")).path or None


def error_path(req: Any, error: BaseException) -> str | None:
    """The path of the request ``handle_error`` is given, else what the parser read of it."""
    path = getattr(req, "path", None) if req is not None else getattr(error, PATH_ATTRIBUTE, None)
    return canonical_path(unquote(path, "latin-1")) if path else None


def json_error(status_int: int, reason: str, mesg: str, path: str | None) -> bytes:
    """The whole answer to one of gunicorn's errors: status line, headers, JSON body."""
    error = default_exceptions.get(status_int, HTTPException)(mesg or reason)
    error.code = status_int
    _, headers, body = error_answer(error, render_error_for(path or "/models"))
    lines = [f"HTTP/1.1 {status_int} {reason}", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ErrorWriter:
    """Stands in for gunicorn's ``util.write_error``, which is told no path: the worker names the
    path of each socket's failed request first (``expect``)."""

    def __init__(self) -> None:
        self.paths: dict[Any, str | None] = {}

    def expect(self, sock: Any, path: str | None) -> None:
        self.paths[sock] = path

    def forget(self, sock: Any) -> None:
        self.paths.pop(sock, None)

    def __call__(self, sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, json_error(status_int, reason, mesg, self.paths.get(sock)))


def install() -> ErrorWriter:
    """Make gunicorn parse with ``PathKeepingRequest`` and write its errors through the returned writer."""
    writer = ErrorWriter()
    util.write_error = writer
    parser.RequestParser.mesg_class = PathKeepingRequest
    return writer
