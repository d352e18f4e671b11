"""The body parsers (simdjson) give what orjson gives and refuse what orjson refuses, with flat
numeric columns (a V2 tensor's data, a /models ``inputs`` or ``data`` object's values) as float64
arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.protocols.column_json import SMALL_BODY_BYTES, parse_infer_body, parse_predict_body
from schemas.envelope import NumberColumn

INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
# A quote, a backslash or a control character is escaped in JSON; simdjson cannot look such keys up.
TEXT = st.text(alphabet=st.sampled_from(list('ab[]{}",:é\\') + ["\x1f", "\n"]), max_size=4)
SCALARS = st.one_of(FLOATS, INT64, st.booleans(), st.none(), TEXT)
NUMBERS = st.lists(st.one_of(FLOATS, INT64), min_size=0, max_size=30)
DATA = st.one_of(
    NUMBERS,
    NUMBERS.map(lambda values: [[v] for v in values]),  # shape [n, 1], nested
    st.lists(st.one_of(SCALARS, st.lists(FLOATS, max_size=2)), max_size=10),
    SCALARS,
)
TENSOR = st.fixed_dictionaries(
    {"name": TEXT, "datatype": st.sampled_from(["FP64", "INT64", "BYTES"]), "data": DATA},
    optional={
        "shape": st.lists(st.integers(0, 40), max_size=2),
        "parameters": st.dictionaries(TEXT, SCALARS),
        "\x1f": SCALARS,
    },
)
BODY = st.fixed_dictionaries(
    {"inputs": st.one_of(st.lists(TENSOR, max_size=4), SCALARS)},
    optional={
        "id": TEXT,
        "outputs": st.lists(st.fixed_dictionaries({"name": TEXT}), max_size=2),
        "parameters": st.dictionaries(TEXT, st.one_of(SCALARS, st.lists(SCALARS, max_size=2))),
    },
)

COLUMNS = st.dictionaries(TEXT, DATA, max_size=4)
PREDICT_BODY = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "inputs": st.one_of(COLUMNS, st.lists(st.dictionaries(TEXT, SCALARS), max_size=3), SCALARS),
            "data": st.one_of(COLUMNS, SCALARS),
            "instances": st.lists(st.dictionaries(TEXT, SCALARS), max_size=3),
            "\x1f": st.one_of(SCALARS, st.lists(FLOATS, max_size=2)),
        },
    ),
    st.dictionaries(TEXT, SCALARS),  # one flat row
)
PARSERS = [parse_infer_body, parse_predict_body]


def plain(value: Any) -> Any:
    """The parsed body with every NumberColumn back as the list of values sent."""
    if isinstance(value, NumberColumn):
        return value.as_list()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def tensor_columns(body: Any) -> list[Any]:
    """The ``data`` of a V2 body's input tensors."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    return [t.get("data") for t in inputs if isinstance(t, dict)] if isinstance(inputs, list) else []


def column_values(body: Any) -> list[Any]:
    """The values of a /models body's ``inputs`` and ``data`` objects."""
    found = []
    for key in ("inputs", "data"):
        if isinstance(body, dict) and isinstance(body.get(key), dict):
            found += body[key].values()
    return found


# (a parser, a body it reads, where the body's number columns are)
PARSER_CASES = st.one_of(
    st.tuples(st.just(parse_infer_body), BODY, st.just(tensor_columns)),
    st.tuples(st.just(parse_predict_body), PREDICT_BODY, st.just(column_values)),
)


@settings(max_examples=600, deadline=None)
@given(PARSER_CASES, st.sampled_from([0, SMALL_BODY_BYTES]))
def test_the_parsed_body_is_what_orjson_reads(case: tuple[Any, Any, Any], small_body_bytes: int) -> None:
    """Whether small bodies are materialised whole or not; number columns hold the values sent."""
    parse, body, columns_of = case
    raw = orjson.dumps(body)
    parsed = parse(raw, small_body_bytes)
    assert plain(parsed) == orjson.loads(raw)
    for column in columns_of(parsed):
        if isinstance(column, NumberColumn):
            assert column.array.dtype == np.float64 and column.array.flags.writeable
            assert np.array_equal(column.array, np.array(column.as_list(), dtype=np.float64))


ANY_BODY = st.one_of(BODY, PREDICT_BODY).map(orjson.dumps)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.binary(max_size=60), ANY_BODY.map(lambda raw: raw[: len(raw) // 2])),
    st.sampled_from(PARSERS),
)
def test_any_bytes_parse_as_orjson_reads_them_or_are_refused_as_orjson_refuses(
    raw: bytes, parse: Any
) -> None:
    """Truncated bodies and random bytes: orjson's value, or orjson's error, never another."""
    try:
        expected = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        with pytest.raises(orjson.JSONDecodeError) as refused:
            parse(raw, 0)
        assert str(refused.value) == str(error)
        return
    assert plain(parse(raw, 0)) == expected


@pytest.mark.parametrize(
    ("parse", "raw"),
    [
        (parse_infer_body, b'{"inputs": [{"n\\u0061me": "a", "d\\u0061ta": [1.0, 2.0]}]}'),
        (parse_infer_body, b'{"\\u0069nputs": [{"name": "a", "data": [1.0]}], "id": "x"}'),
        (parse_infer_body, b'{"inputs": [{"name": "a", "data": [1.0], "\\u001f": 1}]}'),
        (parse_predict_body, b'{"\\u0069nputs": {"a": [1.0, 2.0]}}'),
        (parse_predict_body, b'{"inputs": {"\\u0061": [1.0], "b": [2.0]}}'),
        (parse_predict_body, b'{"inputs": {"a": [1.0], "a": [2.0, 3.0]}, "inputs": {"b": [4.0]}}'),
    ],
)
def test_escaped_and_repeated_keys_are_read_as_orjson_reads_them(parse: Any, raw: bytes) -> None:
    """simdjson looks keys up by their raw text and keeps the first of a repeated key; an escaped
    key must still be found, and the last of a repeated one kept."""
    assert plain(parse(raw, 0)) == orjson.loads(raw)
