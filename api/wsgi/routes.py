"""Every route the server answers, declared once: its path rule, methods, the protocol whose error
body it answers with, whether the token guards it, and whether the predict pipeline serves it.

Derived from this table, once, when the module loads: the paths the token guards (api.wsgi.auth),
the protocol and error renderer of any path, routed or not (a failure under ``/v2`` answers
``{"error"}``, anywhere else our API's body), the pipeline's predict routes, and the 401 of each
documented operation (api.endpoints.docs, docs_v2). The Flask blueprints (api.endpoints) serve the
other rules; tests/test_routes.py checks that the app serves exactly the rules declared here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from api.protocols.models import ModelsProtocol, PredictProtocol
from api.protocols.v2 import V2Protocol
from api.wsgi.errors import ErrorRenderer, registry_error_body
from api.wsgi.pipeline import PredictRoute


class Speaks(StrEnum):
    """The protocol of a route: whose error body answers a failure on it."""

    MODELS = "models"  # our /models API
    V2 = "v2"  # the Open Inference Protocol: {"error": message}
    NONE = "none"  # pages, health, metrics, docs: our API's error body


@dataclass(frozen=True)
class Route:
    """One rule the server answers (werkzeug syntax: ``<name>``, ``<version:version>``)."""

    rule: str
    speaks: Speaks
    guarded: bool  # needs the token, when the server has one
    methods: tuple[str, ...] = ("GET",)
    predict: bool = False  # served by the predict pipeline rather than Flask


def _group(
    speaks: Speaks, guarded: bool, *rules: str, methods: tuple[str, ...] = ("GET",), predict: bool = False
) -> tuple[Route, ...]:
    """Routes sharing a protocol, a guard, methods and a server."""
    return tuple(Route(rule, speaks, guarded, methods, predict) for rule in rules)


OPEN, GUARDED, POST = False, True, ("POST",)
ROUTES: tuple[Route, ...] = (
    # pages, health, metrics and docs
    *_group(Speaks.NONE, OPEN, "/", "/docs", "/docs/static/<path:filename>", "/openapi.json"),
    *_group(Speaks.NONE, OPEN, "/metrics", "/health/live", "/health/ready"),
    # our API
    *_group(Speaks.MODELS, GUARDED, "/models", "/models/<name>", "/models/<name>/<version:version>"),
    *_group(
        Speaks.MODELS,
        GUARDED,
        "/models/<name>/<version:version>/predict",
        "/models/<name>/predict",
        methods=POST,
        predict=True,
    ),
    # the Open Inference Protocol
    *_group(Speaks.V2, OPEN, "/v2", "/v2/health/live", "/v2/health/ready"),
    *_group(Speaks.V2, GUARDED, "/v2/models/<name>", "/v2/models/<name>/versions/<version:version>"),
    *_group(
        Speaks.V2, GUARDED, "/v2/models/<name>/ready", "/v2/models/<name>/versions/<version:version>/ready"
    ),
    *_group(
        Speaks.V2,
        GUARDED,
        "/v2/models/<name>/versions/<version:version>/infer",
        "/v2/models/<name>/infer",
        methods=POST,
        predict=True,
    ),
)
PROTOCOLS: dict[Speaks, PredictProtocol] = {Speaks.MODELS: ModelsProtocol(), Speaks.V2: V2Protocol()}
RENDERERS: dict[Speaks, ErrorRenderer] = {
    Speaks.MODELS: ModelsProtocol.render_error,
    Speaks.V2: V2Protocol.render_error,
    Speaks.NONE: registry_error_body,
}


def static_prefix(rule: str) -> str:
    """The part of ``rule`` before its first argument's segment: ``/v2/models`` of ``/v2/models/<name>``."""
    return rule.split("<", 1)[0].rstrip("/") or "/"


def first_segment(path: str) -> str:
    """The first segment of a path: ``v2`` of ``/v2/models/iris``, ``""`` of ``/``."""
    return path.lstrip("/").split("/", 1)[0]


def guarded_prefixes(routes: tuple[Route, ...]) -> tuple[str, ...]:
    """The prefixes every path the token guards starts with, and no open route does.

    Raises ``ValueError`` when an open route starts with the prefix of a guarded one.
    """
    prefixes = sorted({static_prefix(route.rule) for route in routes if route.guarded})
    prefixes = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
    for route in routes:
        if not route.guarded and route.rule.startswith(tuple(prefixes)):
            raise ValueError(f"{route.rule} is open but starts like a guarded route")
    return tuple(prefixes)


def segment_protocols(routes: tuple[Route, ...]) -> dict[str, Speaks]:
    """The protocol of each first path segment owned by one (``v2``: V2); raises ``ValueError`` when
    routes of two protocols share a first segment."""
    found: dict[str, set[Speaks]] = {}
    for route in routes:
        found.setdefault(first_segment(route.rule), set()).add(route.speaks)
    mixed = {segment: kinds for segment, kinds in found.items() if len(kinds) > 1}
    if mixed:
        raise ValueError(f"routes of several protocols share a first segment: {mixed}")
    return {segment: kinds.pop() for segment, kinds in found.items()}


GUARDED_PREFIXES = guarded_prefixes(ROUTES)
SEGMENT_PROTOCOLS = segment_protocols(ROUTES)
PREDICT_ROUTES = tuple(PredictRoute(r.rule, PROTOCOLS[r.speaks]) for r in ROUTES if r.predict)


def protocol_of(path: str) -> Speaks:
    """The protocol a path belongs to, routed or not, by its first segment (``/v2...``: V2)."""
    return SEGMENT_PROTOCOLS.get(first_segment(path), Speaks.NONE)


def render_error_for(path: str) -> ErrorRenderer:
    """The error renderer of the protocol a path belongs to: ``{"error"}`` under /v2."""
    return RENDERERS[protocol_of(path)]


def undeclared(served: Iterable[tuple[str, Iterable[str]]]) -> list[str]:
    """What differs between the table's Flask routes and ``served`` ((rule, methods) of the app's URL
    map), one line each; empty when they agree. HEAD and OPTIONS, which Flask adds, are ignored."""
    declared = {(route.rule, tuple(sorted(route.methods))) for route in ROUTES if not route.predict}
    found = {(rule, tuple(sorted(set(methods) - {"HEAD", "OPTIONS"}))) for rule, methods in served}
    return [f"served, not declared: {r} {m}" for r, m in sorted(found - declared)] + [
        f"declared, not served: {r} {m}" for r, m in sorted(declared - found)
    ]
