"""A worker's start: gevent's plugin lookups read the installed packages once (api.worker)."""

from __future__ import annotations

from importlib import metadata

from api.worker import entry_points_read_once


def names(entry_points: metadata.EntryPoints) -> set[tuple[str, str]]:
    return {(ep.group, ep.name) for ep in entry_points}


def test_every_lookup_in_the_block_answers_as_a_fresh_reading() -> None:
    read = metadata.entry_points
    outside = names(metadata.entry_points(group="console_scripts"))
    assert ("console_scripts", "model-registry") in outside
    with entry_points_read_once():
        assert metadata.entry_points is not read
        assert names(metadata.entry_points(group="console_scripts")) == outside
        assert names(metadata.entry_points(group="gevent.plugins.monkey.will_patch_all")) == names(
            read(group="gevent.plugins.monkey.will_patch_all")
        )
        assert not list(metadata.entry_points(group="no.such.group"))
    assert metadata.entry_points is read


def test_the_reading_is_restored_when_the_block_fails() -> None:
    read = metadata.entry_points
    try:
        with entry_points_read_once():
            raise RuntimeError("patching failed")
    except RuntimeError:
        pass
    assert metadata.entry_points is read
