"""Validate a request against a version's features, once, in time linear in the body.

Two implementations of "valid", each named for what it is:

* ``RequestValidator.validate``, the one that serves: column-wise checks (``schemas.columnar``)
  find the bad rows of any batch in a few numpy passes;
* ``RequestValidator.validate_reference``: the version's marshmallow schema on every row, slow, the
  definition of valid. tests/test_columnar.py holds the two together on random batches.

Either way the marshmallow schema words the messages, for the first rows with problems only
(``schemas.messages`` bounds the answer), so both give the same 400.

A validator depends on the version's features alone; the nesting limit (``server.max_json_depth``,
which a reload may change while the version stays) is given with each call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError

from schemas.columnar import ColumnCheck, feature_array
from schemas.envelope import Envelope
from schemas.features import build_feature_schema
from schemas.messages import MAX_ROWS_DESCRIBED, Messages, invalid_input_error, unknown_messages
from spec.config import ServerSettings, VersionSpec
from spec.errors import InvalidInputError

NOT_A_ROW_MESSAGE = "A row must be a JSON object of features."
MAX_DEPTH = ServerSettings.max_json_depth  # server.max_json_depth's default

Columns = dict[str, np.ndarray]


@dataclass(slots=True)  # built per request: not frozen, whose __init__ costs more
class Partition:
    """A batch split in two: the valid rows as model columns, and what is wrong with the others."""

    columns: Columns | None  # the valid rows, in order; None when there are none
    rows: np.ndarray  # index in the batch of each valid row
    problems: dict[int, Messages]  # every bad row's messages, by index


class RequestValidator:
    """Everything needed to validate requests for one version, built once per version (it is the
    ``ModelVersion``'s). Its methods take ``max_depth``, how deep a bad row may nest before it is
    refused as too deep."""

    def __init__(self, spec: VersionSpec) -> None:
        self.spec = spec
        self.schema: Schema = build_feature_schema(spec)
        self.features = spec.feature_names
        self.checks = [ColumnCheck(f) for f in spec.features]
        self.allowed = frozenset(self.features)
        self.required = [f.name for f in spec.features if f.required]
        self.optional = [f.name for f in spec.features if not f.required]
        self._pick = {
            name: itemgetter(name) if name in self.required else methodcaller("get", name)
            for name in self.features
        }

    def validate(self, envelope: Envelope, max_depth: int = MAX_DEPTH) -> Columns:
        """The model's input columns in feature order; raises ``InvalidInputError`` naming the problems."""
        columns, bad, rejected = self._check(envelope)
        if bad is not None:
            raise self.error(envelope, np.flatnonzero(bad).tolist(), max_depth, rejected)
        return columns

    def validate_reference(self, envelope: Envelope, max_depth: int = MAX_DEPTH) -> Columns:
        """The same result as ``validate``, from marshmallow on every row: slow, the definition of valid."""
        loaded, bad = [], []
        for index in range(envelope.n_rows):
            row = envelope.row(index)
            try:
                if not isinstance(row, dict):
                    raise ValidationError(NOT_A_ROW_MESSAGE)
                loaded.append(self.schema.load(row))
            except ValidationError:
                bad.append(index)
        if bad:
            raise self.error(envelope, bad, max_depth)
        return {f.name: feature_array(f, [row[f.name] for row in loaded]) for f in self.spec.features}

    def partition(self, envelope: Envelope, max_depth: int = MAX_DEPTH) -> Partition:
        """The valid rows ready for the model and every bad row's messages: for scoring files."""
        columns, bad = self.check(envelope)
        if bad is None:
            return Partition(columns, np.arange(envelope.n_rows), {})
        good = np.flatnonzero(~bad)
        problems = self.describe(envelope, np.flatnonzero(bad).tolist(), max_depth)
        if not len(good):
            return Partition(None, good, problems)
        kept = [envelope.row(i) for i in good.tolist()]
        good_columns, still_bad = self.check(Envelope(rows=kept, batched=True))
        assert still_bad is None, "rows found valid must stay valid on their own"
        return Partition(good_columns, good, problems)

    def check(self, envelope: Envelope) -> tuple[Columns, np.ndarray | None]:
        """``(columns, None)`` when every row is valid, else ``({}, mask of the bad rows)``."""
        columns, bad, _ = self._check(envelope)
        return columns, bad

    def _check(self, envelope: Envelope) -> tuple[Columns, np.ndarray | None, dict[str, int]]:
        """``check``, and how many values of each feature were refused (missing required ones too)."""
        values, bad = self._feature_values(envelope)
        columns: Columns = {}
        rejected: dict[str, int] = {}
        for check in self.checks:
            array, bad_rows = check.check(values[check.name])
            if bad_rows is None:
                columns[check.name] = array
            else:
                rejected[check.name] = int(bad_rows.sum())
                bad = bad_rows if bad is None else bad | bad_rows
        if bad is not None and bad.any():
            return {}, bad, rejected
        return columns, None, rejected

    def error(
        self,
        envelope: Envelope,
        bad_rows: Sequence[int],
        max_depth: int,
        rejected: dict[str, int] | None = None,
    ) -> InvalidInputError:
        """The bounded 400 for ``bad_rows``: only the first ones are described."""
        problems = self.describe(envelope, bad_rows[:MAX_ROWS_DESCRIBED], max_depth)
        return invalid_input_error(problems, len(bad_rows), envelope.batched, self.features, rejected)

    def describe(self, envelope: Envelope, rows: Sequence[int], max_depth: int) -> dict[int, Messages]:
        """Each row's problems in marshmallow's words, unknown names counted and capped."""
        unknown_columns = [] if envelope.columns is None else self._unknown(envelope.columns)
        problems = {}
        for index in rows:
            messages = self._row_messages(envelope, index, unknown_columns, max_depth)
            if not messages:
                raise AssertionError(f"row {index} was found bad but the schema finds nothing wrong")
            problems[index] = messages
        return problems

    def _row_messages(
        self, envelope: Envelope, index: int, unknown_columns: list[str], max_depth: int
    ) -> Messages:
        if envelope.columns is not None:
            known = {
                name: envelope.columns[name][index] for name in self.features if name in envelope.columns
            }
            unknown = unknown_columns
        else:
            row = envelope.rows[index]
            if not isinstance(row, dict):
                return {"_row": [too_deep(max_depth) if nests_deeper(row, max_depth) else NOT_A_ROW_MESSAGE]}
            known = {name: row[name] for name in self.features if name in row}
            unknown = self._unknown(row)
        if nests_deeper(known, max_depth):  # only values of known features ever reach the schema
            return {"_row": [too_deep(max_depth)]}
        messages = unknown_messages(unknown)
        try:
            self.schema.load(known)
        except ValidationError as exc:
            messages.update(exc.messages_dict)
        return messages

    def _unknown(self, names: dict[str, Any]) -> list[str]:
        return [name for name in names if name not in self.allowed]

    def _feature_values(self, envelope: Envelope) -> tuple[dict[str, list[Any]], np.ndarray | None]:
        """Each feature's values (``None`` where absent), and a mask of rows that are not objects
        or hold unknown names (``None`` when there are none). A missing required feature shows as
        ``None``, which its column check refuses."""
        n_rows = envelope.n_rows
        if envelope.columns is not None:
            columns = envelope.columns
            values = {name: columns[name] if name in columns else [None] * n_rows for name in self.features}
            unknown = not columns.keys() <= self.allowed
            return values, np.ones(n_rows, dtype=bool) if unknown else None
        rows = envelope.rows
        try:  # the common case, in C loops: every row an object with every required feature
            values = {name: list(map(pick, rows)) for name, pick in self._pick.items()}
            present = len(self.required) * n_rows + sum(
                sum(name in row for row in rows) for name in self.optional
            )
            if sum(map(len, rows)) == present:  # equal key counts: nothing unknown is there
                return values, None
        except (KeyError, TypeError, AttributeError, IndexError):
            pass
        objects = [row if type(row) is dict else {} for row in rows]
        bad = np.fromiter(
            (type(row) is not dict or not row.keys() <= self.allowed for row in rows),
            dtype=bool,
            count=n_rows,
        )
        return {name: [row.get(name) for row in objects] for name in self.features}, bad


def too_deep(max_depth: int) -> str:
    """The message for a row nested deeper than ``max_depth``."""
    return f"The row nests deeper than {max_depth} levels."


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep (checked level by level).

    Valid rows hold only scalars, so only rows already found bad are ever measured.
    """
    level, depth = [value], 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            item
            for container in level
            if isinstance(container, list | dict)
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, list | dict)
        ]
    return False
