"""The docs page's own assets, and each model version's request schema in the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Flask, send_from_directory
from flask_smorest import Api
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from api.predict import ERROR_RESPONSES
from registry.registry import ModelVersion, Registry
from schemas.features import schema_name

SWAGGER_UI_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_UI_URL = "/docs/static/"


def init_app(app: Flask) -> None:
    """Serve Swagger UI's scripts and styles from the installed package (no CDN, works offline)."""
    assets = Blueprint("swagger_ui_assets", __name__)

    @assets.route(f"{SWAGGER_UI_URL}<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_ASSETS, filename, max_age=86400)

    app.register_blueprint(assets)


def document_versions(api: Api, registry: Registry) -> None:
    """Add ``/models/<name>/<version>/predict`` for each version, with its own request schema."""
    for version in registry.all_versions():
        row = schema_name(version.model, version.version)
        api.spec.components.schema(row, schema=version.validator.schema)
        api.spec.components.schema(f"{row}Instances", _instances_schema(row))
        api.spec.components.schema(f"{row}Columns", _columns_schema(api, version))
        # flask-smorest's spec plugin reads paths from werkzeug rules, so give it a bound one.
        rule = Rule(f"/models/{version.model}/{version.version}/predict", endpoint=row)
        Map([rule])
        api.spec.path(rule=rule, operations={"post": _operation(version, row)}, parameters=[])


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _instances_schema(row: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["instances"],
        "additionalProperties": False,
        "properties": {"instances": {"type": "array", "minItems": 1, "items": _ref(row)}},
    }


def _columns_schema(api: Api, version: ModelVersion) -> dict[str, Any]:
    converter = api.ma_plugin.converter
    columns = {
        name: {"type": "array", "minItems": 1, "items": converter.field2property(field)}
        for name, field in version.validator.schema.fields.items()
    }
    required = [f.name for f in version.spec.features if f.required]
    return {
        "type": "object",
        "required": ["inputs"],
        "additionalProperties": False,
        "properties": {
            "inputs": {
                "type": "object",
                "description": "One list per feature, all of the same length",
                "properties": columns,
                "required": required,
                "additionalProperties": False,
            }
        },
    }


def _operation(version: ModelVersion, row: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "One prediction per row, in request order",
            "content": {"application/json": {"schema": _ref("PredictionResponse")}},
        }
    }
    for code, description in ERROR_RESPONSES.items():
        responses[str(code)] = {
            "description": description,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    status = "" if version.is_available else f" (failed to load: {version.failure})"
    return {
        "tags": [f"model {version.model}"],
        "summary": f"Predict with {version.model} version {version.version}{status}",
        "description": version.spec.description or "",
        "operationId": f"predict_{row}",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [_ref(row), _ref(f"{row}Instances"), _ref(f"{row}Columns")]},
                    "example": example_row(version),
                }
            },
        },
        "responses": responses,
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
