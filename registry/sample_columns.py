"""Read a sample file (CSV or Parquet, e.g. the training data) and describe its columns as features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from spec.features import FeatureSpec

SAMPLE_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


class SampleError(ValueError):
    """The sample file cannot be read or does not hold what is needed; the message says why."""


def read_sample(path: Path) -> pd.DataFrame:
    """The sample with nullable dtypes, so an integer or boolean column with gaps keeps its type."""
    reader = SAMPLE_READERS.get(path.suffix.lower())
    if reader is None:
        raise SampleError(f"{path}: a sample must be CSV or Parquet ({', '.join(SAMPLE_READERS)})")
    try:
        return reader(path, dtype_backend="numpy_nullable")
    except ImportError as exc:
        raise SampleError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except (OSError, ValueError) as exc:
        raise SampleError(f"{path}: cannot be read: {exc}") from None


def column_feature(name: str, column: pd.Series) -> FeatureSpec:
    """A feature from a sample column: integer, boolean or number with the sample's bounds, or a
    category of the values seen; ``required`` is false when the column has gaps."""
    required = not bool(column.isna().any())
    values = column.dropna()
    if ptypes.is_bool_dtype(column):
        return FeatureSpec(name, "boolean", required)
    if ptypes.is_integer_dtype(column):
        return FeatureSpec(name, "integer", required, None, *_bounds(values, int))
    if ptypes.is_numeric_dtype(column):
        return FeatureSpec(name, "number", required, None, *_bounds(values, float))
    return FeatureSpec(name, "category", required, tuple(sorted({str(v) for v in values})))


def _bounds(values: pd.Series, kind: type) -> tuple[Any, Any]:
    if values.empty:
        return None, None
    return kind(values.min()), kind(values.max())
