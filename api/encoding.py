"""Predictions to JSON bytes, without building a dict per row.

orjson writes the whole probability matrix at once; each row is then put into a per-class
template. For 1,000 rows this is about twice as fast as building and dumping 2,000 dicts, and it
writes the very same JSON (tests/test_encoding.py).
"""

from __future__ import annotations

from functools import lru_cache

import orjson

from registry.inference import Outputs

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def predictions_json(outputs: Outputs) -> bytes:
    """The JSON array of predictions, as ``Outputs.as_dicts`` would serialise."""
    if outputs.values is not None:
        if outputs.values.ndim != 1:
            return orjson.dumps(outputs.as_dicts())
        return _fill(b'{"value":%b}', ((v,) for v in _numbers(orjson.dumps(outputs.values, option=_NUMPY))))
    labels = _label_json(outputs)
    if outputs.probabilities is None:
        return _fill(b'{"label":%b}', ((label,) for label in labels))
    template = _row_template(outputs.classes)
    rows = _rows(orjson.dumps(outputs.probabilities, option=_NUMPY))
    return _fill(template, ((label, *row.split(b",")) for label, row in zip(labels, rows, strict=True)))


def _fill(template: bytes, rows: object) -> bytes:
    return b"[" + b",".join([template % row for row in rows]) + b"]"


def _numbers(array_json: bytes) -> list[bytes]:
    """``[1.0,2.5]`` -> ``[b"1.0", b"2.5"]`` (JSON numbers and null hold no comma)."""
    return array_json[1:-1].split(b",")


def _rows(matrix_json: bytes) -> list[bytes]:
    """``[[a,b],[c,d]]`` -> ``[b"a,b", b"c,d"]``."""
    return matrix_json[2:-2].split(b"],[")


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
