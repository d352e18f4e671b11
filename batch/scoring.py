"""Score one chunk of a file on the API's predict chain (registry.chain): the same validation,
messages and predictor.

A chunk's feature columns become a columnar request (``Envelope(columns=..., batched=True)``),
which the version's validator splits into the rows the model receives and the messages of the
others (``predict_valid_rows``). Input columns that are not features (an id, say) are kept in the
output and never validated, as MLflow's schema enforcement ignores extra columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from batch.formats import BatchUsageError
from batch.values import feature_values, numbers_from_text
from registry.chain import predict_valid_rows
from registry.inference import Outputs
from registry.registry import LABEL, PROBABILITIES, VALUE, ModelVersion
from schemas.envelope import Envelope
from schemas.messages import describe_row

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

    def envelope(self, chunk: pd.DataFrame, version: ModelVersion) -> tuple[Envelope, pd.DataFrame]:
        """The chunk's features as a columnar request, and the chunk as read (numbers from text)."""
        n_rows = len(chunk)
        if self.from_text:
            chunk = numbers_from_text(chunk, self.features)
        columns = {
            f.name: feature_values(chunk[f.name], f, self.from_text) if f.name in chunk else [None] * n_rows
            for f in self.features
        }
        return Envelope(columns=columns, batched=True), chunk

    def score(self, chunk: pd.DataFrame, first_row: int) -> ScoredChunk:
        """Predictions for the valid rows of ``chunk``, whose first row is number ``first_row``."""
        outputs, chunk, partition = predict_valid_rows(self.version, chunk, self, self.max_json_depth)
        errors = [
            (first_row + index, describe_row(messages, self.version.validator.features))
            for index, messages in sorted(partition.problems.items())
        ]
        kept = chunk.iloc[partition.rows] if partition.problems else chunk
        predictions = self.prediction_frame(outputs)
        frame = pd.concat([kept.reset_index(drop=True), predictions], axis=1)
        return ScoredChunk(frame, errors)

    def prediction_frame(self, outputs: Outputs | None) -> pd.DataFrame:
        """``label`` and ``probability_<label>`` columns (a classifier) or ``value`` (a regressor)."""
        if outputs is None:
            return pd.DataFrame({name: np.empty(0, dtype=object) for name in self.output_columns})
        if outputs.values is not None:
            return pd.DataFrame({VALUE: outputs.values})
        columns = {LABEL: outputs.labels}
        if outputs.probabilities is not None:
            for j, name in enumerate(self.output_columns[1:]):
                columns[name] = outputs.probabilities[:, j]
        return pd.DataFrame(columns)


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
