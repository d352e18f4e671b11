"""Score one chunk of a file on the API's predict chain (registry.chain): the same validation,
messages and predictor.

A chunk's feature columns become a columnar request (``Envelope(columns=..., batched=True)``),
which the version's validator splits into the rows the model receives and the messages of the
others (``predict_valid_rows``). The valid rows go to the output, their feature columns as the
values the model received, in the types the features declare (batch.output_types). Input columns
that are not features (an id, say) are kept in the output as read and never validated, as
MLflow's schema enforcement ignores extra columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from batch.formats import BatchUsageError
from batch.output_types import FLOAT, feature_dtype, label_dtype, typed_column
from batch.values import feature_values, numbers_from_text
from registry.chain import predict_valid_rows
from registry.inference import Outputs
from registry.registry import LABEL, PROBABILITIES, VALUE, ModelVersion
from schemas.envelope import Envelope
from schemas.messages import describe_row
from schemas.validation import Columns

PROBABILITY_PREFIX = "probability_"


@dataclass(frozen=True)
class ScoredChunk:
    """The chunk's valid rows with their predictions, and ``(row number, message)`` for the others."""

    frame: pd.DataFrame
    errors: list[tuple[int, str]]


class ChunkScorer:
    """Validates and predicts chunks of one file for one model version; decodes them for the chain."""

    def __init__(self, version: ModelVersion, max_json_depth: int, from_text: bool) -> None:
        self.version = version
        self.features = version.spec.features
        self.max_json_depth = max_json_depth
        self.from_text = from_text
        self.output_columns = prediction_columns(version)
        self.dtypes = {f.name: feature_dtype(f) for f in self.features}
        self.label_dtype = label_dtype(version.labels)

    @property
    def text_columns(self) -> list[str]:
        """The features a CSV reader should keep as text: all, read here as the JSON they spell."""
        return [f.name for f in self.features]

    def check_columns(self, columns: pd.Index) -> None:
        """Refuse a file without a required feature, or with a column the output would overwrite."""
        missing = [f.name for f in self.features if f.required and f.name not in columns]
        if missing:
            raise BatchUsageError(f"the input has no column for the required features: {', '.join(missing)}")
        clashing = [name for name in self.output_columns if name in columns]
        if clashing:
            raise BatchUsageError(
                f"the input already has the output columns {', '.join(clashing)}: rename them"
            )

    def envelope(
        self, chunk: pd.DataFrame, version: ModelVersion
    ) -> tuple[Envelope, tuple[pd.DataFrame, dict[str, list[Any]]]]:
        """The chunk's features as a columnar request; the chunk and those values, for the output."""
        n_rows = len(chunk)
        if self.from_text:
            chunk = numbers_from_text(chunk, self.features)
        columns = {
            f.name: feature_values(chunk[f.name], f, self.from_text) if f.name in chunk else [None] * n_rows
            for f in self.features
        }
        return Envelope(columns=columns, batched=True), (chunk, columns)

    def score(self, chunk: pd.DataFrame, first_row: int) -> ScoredChunk:
        """Predictions for the valid rows of ``chunk``, whose first row is number ``first_row``."""
        outputs, (chunk, values), partition = predict_valid_rows(
            self.version, chunk, self, self.max_json_depth
        )
        errors = [
            (first_row + index, describe_row(messages, self.version.validator.features))
            for index, messages in sorted(partition.problems.items())
        ]
        rows = partition.rows if partition.problems else None
        received = partition.columns or {}
        inputs = [self.input_column(chunk[name], values.get(name), rows, received) for name in chunk.columns]
        frame = pd.concat([*inputs, *self.prediction_columns(outputs)], axis=1)
        return ScoredChunk(frame, errors)

    def input_column(
        self, column: pd.Series, values: list[Any] | None, rows: np.ndarray | None, received: Columns
    ) -> pd.Series:
        """An input column's valid rows: a feature's as the values validated, in its type (a number
        feature's as the float64 array the model received); any other column as read."""
        name = column.name
        if values is None:
            return (column if rows is None else column.iloc[rows]).reset_index(drop=True)
        if self.dtypes[name] == FLOAT and name in received:
            return typed_column(received[name], FLOAT, name)
        kept = values if rows is None else [values[i] for i in rows.tolist()]
        return typed_column(kept, self.dtypes[name], name)

    def prediction_columns(self, outputs: Outputs | None) -> list[pd.Series]:
        """``label`` and ``probability_<label>`` columns (a classifier) or ``value`` (a regressor)."""
        if outputs is None:
            return [typed_column([], self._dtype(name), name) for name in self.output_columns]
        if outputs.values is not None:
            return [typed_column(np.asarray(outputs.values, dtype=np.float64), FLOAT, VALUE)]
        columns = [typed_column(outputs.labels, self.label_dtype, LABEL)]
        if outputs.probabilities is not None:
            for j, name in enumerate(self.output_columns[1:]):
                columns.append(typed_column(outputs.probabilities[:, j], FLOAT, name))
        return columns

    def _dtype(self, name: str) -> str:
        return self.label_dtype if name == LABEL else FLOAT


def prediction_columns(version: ModelVersion) -> list[str]:
    """The columns a version's predictions add to the input's: its outputs, with ``probabilities``
    as one ``probability_<label>`` column per class."""
    columns = []
    for name in version.output_names:
        if name != PROBABILITIES:
            columns.append(name)
        elif version.labels is not None:
            columns += [f"{PROBABILITY_PREFIX}{label}" for label in version.labels]
    return columns
