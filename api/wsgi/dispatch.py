"""The WSGI application the server runs: put the path in its one canonical spelling, authorise
once, then hand a request to the predict pipeline when its path is a predict route, or to the Flask
app (metadata, health, docs) otherwise.

The token check, both routers, the error renderer and the request log all read the canonical path,
so no spelling of a protected route (``//models``, ``/%2Fmodels``, ``/x/../models``) gets past the
check to a route that serves it, and no spelling of an open one is answered with a redirect.

Hooks that must see every answer (request ids, metrics) wrap this one object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from api.wsgi.auth import authorized, is_protected
from api.wsgi.errors import ErrorRenderer, error_answer
from api.wsgi.pipeline import PredictPipeline, StartResponse

WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
UNAUTHORIZED = "Missing or wrong token: send 'Authorization: Bearer <token>'."


class Dispatcher:
    """Routes each request to the pipeline or the Flask app, after the token check."""

    def __init__(
        self,
        pipeline: PredictPipeline,
        flask_wsgi: WSGIApp,
        token: str | None,
        render_for_path: Callable[[str], ErrorRenderer],
    ) -> None:
        self.pipeline = pipeline
        self.flask_wsgi = flask_wsgi
        self.token = token
        self.render_for_path = render_for_path

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"] = canonical_path(environ.get("PATH_INFO", ""))
        if self.token is not None and is_protected(path):
            if not authorized(environ.get("HTTP_AUTHORIZATION", ""), self.token):
                return self._unauthorized(path, start_response)
        matched = self.pipeline.match(environ)
        if matched is None:
            return self.flask_wsgi(environ, start_response)
        return self.pipeline(environ, start_response, matched)

    def _unauthorized(self, path: str, start_response: StartResponse) -> list[bytes]:
        error = Unauthorized(UNAUTHORIZED, www_authenticate=WWWAuthenticate("Bearer"))
        status, headers, body = error_answer(error, self.render_for_path(path))
        start_response(status, headers)
        return [body]


def canonical_path(path: str) -> str:
    """``path`` with repeated slashes merged and ``.`` and ``..`` segments resolved (RFC 3986,
    5.2.4; ``..`` never climbs above the root): the one spelling the routes and the token check see.

    The server has already decoded ``%2F`` to ``/``, so an encoded slash is merged like any other.
    """
    if "//" not in path and "/." not in path:
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = bool(segments) and path.endswith(("/", "/.", "/.."))
    return "/" + "/".join(segments) + ("/" if trailing else "")
