"""Which version serves a request that names none: the model's ``traffic:`` weights, by a draw per
request or, given a routing key, by a stable hash of (model, key).

A keyed request uses weighted rendezvous hashing: each version scores the key with its own hash,
``-ln(u) / weight`` for ``u`` the hash of (model, version, key) as a point in (0, 1), and the
lowest score serves. A version wins with probability ``weight / total``, the answer depends on
nothing but the names and weights (the same on every replica and after every restart: blake2b,
never Python's per-process ``hash``), and raising one version's weight only moves keys onto it:
its scores fall and every other score stays, so a key in its first 10 % is still in its 20 %.

Versions that failed to load, and those of weight 0, get no share; the others keep theirs.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from collections.abc import Mapping
from typing import Any

_SPAN = float(1 << 64)


def _hasher(model: str, version: str) -> Any:
    """blake2b fed with (model, version): a copy of it takes the key."""
    return hashlib.blake2b(f"{model}\x00{version}\x00".encode("utf-8", "surrogatepass"), digest_size=8)


class Split:
    """One model's effective split: the versions that take a share, with their integer weights."""

    def __init__(self, model: str, weights: Mapping[str, int]) -> None:
        self.model = model
        self.weights = {version: weight for version, weight in weights.items() if weight > 0}
        if not self.weights:
            raise ValueError(f"{model}: a split needs at least one version with a positive weight")
        self.versions = tuple(self.weights)
        self.total = sum(self.weights.values())
        self._bounds = list(itertools.accumulate(self.weights.values()))
        self._hashers = [(v, _hasher(model, v), weight) for v, weight in self.weights.items()]

    def pick(self, key: str | None = None) -> str:
        """The version for one request: by ``key`` when given, else drawn by weight."""
        if len(self.versions) == 1:
            return self.versions[0]
        if key is None:
            return self.versions[bisect.bisect_right(self._bounds, random.random() * self.total)]
        data = key.encode("utf-8", "surrogatepass")
        best, best_score = self.versions[0], math.inf
        for version, prefix, weight in self._hashers:
            hasher = prefix.copy()
            hasher.update(data)  # the hash of (model, version, key) as a point u in (0, 1)
            score = -math.log((int.from_bytes(hasher.digest(), "big") + 0.5) / _SPAN) / weight
            if score < best_score:
                best, best_score = version, score
        return best

    def shares(self) -> dict[str, float]:
        """Each version's share of the requests, in percent."""
        return {version: 100.0 * weight / self.total for version, weight in self.weights.items()}


def effective_split(model: str, weights: Mapping[str, int], available: set[str]) -> Split | None:
    """The split over the ``available`` versions of ``weights``; None when none of them has a share."""
    kept = {version: weight for version, weight in weights.items() if version in available and weight > 0}
    return Split(model, kept) if kept else None
