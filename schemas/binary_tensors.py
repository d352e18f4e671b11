"""Triton's binary tensor data: a tensor's values as raw bytes instead of a JSON ``data`` list.

Numbers are little-endian in the datatype's native width, row-major with no padding; a BOOL is one
byte, 0 or 1; a BYTES element is a 4-byte little-endian length followed by that many bytes. Decoded
tensors are what the JSON path gives (``schemas.tensors`` checks them the same way): numbers as a
``NumberColumn`` (float64, and the values as sent for messages), booleans and strings as lists.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from schemas.envelope import NumberColumn
from schemas.messages import tensor_named
from spec.errors import InvalidInputError

NUMBER_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(code)
    for name, code in {
        "UINT8": "<u1",
        "UINT16": "<u2",
        "UINT32": "<u4",
        "UINT64": "<u8",
        "INT8": "<i1",
        "INT16": "<i2",
        "INT32": "<i4",
        "INT64": "<i8",
        "FP16": "<f2",
        "FP32": "<f4",
        "FP64": "<f8",
    }.items()
}
_LENGTH = struct.Struct("<I")  # a BYTES element's length prefix
_BOOL = np.dtype(np.uint8)  # one byte per value, 0 or 1


@dataclass(frozen=True, slots=True)
class BinaryData:
    """A tensor's binary data as sent, cut from the body by its ``binary_data_size``."""

    raw: bytes


class SentValues(Sequence[Any]):
    """A decoded numeric tensor's values as Python numbers, converted only when read (to word an
    error, or for a feature that is not a number)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        return self.array[index].tolist()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.array.tolist())


def decode_binary(name: str, datatype: str, raw: bytes, shape: list[int], rows: int) -> Sequence[Any]:
    """The ``rows`` values of a tensor of shape ``shape`` ([n] or [n, 1]) from its binary data.

    Raises ``InvalidInputError`` when the bytes do not frame whole values of ``datatype`` (one of
    ``schemas.tensors.DATATYPES``), when they hold another number of values than the shape, when
    a BOOL byte is neither 0 nor 1, or when a BYTES element is not UTF-8 text.
    """
    if datatype == "BYTES":
        return _strings(name, raw, shape, rows)
    dtype = _BOOL if datatype == "BOOL" else NUMBER_DTYPES[datatype]
    if len(raw) % dtype.itemsize:
        raise InvalidInputError(
            f"{tensor_named(name)}: binary_data_size {len(raw)} is not a multiple of {dtype.itemsize}, "
            f"the size of one {datatype} value."
        )
    array = np.frombuffer(raw, dtype=dtype)
    if len(array) != rows:
        raise _count_error(name, f"{len(array)} {datatype} values ({len(raw)} bytes)", shape)
    if datatype != "BOOL":
        return NumberColumn(array.astype(np.float64), SentValues(array))
    if (array > 1).any():
        raise InvalidInputError(f"{tensor_named(name)}: a BOOL value must be the byte 0 or 1.")
    return array.astype(bool).tolist()


def encode_binary(datatype: str, data: Any) -> bytes:
    """An output tensor's values (a list or an array) as binary data."""
    if datatype == "BYTES":
        parts = []
        for value in data:
            text = value.encode() if type(value) is str else str(value).encode()
            parts += (_LENGTH.pack(len(text)), text)
        return b"".join(parts)
    dtype = _BOOL if datatype == "BOOL" else NUMBER_DTYPES[datatype]
    return np.ascontiguousarray(data, dtype=dtype).tobytes()


def _strings(name: str, raw: bytes, shape: list[int], rows: int) -> list[str]:
    """The ``rows`` elements of a BYTES tensor, each a length prefix then that many bytes of UTF-8.

    Reads no more than ``rows`` prefixes, so a body of empty strings costs no more than its rows.
    The loop checks nothing it does not have to; bytes that frame badly are then described by
    ``_framing_error``, which walks them again."""
    parts: list[bytes] = []
    append, unpack, offset = parts.append, _LENGTH.unpack_from, 0
    try:
        for _ in range(rows):
            (size,) = unpack(raw, offset)
            offset += 4 + size  # a slice past the end is cut short: found below
            append(raw[offset - size : offset])
    except struct.error:  # fewer than 4 bytes left for a length
        offset = -1
    if offset != len(raw):
        raise _framing_error(name, raw, shape, rows)
    try:
        return [str(part, "utf-8") for part in parts]
    except UnicodeDecodeError:
        index = next(i for i, part in enumerate(parts) if not _is_utf8(part))
        raise InvalidInputError(f"{tensor_named(name)}: element {index} is not UTF-8 text.") from None


def _framing_error(name: str, raw: bytes, shape: list[int], rows: int) -> InvalidInputError:
    """What is wrong with BYTES data that does not hold exactly ``rows`` whole elements."""
    end, offset = len(raw), 0
    for index in range(rows):
        if offset == end:
            return _count_error(name, f"{index} BYTES values", shape)
        if end - offset < _LENGTH.size:
            return InvalidInputError(
                f"{tensor_named(name)}: element {index}'s 4-byte length is cut short "
                f"({end - offset} bytes left in its binary data)."
            )
        (size,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        if size > end - offset:
            return InvalidInputError(
                f"{tensor_named(name)}: element {index} announces {size} bytes but only "
                f"{end - offset} are left in its binary data."
            )
        offset += size
    return _count_error(name, f"more than {rows} BYTES values ({end - offset} bytes left over)", shape)


def _is_utf8(part: bytes) -> bool:
    try:
        part.decode()
    except UnicodeDecodeError:
        return False
    return True


def _count_error(name: str, holds: str, shape: list[int]) -> InvalidInputError:
    return InvalidInputError(
        f"{tensor_named(name)}: its binary data holds {holds} but its shape {shape} holds {math.prod(shape)}."
    )
