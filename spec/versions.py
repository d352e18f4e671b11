"""The one natural ordering of version names: "2" < "10", "1.2.0" < "1.10.0"."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PARTS = re.compile(r"(\d+)")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value and the rest as text."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _PARTS.split(version) if part)


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Version names from lowest to highest, by ``version_key``."""
    return sorted(versions, key=version_key)
