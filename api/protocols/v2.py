"""The Open Inference Protocol (V2) on the predict pipeline: ``POST /v2/models/<name>[/versions/<v>]/infer``.

Tensors in (schemas.tensors), tensors out: the outputs are written by orjson straight from the
numpy arrays the estimator returned, with no object per row. Tensors may also travel as Triton's
binary data, both ways (api.protocols.v2_binary).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from api.protocols.column_json import parse_infer_body
from api.protocols.encoding import JSON_CONTENT, Headers
from api.protocols.v2_binary import HEADER_KEY, OCTET_STREAM, binary_answer, binary_body_loader
from registry.inference import Outputs
from registry.registry import LABEL, PROBABILITIES, VALUE, ModelVersion
from schemas.envelope import Envelope
from schemas.messages import listed_names
from schemas.tensors import InferRequest, decode_request
from spec.config import ServerSettings
from spec.errors import InvalidInputError

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def render_v2_error(code: int, message: str, errors: dict[str, Any] | None) -> bytes:
    """The protocol's error body, ``{"error": message}`` (``errors`` has no place in it)."""
    return orjson.dumps({"error": message})


@functools.cache  # a version's labels are a tuple, fixed when it loads
def label_datatype(labels: tuple[Any, ...] | None) -> str:
    """INT64 for integer class labels, BOOL for booleans, FP64 for floats, BYTES otherwise."""
    kinds = {type(label) for label in labels or ()}
    for datatype, types in (("BOOL", {bool, np.bool_}), ("INT64", {int, np.int64}), ("FP64", {float})):
        if kinds and kinds <= types:
            return datatype
    return "BYTES"


@dataclass(frozen=True)
class V2Protocol:
    """Open Inference Protocol requests. tritonclient sends no Content-Type, so none is required;
    a body of binary tensors may also say it is ``application/octet-stream``."""

    content_type_required: bool = False
    also_accepted: tuple[str, ...] = (OCTET_STREAM,)
    render_error = staticmethod(render_v2_error)
    loads = staticmethod(parse_infer_body)  # numeric tensors straight into arrays

    def loader(self, environ: dict[str, Any], settings: ServerSettings) -> Callable[[bytes], Any]:
        announced = environ.get(HEADER_KEY)
        return self.loads if announced is None else binary_body_loader(announced, settings)

    def envelope(self, body: Any, version: ModelVersion) -> tuple[Envelope, InferRequest]:
        envelope, request = decode_request(body, version.spec)
        if not request.outputs:
            return envelope, request
        known = version.output_names
        unknown = [name for name in request.outputs if name not in known]
        if unknown:
            raise InvalidInputError(
                f"Unknown outputs: {listed_names(unknown)} (this version answers: {', '.join(known)})."
            )
        return envelope, request

    def encode(self, version: ModelVersion, outputs: Outputs, context: InferRequest) -> tuple[bytes, Headers]:
        tensors = _tensors(version, outputs)  # every output the version answers
        if context.outputs:
            tensors = [tensor for tensor in tensors if tensor["name"] in context.outputs]
        response: dict[str, Any] = {"model_name": version.model, "model_version": version.version}
        if context.id is not None:
            response["id"] = context.id
        response["outputs"] = tensors
        if context.all_binary or context.binary_outputs:
            return binary_answer(response, context)
        return orjson.dumps(response, option=_NUMPY), JSON_CONTENT


def _tensors(version: ModelVersion, outputs: Outputs) -> list[dict[str, Any]]:
    """The output tensors, ``data`` as numpy arrays (flat, row-major) or as the label list."""
    if outputs.values is not None:
        values = np.ascontiguousarray(outputs.values, dtype=np.float64)
        return [_tensor(VALUE, "FP64", list(values.shape), values.reshape(-1))]
    datatype = label_datatype(version.labels)
    labels = outputs.labels
    if datatype == "BYTES" and not _all_strings(version.labels):
        labels = [str(label) for label in labels]
    tensors = [_tensor(LABEL, datatype, [len(labels)], labels)]
    if outputs.probabilities is not None:
        proba = np.ascontiguousarray(outputs.probabilities, dtype=np.float64)
        tensors.append(_tensor(PROBABILITIES, "FP64", list(proba.shape), proba.reshape(-1)))
    return tensors


@functools.cache
def _all_strings(labels: tuple[Any, ...] | None) -> bool:
    return all(type(label) is str for label in labels or ())


def _tensor(name: str, datatype: str, shape: list[int], data: Any) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}
