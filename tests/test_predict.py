"""POST /models/<name>/<version>/predict: envelopes, aliases, the answers of a version's estimator;
validation messages in tests/test_predict_messages.py, error statuses in tests/test_predict_errors.py."""

from __future__ import annotations

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
