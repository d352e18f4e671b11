"""The envelopes the predict pipeline speaks: how a body becomes rows, how outputs become a body,
and how an error is worded. Our own ``/models`` API is one; the Open Inference Protocol (api.protocols.v2)
is another beside it (api.wsgi.pipeline.PredictPipeline takes any number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from api.protocols.column_json import parse_predict_body
from api.protocols.encoding import JSON_CONTENT, Headers, encode_predictions
from api.wsgi.errors import ErrorRenderer, registry_error_body
from registry.inference import Outputs
from registry.registry import ModelVersion
from schemas.envelope import Envelope, parse_envelope
from spec.config import ServerSettings


class PredictProtocol(Protocol):
    """One request and response format for predictions."""

    content_type_required: bool  # False: a body with no Content-Type is taken as JSON
    also_accepted: tuple[str, ...]  # Content-Types accepted besides JSON
    render_error: ErrorRenderer
    loads: Callable[[bytes], Any]  # the JSON parser; raises ValueError for what is not JSON

    def loader(self, environ: dict[str, Any], settings: ServerSettings) -> Callable[[bytes], Any]:
        """The parser of this request's body: ``loads``, unless its headers say it is framed
        otherwise. May raise an HTTP error for those headers before the body is read."""
        ...

    def envelope(self, body: Any, version: ModelVersion) -> tuple[Envelope, Any]:
        """The rows the body carries for ``version`` (whose features may tell how to read it), and
        whatever ``encode`` needs of the request (or ``None``): the protocol is the predict chain's
        decoder (registry.chain)."""
        ...

    def encode(self, version: ModelVersion, outputs: Outputs, context: Any) -> tuple[bytes, Headers]:
        """The response body for a version's outputs, and its content headers (``Content-Type``)."""
        ...


@dataclass(frozen=True)
class ModelsProtocol:
    """``POST /models/<name>[/<version>]/predict``: rows, instances or columns in; a list out."""

    content_type_required: bool = True
    also_accepted: tuple[str, ...] = ()
    render_error = staticmethod(registry_error_body)
    loads = staticmethod(parse_predict_body)  # numeric columns straight into arrays

    def loader(self, environ: dict[str, Any], settings: ServerSettings) -> Callable[[bytes], Any]:
        return self.loads

    def envelope(self, body: Any, version: ModelVersion) -> tuple[Envelope, Any]:
        return parse_envelope(body), None

    def encode(self, version: ModelVersion, outputs: Outputs, context: Any) -> tuple[bytes, Headers]:
        predictions = orjson.Fragment(encode_predictions(outputs))
        body = orjson.dumps({"model": version.model, "version": version.version, "predictions": predictions})
        return body, JSON_CONTENT
