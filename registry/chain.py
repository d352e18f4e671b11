"""The one predict chain: decode -> validate -> predict -> outputs.

Every prediction takes it: ``/models`` and V2 (api.wsgi.pipeline, each protocol decoding its own body),
``model-registry predict`` (batch.scoring, decoding a file's chunk) and the benchmark's in-process
floor (bench/load/floor.py). The caller brings the decoder; the version brings its validator and
predictor, both built once when it loaded.

A request is all or nothing (``predict_request``: any bad row refuses it, with the bounded
message); a file's chunk is scored row by row (``predict_valid_rows``: the good rows predicted,
every bad one described).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from registry.inference import Outputs
from registry.registry import ModelVersion
from schemas.envelope import Envelope
from schemas.validation import Partition
from spec.config import ServerSettings
from spec.errors import TooManyRowsError

Context = TypeVar("Context", covariant=True)


class Decoder(Protocol[Context]):
    """How a caller's payload becomes rows (a protocol's body, a file's chunk)."""

    def envelope(self, payload: Any, version: ModelVersion) -> tuple[Envelope, Context]:
        """The rows ``payload`` carries for ``version``, and what the caller needs of it afterwards
        (to encode the answer, to keep the input's other columns) or ``None``."""
        ...


def predict_request(
    version: ModelVersion, payload: Any, decoder: Decoder[Context], settings: ServerSettings
) -> tuple[Outputs, Context, int]:
    """The outputs for every row of a request to an available version, the decoder's context, and
    the number of rows.

    Raises the domain error of the step that refuses it: the decoder's, ``TooManyRowsError`` past
    ``server.max_rows``, ``InvalidInputError`` naming the bad rows, ``PredictionError``.
    """
    envelope, context = decoder.envelope(payload, version)
    n_rows = envelope.n_rows
    if n_rows > settings.max_rows:
        raise TooManyRowsError(n_rows, settings.max_rows)
    columns = version.validator.validate(envelope, settings.max_json_depth)
    return version.predictor.predict(columns), context, n_rows


def predict_valid_rows(
    version: ModelVersion, payload: Any, decoder: Decoder[Context], max_json_depth: int
) -> tuple[Outputs | None, Context, Partition]:
    """The outputs of the valid rows (``None`` when there are none), the decoder's context, and the
    partition: which rows were valid, and every other row's messages. Raises ``PredictionError``."""
    envelope, context = decoder.envelope(payload, version)
    partition = version.validator.partition(envelope, max_json_depth)
    columns = partition.columns
    outputs = None if columns is None else version.predictor.predict(columns)
    return outputs, context, partition
