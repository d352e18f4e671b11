"""A file's column as the values the API would receive for a feature from JSON.

The validator is strict about JSON types, so each cell becomes what a client would have sent:
Python ``int``/``float``/``bool``/``str``, and ``None`` for a missing cell. CSV holds only text,
so every feature column of a CSV is read as text and its cells are read back here: a cell of a
numeric feature (number, integer, integer-coded category) is a number when it is one in JSON's
number grammar, read by the API's own parser (orjson), so ``1_0``, `` 1``, ``+1``, ``0x10``,
``nan`` or ``١`` stay text and are refused with the API's message for a non-number; ``True`` or
``false`` (any case) is a boolean for a boolean feature. JSON Lines are JSON already and Parquet
is typed: their values are taken as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pandas as pd

from spec.features import FeatureSpec

_BOOLEANS = {"true": True, "false": False}
_NUMBER_START = frozenset("-0123456789")  # JSON has no '+', no leading '.', no whitespace inside
_DIGITS = frozenset("0123456789")
# The nullable dtype of a column whose values (None aside) are all of these JSON types.
_DTYPES = {
    frozenset({int}): "Int64",
    frozenset({float}): "Float64",
    frozenset({int, float}): "Float64",
    frozenset({bool}): "boolean",
    frozenset({str}): "string",
}


def json_number(text: str) -> int | float | None:
    """The number ``text`` is in JSON's number grammar, as the API's parser reads it; else ``None``.

    A JSON text that opens with ``-`` or a digit and ends with a digit can only be a number, so
    orjson, which reads every request body, decides the rest (leading zeros, ``1.``, ``1e400``).
    """
    if not text or text[0] not in _NUMBER_START or text[-1] not in _DIGITS:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def json_column(values: list[Any]) -> pd.Series:
    """JSON values as a column: a nullable dtype when they share one JSON type, else as they are."""
    dtype = _DTYPES.get(frozenset(set(map(type, values)) - {type(None)}))
    if dtype is not None:
        try:
            return pd.Series(values, dtype=dtype)
        except (OverflowError, TypeError, ValueError):  # an integer beyond 64 bits
            pass
    return pd.Series(values, dtype=object)


def numbers_from_text(chunk: pd.DataFrame, features: Iterable[FeatureSpec]) -> pd.DataFrame:
    """A CSV chunk (feature columns read as text) with its numeric features' cells read as JSON
    numbers; a cell that is not one stays text, for the validator to refuse."""
    parsed = {
        f.name: json_column([_number_or_text(v) for v in chunk[f.name].to_numpy(dtype=object, na_value=None)])
        for f in features
        if f.name in chunk and _is_numeric(f)
    }
    if not parsed:
        return chunk
    return chunk.assign(**{name: column.set_axis(chunk.index) for name, column in parsed.items()})


def feature_values(column: pd.Series, feature: FeatureSpec, from_text: bool) -> list[Any]:
    """The column as JSON-typed Python values, ``None`` for a missing cell."""
    values = column.to_numpy(dtype=object, na_value=None).tolist()
    if from_text and feature.type == "boolean":
        values = [_BOOLEANS.get(v.strip().lower(), v) if type(v) is str else v for v in values]
    # ints with gaps, which pandas wrote to Parquet or JSON as floats (a CSV's cells say what they are)
    if not from_text and feature.integer_coded and pd.api.types.is_float_dtype(column.dtype):
        values = [int(v) if type(v) is float and v.is_integer() else v for v in values]
    return values


def _is_numeric(feature: FeatureSpec) -> bool:
    return feature.type in ("number", "integer") or feature.integer_coded


def _number_or_text(text: str | None) -> Any:
    if text is None:
        return None
    number = json_number(text)
    return text if number is None else number
