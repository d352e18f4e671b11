"""Open Inference Protocol (V2) tensors: a request's ``inputs`` become an ``Envelope`` of columns.

A V2 request is already columnar, one tensor per feature, so each tensor's ``data`` becomes one
column as it is: no rows are built. Only the tensor's framing (name, shape, datatype, length) is
checked here; the values are left to ``RequestValidator``, which words the same messages as for
``/models``. The one conversion: a category declared with integer codes also accepts the codes as
``BYTES`` strings (``"1"``), as Triton's client sends them, or as integral floats, by exact match
with a declared code. A tensor sent as binary data (Triton's extension) arrives as ``BinaryData``
and is decoded here once its framing is checked, into what its JSON ``data`` would have given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.binary_tensors import BinaryData, decode_binary
from schemas.envelope import Envelope, NumberColumn
from schemas.fields import shown
from schemas.messages import listed_names, shown_name, tensor_named
from spec.config import VersionSpec
from spec.errors import InvalidInputError
from spec.features import FeatureSpec

DATATYPES = frozenset(
    {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"}
    | {"FP16", "FP32", "FP64", "BYTES"}
)
_REQUEST_SHAPE = '{"inputs": [{"name", "shape", "datatype", "data"}, ...]}'


@dataclass(slots=True)  # built per request: not frozen, whose __init__ costs more
class InferRequest:
    """What the answer needs of a V2 request: its ``id``, the outputs it asked for (None: all), and
    which to send as binary data: every one (the request's ``binary_data_output``), or those named."""

    id: str | None
    outputs: tuple[str, ...] | None
    all_binary: bool = False
    binary_outputs: frozenset[str] = frozenset()


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
    all_binary = False
    if "parameters" in body:
        _parameters_checked("The request", body)
        all_binary = _flag(body["parameters"], "binary_data_output", "The request")
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
    if "outputs" not in body:
        return Envelope(columns=columns, batched=True), InferRequest(request_id, None, all_binary)
    outputs, binary = _requested_outputs(body, all_binary)
    return Envelope(columns=columns, batched=True), InferRequest(request_id, outputs, False, binary)


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
    ``NumberColumn`` (api.protocols.column_json parses flat numbers straight into one), as ``BinaryData``
    (api.protocols.v2_binary), else as a list."""
    if type(tensor) is not dict:
        raise InvalidInputError(f"inputs[{index}] must be an object with name, shape, datatype and data.")
    name = tensor.get("name")
    if type(name) is not str or not name:
        raise InvalidInputError(f"inputs[{index}]: 'name' must be a non-empty string.")
    if "parameters" in tensor:
        _parameters_checked(tensor_named(name), tensor)
    datatype = tensor.get("datatype")
    if type(datatype) is not str or datatype not in DATATYPES:
        got = shown(datatype)
        raise InvalidInputError(
            f"{tensor_named(name)}: datatype {got} is not one of {', '.join(sorted(DATATYPES))}."
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
    elif type(data) is BinaryData:
        values = decode_binary(name, datatype, data.raw, shape, rows)
    elif "data" not in tensor and "binary_data_size" in tensor.get("parameters", {}):
        raise InvalidInputError(
            f"{tensor_named(name)}: its parameters give a binary_data_size, but the request has no "
            "Inference-Header-Content-Length header saying where its binary data starts."
        )
    else:
        raise InvalidInputError(f"{tensor_named(name)}: 'data' must be a list of values.")
    if len(values) != rows:
        raise InvalidInputError(
            f"{tensor_named(name)}: its shape holds {rows} values but its data has {len(values)}."
        )
    return name, values


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
            f"{tensor_named(name)}: shape must be [n] or [n, 1] (one value per row); got {shown(shape)}."
        )
    if shape[0] < 1:
        raise InvalidInputError(f"{tensor_named(name)}: shape {shape} holds no rows; send at least one.")
    return shape[0]


def _flattened(name: str, data: list[Any]) -> list[Any]:
    """Nested data ``[[a], [b]]`` (shape ``[n, 1]`` row-major) as ``[a, b]`` (data whose first value
    is a list; flat data is taken as it is, and a list nested further inside it is a value the
    validator refuses)."""
    if not all(type(row) is list and len(row) == 1 for row in data):
        raise InvalidInputError(
            f"{tensor_named(name)}: nested data must hold one value per row: [[a], [b], ...]."
        )
    return [row[0] for row in data]


def _parameters_checked(where: str, holder: dict[str, Any]) -> None:
    """``parameters``, sent (it may be left out), is an object; what it says (``content_type``) is ignored."""
    if not isinstance(holder["parameters"], dict):
        raise InvalidInputError(f"{where}: 'parameters' must be an object.")


def _refuse_unequal_lengths(columns: dict[str, Sequence[Any]]) -> None:
    got = listed_names([f"{name}: {len(values)}" for name, values in columns.items()])
    raise InvalidInputError(f"The input tensors must have the same number of rows; got {got}.")


def _requested_outputs(body: dict[str, Any], all_binary: bool) -> tuple[tuple[str, ...], frozenset[str]]:
    """The names of the requested outputs, and those to send as binary data: an output's own
    ``binary_data`` parameter, else the request's ``binary_data_output``."""
    outputs = body["outputs"]
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise InvalidInputError("'outputs' must be a list of objects with a 'name'.")
    binary = set()
    for output in outputs:
        where = f"The output {shown_name(output['name'])}"
        if "parameters" in output:
            _parameters_checked(where, output)
        if _flag(output.get("parameters", {}), "binary_data", where, all_binary):
            binary.add(output["name"])
    return tuple(o["name"] for o in outputs), frozenset(binary)


def _flag(parameters: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    """A boolean parameter of the binary tensor data extension, ``default`` when it is not given."""
    value = parameters.get(key, default)
    if type(value) is not bool:
        raise InvalidInputError(f"{where}: parameter '{key}' must be true or false; got {shown(value)}.")
    return value
