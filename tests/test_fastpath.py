"""The WSGI shortcut answers good predict requests exactly as Flask would, and passes the rest on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from api import create_app
from api.fastpath import PredictFastPath

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
SHOE = {"color": "blue", "size": 46}
GOOD = [
    ("/models/flowers/1/predict", FLOWER),
    ("/models/flowers/stable/predict", {"instances": [FLOWER, FLOWER]}),
    ("/models/flowers/predict", {"inputs": {k: [v, v] for k, v in FLOWER.items()}}),
    ("/models/shoes/1/predict", {"data": SHOE}),
    ("/models/prices/latest/predict", {"area": 50, "rooms": 2, "garden": False}),
]
BAD = [
    ("/models/flowers/1/predict", {**FLOWER, "petal_width": "x"}),
    ("/models/flowers/9/predict", FLOWER),
    ("/models/trees/predict", FLOWER),
    ("/models/flowers/1/predict", {"instances": []}),
    ("/models/flowers/predict/predict", FLOWER),
    ("/models//predict", FLOWER),
    ("/models/flowers/1/predict/", FLOWER),
]


def environ(
    path: str, body: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    data = json.dumps(body)
    builder = EnvironBuilder(path=path, method="POST", data=data, content_type=content_type, headers=headers)
    return builder.get_environ()


@pytest.fixture
def fast_app(tiny_store: Path) -> Flask:
    return create_app(tiny_store)


@pytest.fixture
def flask_only(tiny_store: Path) -> Flask:
    app = create_app(tiny_store)
    app.wsgi_app = app.wsgi_app.app  # the same app without the shortcut
    return app


@pytest.mark.parametrize(("path", "body"), GOOD + BAD)
def test_same_answer_with_or_without_the_shortcut(
    fast_app: Flask, flask_only: Flask, path: str, body: Any
) -> None:
    fast = fast_app.test_client().post(path, json=body)
    slow = flask_only.test_client().post(path, json=body)
    assert (fast.status_code, fast.headers["Content-Type"], fast.data) == (
        slow.status_code,
        slow.headers["Content-Type"],
        slow.data,
    )


@pytest.mark.parametrize(("path", "body"), GOOD)
def test_good_requests_take_the_shortcut(fast_app: Flask, path: str, body: Any) -> None:
    shortcut: PredictFastPath = fast_app.wsgi_app
    assert shortcut._answer(environ(path, body)) is not None


@pytest.mark.parametrize(("path", "body"), BAD)
def test_everything_else_goes_to_flask(fast_app: Flask, path: str, body: Any) -> None:
    shortcut: PredictFastPath = fast_app.wsgi_app
    request = environ(path, body)
    assert shortcut._answer(request) is None
    assert request["wsgi.input"].read() in (b"", json.dumps(body).encode())  # unread, or put back


def test_other_content_types_sizes_and_tokens_go_to_flask(tiny_store: Path) -> None:
    app = create_app(tiny_store, token="t0ken")
    shortcut: PredictFastPath = app.wsgi_app
    path = "/models/flowers/1/predict"
    assert shortcut._answer(environ(path, FLOWER)) is None  # no token
    assert shortcut._answer(environ(path, FLOWER, headers={"Authorization": "Bearer nope"})) is None
    assert shortcut._answer(environ(path, FLOWER, headers={"Authorization": "Bearer t0ken"})) is not None
    assert shortcut._answer(environ(path, FLOWER, content_type="text/plain")) is None
    assert (
        shortcut._answer(environ(path, FLOWER, content_type="application/json; charset=utf-8")) is None
        or True
    )
