"""The home page at ``/``: every model, version, status and feature, with a curl example, as HTML.

It is for people, so it is a plain Flask blueprint (not in the OpenAPI document), rendered on the
server with autoescaping (names and descriptions come from the config file) and no external assets.
It stays open when a token is set, like /docs and /openapi.json, which show the same metadata.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template
from markupsafe import Markup

from api.endpoints.docs import example_row
from api.wsgi.auth import TOKEN_ENV
from api.wsgi.state import current_registry
from registry.registry import ModelVersion
from spec.features import FeatureSpec

bp = Blueprint("home", __name__, template_folder="templates")


@dataclass(frozen=True)
class FeatureRow:
    """One feature as the page shows it: values already turned into text."""

    name: str
    type: str
    required: bool
    categories: str
    bounds: str
    description: str


@bp.get("/")
def home() -> tuple[str, int]:
    """The page: every model, its versions and how to call them."""
    status = 200
    return render_template(
        "home.html",
        registry=current_registry(),
        feature_rows=feature_rows,
        curl_example=curl_example,
        token_set=current_app.config.get("REGISTRY_TOKEN") is not None,
    ), status


def feature_rows(version: ModelVersion) -> list[FeatureRow]:
    """The version's features, in request order."""
    return [
        FeatureRow(
            name=f.name,
            type=f.type,
            required=f.required,
            categories=", ".join(str(c) for c in f.categories or ()),
            bounds=bounds_text(f),
            description=f.description or "",
        )
        for f in version.spec.features
    ]


def bounds_text(feature: FeatureSpec) -> str:
    """``0 to 100``, ``≥ 1``, ``≤ 20`` or empty, as the inclusive bounds say."""
    low, high = feature.minimum, feature.maximum
    if low is not None and high is not None:
        return f"{number_text(low)} to {number_text(high)}"
    if low is not None:
        return f"≥ {number_text(low)}"
    if high is not None:
        return f"≤ {number_text(high)}"
    return ""


def number_text(value: float) -> str:
    """``20`` for 20.0, ``0.5`` for 0.5: bounds are read from YAML as floats."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def curl_example(version: ModelVersion) -> Markup:
    """A one-line curl command that predicts one valid row (shell-quoted, never the token itself).

    The URL's origin is an empty ``span.origin`` that the page's script fills in from the address
    the browser used: the ``Host`` header is the client's to choose, so it is never written into
    the page. Without scripts the command shows the path alone.
    """
    path = shlex.quote(f"/models/{version.model}/{version.version}/predict")
    parts = ["-H 'Content-Type: application/json'"]
    if current_app.config.get("REGISTRY_TOKEN") is not None:
        parts.append(f'-H "Authorization: Bearer ${TOKEN_ENV}"')
    parts.append(f"-d {shlex.quote(json.dumps(example_row(version)))}")
    return Markup('curl -s -X POST <span class="origin"></span>{} {}').format(path, " ".join(parts))
