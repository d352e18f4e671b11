"""The Open Inference Protocol (V2) through the Flask test client: answers, metadata, docs and the token.

Framing and value errors are in tests/test_v2_errors.py; the real clients against a real server in
tests/test_v2_clients.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from api import create_app
from api.protocols.column_json import SMALL_BODY_BYTES
from tests.conftest import FLOWER_FEATURES, dump_model

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
DIABETES = {"age": 50, "sex": 1, "bmi": 30.0, "bp": 90.0}
DIABETES.update({f"s{i}": 100.0 for i in range(1, 7)})
DATATYPES = {int: "INT64", float: "FP64", str: "BYTES", bool: "BOOL"}


def tensors(columns: dict[str, list[Any]], **extra: Any) -> dict[str, Any]:
    """A V2 request body with one ``[n]`` tensor per column, datatypes from the values."""
    inputs = [
        {"name": name, "shape": [len(values)], "datatype": DATATYPES[type(values[0])], "data": values}
        for name, values in columns.items()
    ]
    return {"inputs": inputs, **extra}


def infer(client: FlaskClient, path: str, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(path, data=orjson.dumps(body), **kwargs)
    return response.status_code, response.get_json()


def iris_columns(rows: int = 2) -> dict[str, list[Any]]:
    return {name: [value] * rows for name, value in IRIS.items()}


def test_infer_answers_labels_and_probabilities_as_predict_does(example_client: FlaskClient) -> None:
    status, body = infer(example_client, "/v2/models/iris/infer", tensors(iris_columns(3)))
    assert status == 200
    predicted = example_client.post("/models/iris/1/predict", json={"inputs": iris_columns(3)}).get_json()
    label, proba = body["outputs"]
    assert (body["model_name"], body["model_version"]) == ("iris", "1")
    assert label == {"name": "label", "datatype": "BYTES", "shape": [3], "data": ["setosa"] * 3}
    assert proba["name"] == "probabilities" and proba["shape"] == [3, 3]
    expected = [p for row in predicted["predictions"] for p in row["probabilities"].values()]
    assert proba["data"] == pytest.approx(expected, abs=1e-12)


def test_no_content_type_is_taken_as_json(example_client: FlaskClient) -> None:
    response = example_client.post("/v2/models/iris/infer", data=orjson.dumps(tensors(iris_columns())))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"


def test_integer_codes_arrive_as_bytes_or_int64(example_client: FlaskClient) -> None:
    columns = {name: [value] for name, value in DIABETES.items()}
    as_int = infer(example_client, "/v2/models/diabetes/infer", tensors(columns))
    as_bytes = infer(example_client, "/v2/models/diabetes/infer", tensors({**columns, "sex": ["1"]}))
    assert as_int[0] == as_bytes[0] == 200
    assert as_int[1]["outputs"] == as_bytes[1]["outputs"]
    assert as_int[1]["outputs"][0]["name"] == "value" and as_int[1]["outputs"][0]["datatype"] == "FP64"
    status, body = infer(example_client, "/v2/models/diabetes/infer", tensors({**columns, "sex": ["01"]}))
    assert status == 400
    assert body == {"error": "Row 0: Invalid values: sex: '01' is not a valid value; valid: 1, 2."}


def test_integer_codes_in_a_large_body_are_read_as_sent(example_client: FlaskClient) -> None:
    """Over SMALL_BODY_BYTES the INT64 "sex" tensor arrives as a NumberColumn: its codes (1, 2.0)
    and a bad one (3) must be read and worded as sent, as in a small body."""
    columns = {name: [value] * 60 for name, value in DIABETES.items()}
    columns["sex"] = [1, 2.0] * 30
    good = tensors(columns)
    assert len(orjson.dumps(good)) > SMALL_BODY_BYTES
    status, body = infer(example_client, "/v2/models/diabetes/infer", good)
    assert status == 200 and body["outputs"][0]["shape"] == [60]
    columns["sex"][41] = 3
    status, body = infer(example_client, "/v2/models/diabetes/infer", tensors(columns))
    assert (status, body) == (
        400,
        {"error": "Row 41: Invalid values: sex: 3 is not a valid value; valid: 1, 2."},
    )


def test_shape_n_by_1_nested_data_outputs_and_id(example_client: FlaskClient) -> None:
    body = tensors(iris_columns(), id="req-7", parameters={"content_type": "pd"}, outputs=[{"name": "label"}])
    for tensor in body["inputs"]:
        tensor["shape"] = [2, 1]
        tensor["data"] = [[value] for value in tensor["data"]]
    status, answer = infer(example_client, "/v2/models/iris/versions/latest/infer", body)
    assert status == 200 and answer["id"] == "req-7"
    assert [o["name"] for o in answer["outputs"]] == ["label"]


def test_server_and_model_metadata(example_client: FlaskClient) -> None:
    assert example_client.get("/v2").get_json() == {
        "name": "model-registry",
        "version": "0.1.0",
        "extensions": ["binary_tensor_data"],
    }
    assert example_client.get("/v2/health/live").status_code == 200
    assert example_client.get("/v2/health/ready").status_code == 200
    meta = example_client.get("/v2/models/diabetes/versions/1").get_json()
    assert meta["platform"] == "sklearn" and meta["versions"] == ["1"]
    assert meta["inputs"][:2] == [
        {"name": "age", "datatype": "INT64", "shape": [-1]},
        {"name": "sex", "datatype": "INT64", "shape": [-1]},
    ]
    assert meta["outputs"] == [{"name": "value", "datatype": "FP64", "shape": [-1]}]
    penguins = example_client.get("/v2/models/penguins").get_json()
    assert penguins["inputs"][0] == {"name": "island", "datatype": "BYTES", "shape": [-1]}
    assert penguins["outputs"][1] == {"name": "probabilities", "datatype": "FP64", "shape": [-1, 3]}


def test_model_ready_codes(make_store: Callable[..., Path]) -> None:
    def break_version_two(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["2"]["sha256"] = "0" * 64

    client = create_app(make_store(break_version_two)).test_client()
    assert client.get("/v2/models/flowers/ready").status_code == 200
    assert client.get("/v2/models/flowers/versions/stable/ready").get_json()["version"] == "1"
    failed = client.get("/v2/models/flowers/versions/2/ready")
    assert (
        failed.status_code == 400
        and "Version '2' of model 'flowers' is unavailable" in failed.get_json()["error"]
    )
    assert client.get("/v2/models/flowers/versions/3/ready").status_code == 404
    unavailable = client.post("/v2/models/flowers/versions/2/infer", data=b"{}")
    assert unavailable.status_code == 503 and list(unavailable.get_json()) == ["error"]


def test_a_regressor_answers_value(make_store: Callable[..., Path]) -> None:
    client = create_app(make_store()).test_client()
    row = {"area": 60.0, "rooms": 2, "garden": True}
    status, answer = infer(client, "/v2/models/prices/infer", tensors({k: [v] for k, v in row.items()}))
    expected = client.post("/models/prices/predict", json=row).get_json()["predictions"][0]["value"]
    assert status == 200
    assert answer["outputs"] == [{"name": "value", "datatype": "FP64", "shape": [1], "data": [expected]}]


def test_integer_labels_are_int64(tmp_path: Path, make_store: Callable[..., Path]) -> None:
    data = load_iris(as_frame=True)
    frame = data.data.set_axis([f["name"] for f in FLOWER_FEATURES], axis=1)
    model = LogisticRegression(max_iter=500).fit(frame, data.target)  # classes 0, 1, 2
    sha = dump_model(tmp_path / "model_store", "coded/1/model.joblib", model)
    version = {"artifact": "coded/1/model.joblib", "sha256": sha, "features": FLOWER_FEATURES}

    def add_coded(models: dict[str, Any]) -> None:
        models["coded"] = {"versions": {"1": version}}

    client = create_app(make_store(add_coded)).test_client()
    columns = {f["name"]: [1.0, 6.0] for f in FLOWER_FEATURES}
    status, answer = infer(client, "/v2/models/coded/infer", tensors(columns))
    assert status == 200 and answer["outputs"][0]["datatype"] == "INT64"
    assert answer["outputs"][0]["data"] == [0, 2]
    meta = client.get("/v2/models/coded").get_json()
    assert meta["outputs"][0] == {"name": "label", "datatype": "INT64", "shape": [-1]}


def test_the_v2_paths_are_documented(example_client: FlaskClient) -> None:
    document = example_client.get("/openapi.json").get_json()
    assert "/v2/models/{name}/versions/{version}/infer" in document["paths"]
    body = document["paths"]["/v2/models/iris/versions/1/infer"]["post"]["requestBody"]
    schema = document["components"]["schemas"][
        body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    names = [t["properties"]["name"]["enum"] for t in schema["properties"]["inputs"]["items"]["anyOf"]]
    assert names == [["sepal_length_cm"], ["sepal_width_cm"], ["petal_length_cm"], ["petal_width_cm"]]


def test_token_guards_v2_models(tiny_store: Path) -> None:
    client = create_app(tiny_store, token="s3cret").test_client()
    assert client.get("/v2/models/flowers").status_code == 401
    assert client.get("/v2/models/flowers").get_json() == {
        "error": "Missing or wrong token: send 'Authorization: Bearer <token>'."
    }
    assert client.get("/v2/models/flowers", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
