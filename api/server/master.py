"""Serve with gunicorn: the registry is loaded once in the master and the workers share it.

Reloads happen in the master too (on SIGHUP, or when ``--watch`` sees the config change): the next
registry is built beside the serving one, then gunicorn starts fresh workers on it and lets the old
ones finish their requests, so every worker ends up on the same set and no request is dropped.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from api.observability.logs import logging_config
from api.observability.metrics import record_reload, record_versions
from api.observability.metrics_dir import archive_dead_worker
from api.server.allocator import keep_freed_memory
from api.server.fd_limit import connection_limit
from api.server.store_watch import follow_config
from api.server.worker import block_stop_signals, unblock_stop_signals
from api.wsgi.state import registry_of
from registry.config_source import DEFAULT_POLL_INTERVAL_S
from registry.poll_status import PollBoard, open_board
from spec.locations import Url

log = logging.getLogger(__name__)


class RegistryServer(BaseApplication):
    """gunicorn running an app created (models loaded) before the workers fork."""

    def __init__(
        self,
        app: Flask,
        options: dict[str, Any],
        rebuild: Callable[[Flask], Flask],
        watch: Path | Url | None = None,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ) -> None:
        self.application = app
        # made before the workers fork, so that they all see what the master's polls find
        board = open_board(str(watch)) if isinstance(watch, Url) else None
        if board is not None:
            board.record(None)  # the config was just read
        self.options = {
            **options,
            "when_ready": partial(
                _when_ready, watch=watch, server=self, interval_s=poll_interval_s, board=board
            ),
            "pre_fork": _pre_fork,
            "post_fork": _post_fork,
            "post_worker_init": _post_worker_init,
            "child_exit": _child_exit,
            "on_exit": _on_exit,
        }
        self.rebuild = rebuild
        self.reloads = 0
        # The master forks workers with the stop signals blocked (api.server.worker); it takes them again
        # as soon as fork() returns.
        os.register_at_fork(after_in_parent=unblock_stop_signals)
        # A full collection costs start-up time to free little import-time garbage, frozen with
        # the rest instead (docs/performance.md); but a failed load can leave its half-built model
        # in a cycle (a traceback's frame), which only a collection frees.
        freeze_loaded_objects(collect=not all(v.is_available for v in registry_of(app).all_versions()))
        keep_freed_memory()
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn releases lack some settings
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application

    def reload(self) -> None:
        """Called by gunicorn's master on SIGHUP, before it starts the new workers.

        Whatever goes wrong here, the master lives on with the app it had: a dead master would
        take every worker with it.
        """
        try:
            super().reload()
            self.application = self.callable = self.rebuild(self.application)
            failed = registry_of(self.application).reload_error is not None
        except Exception:
            log.exception("reload failed, keeping the serving set", extra={"event": "reload"})
            failed = True
        self.reloads += 1  # what a poll of a remote config waits for (api.server.store_watch)
        record_reload(failed)
        freeze_loaded_objects()


def _when_ready(
    arbiter: Any, watch: Path | Url | None, server: RegistryServer, interval_s: float, board: PollBoard | None
) -> None:
    log.info("serving on %s", ", ".join(str(a) for a in arbiter.LISTENERS), extra={"event": "start"})
    if isinstance(watch, Url) and board is not None:
        follow_config(server, arbiter, watch, interval_s, board)
    elif watch is not None:
        watch_file(watch)(arbiter)


def _pre_fork(arbiter: Any, worker: Any) -> None:
    block_stop_signals()


def _post_fork(arbiter: Any, worker: Any) -> None:
    worker.heed_stop_signals_while_booting(arbiter.SIG_QUEUE)


def _post_worker_init(worker: Any) -> None:
    registry = registry_of(worker.wsgi)
    record_versions(registry)
    worker.limit_buffers(registry.config.server.max_buffered_bytes)


def _child_exit(arbiter: Any, worker: Any) -> None:
    archive_dead_worker(worker.pid)


def _on_exit(arbiter: Any) -> None:
    log.info("stopped", extra={"event": "stop"})


def freeze_loaded_objects(collect: bool = True) -> None:
    """Move everything loaded so far (models, libraries) out of the garbage collector's sight.

    Without this, each full collection in a worker walks every object of scikit-learn, pandas and
    the models (tens of milliseconds, seen as p99 spikes on batch requests), and touching them
    un-shares the pages the workers inherited copy-on-write from the master. With ``collect``,
    unfreezing first lets the collection free what a reload replaced (frozen objects are never
    collected).
    """
    gc.unfreeze()
    if collect:
        gc.collect()
    gc.freeze()


class ServerLogger(Logger):
    """gunicorn's logger minus its access log: api.observability.request_log writes one line per request.

    gunicorn builds its access-log fields for every request whenever a logging config is given,
    even with its access logger silenced (its cost: docs/internals.md, "Patched internals").
    """

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


KEEPALIVE_S = 5  # how long an idle connection is kept, and how long a request's headers may take


def gunicorn_options(
    host: str,
    port: int,
    workers: int,
    timeout: int,
    log_format: str = "text",
    log_level: str = "INFO",
    max_connections: int = 1000,
    pid_file: str | None = None,
) -> dict[str, Any]:
    """gunicorn settings: the app preloaded in the master, event-loop workers (api.server.worker) holding
    up to ``max_connections`` each (fewer when the open-files limit is lower), and gunicorn's own
    log lines in our format (the request lines come from api.observability.request_log); with
    ``pid_file``, gunicorn writes the master's PID there once it listens and removes it at exit."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "api.server.worker.RegistryWorker",
        "worker_connections": connection_limit(max_connections),
        "keepalive": KEEPALIVE_S,
        "preload_app": True,
        "timeout": timeout,
        "graceful_timeout": timeout,
        "accesslog": None,
        "logger_class": ServerLogger,
        "errorlog": "-",
        "loglevel": log_level.lower(),
        "logconfig_dict": logging_config(log_format, log_level),
        "proc_name": "model-registry",
        # gunicorn 25.1+ opens a control socket at one fixed path per user, which a second
        # server on the machine would fight over; nothing here uses it.
        "control_socket_disable": True,
        "pidfile": pid_file,
    }


def watch_file(path: Path, interval: float = 1.0) -> Callable[[Any], None]:
    """A gunicorn ``when_ready`` hook: SIGHUP the master whenever ``path`` changes."""

    def stamp() -> tuple[float, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def poll(master_pid: int) -> None:
        last = stamp()
        while True:
            time.sleep(interval)
            now = stamp()
            if now != last and now is not None:
                log.info("%s changed: reloading", path, extra={"event": "reload"})
                os.kill(master_pid, signal.SIGHUP)
            last = now

    def when_ready(arbiter: Any) -> None:
        threading.Thread(target=poll, args=(arbiter.pid,), name="config-watch", daemon=True).start()

    return when_ready
