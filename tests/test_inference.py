"""Shortcuts in inference give exactly what scikit-learn's own calls give."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

from registry.inference import _is_sequential_forest, forest_proba


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
