"""GET endpoints that describe models and versions, health, and the OpenAPI document."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api import create_app


def test_models_list(client: FlaskClient) -> None:
    body = client.get("/models").get_json()
    assert [m["name"] for m in body["models"]] == ["flowers", "shoes", "prices"]
    flowers = body["models"][0]
    assert flowers == {
        "name": "flowers",
        "description": "Iris species",
        "versions": ["1", "2"],
        "default_version": "1",
        "latest_version": "2",
        "aliases": {"stable": "1", "latest": "2"},
    }


def test_model_detail_has_each_version_status(make_store: Callable[..., Path]) -> None:
    def break_v2(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["2"]["artifact"] = "flowers/2/missing.joblib"

    client = create_app(make_store(break_v2)).test_client()
    body = client.get("/models/flowers").get_json()
    assert body["versions"][0] == {
        "version": "1",
        "status": "available",
        "reason": None,
        "reload_error": None,
        "aliases": ["stable", "latest"],
    }
    assert body["versions"][1]["status"] == "failed"
    assert body["versions"][1]["reason"].startswith("artifact: no file at ")
    assert body["latest_version"] == "1"


def test_version_detail(client: FlaskClient, tiny_store: Path) -> None:
    response = client.get("/models/shoes/1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["task"] == "classification"
    assert body["labels"] == ["large", "medium", "small"]
    assert body["features"][0] == {
        "name": "color",
        "type": "category",
        "required": True,
        "categories": ["red", "green", "blue"],
        "minimum": None,
        "maximum": None,
        "description": None,
    }
    assert body["features"][1]["minimum"] == 30 and body["features"][1]["maximum"] == 50
    assert body["features"][2]["required"] is False
    artifact = body["artifact"]
    assert artifact["path"] == "shoes/1/model.joblib"
    assert len(artifact["sha256"]) == 64
    assert artifact["estimator_type"] == "sklearn.pipeline.Pipeline"
    assert artifact["final_estimator"] == "sklearn.linear_model.LogisticRegression"
    assert artifact["sklearn_version"]
    assert body["predict_url"] == "/models/shoes/1/predict"


def test_version_detail_by_alias_resolves(client: FlaskClient) -> None:
    body = client.get("/models/flowers/stable").get_json()
    assert body["version"] == "1"
    assert body["aliases"] == ["stable"]


@pytest.mark.parametrize("path", ["/models/trees", "/models/trees/1", "/models/flowers/7"])
def test_describe_unknown_is_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["message"].startswith("Unknown")


def test_health(client: FlaskClient) -> None:
    assert client.get("/health/live").get_json() == {"status": "alive"}
    assert client.get("/health/ready").get_json() == {
        "status": "ready",
        "versions_available": 4,
        "versions_failed": 0,
        "failed": [],
        "reload_errors": [],
        "reload_error": None,
        "traffic": [],
        "message": None,
    }


def test_health_names_no_absolute_path(make_store: Callable[..., Path], tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.joblib"
    outside.write_bytes(b"not a pickle")
    (tmp_path / "model_store" / "shoes" / "fifo.joblib").parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(tmp_path / "model_store" / "shoes" / "fifo.joblib")
    (tmp_path / "model_store" / "prices" / "out.joblib").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "model_store" / "prices" / "out.joblib").symlink_to(outside)

    def break_paths(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["1"]["artifact"] = "flowers/9/missing.joblib"
        models["shoes"]["versions"]["1"]["artifact"] = "shoes/fifo.joblib"
        models["prices"]["versions"]["1"]["artifact"] = "prices/out.joblib"

    ready = create_app(make_store(break_paths)).test_client().get("/health/ready").get_json()
    assert ready["versions_failed"] == 3
    assert not any(str(tmp_path) in reason or "/model_store" in reason for reason in ready["failed"])
    assert sorted(ready["failed"]) == [
        "flowers/1: artifact: no file at 'flowers/9/missing.joblib' in the store",
        "prices/1: artifact: 'prices/out.joblib' leads outside the store",
        "shoes/1: artifact: no file at 'shoes/fifo.joblib' in the store",  # a FIFO is no file
    ]


def test_openapi_has_each_version_schema(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    shoes = spec["components"]["schemas"]["ShoesV1Features"]
    assert shoes["properties"]["color"]["enum"] == ["red", "green", "blue"]
    assert shoes["properties"]["size"]["minimum"] == 30
    assert shoes["properties"]["size"]["maximum"] == 50
    assert shoes["properties"]["material"]["nullable"] is True
    assert sorted(shoes["required"]) == ["color", "size"]
    assert shoes["additionalProperties"] is False
    columns = spec["components"]["schemas"]["ShoesV1FeaturesColumns"]
    assert columns["properties"]["inputs"]["properties"]["color"]["items"]["enum"] == ["red", "green", "blue"]
    operation = spec["paths"]["/models/shoes/1/predict"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/ShoesV1Features"} in body_schema["oneOf"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictionResponse"
    }
    assert set(operation["responses"]) >= {"200", "400", "404", "413", "415", "503"}
    for path in ["/models", "/models/{name}", "/models/{name}/{version}", "/models/{name}/{version}/predict"]:
        assert path in spec["paths"]
    assert {"PredictionResponse", "Error", "VersionDetail"} <= set(spec["components"]["schemas"])


def test_docs_page_uses_local_assets(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert 'src="/docs/static/swagger-ui-bundle.js"' in page
    assert "http://" not in page and "https://" not in page
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"]:
        response = client.get(f"/docs/static/{asset}")
        assert response.status_code == 200 and len(response.data) > 1000


def test_the_openapi_document_carries_the_package_version(client: FlaskClient) -> None:
    info = client.get("/openapi.json").get_json()["info"]
    assert info["version"] == importlib.metadata.version("model-registry")
