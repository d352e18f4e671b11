"""Shortcuts in inference give exactly what scikit-learn's own calls give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from registry.inference import Predictor, _is_sequential_forest, _split, forest_proba
from spec.config import VersionSpec
from spec.features import FeatureSpec


@pytest.mark.parametrize("forest_class", [RandomForestClassifier, ExtraTreesClassifier])
@pytest.mark.parametrize("with_gaps", [False, True])
def test_forest_proba_is_bit_identical(forest_class: type, with_gaps: bool) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", np.where(X[:, 2] > 0.5, "maybe", "no"))
    if with_gaps and forest_class is RandomForestClassifier:  # forests that learn from missing values
        X[rng.random(X.shape) < 0.1] = np.nan
    forest = forest_class(n_estimators=25, random_state=0).fit(X, y)
    assert _is_sequential_forest(forest)
    for rows in (X[:1], X[:57], rng.normal(size=(300, 5))):
        assert np.array_equal(forest_proba(forest, rows), forest.predict_proba(rows))


def test_parallel_forests_keep_their_own_path() -> None:
    forest = RandomForestClassifier(n_estimators=3, n_jobs=2).fit(np.eye(4), [0, 1, 0, 1])
    assert not _is_sequential_forest(forest)


FOUR_NUMBERS = VersionSpec("iris", "1", "x.joblib", tuple(FeatureSpec(f"f{i}", "number") for i in range(4)))


class SkippingPipeline(Pipeline):
    """A Pipeline subclass whose transform differs from running its steps (as imbalanced-learn's,
    which skips its samplers): here it skips a step named "noise"."""

    def transform(self, X: Any, **params: Any) -> Any:
        for name, step in self.steps:
            if name != "noise":
                X = step.transform(X)
        return X


@pytest.mark.parametrize("passthrough", [None, "passthrough"])
def test_pipeline_steps_give_what_the_pipeline_gives(passthrough: Any) -> None:
    X, y = load_iris(return_X_y=True)
    pipeline = Pipeline([("scale", StandardScaler()), ("skip", passthrough), ("model", LogisticRegression())])
    pipeline.fit(X, y)
    spec = FOUR_NUMBERS
    transforms, final = _split(pipeline)
    assert [type(step) for step in transforms] == [StandardScaler] and final is pipeline[-1]
    predictor = Predictor(spec, pipeline, "classification", tuple(pipeline.classes_))
    outputs = predictor.predict({f"f{i}": X[:, i] for i in range(4)})
    np.testing.assert_allclose(outputs.probabilities, pipeline.predict_proba(X), rtol=1e-12)


def test_a_pipeline_subclass_keeps_its_own_transform() -> None:
    X, y = load_iris(return_X_y=True)
    scaler = StandardScaler().fit(X)
    model = LogisticRegression().fit(scaler.transform(X), y)
    noise = FunctionTransformer(lambda a: a * 0).fit(X)
    pipeline = SkippingPipeline([("scale", scaler), ("noise", noise), ("model", model)])
    predictor = Predictor(FOUR_NUMBERS, pipeline, "classification", tuple(model.classes_))
    assert [type(step) for step in predictor.transforms] == [SkippingPipeline]
    outputs = predictor.predict({f"f{i}": X[:, i] for i in range(4)})
    np.testing.assert_allclose(outputs.probabilities, model.predict_proba(scaler.transform(X)), rtol=1e-12)


@pytest.mark.parametrize(
    "model", [LogisticRegression(max_iter=1000), RandomForestClassifier(n_estimators=5, random_state=0)]
)
def test_prediction_warns_nothing_and_leaves_sklearn_settings_as_they_were(model: Any) -> None:
    """A model fitted on named columns gets a plain array: sklearn's warning about it is silenced
    and ``assume_finite`` set only around sklearn's own calls; the linear plan needs neither."""
    import warnings

    import pandas as pd
    import sklearn

    X, y = load_iris(return_X_y=True)
    model.fit(pd.DataFrame(X, columns=[f"f{i}" for i in range(4)]), y)
    predictor = Predictor(FOUR_NUMBERS, model, "classification", tuple(model.classes_))
    assert predictor.linear == isinstance(model, LogisticRegression)
    before = sklearn.get_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = predictor.predict({f"f{i}": X[:, i] for i in range(4)})
    np.testing.assert_allclose(
        outputs.probabilities,
        model.predict_proba(pd.DataFrame(X, columns=model.feature_names_in_)),
        rtol=1e-9,
    )
    assert sklearn.get_config() == before
