"""The types of ``predict``'s output columns, from the version alone: the same for every chunk,
every run and every format, whatever the file held and wherever its bad rows fell.

A feature's column takes the type its feature declares: number -> ``float64``, integer ->
``Int64``, boolean -> ``boolean``, category -> ``string`` (a category of integer codes too:
its codes as text), pandas' nullable dtypes where a missing optional value must stay missing without
changing the type. Its values are the ones the validator accepted and the model received (a
CSV's ``True`` is the boolean ``true``, its ``3`` in a number column the float ``3.0``). A row
that fails validation is never in the output (its message is in the errors file), so an invalid
value such as ``'n/a'`` in a number column never reaches a column, nor changes its type.

The predictions: ``label`` in the type of the classes (``string``, ``Int64``, ``boolean`` or
``float64``), ``probability_<label>`` and ``value`` in ``float64``. Columns that are not features
(an id, say) are passed through as read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from batch.formats import BatchUsageError
from spec.features import FeatureSpec

FEATURE_DTYPES = {"number": "float64", "integer": "Int64", "boolean": "boolean", "category": "string"}
FLOAT = "float64"
# A classifier's labels, by the Python types of its classes (as ``classes_.tolist()`` gives them).
_LABEL_DTYPES = {
    frozenset({str}): "string",
    frozenset({int}): "Int64",
    frozenset({bool}): "boolean",
    frozenset({float}): FLOAT,
    frozenset({int, float}): FLOAT,
}


def feature_dtype(feature: FeatureSpec) -> str:
    """The output dtype of a feature's column."""
    return FEATURE_DTYPES[feature.type]


def label_dtype(labels: Sequence[Any] | None) -> str:
    """The output dtype of ``label``: its classes' type; ``object`` when they mix types or are unknown."""
    return _LABEL_DTYPES.get(frozenset(map(type, labels or ())), "object")


def typed_column(values: Sequence[Any], dtype: str, name: str) -> pd.Series:
    """``values`` (JSON-typed Python values or an array, ``None`` for missing) as a ``dtype`` column.

    Raises ``BatchUsageError`` for a whole number too large for an ``Int64`` column (beyond 2**63,
    which a feature without bounds lets through)."""
    try:
        with np.errstate(invalid="ignore"):  # numpy warns on the way to refusing such a number
            return pd.Series(values, dtype=dtype, name=name)
    except (OverflowError, TypeError, ValueError) as exc:
        raise BatchUsageError(
            f"column {name}: a whole number beyond 64 bits passed validation but cannot be written "
            f"as {dtype} ({exc}); give the feature a minimum and maximum so that such rows are refused"
        ) from exc
