"""The naive Flask baseline: the blog-post design most teams start from, kept naive on purpose.

Each pickle is loaded once at import; a request body becomes ``pandas.DataFrame([payload])`` (one row),
``pandas.DataFrame(payload["instances"])`` or ``pandas.DataFrame(payload["inputs"])``, then
``model.predict``; labels only, no validation, no probabilities. Served by gunicorn with one sync worker:
``gunicorn -w 1 -b 127.0.0.1:PORT bench.load.baseline_app:app`` from the repository root.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from flask import Flask, Response, jsonify, request

STORE = Path(__file__).resolve().parents[2] / "model_store"

MODELS = {
    ("iris", "1"): joblib.load(STORE / "iris/1/model.joblib"),
    ("penguins", "1"): joblib.load(STORE / "penguins/1/model.joblib"),
    ("penguins", "2"): joblib.load(STORE / "penguins/2/model.joblib"),
}

app = Flask(__name__)


@app.post("/models/<name>/<version>/predict")
def predict(name: str, version: str) -> Response:
    """The predicted labels for the rows in the body, as ``{"predictions": [label, ...]}``."""
    model = MODELS[(name, version)]
    payload = request.get_json()
    if "instances" in payload:
        frame = pd.DataFrame(payload["instances"])
    elif "inputs" in payload:
        frame = pd.DataFrame(payload["inputs"])
    else:
        frame = pd.DataFrame([payload])
    return jsonify({"predictions": model.predict(frame).tolist()})


@app.get("/health/ready")
def ready() -> Response:
    """200 once the worker has imported this module (the models are loaded by then)."""
    return jsonify({"status": "ready"})
