"""Feature declarations in config.yaml: their dataclass, and parsing that names every mistake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FEATURE_TYPES = ("number", "integer", "boolean", "category")
RESERVED_FEATURES = ("instances", "inputs", "data")
_FEATURE_KEYS = {"name", "type", "categories", "required", "minimum", "maximum", "description"}


@dataclass(frozen=True)
class FeatureSpec:
    """One input column: its JSON type, whether it may be missing, and what values are valid."""

    name: str
    type: str
    required: bool = True
    categories: tuple[str | int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None

    @property
    def integer_coded(self) -> bool:
        """Whether this is a category whose categories are integer codes (sent as JSON numbers)."""
        return self.type == "category" and isinstance(self.categories[0], int)


def unknown_keys(data: dict, allowed: set[str], where: str, problems: list[str]) -> None:
    """Report each key of ``data`` not in ``allowed``, listing the allowed ones."""
    for key in data:
        if key not in allowed:
            problems.append(f"{where}{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def parse_features(where: str, data: Any, problems: list[str]) -> tuple[FeatureSpec, ...]:
    """The features of one version (``where`` names it), appending every mistake to ``problems``."""
    if not isinstance(data, list) or not data:
        problems.append(f"{where}features: must be a non-empty list")
        return ()
    features: list[FeatureSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        feature = _parse_feature(f"{where}features[{index}]", item, problems)
        if feature is None:
            continue
        if feature.name in seen:
            problems.append(f"{where}features[{index}]: name: '{feature.name}' is declared twice")
        seen.add(feature.name)
        features.append(feature)
    return tuple(features)


def _parse_feature(where: str, data: Any, problems: list[str]) -> FeatureSpec | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping with 'name' and 'type'")
        return None
    name = data.get("name")
    if isinstance(name, str) and name:
        where = f"{where} ({name})"
    before = len(problems)
    unknown_keys(data, _FEATURE_KEYS, f"{where}: ", problems)
    if not isinstance(name, str) or not name:
        problems.append(f"{where}: name: must be a non-empty string")
    elif name in RESERVED_FEATURES:
        problems.append(f"{where}: name: '{name}' is reserved (it names a request envelope)")
    ftype = data.get("type")
    if ftype not in FEATURE_TYPES:
        problems.append(f"{where}: type: must be one of {', '.join(FEATURE_TYPES)}")
    required = data.get("required", True)
    if not isinstance(required, bool):
        problems.append(f"{where}: required: must be true or false")
    categories = _parse_categories(where, ftype, data.get("categories"), problems)
    bounds = _parse_bounds(where, ftype, data, problems)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"{where}: description: must be text")
    if len(problems) > before:
        return None
    return FeatureSpec(name, ftype, required, categories, *bounds, description)


def _parse_categories(where: str, ftype: Any, data: Any, problems: list[str]) -> tuple[str | int, ...] | None:
    if ftype not in FEATURE_TYPES:
        return None  # the type is already reported; what categories it may have is unknown
    if ftype != "category":
        if data is not None:
            problems.append(f"{where}: categories: only a feature of type category has categories")
        return None
    valid = (
        isinstance(data, list)
        and data
        and all(isinstance(c, str | int) and not isinstance(c, bool) for c in data)
    )
    if not valid or len({type(c) for c in data}) > 1:
        problems.append(f"{where}: categories: must be a non-empty list of strings (or of integers)")
        return None
    if len(set(data)) != len(data):
        problems.append(f"{where}: categories: lists a value twice")
        return None
    return tuple(data)


def _parse_bounds(
    where: str, ftype: Any, data: dict, problems: list[str]
) -> tuple[float | None, float | None]:
    bounds: list[float | None] = []
    for key in ("minimum", "maximum"):
        value = data.get(key)
        if value is not None and ftype not in ("number", "integer"):
            problems.append(f"{where}: {key}: only number and integer features have bounds")
            value = None
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{where}: {key}: must be a number")
            value = None
        bounds.append(value)
    low, high = bounds
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: minimum: {low} is greater than maximum {high}")
    return low, high
