"""``serve --watch`` on a remote config: the master polls it and reloads on a change (the SIGHUP path),
counting each poll in ``model_registry_store_polls_total`` and publishing its outcome to /health."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from api.observability.metrics import record_store_poll
from api.wsgi.state import registry_of
from registry.config_source import ConfigPoller, PollResult
from registry.poll_status import PollBoard
from spec.locations import Url

RELOAD_WAIT_S = 600  # the longest a poll waits for the reload it asked for


def follow_config(server: Any, arbiter: Any, url: Url, interval_s: float, board: PollBoard) -> None:
    """Start polling ``url`` in a thread of gunicorn's master (``server`` is the RegistryServer)."""

    def serving_tag() -> str | None:
        return registry_of(server.application).config.tag

    def reload() -> str | None:
        before = server.reloads
        os.kill(arbiter.pid, signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_WAIT_S
        while server.reloads == before and time.monotonic() < deadline:
            time.sleep(0.05)
        return serving_tag()

    def report(outcome: PollResult) -> None:
        record_store_poll(outcome.result)
        board.record(outcome.error)

    ConfigPoller(url, interval_s, serving_tag, reload, report).start()
