"""A WSGI shortcut for the happy path of predict, in front of Flask.

Flask's request and response objects, routing and flask-smorest's wrappers cost more than a whole
one-row prediction. This middleware answers ``POST /models/<name>[/<version>]/predict`` itself
when everything is in order (JSON content type, a length within the limit, the token if one is
set, a known version, valid input), with the very body the Flask view builds, through the same
``prediction_json``. Anything else, every error included, is handed to Flask untouched (the body
it read is put back), so errors keep exactly one source: api/errors.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from api.auth import authorized
from api.predict import prediction_json
from api.state import RegistryHolder
from spec.config import RESERVED_VERSION

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_JSON = "application/json"


class PredictFastPath:
    """WSGI middleware: answers good predict requests, passes everything else to ``app``."""

    def __init__(self, app: WSGIApp, holder: RegistryHolder, token: str | None) -> None:
        self.app = app
        self.holder = holder
        self.token = token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self._answer(environ)
        if body is None:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", str(len(body)))])
        return [body]

    def _answer(self, environ: dict[str, Any]) -> bytes | None:
        """The response body, or ``None`` to let Flask handle the request."""
        target = _predict_target(environ)
        registry = self.holder.current
        if target is None or registry is None or not self._acceptable(environ, registry):
            return None
        length = int(environ["CONTENT_LENGTH"])
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask can still read it if we pass
        try:
            return prediction_json(registry, *target, orjson.loads(raw))
        except Exception:  # any error is Flask's to report, the one way errors are reported
            return None

    def _acceptable(self, environ: dict[str, Any], registry: Any) -> bool:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        return (
            content_type == _JSON
            and length.isdigit()
            and 0 < int(length) <= registry.config.server.max_body_bytes
            and authorized(environ.get("HTTP_AUTHORIZATION", ""), self.token)
        )


def _predict_target(environ: dict[str, Any]) -> tuple[str, str | None] | None:
    """``(name, version or None)`` for ``POST /models/<name>[/<version>]/predict``, else ``None``."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    parts = environ.get("PATH_INFO", "").split("/")
    if len(parts) == 5 and parts[:2] == ["", "models"] and parts[4] == "predict":
        name, version = parts[2], parts[3]
    elif len(parts) == 4 and parts[:2] == ["", "models"] and parts[3] == "predict":
        name, version = parts[2], None
    else:
        return None
    if not name or version == "" or version == RESERVED_VERSION:
        return None
    return name, version
