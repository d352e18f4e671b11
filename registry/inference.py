"""Run a loaded version on validated rows: one DataFrame in feature order, then predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from registry.config import FeatureSpec
from registry.errors import PredictionError
from registry.registry import ModelVersion


def predict(version: ModelVersion, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One prediction per row, in order: ``label`` (+ ``probabilities``) or ``value``.

    Missing optional values (``None``) reach the estimator as ``numpy.nan``.
    """
    frame = build_frame(version, rows)
    try:
        if version.task == "classification":
            return _classify(version, frame)
        return [{"value": value} for value in version.estimator.predict(frame).tolist()]
    except Exception as exc:  # the estimator's own failure, not the client's
        raise PredictionError(version.model, version.version, f"{type(exc).__name__}: {exc}") from exc


def build_frame(version: ModelVersion, rows: Sequence[dict[str, Any]]) -> Any:
    """A DataFrame with the version's features as columns, in declared order.

    An estimator fitted without feature names gets the plain array instead, as it was fitted.
    """
    columns = {f.name: _column(f, [row[f.name] for row in rows]) for f in version.spec.features}
    frame = pd.DataFrame(columns, copy=False)
    if getattr(version.estimator, "feature_names_in_", None) is None:
        return frame.to_numpy()
    return frame


def _column(feature: FeatureSpec, values: list[Any]) -> np.ndarray:
    if feature.type in ("number", "integer"):
        return np.array(values, dtype=np.float64)
    has_missing = any(v is None for v in values)
    if not has_missing and feature.type == "boolean":
        return np.array(values, dtype=bool)
    if not has_missing and feature.type == "category" and isinstance(feature.categories[0], int):
        return np.array(values, dtype=np.int64)
    return np.array([np.nan if v is None else v for v in values], dtype=object)


def _classify(version: ModelVersion, frame: Any) -> list[dict[str, Any]]:
    estimator = version.estimator
    # Transform once and ask the final step for both labels and probabilities.
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        frame, estimator = estimator[:-1].transform(frame), estimator.steps[-1][1]
    labels = estimator.predict(frame).tolist()
    if not hasattr(estimator, "predict_proba"):
        return [{"label": label} for label in labels]
    keys = [str(label) for label in version.labels]
    return [
        {"label": label, "probabilities": dict(zip(keys, row, strict=True))}
        for label, row in zip(labels, estimator.predict_proba(frame).tolist(), strict=True)
    ]
