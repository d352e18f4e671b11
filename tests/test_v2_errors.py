"""The Open Inference Protocol (V2) through the Flask test client: malformed requests, bad tensors
and values, hostile bodies, and the 4xx statuses, each a bounded ``{"error"}``."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from api.protocols.column_json import SMALL_BODY_BYTES
from tests.test_v2 import IRIS, infer, iris_columns, tensors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The body must be a JSON object"),
        ({"inputs": []}, "'inputs' must be a non-empty list of tensors"),
        ({"inputs": "x"}, "'inputs' must be a non-empty list of tensors"),
        ({"inputs": [1]}, "inputs[0] must be an object"),
        ({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}, "inputs[0]: 'name' must be"),
        ({"id": 5, **tensors(iris_columns())}, "'id' must be a string."),
        ({"parameters": [], **tensors(iris_columns())}, "The request: 'parameters' must be an object."),
        ({"outputs": [{"nom": "label"}], **tensors(iris_columns())}, "'outputs' must be a list of objects"),
        ({"outputs": [{"name": "x"}], **tensors(iris_columns())}, "Unknown outputs: x (this version answers"),
    ],
)
def test_malformed_requests_are_400s(example_client: FlaskClient, body: Any, message: str) -> None:
    status, answer = infer(example_client, "/v2/models/iris/infer", body)
    assert status == 400
    assert list(answer) == ["error"] and answer["error"].startswith(message)


def broken(tensor: dict[str, Any], **change: Any) -> dict[str, Any]:
    body = tensors(iris_columns())
    body["inputs"][0] = {**body["inputs"][0], **tensor, **change}
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (broken({}, shape=[3]), "The tensor sepal_length_cm: its shape holds 3 values but its data has 2."),
        (broken({}, shape=[2, 2]), "The tensor sepal_length_cm: shape must be [n] or [n, 1]"),
        (broken({}, shape=[0], data=[]), "The tensor sepal_length_cm: shape [0] holds no rows"),
        (broken({}, shape="2"), "The tensor sepal_length_cm: shape must be [n] or [n, 1]"),
        (broken({}, datatype="FP8"), "The tensor sepal_length_cm: datatype 'FP8' is not one of"),
        (broken({}, datatype={"a": 1}), "The tensor sepal_length_cm: datatype {'a': 1} is not one of"),
        (broken({}, data="x"), "The tensor sepal_length_cm: 'data' must be a list"),
        (broken({}, data=[[1.0, 2.0], [3.0]]), "The tensor sepal_length_cm: nested data must hold one value"),
        (broken({}, parameters=3), "The tensor sepal_length_cm: 'parameters' must be an object."),
        (broken({}, shape=[3], data=[1.0, 2.0, 3.0]), "The input tensors must have the same number of rows"),
    ],
)
def test_bad_tensors_are_400s(example_client: FlaskClient, body: Any, message: str) -> None:
    status, answer = infer(example_client, "/v2/models/iris/infer", body)
    assert status == 400
    assert answer["error"].startswith(message)


def test_a_later_tensor_of_another_length_is_refused_and_every_length_is_named(
    example_client: FlaskClient,
) -> None:
    body = tensors(iris_columns())
    body["inputs"][-1] = {**body["inputs"][-1], "shape": [3], "data": [0.1, 0.2, 0.3]}
    status, answer = infer(example_client, "/v2/models/iris/infer", body)
    assert status == 400
    assert answer["error"].startswith("The input tensors must have the same number of rows")
    assert "petal_width_cm: 3" in answer["error"] and "sepal_length_cm: 2" in answer["error"]


def test_values_are_checked_with_the_predict_messages(example_client: FlaskClient) -> None:
    columns = {
        "island": ["Mars"],
        "bill_length_mm": ["40"],
        "bill_depth_mm": [18.0],
        "flipper_length_mm": [190.0],
    }
    status, answer = infer(example_client, "/v2/models/penguins/infer", tensors({**columns, "beak": [1.0]}))
    assert status == 400
    assert answer == {
        "error": "Row 0: Unknown features: beak (expected: island, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g, sex). Invalid values: island: 'Mars' is not a valid value; "
        "valid: Biscoe, Dream, Torgersen. bill_length_mm: '40' is not a number."
    }


def test_a_tensor_sent_twice_is_a_400(example_client: FlaskClient) -> None:
    body = tensors(iris_columns())
    body["inputs"].append(body["inputs"][0])
    status, answer = infer(example_client, "/v2/models/iris/infer", body)
    assert (status, answer) == (400, {"error": "The tensor sepal_length_cm is sent twice."})


def test_hostile_bodies_get_bounded_400s(example_client: FlaskClient) -> None:
    many_names = tensors({f"x{i}": [1.0] for i in range(500)})
    deep: Any = 1.0
    for _ in range(200):  # orjson refuses deeper
        deep = [deep]
    nested = broken({}, shape=[2], data=[deep, 1.0])
    ragged = tensors({f"x{i}": [1.0] * (i + 1) for i in range(500)})
    for body in (many_names, nested, ragged):
        status, answer = infer(example_client, "/v2/models/iris/infer", body)
        assert status == 400 and len(answer["error"]) < 2000, answer


def test_too_many_rows_and_wrong_content_type(example_client: FlaskClient) -> None:
    response = example_client.post("/v2/models/iris/infer", data=b"{}", content_type="text/plain")
    assert response.status_code == 415 and list(response.get_json()) == ["error"]
    huge = tensors({name: [1.0] * 2_000_000 for name in IRIS})
    status, answer = infer(example_client, "/v2/models/iris/infer", huge)
    assert status == 413 and list(answer) == ["error"]


def test_unknown_model_version_and_method(example_client: FlaskClient) -> None:
    assert infer(example_client, "/v2/models/nope/infer", tensors(iris_columns())) == (
        404,
        {"error": "Unknown model 'nope'. Models: diabetes, iris, penguins."},
    )
    status, answer = infer(example_client, "/v2/models/iris/versions/9/infer", tensors(iris_columns()))
    assert status == 404 and answer["error"].startswith("Unknown version '9' of model 'iris'")
    response = example_client.get("/v2/models/iris/infer")
    assert response.status_code == 405 and list(response.get_json()) == ["error"]


@pytest.mark.parametrize("bad", [25, 25.5, True, None, "1", [1.0]])
def test_a_bad_number_in_a_numeric_tensor_gets_the_predict_message(
    example_client: FlaskClient, bad: Any
) -> None:
    """Numeric tensors are parsed straight into arrays (api.protocols.column_json); a bad value must still be
    worded as /models words it, from the value as sent."""
    columns = iris_columns(100)  # over column_json.SMALL_BODY_BYTES: other columns are arrays
    columns["petal_width_cm"][57] = bad
    body = tensors(columns)
    body["inputs"][-1]["datatype"] = "FP64"
    assert len(orjson.dumps(body)) > SMALL_BODY_BYTES
    status, answer = infer(example_client, "/v2/models/iris/infer", body)
    predicted = example_client.post("/models/iris/1/predict", json={"inputs": columns}).get_json()
    assert status == 400
    assert answer == {"error": predicted["message"]}


def test_a_body_that_is_not_json_is_a_400_as_on_models(example_client: FlaskClient) -> None:
    """The same words as /models, for a small body and for one large enough for simdjson."""
    for body in (b'{"inputs": [1, 2,]}', b'{"inputs": [' + b"1.5, " * 400 + b"]}"):
        response = example_client.post("/v2/models/iris/infer", data=body)
        predicted = example_client.post("/models/iris/1/predict", data=body, content_type="application/json")
        assert response.status_code == predicted.status_code == 400
        assert response.get_json() == {"error": predicted.get_json()["message"]}
        assert response.get_json()["error"].startswith("The body is not valid JSON: trailing comma")
