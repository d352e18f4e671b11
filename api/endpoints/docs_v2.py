"""The Open Inference Protocol's paths in the OpenAPI document: its GET endpoints, the generic
infer paths, and one infer path per version with that version's input tensors."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from werkzeug.routing import Rule

from api.endpoints.docs import document_rules, example_row, path_parameters, ref, token_codes
from api.protocols.v2 import V2Protocol
from api.wsgi.pipeline import PredictPipeline
from registry.registry import ModelVersion, Registry
from schemas.features import schema_name
from schemas.tensors import DATATYPES, feature_datatype

TAG = "Open Inference Protocol (V2)"
V2_ERRORS = {
    400: "Not a V2 request, broken binary framing, or the features are wrong (the same messages as /models)",
    401: "Missing or wrong token (when the server requires one)",
    404: "Unknown model or version (the message lists what exists)",
    405: "Only POST is allowed",
    413: "Body over the size limit, or more rows than the limit",
    415: "Body is not JSON (no Content-Type, or application/octet-stream, is taken as a V2 body)",
    503: "The version failed to load",
}
_STRING = {"type": "string"}
BINARY_EXTENSION = (
    "Triton's binary tensor data extension (`binary_tensor_data`) is supported both ways: with an "
    "`Inference-Header-Content-Length` header, the body is a JSON header of that many bytes followed by "
    "the binary data of each input whose `parameters.binary_data_size` gives its size, in input order "
    "(numbers little-endian, BOOL one byte, BYTES elements a 4-byte little-endian length then the bytes). "
    "Outputs asked for with `parameters.binary_data` (or the request's `parameters.binary_data_output`) "
    "come back the same way: `application/octet-stream`, the JSON header's size in the "
    "`Inference-Header-Content-Length` response header, each output's size in its "
    "`parameters.binary_data_size`."
)
_BINARY_SIZE = {"type": "integer", "minimum": 0, "description": "bytes of this tensor after the JSON header"}
_SHAPE = {"type": "array", "items": {"type": "integer"}}
# OpenAPI 3.0 has no positional ``items``: that a second number must be 1 is said in words only.
_REQUEST_SHAPE = {
    "type": "array",
    "minItems": 1,
    "maxItems": 2,
    "items": {"type": "integer", "minimum": 1},
    "description": "[n] or [n, 1]: n rows (at least one), one value each",
}
_TENSOR_NAME = {"type": "string", "minLength": 1}
_TENSOR_META = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {"name": _STRING, "datatype": _STRING, "shape": _SHAPE},
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "V2Error": {"type": "object", "required": ["error"], "properties": {"error": _STRING}},
    "V2ServerMetadata": {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {
            "name": _STRING,
            "version": _STRING,
            "extensions": {"type": "array", "items": _STRING},
        },
    },
    "V2Health": {"type": "object"},
    "V2ModelReady": {
        "type": "object",
        "required": ["name", "version", "ready"],
        "properties": {"name": _STRING, "version": _STRING, "ready": {"type": "boolean"}},
    },
    "V2ModelMetadata": {
        "type": "object",
        "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": {
            "name": _STRING,
            "versions": {"type": "array", "items": _STRING},
            "platform": _STRING,
            "inputs": {"type": "array", "items": _TENSOR_META},
            "outputs": {"type": "array", "items": _TENSOR_META},
        },
    },
    "V2InferResponse": {
        "type": "object",
        "required": ["model_name", "model_version", "outputs"],
        "properties": {
            "model_name": _STRING,
            "model_version": _STRING,
            "id": _STRING,
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "`data`, or `parameters.binary_data_size` for a binary output",
                    "required": ["name", "datatype", "shape"],
                    "properties": {
                        **_TENSOR_META["properties"],
                        "data": {"type": "array"},
                        "parameters": {"type": "object", "properties": {"binary_data_size": _BINARY_SIZE}},
                    },
                },
            },
        },
    },
}
GET_ANSWERS = {
    "/v2": ("Server metadata", "V2ServerMetadata", ()),
    "/v2/health/live": ("Liveness", "V2Health", ()),
    "/v2/health/ready": ("Readiness", "V2Health", ()),
    "/v2/models/<name>": ("The default version's metadata", "V2ModelMetadata", (404,)),
    "/v2/models/<name>/versions/<version:version>": ("A version's metadata", "V2ModelMetadata", (404,)),
    "/v2/models/<name>/ready": ("Whether the default version serves", "V2ModelReady", (400, 404)),
    "/v2/models/<name>/versions/<version:version>/ready": (
        "Whether a version serves (400: it failed to load)",
        "V2ModelReady",
        (400, 404),
    ),
}


CROSS_TENSOR_RULES = (
    "One tensor per feature, named after it: every required feature once, optional ones at most "
    "once; all tensors with the same number of values, each as many as its shape's first number."
)


def document_v2(api: Api, registry: Registry, pipeline: PredictPipeline) -> None:
    """Add the V2 schemas and paths: the GET endpoints, the generic infer routes, one infer per version."""
    for name, schema in SCHEMAS.items():
        api.spec.components.schema(name, schema)
    api.spec.components.schema("V2InferRequest", infer_request_schema([_tensor_schema(_TENSOR_NAME, {})]))
    models = sorted(registry.models)
    rules, operations = [], {}
    for path, (summary, answer, codes) in GET_ANSWERS.items():
        rules.append(Rule(path, endpoint=path, defaults={}))
        codes = token_codes(codes, path)
        operations[path] = {"get": _operation(summary, answer, codes, path_parameters(path, models))}
    for route in pipeline.routes:
        if isinstance(route.protocol, V2Protocol):
            rules.append(Rule(route.rule, endpoint=route.rule, defaults={}))
            summary = "Infer (any model: each version's own path documents its tensors)"
            operations[route.rule] = {
                "post": _infer(route.rule, summary, "V2InferRequest", path_parameters(route.rule, models))
            }
    for version in registry.all_versions():
        path = f"/v2/models/{version.model}/versions/{version.version}/infer"
        name = schema_name(version.model, version.version, "V2InferRequest")
        api.spec.components.schema(name, _version_request(api, version))
        summary = f"Infer with {version.model} version {version.version}"
        rules.append(Rule(path, endpoint=path, defaults={}))
        operations[path] = {"post": _infer(path, summary, name, [], example_request(version))}
    document_rules(api, rules, operations)


def infer_request_schema(tensors: list[dict[str, Any]], outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    """A V2 infer body whose ``inputs`` are any of ``tensors`` and whose ``outputs`` name any of
    ``outputs`` (any name when none are given).

    OpenAPI 3.0 has no ``contains``: that each required feature has its tensor, once, with as many
    values as the others and as its ``shape`` says, is said in the description instead.
    """
    output_name = {"type": "string", "enum": list(outputs)} if outputs else _STRING
    binary = {"type": "boolean", "description": "answer this output as binary data"}
    output = {"name": output_name, "parameters": {"type": "object", "properties": {"binary_data": binary}}}
    every_output = {"type": "boolean", "description": "answer every output as binary data"}
    return {
        "description": f"{CROSS_TENSOR_RULES} {BINARY_EXTENSION}",
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": _STRING,
            "parameters": {"type": "object", "properties": {"binary_data_output": every_output}},
            "inputs": {"type": "array", "minItems": 1, "items": {"anyOf": tensors}},
            "outputs": {
                "type": "array",
                "items": {"type": "object", "required": ["name"], "properties": output},
            },
        },
    }


def _tensor_schema(name: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """One input tensor as ``decode_request`` takes it: ``value`` is what one row's value may be."""
    flat = {"type": "array", "minItems": 1, "items": value}
    one_per_row = {"type": "array", "minItems": 1, "maxItems": 1, "items": value}
    return {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": name,
            "shape": _REQUEST_SHAPE,
            "datatype": {"type": "string", "enum": sorted(DATATYPES)},
            "parameters": {"type": "object", "properties": {"binary_data_size": _BINARY_SIZE}},
            "data": {
                "description": "One value per row, flat ([a, b]) or nested ([[a], [b]])",
                "anyOf": [flat, {**flat, "items": one_per_row}],
            },
        },
    }


def _version_request(api: Api, version: ModelVersion) -> dict[str, Any]:
    """The version's tensors: one per feature, named after it, each value as its schema field says."""
    converter = api.ma_plugin.converter
    fields = version.validator.schema.fields
    tensors = []
    for feature in version.spec.features:
        value = converter.field2property(fields[feature.name])
        if feature.type == "category" and feature_datatype(feature) == "INT64":  # "1" is taken for 1 too
            value = {"anyOf": [value, {"type": "string", "enum": [str(c) for c in feature.categories]}]}
        tensors.append(_tensor_schema({"type": "string", "enum": [feature.name]}, value))
    return infer_request_schema(tensors, version.output_names)


def example_request(version: ModelVersion) -> dict[str, Any]:
    """A one-row V2 request for the docs' "Try it out"."""
    datatypes = {f.name: feature_datatype(f) for f in version.spec.features}
    inputs = [
        {"name": name, "shape": [1], "datatype": datatypes[name], "data": [value]}
        for name, value in example_row(version).items()
    ]
    return {"inputs": inputs}


def _infer(
    path: str, summary: str, body: str, parameters: list[dict[str, Any]], example: Any = None
) -> dict[str, Any]:
    operation = _operation(summary, "V2InferResponse", token_codes(V2_ERRORS, path), parameters)
    binary_answer = {"schema": {"type": "string", "format": "binary"}}
    operation["responses"]["200"]["content"]["application/octet-stream"] = binary_answer
    operation["responses"]["200"]["description"] += f". {BINARY_EXTENSION}"
    content: dict[str, Any] = {"schema": ref(body)}
    if example is not None:
        content["example"] = example
    request = {"required": True, "description": BINARY_EXTENSION, "content": {"application/json": content}}
    return {**operation, "requestBody": request}


def _operation(
    summary: str, answer: str, codes: tuple[int, ...], parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    responses = {"200": {"description": summary, "content": {"application/json": {"schema": ref(answer)}}}}
    for code in codes:
        responses[str(code)] = {
            "description": V2_ERRORS[code],
            "content": {"application/json": {"schema": ref("V2Error")}},
        }
    return {"tags": [TAG], "summary": summary, "parameters": parameters, "responses": responses}
