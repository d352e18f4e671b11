"""The repository's example store: every feature of the product, checksummed and reproducible."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from flask.testing import FlaskClient

from spec.config import RegistryConfig, read_config
from spec.features import FeatureSpec
from tests.conftest import EXAMPLE_CONFIG, ROOT, sha256_file

PENGUIN = {
    "island": "Dream",
    "bill_length_mm": 45.0,
    "bill_depth_mm": 17.0,
    "flipper_length_mm": 195,
    "body_mass_g": None,
}


def test_every_example_version_loads(example_client: FlaskClient) -> None:
    ready = example_client.get("/health/ready").get_json()
    assert ready["versions_failed"] == 0 and ready["versions_available"] == 4


def test_committed_artifacts_match_their_checksums() -> None:
    config = read_config(EXAMPLE_CONFIG)
    for model in config.models:
        for version in model.versions:
            assert version.sha256 == sha256_file(config.store / version.artifact)


def test_the_example_store_shows_every_feature(example_client: FlaskClient) -> None:
    models = {m["name"]: m for m in example_client.get("/models").get_json()["models"]}
    assert models["penguins"]["aliases"]["stable"] == "1"
    assert models["penguins"]["default_version"] == "2"
    iris = example_client.get("/models/iris/1").get_json()
    assert all(f["type"] == "number" and f["maximum"] is not None for f in iris["features"])
    penguins = example_client.get("/models/penguins/2").get_json()
    optional = {f["name"] for f in penguins["features"] if not f["required"]}
    assert optional == {"sex", "body_mass_g"}
    assert example_client.get("/models/diabetes/1").get_json()["task"] == "regression"


def test_penguin_versions_really_differ(example_client: FlaskClient) -> None:
    one = example_client.get("/models/penguins/1").get_json()["artifact"]["final_estimator"]
    two = example_client.get("/models/penguins/2").get_json()["artifact"]["final_estimator"]
    assert one == "sklearn.linear_model.LogisticRegression"
    assert two == "sklearn.ensemble.RandomForestClassifier"
    p1 = example_client.post("/models/penguins/1/predict", json=PENGUIN).get_json()["predictions"][0]
    p2 = example_client.post("/models/penguins/2/predict", json=PENGUIN).get_json()["predictions"][0]
    assert p1["probabilities"] != p2["probabilities"]


def test_training_script_reproduces_the_artifacts(tmp_path: Path) -> None:
    """Retrained models predict what the committed ones do, within a tolerance.

    Their bytes are not compared: floating-point results of training differ in their last bits
    between CPUs (BLAS kernels), so a LogisticRegression pickles differently on another machine.
    """
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_examples.py"), "--root", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh, committed = read_config(tmp_path / "config.yaml"), read_config(EXAMPLE_CONFIG)
    assert _without_checksums(fresh) == _without_checksums(committed)
    rng = np.random.default_rng(0)
    for model in committed.models:
        for spec in model.versions:
            frame = _random_rows(spec.features, rng, 300)
            old = joblib.load(committed.store / spec.artifact)
            new = joblib.load(fresh.store / spec.artifact)
            if hasattr(old, "predict_proba"):
                np.testing.assert_allclose(new.predict_proba(frame), old.predict_proba(frame), atol=1e-6)
            else:
                np.testing.assert_allclose(new.predict(frame), old.predict(frame), rtol=1e-6, atol=1e-6)


def _without_checksums(config: RegistryConfig) -> list[Any]:
    return [
        (model.name, model.description, model.aliases, [replace(v, sha256=None) for v in model.versions])
        for model in config.models
    ]


def _random_rows(features: Sequence[FeatureSpec], rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` valid rows: each category drawn from its list, each number within its bounds."""
    columns: dict[str, Any] = {}
    for feature in features:
        if feature.type == "category":
            columns[feature.name] = [
                feature.categories[i] for i in rng.integers(len(feature.categories), size=n)
            ]
        else:
            low = feature.minimum if feature.minimum is not None else 0.0
            high = feature.maximum if feature.maximum is not None else low + 100
            values = rng.uniform(low, high, size=n)
            columns[feature.name] = values.round() if feature.type == "integer" else values
    return pd.DataFrame(columns)


def test_batch_predictions_match_the_pickled_pipelines(example_client: FlaskClient) -> None:
    """Columns in, one DataFrame, one predict_proba: labels equal each pipeline's own predict()."""
    from palmerpenguins import load_penguins

    frame = load_penguins().drop(columns=["species", "year"]).iloc[::7]
    columns = {name: [None if v != v else v for v in frame[name].tolist()] for name in frame.columns}
    registry = read_config(EXAMPLE_CONFIG)
    store = registry.store
    for version in ("1", "2"):
        body = example_client.post(f"/models/penguins/{version}/predict", json={"inputs": columns}).get_json()
        pipeline = joblib.load(store / f"penguins/{version}/model.joblib")
        assert [p["label"] for p in body["predictions"]] == pipeline.predict(frame).tolist()
        proba = pipeline.predict_proba(frame)
        got = [[p["probabilities"][c] for c in pipeline.classes_] for p in body["predictions"]]
        assert got == proba.tolist()
