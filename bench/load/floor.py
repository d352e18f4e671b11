"""The in-process floor: the server's own parse + validate + DataFrame + predict, without HTTP.

``floor_predict`` and ``floor_infer`` (V2) are the one place that knows the project's internal call
chain: the protocol's parser, then the predict chain every prediction takes (registry.chain), then
the protocol's encoder. When the internals change, adapt them (and ``load_version``) and nothing else.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from bench.scenarios import Scenario

ADAPT_HINT = "the project's internals changed: adapt bench/load/floor.py (floor_predict, load_version)"


class FloorUnavailable(RuntimeError):
    """The project's code path could not be called as ``floor_predict`` expects."""


@dataclass(frozen=True)
class LoadedVersion:
    """A loaded, available version (with its own validator), and the server settings its requests
    are held to, as the server's pipeline holds them."""

    version: Any
    settings: Any


def load_version(config: Path, model: str, version: str) -> LoadedVersion:
    """The loaded, available version of ``model`` from the config, as the server holds it (in a
    process whose allocator keeps freed memory, as the server's does)."""
    try:
        from api.server.allocator import keep_freed_memory
        from registry.loader import load_registry
        from spec.config import read_config

        keep_freed_memory()
        registry = load_registry(read_config(config))
        return LoadedVersion(registry.resolve_available(model, version), registry.config.server)
    except (ImportError, AttributeError, TypeError) as exc:
        raise FloorUnavailable(f"{ADAPT_HINT}: {type(exc).__name__}: {exc}") from exc


def floor_predict(loaded: LoadedVersion, body: bytes) -> bytes:
    """The predictions array (JSON) for a raw request body, exactly as the server computes it, minus
    HTTP and Flask: parse (the protocol's own parser), the predict chain (envelope, column-wise
    validation, model input, predict), encode.

    Mirrors ``api.wsgi.pipeline.PredictPipeline`` with ``api.protocols.models.ModelsProtocol``.
    """
    try:
        from api.protocols.encoding import encode_predictions
        from api.protocols.models import ModelsProtocol
        from registry.chain import predict_request

        protocol = ModelsProtocol()
        outputs, _, _ = predict_request(loaded.version, protocol.loads(body), protocol, loaded.settings)
        return encode_predictions(outputs)
    except (ImportError, AttributeError, TypeError) as exc:
        raise FloorUnavailable(f"{ADAPT_HINT}: {type(exc).__name__}: {exc}") from exc


def floor_infer(loaded: LoadedVersion, body: bytes) -> bytes:
    """The V2 infer answer for a raw request body, as the server's pipeline computes it minus HTTP:
    parse (the protocol's own parser), the predict chain (decode the tensors, validate, predict),
    encode (api.protocols.v2.V2Protocol)."""
    try:
        from api.protocols.v2 import V2Protocol
        from registry.chain import predict_request

        protocol = V2Protocol()
        outputs, request, _ = predict_request(loaded.version, protocol.loads(body), protocol, loaded.settings)
        return protocol.encode(loaded.version, outputs, request)[0]  # the body, without its headers
    except (ImportError, AttributeError, TypeError) as exc:
        raise FloorUnavailable(f"{ADAPT_HINT}: {type(exc).__name__}: {exc}") from exc


def floor_call(scenario: Scenario) -> Callable[[LoadedVersion, bytes], bytes]:
    """The in-process path of the scenario's protocol: ``floor_infer`` for V2, else ``floor_predict``."""
    return floor_infer if scenario.shape == "v2" else floor_predict


@dataclass(frozen=True)
class Floor:
    """Median seconds per call: the full in-process path, and ``predict_proba`` on a ready frame."""

    full_s: float
    predict_s: float


def measure_floor(version: LoadedVersion, scenario: Scenario, budget_s: float) -> Floor:
    """Time both floors for ``scenario``; raises ``FloorUnavailable`` if the project path breaks."""
    body, call = scenario.body(), floor_call(scenario)
    try:
        answer = orjson.loads(call(version, body))
    except FloorUnavailable:
        raise
    except Exception as exc:
        raise FloorUnavailable(f"{ADAPT_HINT}: {call.__name__} raised {type(exc).__name__}: {exc}") from exc
    predictions = Scenario.labels(answer if isinstance(answer, dict) else {"predictions": answer})
    if len(predictions) != len(scenario.rows):
        raise FloorUnavailable(f"{ADAPT_HINT}: {len(predictions)} predictions for {len(scenario.rows)} rows")
    frame = pd.DataFrame(list(scenario.rows), columns=scenario.features)
    return Floor(
        full_s=median_call_s(lambda: call(version, body), budget_s),
        predict_s=median_call_s(lambda: version.version.predictor.estimator.predict_proba(frame), budget_s),
    )


def median_call_s(
    call: Callable[[], object], budget_s: float, min_calls: int = 5, max_calls: int = 5000
) -> float:
    """Median wall seconds of ``call`` over about ``budget_s`` of calls (at least ``min_calls``)."""
    call()  # warm-up
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < min_calls or (time.perf_counter() < deadline and len(times) < max_calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
