"""Infer a version's features from a fitted estimator, and from a sample of its data when given.

Column names and order come from ``feature_names_in_`` (or the sample's columns for an estimator
fitted on an array); a column an encoder handles is a category with the encoder's categories; the
sample adds integer and boolean types, bounds and optional columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from registry.bounds import DEFAULT_BOUNDS
from registry.estimator_checks import encoder_category_lists, is_missing
from registry.sample_columns import column_feature
from spec.features import FeatureSpec


class SignatureError(ValueError):
    """What cannot be inferred, and what the user can give to make it possible."""


def infer_features(
    estimator: Any, sample: pd.DataFrame | None = None, bounds: str = DEFAULT_BOUNDS
) -> tuple[FeatureSpec, ...]:
    """One feature per input column of ``estimator``, in the order it expects them; numeric bounds
    come from the sample by the ``bounds`` rule (registry.bounds)."""
    names = feature_names(estimator, sample)
    categories = encoder_category_lists(estimator, names)
    columns = {str(c): sample[c] for c in sample.columns} if sample is not None else {}
    return tuple(_feature(name, categories.get(name), columns.get(name), bounds) for name in names)


def feature_names(estimator: Any, sample: pd.DataFrame | None) -> list[str]:
    """The estimator's input columns: ``feature_names_in_``, else the sample's columns (counts checked)."""
    kind = type(estimator).__name__
    declared = getattr(estimator, "feature_names_in_", None)
    if declared is not None:
        names = [str(n) for n in declared]
        if sample is not None:
            missing = [n for n in names if n not in {str(c) for c in sample.columns}]
            if missing:
                raise SignatureError(f"the sample has no column {', '.join(missing)} ({kind} needs them)")
        return names
    count = getattr(estimator, "n_features_in_", None)
    if sample is None:
        raise SignatureError(
            f"{kind} was fitted on an array, so it has no feature_names_in_ and the feature names "
            f"cannot be inferred; give --sample FILE whose {count or 'N'} columns are its inputs, in order"
        )
    if count is not None and count != len(sample.columns):
        raise SignatureError(
            f"{kind} expects {count} features, but the sample has {len(sample.columns)} columns "
            f"({', '.join(map(str, sample.columns))}); give a sample holding only its inputs, in order"
        )
    return [str(c) for c in sample.columns]


def _feature(name: str, learnt: list[Any] | None, column: pd.Series | None, bounds: str) -> FeatureSpec:
    sampled = column_feature(name, column, bounds) if column is not None else None
    gaps = sampled is not None and not sampled.required
    if learnt is not None:
        encoded = _encoded_feature(name, learnt)
        if encoded is not None:
            return FeatureSpec(name, encoded.type, encoded.required and not gaps, encoded.categories)
    return sampled or FeatureSpec(name, "number")


def _encoded_feature(name: str, learnt: list[Any]) -> FeatureSpec | None:
    """A category (or boolean) from an encoder's categories; None if they cannot be declared (floats)."""
    required = not any(is_missing(c) for c in learnt)
    values = [c for c in learnt if not is_missing(c)]
    if values and all(isinstance(c, bool) for c in values):
        return FeatureSpec(name, "boolean", required)
    if all(isinstance(c, float) and c.is_integer() for c in values):
        values = [int(c) for c in values]
    if not values or not all(isinstance(c, str | int) for c in values):
        return None
    if len({type(c) for c in values}) > 1:
        values = [str(c) for c in values]
    return FeatureSpec(name, "category", required, tuple(values))
