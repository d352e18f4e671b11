"""Whatever a client sends, the answer is a 4xx JSON error that names the problem, never a 5xx."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
PREDICT = "/models/iris/1/predict"
JSON = "application/json"


def with_value(literal: str) -> str:
    """The iris row as JSON text, with petal_width's value written as ``literal``."""
    return json.dumps(IRIS).replace("0.2", literal)


CASES = [
    # (id, body as text or bytes, content type, status, start of the message)
    ("NaN", with_value("NaN"), JSON, 400, "The body is not valid JSON"),
    ("Infinity", with_value("Infinity"), JSON, 400, "The body is not valid JSON"),
    ("-Infinity", with_value("-Infinity"), JSON, 400, "The body is not valid JSON"),
    ("1e400", with_value("1e400"), JSON, 400, "The body is not valid JSON"),
    ("huge integer", with_value("9" * 400), JSON, 400, "The body is not valid JSON"),
    ("big integer", with_value("9" * 30), JSON, 400, "Invalid values: petal_width_cm: 1e+30 is out of range"),
    (
        "out of range",
        with_value("1e300"),
        "application/json",
        400,
        "Invalid values: petal_width_cm: 1e+300 is",
    ),
    ("string number", with_value('"0.2"'), JSON, 400, "Invalid values: petal_width_cm: '0.2'"),
    (
        "boolean number",
        with_value("true"),
        "application/json",
        400,
        "Invalid values: petal_width_cm: True is",
    ),
    (
        "object value",
        with_value('{"a": 1}'),
        "application/json",
        400,
        "Invalid values: petal_width_cm: {'a': 1}",
    ),
    ("null required", with_value("null"), JSON, 400, "Invalid values: petal_width_cm: null"),
    ("unknown field", json.dumps({**IRIS, "colour": 1}), JSON, 400, "Unknown features: colour"),
    ("empty body", "", JSON, 400, "The body is empty"),
    ("whitespace body", "  \n", JSON, 400, "The body is empty"),
    ("empty object", "{}", JSON, 400, "Missing features: sepal_length_cm, sepal_width_cm"),
    ("empty instances", '{"instances": []}', JSON, 400, "'instances' is empty"),
    ("empty columns", '{"inputs": {"sepal_length_cm": []}}', JSON, 400, "'inputs' is empty"),
    ("array body", "[1, 2]", JSON, 400, "The body must be a JSON object"),
    ("string body", '"hello"', JSON, 400, "The body must be a JSON object"),
    ("non-UTF-8", b'{"sepal_length_cm": "\xff\xfe"}', JSON, 400, "The body is not valid JSON"),
    ("truncated", '{"instances": [', JSON, 400, "The body is not valid JSON"),
    (
        "deep nesting",
        "[" * 5000 + "]" * 5000,
        "application/json",
        400,
        "The body is not valid JSON: depth limit",
    ),
    (
        "deep value",
        with_value("[" * 100 + "]" * 100),
        "application/json",
        400,
        "The row nests deeper than 32",
    ),
    ("text/plain", json.dumps(IRIS), "text/plain", 415, "The body must be JSON sent with"),
    ("form", "a=1", "application/x-www-form-urlencoded", 415, "The body must be JSON sent with"),
    ("no content type", json.dumps(IRIS), None, 415, "The body must be JSON sent with"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_bodies(
    example_client: FlaskClient, body: str | bytes, content_type: str | None, status: int, message: str
) -> None:
    response = example_client.post(PREDICT, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()
    assert error["code"] == status
    assert error["message"].startswith(message), error["message"]


def test_ten_megabyte_body_is_413(example_client: FlaskClient) -> None:
    body = json.dumps({"instances": [IRIS] * 110_000}).encode()
    assert len(body) > 10 * 1000 * 1000
    response = example_client.post(PREDICT, data=body, content_type="application/json")
    assert response.status_code == 413
    assert (
        response.get_json()["message"]
        == "The body is larger than the limit of 8388608 bytes (server.max_body_bytes)."
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/models/../models/iris/1/predict", 200),  # dot segments resolve (RFC 3986): the same route
        ("/models/iris/..%2F..%2Fetc%2Fpasswd/predict", 404),
        ("/models/%2e%2e/1/predict", 404),
        ("/models/iris/%2e%2e/predict", 405),  # /models/predict: a GET route
        ("/models/iris%00/1/predict", 404),
        ("/models/ir%69s/1/predict", 200),
        ("/models/iris/1%20/predict", 404),
        ("/models/iris/1/predict/..", 404),
    ],
)
def test_odd_paths(example_client: FlaskClient, path: str, status: int) -> None:
    response = example_client.post(path, json=IRIS)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    if status == 404:
        assert response.get_json()["status"] == "Not Found"


def test_methods_and_unknown_paths_are_json(example_client: FlaskClient) -> None:
    for method, path, status in [
        ("get", PREDICT, 405),
        ("delete", "/models/iris", 405),
        ("put", "/models", 405),
        ("get", "/models/iris/predict", 405),
        ("get", "/nope", 404),
        ("get", "/docs/static/nope.js", 404),
    ]:
        response = getattr(example_client, method)(path)
        assert response.status_code == status, (method, path)
        assert response.mimetype == "application/json"
        assert "Traceback" not in response.get_data(as_text=True)
