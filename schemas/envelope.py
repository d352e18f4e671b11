"""Request envelopes: a flat row, ``instances`` (rows), ``inputs`` / ``data`` (columns or one row).

Columns stay columns: a columnar request is validated and handed to the model without ever being
turned into rows, unless a row has to be described in an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from schemas.messages import listed_names
from spec.errors import InvalidInputError

ENVELOPES = ("instances", "inputs", "data")
COLUMN_ENVELOPES = ("inputs", "data")  # the envelopes that may hold {feature: [values]}
_SHAPES = 'one row of features, {"instances": [rows]}, {"inputs": {feature: [values]}} or {"data": ...}'


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a microsecond per column
class NumberColumn(Sequence[Any]):
    """A column of JSON numbers decoded straight into float64, with no Python object per value.

    ``sent`` still gives each value as the client wrote it (``25``, not ``25.0``), read on demand
    when a row has to be described in an error message.
    """

    array: np.ndarray  # float64, one value per row
    sent: Sequence[Any]

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        return self.sent[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.sent)

    def as_list(self) -> list[Any]:
        """The values as sent, as a list."""
        return list(self.sent)


@dataclass(slots=True)  # built per request: not frozen, whose __init__ costs more
class Envelope:
    """The rows a request carries, as ``rows`` or as equal-length ``columns`` (exactly one is set).

    ``batched`` says whether the caller sent a batch: errors are then keyed by row.
    """

    rows: list[Any] | None = None
    columns: dict[str, Sequence[Any]] | None = None  # lists, or NumberColumns
    batched: bool = False

    @property
    def n_rows(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(next(iter(self.columns.values())))

    def row(self, index: int) -> Any:
        """Row ``index`` as the caller would have sent it on its own."""
        if self.rows is not None:
            return self.rows[index]
        return {name: values[index] for name, values in self.columns.items()}


_COLUMN_TYPES = (list, NumberColumn)


def parse_envelope(body: Any) -> Envelope:
    """Find the rows in a parsed JSON body; raises ``InvalidInputError`` for a shape we do not accept."""
    if not isinstance(body, dict):
        raise InvalidInputError(f"The body must be a JSON object: {_SHAPES}.")
    present = [key for key in ENVELOPES if key in body]
    if not present:
        return Envelope(rows=[body])
    key = present[0]
    extra = [k for k in body if k != key]
    if extra:
        raise InvalidInputError(f"Unexpected keys beside '{key}': {listed_names(extra)}. Send {_SHAPES}.")
    content = body[key]
    if isinstance(content, list):
        return Envelope(rows=_nonempty(key, content), batched=True)
    if key != "instances" and isinstance(content, dict):
        return _from_mapping(key, content)
    expected = "a list of rows" if key == "instances" else "an object of columns or a list of rows"
    raise InvalidInputError(f"'{key}' must be {expected}.")


def _nonempty(key: str, rows: list[Any]) -> list[Any]:
    if not rows:
        raise InvalidInputError(f"'{key}' is empty: send at least one row.")
    return rows


def _from_mapping(key: str, content: dict[str, Any]) -> Envelope:
    """Columns when every value is a list (or a NumberColumn), one row when none is."""
    lists = [name for name, value in content.items() if isinstance(value, _COLUMN_TYPES)]
    if not lists:
        return Envelope(rows=[content])
    if len(lists) != len(content):
        scalars = [name for name, value in content.items() if not isinstance(value, _COLUMN_TYPES)]
        raise InvalidInputError(
            f"'{key}' mixes columns (lists) with single values: {listed_names(scalars)}. "
            "Send every feature as a list of the same length, or none."
        )
    lengths = {name: len(values) for name, values in content.items()}
    if len(set(lengths.values())) > 1:
        shown = listed_names([f"{name}: {n}" for name, n in lengths.items()])
        raise InvalidInputError(f"The columns in '{key}' must have the same length; got {shown}.")
    if not next(iter(lengths.values())):
        raise InvalidInputError(f"'{key}' is empty: send at least one row.")
    return Envelope(columns=content, batched=True)
