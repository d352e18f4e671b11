"""A store for the traffic tests: real pickled scikit-learn models of one feature ``x`` in [0, 1].

* "1": a stump saying ``high`` from x >= 0.5 (its split falls at 0.495);
* "2": the same from x >= 0.7, so it disagrees with "1" exactly on the rows between the splits,
  which the tests compute themselves by running both pickles;
* "3": a model that also needs ``z``: run on the rows "1" validated, it fails on every one;
* "4": a forest of many trees on noisy labels, far slower per row than "1";
* "5": declared, but its artifact is missing, so it fails to load.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from tests.conftest import dump_model

GRID = np.arange(101) / 100
X_FEATURE = [{"name": "x", "type": "number", "minimum": 0, "maximum": 1}]
SLOW_TREES = 1500


def _stump(threshold: float) -> DecisionTreeClassifier:
    labels = np.where(GRID >= threshold, "high", "low")
    return DecisionTreeClassifier(max_depth=1).fit(pd.DataFrame({"x": GRID}), labels)


def _needs_z() -> DecisionTreeClassifier:
    frame = pd.DataFrame({"x": GRID, "z": GRID[::-1]})
    return DecisionTreeClassifier(max_depth=1).fit(frame, np.where(GRID >= 0.5, "high", "low"))


def _slow() -> RandomForestClassifier:
    noisy = np.where((GRID * 37 % 1) >= 0.5, "high", "low")
    forest = RandomForestClassifier(n_estimators=SLOW_TREES, random_state=0)
    return forest.fit(pd.DataFrame({"x": GRID}), noisy)


def build_store(root: Path) -> Path:
    """Write the artifacts under ``root``/model_store and a config of model ``coin``; returns its path."""
    store = root / "model_store"
    models = {"1": _stump(0.5), "2": _stump(0.7), "3": _needs_z(), "4": _slow()}
    versions: dict[str, Any] = {}
    for name, model in models.items():
        dump_model(store, f"coin/{name}/model.joblib", model)
        features = X_FEATURE + ([{"name": "z", "type": "number"}] if name == "3" else [])
        versions[name] = {"artifact": f"coin/{name}/model.joblib", "features": features}
    versions["5"] = {"artifact": "coin/5/model.joblib", "features": X_FEATURE}
    config = {"store": "model_store", "models": {"coin": {"default_version": "1", "versions": versions}}}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def set_traffic(config: Path, traffic: dict[str, int] | None = None, **keys: Any) -> None:
    """Rewrite the config with coin's ``traffic`` (None: no split) and other keys (None: removed)."""
    data = yaml.safe_load(config.read_text())
    coin = data["models"]["coin"]
    for key, value in {"traffic": traffic, **keys}.items():
        if value is None:
            coin.pop(key, None)
        else:
            coin[key] = value
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def predictions(config: Path, version: str, xs: Sequence[float]) -> list[str]:
    """What the pickled version itself predicts for ``xs`` (no server involved)."""
    model = joblib.load(config.parent / "model_store" / "coin" / version / "model.joblib")
    return model.predict(pd.DataFrame({"x": list(xs)})).tolist()


class Client:
    """One kept-alive connection to the server; each call returns (status, headers, JSON body)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        self.connection.request("POST", path, body=json.dumps(body), headers=sent)
        response = self.connection.getresponse()
        return response.status, response.headers, json.loads(response.read())

    def get(self, path: str) -> Any:
        self.connection.request("GET", path)
        return json.loads(self.connection.getresponse().read())

    def close(self) -> None:
        self.connection.close()


def v2_body(xs: Sequence[float]) -> dict[str, Any]:
    """A V2 infer request of the rows ``xs``."""
    return {"inputs": [{"name": "x", "shape": [len(xs)], "datatype": "FP64", "data": list(xs)}]}
