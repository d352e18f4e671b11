"""Column-wise validation: the checks that serve every request, batches above all.

It only *finds* bad rows; the marshmallow schema stays the reference that describes them. So a
row is flagged whenever marshmallow could reject it, and what is not flagged must load to the same
values marshmallow would give (tests/test_columnar.py checks both on random batches).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from schemas.envelope import NumberColumn
from spec.features import FeatureSpec

NONE_TYPE = type(None)
_NUMERIC_TYPES = frozenset({int, float})


def feature_array(feature: FeatureSpec, values: Sequence[Any]) -> np.ndarray:
    """The column the model receives: float64 for numbers (missing as NaN), else the values as sent.

    A boolean or integer-coded category column with a missing value becomes an object column
    holding ``numpy.nan``, as pandas reads an empty cell.
    """
    if feature.type in ("number", "integer"):
        return np.array(values, dtype=np.float64)
    if None not in values:
        if feature.type == "boolean":
            return np.array(values, dtype=bool)
        if feature.integer_coded:
            return np.array(values, dtype=np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = [np.nan if v is None else v for v in values]
    return array


class ColumnCheck:
    """The checks for one feature, compiled once per version."""

    def __init__(self, feature: FeatureSpec) -> None:
        self.feature = feature
        self.name = feature.name
        self.optional = not feature.required
        self.numeric = feature.type in ("number", "integer")
        if self.numeric:
            allowed = _NUMERIC_TYPES
        elif feature.type == "boolean":
            allowed = frozenset({bool})
        else:
            allowed = frozenset({type(feature.categories[0])})
        self.allowed_types = allowed | {NONE_TYPE} if self.optional else allowed
        self.categories = frozenset(feature.categories) if feature.categories else None

    def check(self, values: Sequence[Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(array, None)`` when every value is valid, else ``(None, mask of the rows to describe)``.

        ``values`` is a list, or a ``NumberColumn`` (JSON numbers already in float64)."""
        if type(values) is NumberColumn:
            if self.numeric:
                return self._check_numbers(values.array)
            values = values.as_list()
        if set(map(type, values)) <= self.allowed_types:
            if self.numeric:
                return self._check_numbers(values)
            if self.categories is None or self.categories.issuperset(v for v in values if v is not None):
                return feature_array(self.feature, values), None
        return None, np.fromiter((not self.is_valid(v) for v in values), dtype=bool, count=len(values))

    def _check_numbers(self, values: Sequence[Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
        try:
            array = np.asarray(values, dtype=np.float64)
        except OverflowError:  # an integer too large for a float
            return None, np.fromiter((not self.is_valid(v) for v in values), dtype=bool, count=len(values))
        if self._all_in_range(array):
            return array, None
        bad = ~np.isfinite(array)
        if self.optional and NONE_TYPE in set(map(type, values)):
            bad &= np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        if self.feature.type == "integer":
            bad |= np.isfinite(array) & (array != np.floor(array))
        if self.feature.minimum is not None:
            bad |= array < self.feature.minimum
        if self.feature.maximum is not None:
            bad |= array > self.feature.maximum
        return (array, None) if not bad.any() else (None, bad)

    def _all_in_range(self, array: np.ndarray) -> bool:
        """Whether every number is finite, within the range and (for integers) whole: two
        reductions instead of a mask, since a NaN (a missing value) or an infinity carries into
        the minimum or the maximum."""
        if not array.size:
            return True
        if array.size == 1:  # one row: its value is both ends, without two reductions
            low = high = float(array[0])
        else:
            low, high = float(array.min()), float(array.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            return False
        if self.feature.minimum is not None and low < self.feature.minimum:
            return False
        if self.feature.maximum is not None and high > self.feature.maximum:
            return False
        if self.feature.type != "integer":
            return True
        return low.is_integer() if array.size == 1 else bool((array == np.floor(array)).all())

    def is_valid(self, value: Any) -> bool:
        """One value on its own: the slow check used to locate the bad rows in a bad column."""
        if value is None:
            return self.optional
        if type(value) not in self.allowed_types:
            return False
        if self.categories is not None:
            return value in self.categories
        if not self.numeric:
            return True
        try:
            number = float(value)
        except OverflowError:
            return False
        if not math.isfinite(number):
            return False
        if self.feature.type == "integer" and not number.is_integer():
            return False
        low, high = self.feature.minimum, self.feature.maximum
        return (low is None or number >= low) and (high is None or number <= high)
