"""POST /models/.../predict: the error statuses (404, 405, 413, 415, 500, 503) and their JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api import create_app
from tests.test_predict import FLOWER, post


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/models/trees/1/predict", "Unknown model 'trees'. Models: flowers, prices, shoes."),
        (
            "/models/flowers/9/predict",
            "Unknown version '9' of model 'flowers'. Versions: 1, 2. Aliases: latest, stable.",
        ),
        ("/models/trees/predict", "Unknown model 'trees'. Models: flowers, prices, shoes."),
    ],
)
def test_unknown_model_or_version_is_404_listing_what_exists(
    client: FlaskClient, path: str, message: str
) -> None:
    status, error = post(client, path, FLOWER)
    assert (status, error) == (404, {"code": 404, "status": "Not Found", "message": message})


def test_body_that_is_not_json(client: FlaskClient) -> None:
    response = client.post("/models/flowers/1/predict", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The body is not valid JSON: ")
    response = client.post("/models/flowers/1/predict", data=b"\xff\xfe", content_type="application/json")
    assert response.status_code == 400
    response = client.post("/models/flowers/1/predict", data="", content_type="application/json")
    assert response.get_json()["message"] == "The body is empty; send a JSON object of features."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str | None) -> None:
    response = client.post("/models/flowers/1/predict", data=json.dumps(FLOWER), content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["message"].startswith("The body must be JSON sent with")


def test_body_over_the_limit_is_413(make_store: Callable[..., Path]) -> None:
    client = create_app(make_store(server={"max_body_bytes": 200})).test_client()
    response = client.post("/models/flowers/1/predict", json={"instances": [FLOWER] * 5})
    assert response.status_code == 413
    assert response.get_json() == {
        "code": 413,
        "status": "Request Entity Too Large",
        "message": "The body is larger than the limit of 200 bytes (server.max_body_bytes).",
    }
    assert client.post("/models/flowers/1/predict", json=FLOWER).status_code == 200


def test_wrong_method_is_405_json(client: FlaskClient) -> None:
    response = client.get("/models/flowers/1/predict")
    assert response.status_code == 405
    assert response.get_json()["status"] == "Method Not Allowed"
    assert "POST" in response.headers["Allow"]


def test_unknown_path_is_404_json(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/json"


def test_failed_version_answers_503_while_others_serve(make_store: Callable[..., Path]) -> None:
    def break_v2(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["2"]["sha256"] = "0" * 64

    client = create_app(make_store(break_v2)).test_client()
    status, error = post(client, "/models/flowers/2/predict", FLOWER)
    assert status == 503
    assert error["message"].startswith("Version '2' of model 'flowers' is unavailable: sha256: mismatch")
    assert post(client, "/models/flowers/1/predict", FLOWER)[0] == 200
    # latest falls back to the highest version that loaded
    assert post(client, "/models/flowers/latest/predict", FLOWER)[1]["version"] == "1"


def test_estimator_failure_is_a_json_500(make_store: Callable[..., Path], tmp_path: Path) -> None:
    """A model that cannot take a missing value it was declared to accept fails cleanly, no traceback."""

    def optional_size(models: dict[str, Any]) -> None:
        models["prices"]["versions"]["1"]["features"][0]["required"] = False

    client = create_app(make_store(optional_size)).test_client()
    status, error = post(client, "/models/prices/1/predict", {"rooms": 2, "garden": True})
    assert status == 500
    assert error["message"].startswith("Model 'prices' version '1' failed to predict: ValueError")
    assert "Traceback" not in json.dumps(error)
