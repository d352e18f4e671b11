"""A file's column as the values the API would receive for a feature from JSON.

The validator is strict about JSON types, so each cell becomes what a client would have sent:
Python ``int``/``float``/``bool``/``str``, and ``None`` for a missing cell. CSV holds only text,
so every feature column of a CSV is read as text and its cells are read back here: a cell of a
numeric feature (number, integer, integer-coded category) is a number when it is one in JSON's
number grammar, read by the API's own parser (orjson), so ``1_0``, `` 1``, ``+1``, ``0x10``,
``nan`` or ``١`` stay text and are refused with the API's message for a non-number; ``True`` or
``false`` (any case) is a boolean for a boolean feature. JSON Lines are JSON already and Parquet
is typed: their values are taken as they are.

``json_number`` read cell by cell is the reference; ``numbers_from_text`` reads a whole column at
once with Arrow (the grammar as a regular expression, then one cast), giving the same values and
dtype, and hands the rare column it cannot read that way (an integer of 19 digits or more) to the
reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spec.features import FeatureSpec

_BOOLEANS = {"true": True, "false": False}
_NUMBER_START = frozenset("-0123456789")  # JSON has no '+', no leading '.', no whitespace inside
_DIGITS = frozenset("0123456789")
_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"  # JSON's number grammar
_LONGEST = 18  # characters, a '-' included: an integer no longer than this fits an int64
_NO_TEXT = pa.scalar(None, pa.large_string())
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
            with np.errstate(invalid="ignore"):  # numpy warns on the way to refusing such an integer
                return pd.Series(values, dtype=dtype)
        except (OverflowError, TypeError, ValueError):  # an integer beyond 64 bits
            pass
    return pd.Series(values, dtype=object)


def numbers_from_text(chunk: pd.DataFrame, features: Iterable[FeatureSpec]) -> pd.DataFrame:
    """A CSV chunk (feature columns read as text) with its numeric features' cells read as JSON
    numbers; a cell that is not one stays text, for the validator to refuse."""
    parsed = {f.name: json_numbers(chunk[f.name]) for f in features if f.name in chunk and _is_numeric(f)}
    if not parsed:
        return chunk
    return chunk.assign(**{name: column.set_axis(chunk.index) for name, column in parsed.items()})


def json_numbers(cells: pd.Series) -> pd.Series:
    """Text cells read as ``json_numbers_per_cell`` reads them: the same values of the same types in
    the same dtype, on a fresh index."""
    if not isinstance(cells.dtype, pd.StringDtype):
        return json_numbers_per_cell(cells)
    text = pa.array(cells, type=pa.large_string())
    number = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    integer = pc.and_(number, pc.ascii_is_decimal(pc.ascii_ltrim(text, "-")))  # no '.', 'e' or 'E'
    if integer.true_count and pc.any(pc.and_(integer, pc.greater(pc.binary_length(text), _LONGEST))).as_py():
        return json_numbers_per_cell(cells)  # an int64, a uint64 or a float for orjson
    floats = pc.cast(_where(number, text), pa.float64())
    beyond = pc.is_inf(floats)
    if beyond.true_count:  # orjson refuses a number beyond a double: it stays text
        number = pc.and_not(number, pc.fill_null(beyond, False))
    n_numbers, n_integers = number.true_count, integer.true_count
    n_text = len(text) - text.null_count - n_numbers
    if n_numbers == 0 and n_text:
        return pd.Series(cells.array, dtype="string")
    if n_numbers == 0:  # every cell missing, or none at all
        return pd.Series([None] * len(text), dtype=object)
    integers = pc.cast(_where(integer, text), pa.int64())
    if n_text == 0 and n_integers == n_numbers:
        return _nullable(integers, pd.Int64Dtype())
    if n_integers:  # "-0" is the int 0, so 0.0 as a float, where Arrow reads the text as -0.0
        floats = pc.if_else(integer, pc.cast(integers, pa.float64(), safe=False), floats)
    if n_text == 0:
        return _nullable(floats, pd.Float64Dtype())
    values = cells.to_numpy(dtype=object, na_value=None)  # numbers and text: Python objects
    for where, parsed in ((pc.and_not(number, integer), floats), (integer, integers)):
        at = np.flatnonzero(where.to_numpy(zero_copy_only=False))
        values[at] = parsed.take(at).to_pylist()
    return pd.Series(values, dtype=object)


def json_numbers_per_cell(cells: pd.Series) -> pd.Series:
    """The reference for ``json_numbers``: each cell read by ``json_number``, then ``json_column``."""
    return json_column([_number_or_text(v) for v in cells.to_numpy(dtype=object, na_value=None)])


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


def _where(mask: pa.Array, text: pa.Array) -> pa.Array:
    """The cells of ``text`` where ``mask`` holds, missing elsewhere."""
    return text if mask.true_count == len(mask) else pc.if_else(mask, text, _NO_TEXT)


def _nullable(values: pa.Array, dtype: pd.api.extensions.ExtensionDtype) -> pd.Series:
    return values.to_pandas(types_mapper={values.type: dtype}.get)
