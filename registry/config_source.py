"""The config wherever it lives: read from a local path or an fsspec URL (with the revision read),
and followed by polling: ``ConfigPoller`` is what ``serve --watch`` runs on a remote config.

A poll is one revision request (a HEAD on S3: the ETag). A changed revision asks for a reload (the
SIGHUP path, availability-preserving); a failed poll changes nothing that serves, is reported, and
the next one waits longer (doubling, with jitter, up to ``MAX_BACKOFF_S``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from registry.stores import StoreError, probe, read_object, revision
from spec.config import RegistryConfig, parse_config, read_config
from spec.errors import ConfigError
from spec.locations import Url, location

CHANGED, UNCHANGED, ERROR = "changed", "unchanged", "error"
DEFAULT_POLL_INTERVAL_S = 10.0
MAX_BACKOFF_S = 300.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfigText:
    """A config as read: parsed, and its bytes (``config.tag`` is the revision they were read at;
    None: a local file that does not exist yet, which ``add`` creates)."""

    config: RegistryConfig
    data: bytes | None


def read_config_at(where: str | os.PathLike[str] | Url) -> RegistryConfig:
    """The config at a local path or a URL. Raises ``ConfigError`` for what it says and
    ``StoreError`` (URL and cause) when a remote config cannot be read at all."""
    where = location(where)
    return read_config(where) if isinstance(where, Path) else read_config_text(where).config


def read_config_text(where: Path | Url) -> ConfigText:
    """The config at ``where`` with its bytes, read once (what a conditional write is checked against)."""
    if isinstance(where, Path):
        config = read_config(where)
        try:
            return ConfigText(config, where.read_bytes())
        except OSError as exc:
            raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(where)) from None
    found = read_object(where)
    try:
        data = yaml.safe_load(found.data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([f"not valid YAML: {exc}"], str(where)) from None
    return ConfigText(parse_config(data, where, tag=found.tag), found.data)


def check_store_reachable(config: RegistryConfig) -> None:
    """Raise ``StoreError`` when ``config``'s store is remote and does not answer."""
    if isinstance(config.store, Url):
        probe(config.store)


@dataclass
class PollResult:
    """What one poll found: ``CHANGED``, ``UNCHANGED`` or ``ERROR`` (with the cause)."""

    result: str
    error: str | None = None


class ConfigPoller:
    """Polls a remote config's revision every ``interval_s`` and calls ``reload`` when it changed.

    ``serving_tag`` says which revision is serving now; ``reload`` returns once the reload is done,
    with the revision it serves then. ``report`` gets every poll's result (metrics and /health).
    """

    def __init__(
        self,
        url: Url,
        interval_s: float,
        serving_tag: Callable[[], str | None],
        reload: Callable[[], str | None],
        report: Callable[[PollResult], None],
    ) -> None:
        self.url, self.interval_s = url, interval_s
        self.serving_tag, self.reload, self.report = serving_tag, reload, report
        self.failures = 0
        self.refused: str | None = None  # a revision whose config did not parse: not reloaded again

    def delay(self) -> float:
        """Seconds until the next poll: the interval, or after failures a longer, jittered one."""
        if not self.failures:
            return self.interval_s
        backoff = min(self.interval_s * 2**self.failures, MAX_BACKOFF_S)
        return random.uniform(self.interval_s, max(backoff, self.interval_s))

    def poll(self) -> PollResult:
        """One poll, and the reload it calls for; never raises."""
        try:
            outcome = self._poll()
        except Exception as exc:  # whatever goes wrong, what serves keeps serving
            outcome = PollResult(ERROR, str(StoreError(self.url, f"{type(exc).__name__}: {exc}")))
        self.failures = self.failures + 1 if outcome.result == ERROR else 0
        if outcome.result == ERROR:
            log.warning("polling %s failed: %s", self.url, outcome.error, extra={"event": "poll"})
        self.report(outcome)
        return outcome

    def _poll(self) -> PollResult:
        try:
            remote = revision(self.url)
        except StoreError as exc:
            return PollResult(ERROR, str(exc))
        if remote in (self.serving_tag(), self.refused):
            return PollResult(UNCHANGED)
        try:
            read_config_at(self.url)  # reachable and valid, or the reload would only report it
            valid = True
        except StoreError as exc:
            return PollResult(ERROR, str(exc))
        except ConfigError:
            valid = False
        log.info("%s changed: reloading", self.url, extra={"event": "reload"})
        before = self.serving_tag()
        if self.reload() == before and valid:
            return PollResult(ERROR, f"{self.url}: the reload could not read revision {remote}")
        self.refused = None if valid else remote
        return PollResult(CHANGED)

    def run_forever(self) -> None:
        """Poll until the process ends."""
        while True:
            time.sleep(self.delay())
            self.poll()

    def start(self) -> threading.Thread:
        """Poll in a daemon thread."""
        thread = threading.Thread(target=self.run_forever, name="config-poll", daemon=True)
        thread.start()
        return thread
