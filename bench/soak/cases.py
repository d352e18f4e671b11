"""The soak's requests: every case with the answer it must get, and the mix the clients take turns through."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from bench.scenarios import Row, Scenario, iris_rows, penguin_rows, repeat_rows

OVERSIZE_BYTES = 9_000_000
SHUFFLE_SEED = 5
RELOADED_MODEL, SOURCE_VERSION, NEW_VERSION = "penguins", "2", "3"
JSON_TYPE = "application/json"
# phases a case is sent in: all the run, only before the reload is confirmed, only after
BOTH, BEFORE, AFTER = "both", "before", "after"


@dataclass(frozen=True)
class Case:
    """One kind of request: what is sent, the status it must get, and its share of the mix.

    A good case expects 200 and, for a prediction, ``rows`` predictions served by one of
    ``versions``; a bad case expects ``status`` (a 4xx) with a JSON error whose ``code`` is that
    status. ``weight`` is how many times the case stands in the mix's deck (0: sent on a timer only).
    """

    name: str
    status: int
    path: str
    body: bytes | None = None
    content_type: str | None = JSON_TYPE
    method: str = "POST"
    weight: int = 1
    phase: str = BOTH
    rows: int | None = None
    versions: frozenset[str] = frozenset()

    @property
    def good(self) -> bool:
        return self.status == 200

    @property
    def kind(self) -> str:
        return "good" if self.good else "bad"


@cache
def diabetes_rows() -> tuple[Row, ...]:
    """The 442 diabetes rows from scikit-learn, unscaled, age and sex as integers (as the model was fit)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).data.astype({"age": "int64", "sex": "int64"})
    return tuple(frame.to_dict("records"))


def to_json(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def predict(
    model: str, version: str, shape: str, rows: Sequence[Row], versions: set[str], weight: int, **extra: Any
) -> Case:
    """A good prediction request of ``rows`` in ``shape`` (``row``, ``instances`` or ``inputs``)."""
    scenario = Scenario("", "", model, version, shape, tuple(rows))
    count = 1 if shape == "row" else len(rows)
    name = f"{model}/{version}, {count:,} {'row' if shape == 'row' else shape}"
    if extra.get("phase", BOTH) != BOTH:
        name += f" ({extra['phase']} the reload)"
    fields = {"path": scenario.path, "body": scenario.body(), "rows": count, **extra}
    return Case(name, 200, weight=weight, versions=frozenset(versions), **fields)


def good_cases() -> list[Case]:
    """Valid predictions on every example model, by version, alias and default, in all three shapes,
    and metadata reads; penguins version 3 and ``latest`` pinned to 3 only after the reload."""
    iris, penguins, diabetes = iris_rows(), penguin_rows(), diabetes_rows()
    default = {"path": "/models/penguins/predict"}
    return [
        predict("iris", "1", "row", iris[7:8], {"1"}, 4),
        predict("iris", "1", "instances", repeat_rows(iris, 100), {"1"}, 2),
        predict("iris", "1", "inputs", repeat_rows(iris, 1000), {"1"}, 1),
        predict("penguins", "1", "row", penguins[20:21], {"1"}, 2),
        predict("penguins", "stable", "row", penguins[200:201], {"1"}, 2),
        predict("penguins", "2", "row", penguins[100:101], {"2"}, 3),
        predict("penguins", "latest", "row", penguins[300:301], {"2", NEW_VERSION}, 2, phase=BEFORE),
        predict("penguins", "latest", "row", penguins[300:301], {NEW_VERSION}, 2, phase=AFTER),
        predict("penguins", "default", "row", penguins[50:51], {"2"}, 1, **default),
        predict("penguins", "2", "instances", repeat_rows(penguins, 100), {"2"}, 1),
        predict("penguins", "1", "inputs", repeat_rows(penguins, 200), {"1"}, 1),
        predict("penguins", NEW_VERSION, "row", penguins[150:151], {NEW_VERSION}, 2, phase=AFTER),
        predict(
            "penguins", NEW_VERSION, "instances", repeat_rows(penguins, 100), {NEW_VERSION}, 1, phase=AFTER
        ),
        predict("diabetes", "1", "row", diabetes[0:1], {"1"}, 2),
        predict("diabetes", "1", "inputs", repeat_rows(diabetes, 100), {"1"}, 1),
        Case("GET /models", 200, "/models", method="GET", content_type=None),
        Case("GET /models/penguins/2", 200, "/models/penguins/2", method="GET", content_type=None),
    ]


def bad(name: str, path: str, payload: Any, status: int = 400, **extra: Any) -> Case:
    """A bad request: ``payload`` as JSON (or as is, when it is bytes), expected to get ``status``."""
    body = payload if isinstance(payload, bytes) else to_json(payload)
    return Case(name, status, path, body, **extra)


def bad_cases() -> list[Case]:
    """One request for each kind of mistake a client makes, each with the 4xx it must get."""
    iris_path, penguin_path = "/models/iris/1/predict", "/models/penguins/2/predict"
    iris, penguin, diabetes = iris_rows()[0], penguin_rows()[0], diabetes_rows()[0]
    missing = {name: value for name, value in iris.items() if name != "petal_width_cm"}
    one_bad_row = [*repeat_rows(iris_rows(), 9), {**iris, "petal_length_cm": -1}]
    no_type = {"content_type": None}
    get = {"method": "GET", "content_type": None}
    return [
        bad("invalid category", penguin_path, {**penguin, "island": "Atlantis"}),
        bad("invalid category code", "/models/diabetes/1/predict", {**diabetes, "sex": 3}),
        bad("missing feature", iris_path, missing),
        bad("string for a number", iris_path, {**iris, "sepal_length_cm": "5.1"}),
        bad("boolean for a number", iris_path, {**iris, "petal_width_cm": True}),
        bad("out of range", penguin_path, {**penguin, "flipper_length_mm": 999}),
        bad("unknown field", iris_path, {**iris, "colour": "blue"}),
        bad("one bad row of 10 instances", iris_path, {"instances": one_bad_row}),
        bad("empty instances", iris_path, {"instances": []}),
        bad("invalid JSON (truncated)", iris_path, b'{"instances": ['),
        bad("invalid JSON (NaN)", iris_path, to_json(iris).replace(b"5.1", b"NaN", 1)),
        bad("wrong Content-Type (text/plain)", iris_path, iris, 415, content_type="text/plain"),
        bad("no Content-Type", iris_path, iris, 415, **no_type),
        bad("unknown model", "/models/unicorn/1/predict", iris, 404),
        bad("unknown version", "/models/iris/9/predict", iris, 404),
        bad("unknown alias", "/models/penguins/beta/predict", penguin, 404),
        Case("GET unknown path", 404, "/nothing/here", **get),
        Case("GET on a predict path", 405, iris_path, **get),
    ]


def oversize_case() -> Case:
    """A valid-looking iris batch of over ``OVERSIZE_BYTES`` (the limit is 8 MiB), sent on a timer."""
    row = to_json(iris_rows()[0])
    count = OVERSIZE_BYTES // (len(row) + 1) + 1
    body = b'{"instances":[' + b",".join([row] * count) + b"]}"
    return Case(f"{len(body) / 1e6:.1f} MB body (limit 8 MiB)", 413, "/models/iris/1/predict", body, weight=0)


def build_cases(oversize: bool) -> list[Case]:
    """Every case of the mix, good ones first; the oversize one last when it is sent at all."""
    return [*good_cases(), *bad_cases(), *([oversize_case()] if oversize else [])]


def deck(cases: Sequence[Case], phase: str) -> list[int]:
    """Indices of the cases sent in ``phase``, each ``weight`` times, in a fixed shuffled order."""
    indices = [i for i, case in enumerate(cases) if case.phase in (BOTH, phase) for _ in range(case.weight)]
    random.Random(SHUFFLE_SEED).shuffle(indices)
    return indices


class Mix:
    """Which case each request sends: the deck of the current phase in turn, shared by all clients,
    and the timed case (the oversize body) instead whenever it is due."""

    def __init__(self, cases: Sequence[Case], timed: int | None, every_s: float, first_at: float) -> None:
        self.cases = list(cases)
        self._decks = {phase: deck(cases, phase) for phase in (BEFORE, AFTER)}
        self._deck = self._decks[BEFORE]
        self._turn = itertools.count()
        self._timed, self._every_s, self._due = timed, every_s, first_at
        self._lock = threading.Lock()

    def next(self) -> int:
        """The index of the case to send now."""
        if self._timed is not None and time.monotonic() >= self._due:
            with self._lock:
                if time.monotonic() >= self._due:
                    self._due = time.monotonic() + self._every_s
                    return self._timed
        current = self._deck
        return current[next(self._turn) % len(current)]

    def after_reload(self) -> None:
        """Switch to the cases that need the reloaded set (penguins version 3)."""
        self._deck = self._decks[AFTER]
