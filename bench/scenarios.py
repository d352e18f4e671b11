"""The scenarios: real iris and penguins rows, in the three request shapes of /models and as V2 infer."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
PENGUIN_FEATURES = ("island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex")

Row = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One request, sent again and again: model, version, its rows and the shape they are sent in.

    ``shape`` is ``row`` (a flat object), ``instances`` (a list of rows), ``inputs`` (columns) or
    ``v2`` (an Open Inference Protocol infer request, one tensor per feature).
    ``latency_probe`` marks a scenario whose single-connection latency is set against the floor.
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
        if self.shape == "v2":
            return f"/v2/models/{self.model}/versions/{self.version}/infer"
        return f"/models/{self.model}/{self.version}/predict"

    def for_baseline(self) -> Scenario:
        """What the naive baseline is sent for this scenario: V2 rows as its own columns (``inputs``)."""
        return replace(self, name=f"{self.name}-as-inputs", shape="inputs") if self.shape == "v2" else self

    @staticmethod
    def labels(answer: dict[str, Any]) -> list[Any]:
        """The labels in a parsed answer, ours (/models or V2) or the baseline's."""
        if "outputs" in answer:
            return next(o["data"] for o in answer["outputs"] if o["name"] == "label")
        return [p["label"] if isinstance(p, dict) else p for p in answer["predictions"]]

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
        elif self.shape == "v2":
            payload = {"inputs": [v2_tensor(name, [row[name] for row in rows]) for name in self.features]}
        else:
            payload = {"inputs": {name: [row[name] for row in rows] for name in self.features}}
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def v2_tensor(name: str, values: list[Any]) -> dict[str, Any]:
    """One V2 input tensor of shape [n]: BYTES for strings, FP64 for numbers."""
    datatype = "BYTES" if isinstance(values[0], str) else "FP64"
    return {"name": name, "shape": [len(values)], "datatype": datatype, "data": values}


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
    "iris-1-v2": ("iris, 1 row (V2 infer)", iris_rows, "iris", "1", 1, "v2", False),
    "iris-1000-v2": ("iris, 1,000 rows (V2 infer)", iris_rows, "iris", "1", 1000, "v2", False),
    "iris-10000-v2": ("iris, 10,000 rows (V2 infer)", iris_rows, "iris", "1", 10000, "v2", True),
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
