"""Linear models evaluated straight from their fitted coefficients.

scikit-learn spends most of a linear model's prediction on per-call input checks (fitted?, feature
names, dataframe detection, dtype, finiteness), several times the arithmetic itself for 1,000 iris
rows (docs/performance.md). Our validator has already made the input a finite float array
of the declared width, so those checks are moot on our path. A ``LinearPlan`` does the same numpy
operations, in the same order, as ``StandardScaler.transform`` followed by
``LogisticRegression.predict_proba`` or a linear regressor's ``predict``.

Only exact scikit-learn classes are planned, and a plan is used only after it gave scikit-learn's
own answers on probe rows at load time (``verified_plan``); anything else runs through sklearn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from registry.estimator_checks import sklearn_class_name

SCALERS = frozenset({"StandardScaler"})
CLASSIFIERS = frozenset({"LogisticRegression"})
REGRESSORS = frozenset({"LinearRegression", "Ridge", "Lasso", "ElasticNet"})
PROBE_ROWS = 64


@dataclass(frozen=True)
class Scaling:
    """One StandardScaler: subtract ``mean`` and divide by ``scale`` (either may be skipped)."""

    mean: np.ndarray | None
    scale: np.ndarray | None


@dataclass(frozen=True)
class LinearPlan:
    """``X @ coef.T + intercept`` after the scalings, then ``link``: softmax, logistic or none."""

    scalings: tuple[Scaling, ...]
    coef: np.ndarray
    intercept: np.ndarray | float
    link: str  # "softmax" (multiclass probabilities), "logistic" (two classes) or "identity"

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (one column per class) for a classifier, predictions for a regressor."""
        for scaling in self.scalings:
            X = X - scaling.mean if scaling.mean is not None else X.copy()
            if scaling.scale is not None:
                X /= scaling.scale
        scores = X @ (self.coef.T if self.coef.ndim == 2 else self.coef)
        scores += self.intercept  # in place: one pass less over the scores than a + b
        if self.link == "identity":
            return scores
        if self.link == "logistic":
            positive = expit(scores.reshape(-1))
            return np.stack([1 - positive, positive], axis=1)
        # sklearn's softmax. A reduction along a row of a few classes costs numpy ten times one
        # across the class columns, so the row maximum and sum are taken column by column.
        columns = scores.T
        scores -= functools.reduce(np.maximum, columns).reshape(-1, 1)
        np.exp(scores, out=scores)
        scores /= functools.reduce(np.add, columns).reshape(-1, 1)
        return scores


def linear_plan(transforms: Sequence[Any], final: Any, task: str | None) -> LinearPlan | None:
    """The plan for StandardScalers then a linear model of the task, or None for anything else."""
    if not all(sklearn_class_name(step) in SCALERS and _has_statistics(step) for step in transforms):
        return None
    scalings = tuple(
        Scaling(s.mean_ if s.with_mean else None, s.scale_ if s.with_std else None) for s in transforms
    )
    name = sklearn_class_name(final)
    coef = getattr(final, "coef_", None)
    if not isinstance(coef, np.ndarray) or coef.dtype != np.float64:
        return None
    intercept = final.intercept_
    if task == "classification" and name in CLASSIFIERS:
        n_classes = len(final.classes_)
        if n_classes < 2 or coef.ndim != 2 or coef.shape[0] != (1 if n_classes == 2 else n_classes):
            return None
        return LinearPlan(scalings, coef, intercept, "logistic" if n_classes == 2 else "softmax")
    if task == "regression" and name in REGRESSORS:
        return LinearPlan(scalings, coef, intercept, "identity")
    return None


def verified_plan(
    plan: LinearPlan | None, reference: Callable[[np.ndarray], np.ndarray], bounds: Sequence[tuple]
) -> LinearPlan | None:
    """``plan`` if it gives ``reference``'s answers (sklearn's, to 1e-9 relative) on probe rows
    spread over each feature's ``(minimum, maximum)``, else None; never raises."""
    if plan is None:
        return None
    rows = probe_rows(bounds)
    try:
        expected = np.asarray(reference(rows.copy()), dtype=np.float64)
        got = plan(rows)
    except Exception:  # the estimator cannot run on plain floats: leave it to sklearn
        return None
    same = got.shape == expected.shape and np.allclose(got, expected, rtol=1e-9, atol=1e-12)
    return plan if same else None


def probe_rows(bounds: Sequence[tuple], count: int = PROBE_ROWS) -> np.ndarray:
    """``count`` reproducible rows: uniform within each ``(minimum, maximum)``, normal around 0
    with a spread of 10 where a bound is missing."""
    rng = np.random.default_rng(0)
    columns = []
    for low, high in bounds:
        spread = rng.normal(0, 10, count)
        if low is not None and high is not None:
            columns.append(rng.uniform(low, high, count))
        elif low is not None:
            columns.append(low + np.abs(spread))
        elif high is not None:
            columns.append(high - np.abs(spread))
        else:
            columns.append(spread)
    return np.column_stack(columns).astype(np.float64)


def _has_statistics(scaler: Any) -> bool:
    """Whether the scaler holds the mean and scale it applies (a dense, fitted StandardScaler)."""
    return (not scaler.with_mean or isinstance(getattr(scaler, "mean_", None), np.ndarray)) and (
        not scaler.with_std or isinstance(getattr(scaler, "scale_", None), np.ndarray)
    )
