"""A model's ``traffic:``, ``shadow:`` and ``shadow_tolerance:`` keys, read from config.yaml.

``traffic`` splits the requests that name no version by integer weights over versions the model
has; ``shadow`` names a version that also runs each such request, its answer compared and
discarded. Every mistake names the model and the key, like the rest of the config.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spec.names import as_name

DEFAULT_SHADOW_TOLERANCE = 1e-6  # relative: a regressor's shadow agrees within it
TRAFFIC_EXAMPLE = '{"1": 90, "2": 10}'
TRAFFIC_KEYS = ("traffic", "shadow", "shadow_tolerance")  # a model's keys read here


@dataclass(frozen=True)
class TrafficSpec:
    """How requests that name no version are split, and the shadow that follows them."""

    weights: Mapping[str, int] = field(default_factory=dict)  # empty: the default version serves
    shadow: str | None = None
    shadow_tolerance: float = DEFAULT_SHADOW_TOLERANCE


def parse_traffic(
    model: str, data: Mapping[str, Any], versions: set[str], problems: list[str]
) -> TrafficSpec:
    """The model's traffic keys (absent ones take their defaults), appending every mistake to
    ``problems``; ``versions`` are the version names the model declares."""
    weights = parse_weights(model, data.get("traffic"), versions, problems)
    shadow = _parse_shadow(model, data.get("shadow"), versions, problems)
    tolerance = data.get("shadow_tolerance", DEFAULT_SHADOW_TOLERANCE)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not math.isfinite(tolerance):
        problems.append(f"{model}: shadow_tolerance: must be a number such as 1e-6 (relative)")
        tolerance = DEFAULT_SHADOW_TOLERANCE
    elif tolerance < 0:
        problems.append(f"{model}: shadow_tolerance: must not be negative")
        tolerance = DEFAULT_SHADOW_TOLERANCE
    return TrafficSpec(weights, shadow, float(tolerance))


def parse_weights(model: str, data: Any, versions: set[str], problems: list[str]) -> dict[str, int]:
    """``traffic:`` as {version: weight}; {} when absent or wrong (the mistakes are in ``problems``)."""
    if data is None:
        return {}
    where = f"{model}: traffic"
    if not isinstance(data, dict) or not data:
        problems.append(f"{where}: must map versions to integer weights, such as {TRAFFIC_EXAMPLE}")
        return {}
    weights: dict[str, int] = {}
    before = len(problems)
    for raw, weight in data.items():
        version = as_name(raw, f"{where}: {raw!r}", problems)
        if version is None:
            continue
        if version in weights:
            problems.append(f"{where}: {version}: given twice")
        elif version not in versions:
            problems.append(f"{where}: {version}: '{version}' is not one of its versions")
        elif isinstance(weight, bool) or not isinstance(weight, int):
            problems.append(f"{where}: {version}: the weight must be a whole number, not {weight!r}")
        elif weight < 0:
            problems.append(f"{where}: {version}: the weight must not be negative ({weight})")
        else:
            weights[version] = weight
    if len(problems) > before:
        return {}
    if not any(weights.values()):
        problems.append(f"{where}: the weights must not all be 0 (give at least one version a share)")
        return {}
    return weights


def _parse_shadow(model: str, data: Any, versions: set[str], problems: list[str]) -> str | None:
    if data is None:
        return None
    version = as_name(data, f"{model}: shadow", problems)
    if version is None:
        return None
    if version not in versions:
        problems.append(f"{model}: shadow: '{version}' is not one of its versions")
        return None
    return version
