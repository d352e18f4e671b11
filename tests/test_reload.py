"""Reload: the next registry is built beside the serving one and never drops what serves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import yaml
from flask.testing import FlaskClient

from api import create_app, reload_app
from registry.loader import load_registry
from registry.registry import Registry
from registry.reload import reload_registry, summary
from spec.config import read_config
from tests.conftest import dump_model, train_flowers

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def edit_config(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data["models"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def load(path: Path) -> Registry:
    return load_registry(read_config(path))


def test_unchanged_versions_are_not_reloaded(tiny_store: Path) -> None:
    before = load(tiny_store)
    after = reload_registry(before)
    for version in before.all_versions():
        assert after.resolve(version.model, version.version) is version
    assert summary(before, after) == "kept 4, loaded 0, removed 0, failed 0"


def test_new_changed_and_removed_versions(tiny_store: Path, tmp_path: Path) -> None:
    before = load(tiny_store)
    digest = dump_model(tmp_path / "model_store", "flowers/3/model.joblib", train_flowers())

    def edit(models: dict[str, Any]) -> None:
        flowers = models["flowers"]["versions"]
        flowers["3"] = {**flowers["1"], "artifact": "flowers/3/model.joblib", "sha256": digest}
        flowers["2"]["description"] = "now described"
        del models["prices"]

    edit_config(tiny_store, edit)
    after = reload_registry(before)
    assert after.resolve("flowers", "1") is before.resolve("flowers", "1")
    assert after.resolve("flowers", "2") is not before.resolve("flowers", "2")
    assert after.resolve("flowers", "latest").version == "3"
    assert "prices" not in after.models
    assert summary(before, after) == (
        "kept 2, loaded 2 (flowers/2, flowers/3), removed 1 (prices/1), failed 0"
    )


def test_a_file_replaced_in_place_is_reloaded(tiny_store: Path, tmp_path: Path, trained: dict) -> None:
    """flowers/1 pins the file's sha256 and flowers/2 (same file) does not: only 2 takes the new bytes."""
    before = load(tiny_store)
    path = tmp_path / "model_store" / "flowers" / "1" / "model.joblib"
    joblib.dump(trained["flowers"], path, compress=3)  # the same model, other bytes
    after = reload_registry(before)
    assert after.resolve("flowers", "2").predictor is not before.resolve("flowers", "2").predictor
    assert after.resolve("flowers", "2").reload_error is None
    assert after.resolve("flowers", "1").predictor is before.resolve("flowers", "1").predictor
    assert after.resolve("flowers", "1").reload_error.startswith("sha256: mismatch")


def test_a_changed_version_that_fails_keeps_its_previous_load(tiny_store: Path) -> None:
    before = load(tiny_store)

    def bad_checksum(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["sha256"] = "0" * 64

    edit_config(tiny_store, bad_checksum)
    after = reload_registry(before)
    shoes = after.resolve("shoes", "1")
    assert shoes.is_available
    assert shoes.predictor is before.resolve("shoes", "1").predictor
    assert shoes.reload_error.startswith("sha256: mismatch: the config says 0000")
    # fixed again: the failure note goes away and nothing is reloaded
    edit_config(
        tiny_store,
        lambda models: models["shoes"]["versions"]["1"].update(
            sha256=before.resolve("shoes", "1").artifact.sha256
        ),
    )
    again = reload_registry(after)
    assert again.resolve("shoes", "1").reload_error is None
    assert again.resolve("shoes", "1").predictor is shoes.predictor


def test_an_unreadable_config_keeps_the_whole_set(tiny_store: Path) -> None:
    before = load(tiny_store)
    tiny_store.write_text("models: [")
    after = reload_registry(before)
    assert after.models == before.models
    assert after.reload_error.startswith(f"{tiny_store}: 1 problem(s)\n  - not valid YAML")
    tiny_store.write_text(yaml.safe_dump({"models": {"x": {"versions": {}}}}))
    assert "x: versions: must map version names to versions" in reload_registry(before).reload_error


def test_reload_app_reports_failures_over_http(tiny_store: Path) -> None:
    app = create_app(tiny_store)

    def bad_checksum(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["sha256"] = "0" * 64

    edit_config(tiny_store, bad_checksum)
    client: FlaskClient = reload_app(app).test_client()
    shoes = client.get("/models/shoes").get_json()["versions"][0]
    assert shoes["status"] == "available"
    assert shoes["reload_error"].startswith("sha256: mismatch")
    ready = client.get("/health/ready").get_json()
    assert ready["failed"] == [] and ready["versions_failed"] == 0
    assert ready["reload_errors"][0].startswith("shoes/1: sha256")
    assert client.post("/models/shoes/1/predict", json={"color": "red", "size": 40}).status_code == 200

    tiny_store.write_text("models: [")
    broken = reload_app(reload_app(app)).test_client()
    assert broken.get("/health/ready").get_json()["reload_error"].startswith(str(tiny_store))
    assert broken.get("/models/flowers").get_json()["reload_error"].startswith(str(tiny_store))
    assert broken.post("/models/flowers/1/predict", json=FLOWER).status_code == 200


def test_new_versions_appear_in_the_openapi_document(tiny_store: Path, tmp_path: Path) -> None:
    app = create_app(tiny_store)

    def add(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["7"] = models["flowers"]["versions"]["1"]

    edit_config(tiny_store, add)
    paths = reload_app(app).test_client().get("/openapi.json").get_json()["paths"]
    assert "/models/flowers/7/predict" in paths


def test_settings_that_change_loading_reload_every_version(make_store: Callable[..., Path]) -> None:
    before = load(make_store())
    after = reload_registry(before, make_store(server={"require_sha256": True}))
    # the version keeps serving its earlier load, and says why the reload could not replace it
    assert after.resolve("flowers", "2").reload_error == "sha256: missing, and server.require_sha256 is set"
    assert after.resolve("flowers", "1").reload_error is None
    fresh = load_registry(read_config(after.config.path))
    assert fresh.resolve("flowers", "2").reason == "sha256: missing, and server.require_sha256 is set"
