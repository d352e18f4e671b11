"""Parse a V2 infer body with simdjson, so that numeric tensors never become Python objects.

orjson turns every number of a body into a Python float, which then has to be type-checked and
copied into an array: for a 1,000-row, 4-feature request that is most of the cost of decoding it.
simdjson parses the body into its own buffer instead; a tensor whose ``data`` is a flat list of
JSON numbers is copied from there straight into a float64 array (a ``NumberColumn``). Everything
else in the body (names, shapes, ids, parameters, and ``data`` holding anything but numbers) is
materialised as orjson would give it, so ``schemas.tensors`` reads one structure either way.

orjson stays the definition of what JSON is, as on ``/models``: a small body is parsed by orjson
alone, and a body simdjson refuses (malformed, or an integer beyond 64 bits, which orjson reads
as a float) is handed to orjson, which reads it or words the 400.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import simdjson

from schemas.envelope import NumberColumn

_FLAT_NUMBERS = "d"  # simdjson's buffer type for float64
# Below this size a body goes to orjson: walking simdjson's objects costs a few microseconds per
# tensor, more than the Python objects of a few rows (about 60 iris rows break even here).
SMALL_BODY_BYTES = 1024


def parse_infer_body(data: bytes, small_body_bytes: int = SMALL_BODY_BYTES) -> Any:
    """What ``orjson.loads(data)`` gives, and raises (``orjson.JSONDecodeError``, a ValueError),
    except that in a body of ``small_body_bytes`` or more each input tensor's ``data`` that is a
    flat list of numbers is a ``NumberColumn``."""
    if len(data) < small_body_bytes:
        return orjson.loads(data)
    try:
        return _walk(data)
    except (ValueError, RuntimeError):  # simdjson's refusals, strings that are not UTF-8
        return orjson.loads(data)


def _walk(data: bytes) -> Any:
    document = simdjson.Parser().parse(data)
    if not isinstance(document, simdjson.Object):
        return _plain(document)
    body = _members(document)
    inputs = body.get("inputs")
    if isinstance(inputs, simdjson.Array):
        tensors = [_members(t) if isinstance(t, simdjson.Object) else t for t in inputs]
        all_flat = _arrays_are_flat(data, body, tensors)
        body["inputs"] = [_tensor(t, all_flat) if isinstance(t, dict) else _plain(t) for t in tensors]
    return {key: value if key == "inputs" else _plain(value) for key, value in body.items()}


def _members(obj: simdjson.Object) -> dict[str, Any]:
    """An object's members by name, arrays and objects left in the parser.

    simdjson finds a key by its raw text (so an escaped key, ``"n\\u0061me"``, is not found) and
    takes the first of a key sent twice, where orjson keeps the last: such objects are
    materialised whole by ``as_dict``, which gives what orjson gives."""
    keys = list(obj.keys())
    if len(set(keys)) == len(keys):
        try:
            return {key: obj[key] for key in keys}
        except KeyError:
            pass
    return obj.as_dict()


def _tensor(tensor: dict[str, Any], all_flat: bool) -> dict[str, Any]:
    """One input tensor, its ``data`` a ``NumberColumn`` when that is a flat list of numbers."""
    fields = {key: _plain(value) for key, value in tensor.items() if key != "data"}
    if "data" in tensor:
        data = tensor["data"]
        numbers = _numbers(data) if all_flat and isinstance(data, simdjson.Array) else None
        fields["data"] = _plain(data) if numbers is None else numbers
    return fields


def _numbers(data: simdjson.Array) -> NumberColumn | None:
    """The array as float64, or None when it holds anything but numbers (left to the validator)."""
    try:
        buffer = data.as_buffer(of_type=_FLAT_NUMBERS)
    except TypeError:
        return None
    return NumberColumn(np.frombuffer(buffer, dtype=np.float64).copy(), data)


def _arrays_are_flat(data: bytes, body: dict[str, Any], tensors: list[Any]) -> bool:
    """Whether no array in the body holds another, proven by counting: every JSON array opens
    with a ``[`` of its own, so if the body has no more ``[`` than the arrays the V2 framing
    accounts for (``inputs``, each tensor's ``shape`` and ``data``, ``outputs``), none can be
    nested. A ``[`` inside a string only makes the proof fail, never succeed wrongly.

    simdjson flattens nested arrays when copying numbers out, so nested data (shape ``[n, 1]``
    sent as ``[[a], [b]]``) must take the list path, where its nesting is checked."""
    framing = 1 + isinstance(body.get("outputs"), simdjson.Array)
    for tensor in tensors:
        if isinstance(tensor, dict):
            framing += isinstance(tensor.get("shape"), simdjson.Array) + isinstance(
                tensor.get("data"), simdjson.Array
            )
    return data.count(b"[") <= framing


def _plain(value: Any) -> Any:
    """A parsed value as Python objects: dicts, lists and scalars."""
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value
