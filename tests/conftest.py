"""Fixtures: temporary stores with real (small) pickled sklearn models, apps and clients on them."""

from __future__ import annotations

import copy
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from api import create_app
from tests.s3_server import s3  # noqa: F401  (the session's S3 server, for any test that asks)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config.yaml"

FLOWER_FEATURES = [
    {"name": name, "type": "number", "minimum": 0, "maximum": 20}
    for name in ["sepal_length", "sepal_width", "petal_length", "petal_width"]
]
SHOE_FEATURES = [
    {"name": "color", "type": "category", "categories": ["red", "green", "blue"]},
    {"name": "size", "type": "integer", "minimum": 30, "maximum": 50},
    {"name": "material", "type": "category", "categories": ["leather", "canvas"], "required": False},
]
PRICE_FEATURES = [
    {"name": "area", "type": "number", "minimum": 0},
    {"name": "rooms", "type": "integer", "minimum": 1, "maximum": 20},
    {"name": "garden", "type": "boolean"},
]


def train_flowers() -> Pipeline:
    """A numeric classifier on 30 iris rows, labels as species names."""
    data = load_iris(as_frame=True)
    X = data.data.set_axis([f["name"] for f in FLOWER_FEATURES], axis=1)
    picked = np.r_[0:10, 50:60, 100:110]
    y = data.target_names[data.target][picked]
    return Pipeline([("classifier", LogisticRegression(max_iter=500))]).fit(X.iloc[picked], y)


def train_shoes() -> Pipeline:
    """A categorical pipeline: one-hot color and optional material (seen with gaps), plus size."""
    frame = pd.DataFrame(
        {
            "color": ["red", "green", "blue", "red", "green", "blue", "red", "blue"],
            "size": [38, 42, 45, 36, 40, 44, 39, 47],
            "material": ["leather", "canvas", np.nan, "canvas", "leather", "canvas", np.nan, "leather"],
        }
    )
    target = ["small", "medium", "large", "small", "medium", "large", "small", "large"]
    preprocess = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["color", "material"]),
            ("numbers", SimpleImputer(), ["size"]),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(max_iter=500))]).fit(
        frame, target
    )


def train_prices() -> LinearRegression:
    """A regressor on area, rooms and garden: price = 2*area + 10*rooms + 5*garden."""
    frame = pd.DataFrame(
        {"area": [50.0, 80.0, 120.0, 60.0, 90.0], "rooms": [2, 3, 5, 2, 4], "garden": [0, 1, 1, 0, 1]}
    )
    price = 2 * frame["area"] + 10 * frame["rooms"] + 5 * frame["garden"]
    return LinearRegression().fit(frame, price)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump_model(store: Path, relative: str, model: Any) -> str:
    """Pickle ``model`` into the store and return its sha256."""
    path = store / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return sha256_file(path)


def write_config(root: Path, models: dict[str, Any], **top: Any) -> Path:
    """Write config.yaml beside ``model_store`` and return its path."""
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump({"store": "model_store", **top, "models": models}, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def trained() -> dict[str, Any]:
    """The tiny models, trained once per session."""
    return {"flowers": train_flowers(), "shoes": train_shoes(), "prices": train_prices()}


@pytest.fixture
def tiny_models(tmp_path: Path, trained: dict[str, Any]) -> dict[str, Any]:
    """The models section of a tiny store's config, with artifacts written under tmp_path."""
    store = tmp_path / "model_store"
    flowers = dump_model(store, "flowers/1/model.joblib", trained["flowers"])
    shoes = dump_model(store, "shoes/1/model.joblib", trained["shoes"])
    prices = dump_model(store, "prices/1/model.joblib", trained["prices"])
    return {
        "flowers": {
            "description": "Iris species",
            "versions": {
                "1": {"artifact": "flowers/1/model.joblib", "sha256": flowers, "features": FLOWER_FEATURES},
                "2": {"artifact": "flowers/1/model.joblib", "features": FLOWER_FEATURES},
            },
            "aliases": {"stable": "1"},
            "default_version": "1",
        },
        "shoes": {
            "versions": {
                "1": {
                    "artifact": "shoes/1/model.joblib",
                    "sha256": shoes,
                    "task": "classification",
                    "features": SHOE_FEATURES,
                }
            }
        },
        "prices": {
            "versions": {
                "1": {
                    "artifact": "prices/1/model.joblib",
                    "sha256": prices,
                    "task": "regression",
                    "features": PRICE_FEATURES,
                }
            }
        },
    }


@pytest.fixture
def make_store(tmp_path: Path, tiny_models: dict[str, Any]) -> Callable[..., Path]:
    """Write a config from the tiny models, after ``edit`` changes them; returns the config path."""

    def make(edit: Callable[[dict[str, Any]], None] | None = None, **top: Any) -> Path:
        models = copy.deepcopy(tiny_models)
        if edit:
            edit(models)
        return write_config(tmp_path, models, **top)

    return make


@pytest.fixture
def tiny_store(make_store: Callable[..., Path]) -> Path:
    """Config path of a store with three tiny models (flowers has two versions)."""
    return make_store()


@pytest.fixture
def app(tiny_store: Path) -> Flask:
    return create_app(tiny_store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store_copy(tmp_path: Path) -> Path:
    """A copy of the example store that a test may edit; returns its config path."""
    shutil.copytree(EXAMPLE_CONFIG.parent / "model_store", tmp_path / "model_store")
    shutil.copy(EXAMPLE_CONFIG, tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


@pytest.fixture(scope="session")
def example_app() -> Flask:
    """The app on the repository's own example store (built by `make`)."""
    return create_app(EXAMPLE_CONFIG)


@pytest.fixture
def example_client(example_app: Flask) -> FlaskClient:
    return example_app.test_client()
