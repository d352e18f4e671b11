"""Estimators the example store has never seen, their training data, and helpers for the add tests."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flask.testing import FlaskClient
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from api import create_app
from cli.main import main

CONFIG_COMMENT = "# Our registry: keep this comment\n"


def fabric_frame(rows: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    """Categorical-only data: a string column with gaps and an integer-coded one; three classes."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "fabric": rng.choice(["wool", "silk", "linen"], rows).astype(object),
            "region": rng.choice([10, 20, 30], rows),
        }
    )
    frame.loc[::6, "fabric"] = np.nan
    target = np.where(frame["region"] == 10, "cheap", np.where(frame["fabric"] == "silk", "dear", "fair"))
    return frame, target


def train_fabric() -> Pipeline:
    """One-hot encoder over both columns, then a logistic regression."""
    frame, target = fabric_frame()
    encoder = OneHotEncoder(handle_unknown="ignore")
    return Pipeline([("encode", encoder), ("classify", LogisticRegression(max_iter=500))]).fit(frame, target)


def loan_frame(rows: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed data: a category with gaps, an integer, a float with gaps and a boolean; a float target."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "grade": rng.choice(["A", "B", "C", "D"], rows).astype(object),
            "term": rng.choice([12, 36, 60], rows),
            "income": rng.normal(50.0, 12.0, rows).round(3),
            "owner": rng.choice([True, False], rows),
        }
    )
    frame.loc[::9, "grade"] = np.nan
    frame.loc[::5, "income"] = np.nan
    target = frame["term"] * 0.5 + frame["income"].fillna(40) * 0.1 + frame["owner"] * 3.0
    return frame, target.to_numpy()


def train_loans() -> Pipeline:
    """An ordinal encoder for the grade beside passed-through numbers, then gradient boosting."""
    frame, target = loan_frame()
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    columns = ColumnTransformer(
        [("grade", encode, ["grade"]), ("numbers", "passthrough", ["term", "income", "owner"])]
    )
    regressor = HistGradientBoostingRegressor(max_iter=30, random_state=0)
    return Pipeline([("columns", columns), ("regress", regressor)]).fit(frame, target)


def add(config: Path, *args: Any) -> int:
    """Run ``model-registry add`` against ``config``."""
    return main(["add", *map(str, args), "--config", str(config)])


def snapshot(config: Path) -> tuple[str, dict[str, str]]:
    """The config's text and every file and folder under the store with a hash of its bytes."""
    store = config.parent / "model_store"
    listing = {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(store.rglob("*"))
    }
    return config.read_text(), listing


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows: NaN becomes null, numpy scalars become Python ones."""
    rows = frame.astype(object).to_dict(orient="records")
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def served(config: Path, model: str, version: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The predictions the app serves for ``frame``'s rows."""
    client: FlaskClient = create_app(config).test_client()
    response = client.post(f"/models/{model}/{version}/predict", json={"instances": records(frame)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["predictions"]


def assert_served_like(estimator: Any, served_rows: list[dict[str, Any]], frame: pd.DataFrame) -> None:
    """Served labels and probabilities (or values) equal the estimator's own, within 1e-9."""
    if hasattr(estimator, "predict_proba"):
        expected = estimator.predict_proba(frame)
        got = np.array([[row["probabilities"][str(c)] for c in estimator.classes_] for row in served_rows])
        assert [row["label"] for row in served_rows] == [str(x) for x in estimator.predict(frame)]
    else:
        expected = estimator.predict(frame)
        got = np.array([row["value"] for row in served_rows])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
