"""The body parsers on chosen bodies: flat numbers become float64 arrays that outlive the parser,
anything else stays a list, escaped and repeated keys, orjson's refusals in orjson's words, and
the size and shape rules that decide which bodies simdjson walks (tests/test_column_json.py holds
the same parsers to orjson on generated bodies)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from api.protocols.column_json import SMALL_BODY_BYTES, parse_infer_body, parse_predict_body
from schemas.envelope import NumberColumn
from tests.test_column_json import PARSERS, column_values, plain, tensor_columns


def number_columns(body: Any) -> list[NumberColumn]:
    """The input tensors' ``data`` that were read as number columns."""
    return [data for data in tensor_columns(body) if isinstance(data, NumberColumn)]


def tensor(data: str) -> bytes:
    return b'{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": %s}]}' % data.encode()


def test_flat_numbers_become_arrays_and_keep_the_values_sent() -> None:
    [column] = number_columns(parse_infer_body(tensor("[25, 1.5e-3]"), 0))
    assert column.array.tolist() == [25.0, 0.0015]
    assert column[0] == 25 and type(column[0]) is int and len(column) == 2


def test_a_column_outlives_its_parser_and_is_its_own_memory() -> None:
    """The arrays view simdjson's copy of the numbers, not the parser's document: they stay right
    when the body and its parser are gone and other bodies are parsed, and writing one touches
    nothing else."""
    first = parse_infer_body(tensor(str(list(range(1000)))), 0)
    [column] = number_columns(first)
    array = column.array
    del first, column
    for other in range(5):
        number_columns(parse_infer_body(tensor(str([-1.5] * (1000 + other))), 0))
    assert array.tolist() == [float(v) for v in range(1000)]
    assert array.flags.writeable and array.flags.c_contiguous
    array[0] = 42.0
    assert array[:2].tolist() == [42.0, 1.0]


@pytest.mark.parametrize(
    "data",
    [
        "[[1.0], [2.0]]",  # nested: simdjson would flatten it, the validator must see the rows
        "[1.0, [2.0, 3.0], []]",  # as many numbers as elements, yet nested
        "[1.0, true]",
        "[1.0, null]",
        '[1.0, "2"]',
    ],
)
def test_anything_but_flat_numbers_stays_a_list(data: str) -> None:
    parsed = parse_infer_body(tensor(data), 0)
    assert number_columns(parsed) == []
    assert parsed == orjson.loads(tensor(data))


def test_a_bracket_in_a_string_only_costs_the_fast_path() -> None:
    raw = b'{"id": "[x]", ' + tensor("[1.0, 2.0]")[1:]
    parsed = parse_infer_body(raw, 0)
    assert parsed == orjson.loads(raw) and number_columns(parsed) == []


def test_a_key_sent_twice_keeps_its_last_value_as_orjson_does() -> None:
    raw = b'{"inputs": [{"name": "a", "data": [1.0], "data": [2.0, 3.0]}], "id": "x", "id": "y"}'
    assert (
        plain(parse_infer_body(raw))
        == orjson.loads(raw)
        == {
            "inputs": [{"name": "a", "data": [2.0, 3.0]}],
            "id": "y",
        }
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"inputs": [1, 2,]}',
        b'{"inputs": [NaN]}',
        b"",
        b'{"id": "\\ud800"}',
        b'{"id": "\xff"}',
        b'{"inputs": [1e400]}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
@pytest.mark.parametrize("small_body_bytes", [0, SMALL_BODY_BYTES])
@pytest.mark.parametrize("parse", PARSERS)
def test_what_orjson_refuses_is_refused_in_orjson_words(
    raw: bytes, small_body_bytes: int, parse: Any
) -> None:
    with pytest.raises(orjson.JSONDecodeError) as expected:
        orjson.loads(raw)
    with pytest.raises(orjson.JSONDecodeError) as refused:
        parse(raw, small_body_bytes)
    assert str(refused.value) == str(expected.value)


def test_an_integer_beyond_64_bits_is_read_as_orjson_reads_it() -> None:
    """simdjson refuses it; orjson, the definition here as on /models, reads a float."""
    raw = tensor("[18446744073709551616, 1.0]")
    assert parse_infer_body(raw, 0) == orjson.loads(raw)
    assert parse_infer_body(raw, 0)["inputs"][0]["data"][0] == 18446744073709551616.0


def test_a_small_body_goes_to_orjson_and_a_large_one_keeps_arrays() -> None:
    """Walking simdjson's objects costs more than a few rows' Python objects."""
    small = tensor("[1.0, 2.0]")
    assert len(small) < SMALL_BODY_BYTES and number_columns(parse_infer_body(small)) == []
    large = b'{"inputs": [{"name": "a", "shape": [400], "datatype": "FP64", "data": [%s]}]}' % b", ".join(
        b"1.5" for _ in range(400)
    )
    assert len(large) >= SMALL_BODY_BYTES and len(number_columns(parse_infer_body(large))) == 1


def test_flat_numeric_columns_of_a_predict_body_become_arrays() -> None:
    raw = b'{"inputs": {"a": [25, 1.5e-3], "b": ["x", "y"], "c": [1.0, null]}}'
    parsed = parse_predict_body(raw, 0)
    assert plain(parsed) == orjson.loads(raw)
    a, b, c = parsed["inputs"].values()
    assert type(a) is NumberColumn and a.array.tolist() == [25.0, 0.0015] and type(a[0]) is int
    assert b == ["x", "y"] and c == [1.0, None]
    assert type(parse_predict_body(b'{"data": {"a": [1.0, 2.0]}}', 0)["data"]["a"]) is NumberColumn


@pytest.mark.parametrize(
    "raw",
    [
        b'{"inputs": {"a": [[1.0], [2.0]], "b": [1.0, 2.0]}}',  # nested: every column stays a list
        b'{"inputs": {"a": [1.0, 2.0]}, "id": [1]}',  # an array beside the columns
        b'{"inputs": {"a": [1.0, 2.0], "b": "[1.0]"}}',  # a bracket inside a string
        b'{"instances": [{"a": 1.0}, {"a": 2.0}]}',
        b'{"a": [1.0, 2.0]}',  # one row whose value is a list
    ],
)
def test_only_columns_proven_flat_become_arrays(raw: bytes) -> None:
    parsed = parse_predict_body(raw, 0)
    assert parsed == orjson.loads(raw)  # no NumberColumn anywhere: a NumberColumn is not a list
    assert not any(isinstance(v, NumberColumn) for v in column_values(parsed))


def test_an_object_of_many_keys_is_read_whole_not_key_by_key() -> None:
    """simdjson scans an object for each key looked up: 100,000 keys took tens of seconds. Past
    128 keys the object is materialised at once, its columns as lists (tests/test_hostile_clients.py
    times 100,000 through a server)."""
    few = orjson.dumps({"inputs": {f"c{i}": [1.0, 2.0] for i in range(128)}})
    many = orjson.dumps({"inputs": {f"c{i}": [1.0, 2.0] for i in range(129)}})
    assert all(type(v) is NumberColumn for v in column_values(parse_predict_body(few, 0)))
    assert parse_predict_body(many, 0) == orjson.loads(many)
    tensor_keys = orjson.dumps({"inputs": [{"name": "a", "data": [1.0], **{f"k{i}": 1 for i in range(200)}}]})
    assert parse_infer_body(tensor_keys, 0) == orjson.loads(tensor_keys)


def test_only_a_body_opening_with_its_columns_is_walked() -> None:
    """Rows and instances go to orjson whole (simdjson's copy of them costs twice orjson's); so does
    a columnar body with another key first, which the envelope then refuses anyway."""
    columns = b'{"a": [1.0, 2.0]}'
    assert type(parse_predict_body(b' {\n "data" : ' + columns + b"}", 0)["data"]["a"]) is NumberColumn
    for raw in (
        b'{"instances": [{"a": 1.0}]}',
        b'{"x": 1, "inputs": ' + columns + b"}",
        b"[" + columns + b"]",
    ):
        assert parse_predict_body(raw, 0) == orjson.loads(raw)
