"""The minimum and maximum ``add --sample`` declares for a numeric column (``--bounds``).

* ``sample``: the sample's own extremes.
* ``margin`` (the default): the extremes widened on each side by 10 % of the sample's range (10 % of
  the value, at least 0.1, when every value is the same), rounded outward: integers to whole
  numbers, other numbers to the widening's leading digit. A bound never crosses zero when the whole
  sample is on one side of it (non-negative, or negative up to zero): ages 18 to 74 give 12 to 80,
  incomes 0 to 5000 give 0 to 5500, rates 0.25 to 0.75 give 0.2 to 0.8.
* ``none``: no bounds.
"""

from __future__ import annotations

import math

BOUNDS_CHOICES = ("margin", "sample", "none")
DEFAULT_BOUNDS = "margin"
MARGIN = 0.1
BOUNDS_HELP = {
    "margin": "the sample's range widened by 10 % on each side",
    "sample": "the sample's own minimum and maximum",
    "none": "no minimum or maximum",
}


def declared_bounds(low: float, high: float, integer: bool, rule: str) -> tuple[float | None, float | None]:
    """The bounds ``rule`` declares for a column whose sample runs from ``low`` to ``high``."""
    if rule == "none":
        return None, None
    if rule == "sample":
        return low, high
    pad = MARGIN * (high - low) or MARGIN * max(abs(low), 1.0)
    step = 1.0 if integer else 10.0 ** math.floor(math.log10(pad))
    digits = max(0, -math.floor(math.log10(step)))
    # Rounded to 9 places before floor and ceil: (1.0 - 0.1 * 3.0) / 0.1 is 6.999..., which floors to 7.
    wide_low = round(math.floor(round((low - pad) / step, 9)) * step, digits)
    wide_high = round(math.ceil(round((high + pad) / step, 9)) * step, digits)
    if low >= 0:
        wide_low = max(wide_low, 0.0)
    if high <= 0 and low < 0:
        wide_high = min(wide_high, 0.0)
    if integer:
        return int(wide_low), int(wide_high)
    return wide_low, wide_high
