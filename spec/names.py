"""Names of models, versions and aliases: what config.yaml and the command line accept."""

from __future__ import annotations

import re
from typing import Any

# Matched with fullmatch: '$' would also accept a name ending in a newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def as_name(value: Any, what: str, problems: list[str]) -> str | None:
    """``value`` as a name, else None with the problem in ``problems``. Version keys and alias
    targets may be written unquoted as integers; floats are ambiguous."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.append(f'{what}: must be a string such as "1" (quote version names)')
        return None
    text = str(value)
    problem = name_problem(text, what)
    if problem:
        problems.append(problem)
        return None
    return text


def name_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot name a model, version or alias (``what`` says which), or None."""
    if not _NAME.fullmatch(text):
        return f"{what}: {text!r} may hold only letters, digits, '_', '.' and '-'"
    return None
