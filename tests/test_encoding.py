"""The fast prediction encoder writes byte for byte what orjson writes for the plain dicts.

``as_dicts`` here is the reference: the response's shape written the obvious way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from api.protocols.encoding import encode_predictions
from registry.inference import Outputs


def as_dicts(outputs: Outputs) -> list[dict[str, Any]]:
    """``[{"label", "probabilities"}]`` or ``[{"value"}]``, one per row, built the slow, plain way."""
    if outputs.values is not None:
        return [{"value": value} for value in outputs.values.tolist()]
    if outputs.probabilities is None:
        return [{"label": label} for label in outputs.labels]
    keys = [str(c) for c in outputs.classes]
    return [
        {"label": label, "probabilities": dict(zip(keys, row, strict=True))}
        for label, row in zip(outputs.labels, outputs.probabilities.tolist(), strict=True)
    ]


LABELS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["50%", "%s", 'a"b', "é", "\\", "%b%%"]),
    st.integers(-(2**40), 2**40),
)


@st.composite
def classifications(draw: st.DrawFn) -> Outputs:
    classes = tuple(draw(st.lists(LABELS, min_size=1, max_size=5, unique_by=str)))
    rows = draw(st.integers(1, 30))
    proba = draw(hnp.arrays(np.float64, (rows, len(classes)), elements=st.floats(0, 1)))
    index = proba.argmax(axis=1)
    labels = [classes[i] for i in index.tolist()]
    if draw(st.booleans()):
        return Outputs(labels, index, proba, classes=classes)
    if draw(st.booleans()):
        return Outputs(labels, None, proba, classes=classes)
    return Outputs(labels=labels)


values = hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=300, deadline=None)
@given(st.one_of(classifications(), values.map(lambda v: Outputs(values=v))))
def test_same_bytes_as_the_dicts(outputs: Outputs) -> None:
    assert encode_predictions(outputs) == orjson.dumps(as_dicts(outputs))


def test_multi_output_regression() -> None:
    outputs = Outputs(values=np.array([[1.0, 2.5], [3.0, np.nan]]))
    assert orjson.loads(encode_predictions(outputs)) == [{"value": [1.0, 2.5]}, {"value": [3.0, None]}]


@pytest.mark.parametrize("layout", [np.ascontiguousarray, np.asfortranarray])
@pytest.mark.parametrize("rows", [1, 1000])
def test_iris_shaped_output(rows: int, layout: Any) -> None:
    """Rows stay rows whatever the matrix's memory order (a model may return a Fortran array)."""
    classes = ("setosa", "versicolor", "virginica")
    proba = layout(np.random.default_rng(0).dirichlet([1, 1, 1], size=rows))
    outputs = Outputs(list(np.array(classes)[proba.argmax(1)]), proba.argmax(1), proba, classes=classes)
    assert encode_predictions(outputs) == orjson.dumps(as_dicts(outputs))


def test_strided_values() -> None:
    """A regressor's values may be a view of every other element: written as the values they are."""
    outputs = Outputs(values=np.arange(10.0).reshape(5, 2)[:, 0])
    assert encode_predictions(outputs) == orjson.dumps(as_dicts(outputs))
