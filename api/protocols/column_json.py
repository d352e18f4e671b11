"""Parse a request body with simdjson, so that numeric columns never become Python objects.

orjson turns every number of a body into a Python float, which then has to be type-checked and
copied into an array: for a 1,000-row, 4-feature request that is most of the cost of decoding it.
simdjson parses the body into its own buffer instead; a column that is a flat list of JSON numbers
is copied from there straight into a float64 array (a ``NumberColumn``). The columns are a V2
tensor's ``data`` (``parse_infer_body``) and the values of ``/models``' ``{"inputs": {feature:
[values]}}`` or ``{"data": {...}}`` (``parse_predict_body``). Everything else in the body is
materialised as orjson would give it, so ``schemas.tensors`` and ``schemas.envelope`` read one
structure either way.

orjson stays the definition of what JSON is, as on ``/models``: a small body is parsed by orjson
alone, and a body simdjson refuses (malformed, or an integer beyond 64 bits, which orjson reads
as a float) is handed to orjson, which reads it or words the 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import simdjson

from schemas.envelope import COLUMN_ENVELOPES, NumberColumn

_FLAT_NUMBERS = "d"  # simdjson's buffer type for float64
# Below this size a body goes to orjson: walking simdjson's objects costs more per column than the
# Python objects of a few rows (the break-even: docs/performance.md).
SMALL_BODY_BYTES = 1024
# Above this many keys an object is materialised whole rather than looked up key by key: lookups
# grow faster than orjson's reading of the whole object (docs/performance.md).
_MAX_LOOKUPS = 128
_COLUMNAR_START = re.compile(rb'\s*\{\s*"(?:%b)"\s*:\s*\{' % "|".join(COLUMN_ENVELOPES).encode())


def parse_infer_body(data: bytes, small_body_bytes: int = SMALL_BODY_BYTES) -> Any:
    """What ``orjson.loads(data)`` gives, and raises (``orjson.JSONDecodeError``, a ValueError),
    except that in a body of ``small_body_bytes`` or more each input tensor's ``data`` that is a
    flat list of numbers is a ``NumberColumn``."""
    if len(data) < small_body_bytes:
        return orjson.loads(data)
    return _walked_or_orjson(data, _infer_columns)


def parse_predict_body(data: bytes, small_body_bytes: int = SMALL_BODY_BYTES) -> Any:
    """What ``orjson.loads(data)`` gives, and raises, except that in a body of ``small_body_bytes``
    or more that opens with ``{"inputs": {`` or ``{"data": {`` (``/models``' columnar envelope),
    each of its values that is a flat list of numbers is a ``NumberColumn``.

    Any other body (a row, ``instances``) goes to orjson: its Python objects are what the rows
    need, and simdjson's copy of them costs more than orjson's (docs/performance.md)."""
    if len(data) < small_body_bytes or not _COLUMNAR_START.match(data):
        return orjson.loads(data)
    return _walked_or_orjson(data, _predict_columns)


# Fills a body's members (an object's, still in the parser) that hold columns, with each column
# read; returns the names of the members it filled, which are left as they are.
ColumnFiller = Callable[[bytes, dict[str, Any]], set[str]]


def _walked_or_orjson(data: bytes, fill: ColumnFiller) -> Any:
    try:
        return _walk(data, fill)
    except (ValueError, RuntimeError):  # simdjson's refusals, strings that are not UTF-8
        return orjson.loads(data)


def _walk(data: bytes, fill: ColumnFiller) -> Any:
    """The body as orjson gives it, the members ``fill`` fills holding ``NumberColumn``s."""
    document = simdjson.Parser().parse(data)
    if not isinstance(document, simdjson.Object):
        return _plain(document)
    body = _members(document)
    filled = fill(data, body)
    return {key: value if key in filled else _plain(value) for key, value in body.items()}


def _predict_columns(data: bytes, body: dict[str, Any]) -> set[str]:
    """``/models``: the values of ``inputs`` or ``data`` (an object of columns)."""
    envelopes = {
        key: _members(body[key]) for key in COLUMN_ENVELOPES if isinstance(body.get(key), simdjson.Object)
    }
    columns = sum(
        isinstance(value, simdjson.Array) for content in envelopes.values() for value in content.values()
    )
    all_flat = _arrays_are_flat(data, columns)
    for key, content in envelopes.items():
        body[key] = {name: _column(value, all_flat) for name, value in content.items()}
    return set(envelopes)


def _infer_columns(data: bytes, body: dict[str, Any]) -> set[str]:
    """V2: each input tensor's ``data``."""
    inputs = body.get("inputs")
    if not isinstance(inputs, simdjson.Array):
        return set()
    tensors = [_members(t) if isinstance(t, simdjson.Object) else t for t in inputs]
    all_flat = _arrays_are_flat(data, _framing_arrays(body, tensors))
    body["inputs"] = [_tensor(t, all_flat) if isinstance(t, dict) else _plain(t) for t in tensors]
    return {"inputs"}


def _members(obj: simdjson.Object) -> dict[str, Any]:
    """An object's members by name, arrays and objects left in the parser.

    simdjson finds a key by scanning the object's raw text, so looking up each of n keys costs
    n²/2 comparisons (100,000 keys: tens of seconds) and an escaped key (``"n\\u0061me"``) is not
    found at all; it also takes the first of a key sent twice, where orjson keeps the last. Such
    objects, and any with more than ``_MAX_LOOKUPS`` keys, are materialised whole by ``as_dict``
    (linear), which gives what orjson gives; their arrays then take the list path."""
    keys = list(obj.keys())
    if len(keys) <= _MAX_LOOKUPS and len(set(keys)) == len(keys):
        try:
            return {key: obj[key] for key in keys}
        except KeyError:
            pass
    return obj.as_dict()


def _tensor(tensor: dict[str, Any], all_flat: bool) -> dict[str, Any]:
    """One input tensor, its ``data`` a ``NumberColumn`` when that is a flat list of numbers."""
    fields = {key: _plain(value) for key, value in tensor.items() if key != "data"}
    if "data" in tensor:
        fields["data"] = _column(tensor["data"], all_flat)
    return fields


def _column(value: Any, all_flat: bool) -> Any:
    """A ``NumberColumn`` for a flat array of numbers in a body proven flat, else the plain value."""
    numbers = _numbers(value) if all_flat and isinstance(value, simdjson.Array) else None
    return _plain(value) if numbers is None else numbers


def _numbers(data: simdjson.Array) -> NumberColumn | None:
    """The array as float64, or None when it holds anything but numbers (left to the validator)."""
    try:
        buffer = data.as_buffer(of_type=_FLAT_NUMBERS)
    except TypeError:
        return None
    # The buffer is simdjson's own copy of the numbers, apart from the parser's document: the
    # array can view it (writable), with no second copy.
    return NumberColumn(np.frombuffer(buffer, dtype=np.float64), data)


def _arrays_are_flat(data: bytes, arrays: int) -> bool:
    """Whether no array in the body holds another, proven by counting: every JSON array opens
    with a ``[`` of its own, so if the body has no more ``[`` than the ``arrays`` its shape accounts
    for (V2's framing, or ``/models``' columns), none can be nested. A ``[`` inside a string only
    makes the proof fail, never succeed wrongly.

    simdjson flattens nested arrays when copying numbers out, so nested data (shape ``[n, 1]``
    sent as ``[[a], [b]]``) must take the list path, where its nesting is checked."""
    return data.count(b"[") <= arrays


def _framing_arrays(body: dict[str, Any], tensors: list[Any]) -> int:
    """The arrays a V2 body's framing accounts for: ``inputs``, each tensor's ``shape`` and
    ``data``, and ``outputs``."""
    framing = 1 + isinstance(body.get("outputs"), simdjson.Array)
    for tensor in tensors:
        if isinstance(tensor, dict):
            framing += isinstance(tensor.get("shape"), simdjson.Array) + isinstance(
                tensor.get("data"), simdjson.Array
            )
    return framing


def _plain(value: Any) -> Any:
    """A parsed value as Python objects: dicts, lists and scalars."""
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value
