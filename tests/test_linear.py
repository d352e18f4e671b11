"""Linear models evaluated from their coefficients answer what scikit-learn answers, and anything
the plan does not cover, or gets wrong, stays with scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from registry.inference import Predictor
from registry.linear import LinearPlan, linear_plan, probe_rows, verified_plan
from spec.config import VersionSpec
from spec.features import FeatureSpec


def numbers(count: int, required: bool = True) -> VersionSpec:
    features = tuple(FeatureSpec(f"f{i}", "number", required) for i in range(count))
    return VersionSpec("m", "1", "x.joblib", features)


def columns(X: np.ndarray) -> dict[str, np.ndarray]:
    return {f"f{i}": np.ascontiguousarray(X[:, i]) for i in range(X.shape[1])}


def unseen_rows(X: np.ndarray, count: int = 500) -> np.ndarray:
    """Rows the model never saw, a little beyond the training range."""
    rng = np.random.default_rng(1)
    low, high = X.min(axis=0), X.max(axis=0)
    return rng.uniform(low - 0.2 * (high - low), high + 0.2 * (high - low), size=(count, X.shape[1]))


def iris_labels(binary: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return X, (np.where(y == 0, "setosa", "other") if binary else names)


CLASSIFIERS = [
    pytest.param(lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), id="scaled"),
    pytest.param(lambda: LogisticRegression(max_iter=1000), id="bare"),
    pytest.param(
        lambda: make_pipeline(StandardScaler(with_mean=False), LogisticRegression(max_iter=1000)),
        id="no-mean",
    ),
    pytest.param(
        lambda: make_pipeline(StandardScaler(with_std=False), LogisticRegression(max_iter=1000)), id="no-std"
    ),
    pytest.param(
        lambda: make_pipeline(StandardScaler(), StandardScaler(), LogisticRegression(C=0.1)), id="two-scalers"
    ),
]


@pytest.mark.parametrize("binary", [False, True], ids=["3-classes", "2-classes"])
@pytest.mark.parametrize("make", CLASSIFIERS)
def test_logistic_regression_plans_answer_what_sklearn_answers(make: Any, binary: bool) -> None:
    X, y = iris_labels(binary)
    model = make().fit(X, y)
    predictor = Predictor(numbers(4), model, "classification", tuple(model.classes_))
    assert predictor.linear
    rows = np.vstack([X, unseen_rows(X)])
    outputs = predictor.predict(columns(rows))
    np.testing.assert_allclose(outputs.probabilities, model.predict_proba(rows), rtol=1e-12, atol=1e-15)
    assert outputs.labels == model.predict(rows).tolist()


@pytest.mark.parametrize("regressor", [LinearRegression(), Ridge(alpha=2.0), Lasso(alpha=0.1), ElasticNet()])
def test_linear_regressor_plans_answer_what_sklearn_answers(regressor: Any) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = make_pipeline(StandardScaler(), regressor).fit(X, y)
    predictor = Predictor(numbers(X.shape[1]), model, "regression", None)
    assert predictor.linear
    rows = np.vstack([X, unseen_rows(X)])
    np.testing.assert_allclose(predictor.predict(columns(rows)).values, model.predict(rows), rtol=1e-12)


def test_a_regressor_of_several_targets_keeps_its_columns() -> None:
    X, y = load_diabetes(return_X_y=True)
    targets = np.column_stack([y, -2 * y + 1])
    model = Ridge().fit(X, targets)
    predictor = Predictor(numbers(X.shape[1]), model, "regression", None)
    assert predictor.linear
    values = predictor.predict(columns(X)).values
    assert values.shape == (len(X), 2)
    np.testing.assert_allclose(values, model.predict(X), rtol=1e-12)


class OwnLogisticRegression(LogisticRegression):
    """A subclass may change predict_proba: it is not planned."""

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda: make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=1000)), id="other-scaler"
        ),
        pytest.param(lambda: OwnLogisticRegression(max_iter=1000), id="subclass"),
    ],
)
def test_what_the_plan_does_not_cover_runs_through_sklearn(make: Any) -> None:
    X, y = iris_labels(binary=False)
    model = make().fit(X, y)
    predictor = Predictor(numbers(4), model, "classification", tuple(model.classes_))
    assert not predictor.linear
    np.testing.assert_array_equal(predictor.predict(columns(X)).probabilities, model.predict_proba(X))


def test_optional_features_leave_missing_values_to_sklearn() -> None:
    """NaN must reach scikit-learn, which refuses it, rather than turn into NaN probabilities."""
    X, y = iris_labels(binary=False)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    predictor = Predictor(numbers(4, required=False), model, "classification", tuple(model.classes_))
    assert not predictor.linear


def test_a_plan_that_disagrees_with_sklearn_is_not_used() -> None:
    X, y = iris_labels(binary=False)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    plan = linear_plan((), model, "classification")
    bounds = [(0.0, 10.0)] * 4
    assert verified_plan(plan, model.predict_proba, bounds) is plan
    wrong = LinearPlan(plan.scalings, plan.coef * (1 + 1e-6), plan.intercept, plan.link)
    assert verified_plan(wrong, model.predict_proba, bounds) is None
    assert verified_plan(plan, lambda rows: model.predict_proba(rows)[:, :2], bounds) is None


def test_a_plan_for_the_wrong_task_or_a_missing_fit_is_none() -> None:
    X, y = iris_labels(binary=False)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    assert linear_plan((), model, "regression") is None
    assert linear_plan((), LogisticRegression(), "classification") is None
    assert linear_plan((StandardScaler(),), model, "classification") is None  # an unfitted scaler
    assert linear_plan((), Pipeline([("m", model)]), "classification") is None


def test_probe_rows_stay_within_the_declared_bounds() -> None:
    rows = probe_rows([(0.0, 20.0), (5.0, None), (None, -3.0), (None, None)])
    assert rows.shape == (64, 4) and np.isfinite(rows).all()
    assert ((rows[:, 0] >= 0) & (rows[:, 0] <= 20)).all()
    assert (rows[:, 1] >= 5).all() and (rows[:, 2] <= -3).all()
    assert rows[:, 3].std() > 1
