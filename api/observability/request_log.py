"""The request-id hook: every answer carries an ``X-Request-ID``, and (unless turned off) each
request is logged as one line with that id, what it asked for and what it got.

An id sent by the client is kept when it is 1 to 128 characters of ``A-Z a-z 0-9 . _ : -``;
otherwise one is generated. Bodies, feature values, query strings and headers are never logged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from api.wsgi.pipeline import SERVED_KEY, StartResponse

HEADER = "X-Request-ID"
ENVIRON_KEY = "model_registry.request_id"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("model_registry.request")


def request_id(sent: str | None) -> str:
    """The client's id when it is safe to echo and log, else a new one."""
    if sent and _VALID_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class LoggedWhenClosed:
    """A WSGI body that calls ``log_line`` when the server closes it, after closing the body it
    wraps, even when that raises."""

    def __init__(self, body: Iterable[bytes], log_line: Callable[[], None]) -> None:
        self.body = body
        self.log_line = log_line

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.log_line()


class RequestIdHook:
    """WSGI middleware: sets the request id on the answer and logs the request line."""

    def __init__(self, app: Any, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = environ[ENVIRON_KEY] = request_id(environ.get("HTTP_X_REQUEST_ID"))
        statuses: list[str] = []

        def with_id(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            statuses.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            return start_response(status, [*headers, (HEADER, rid)], *exc_info)

        body = self.app(environ, with_id)
        if not self.access_log:
            return body

        def log_line() -> None:
            self._log(environ, rid, statuses[-1] if statuses else "000", time.perf_counter() - started)

        if isinstance(body, environ.get("wsgi.file_wrapper", ())):
            log_line()  # wrapping the server's file wrapper would cost it its sendfile
            return body
        # Written once the server has sent the answer and closes the body (PEP 3333), as gunicorn
        # logs: the line is then off the client's wait.
        return LoggedWhenClosed(body, log_line)

    @staticmethod
    def _log(environ: dict[str, Any], rid: str, status: str, seconds: float) -> None:
        served = environ.get(SERVED_KEY)
        fields = {
            "event": "request",
            "request_id": rid,
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "model": served.model if served else None,
            "version": served.version if served else None,
            "status": int(status[:3]) if status[:3].isdigit() else 0,
            "rows": served.rows if served else None,
            "duration_ms": round(seconds * 1000, 3),
        }
        if not log.isEnabledFor(logging.INFO):
            return
        args = tuple(
            fields[k] for k in ("request_id", "method", "path", "status", "model", "version", "rows")
        )
        # makeRecord and handle, not log.info: a line per request should not pay for findCaller's
        # walk up the stack to name a source line that is always this one.
        message = "%s %s %s %s model=%s version=%s rows=%s %.1f ms"
        log.handle(
            log.makeRecord(
                log.name,
                logging.INFO,
                __file__,
                0,
                message,
                (*args, fields["duration_ms"]),
                None,
                extra=fields,
            )
        )
