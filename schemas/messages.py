"""The words of a 400: one sentence per kind of problem, and an error answer of bounded size.

However bad a request, its error names the problems of at most ``MAX_ROWS_DESCRIBED`` rows (the
first ten of them in the message), at most ``MAX_UNKNOWN_NAMED`` unknown feature names per row with
their count, and names and values cut to ``MAX_SHOWN`` characters, and it says how much it left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas.features import REQUIRED_MESSAGE, UNKNOWN_MESSAGE
from spec.errors import InvalidInputError

MAX_ROWS_DESCRIBED = 100
ROWS_IN_MESSAGE = 10
MAX_UNKNOWN_NAMED = 20
MAX_SHOWN = 40
MORE_UNKNOWN_KEY = "_more_unknown"

Messages = dict[str, list[str]]


def shown_name(name: str) -> str:
    """A client's feature name as an error shows it: cut to ``MAX_SHOWN`` characters."""
    return name if len(name) <= MAX_SHOWN else name[: MAX_SHOWN - 3] + "..."


def tensor_named(name: str) -> str:
    """How a message names a V2 tensor: ``The tensor 'x'`` (built only for a message)."""
    return f"The tensor {shown_name(name)}"


def listed_names(names: Sequence[str]) -> str:
    """``a, b, c`` for at most ``MAX_UNKNOWN_NAMED`` names, each cut, then ``and N more``."""
    listed = ", ".join(shown_name(name) for name in names[:MAX_UNKNOWN_NAMED])
    left = len(names) - MAX_UNKNOWN_NAMED
    return listed + (f" and {left} more" if left > 0 else "")


def unknown_messages(unknown: Sequence[str]) -> Messages:
    """``{name: ["Unknown field."]}`` for the first ``MAX_UNKNOWN_NAMED`` names, and how many more."""
    messages: Messages = {shown_name(name): [UNKNOWN_MESSAGE] for name in unknown[:MAX_UNKNOWN_NAMED]}
    if len(unknown) > MAX_UNKNOWN_NAMED:
        messages[MORE_UNKNOWN_KEY] = [f"{len(unknown) - MAX_UNKNOWN_NAMED} more unknown features."]
    return messages


def invalid_input_error(
    problems: Mapping[int, Messages],
    bad_rows: int,
    batched: bool,
    features: Sequence[str],
    rejected: Mapping[str, int] | None = None,
) -> InvalidInputError:
    """The 400 for per-row problems: ``errors`` keyed by feature, or (a batch) by row, then feature.

    ``problems`` holds the described rows (the first ones with problems); ``bad_rows`` counts them all;
    ``rejected`` counts, for each feature, the values it refused in the whole request.
    """
    if not batched:
        (messages,) = problems.values()
        return InvalidInputError(describe_row(messages, features), ordered(messages, features), rejected)
    rows = sorted(problems)
    lines = [f"Row {i}: {describe_row(problems[i], features)}" for i in rows[:ROWS_IN_MESSAGE]]
    if bad_rows > ROWS_IN_MESSAGE:
        left = bad_rows - len(rows)
        cut = f"; errors describes the first {len(rows)} and leaves out {left}" if left else ""
        lines.append(f"And {bad_rows - ROWS_IN_MESSAGE} more rows with problems (see errors){cut}.")
    errors = {str(i): ordered(problems[i], features) for i in rows}
    return InvalidInputError(" ".join(lines), errors, rejected)


def describe_row(messages: Mapping[str, list[str]], features: Sequence[str]) -> str:
    """One sentence per kind of problem: missing features, unknown ones, invalid values."""
    rows = ordered(messages, features)
    missing = {name for name, msgs in rows.items() if REQUIRED_MESSAGE in msgs}
    unknown = {name for name, msgs in rows.items() if UNKNOWN_MESSAGE in msgs}
    more_unknown = rows.pop(MORE_UNKNOWN_KEY, None)
    invalid = {name: " ".join(msgs) for name, msgs in rows.items() if name not in missing | unknown}
    parts = []
    if "_row" in invalid:
        parts.append(invalid.pop("_row"))
    if missing:
        parts.append(f"Missing features: {', '.join(n for n in rows if n in missing)}.")
    if unknown:
        more = f" and {more_unknown[0].split()[0]} more" if more_unknown else ""
        listed = ", ".join(n for n in rows if n in unknown)
        parts.append(f"Unknown features: {listed}{more} (expected: {', '.join(features)}).")
    if invalid:
        parts.append("Invalid values: " + " ".join(f"{k}: {v}" for k, v in invalid.items()))
    return " ".join(parts)


def ordered(messages: Mapping[str, list[str]], features: Sequence[str]) -> Messages:
    """Messages in the version's feature order, then anything else (unknown features) as sent."""
    rank = {name: i for i, name in enumerate(features)}
    return dict(sorted(messages.items(), key=lambda item: rank.get(item[0], len(rank))))
