"""GET endpoints that describe models, versions, features and valid categories."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.wsgi.state import current_registry
from registry.registry import ModelVersion, RegisteredModel
from schemas.responses import ModelDetailSchema, ModelListSchema, VersionDetailSchema
from spec.versions import sort_versions

blp = Blueprint("models", __name__, url_prefix="/models", description="Models and their versions")


@blp.route("")
class ModelList(MethodView):
    @blp.response(200, ModelListSchema)
    def get(self) -> dict[str, Any]:
        """Every model: versions, default version and aliases."""
        models = current_registry().models.values()
        return {"models": [describe_model(m) for m in models]}


@blp.route("/<name>")
class ModelDetail(MethodView):
    @blp.response(200, ModelDetailSchema)
    def get(self, name: str) -> dict[str, Any]:
        """One model, with each version's status (available, or failed with the reason)."""
        registry = current_registry()
        model = registry.model(name)
        return {
            **describe_model(model),
            "versions": [describe_status(model, v) for v in model.versions.values()],
            "reload_error": registry.reload_error,
        }


@blp.route("/<name>/<version:version>")
class VersionDetail(MethodView):
    @blp.response(200, VersionDetailSchema)
    def get(self, name: str, version: str) -> dict[str, Any]:
        """One version (or alias): task, features with their valid values, labels, artifact facts."""
        registry = current_registry()
        found = registry.resolve(name, version)
        return describe_version(registry.model(name), found)


def describe_model(model: RegisteredModel) -> dict[str, Any]:
    """A model's summary: names of its versions, default, latest and aliases."""
    return {
        "name": model.name,
        "description": model.spec.description,
        "versions": sort_versions(model.versions),
        "default_version": model.default_version,
        "latest_version": model.latest_version,
        "aliases": model.aliases,
    }


def describe_status(model: RegisteredModel, version: ModelVersion) -> dict[str, Any]:
    """A version's status and the aliases that point at it."""
    return {
        "version": version.version,
        "status": version.status,
        "reason": version.reason,
        "reload_error": version.reload_error,
        "aliases": [a for a, v in model.aliases.items() if v == version.version],
    }


def describe_version(model: RegisteredModel, version: ModelVersion) -> dict[str, Any]:
    """Everything a caller needs to build a request for the version, and where it came from."""
    artifact = version.artifact
    return {
        **describe_status(model, version),
        "model": version.model,
        "task": version.task,
        "description": version.spec.description,
        "features": [
            {
                "name": f.name,
                "type": f.type,
                "required": f.required,
                "categories": list(f.categories) if f.categories else None,
                "minimum": f.minimum,
                "maximum": f.maximum,
                "description": f.description,
            }
            for f in version.spec.features
        ],
        "labels": list(version.labels) if version.labels is not None else None,
        "artifact": vars(artifact) if artifact else None,
        "predict_url": f"/models/{version.model}/{version.version}/predict",
    }
