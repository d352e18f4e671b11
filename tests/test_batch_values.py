"""A CSV column read as JSON numbers all at once (batch.values.json_numbers) gives exactly what the
per-cell reference gives: the same values, of the same Python types, in the same dtype."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from batch.values import json_column, json_numbers, json_numbers_per_cell

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=25)
INTEGER_PART = st.one_of(
    st.just("0"), st.tuples(st.sampled_from("123456789"), DIGITS | st.just("")).map("".join)
)
FRACTION = st.one_of(st.just(""), DIGITS.map(lambda digits: "." + digits))
EXPONENT = st.one_of(
    st.just(""),
    st.tuples(
        st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), DIGITS | st.integers(300, 330).map(str)
    ).map("".join),
)
# Every shape JSON's grammar allows, integers of any length and exponents past a double's range.
GRAMMAR = st.tuples(st.sampled_from(["", "-"]), INTEGER_PART, FRACTION, EXPONENT).map("".join)
PRINTED = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
NUMBERS = st.one_of(GRAMMAR, PRINTED)
NEAR_MISSES = st.one_of(
    st.tuples(NUMBERS, st.sampled_from(["+", " ", "0", ".", "\t", "\n", "_", "x", "١"])).map(
        lambda pair: pair[1] + pair[0]
    ),
    st.tuples(NUMBERS, st.sampled_from([" ", ".", "\n", "e", "e+", "_0", "١", "\u00a0"])).map("".join),
    st.sampled_from(
        ["nan", "NaN", "inf", "-inf", "Infinity", "0x10", "1_0", "05", "5.", ".5", "-", "", "True"]
    ),
    st.text(alphabet="0123456789-+.eE _\n١٥٫", max_size=8),
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=4),  # any script's digits
    st.text(max_size=5),
)
CELLS = st.one_of(NUMBERS, NEAR_MISSES, st.none())
COLUMNS = st.one_of(
    st.lists(CELLS, max_size=30),
    st.lists(st.one_of(NUMBERS, st.none()), max_size=30),  # numbers only: a Float64 or Int64 column
    st.lists(st.one_of(INTEGER_PART, st.none()), max_size=30),
    st.lists(st.one_of(NEAR_MISSES, st.none()), max_size=30),  # text only: a string column
)
EDGES = [
    "-0",
    "-0.0",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "2.4703282292062327e-324",
    "2.4703282292062328e-324",
    "123456789012345678",
    "-123456789012345678",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "0.1000000000000000055511151231257827",
]


def as_read(column: pd.Series) -> tuple[str, list[tuple[type, str]], list[Any]]:
    """The dtype, each value's type and repr (so -0.0 is not 0.0), and the index."""
    return str(column.dtype), [(type(v), repr(v)) for v in column.tolist()], list(column.index)


@settings(max_examples=600, deadline=None)
@given(COLUMNS)
@example(EDGES)
@example([cell for cell in EDGES if "e" not in cell and "." not in cell][:7])  # int64 only
@example(["-0", None, "7"])
@example(["-0", "0.5", None])
@example(["-0", "x", "0.5", "1e400"])
@example(["1e400", None])
@example([None, None])
@example([])
def test_the_column_reader_gives_what_the_per_cell_reference_gives(cells: list[str | None]) -> None:
    column = pd.Series(cells, dtype="string", index=range(100, 100 + len(cells)))
    assert as_read(json_numbers(column)) == as_read(json_numbers_per_cell(column))


def test_each_json_type_mix_has_the_dtype_the_writers_expect() -> None:
    dtypes = {
        "Int64": ["1", None, "-0"],
        "Float64": ["1", "2.5", None],
        "string": ["1_0", None, "1e400"],
        "object": ["1", "x"],
    }
    for dtype, cells in dtypes.items():
        assert str(json_numbers(pd.Series(cells, dtype="string")).dtype) == dtype, cells
    assert json_numbers(pd.Series([None, None], dtype="string")).tolist() == [None, None]


def test_integers_beyond_an_int64_make_an_object_column_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a CLI user would see numpy's RuntimeWarning on stderr
        column = json_column([2**63, 1])
        cells = json_numbers(pd.Series(["9223372036854775808", "1"], dtype="string"))
    assert column.dtype == object and column.tolist() == [2**63, 1]
    assert cells.dtype == object and cells.tolist() == [2**63, 1]
