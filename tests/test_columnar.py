"""The column-wise checks against the marshmallow reference, on random good and bad batches.

Both must agree exactly: the same columns for the model, or the same 400 message and errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.validation import RequestValidator
from spec.config import VersionSpec
from spec.errors import InvalidInputError
from spec.features import FeatureSpec

SPEC = VersionSpec(
    model="mixed",
    version="1",
    artifact="unused.joblib",
    features=(
        FeatureSpec("color", "category", categories=("red", "green", "blue")),
        FeatureSpec("size", "integer", minimum=30, maximum=50),
        FeatureSpec("weight", "number", minimum=0.0),
        FeatureSpec("material", "category", required=False, categories=("leather", "canvas")),
        FeatureSpec("grade", "category", required=False, categories=(1, 2, 3)),
        FeatureSpec("length", "number", required=False, maximum=10.5),
        FeatureSpec("waterproof", "boolean", required=False),
    ),
)
VALIDATOR = RequestValidator(SPEC)

GOOD = {
    "color": st.sampled_from(["red", "green", "blue"]),
    "size": st.integers(30, 50) | st.integers(30, 50).map(float),
    "weight": st.floats(0, 1e6) | st.integers(0, 10**6),
    "material": st.sampled_from(["leather", "canvas", None]),
    "grade": st.sampled_from([1, 2, 3, None]),
    "length": st.floats(-1e3, 10.5) | st.none(),
    "waterproof": st.booleans() | st.none(),
}
NOT_NUMBERS = [True, False, "1", "nan", [], {}, float("nan"), float("inf"), float("-inf")]
BAD_VALUES = {
    "color": ["pink", "Red", "", 1, True, None, ["red"]],
    "size": [29, 51, 40.5, 29.999, 10**400, -(10**400), None, *NOT_NUMBERS],
    "weight": [-1, -0.001, -(10**400), 10**400, None, *NOT_NUMBERS],
    "material": ["wool", 1, True, ["leather"]],
    "grade": [0, 4, "1", 1.0, True, 2.5],
    "length": [10.5000001, 11, 10**400, "3", *NOT_NUMBERS],
    "waterproof": [0, 1, "true", "false", 1.0, []],
}
BAD = {name: st.sampled_from(values) | st.floats() for name, values in BAD_VALUES.items()}


@st.composite
def good_rows(draw: st.DrawFn) -> dict[str, Any]:
    row = {}
    for feature in SPEC.features:
        if feature.required or draw(st.booleans()):
            row[feature.name] = draw(GOOD[feature.name])
    return row


@st.composite
def rows(draw: st.DrawFn, defects: bool) -> Any:
    """A valid row, or (when ``defects``, one time in three) a row with exactly one thing wrong."""
    row = draw(good_rows())
    if not defects or draw(st.booleans()):
        return row
    defect = draw(st.sampled_from(["value", "value", "value", "absent", "unknown", "not a row"]))
    name = draw(st.sampled_from(SPEC.feature_names))
    if defect == "value":
        row[name] = draw(BAD[name])
    elif defect == "absent":
        row.pop(name, None)
    elif defect == "unknown":
        row["unknown"] = 1
    else:
        return draw(st.sampled_from([None, [], "row", 3]))
    return row


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    batch = draw(st.lists(rows(draw(st.booleans())), min_size=1, max_size=12))
    batched = len(batch) > 1 or draw(st.booleans())
    names = {tuple(sorted(r)) for r in batch if isinstance(r, dict)}
    if batched and len(names) == 1 and all(isinstance(r, dict) for r in batch) and draw(st.booleans()):
        keys = next(iter(names))
        if keys:
            return Envelope(columns={k: [r[k] for r in batch] for k in keys}, batched=True)
    return Envelope(rows=batch, batched=batched)


def outcome(validate: Any, envelope: Envelope) -> tuple[str, Any]:
    try:
        return "columns", validate(envelope)
    except InvalidInputError as error:
        return "error", (error.message, error.errors)


def same_column(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return all(x == y or (x != x and y != y) for x, y in zip(a.tolist(), b.tolist(), strict=True))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_fast_path_matches_the_reference(envelope: Envelope) -> None:
    assert_fast_path_matches_the_reference(envelope)


def assert_fast_path_matches_the_reference(envelope: Envelope) -> None:
    fast = outcome(VALIDATOR.validate, envelope)
    reference = outcome(VALIDATOR.validate_reference, envelope)
    assert fast[0] == reference[0]
    if fast[0] == "error":
        assert fast[1] == reference[1]
    else:
        assert list(fast[1]) == SPEC.feature_names
        for name in SPEC.feature_names:
            assert same_column(fast[1][name], reference[1][name]), name


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"color": "red", "size": 40, "weight": 1.0}] * 3
            + [{"color": "pink", "size": 40.5, "weight": -1}],
            "Row 3: Invalid values: color: 'pink' is not a valid value; valid: red, green, blue. "
            "size: 40.5 is not an integer. weight: -1.0 is less than the minimum, 0.0.",
        ),
        (
            [{"color": "red", "size": 40, "weight": 10**400}],
            "Row 0: Invalid values: weight: 100000000000000000...0000000000000000000 is too large.",
        ),
    ],
)
def test_fast_path_names_only_the_bad_rows(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        VALIDATOR.validate(Envelope(rows=rows, batched=True))
    assert caught.value.message == message


BASE = {"color": "red", "size": 40, "weight": 1.5, "material": "canvas", "grade": 2, "length": 3.0}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in BAD_VALUES.items() for value in values]
)
@pytest.mark.parametrize("shape", ["rows", "columns"])
def test_each_bad_value_is_found_in_a_good_batch(name: str, value: Any, shape: str) -> None:
    batch = [BASE, BASE, {**BASE, name: value}, BASE]
    if shape == "rows":
        envelope = Envelope(rows=batch, batched=True)
    else:
        names = {**BASE, name: None}  # an optional feature absent from BASE is null in its column
        envelope = Envelope(columns={k: [row.get(k) for row in batch] for k in names}, batched=True)
    fast = outcome(VALIDATOR.validate, envelope)
    reference = outcome(VALIDATOR.validate_reference, envelope)
    assert fast[0] == reference[0] == "error"
    assert fast[1] == reference[1]
    assert list(fast[1][1]) == ["2"]


ONE_ROW_VALUES = [
    *((name, value) for name, values in BAD_VALUES.items() for value in values),
    *((name, value) for name in ("size", "weight", "length") for value in (math.nan, math.inf, -math.inf)),
    *(("size", value) for value in (30, 50, 40.0, 30.0)),  # the range's ends, a whole float
    *(("weight", value) for value in (0, 0.0, 1e300)),
    *(("length", value) for value in (10.5, -1e300, None)),
]


@pytest.mark.parametrize(("name", "value"), ONE_ROW_VALUES)
@pytest.mark.parametrize("shape", ["row", "columns"])
def test_a_one_row_request_gets_the_reference_answer(name: str, value: Any, shape: str) -> None:
    """One row takes a shortcut in the range checks (its value is both ends); it must agree."""
    row = {**BASE, name: value}
    if shape == "row":
        envelope = Envelope(rows=[row])
    else:
        envelope = Envelope(columns={k: [v] for k, v in row.items()}, batched=True)
    assert_fast_path_matches_the_reference(envelope)
