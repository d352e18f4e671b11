"""A worker's start: gevent's plugin lookups read the installed packages once (api.server.worker)."""

from __future__ import annotations

from importlib import metadata

import pytest
from gevent import events

from api.server.worker import entry_points_read_once

GROUPS = ("console_scripts", "gevent.plugins.monkey.will_patch_all", "no.such.group")


def names(entry_points: metadata.EntryPoints) -> set[tuple[str, str]]:
    return {(ep.group, ep.name) for ep in entry_points}


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every call of ``importlib.metadata.entry_points`` from here on, by its arguments."""
    calls: list[dict] = []
    read = metadata.entry_points

    def counted(**selection: str) -> metadata.EntryPoints:
        calls.append(selection)
        return read(**selection)

    monkeypatch.setattr(metadata, "entry_points", counted)
    return calls


def test_lookups_in_the_block_read_once_and_answer_as_fresh_readings(readings: list[dict]) -> None:
    fresh = {group: names(metadata.entry_points(group=group)) for group in GROUPS}
    assert ("console_scripts", "model-registry") in fresh["console_scripts"]
    readings.clear()
    with entry_points_read_once():
        for _ in range(3):
            assert {group: names(metadata.entry_points(group=group)) for group in GROUPS} == fresh
        events.notify_and_call_entry_points(events.GeventWillPatchAllEvent({}, {}))  # as gevent looks
    assert readings == [{}]  # one reading of everything, nothing per group


def test_the_reading_is_restored_when_the_block_fails() -> None:
    read = metadata.entry_points
    with pytest.raises(RuntimeError), entry_points_read_once():
        raise RuntimeError("patching failed")
    assert metadata.entry_points is read
