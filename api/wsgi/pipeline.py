"""The predict pipeline, the one way a prediction is served, as a WSGI application that does not
know Flask: route (one table), accept the body, resolve the version, run the predict chain
(registry.chain: decode, validate, predict), encode, and render any error through the protocol's
renderer. Good and bad requests take the same path: there is no second pass and no fallback.

Authorisation happens once, in front of it and of the Flask app (api.wsgi.dispatch).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, RequestRedirect, Rule

from api.protocols.encoding import Headers
from api.protocols.models import PredictProtocol
from api.wsgi.body import read_json_body
from api.wsgi.errors import error_answer
from registry.chain import predict_request
from registry.registry import ModelVersion, Registry
from spec.config import RESERVED_VERSION

StartResponse = Callable[..., Any]
# Set on the WSGI environ for hooks that run after the answer (metrics, access log).
SERVED_KEY = "model_registry.served"
MATCH_CACHE_SIZE = 1024  # distinct (path, method) pairs remembered


class VersionConverter(BaseConverter):
    """A version or alias in a path: anything but "predict", so /models/<name>/predict is the default."""

    regex = rf"(?!{RESERVED_VERSION}/?$)[^/]+"


@dataclass(frozen=True)
class PredictRoute:
    """One predict path: its werkzeug rule (``<name>``, optionally ``<version:version>``) and protocol."""

    rule: str
    protocol: PredictProtocol


@dataclass
class Served:
    """What a predict request turned out to be, for the hooks that report on it."""

    model: str | None = None
    version: str | None = None
    rows: int = 0  # rows predicted
    rejected: dict[str, int] = field(default_factory=dict)  # feature -> values refused


class PredictPipeline:
    """Serves the predict routes of one registry; ``match`` says whether a request is one of them."""

    def __init__(self, registry: Registry, routes: Iterable[PredictRoute]) -> None:
        self.registry = registry
        self.routes = list(routes)
        self.protocols = {route.rule: route.protocol for route in self.routes}
        self.url_map = Map(
            [Rule(route.rule, endpoint=route.rule, methods=["POST"]) for route in self.routes],
            converters={"version": VersionConverter},
        )
        # Bound once: the routes depend on the path alone, never on the host or scheme.
        self._adapter = self.url_map.bind("localhost")
        # werkzeug's matching is costly next to a one-row request, and a server sees the same few
        # paths again and again; the cache is bounded, so paths that never repeat cost only a miss.
        self._match_path = functools.lru_cache(maxsize=MATCH_CACHE_SIZE)(self._match_uncached)

    def match(self, environ: dict[str, Any]) -> tuple[str, Mapping[str, str]] | None:
        """``(route, path arguments)`` when the path is a predict route, else ``None``.

        A predict path with the wrong method matches too, and is answered with a 405.
        """
        return self._match_path(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET"))

    def _match_uncached(self, wsgi_path: str, method: str) -> tuple[str, Mapping[str, str]] | None:
        # WSGI gives the path as latin-1 text of its bytes; werkzeug's routes want it as UTF-8.
        path = wsgi_path.encode("latin-1").decode("utf-8", "replace")
        try:
            rule, args = self._adapter.match(path, method)
        except (NotFound, RequestRedirect):
            return None
        except MethodNotAllowed:  # the route as POST would match it, so its protocol words the 405
            rule, args = self._adapter.match(path, "POST")
        return rule, MappingProxyType(args)  # shared by every request on this path: read-only

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse, matched: tuple[str, Mapping[str, str]]
    ) -> list[bytes]:
        rule, args = matched
        protocol = self.protocols[rule]
        served = environ.setdefault(SERVED_KEY, Served())
        try:
            if environ.get("REQUEST_METHOD") != "POST":
                raise MethodNotAllowed(valid_methods=["POST"])
            found = self.registry.resolve_available(args["name"], args.get("version"))
            served.model, served.version = found.model, found.version
            body, content = self._predict(environ, protocol, found, served)
        except Exception as error:  # every failure leaves through the one renderer
            served.rejected = getattr(error, "rejected", {})
            status, headers, body = error_answer(error, protocol.render_error)
            start_response(status, headers)
            return [body]
        start_response("200 OK", [*content, ("Content-Length", str(len(body)))])
        return [body]

    def _predict(
        self, environ: dict[str, Any], protocol: PredictProtocol, found: ModelVersion, served: Served
    ) -> tuple[bytes, Headers]:
        settings = self.registry.config.server
        loads = protocol.loader(environ, settings)
        payload = read_json_body(
            environ, settings.max_body_bytes, protocol.content_type_required, loads, protocol.also_accepted
        )
        outputs, context, served.rows = predict_request(found, payload, protocol, settings)
        return protocol.encode(found, outputs, context)
