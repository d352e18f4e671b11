"""The scenarios: real iris and penguins rows, in the three request shapes the server accepts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
PENGUIN_FEATURES = ("island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex")

Row = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One request, sent again and again: model, version, its rows and the shape they are sent in.

    ``shape`` is ``row`` (a flat object), ``instances`` (a list of rows) or ``inputs`` (columns).
    ``latency_probe`` marks the scenario whose single-connection latency is set against the floor.
    """

    name: str
    title: str
    model: str
    version: str
    shape: str
    rows: tuple[Row, ...]
    latency_probe: bool = False

    @property
    def path(self) -> str:
        return f"/models/{self.model}/{self.version}/predict"

    @property
    def features(self) -> list[str]:
        return list(self.rows[0])

    def body(self) -> bytes:
        """The JSON request body."""
        rows = list(self.rows)
        if self.shape == "row":
            payload: Any = rows[0]
        elif self.shape == "instances":
            payload = {"instances": rows}
        else:
            payload = {"inputs": {name: [row[name] for row in rows] for name in self.features}}
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


@cache
def iris_rows() -> tuple[Row, ...]:
    """The 150 iris rows from scikit-learn, named as the iris model's features."""
    from sklearn.datasets import load_iris

    data = load_iris().data.tolist()
    return tuple(dict(zip(IRIS_FEATURES, values, strict=True)) for values in data)


@cache
def penguin_rows() -> tuple[Row, ...]:
    """The palmerpenguins rows without missing values (333), features in the model's order."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna()[list(PENGUIN_FEATURES)]
    return tuple(frame.to_dict("records"))


def repeat_rows(rows: Sequence[Row], count: int) -> tuple[Row, ...]:
    """``count`` rows, cycling through ``rows`` in order."""
    return tuple(rows[i % len(rows)] for i in range(count))


# name -> (title, rows source, model, version, rows per request, shape, latency probe)
SPECS: dict[str, tuple[str, Callable[[], tuple[Row, ...]], str, str, int, str, bool]] = {
    "iris-1": ("iris, 1 row", iris_rows, "iris", "1", 1, "row", False),
    "iris-1000-instances": ("iris, 1,000 rows (instances)", iris_rows, "iris", "1", 1000, "instances", False),
    "iris-1000-inputs": ("iris, 1,000 rows (inputs columns)", iris_rows, "iris", "1", 1000, "inputs", False),
    "penguins-1": ("penguins, 1 row", penguin_rows, "penguins", "2", 1, "row", False),
    "penguins-1000-instances": (
        "penguins, 1,000 rows (instances)",
        penguin_rows,
        "penguins",
        "2",
        1000,
        "instances",
        False,
    ),
    "penguins-10000-inputs": (
        "penguins, 10,000 rows (inputs columns)",
        penguin_rows,
        "penguins",
        "2",
        10000,
        "inputs",
        True,
    ),
}
SCALING_SCENARIO = "iris-1"


def build_scenarios(names: Sequence[str]) -> list[Scenario]:
    """The named scenarios, in the order given; raises ``ValueError`` for an unknown name."""
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        raise ValueError(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(SPECS)})")
    scenarios = []
    for name in names:
        title, source, model, version, count, shape, probe = SPECS[name]
        scenarios.append(Scenario(name, title, model, version, shape, repeat_rows(source(), count), probe))
    return scenarios
