"""Prometheus metrics: the instruments, the hook that counts every predict and infer answer, and
``GET /metrics``. Under gunicorn the counts live in prometheus-client's multiprocess mode, in a
directory private to one server (api.observability.metrics_dir), and a scrape sums every file there.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import cache
from typing import Any

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from api.observability.metrics_dir import multiprocess_dir
from api.wsgi.pipeline import SERVED_KEY, Served, StartResponse
from registry.registry import AVAILABLE, FAILED, Registry
from registry.shadow import DROPPED, RESULTS, ShadowJob, ShadowOutcome

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

bp = Blueprint("metrics", __name__)


PER_VERSION = ("model", "version")
# The help of each metric, by its name after ``model_registry_`` (docs/operations.md lists them).
HELP = {
    "requests_total": "Predict and infer requests by the version that served and status code",
    "request_duration_seconds": "Time in the server per predict or infer request",
    "rows_total": "Rows predicted",
    "invalid_values_total": "Values rejected by validation, by feature",
    "version_status": "1 for each version's current status (available or failed)",
    "reloads_total": "Reloads of the config",
    "shadow_rows_total": (
        "Rows run through a shadow version, by how its answer compared with the version that served"
        " (agree, disagree, error, or dropped when the worker shed the work)"
    ),
    "shadow_duration_seconds": "Time a shadow version took per request it ran (after the answer was sent)",
    "store_polls_total": "Polls of a remote config by serve --watch: changed, unchanged or error",
    "connections_shed_total": (
        "Connections closed to make room: idle or header-less (idle) or stalled requests (busy)"
        " past the connection limit, stalled bodies and answers past server.max_buffered_bytes (buffers)"
    ),
    "bodies_refused_total": (
        "Request bodies refused with a 503 because the worker held server.max_buffered_bytes"
    ),
}


def _metric(kind: Any, name: str, labels: tuple[str, ...] = (), **options: Any) -> Any:
    """A ``kind`` (Counter, Gauge, Histogram) named ``model_registry_<name>`` with its ``HELP``."""
    return kind(f"model_registry_{name}", HELP[name], list(labels), **options)


class Instruments:
    """The metrics of DESIGN section 5, created once per process (after the mode is chosen)."""

    def __init__(self) -> None:
        self.requests = _metric(Counter, "requests_total", (*PER_VERSION, "code"))
        self.duration = _metric(Histogram, "request_duration_seconds", PER_VERSION, buckets=LATENCY_BUCKETS)
        self.rows = _metric(Counter, "rows_total", PER_VERSION)
        self.invalid_values = _metric(Counter, "invalid_values_total", (*PER_VERSION, "feature"))
        status_labels = (*PER_VERSION, "status")
        self.version_status = _metric(Gauge, "version_status", status_labels, multiprocess_mode="livemax")
        self.shadow_rows = _metric(Counter, "shadow_rows_total", ("model", "version", "shadow", "result"))
        self.shadow_duration = _metric(
            Histogram, "shadow_duration_seconds", ("model", "shadow"), buckets=LATENCY_BUCKETS
        )
        self.reloads = _metric(Counter, "reloads_total", ("result",))
        self.store_polls = _metric(Counter, "store_polls_total", ("result",))
        self.shed = _metric(Counter, "connections_shed_total", ("reason",))
        self.refused = _metric(Counter, "bodies_refused_total")
        # labels() checks the values and takes a lock on every call; each series
        # is looked up once. The keys are served versions, our own status codes and declared
        # features, so this stays as small as the config.
        self._series: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def series(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, created on first use as labels() creates it."""
        key = (metric, labels)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = metric.labels(*labels)
        return found


@cache
def instruments() -> Instruments:
    """This process's instruments (created on first use, so ``enable_multiprocess`` can come first)."""
    return Instruments()


def record_versions(registry: Registry) -> None:
    """Set the status gauge of every version this process serves."""
    gauge = instruments().version_status
    for version in registry.all_versions():
        for status in (AVAILABLE, FAILED):
            gauge.labels(version.model, version.version, status).set(int(version.status == status))


def record_reload(failed: bool) -> None:
    instruments().reloads.labels("failed" if failed else "ok").inc()


def record_store_poll(result: str) -> None:
    """Count one poll of a remote config (changed, unchanged or error)."""
    instruments().store_polls.labels(result).inc()


def record_shed(reason: str) -> None:
    """Count a connection closed to make room (api.server.connections, api.server.buffers)."""
    tools = instruments()
    tools.series(tools.shed, reason).inc()


def record_refused() -> None:
    """Count a body refused for want of buffer room (api.server.buffers)."""
    instruments().refused.inc()


def record_shadow(job: ShadowJob, outcome: ShadowOutcome) -> None:
    """Count a shadow job's rows by result, and time it unless it was dropped (api.shadow)."""
    tools = instruments()
    model, version, shadow = job.primary.model, job.primary.version, job.shadow.version
    for result, rows in outcome.counts.items():
        if rows:
            tools.series(tools.shadow_rows, model, version, shadow, result).inc(rows)
    if DROPPED not in outcome.counts:
        tools.series(tools.shadow_duration, model, shadow).observe(outcome.seconds)


def shadow_rows(model: str, shadow: str) -> dict[str, int]:
    """Rows the ``shadow`` of ``model`` has seen so far by result, summed over workers and over the
    versions that served."""
    counts = dict.fromkeys(RESULTS, 0)
    for metric in _collected():
        if metric.name != "model_registry_shadow_rows":
            continue
        for sample in metric.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and labels["model"] == model and labels["shadow"] == shadow:
                counts[labels["result"]] = counts.get(labels["result"], 0) + int(sample.value)
    return counts


def _collected() -> Iterable[Any]:
    """Every metric as a scrape would read it: this process's, or every worker's under gunicorn."""
    instruments()
    path = multiprocess_dir()
    if path is None:
        return REGISTRY.collect()
    return multiprocess.MultiProcessCollector(None, path).collect()


class MetricsHook:
    """WSGI middleware: counts every predict and infer answer (the pipeline marks them ``Served``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            statuses.append(status)
            return start_response(status, headers, *exc_info)

        body = self.app(environ, capture)
        served = environ.get(SERVED_KEY)
        if served is not None and statuses:
            self.record(served, statuses[-1][:3], time.perf_counter() - started)
        return body

    @staticmethod
    def record(served: Served, code: str, seconds: float) -> None:
        tools = instruments()
        model, version = served.model or "", served.version or ""
        tools.series(tools.requests, model, version, code).inc()
        if not served.model:
            return
        tools.series(tools.duration, model, version).observe(seconds)
        if served.rows:
            tools.series(tools.rows, model, version).inc(served.rows)
        for feature, count in served.rejected.items():
            tools.series(tools.invalid_values, model, version, feature).inc(count)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: every worker's counts summed under gunicorn."""
    instruments()
    path = multiprocess_dir()
    if path is None:
        return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
