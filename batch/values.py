"""A file's column as the values the API would receive for a feature from JSON.

The validator is strict about JSON types, so each cell becomes what a client would have sent:
Python ``int``/``float``/``bool``/``str``, and ``None`` for a missing cell. CSV holds only text,
so a CSV column is also read back into the feature's JSON type where its text says so
(``"True"`` for a boolean, ``"2"`` for an integer-coded category); whatever does not parse is
left as text, which the validator then refuses with the API's message.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from spec.features import FeatureSpec

_BOOLEANS = {"true": True, "false": False}


def reads_as_text(feature: FeatureSpec) -> bool:
    """Whether a CSV reader should keep this feature's cells as text (they are parsed here)."""
    return feature.type == "boolean" or (
        feature.type == "category" and isinstance(feature.categories[0], str)
    )


def feature_values(column: pd.Series, feature: FeatureSpec, from_text: bool) -> list[Any]:
    """The column as JSON-typed Python values, ``None`` for a missing cell."""
    values = column.to_numpy(dtype=object, na_value=None).tolist()
    if from_text and not pd.api.types.is_numeric_dtype(column.dtype):  # numbers were parsed already
        values = [_parse_text(v, feature) if type(v) is str else v for v in values]
    if feature.integer_coded and pd.api.types.is_float_dtype(column.dtype):  # ints with gaps
        values = [int(v) if type(v) is float and v.is_integer() else v for v in values]
    return values


def _has_text_categories(feature: FeatureSpec) -> bool:
    return feature.type == "category" and isinstance(feature.categories[0], str)


def _parse_text(text: str, feature: FeatureSpec) -> Any:
    """A CSV cell as the JSON value it spells for this feature; the text itself if it spells none."""
    if feature.type == "boolean":
        return _BOOLEANS.get(text.strip().lower(), text)
    if _has_text_categories(feature):
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
