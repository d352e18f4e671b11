"""Open Inference Protocol (V2) tensors: a request's ``inputs`` become an ``Envelope`` of columns.

A V2 request is already columnar, one tensor per feature, so each tensor's ``data`` becomes one
column as it is: no rows are built. Only the tensor's framing (name, shape, datatype, length) is
checked here; the values are left to ``RequestValidator``, which words the same messages as for
``/models``. The one conversion: a category declared with integer codes also accepts the codes as
``BYTES`` strings (``"1"``), as Triton's client sends them, or as integral floats, by exact match
with a declared code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.envelope import Envelope, NumberColumn
from schemas.fields import shown
from schemas.messages import listed_names, shown_name
from spec.config import VersionSpec
from spec.errors import InvalidInputError
from spec.features import FeatureSpec

DATATYPES = frozenset(
    {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"}
    | {"FP16", "FP32", "FP64", "BYTES"}
)
_REQUEST_SHAPE = '{"inputs": [{"name", "shape", "datatype", "data"}, ...]}'


@dataclass(slots=True)  # built per request: not frozen, whose __init__ costs about 0.3 µs more
class InferRequest:
    """What the answer needs of a V2 request: its ``id`` and the outputs it asked for (None: all)."""

    id: str | None
    outputs: tuple[str, ...] | None


def feature_datatype(feature: FeatureSpec) -> str:
    """The V2 datatype a feature is sent as: BYTES for string categories, INT64 for integer codes."""
    if feature.type == "category":
        return "INT64" if feature.integer_coded else "BYTES"
    return {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}[feature.type]


def decode_request(body: Any, spec: VersionSpec) -> tuple[Envelope, InferRequest]:
    """The columns a V2 infer body carries, and its id and requested outputs.

    Raises ``InvalidInputError`` for a body that is not a V2 request, a tensor whose shape or data
    length is wrong, a tensor sent twice, or tensors of different lengths.
    """
    if not isinstance(body, dict):
        raise InvalidInputError(f"The body must be a JSON object: {_REQUEST_SHAPE}.")
    request_id = body.get("id")
    if "id" in body and not isinstance(request_id, str):
        raise InvalidInputError("'id' must be a string.")
    if "parameters" in body:
        _parameters_checked("The request", body)
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInputError(f"'inputs' must be a non-empty list of tensors: {_REQUEST_SHAPE}.")
    coded = spec.integer_coded_features
    codes = {f.name: _spellings(f.categories) for f in coded} if coded else _NO_CODES
    columns: dict[str, Sequence[Any]] = {}
    length, unequal = -1, False
    for index, tensor in enumerate(inputs):
        name, values = _tensor_column(index, tensor)
        if name in columns:
            raise InvalidInputError(f"The tensor {shown_name(name)} is sent twice.")
        columns[name] = _as_codes(values, codes[name]) if name in codes else values
        if length != len(values):
            unequal, length = length >= 0, len(values)
    if unequal:
        _refuse_unequal_lengths(columns)
    outputs = _requested_outputs(body) if "outputs" in body else None
    return Envelope(columns=columns, batched=True), InferRequest(request_id, outputs)


_NO_CODES: dict[str, dict[Any, int]] = {}


def _spellings(codes: tuple[Any, ...]) -> dict[Any, int]:
    """Each integer code by its spellings: ``"1"`` and ``1.0`` (the latter also finds ``1``)."""
    return {**{str(c): c for c in codes}, **{float(c): c for c in codes}}


def _as_codes(values: Sequence[Any], codes: dict[Any, int]) -> list[Any]:
    """A string or float that spells a declared code exactly becomes that code (JSON encoders may
    write an INT64 tensor's 1 as 1.0); anything else is left as sent, for the validator to word."""
    return [codes.get(v, v) if type(v) in (str, float) else v for v in values]


def _tensor_column(index: int, tensor: Any) -> tuple[str, Sequence[Any]]:
    """``(name, flat data)`` of one input tensor, its framing checked. ``data`` may come as a
    ``NumberColumn`` (api.column_json parses flat numbers straight into one), else as a list."""
    if type(tensor) is not dict:
        raise InvalidInputError(f"inputs[{index}] must be an object with name, shape, datatype and data.")
    name = tensor.get("name")
    if type(name) is not str or not name:
        raise InvalidInputError(f"inputs[{index}]: 'name' must be a non-empty string.")
    if "parameters" in tensor:
        _parameters_checked(_where(name), tensor)
    datatype = tensor.get("datatype")
    if type(datatype) is not str or datatype not in DATATYPES:
        got = shown(datatype)
        raise InvalidInputError(
            f"{_where(name)}: datatype {got} is not one of {', '.join(sorted(DATATYPES))}."
        )
    shape = tensor.get("shape")
    if type(shape) is list and len(shape) == 1 and type(shape[0]) is int and shape[0] > 0:
        rows = shape[0]  # the common shape, checked here: a one-row request does it once per feature
    else:
        rows = _rows_of_shape(name, shape)
    data = tensor.get("data")
    if type(data) is NumberColumn:
        values: Sequence[Any] = data
    elif type(data) is list:
        values = data if not data or type(data[0]) is not list else _flattened(name, data)
    else:
        raise InvalidInputError(f"{_where(name)}: 'data' must be a list of values.")
    if len(values) != rows:
        raise InvalidInputError(
            f"{_where(name)}: its shape holds {rows} values but its data has {len(values)}."
        )
    return name, values


def _where(name: str) -> str:
    """How a message names a tensor (built only for a message)."""
    return f"The tensor {shown_name(name)}"


def _rows_of_shape(name: str, shape: Any) -> int:
    """The ``n`` of a shape ``[n]`` or ``[n, 1]``, at least 1."""
    valid = (
        isinstance(shape, list)
        and 1 <= len(shape) <= 2
        and type(shape[0]) is int
        and (len(shape) == 1 or (type(shape[1]) is int and shape[1] == 1))
    )
    if not valid:
        raise InvalidInputError(
            f"{_where(name)}: shape must be [n] or [n, 1] (one value per row); got {shown(shape)}."
        )
    if shape[0] < 1:
        raise InvalidInputError(f"{_where(name)}: shape {shape} holds no rows; send at least one.")
    return shape[0]


def _flattened(name: str, data: list[Any]) -> list[Any]:
    """Nested data ``[[a], [b]]`` (shape ``[n, 1]`` row-major) as ``[a, b]`` (data whose first value
    is a list; flat data is taken as it is, and a list nested further inside it is a value the
    validator refuses)."""
    if not all(type(row) is list and len(row) == 1 for row in data):
        raise InvalidInputError(f"{_where(name)}: nested data must hold one value per row: [[a], [b], ...].")
    return [row[0] for row in data]


def _parameters_checked(where: str, holder: dict[str, Any]) -> None:
    """``parameters``, sent (it may be left out), is an object; what it says (``content_type``) is ignored."""
    if not isinstance(holder["parameters"], dict):
        raise InvalidInputError(f"{where}: 'parameters' must be an object.")


def _refuse_unequal_lengths(columns: dict[str, Sequence[Any]]) -> None:
    got = listed_names([f"{name}: {len(values)}" for name, values in columns.items()])
    raise InvalidInputError(f"The input tensors must have the same number of rows; got {got}.")


def _requested_outputs(body: dict[str, Any]) -> tuple[str, ...]:
    outputs = body["outputs"]
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise InvalidInputError("'outputs' must be a list of objects with a 'name'.")
    return tuple(o["name"] for o in outputs)
