"""Read and write CSV, Parquet and JSON Lines a chunk at a time, the format chosen by extension.

Memory stays flat whatever the file size: readers yield DataFrames of at most ``chunk_rows`` rows
(pandas' ``chunksize``, pyarrow's ``iter_batches``) and writers append each chunk as it comes.
Columns use pandas' nullable dtypes, so an integer column with an empty cell stays integer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from batch import STDIO
from batch.values import json_column

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_CSV_OPTIONS = pa_csv.WriteOptions(quoting_style="needed")
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
_ARROW_TEXT = pd.ArrowDtype(pa.large_string())
# What a reader may raise for a file it cannot read (missing, not the format its name says, ...).
READ_ERRORS = (OSError, ValueError, UnicodeDecodeError, pa.ArrowException)


class BatchUsageError(Exception):
    """A problem with the command line or the files: reported in one line, exit status 2."""


def format_of(path: str) -> str:
    """``csv``, ``parquet`` or ``jsonl`` from the file name (``-`` is CSV on stdin or stdout)."""
    if path == STDIO:
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise BatchUsageError(f"{path}: unsupported extension {suffix or '(none)'!r}; use one of {known}")
    return FORMATS[suffix]


def read_chunks(path: str, chunk_rows: int, text_columns: Iterable[str] = ()) -> Iterator[pd.DataFrame]:
    """The file's rows, ``chunk_rows`` at a time; ``text_columns`` of a CSV are kept as text."""
    kind = format_of(path)
    if kind == "parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas(types_mapper=_nullable_dtype)
        return
    if kind == "jsonl":
        yield from read_json_lines(path, chunk_rows)
        return
    source: str | IO[str] = sys.stdin if path == STDIO else path
    text = list(text_columns)
    chunks = pd.read_csv(
        source,
        chunksize=chunk_rows,
        # Arrow text straight from the parser, faster than the "string" dtype's Python strings;
        # each column then becomes a "string" one without a copy
        dtype={name: _ARROW_TEXT for name in text},
        keep_default_na=False,  # only an empty cell is missing: "NA" may well be a category
        na_values=[""],
        dtype_backend="numpy_nullable",
    )
    for chunk in chunks:
        yield chunk.assign(**{name: _string_column(chunk[name]) for name in text if name in chunk})


def _string_column(column: pd.Series) -> pd.Series:
    """An Arrow text column as pandas' ``string`` dtype, sharing its memory."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(column)), index=column.index, name=column.name)


def read_json_lines(path: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A JSON Lines file's objects, ``chunk_rows`` at a time, each line read by the API's parser
    (orjson, so ``NaN`` is no number here either); blank lines are skipped. Raises ValueError
    naming the line that is not JSON or not an object."""
    rows: list[dict[str, Any]] = []
    seen = False
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                rows.append(_json_object(line, number))
            if len(rows) == chunk_rows:
                yield _json_frame(rows)
                rows, seen = [], True
    if rows:
        yield _json_frame(rows)
    elif not seen:
        raise ValueError("it holds blank lines only, no JSON object")


def _json_object(line: bytes, number: int) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if type(value) is not dict:
        kind = _JSON_KINDS.get(type(value), "null")
        raise ValueError(f"line {number} is {kind}, not a JSON object of features")
    return value


def _json_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as columns (a key a row lacks is missing there), each in the dtype its values share."""
    names = dict.fromkeys(name for row in rows for name in row)
    return pd.DataFrame({name: json_column([row.get(name) for row in rows]) for name in names})


def count_rows(path: str) -> int | None:
    """The number of rows when the file says so cheaply (Parquet), else ``None``."""
    if path != STDIO and format_of(path) == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return None


class ChunkWriter(Protocol):
    def write(self, frame: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


def open_writer(path: str, into: Path | None = None) -> ChunkWriter:
    """A writer for ``path`` in the format its extension names (``-``: CSV on stdout), writing the
    file ``into`` when given (messages still name ``path``)."""
    kind = format_of(path)
    file = str(into) if into is not None else path
    if kind == "jsonl":
        return JsonLinesChunkWriter(open(file, "w", encoding="utf-8"))
    if kind == "parquet":
        return ArrowChunkWriter(path, partial(pq.ParquetWriter, file))
    sink = sys.stdout.buffer if path == STDIO else file
    return ArrowChunkWriter(path, partial(pa_csv.CSVWriter, sink, write_options=_CSV_OPTIONS))


class JsonLinesChunkWriter:
    """One JSON object per row; missing values as ``null``, floats to 15 significant digits."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            text = frame.to_json(orient="records", lines=True, double_precision=15)
            self.stream.write(text if text.endswith("\n") else text + "\n")

    def close(self) -> None:
        self.stream.close()


class ArrowChunkWriter:
    """CSV or Parquet through Arrow's writers (CSV floats in their shortest round-trip form, faster
    than pandas' ``to_csv``). Every chunk is cast to the schema of the first non-empty
    one, since pandas infers each chunk's types on its own."""

    def __init__(self, path: str, open_sink: Callable[[pa.Schema], Any]) -> None:
        self.path = path
        self.open_sink = open_sink
        self.writer: Any = None
        self.schema: pa.Schema | None = None
        self.empty: pa.Table | None = None

    def write(self, frame: pd.DataFrame) -> None:
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            problem = " ".join("; ".join(map(str, exc.args)).split())  # mixed types, from JSON Lines say
            raise BatchUsageError(f"cannot write {self.path}: {problem}; write JSON Lines instead") from exc
        if not len(frame):  # its types may be unknown (no labels): only used if nothing else comes
            self.empty = self.empty or table
            return
        if self.writer is None:
            self.writer, self.schema = self.open_sink(table.schema), table.schema
        elif table.schema != self.schema:
            table = self._conform(table)
        self.writer.write_table(table)

    def _conform(self, table: pa.Table) -> pa.Table:
        try:
            return table.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BatchUsageError(
                f"{self.path}: a column changes type between chunks ({exc}); "
                "write JSON Lines, or give a larger --chunk-rows"
            ) from exc

    def close(self) -> None:
        if self.writer is None and self.empty is not None:
            self.writer = self.open_sink(self.empty.schema)
            self.writer.write_table(self.empty)
        if self.writer is not None:
            self.writer.close()


def _nullable_dtype(arrow_type: pa.DataType) -> object | None:
    """pandas' nullable dtype for an Arrow integer, boolean or string column (``None``: the default)."""
    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(str(arrow_type).capitalize().replace("Uint", "UInt"))
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None
