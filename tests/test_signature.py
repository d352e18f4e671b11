"""Feature inference from estimators: TargetEncoders, positional columns, integer-coded categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, TargetEncoder

from registry.signature import infer_features
from spec.features import FeatureSpec


def test_target_encoder_categories_become_a_category() -> None:
    frame = pd.DataFrame({"city": ["oslo", "rome", "lima", "oslo"] * 10, "rooms": [1, 2, 3, 4] * 10})
    columns = ColumnTransformer([("city", TargetEncoder(), ["city"])], remainder="passthrough")
    model = Pipeline([("columns", columns), ("fit", Ridge())]).fit(frame, np.linspace(0.1, 7.3, 40))
    assert infer_features(model) == (
        FeatureSpec("city", "category", True, ("lima", "oslo", "rome")),
        FeatureSpec("rooms", "number"),
    )


def test_positional_columns_of_an_array_fitted_model_are_named_by_the_sample() -> None:
    data = np.array([[1, 0.5], [2, 1.5], [3, 2.5], [1, 3.5]])
    columns = ColumnTransformer([("code", OrdinalEncoder(), [0])], remainder="passthrough")
    model = Pipeline([("columns", columns), ("fit", LinearRegression())]).fit(data, [1.0, 2.0, 3.0, 4.0])
    sample = pd.DataFrame({"code": [1, 2, 3, 1], "width": [0.5, 1.5, 2.5, 3.5]})
    assert infer_features(model, sample, bounds="sample") == (
        FeatureSpec("code", "category", True, (1, 2, 3)),  # float categories 1.0, 2.0, 3.0 as codes
        FeatureSpec("width", "number", True, None, 0.5, 3.5),
    )
