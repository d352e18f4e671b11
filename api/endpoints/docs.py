"""The docs page's own assets, and each model version's request schema in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from api.protocols.models import ModelsProtocol
from api.wsgi.auth import is_protected
from api.wsgi.pipeline import PredictPipeline, VersionConverter
from registry.registry import ModelVersion, Registry
from schemas.features import schema_name
from schemas.responses import PredictionResponseSchema

SWAGGER_UI_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_UI_URL = "/docs/static/"
VERSION_PATTERN = "^" + VersionConverter.regex + "$"


def init_app(app: Flask) -> None:
    """Serve Swagger UI's scripts and styles from the installed package (no CDN, works offline)."""
    assets = Blueprint("swagger_ui_assets", __name__)

    @assets.route(f"{SWAGGER_UI_URL}<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_ASSETS, filename, max_age=86400)

    app.register_blueprint(assets)


ERROR_RESPONSES = {
    400: "Not valid JSON, or the features are wrong (every problem is listed)",
    401: "Missing or wrong token (when the server requires one)",
    404: "Unknown model or version (the message lists what exists)",
    405: "Only POST is allowed",
    413: "Body over the size limit, or more rows than the limit",
    415: "Body is not JSON",
    503: "The version failed to load",
}
GENERIC_NOTE = (
    "The body must fit the model and version named in the path: each version's own path below "
    "documents its exact schema (JSON Schema cannot tie a body to a path parameter). Columns in "
    "'inputs' must all have the same length."
)


def document_predict(api: Api, registry: Registry, pipeline: PredictPipeline) -> None:
    """Document the pipeline's predict routes, and one path per version with its own request schema."""
    api.spec.components.schema("PredictionResponse", schema=PredictionResponseSchema)
    bodies, rules, operations = [], [], {}
    for version in registry.all_versions():
        row = schema_name(version.model, version.version)
        api.spec.components.schema(row, schema=version.validator.schema)
        api.spec.components.schema(f"{row}Instances", _instances_schema(row))
        api.spec.components.schema(f"{row}Columns", _columns_schema(api, version))
        bodies += [ref(row), ref(f"{row}Instances"), ref(f"{row}Columns")]
        rules.append(Rule(f"/models/{version.model}/{version.version}/predict", endpoint=row))
        operations[row] = _operation(version, row)
    models = sorted(registry.models)
    for route in pipeline.routes:
        if not isinstance(route.protocol, ModelsProtocol):
            continue  # another protocol's routes document themselves (api.endpoints.docs_v2)
        rules.append(Rule(route.rule, endpoint=route.rule, defaults={}))
        operations[route.rule] = _generic_operation(route.rule, models, bodies)
    document_rules(api, rules, {endpoint: {"post": operation} for endpoint, operation in operations.items()})


def document_rules(api: Api, rules: list[Rule], operations: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Add each rule's path to the document with ``operations[rule.endpoint]`` (method -> operation);
    an operation's ``parameters`` become the path's."""
    # flask-smorest's spec plugin turns werkzeug rules into paths, and reads only rules bound to a map.
    documented = Map(rules, converters={"version": VersionConverter})
    for rule in documented.iter_rules():
        methods = operations[rule.endpoint]
        parameters = [p for operation in methods.values() for p in operation.pop("parameters", [])]
        api.spec.path(rule=rule, operations=methods, parameters=parameters)


def _generic_operation(rule: str, models: list[str], bodies: list[dict[str, str]]) -> dict[str, Any]:
    with_version = "<version:version>" in rule
    summary = "Predict with a version or an alias (latest, stable, ...)"
    if not with_version:
        summary = "Predict with the model's default version"
    body = {"anyOf": bodies, "description": GENERIC_NOTE}
    return {
        "tags": ["predict"],
        "summary": summary,
        "description": GENERIC_NOTE,
        "operationId": "predict_version" if with_version else "predict_default",
        "parameters": path_parameters(rule, models),
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": _responses(rule),
    }


def path_parameters(rule: str, models: list[str]) -> list[dict[str, Any]]:
    """The path parameters of a werkzeug ``rule``: ``name`` (one of ``models``) and ``version``."""
    parameters = []
    if "<name>" in rule:
        name = {"type": "string", "enum": models}
        parameters.append({"name": "name", "in": "path", "required": True, "schema": name})
    if "<version:version>" in rule:
        version = {"type": "string", "pattern": VERSION_PATTERN, "description": "A version or an alias"}
        parameters.append({"name": "version", "in": "path", "required": True, "schema": version})
    return parameters


def token_codes(codes: Iterable[int], path: str) -> tuple[int, ...]:
    """``codes`` with 401 when the route table guards ``path`` (api.wsgi.routes), without it otherwise."""
    return tuple(sorted({*codes, 401} if is_protected(path) else set(codes) - {401}))


def _responses(path: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "One prediction per row, in request order",
            "content": {"application/json": {"schema": ref("PredictionResponse")}},
        }
    }
    for code in token_codes(ERROR_RESPONSES, path):
        responses[str(code)] = {
            "description": ERROR_RESPONSES[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
    return responses


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _instances_schema(row: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["instances"],
        "additionalProperties": False,
        "properties": {"instances": {"type": "array", "minItems": 1, "items": ref(row)}},
    }


def _columns_schema(api: Api, version: ModelVersion) -> dict[str, Any]:
    converter = api.ma_plugin.converter
    schema = version.validator.schema
    columns = {
        name: {"type": "array", "minItems": 1, "items": converter.field2property(field)}
        for name, field in schema.fields.items()
    }
    required = [f.name for f in version.spec.features if f.required]
    return {
        "type": "object",
        "required": ["inputs"],
        "additionalProperties": False,
        "properties": {
            "inputs": {
                "type": "object",
                "description": "One list per feature, all of the same length (JSON Schema cannot "
                "say so; ragged columns get a 400)",
                "properties": columns,
                "required": required,
                "additionalProperties": False,
            }
        },
    }


def _operation(version: ModelVersion, row: str) -> dict[str, Any]:
    status = "" if version.is_available else f" (failed to load: {version.reason})"
    return {
        "tags": [f"model {version.model}"],
        "summary": f"Predict with {version.model} version {version.version}{status}",
        "description": version.spec.description or "",
        "operationId": f"predict_{row}",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [ref(row), ref(f"{row}Instances"), ref(f"{row}Columns")]},
                    "example": example_row(version),
                }
            },
        },
        "responses": _responses(f"/models/{version.model}/{version.version}/predict"),
    }


def example_row(version: ModelVersion) -> dict[str, Any]:
    """A valid row for the docs' "Try it out": first category, mid-range numbers."""
    row: dict[str, Any] = {}
    for feature in version.spec.features:
        if feature.type == "category":
            row[feature.name] = feature.categories[0]
        elif feature.type == "boolean":
            row[feature.name] = False
        else:
            low = feature.minimum if feature.minimum is not None else 0
            high = feature.maximum if feature.maximum is not None else low + 2
            middle = (low + high) / 2
            row[feature.name] = round(middle) if feature.type == "integer" else middle
    return row
