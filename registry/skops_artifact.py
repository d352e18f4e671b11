"""Read ``.skops`` artifacts: skops rebuilds the object without running code from the file, and
refuses every type that is neither one of its safe defaults nor trusted by name.

skops is imported on first use: importing it is slow (it pulls in scipy.stats and pytest through
sklearn's testing helpers), a large part of start-up for a store that holds no .skops file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class UntrustedTypesError(Exception):
    """The file needs types nobody trusted; ``types`` lists them, sorted."""

    def __init__(self, types: Iterable[str]) -> None:
        self.types = sorted(types)
        super().__init__(
            f"untrusted types in the skops file: {', '.join(self.types)} "
            "(list them under trusted_types to load it)"
        )


def untrusted_types(data: bytes) -> list[str]:
    """Every type in the file that skops does not trust by default, sorted."""
    import skops.io

    return sorted(skops.io.get_untrusted_types(data=data))


def load_skops(data: bytes, trusted: Iterable[str]) -> Any:
    """The object in ``data``; raises ``UntrustedTypesError`` before loading if a type is not trusted."""
    trusted = list(trusted)
    missing = set(untrusted_types(data)) - set(trusted)
    if missing:
        raise UntrustedTypesError(missing)
    import skops.io

    return skops.io.loads(data, trusted=trusted)
