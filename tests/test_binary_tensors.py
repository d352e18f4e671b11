"""The binary tensor codec against tritonclient's own: what its client serialises decodes to the
values it was given, and what the server encodes deserialises back the same way."""

from __future__ import annotations

import numpy as np
import pytest
from tritonclient.utils import deserialize_bytes_tensor, serialize_byte_tensor, triton_to_np_dtype

from schemas.binary_tensors import NUMBER_DTYPES, decode_binary, encode_binary
from schemas.envelope import NumberColumn

STRINGS = ["Biscoe", "", "Dream", "Torgersen", "çà et là", "🐧", "x" * 300]


@pytest.mark.parametrize("datatype", sorted(NUMBER_DTYPES))
def test_numbers_decode_to_float64_and_to_the_values_sent(datatype: str) -> None:
    rng = np.random.default_rng(len(datatype))
    values = (rng.uniform(-100, 100, 40) if datatype.startswith("FP") else rng.integers(0, 100, 40)).astype(
        triton_to_np_dtype(datatype)
    )
    decoded = decode_binary("x", datatype, values.tobytes(), [40], 40)
    assert type(decoded) is NumberColumn
    assert decoded.array.dtype == np.float64 and decoded.array.tolist() == values.astype(np.float64).tolist()
    assert decoded.as_list() == values.tolist() and decoded[3] == values[3].item()
    assert type(decoded[3]) is (float if datatype.startswith("FP") else int)


def test_strings_decode_from_what_tritonclient_serialises() -> None:
    raw = serialize_byte_tensor(np.array(STRINGS, dtype=object)).item()
    assert decode_binary("x", "BYTES", raw, [len(STRINGS), 1], len(STRINGS)) == STRINGS


def test_booleans_decode_from_what_numpy_writes() -> None:
    flags = [True, False, False, True]
    assert decode_binary("x", "BOOL", np.array(flags).tobytes(), [4], 4) == flags


@pytest.mark.parametrize(
    ("datatype", "data"),
    [("BYTES", STRINGS), ("FP64", [0.25, -1.5, 3e300]), ("INT64", [1, -2, 2**40]), ("BOOL", [True, False])],
)
def test_outputs_encode_to_what_tritonclient_reads(datatype: str, data: list) -> None:
    raw = encode_binary(datatype, data)
    if datatype == "BYTES":
        assert [v.decode() for v in deserialize_bytes_tensor(raw)] == data
    else:
        assert np.frombuffer(raw, dtype=triton_to_np_dtype(datatype)).tolist() == data
