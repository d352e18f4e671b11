"""Server limits from config.yaml's server: section, checksum policy and bearer-token auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app
from api.wsgi.auth import read_token
from registry.loader import load_registry
from spec.config import read_config

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def test_defaults_are_safe(tiny_store: Path) -> None:
    server = read_config(tiny_store).server
    assert (server.max_body_bytes, server.max_rows, server.max_json_depth) == (8 * 1024 * 1024, 100_000, 32)
    assert (server.timeout, server.require_sha256) == (30, False)


def test_more_rows_than_the_limit_is_413_naming_it(make_store: Callable[..., Path]) -> None:
    client = create_app(make_store(server={"max_rows": 3})).test_client()
    assert client.post("/models/flowers/1/predict", json={"instances": [FLOWER] * 3}).status_code == 200
    columns = {k: [v] * 4 for k, v in FLOWER.items()}
    for body in ({"instances": [FLOWER] * 4}, {"inputs": columns}):
        response = client.post("/models/flowers/1/predict", json=body)
        assert response.status_code == 413
        assert response.get_json()["message"] == (
            "The request has 4 rows; the limit is 3 (server.max_rows). Send smaller batches."
        )


def test_nesting_deeper_than_the_limit_is_refused(make_store: Callable[..., Path]) -> None:
    client = create_app(make_store(server={"max_json_depth": 5})).test_client()
    deep: object = 1.0
    for _ in range(6):
        deep = [deep]
    response = client.post("/models/flowers/1/predict", json={**FLOWER, "petal_width": deep})
    assert response.status_code == 400
    assert response.get_json()["message"] == "The row nests deeper than 5 levels."
    shallow = client.post("/models/flowers/1/predict", json={**FLOWER, "petal_width": [[1.0]]})
    assert shallow.get_json()["message"] == "Invalid values: petal_width: [[1.0]] is not a number."


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_nesting_past_the_parser_limit_is_400(client: FlaskClient, depth: int) -> None:
    body = '{"instances": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/models/flowers/1/predict", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The body is not valid JSON: depth limit exceeded")


def test_require_sha256_refuses_unpinned_artifacts(make_store: Callable[..., Path]) -> None:
    registry = load_registry(read_config(make_store(server={"require_sha256": True})))
    assert registry.resolve("flowers", "1").is_available
    assert registry.resolve("flowers", "2").reason == "sha256: missing, and server.require_sha256 is set"


def test_bearer_token_guards_the_model_endpoints(tiny_store: Path) -> None:
    client = create_app(tiny_store, token="s3cret-token").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        response = client.post("/models/flowers/1/predict", json=FLOWER, headers=headers)
        assert response.status_code == 401
        assert response.get_json() == {
            "code": 401,
            "status": "Unauthorized",
            "message": "Missing or wrong token: send 'Authorization: Bearer <token>'.",
        }
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert client.get("/models", headers=headers).status_code == 401
    good = {"Authorization": "Bearer s3cret-token"}
    assert client.post("/models/flowers/1/predict", json=FLOWER, headers=good).status_code == 200
    assert client.get("/models/flowers", headers=good).status_code == 200
    for open_path in ("/health/live", "/health/ready", "/openapi.json", "/docs"):
        assert client.get(open_path).status_code == 200


def test_token_from_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEL_REGISTRY_TOKEN", raising=False)
    assert read_token(None) is None
    monkeypatch.setenv("MODEL_REGISTRY_TOKEN", "from-env")
    assert read_token(None) == "from-env"
    path = tmp_path / "token"
    path.write_text("from-file\n")
    assert read_token(path) == "from-file"
    path.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        read_token(path)


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ({"max_rows": 0}, "server: max_rows: must be a positive integer"),
        ({"timeout": "30s"}, "server: timeout: must be a positive integer"),
        ({"require_sha256": "yes"}, "server: require_sha256: must be true or false"),
        ({"max_body": 1}, "server: max_body: unknown key"),
    ],
)
def test_server_settings_are_checked(make_store: Callable[..., Path], server: dict, problem: str) -> None:
    from spec.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        read_config(make_store(server=server))
    assert caught.value.problems[0].startswith(problem)
