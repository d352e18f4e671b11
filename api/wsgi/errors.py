"""The one place that maps errors to HTTP and renders them: domain exceptions, werkzeug's HTTP
exceptions, and anything uncaught, for the predict pipeline, the Flask app, the token check
(api.wsgi.dispatch) and the HTTP server's own errors (api.server.http_errors) alike. The docs'
error tables are generated from this mapping (api.wsgi.error_table).

Every error leaves as JSON, never as HTML or a traceback: ``{"code", "status", "message"[, "errors"]}``
on our own API, ``{"error"}`` on the Open Inference Protocol's paths (``ErrorRenderer``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from api.protocols.encoding import JSON_HEADER
from spec.errors import (
    InvalidInputError,
    PredictionError,
    RegistryError,
    TooManyRowsError,
    UnknownModelError,
    UnknownVersionError,
    VersionNotReadyError,
    VersionUnavailableError,
)

log = logging.getLogger(__name__)

ERROR_STATUS: dict[type[RegistryError], int] = {
    UnknownModelError: 404,
    UnknownVersionError: 404,
    VersionUnavailableError: 503,
    VersionNotReadyError: 400,  # V2's ready endpoint: a 4xx for a version that failed to load
    InvalidInputError: 400,
    PredictionError: 500,
    TooManyRowsError: 413,
}
INTERNAL_MESSAGE = "Internal error; the server log has the details."

# (code, message, errors) -> body bytes: how one protocol words an error
ErrorRenderer = Callable[[int, str, dict[str, Any] | None], bytes]


def registry_error_body(code: int, message: str, errors: dict[str, Any] | None = None) -> bytes:
    """Our API's error body: ``{"code", "status", "message"[, "errors"]}``."""
    body: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return orjson.dumps(body)


def describe_error(error: BaseException) -> tuple[int, str, dict[str, Any] | None, list[tuple[str, str]]]:
    """``(status, message, errors, extra headers)`` for any exception; logs the unexpected ones."""
    if isinstance(error, RegistryError):
        code = ERROR_STATUS.get(type(error), 500)
        if code >= 500:
            log.error("%s", error.message)
        errors = error.errors if isinstance(error, InvalidInputError) else None
        return code, error.message, errors, []
    if isinstance(error, HTTPException):
        code = error.code or 500
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return code, error.description or HTTP_STATUS_CODES.get(code, "Error"), None, headers
    log.error("unhandled error", exc_info=error)
    return 500, INTERNAL_MESSAGE, None, []


def error_answer(error: BaseException, render: ErrorRenderer) -> tuple[str, list[tuple[str, str]], bytes]:
    """``(status line, headers, body)`` answering ``error`` in the words of one protocol (``render``)."""
    code, message, errors, headers = describe_error(error)
    body = render(code, message, errors)
    status = f"{code} {HTTP_STATUS_CODES.get(code, 'Error')}"
    return status, [JSON_HEADER, ("Content-Length", str(len(body))), *headers], body


def init_app(app: Flask, render_for_path: Callable[[str], ErrorRenderer]) -> None:
    """Answer every error of the Flask app through ``describe_error`` and the path's renderer.

    Call after flask-smorest's Api, so these replace its HTTP error handler.
    """

    def handle(error: Exception) -> Response:
        code, message, errors, headers = describe_error(error)
        body = render_for_path(request.path)(code, message, errors)
        return Response(body, code, headers=headers, mimetype="application/json")

    app.register_error_handler(RegistryError, handle)
    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(Exception, handle)
