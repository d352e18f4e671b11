"""POST predictions: resolve the version, parse the envelope, validate, predict, shape."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.encoding import predictions_json
from api.jsonio import read_json_body
from api.state import current_registry
from spec.errors import TooManyRowsError
from registry.registry import Registry
from schemas.envelope import parse_envelope
from schemas.responses import PredictionResponseSchema

blp = Blueprint("predict", __name__, url_prefix="/models", description="Predictions")

ERROR_RESPONSES = {
    400: "Not valid JSON, or the features are wrong (every problem is listed)",
    404: "Unknown model or version (the message lists what exists)",
    413: "Body over the size limit, or more rows than the limit",
    415: "Body is not JSON",
    503: "The version failed to load",
}


GENERIC_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "Features of the version named in the path; see its own path "
                "below for the exact schema.",
            }
        }
    },
}


def document_errors(view):  # type: ignore[no-untyped-def]
    """Declare the request body and the error responses of a predict operation."""
    for code, description in ERROR_RESPONSES.items():
        view = blp.alt_response(code, schema="Error", description=description)(view)
    return blp.doc(requestBody=GENERIC_BODY)(view)


def serve_prediction(name: str, version: str | None) -> Response:
    """Predict with ``version`` of ``name`` (``None``: the default version) on the request body."""
    registry = current_registry()
    registry.serving(name, version)  # an unknown model or version is a 404 before the body is read
    body = prediction_json(registry, name, version, read_json_body())
    return Response(body, mimetype="application/json")


def prediction_json(registry: Registry, name: str, version: str | None, payload: Any) -> bytes:
    """The response body for a parsed request: ``{"model", "version", "predictions"}`` as JSON.

    Raises the domain errors (unknown version, invalid input, too many rows, ...) for api/errors.py.
    """
    found = registry.serving(name, version)
    envelope = parse_envelope(payload)
    if envelope.n_rows > registry.config.server.max_rows:
        raise TooManyRowsError(envelope.n_rows, registry.config.server.max_rows)
    columns = found.validator.validate(envelope)
    predictions = orjson.Fragment(predictions_json(found.predictor.predict(columns)))
    return orjson.dumps({"model": found.model, "version": found.version, "predictions": predictions})


@blp.route("/<name>/<version:version>/predict")
class VersionPredict(MethodView):
    @blp.response(200, PredictionResponseSchema)
    @document_errors
    def post(self, name: str, version: str) -> Response:
        """Predict with a version or an alias (latest, stable, ...).

        The body is one row of features, {"instances": [rows]}, {"inputs": {feature: [values]}}
        or {"data": ...}. Each model version's own request schema is documented on its path.
        """
        return serve_prediction(name, version)


@blp.route("/<name>/predict")
class DefaultPredict(MethodView):
    @blp.response(200, PredictionResponseSchema)
    @document_errors
    def post(self, name: str) -> Response:
        """Predict with the model's default version."""
        return serve_prediction(name, None)
