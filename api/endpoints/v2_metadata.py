"""The Open Inference Protocol's GET endpoints: server metadata, health, model metadata and readiness.

A plain Flask blueprint: api.endpoints.docs_v2 documents these paths, since their errors are V2's
``{"error"}`` rather than the body flask-smorest would document for a smorest blueprint.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from flask import Blueprint

from api.protocols.v2 import label_datatype
from api.wsgi.state import current_registry
from registry.registry import LABEL, PROBABILITIES, VALUE, ModelVersion
from schemas.tensors import feature_datatype
from spec.errors import VersionNotReadyError
from spec.versions import sort_versions

SERVER_NAME = "model-registry"
PLATFORM = "sklearn"
EXTENSIONS = ("binary_tensor_data",)  # Triton's binary tensors, in and out (api.protocols.v2_binary)

blp = Blueprint("v2", __name__, url_prefix="/v2")


def server_version() -> str:
    """The installed package's version ("unknown" when run from a tree that is not installed)."""
    try:
        return package_version(SERVER_NAME)
    except PackageNotFoundError:
        return "unknown"


@blp.get("")
def server_metadata() -> dict[str, Any]:
    return {"name": SERVER_NAME, "version": server_version(), "extensions": list(EXTENSIONS)}


@blp.get("/health/live")
def live() -> dict[str, Any]:
    return {"live": True}


@blp.get("/health/ready")
def ready() -> dict[str, Any]:
    """Ready once the registry is loaded, which happens before a worker serves anything."""
    return {"ready": True}


@blp.get("/models/<name>")
@blp.get("/models/<name>/versions/<version:version>")
def model_metadata(name: str, version: str | None = None) -> dict[str, Any]:
    """A version's inputs (one tensor per feature) and outputs; the default version without one."""
    registry = current_registry()
    found = registry.resolve(name, version)
    return {
        "name": found.model,
        "versions": sort_versions(registry.model(name).versions),
        "platform": PLATFORM,
        "inputs": [
            {"name": f.name, "datatype": feature_datatype(f), "shape": [-1]} for f in found.spec.features
        ],
        "outputs": output_tensors(found),
    }


@blp.get("/models/<name>/ready")
@blp.get("/models/<name>/versions/<version:version>/ready")
def model_ready(name: str, version: str | None = None) -> dict[str, Any]:
    """200 when the version is available; 404 when unknown, 400 when it failed to load."""
    found = current_registry().resolve(name, version)
    if not found.is_available:  # the protocol wants a 4xx here, where infer answers 503
        raise VersionNotReadyError(found.model, found.version, found.reason or "")
    return {"name": found.model, "version": found.version, "ready": True}


def output_tensors(version: ModelVersion) -> list[dict[str, Any]]:
    """The output tensors' metadata: ``label`` [-1] and ``probabilities`` [-1, k], or ``value`` [-1]."""
    classes = len(version.labels or ()) or -1
    described = {
        LABEL: {"datatype": label_datatype(version.labels), "shape": [-1]},
        PROBABILITIES: {"datatype": "FP64", "shape": [-1, classes]},
        VALUE: {"datatype": "FP64", "shape": [-1]},
    }
    return [{"name": name, **described[name]} for name in version.output_names]
