"""POST /models/<name>/<version>/predict: envelopes, aliases, validation messages, error codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier

from api import create_app
from tests.conftest import dump_model

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
VIRGINICA = {"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.8, "petal_width": 2.2}
SHOE = {"color": "blue", "size": 46, "material": "leather"}
HOUSE = {"area": 100.0, "rooms": 3, "garden": True}


def post(client: FlaskClient, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def test_flat_row_classifier_with_probabilities(client: FlaskClient) -> None:
    status, body = post(client, "/models/flowers/1/predict", FLOWER)
    assert status == 200
    assert body["model"] == "flowers" and body["version"] == "1"
    [prediction] = body["predictions"]
    assert prediction["label"] == "setosa"
    assert set(prediction["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
    assert max(prediction["probabilities"], key=prediction["probabilities"].get) == "setosa"


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [FLOWER, VIRGINICA]},
        {"inputs": {k: [FLOWER[k], VIRGINICA[k]] for k in FLOWER}},
        {"data": {k: [FLOWER[k], VIRGINICA[k]] for k in FLOWER}},
        {"data": [FLOWER, VIRGINICA]},
        {"inputs": [FLOWER, VIRGINICA]},
    ],
    ids=["instances", "inputs-columns", "data-columns", "data-rows", "inputs-rows"],
)
def test_batch_envelopes_keep_request_order(client: FlaskClient, body: dict[str, Any]) -> None:
    status, result = post(client, "/models/flowers/1/predict", body)
    assert status == 200
    assert [p["label"] for p in result["predictions"]] == ["setosa", "virginica"]


@pytest.mark.parametrize("body", [{"data": FLOWER}, {"inputs": FLOWER}], ids=["data", "inputs"])
def test_single_row_in_an_envelope(client: FlaskClient, body: dict[str, Any]) -> None:
    status, result = post(client, "/models/flowers/1/predict", body)
    assert status == 200
    assert [p["label"] for p in result["predictions"]] == ["setosa"]


def test_regressor_gives_values(client: FlaskClient) -> None:
    batch = {"instances": [HOUSE, {**HOUSE, "garden": False}]}
    status, body = post(client, "/models/prices/1/predict", batch)
    assert status == 200
    values = [p["value"] for p in body["predictions"]]
    assert values == pytest.approx([2 * 100 + 10 * 3 + 5, 2 * 100 + 10 * 3])
    assert "label" not in body["predictions"][0]


@pytest.mark.parametrize(
    ("version", "served"),
    [("1", "1"), ("2", "2"), ("stable", "1"), ("latest", "2")],
)
def test_versions_and_aliases(client: FlaskClient, version: str, served: str) -> None:
    status, body = post(client, f"/models/flowers/{version}/predict", FLOWER)
    assert status == 200
    assert body["version"] == served


def test_unversioned_path_uses_default_version(client: FlaskClient) -> None:
    status, body = post(client, "/models/flowers/predict", FLOWER)
    assert (status, body["version"]) == (200, "1")


def test_optional_feature_null_or_absent_reaches_the_model_as_missing(client: FlaskClient) -> None:
    absent = {k: v for k, v in SHOE.items() if k != "material"}
    _, with_null = post(client, "/models/shoes/1/predict", {**absent, "material": None})
    _, without = post(client, "/models/shoes/1/predict", absent)
    _, with_value = post(client, "/models/shoes/1/predict", SHOE)
    assert with_null == without
    assert with_null["predictions"][0]["probabilities"] != with_value["predictions"][0]["probabilities"]


def test_integer_feature_accepts_integral_float(client: FlaskClient) -> None:
    status, _ = post(client, "/models/shoes/1/predict", {**SHOE, "size": 46.0})
    assert status == 200


def test_every_problem_is_named_at_once(client: FlaskClient) -> None:
    body = {"color": "pink", "size": "big", "shade": 1, "material": 3}
    status, error = post(client, "/models/shoes/1/predict", body)
    assert status == 400
    assert error == {
        "code": 400,
        "status": "Bad Request",
        "message": "Unknown features: shade (expected: color, size, material). Invalid values: "
        "color: 'pink' is not a valid value; valid: red, green, blue. size: 'big' is not an integer. "
        "material: 3 is not a valid value; valid: leather, canvas.",
        "errors": {
            "color": ["'pink' is not a valid value; valid: red, green, blue."],
            "size": ["'big' is not an integer."],
            "material": ["3 is not a valid value; valid: leather, canvas."],
            "shade": ["Unknown field."],
        },
    }


def test_missing_features_are_listed(client: FlaskClient) -> None:
    status, error = post(client, "/models/flowers/1/predict", {"sepal_length": 5.0})
    assert status == 400
    assert error["message"] == "Missing features: sepal_width, petal_length, petal_width."
    assert error["errors"]["petal_width"] == ["Missing data for required field."]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "True is not a number."),
        ("5.1", "'5.1' is not a number."),
        (None, "null is not allowed; this feature is required."),
        ([5.1], "[5.1] is not a number."),
        (-1, "-1.0 is out of range; valid: 0 to 20."),
        (25, "25.0 is out of range; valid: 0 to 20."),
        (1e308 * 10, None),  # json.dumps writes Infinity: not JSON, refused by the parser
    ],
)
def test_bad_numbers(client: FlaskClient, value: Any, message: str | None) -> None:
    response = client.post(
        "/models/flowers/1/predict",
        data=json.dumps({**FLOWER, "sepal_length": value}),
        content_type="application/json",
    )
    error = response.get_json()
    assert response.status_code == 400
    if message is None:
        assert error["message"].startswith("The body is not valid JSON")
    else:
        assert error["errors"] == {"sepal_length": [message]}


@pytest.mark.parametrize(
    ("literal", "start"),
    [("NaN", "The body is not valid JSON"), ("1e400", "The body is not valid JSON")],
)
def test_non_finite_literals_are_refused(client: FlaskClient, literal: str, start: str) -> None:
    text = json.dumps(FLOWER).replace("5.1", literal)
    response = client.post("/models/flowers/1/predict", data=text, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(start)


def test_bounds_on_an_integer_and_a_boolean_type(client: FlaskClient) -> None:
    status, error = post(client, "/models/prices/1/predict", {"area": 10, "rooms": 0, "garden": "yes"})
    assert status == 400
    assert error["errors"] == {
        "rooms": ["0 is out of range; valid: 1 to 20."],
        "garden": ["'yes' is not true or false."],
    }


def test_batch_errors_are_keyed_by_row(client: FlaskClient) -> None:
    rows = [FLOWER, {**FLOWER, "petal_width": "wide"}, FLOWER, {"sepal_length": 1}, "not a row"]
    status, error = post(client, "/models/flowers/1/predict", {"instances": rows})
    assert status == 400
    assert error["message"] == (
        "Row 1: Invalid values: petal_width: 'wide' is not a number. "
        "Row 3: Missing features: sepal_width, petal_length, petal_width. "
        "Row 4: A row must be a JSON object of features."
    )
    assert set(error["errors"]) == {"1", "3", "4"}
    assert error["errors"]["1"] == {"petal_width": ["'wide' is not a number."]}


def test_long_batch_message_is_capped_but_errors_are_complete(client: FlaskClient) -> None:
    rows = [{**FLOWER, "sepal_length": -1}] * 25
    status, error = post(client, "/models/flowers/1/predict", {"instances": rows})
    assert status == 400
    assert error["message"].endswith("And 15 more rows with problems (see errors).")
    assert len(error["errors"]) == 25


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([FLOWER], "The body must be a JSON object"),
        ({"instances": []}, "'instances' is empty: send at least one row."),
        ({"instances": FLOWER}, "'instances' must be a list of rows."),
        ({"inputs": 3}, "'inputs' must be an object of columns or a list of rows."),
        ({"instances": [FLOWER], "extra": 1}, "Unexpected keys beside 'instances': extra."),
        (
            {"inputs": {"sepal_length": [1, 2], "sepal_width": [1]}},
            "The columns in 'inputs' must have the same length; got sepal_length: 2, sepal_width: 1.",
        ),
        (
            {"inputs": {"sepal_length": [1, 2], "sepal_width": 1}},
            "'inputs' mixes columns (lists) with single values: sepal_width.",
        ),
        ({"inputs": {"sepal_length": []}}, "'inputs' is empty: send at least one row."),
    ],
)
def test_envelope_mistakes(client: FlaskClient, body: Any, message: str) -> None:
    status, error = post(client, "/models/flowers/1/predict", body)
    assert status == 400
    assert error["message"].startswith(message)


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


def _rows_around(row: dict[str, float], n: int) -> list[dict[str, float]]:
    return [{k: round(v * (0.6 + 0.05 * i), 3) for k, v in row.items()} for i in range(n)]


def test_labels_are_the_estimators_own(client: FlaskClient, trained: dict[str, Any]) -> None:
    """One predict_proba call gives labels and probabilities; they match the estimator's predict()."""
    rows = _rows_around(VIRGINICA, 16)
    _, body = post(client, "/models/flowers/1/predict", {"instances": rows})
    expected = trained["flowers"].predict(pd.DataFrame(rows))
    assert [p["label"] for p in body["predictions"]] == expected.tolist()
    shoes = [
        {"color": c, "size": s, "material": m}
        for c in ["red", "blue"]
        for s in (36, 47)
        for m in ("canvas", None)
    ]
    _, body = post(client, "/models/shoes/1/predict", {"instances": shoes})
    frame = pd.DataFrame(shoes).fillna(np.nan)
    assert [p["label"] for p in body["predictions"]] == trained["shoes"].predict(frame).tolist()


def test_classifier_whose_labels_are_not_the_probability_argmax(
    make_store: Callable[..., Path], tmp_path: Path, trained: dict[str, Any]
) -> None:
    """A thresholded classifier says "yes" only above 0.9: its own labels are kept, not the argmax."""
    data = pd.DataFrame(_rows_around(VIRGINICA, 30) + _rows_around(FLOWER, 30))
    is_virginica = np.where(trained["flowers"].predict(data) == "virginica", "yes", "no")
    strict = FixedThresholdClassifier(LogisticRegression(), threshold=0.9).fit(data, is_virginica)
    digest = dump_model(tmp_path / "model_store", "flowers/strict.joblib", strict)

    def use_strict(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["1"].update(artifact="flowers/strict.joblib", sha256=digest)

    client = create_app(make_store(use_strict)).test_client()
    rows = _rows_around(VIRGINICA, 20) + _rows_around(FLOWER, 20)
    _, body = post(client, "/models/flowers/1/predict", {"instances": rows})
    labels = [p["label"] for p in body["predictions"]]
    argmax = [max(p["probabilities"], key=p["probabilities"].get) for p in body["predictions"]]
    assert labels == strict.predict(pd.DataFrame(rows)).tolist()
    assert labels != argmax  # the threshold really changed some labels
