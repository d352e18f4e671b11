"""POST /models/.../predict: how a body failing its version's features is worded (every problem at
once, keyed by row for batches, capped messages, envelope mistakes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.test_predict import FLOWER, post


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
