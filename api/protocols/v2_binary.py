"""Triton's binary tensor data extension on the V2 infer paths, both ways.

A request with an ``Inference-Header-Content-Length`` header is a JSON header of that many bytes
followed by the binary data of each input whose ``parameters`` give a ``binary_data_size``, in the
order of ``inputs``. Each such tensor's bytes are cut from the body here and left in its ``data``
as ``BinaryData``, which ``schemas.tensors`` decodes once it has checked the tensor's framing, so
the rest of the pipeline sees what a JSON body would have given. An answer whose outputs a client
asked for as binary data is framed the same way, as Triton frames it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from api.protocols.column_json import parse_infer_body
from api.protocols.encoding import Headers
from schemas.binary_tensors import BinaryData, encode_binary
from schemas.fields import shown
from schemas.messages import tensor_named
from schemas.tensors import InferRequest
from spec.config import ServerSettings
from spec.errors import InvalidInputError, TooManyRowsError

HEADER = "Inference-Header-Content-Length"
HEADER_KEY = "HTTP_INFERENCE_HEADER_CONTENT_LENGTH"  # the header in a WSGI environ
OCTET_STREAM = "application/octet-stream"
_SIZE = "binary_data_size"


def binary_body_loader(announced: str, settings: ServerSettings) -> Callable[[bytes], Any]:
    """The parser of a body whose first ``announced`` bytes (the header's value) are its JSON.

    Raises 400 for a value that is not a number of bytes, 413 for one above ``max_body_bytes``,
    before the body is read.
    """
    if not (announced.isascii() and announced.isdigit()):
        raise BadRequest(
            f"The {HEADER} header must be the JSON header's size in bytes; got {shown(announced)}."
        )
    length = int(announced)
    if length > settings.max_body_bytes:
        raise RequestEntityTooLarge(
            f"The {HEADER} header announces {length} bytes of JSON, more than the limit of "
            f"{settings.max_body_bytes} bytes (server.max_body_bytes)."
        )
    return functools.partial(load_binary_body, header_length=length, max_rows=settings.max_rows)


def load_binary_body(data: bytes, header_length: int, max_rows: int) -> Any:
    """The JSON header of ``data`` parsed as a JSON body would be, each binary input's ``data``
    the ``BinaryData`` its ``binary_data_size`` cuts from the bytes that follow.

    Raises 400 when the header is longer than the body or not JSON, when a size is not a number
    of bytes or runs past the body, when a tensor has both ``data`` and binary data, or when the
    sizes do not add up to the bytes after the header; 413 for a tensor of more than ``max_rows``.
    """
    if header_length > len(data):
        raise BadRequest(
            f"The {HEADER} header announces {header_length} bytes of JSON, but the body has only {len(data)}."
        )
    try:
        body = parse_infer_body(data[:header_length])
    except ValueError as exc:  # orjson.JSONDecodeError is one
        raise BadRequest(
            f"The JSON header (the body's first {header_length} bytes) is not valid JSON: {exc}."
        ) from None
    inputs = body.get("inputs") if type(body) is dict else None
    end = _cut_tensors(inputs, data, header_length, max_rows) if type(inputs) is list else header_length
    if end != len(data):
        raise BadRequest(
            f"The inputs' binary_data_size add up to {end - header_length} bytes, but the body has "
            f"{len(data) - header_length} after its JSON header."
        )
    return body


def _cut_tensors(inputs: list[Any], data: bytes, offset: int, max_rows: int) -> int:
    """Put each binary tensor's bytes in its ``data``; the offset where the last one ends."""
    for index, tensor in enumerate(inputs):
        parameters = tensor.get("parameters") if type(tensor) is dict else None
        if type(parameters) is not dict or _SIZE not in parameters:
            continue
        name = tensor.get("name")
        where = tensor_named(name) if type(name) is str else f"inputs[{index}]"
        size = parameters[_SIZE]
        if type(size) is not int or size < 0:
            raise InvalidInputError(f"{where}: {_SIZE} must be a number of bytes; got {shown(size)}.")
        if "data" in tensor:
            raise InvalidInputError(f"{where} has both 'data' and binary data ({_SIZE}); send one.")
        if offset + size > len(data):
            raise BadRequest(
                f"{where}: {_SIZE} {size} runs past the end of the body "
                f"({len(data) - offset} bytes are left for it)."
            )
        shape = tensor.get("shape")
        if type(shape) is list and shape and type(shape[0]) is int and shape[0] > max_rows:
            raise TooManyRowsError(shape[0], max_rows)  # before decoding rows the request cannot have
        tensor["data"] = BinaryData(data[offset : offset + size])
        offset += size
    return offset


def binary_answer(response: dict[str, Any], request: InferRequest) -> tuple[bytes, Headers]:
    """The answer as a JSON header and the binary data of the outputs ``request`` asked for as
    binary, with the headers that frame it."""
    parts = []
    for tensor in response["outputs"]:
        if request.all_binary or tensor["name"] in request.binary_outputs:
            raw = encode_binary(tensor["datatype"], tensor.pop("data"))
            tensor["parameters"] = {_SIZE: len(raw)}
            parts.append(raw)
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)  # JSON outputs left as arrays
    return header + b"".join(parts), (("Content-Type", OCTET_STREAM), (HEADER, str(len(header))))
