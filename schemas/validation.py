"""Validate a request against a version's features and describe every problem at once.

``RequestValidator.validate`` checks column-wise (fast, any batch size); the version's marshmallow
schema is the reference that words every message, run only on the rows found bad, so both paths
give the same 400 by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError

from spec.config import ServerSettings, VersionSpec
from spec.errors import InvalidInputError
from schemas.columnar import ColumnCheck, feature_array
from schemas.envelope import Envelope
from schemas.features import REQUIRED_MESSAGE, UNKNOWN_MESSAGE, build_feature_schema

NOT_A_ROW_MESSAGE = "A row must be a JSON object of features."
ROWS_IN_MESSAGE = 10

Columns = dict[str, np.ndarray]


class RequestValidator:
    """Everything needed to validate requests for one version, built once at load time."""

    def __init__(self, spec: VersionSpec, max_depth: int = ServerSettings.max_json_depth) -> None:
        self.spec = spec
        self.max_depth = max_depth
        self.schema: Schema = build_feature_schema(spec)
        self.features = spec.feature_names
        self.checks = [ColumnCheck(f) for f in spec.features]
        self.allowed = frozenset(self.features)
        self.required = frozenset(f.name for f in spec.features if f.required)
        self.optional = [f.name for f in spec.features if not f.required]

    def validate(self, envelope: Envelope) -> Columns:
        """The model's input columns, in feature order; raises ``InvalidInputError`` naming every problem."""
        values = self._feature_values(envelope)
        if values is None:
            return self.validate_reference(envelope)
        columns: Columns = {}
        bad = np.zeros(envelope.n_rows, dtype=bool)
        for check in self.checks:
            array, bad_rows = check.check(values[check.name])
            if bad_rows is None:
                columns[check.name] = array
            else:
                bad |= bad_rows
        if not bad.any():
            return columns
        _, problems = self._load_rows(envelope, np.flatnonzero(bad).tolist())
        if not problems:  # the fast checks were stricter than the schema: let the schema decide
            return self.validate_reference(envelope)
        raise self._error(problems, envelope.batched)

    def validate_reference(self, envelope: Envelope) -> Columns:
        """The same result with marshmallow on every row: slow, and the definition of valid."""
        loaded, problems = self._load_rows(envelope, range(envelope.n_rows))
        if problems:
            raise self._error(problems, envelope.batched)
        return {f.name: feature_array(f, [row[f.name] for row in loaded]) for f in self.spec.features}

    def _feature_values(self, envelope: Envelope) -> dict[str, list[Any]] | None:
        """Each feature's values (``None`` where an optional one is absent), or ``None`` unless every
        row is an object with every required feature and no unknown one."""
        if envelope.columns is not None:
            columns = envelope.columns
            if not self.required <= columns.keys() <= self.allowed:
                return None
            return {name: columns.get(name) or [None] * envelope.n_rows for name in self.features}
        rows = envelope.rows
        values: dict[str, list[Any]] = {}
        try:  # a row that is not an object, or lacks a required feature, raises here
            for name in self.features:
                pick = itemgetter(name) if name in self.required else methodcaller("get", name)
                values[name] = list(map(pick, rows))
        except (KeyError, TypeError, AttributeError):
            return None
        # Every row holds the required features; equal key counts mean nothing unknown is there.
        present = len(self.required) * len(rows) + sum(
            sum(name in row for row in rows) for name in self.optional
        )
        return values if sum(map(len, rows)) == present else None

    def _load_rows(
        self, envelope: Envelope, indices: Sequence[int]
    ) -> tuple[list[dict[str, Any]], dict[int, dict[str, list[str]]]]:
        """The rows at ``indices`` loaded by the schema, and the problems of those that fail."""
        loaded: list[dict[str, Any]] = []
        problems: dict[int, dict[str, list[str]]] = {}
        for index in indices:
            row = envelope.row(index)
            if nests_deeper(row, self.max_depth):
                problems[index] = {"_row": [f"The row nests deeper than {self.max_depth} levels."]}
                continue
            if not isinstance(row, dict):
                problems[index] = {"_row": [NOT_A_ROW_MESSAGE]}
                continue
            try:
                loaded.append(self.schema.load(row))
            except ValidationError as exc:
                problems[index] = exc.messages_dict
        return loaded, problems

    def _error(self, problems: Mapping[int, Mapping[str, list[str]]], batched: bool) -> InvalidInputError:
        return invalid_input_error(problems, batched, self.features)


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


def invalid_input_error(
    problems: Mapping[int, Mapping[str, list[str]]], batched: bool, features: Sequence[str]
) -> InvalidInputError:
    """The 400 error for per-row problems: ``errors`` keyed by feature, or by row then feature."""
    if not batched:
        (messages,) = problems.values()
        return InvalidInputError(describe_row(messages, features), _ordered(messages, features))
    rows = sorted(problems)
    lines = [f"Row {i}: {describe_row(problems[i], features)}" for i in rows[:ROWS_IN_MESSAGE]]
    if len(rows) > ROWS_IN_MESSAGE:
        lines.append(f"And {len(rows) - ROWS_IN_MESSAGE} more rows with problems (see errors).")
    errors = {str(i): _ordered(problems[i], features) for i in rows}
    return InvalidInputError(" ".join(lines), errors)


def describe_row(messages: Mapping[str, list[str]], features: Sequence[str]) -> str:
    """One sentence per kind of problem: missing features, unknown ones, invalid values."""
    ordered = _ordered(messages, features)
    missing = [name for name, msgs in ordered.items() if REQUIRED_MESSAGE in msgs]
    unknown = [name for name, msgs in ordered.items() if UNKNOWN_MESSAGE in msgs]
    invalid = {
        name: " ".join(msgs) for name, msgs in ordered.items() if name not in missing and name not in unknown
    }
    parts = []
    if "_row" in invalid:
        parts.append(invalid.pop("_row"))
    if missing:
        parts.append(f"Missing features: {', '.join(missing)}.")
    if unknown:
        parts.append(f"Unknown features: {', '.join(unknown)} (expected: {', '.join(features)}).")
    if invalid:
        parts.append("Invalid values: " + " ".join(f"{k}: {v}" for k, v in invalid.items()))
    return " ".join(parts)


def _ordered(messages: Mapping[str, list[str]], features: Sequence[str]) -> dict[str, list[str]]:
    """Messages in the version's feature order, then anything else (unknown features) as sent."""
    rank = {name: i for i, name in enumerate(features)}
    return dict(sorted(messages.items(), key=lambda item: rank.get(item[0], len(rank))))
