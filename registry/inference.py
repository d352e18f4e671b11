"""Run a loaded estimator on validated columns and shape its predictions.

A ``Predictor`` is built once per version at load time and decides, from the estimator and the
features, the cheapest input that gives the same answer: a plain float array for numeric models
(pandas and sklearn's DataFrame checks cost more than the prediction), a DataFrame in feature
order for anything that selects columns by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from registry.estimator_checks import sklearn_class_name
from registry.linear import linear_plan, verified_plan
from spec.config import VersionSpec
from spec.errors import PredictionError

# Classifiers whose predict() is exactly the argmax of predict_proba(): for them one call gives
# both labels and probabilities (a forest's predict() would otherwise compute its probabilities twice).
# Matched by class name, so that start-up does not import the modules that define them.
ARGMAX_CLASSIFIERS = frozenset(
    {
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "LogisticRegression",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "GaussianNB",
        "MultinomialNB",
        "BernoulliNB",
        "ComplementNB",
        "CategoricalNB",
        "MLPClassifier",
        "CalibratedClassifierCV",
    }
)
FORESTS = frozenset({"RandomForestClassifier", "ExtraTreesClassifier"})
_NAMES_WARNING = "X does not have valid feature names"


class Predictor:
    """Runs one version's estimator: columns in, ``Outputs`` (labels, probabilities or values) out."""

    def __init__(self, spec: VersionSpec, estimator: Any, task: str | None, labels: tuple | None) -> None:
        self.spec = spec
        self.estimator = estimator
        self.task = task
        self.features = spec.feature_names
        self.array_input = _accepts_array(spec, estimator)
        self.fitted_with_names = getattr(estimator, "feature_names_in_", None) is not None
        # NaN only reaches the model for optional features; otherwise sklearn's finiteness check is moot.
        self.assume_finite = all(f.required for f in spec.features)
        self.transforms, self.final = _split(estimator)
        self.labels = labels
        self.classes = np.asarray(labels, dtype=object) if labels is not None else None
        self.has_proba = hasattr(self.final, "predict_proba")
        self.argmax_labels = self.has_proba and sklearn_class_name(self.final) in ARGMAX_CLASSIFIERS
        self.predict_proba = self.final.predict_proba if self.has_proba else None
        self.predict_values = self.final.predict
        self.linear = False  # until the plan is verified, through predict() itself
        if _is_sequential_forest(self.final):
            self.predict_proba = partial(forest_proba, self.final)
        self.linear = self._use_linear_plan()

    def _use_linear_plan(self) -> bool:
        """Evaluate a scaled linear model from its coefficients (registry.linear) when its answers
        on probe rows are sklearn's; only for finite numeric input, which sklearn would not refuse."""
        if not (self.array_input and self.assume_finite):
            return False
        bounds = [(f.minimum, f.maximum) for f in self.spec.features]
        plan = verified_plan(linear_plan(self.transforms, self.final, self.task), self._served_answer, bounds)
        if plan is None:
            return False
        self.transforms = ()
        if self.task == "classification":
            self.predict_proba = plan
        else:
            self.predict_values = plan
        return True

    def _served_answer(self, rows: np.ndarray) -> np.ndarray | None:
        """What ``predict`` answers for ``rows`` (one column per feature) on the path it takes now:
        the probabilities of a classifier, the values of a regressor."""
        outputs = self.predict(dict(zip(self.features, rows.T, strict=True)))
        return outputs.probabilities if self.task == "classification" else outputs.values

    def predict(self, columns: Mapping[str, np.ndarray]) -> Outputs:
        """The estimator's outputs for the rows, in order; raises ``PredictionError`` if it fails."""
        try:
            # The linear plan is our own arithmetic: no sklearn setting or warning to scope.
            with _NO_SKLEARN if self.linear else sklearn_scope(self.assume_finite):
                return self._predict(self.model_input(columns))
        except Exception as exc:  # the estimator's own failure, not the client's
            raise PredictionError(self.spec.model, self.spec.version, f"{type(exc).__name__}: {exc}") from exc

    def model_input(self, columns: Mapping[str, np.ndarray]) -> Any:
        """A float array, or a DataFrame with the features as columns in declared order."""
        if self.array_input:
            return np.column_stack([columns[name] for name in self.features]).astype(np.float64, copy=False)
        frame = pd.DataFrame({name: columns[name] for name in self.features}, copy=False)
        return frame if self.fitted_with_names else frame.to_numpy()

    def _predict(self, X: Any) -> Outputs:
        # Once, for both labels and probabilities; step by step as Pipeline.transform does, minus
        # its per-call routing and tags (a third of a small model's prediction time).
        for step in self.transforms:
            X = step.transform(X)
        if self.task != "classification":
            return Outputs(values=np.asarray(self.predict_values(X)))
        if not self.has_proba:
            return Outputs(labels=self.final.predict(X).tolist())
        proba = self.predict_proba(X)
        if self.argmax_labels:
            index = proba.argmax(axis=1)
            return Outputs(self.classes.take(index).tolist(), index, proba, classes=self.labels)
        return Outputs(self.final.predict(X).tolist(), None, proba, classes=self.labels)


@contextmanager
def sklearn_scope(assume_finite: bool) -> Iterator[None]:
    """sklearn's ``assume_finite`` set, and its warning about unnamed features silenced, within."""
    with sklearn.config_context(assume_finite=assume_finite), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NAMES_WARNING, category=UserWarning)
        yield


_NO_SKLEARN = nullcontext()


@dataclass(slots=True)  # built per request: not frozen, whose __init__ costs more
class Outputs:
    """What the estimator said about each row: labels (with probabilities), or values."""

    labels: list[Any] | None = None
    label_index: np.ndarray | None = None  # each row's label as an index into ``classes``
    probabilities: np.ndarray | None = None  # one column per class, in ``classes`` order
    values: np.ndarray | None = None
    classes: tuple[Any, ...] | None = None


def forest_proba(forest: Any, X: Any) -> np.ndarray:
    """A forest's ``predict_proba``, tree after tree in this thread: the same sums in the same order.

    sklearn runs each tree through joblib's ``Parallel`` even with ``n_jobs=None``, and wraps every
    call in a config context and warning filters; for one row that costs several times the trees'
    own work. Inputs are checked by the forest's own ``_validate_X_predict``.
    """
    X = forest._validate_X_predict(X)
    proba = np.zeros((X.shape[0], forest.n_classes_), dtype=np.float64)
    for tree in forest.estimators_:
        proba += tree.predict_proba(X, check_input=False)
    proba /= len(forest.estimators_)
    return proba


def _is_sequential_forest(estimator: Any) -> bool:
    """A single-output forest classifier that would run its trees one after another anyway."""
    return (
        sklearn_class_name(estimator) in FORESTS
        and getattr(estimator, "n_outputs_", 0) == 1
        and estimator.n_jobs in (None, 1)
        and hasattr(estimator, "_validate_X_predict")
    )


def _split(estimator: Any) -> tuple[tuple[Any, ...], Any]:
    """(the transformers before the last step, the last step) of a Pipeline, skipping the steps
    set to None or "passthrough" as the Pipeline does; ((), estimator) otherwise.

    A subclass of Pipeline (imbalanced-learn's skips its samplers) keeps its own ``transform``:
    its head is one step, the sliced pipeline."""
    if type(estimator) is Pipeline:
        steps = [step for _, step in estimator.steps]
        return tuple(s for s in steps[:-1] if s is not None and s != "passthrough"), steps[-1]
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        return (estimator[:-1],), estimator.steps[-1][1]
    return (), estimator


def _accepts_array(spec: VersionSpec, estimator: Any) -> bool:
    """True when every feature is numeric and nothing in the estimator selects columns by name."""
    if any(f.type == "category" for f in spec.features):
        return False
    return not _contains(estimator, ColumnTransformer)


def _contains(estimator: Any, kind: type) -> bool:
    if isinstance(estimator, kind):
        return True
    if isinstance(estimator, Pipeline):
        return any(_contains(step, kind) for _, step in estimator.steps)
    return False
