"""Validate a request's rows against a version's schema and describe every problem at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, ValidationError

from registry.errors import InvalidInputError
from schemas.envelope import Envelope
from schemas.features import REQUIRED_MESSAGE, UNKNOWN_MESSAGE

NOT_A_ROW_MESSAGE = "A row must be a JSON object of features."
ROWS_IN_MESSAGE = 10


def validate_rows(schema: Schema, envelope: Envelope) -> list[dict[str, Any]]:
    """The loaded rows in request order; raises ``InvalidInputError`` naming every problem.

    Optional features that are absent come back as ``None``.
    """
    loaded: list[dict[str, Any]] = []
    problems: dict[int, dict[str, list[str]]] = {}
    for index, row in enumerate(envelope.rows):
        if not isinstance(row, dict):
            problems[index] = {"_row": [NOT_A_ROW_MESSAGE]}
            continue
        try:
            loaded.append(schema.load(row))
        except ValidationError as exc:
            problems[index] = exc.messages_dict
    if problems:
        raise invalid_input_error(problems, envelope.batched, list(schema.fields))
    return loaded


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
