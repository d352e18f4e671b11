"""Predictions to the JSON array of our API's response, without building a dict per row.

orjson writes the whole probability matrix at once; its numbers are then poured, with the labels,
into one template repeated per row, in a single ``%`` formatting call. It is faster than building
and dumping a dict per row and prediction (docs/performance.md), and it writes the very bytes that
``orjson.dumps`` of those dicts would (tests/test_encoding.py holds that reference). The shape is
described once, by ``schemas.responses.PredictionResponseSchema`` in the OpenAPI document, which
the schemathesis test checks every answer against.
"""

from __future__ import annotations

from functools import lru_cache

import orjson

from registry.inference import Outputs

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
Headers = tuple[tuple[str, str], ...]
JSON_HEADER = ("Content-Type", "application/json")
JSON_CONTENT: Headers = (JSON_HEADER,)  # the content headers of a JSON answer


def encode_predictions(outputs: Outputs) -> bytes:
    """The JSON array of predictions: ``[{"label", "probabilities": {label: p}}]`` or ``[{"value"}]``."""
    if outputs.values is not None:
        if outputs.values.ndim != 1:  # several outputs per row: each value is a list
            return orjson.dumps([{"value": row} for row in outputs.values.tolist()])
        return _fill(b'{"value":%b}', [_numbers(orjson.dumps(outputs.values.ravel(), option=_NUMPY))])
    labels = _label_json(outputs)
    if outputs.probabilities is None:
        return _fill(b'{"label":%b}', [labels])
    classes = len(outputs.classes)
    # ravel(): one flat, C-ordered array, which orjson requires (a model may return a Fortran or
    # strided one), and no "],[" between rows to replace (a pass over the whole text).
    numbers = _numbers(orjson.dumps(outputs.probabilities.ravel(), option=_NUMPY))
    columns = [labels, *(numbers[j::classes] for j in range(classes))]
    return _fill(_row_template(outputs.classes), columns)


def _fill(template: bytes, columns: list[list[bytes]]) -> bytes:
    """``[template % row, ...]`` for the rows across ``columns``, formatted in one call."""
    width, rows = len(columns), len(columns[0])
    values: list[bytes] = [b""] * (width * rows)
    for j, column in enumerate(columns):
        values[j::width] = column
    return b"[" + ((template + b",") * rows)[:-1] % tuple(values) + b"]"


def _numbers(array_json: bytes) -> list[bytes]:
    """``[1.0,2.5]`` -> ``[b"1.0", b"2.5"]``: JSON numbers and null hold no comma."""
    return array_json.strip(b"[]").split(b",")


def _label_json(outputs: Outputs) -> list[bytes]:
    if outputs.label_index is not None:
        encoded = [orjson.dumps(c) for c in outputs.classes]
        return [encoded[i] for i in outputs.label_index.tolist()]
    return [orjson.dumps(label) for label in outputs.labels]


@lru_cache(maxsize=256)
def _row_template(classes: tuple) -> bytes:
    """``{"label":%b,"probabilities":{"a":%b,"b":%b}}`` for the classes (keys are their str())."""
    pairs = b",".join(orjson.dumps(str(c)).replace(b"%", b"%%") + b":%b" for c in classes)
    return b'{"label":%b,"probabilities":{' + pairs + b"}}"
