"""One marshmallow schema per model version, built from the version's declared features."""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, fields

from schemas.fields import (
    Bounds,
    FeatureBoolean,
    FeatureCategory,
    FeatureInteger,
    FeatureIntegerCategory,
    FeatureNumber,
)
from spec.config import VersionSpec
from spec.features import FeatureSpec

REQUIRED_MESSAGE = "Missing data for required field."
NULL_MESSAGE = "null is not allowed; this feature is required."
UNKNOWN_MESSAGE = "Unknown field."
_FIELDS = {"number": FeatureNumber, "integer": FeatureInteger, "boolean": FeatureBoolean}


def build_feature_field(feature: FeatureSpec) -> fields.Field:
    """The field for one feature: its JSON type, bounds, categories, and whether it may be missing."""
    common = {
        "required": feature.required,
        "metadata": {"description": feature.description} if feature.description else {},
        "error_messages": {"required": REQUIRED_MESSAGE, "null": NULL_MESSAGE},
    }
    if not feature.required:
        common.update(allow_none=True, load_default=None)
    if feature.type == "category":
        field_class = FeatureIntegerCategory if feature.integer_coded else FeatureCategory
        return field_class(feature.categories, **common)
    validators = []
    if feature.minimum is not None or feature.maximum is not None:
        validators.append(Bounds(min=feature.minimum, max=feature.maximum))
    field_class = _FIELDS[feature.type]
    return field_class(validate=validators, **common)


def schema_name(model: str, version: str, suffix: str = "Features") -> str:
    """A component name unique to the version, usable as an OpenAPI schema name."""
    words = re.split(r"[^A-Za-z0-9]+", f"{model} v{version}")
    return "".join(w[:1].upper() + w[1:] for w in words if w) + suffix


def build_feature_schema(spec: VersionSpec) -> Schema:
    """A schema that loads one row of this version's features, refusing unknown ones."""
    schema_class = Schema.from_dict(
        {f.name: build_feature_field(f) for f in spec.features},
        name=schema_name(spec.model, spec.version),
    )
    schema_class.error_messages = {**Schema.error_messages, "unknown": UNKNOWN_MESSAGE}
    return schema_class(unknown=RAISE)
