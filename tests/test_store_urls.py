"""Stores and configs at URLs, in process: S3 on a real S3 API (moto's server, through s3fs) and
``file://``. Artifacts pinned by sha256, fetched once into the cache, never from outside the prefix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from api import create_app_for
from bench.s3 import SECRET_KEY, S3Server
from registry import artifact_cache
from registry.config_source import read_config_at
from registry.loader import load_registry
from registry.reload import reload_registry
from registry.stores import StoreError, cause_of, read_object
from spec.errors import ConfigError
from spec.locations import Url, location
from tests.s3_server import get, new_bucket, put, upload_config

ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A fresh artifact cache for this test."""
    artifact_cache.use_cache(tmp_path / "cache")
    return tmp_path / "cache"


def remote_models(store: str, tiny_models: dict[str, Any], root: Path) -> dict[str, Any]:
    """The tiny models (tests/conftest.py), their artifacts uploaded from ``root`` to ``store``;
    flowers/2, which has no sha256, left out."""
    models = copy.deepcopy(tiny_models)
    del models["flowers"]["versions"]["2"]
    for model in models.values():
        for version in model["versions"].values():
            put(f"{store}/{version['artifact']}", (root / "model_store" / version["artifact"]).read_bytes())
    return models


def predict(registry: Any, model: str = "flowers") -> tuple[int, Any]:
    client = create_app_for(registry).test_client()
    response = client.post(f"/models/{model}/predict", json={"instances": [ROW]})
    return response.status_code, response.get_json()


def test_locations_keep_urls_and_refuse_keys_outside_the_prefix() -> None:
    config = location("s3://bucket/team/config.yaml")
    assert config == Url("s3", "bucket/team/config.yaml")
    assert str(config.parent.child("model_store")) == "s3://bucket/team/model_store"
    assert location("models/config.yaml") == Path("models/config.yaml")
    for key in ("../other/model.joblib", "a/../../b", "/etc/passwd", "s3://other-bucket/model.joblib"):
        with pytest.raises(ValueError):
            config.parent.child(key)


def test_a_config_and_store_on_s3_serve(
    s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path, cache: Path
) -> None:
    store = new_bucket("team") + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    config = read_config_at(url)
    assert config.store == location(store) and config.tag
    registry = load_registry(config)
    assert [v.reason for v in registry.all_versions()] == [None, None, None]
    status, body = predict(registry)
    assert status == 200 and body["predictions"][0]["label"] == "setosa"
    assert len(list(cache.iterdir())) == 3  # one file per sha256


def test_a_remote_store_requires_sha256(s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path) -> None:
    store = new_bucket() + "/model_store"
    models = remote_models(store, tiny_models, tmp_path)
    del models["prices"]["versions"]["1"]["sha256"]
    with pytest.raises(ConfigError, match="prices/1: sha256: required, the store is remote"):
        read_config_at(upload_config(store, models))


def test_keys_outside_the_prefix_are_refused(
    s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path, cache: Path
) -> None:
    store = new_bucket() + "/model_store"
    models = remote_models(store, tiny_models, tmp_path)
    version = models["flowers"]["versions"]["1"]
    put(f"{store.rsplit('/', 1)[0]}/secret.joblib", get(f"{store}/{version['artifact']}"))  # beside the store
    models["flowers"]["versions"]["2"] = {**version, "artifact": "../secret.joblib"}
    models["flowers"]["versions"]["3"] = {**version, "artifact": f"{store}/flowers/1/model.joblib"}
    registry = load_registry(read_config_at(upload_config(store, models)))
    reasons = {v.version: v.reason for v in registry.all_versions() if v.model == "flowers"}
    assert reasons["1"] is None
    assert "contains '..'" in reasons["2"] and "names another location" in reasons["3"]


def test_an_overwritten_artifact_is_never_served(
    s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path, cache: Path
) -> None:
    store = new_bucket() + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    serving = load_registry(read_config_at(url))
    put(f"{store}/flowers/1/model.joblib", b"other bytes, or a half-written upload")
    # a replica with an empty cache refuses it, checked before anything parses it
    artifact_cache.use_cache(tmp_path / "empty-cache")
    fresh = load_registry(read_config_at(url))
    version = fresh.resolve("flowers", "1")
    assert "sha256: mismatch" in version.reason and predict(fresh)[0] != 200
    kept = {p.name for p in (tmp_path / "empty-cache").iterdir()}
    assert kept == {v.spec.sha256 for v in fresh.all_versions() if v.is_available}  # not the overwritten one
    # the serving one keeps its verified copy across a reload
    reloaded = reload_registry(serving)
    assert predict(reloaded) == predict(serving) and predict(serving)[0] == 200


def test_cached_artifacts_are_reused_across_restarts(
    s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path, cache: Path
) -> None:
    store = new_bucket() + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    load_registry(read_config_at(url))
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).rm(store, recursive=True)  # only the config is left
    again = load_registry(read_config_at(url))
    assert all(v.is_available for v in again.all_versions())


def test_the_cache_stays_within_its_bound(
    s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path, cache: Path
) -> None:
    store = new_bucket() + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    artifact_cache.use_cache(cache, max_bytes=1)  # holds only the artifact just fetched
    registry = load_registry(read_config_at(url))
    assert all(v.is_available for v in registry.all_versions())
    assert len(list(cache.iterdir())) == 1


def test_a_file_url_config_and_store(make_store: Any, cache: Path) -> None:
    def pin(models: dict[str, Any]) -> None:
        versions = models["flowers"]["versions"]
        versions["2"]["sha256"] = versions["1"]["sha256"]

    tiny_store = make_store(pin)
    registry = load_registry(read_config_at(f"file://{tiny_store}"))
    assert isinstance(registry.config.store, Url) and registry.config.store.scheme == "file"
    assert predict(registry)[0] == 200
    assert read_object(location(f"file://{tiny_store}")).data == tiny_store.read_bytes()


def test_an_unreachable_store_names_the_url_and_cause_without_credentials(s3: S3Server) -> None:
    url = location(f"s3://no-such-bucket-{SECRET_KEY[:4]}x/config.yaml")
    with pytest.raises(StoreError) as caught:
        read_object(url)
    assert str(url) in str(caught.value) and SECRET_KEY not in str(caught.value)
    assert SECRET_KEY not in cause_of(RuntimeError(f"signature with {SECRET_KEY}"))
