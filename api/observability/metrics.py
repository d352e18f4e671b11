"""Prometheus metrics: the instruments, the hook that counts every predict and infer answer, and
``GET /metrics``.

Under gunicorn the counts live in prometheus-client's multiprocess mode: each process writes its
own files in a directory private to one server, created empty when it starts and removed when it
stops (or, when it was killed before it could, by the next server to start), and a scrape sums
every file there. A worker that dies (replaced after a crash or a
timeout, or retired by a reload) would leave its files behind for good, one set per worker ever
started: the master folds them into one archive file per kind as each worker exits
(``archive_dead_worker``), so what it counted is kept and the directory stays the size of the
live workers.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
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
    values,
)
from prometheus_client.mmap_dict import MmapedDict

from api.wsgi.pipeline import SERVED_KEY, Served, StartResponse
from registry.registry import AVAILABLE, FAILED, Registry

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
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


DIR_PREFIX = "model-registry-metrics-"
LOCK_FILE = ".lock"  # locked by the server whose directory it is, while any of its processes runs
_held_locks: list[int] = []  # the master's lock, open for its life (its workers inherit it)


@cache
def instruments() -> Instruments:
    """This process's instruments (created on first use, so ``enable_multiprocess`` can come first)."""
    return Instruments()


def enable_multiprocess() -> str:
    """Give this server a private, empty metrics directory and switch prometheus-client to it.

    Call in the master before any instrument exists. The directory is removed when the master
    exits (workers, which inherit the exit hook, leave it alone). Its lock file stays locked
    while the master or any of its workers runs, and the directories of servers killed before
    their exit hook ran (SIGKILL, the OOM killer) are removed here, by the next server to start.
    """
    remove_orphaned_dirs(tempfile.gettempdir())
    path = tempfile.mkdtemp(prefix=DIR_PREFIX)
    _held_locks.append(_locked(os.path.join(path, LOCK_FILE)))
    os.environ[MULTIPROC_ENV] = path
    values.ValueClass = values.get_value_class()
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(path, ignore_errors=True))
    return path


def remove_orphaned_dirs(root: str) -> list[str]:
    """Remove, from ``root``, this user's metrics directories that no process holds any more;
    returns their paths.

    A server's lock (``flock``) lasts as long as one of its processes runs, whatever its PID or
    PID namespace (a container's master is PID 1 in every run), and ends with it even on SIGKILL.
    A directory without a lock file (made by an older release) is left alone.
    """
    removed = []
    for entry in Path(root).glob(f"{DIR_PREFIX}*"):
        lock = entry / LOCK_FILE
        if entry.is_dir() and entry.stat().st_uid == os.getuid() and lock.is_file():
            try:
                held = _locked(str(lock))
            except BlockingIOError:
                continue  # a running server's
            shutil.rmtree(entry, ignore_errors=True)
            os.close(held)
            removed.append(str(entry))
    return removed


def _locked(path: str) -> int:
    """An open descriptor of ``path`` holding its exclusive lock; BlockingIOError if another has it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def archive_dead_worker(pid: int) -> None:
    """Fold a dead worker's counters and histograms into the archive files, then delete its files."""
    path = multiprocess_dir()
    if path is None:
        return
    multiprocess.mark_process_dead(pid, path)
    for kind in ("counter", "histogram"):
        dead = os.path.join(path, f"{kind}_{pid}.db")
        if not os.path.exists(dead):
            continue
        archive = MmapedDict(os.path.join(path, f"{kind}_archive.db"))
        try:
            for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(dead):
                archive.write_value(key, archive.read_value(key)[0] + value, timestamp)
        finally:
            archive.close()
        os.remove(dead)


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
