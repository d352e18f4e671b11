"""Polling a config on S3 (a real S3 API: moto's server): a changed ETag asks for one reload, an
invalid config is reported once and not reloaded again, a store that cannot be reached is an error
that backs off with jitter, and a reload of a broken config object keeps what serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.harness import free_port
from bench.s3 import S3Server
from registry import artifact_cache
from registry.config_source import (
    CHANGED,
    ERROR,
    MAX_BACKOFF_S,
    UNCHANGED,
    ConfigPoller,
    PollResult,
    read_config_at,
)
from registry.loader import load_registry
from registry.reload import reload_registry
from registry.stores import revision
from spec.locations import location
from tests.s3_server import get, new_bucket, put, upload_config
from tests.test_store_urls import remote_models


class Following:
    """What a server does around a poller: the revision it serves, and a reload that reads the config."""

    def __init__(self, url: str) -> None:
        self.url, self.serving = url, read_config_at(url).tag
        self.reloads = 0
        self.results: list[PollResult] = []

    def reload(self) -> str | None:
        self.reloads += 1
        try:
            self.serving = read_config_at(self.url).tag
        except Exception:  # the server keeps its set, and the revision it serves
            pass
        return self.serving

    def poller(self, interval_s: float = 1.0) -> ConfigPoller:
        return ConfigPoller(
            location(self.url), interval_s, lambda: self.serving, self.reload, self.results.append
        )


@pytest.fixture
def remote(s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path) -> str:
    artifact_cache.use_cache(tmp_path / "cache")
    store = new_bucket("poll") + "/model_store"
    return upload_config(store, remote_models(store, tiny_models, tmp_path))


def test_a_change_reloads_once_and_an_invalid_config_is_not_retried(remote: str) -> None:
    following = Following(remote)
    poller = following.poller()
    assert poller.poll().result == UNCHANGED and following.reloads == 0
    put(remote, get(remote) + b"# a comment: a new revision\n")
    assert poller.poll().result == CHANGED and following.reloads == 1
    assert following.serving == revision(location(remote))
    put(remote, b"models: [this is: not a config")
    assert poller.poll().result == CHANGED and following.reloads == 2
    assert [poller.poll().result for _ in range(2)] == [UNCHANGED, UNCHANGED] and following.reloads == 2


def test_an_unreachable_store_is_an_error_that_backs_off(
    remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3fs import S3FileSystem

    poller = Following(remote).poller(interval_s=2.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    S3FileSystem.clear_instance_cache()  # the next client reads the endpoint again
    try:
        outcome = poller.poll()
    finally:
        S3FileSystem.clear_instance_cache()
    assert outcome.result == ERROR and remote in outcome.error and "Could not connect" in outcome.error
    delays = [poller.delay() for _ in range(50)]
    assert all(2.0 <= d <= 4.0 for d in delays) and len(set(delays)) > 1  # doubled, with jitter
    poller.failures = 20
    assert poller.delay() <= MAX_BACKOFF_S


def test_a_broken_config_object_keeps_what_serves(remote: str) -> None:
    serving = load_registry(read_config_at(remote))
    put(remote, b"\xff\xfe not text")
    kept = reload_registry(serving)
    assert kept.reload_error and remote in kept.reload_error
    assert [v.predictor for v in kept.all_versions()] == [v.predictor for v in serving.all_versions()]
