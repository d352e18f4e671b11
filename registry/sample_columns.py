"""Read a sample file (CSV or Parquet, e.g. the training data) and describe its columns as features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from registry.bounds import DEFAULT_BOUNDS, declared_bounds
from spec.features import FeatureSpec

SAMPLE_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


class SampleError(ValueError):
    """The sample file cannot be read or does not hold what is needed; the message says why."""


def check_sample_path(path: Path) -> None:
    """Raise ``SampleError`` unless ``path`` is a file of a kind ``read_sample`` reads."""
    if path.suffix.lower() not in SAMPLE_READERS:
        raise SampleError(f"{path}: a sample must be CSV or Parquet ({', '.join(SAMPLE_READERS)})")
    if not path.is_file():
        raise SampleError(f"{path}: no such file")


def read_sample(path: Path, wanted: list[str] | None = None) -> pd.DataFrame:
    """The sample with nullable dtypes, so an integer or boolean column with gaps keeps its type.

    With ``wanted``, only those of its columns are read (a training file may hold many more), in
    the file's order; the ones it lacks are left for the caller to name.
    """
    check_sample_path(path)
    parquet = path.suffix.lower() != ".csv"
    try:
        if wanted is None:
            return SAMPLE_READERS[path.suffix.lower()](path, dtype_backend="numpy_nullable")
        keep = set(wanted)
        columns = [c for c in _column_names(path, parquet) if c in keep]
        if parquet:
            return pd.read_parquet(path, columns=columns, dtype_backend="numpy_nullable")
        return pd.read_csv(path, usecols=columns, dtype_backend="numpy_nullable")
    except ImportError as exc:
        raise SampleError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except (OSError, ValueError) as exc:
        raise SampleError(f"{path}: cannot be read: {exc}") from None


def _column_names(path: Path, parquet: bool) -> list[str]:
    if parquet:
        import pyarrow.parquet

        return pyarrow.parquet.read_schema(path).names
    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def column_feature(name: str, column: pd.Series, bounds: str = DEFAULT_BOUNDS) -> FeatureSpec:
    """A feature from a sample column: integer, boolean or number with bounds from the sample by the
    ``bounds`` rule (registry.bounds), or a category of the values seen; ``required`` is false when
    the column has gaps."""
    required = not bool(column.isna().any())
    values = column.dropna()
    if ptypes.is_bool_dtype(column):
        return FeatureSpec(name, "boolean", required)
    if ptypes.is_integer_dtype(column):
        return FeatureSpec(name, "integer", required, None, *_bounds(values, int, bounds))
    if ptypes.is_numeric_dtype(column):
        return FeatureSpec(name, "number", required, None, *_bounds(values, float, bounds))
    return FeatureSpec(name, "category", required, tuple(sorted({str(v) for v in values})))


def _bounds(values: pd.Series, kind: type, rule: str) -> tuple[Any, Any]:
    if values.empty:
        return None, None
    return declared_bounds(kind(values.min()), kind(values.max()), kind is int, rule)
