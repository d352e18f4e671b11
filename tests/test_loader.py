"""Loading: each artifact fault marks only its version failed, with the key and reason named."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

from registry.loader import load_registry
from registry.registry import Registry
from spec.config import read_config
from tests.conftest import dump_model, sha256_file


def load(config: Path) -> Registry:
    return load_registry(read_config(config))


def failure_of(registry: Registry, model: str, version: str = "1") -> str | None:
    return registry.resolve(model, version).reason


def test_every_version_loads_once_with_artifact_facts(tiny_store: Path) -> None:
    registry = load(tiny_store)
    assert all(v.is_available for v in registry.all_versions())
    shoes = registry.resolve("shoes", "1")
    assert shoes.task == "classification"
    assert shoes.labels == ("large", "medium", "small")
    assert shoes.artifact.sha256 == sha256_file(tiny_store.parent / "model_store/shoes/1/model.joblib")
    assert shoes.artifact.sklearn_version == sklearn.__version__
    assert shoes.artifact.estimator_type == "sklearn.pipeline.Pipeline"
    assert shoes.artifact.final_estimator == "sklearn.linear_model.LogisticRegression"
    assert registry.resolve("prices", "1").task == "regression"
    # task is inferred when the config leaves it out
    assert registry.resolve("flowers", "1").task == "classification"


class Exploit:
    """Unpickling this writes a marker file: proof that code in the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "pickle code ran"))


def _artifact(model: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(models: dict[str, Any]) -> None:
        models[model]["versions"]["1"]["artifact"] = value

    return edit


def test_missing_file(make_store: Callable[..., Path], tmp_path: Path) -> None:
    registry = load(make_store(_artifact("shoes", "shoes/9/model.joblib")))
    assert failure_of(registry, "shoes") == "artifact: no file at 'shoes/9/model.joblib' in the store"
    assert registry.resolve("prices", "1").is_available


@pytest.mark.parametrize(
    ("artifact", "reason"),
    [
        ("../outside.joblib", "artifact: '../outside.joblib' contains '..'; it must stay inside the store"),
        ("/etc/passwd", "artifact: '/etc/passwd' is absolute; give a path inside the store"),
    ],
)
def test_paths_that_leave_the_store(make_store: Callable[..., Path], artifact: str, reason: str) -> None:
    registry = load(make_store(_artifact("shoes", artifact)))
    assert failure_of(registry, "shoes") == reason


def test_symlink_out_of_the_store(make_store: Callable[..., Path], tmp_path: Path, trained: dict) -> None:
    outside = tmp_path / "elsewhere" / "model.joblib"
    outside.parent.mkdir()
    joblib.dump(trained["shoes"], outside)
    link = tmp_path / "model_store" / "shoes" / "linked.joblib"
    link.symlink_to(outside)
    registry = load(make_store(_artifact("shoes", "shoes/linked.joblib")))
    assert failure_of(registry, "shoes") == ("artifact: 'shoes/linked.joblib' leads outside the store")


def test_corrupt_pickle(make_store: Callable[..., Path], tmp_path: Path) -> None:
    path = tmp_path / "model_store" / "shoes" / "1" / "model.joblib"
    path.write_bytes(b"this is not a pickle")

    def no_checksum(models: dict[str, Any]) -> None:
        del models["shoes"]["versions"]["1"]["sha256"]

    failure = failure_of(load(make_store(no_checksum)), "shoes")
    assert failure.startswith("artifact: cannot be unpickled: ")


def test_sha256_mismatch_is_caught_before_unpickling(make_store: Callable[..., Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model_store" / "shoes" / "1" / "model.joblib"
    expected = sha256_file(path)
    path.write_bytes(pickle.dumps(Exploit(marker)))
    registry = load(make_store())
    assert failure_of(registry, "shoes") == (
        f"sha256: mismatch: the config says {expected}, the file is {sha256_file(path)}"
    )
    assert not marker.exists()
    assert registry.resolve("flowers", "1").is_available


def test_feature_names_must_match_the_estimator(make_store: Callable[..., Path]) -> None:
    def rename(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["features"][1]["name"] = "shoe_size"

    assert failure_of(load(make_store(rename)), "shoes") == (
        "features: do not match the estimator's feature_names_in_ "
        "(not declared: size; unknown to the estimator: shoe_size)"
    )


def test_feature_order_must_match_the_estimator(make_store: Callable[..., Path]) -> None:
    def swap(models: dict[str, Any]) -> None:
        features = models["shoes"]["versions"]["1"]["features"]
        features[0], features[1] = features[1], features[0]

    assert failure_of(load(make_store(swap)), "shoes") == (
        "features: do not match the estimator's feature_names_in_ "
        "(declared in a different order; the estimator's order: color, size, material)"
    )


def test_feature_count_without_names(make_store: Callable[..., Path], tmp_path: Path) -> None:
    unnamed = LogisticRegression().fit(np.arange(18.0).reshape(6, 3), ["a", "b"] * 3)
    digest = dump_model(tmp_path / "model_store", "flowers/3/model.joblib", unnamed)

    def point(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["1"].update(artifact="flowers/3/model.joblib", sha256=digest)

    assert failure_of(load(make_store(point)), "flowers") == "features: 4 declared, the estimator expects 3"


def test_categories_unknown_to_the_encoder(make_store: Callable[..., Path]) -> None:
    def more_colours(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["features"][0]["categories"] = ["red", "green", "blue", "pink"]

    assert failure_of(load(make_store(more_colours)), "shoes") == (
        "features: color: categories pink were never seen by the estimator's encoder "
        "(it knows: blue, green, red)"
    )


def test_fewer_categories_than_the_encoder_is_fine(make_store: Callable[..., Path]) -> None:
    def fewer(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["features"][0]["categories"] = ["red", "blue"]

    assert failure_of(load(make_store(fewer)), "shoes") is None


def test_declared_task_must_match(make_store: Callable[..., Path]) -> None:
    def wrong_task(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["task"] = "regression"

    assert failure_of(load(make_store(wrong_task)), "shoes") == (
        "task: declared regression, but the estimator is a classification model"
    )


def test_object_without_predict(make_store: Callable[..., Path], tmp_path: Path) -> None:
    digest = dump_model(tmp_path / "model_store", "shoes/2/model.joblib", {"not": "a model"})

    def point(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"].update(artifact="shoes/2/model.joblib", sha256=digest)

    assert failure_of(load(make_store(point)), "shoes") == "artifact: dict has no predict method"


def test_pickling_sklearn_version_is_recorded(make_store: Callable[..., Path], tmp_path: Path) -> None:
    """A pickle from another scikit-learn release is loaded, and that release is reported."""
    path = tmp_path / "model_store" / "prices" / "1" / "model.joblib"
    model = joblib.load(path)
    state = model.__getstate__()
    state["_sklearn_version"] = "1.5.2"
    model.__getstate__ = lambda: state  # the state sklearn writes into the pickle
    joblib.dump(model, path)

    def no_checksum(models: dict[str, Any]) -> None:
        del models["prices"]["versions"]["1"]["sha256"]

    version = load(make_store(no_checksum)).resolve("prices", "1")
    assert version.is_available
    assert version.artifact.sklearn_version == "1.5.2"


def test_store_relative_to_config_folder(
    make_store: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_store()
    monkeypatch.chdir(os.sep)
    assert all(v.is_available for v in load(config).all_versions())
