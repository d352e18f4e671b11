"""The one place that maps errors to HTTP: domain exceptions, Flask's own, and anything uncaught.

Every error leaves as ``{"code", "status", "message"[, "errors"]}`` JSON, never as HTML or a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from spec.errors import (
    ConfigError,
    InvalidInputError,
    PredictionError,
    RegistryError,
    TooManyRowsError,
    UnknownModelError,
    UnknownVersionError,
    VersionUnavailableError,
)

log = logging.getLogger(__name__)

ERROR_STATUS: dict[type[RegistryError], int] = {
    UnknownModelError: 404,
    UnknownVersionError: 404,
    VersionUnavailableError: 503,
    InvalidInputError: 400,
    PredictionError: 500,
    TooManyRowsError: 413,
    ConfigError: 500,
}


def error_response(
    code: int, message: str, errors: dict[str, Any] | None = None, headers: Any = None
) -> Response:
    """The JSON error body every failure uses."""
    body: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error")}
    body["message"] = message
    if errors:
        body["errors"] = errors
    return Response(orjson.dumps(body), code, headers=headers, mimetype="application/json")


def init_app(app: Flask) -> None:
    """Register the handlers; call after flask-smorest's Api so these replace its HTTP handler."""
    app.register_error_handler(RegistryError, _registry_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _registry_error(error: RegistryError) -> Response:
    code = ERROR_STATUS.get(type(error), 500)
    if code >= 500:
        log.error("%s", error.message)
    errors = error.errors if isinstance(error, InvalidInputError) else None
    return error_response(code, error.message, errors)


def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    message = error.description or HTTP_STATUS_CODES.get(code, "Error")
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"The body is larger than the limit of {limit} bytes."
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return error_response(code, message, headers=headers)


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # Flask routes these here when no closer handler exists
        return _http_error(error)
    log.exception("unhandled error")
    return error_response(500, "Internal error; the server log has the details.")
