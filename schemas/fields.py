"""Strict JSON fields for feature values, with messages that show the offending value.

marshmallow's own fields coerce ("3.5" becomes 3.5, "yes" becomes True, 1.5 becomes 1); a prediction
API must not guess, so these accept only the JSON type the feature declares.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

from marshmallow import ValidationError, fields, validate

_SHOWN = reprlib.Repr()  # Python 3.11's Repr takes no arguments
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 2, 4, 4
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 40


def shown(value: Any) -> str:
    """A short repr of a client's value for an error message: long or deep values are cut."""
    return _SHOWN.repr(value)


class FeatureNumber(fields.Float):
    """A JSON number (not a string, not a boolean), finite."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{shown(value)} is not a number.")
        try:
            number = float(value)
        except OverflowError:
            raise ValidationError(f"{shown(value)} is too large.") from None
        if not math.isfinite(number):
            raise ValidationError(f"{shown(value)} is not a finite number.")
        return number


class FeatureInteger(fields.Integer):
    """A JSON integer; a float with no fractional part (3.0) is accepted as that integer."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{shown(value)} is not an integer.")
        return value


class FeatureBoolean(fields.Boolean):
    """JSON true or false, nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError(f"{shown(value)} is not true or false.")


class _CategoryMixin:
    """Exactly one of the declared categories, of the declared JSON type."""

    def __init__(self, categories: tuple[str | int, ...], **kwargs: Any) -> None:
        super().__init__(validate=[Categories(categories)], **kwargs)
        self.categories = frozenset(categories)
        self.category_type = type(categories[0])
        self.listed = ", ".join(str(c) for c in categories)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is self.category_type and value in self.categories:
            return value
        raise ValidationError(f"{shown(value)} is not a valid value; valid: {self.listed}.")


class FeatureCategory(_CategoryMixin, fields.String):
    """A category given as a string."""


class FeatureIntegerCategory(_CategoryMixin, fields.Integer):
    """A category given as an integer code."""


class Bounds(validate.Range):
    """Inclusive bounds whose message says which side was crossed."""

    # Range formats these once with the bound operators, hence the doubled braces.
    message_min = "{{input}} is less than the minimum, {{min}}."
    message_max = "{{input}} is greater than the maximum, {{max}}."
    message_all = "{{input}} is out of range; valid: {{min}} to {{max}}."


class Categories(validate.OneOf):
    """The categories as a validator, so the OpenAPI document lists them as an ``enum``.

    The field has already checked membership, so calling it passes the value through.
    """

    def __call__(self, value: Any) -> Any:
        return value
