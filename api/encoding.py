"""Predictions to JSON bytes, without building a dict per row.

orjson writes the whole probability matrix at once; its numbers are then poured, with the labels,
into one template repeated per row, in a single ``%`` formatting call. For 1,000 rows this is
several times faster than building and dumping 2,000 dicts, and it writes the very same bytes
(tests/test_encoding.py).
"""

from __future__ import annotations

from functools import lru_cache

import orjson

from registry.inference import Outputs

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def predictions_json(outputs: Outputs) -> bytes:
    """The JSON array of predictions, byte for byte as ``orjson.dumps(outputs.as_dicts())``."""
    if outputs.values is not None:
        if outputs.values.ndim != 1:
            return orjson.dumps(outputs.as_dicts())
        return _fill(b'{"value":%b}', [_numbers(orjson.dumps(outputs.values, option=_NUMPY))])
    labels = _label_json(outputs)
    if outputs.probabilities is None:
        return _fill(b'{"label":%b}', [labels])
    classes = len(outputs.classes)
    numbers = _numbers(orjson.dumps(outputs.probabilities, option=_NUMPY).replace(b"],[", b","))
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
    """``[1.0,2.5]`` (or ``[[1.0,2.5]]``) -> ``[b"1.0", b"2.5"]``: JSON numbers and null hold no comma."""
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
